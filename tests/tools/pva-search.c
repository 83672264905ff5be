/* pva-search - minimal PVAccess search client for the integration tests.
 *
 * Sends one searchRequest (or, with --beacon, one server beacon) as a UDP
 * broadcast, the first cry a PVA client makes, then waits for a unicast
 * searchResponse.  It proves, end to end, that a relayed search reaches a
 * server on another segment and that the server answers the client itself.
 * Output lines:
 *   SENT search seq=N channel=NAME to=IP:PORT from=IP:PORT order=le|be
 *   RESPONSE from=IP:PORT seq=N found=yes|no server=IP:PORT proto=tcp cids=N,...
 *   TIMEOUT
 * Exit status: 0 a response with found=yes arrived (or a beacon was sent),
 * 1 none did before --timeout, 2 usage or system error.
 */
#include <config.h>

#include <arpa/inet.h>
#include <glib.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "tool-udp.h"

/* PVAccess message header (protocol version 2). */
#define PVA_MAGIC 0xCA
#define PVA_VERSION 2
#define PVA_HDR_LEN 8
#define PVA_FLAG_FROM_SERVER 0x40 /* direction bit: 1 = server to client */
#define PVA_FLAG_BIG_ENDIAN 0x80  /* byte order of the whole message */
#define PVA_CMD_BEACON 0x00
#define PVA_CMD_SEARCH 0x03
#define PVA_CMD_SEARCH_RESPONSE 0x04

#define PVA_SEARCH_REPLY_REQUIRED 0x01 /* answer even when not found */
#define PVA_ADDR_LEN 16                /* IPv6 or IPv4-mapped address */
#define PVA_GUID_LEN 12
#define PVA_V4MAPPED_ZEROS 10 /* ::ffff:a.b.c.d = 10 zero bytes, 0xffff, IPv4 */
#define PVA_PROTO_TCP "tcp"
#define PVA_SIZE_LONG 254 /* size prefix: next 4 bytes hold the size */
#define PVA_FIELD_NULL 0xFF /* null introspection type (beacon status) */
#define PVA_DEFAULT_TCP_PORT 5075
#define MAX_MSG 1500

static gchar *opt_dest = (gchar *) "255.255.255.255", *opt_bind, *opt_channel = (gchar *) "ss:test:pv";
static gint opt_port = 5076, opt_seq = 1, opt_cid = 1;
static gdouble opt_timeout = 3.0;
static gboolean opt_beacon, opt_be, opt_reply_required;

static GOptionEntry entries[] = {
  { "dest", 'd', 0, G_OPTION_ARG_STRING, &opt_dest, "Destination (255.255.255.255)", "ADDR" },
  { "port", 'p', 0, G_OPTION_ARG_INT, &opt_port, "Destination UDP port (5076)", "PORT" },
  { "bind", 'b', 0, G_OPTION_ARG_STRING, &opt_bind, "Bind to ADDR[:PORT]", "ADDR[:PORT]" },
  { "channel", 'n', 0, G_OPTION_ARG_STRING, &opt_channel, "Channel name (ss:test:pv)", "NAME" },
  { "seq", 0, 0, G_OPTION_ARG_INT, &opt_seq, "searchSequenceID (1)", "N" },
  { "cid", 0, 0, G_OPTION_ARG_INT, &opt_cid, "searchInstanceID of the channel (1)", "N" },
  { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, &opt_timeout, "Seconds to wait for a response (3)", "SEC" },
  { "beacon", 0, 0, G_OPTION_ARG_NONE, &opt_beacon, "Send a server beacon instead of a search", NULL },
  { "big-endian", 0, 0, G_OPTION_ARG_NONE, &opt_be, "Encode big-endian (flag bit 7)", NULL },
  { "reply-required", 0, 0, G_OPTION_ARG_NONE, &opt_reply_required, "Ask servers to answer even if not found", NULL },
  { NULL, 0, 0, 0, NULL, NULL, NULL }
};

typedef struct {
  uint8_t *p;
  size_t len, cap;
  gboolean be;
} Buf;

static void
put8 (Buf *b, uint8_t v)
{
  if (b->len >= b->cap)
    tool_fail ("message too long");
  b->p[b->len++] = v;
}

static void
put_uint (Buf *b, uint32_t v, int bytes)
{
  for (int i = 0; i < bytes; i++) {
    int shift = b->be ? 8 * (bytes - 1 - i) : 8 * i;
    put8 (b, (uint8_t) (v >> shift));
  }
}

static void
put_size (Buf *b, size_t n)
{
  if (n < PVA_SIZE_LONG) {
    put8 (b, (uint8_t) n);
  } else {
    put8 (b, PVA_SIZE_LONG);
    put_uint (b, (uint32_t) n, 4);
  }
}

static void
put_string (Buf *b, const char *s)
{
  size_t n = strlen (s);
  put_size (b, n);
  for (size_t i = 0; i < n; i++)
    put8 (b, (uint8_t) s[i]);
}

/* IPv4 as an IPv4-mapped IPv6 address (::ffff:a.b.c.d); zero stays all zero. */
static void
put_addr (Buf *b, struct in_addr a)
{
  for (int i = 0; i < PVA_V4MAPPED_ZEROS; i++)
    put8 (b, 0);
  uint8_t mapped = a.s_addr ? 0xff : 0;
  put8 (b, mapped);
  put8 (b, mapped);
  const uint8_t *q = (const uint8_t *) &a.s_addr;
  for (int i = 0; i < 4; i++)
    put8 (b, q[i]);
}

static uint32_t
get_uint (const uint8_t *p, int bytes, gboolean be)
{
  uint32_t v = 0;
  for (int i = 0; i < bytes; i++)
    v |= (uint32_t) p[i] << (be ? 8 * (bytes - 1 - i) : 8 * i);
  return v;
}

static void
start_message (Buf *b, uint8_t cmd)
{
  put8 (b, PVA_MAGIC);
  put8 (b, PVA_VERSION);
  put8 (b, (uint8_t) ((b->be ? PVA_FLAG_BIG_ENDIAN : 0) | (cmd == PVA_CMD_BEACON ? PVA_FLAG_FROM_SERVER : 0)));
  put8 (b, cmd);
  put_uint (b, 0, 4); /* payload size, patched by finish_message */
}

static void
finish_message (Buf *b)
{
  size_t n = b->len;
  b->len = 4;
  put_uint (b, (uint32_t) (n - PVA_HDR_LEN), 4);
  b->len = n;
}

static void
build_search (Buf *b)
{
  start_message (b, PVA_CMD_SEARCH);
  put_uint (b, (uint32_t) opt_seq, 4);
  put8 (b, opt_reply_required ? PVA_SEARCH_REPLY_REQUIRED : 0); /* broadcast, not unicast */
  put8 (b, 0);                                                  /* 3 reserved bytes */
  put8 (b, 0);
  put8 (b, 0);
  /* responseAddress all zero: "answer the packet's source", as clients do */
  put_addr (b, (struct in_addr) { 0 });
  put_uint (b, 0, 2);
  put_size (b, 1);
  put_string (b, PVA_PROTO_TCP);
  put_uint (b, 1, 2); /* one channel */
  put_uint (b, (uint32_t) opt_cid, 4);
  put_string (b, opt_channel);
  finish_message (b);
}

static void
build_beacon (Buf *b)
{
  start_message (b, PVA_CMD_BEACON);
  for (int i = 0; i < PVA_GUID_LEN; i++)
    put8 (b, (uint8_t) g_random_int ());
  put8 (b, 0);                        /* flags */
  put8 (b, (uint8_t) opt_seq);        /* beaconSequenceID */
  put_uint (b, 0, 2);                 /* changeCount */
  put_addr (b, (struct in_addr) { 0 });
  put_uint (b, PVA_DEFAULT_TCP_PORT, 2);
  put_string (b, PVA_PROTO_TCP);
  put8 (b, PVA_FIELD_NULL);           /* no serverStatus structure */
  finish_message (b);
}

/* Parses a searchResponse; returns TRUE and prints it if it is one. */
static gboolean
parse_response (const uint8_t *m, size_t n, const struct sockaddr_in *from, gboolean *found)
{
  if (n < PVA_HDR_LEN || m[0] != PVA_MAGIC || m[3] != PVA_CMD_SEARCH_RESPONSE)
    return FALSE;
  gboolean be = (m[2] & PVA_FLAG_BIG_ENDIAN) != 0;
  size_t plen = get_uint (m + 4, 4, be), off = PVA_HDR_LEN + PVA_GUID_LEN;
  if (plen > n - PVA_HDR_LEN || off + 4 + PVA_ADDR_LEN + 2 + 1 > n)
    return FALSE;
  uint32_t seq = get_uint (m + off, 4, be);
  off += 4;
  char server[INET_ADDRSTRLEN];
  inet_ntop (AF_INET, m + off + PVA_ADDR_LEN - 4, server, sizeof server);
  off += PVA_ADDR_LEN;
  unsigned sport = get_uint (m + off, 2, be);
  off += 2;
  size_t slen = m[off++];
  if (slen >= PVA_SIZE_LONG || off + slen + 1 + 2 > n)
    return FALSE;
  g_autofree gchar *proto = g_strndup ((const char *) m + off, slen);
  off += slen;
  *found = m[off++] != 0;
  unsigned count = get_uint (m + off, 2, be);
  off += 2;
  GString *cids = g_string_new (NULL);
  for (unsigned i = 0; i < count && off + 4 <= n; i++, off += 4)
    g_string_append_printf (cids, "%s%u", i ? "," : "", get_uint (m + off, 4, be));
  char src[INET_ADDRSTRLEN];
  inet_ntop (AF_INET, &from->sin_addr, src, sizeof src);
  printf ("RESPONSE from=%s:%u seq=%u found=%s server=%s:%u proto=%s cids=%s\n", src, ntohs (from->sin_port),
          seq, *found ? "yes" : "no", server, sport, proto, cids->len ? cids->str : "-");
  g_string_free (cids, TRUE);
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- send a PVAccess search (or beacon) and await the answer");
  g_autoptr (GError) err = NULL;
  g_option_context_add_main_entries (ctx, entries, NULL);
  tool_init ("pva-search");
  if (!g_option_context_parse (ctx, &argc, &argv, &err))
    tool_fail ("%s", err->message);

  struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) opt_port) };
  struct sockaddr_in me = { .sin_family = AF_INET };
  if (!tool_parse_addr (opt_dest, &to))
    tool_fail ("bad --dest %s", opt_dest);
  if (opt_bind && !tool_parse_addr (opt_bind, &me))
    tool_fail ("bad --bind %s", opt_bind);
  int fd = tool_udp_socket (&me, FALSE);

  uint8_t msg[MAX_MSG];
  Buf b = { msg, 0, sizeof msg, opt_be };
  if (opt_beacon)
    build_beacon (&b);
  else
    build_search (&b);
  if (sendto (fd, msg, b.len, 0, (struct sockaddr *) &to, sizeof to) < 0)
    tool_die ("sendto");
  char me_s[INET_ADDRSTRLEN];
  inet_ntop (AF_INET, &me.sin_addr, me_s, sizeof me_s);
  printf ("SENT %s seq=%d channel=%s to=%s:%d from=%s:%u order=%s\n", opt_beacon ? "beacon" : "search", opt_seq,
          opt_beacon ? "-" : opt_channel, opt_dest, opt_port, me_s, ntohs (me.sin_port), opt_be ? "be" : "le");
  if (opt_beacon)
    return 0;

  gint64 deadline = tool_deadline (opt_timeout);
  uint8_t in[MAX_MSG];
  struct sockaddr_in from;
  ssize_t n;
  while ((n = tool_recv (fd, in, sizeof in, deadline, &from, NULL)) >= 0) {
    gboolean found = FALSE;
    if (parse_response (in, (size_t) n, &from, &found) && found)
      return 0;
  }
  printf ("TIMEOUT\n");
  return 1;
}
