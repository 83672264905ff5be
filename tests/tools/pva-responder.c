/* pva-responder - minimal PVAccess search responder for the integration tests.
 *
 * Plays the part of a PVA server's UDP side: listens on the search port,
 * parses searchRequests and answers those naming one of its channels with a
 * searchResponse sent unicast to the request's responseAddress, or, when that
 * is zero (what clients send), to the packet's IP source and UDP source port.
 * That last rule is why a relay must keep the original source: the answer
 * must reach the client, not the relay.  Output lines:
 *   READY port=N
 *   REQUEST from=IP:PORT seq=N order=le|be channels=NAME,...
 *   BEACON from=IP:PORT
 *   REPLY to=IP:PORT seq=N channel=NAME cid=N
 * Exits after --count replies or --timeout seconds.
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

#define PVA_MAGIC 0xCA
#define PVA_VERSION 2
#define PVA_HDR_LEN 8
#define PVA_FLAG_CONTROL 0x01     /* control messages carry no payload */
#define PVA_FLAG_FROM_SERVER 0x40
#define PVA_FLAG_BIG_ENDIAN 0x80
#define PVA_CMD_BEACON 0x00
#define PVA_CMD_SEARCH 0x03
#define PVA_CMD_SEARCH_RESPONSE 0x04
#define PVA_ADDR_LEN 16
#define PVA_GUID_LEN 12
#define PVA_SIZE_LONG 254
#define PVA_SIZE_NULL 255
#define PVA_V4MAPPED_ZEROS 10 /* ::ffff:a.b.c.d = 10 zero bytes, 0xffff, IPv4 */
#define PVA_PROTO_TCP "tcp"
#define PVA_SEARCH_FIXED_LEN (4 + 1 + 3 + PVA_ADDR_LEN + 2) /* seq, flags, reserved, addr, port */
#define MAX_MSG 65536
#define MAX_REPLY 1500

static gint opt_port = 5076, opt_server_port = 5075, opt_count = 0;
static gdouble opt_timeout = 10.0;
static gchar **opt_channels;

static GOptionEntry entries[] = {
  { "port", 'p', 0, G_OPTION_ARG_INT, &opt_port, "UDP search port (5076)", "PORT" },
  { "channel", 'n', 0, G_OPTION_ARG_STRING_ARRAY, &opt_channels, "Channel to answer for (repeatable)", "NAME" },
  { "server-port", 0, 0, G_OPTION_ARG_INT, &opt_server_port, "TCP port announced (5075)", "PORT" },
  { "count", 'c', 0, G_OPTION_ARG_INT, &opt_count, "Exit after N replies (0: only the timeout)", "N" },
  { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, &opt_timeout, "Seconds to run at most (10)", "SEC" },
  { NULL, 0, 0, 0, NULL, NULL, NULL }
};

static uint8_t guid[PVA_GUID_LEN];

typedef struct {
  const uint8_t *p;
  size_t len, off;
  gboolean be, bad;
} Rd;

/* Reads an unsigned integer; past the end it flags the reader bad, returns 0. */
static uint32_t
rd_uint (Rd *r, int bytes)
{
  if (r->bad || r->off + (size_t) bytes > r->len) {
    r->bad = TRUE;
    return 0;
  }
  uint32_t v = 0;
  for (int i = 0; i < bytes; i++)
    v |= (uint32_t) r->p[r->off + i] << (r->be ? 8 * (bytes - 1 - i) : 8 * i);
  r->off += (size_t) bytes;
  return v;
}

static size_t
rd_size (Rd *r)
{
  uint32_t s = rd_uint (r, 1);
  if (s == PVA_SIZE_NULL)
    return 0;
  return s == PVA_SIZE_LONG ? rd_uint (r, 4) : s;
}

static gchar *
rd_string (Rd *r)
{
  size_t n = rd_size (r);
  if (r->bad || n > r->len - r->off) {
    r->bad = TRUE;
    return g_strdup ("");
  }
  gchar *s = g_strndup ((const char *) r->p + r->off, n);
  r->off += n;
  return s;
}

static void
wr_uint (uint8_t *out, size_t *off, uint32_t v, int bytes, gboolean be)
{
  for (int i = 0; i < bytes; i++)
    out[(*off)++] = (uint8_t) (v >> (be ? 8 * (bytes - 1 - i) : 8 * i));
}

static gboolean
is_ours (const char *name)
{
  for (gchar **c = opt_channels; c && *c; c++)
    if (!strcmp (*c, name))
      return TRUE;
  return FALSE;
}

/* Sends a found=1 searchResponse for one channel, in the request's byte order. */
static void
reply (int fd, const struct sockaddr_in *to, struct in_addr local, uint32_t seq, uint32_t cid, const char *name,
       gboolean be)
{
  uint8_t m[MAX_REPLY];
  size_t off = 0;
  m[off++] = PVA_MAGIC;
  m[off++] = PVA_VERSION;
  m[off++] = (uint8_t) (PVA_FLAG_FROM_SERVER | (be ? PVA_FLAG_BIG_ENDIAN : 0));
  m[off++] = PVA_CMD_SEARCH_RESPONSE;
  off += 4; /* payload size, written below */
  memcpy (m + off, guid, PVA_GUID_LEN);
  off += PVA_GUID_LEN;
  wr_uint (m, &off, seq, 4, be);
  memset (m + off, 0, PVA_V4MAPPED_ZEROS); /* serverAddress as ::ffff:a.b.c.d */
  m[off + PVA_V4MAPPED_ZEROS] = m[off + PVA_V4MAPPED_ZEROS + 1] = 0xff;
  memcpy (m + off + PVA_ADDR_LEN - sizeof local.s_addr, &local.s_addr, sizeof local.s_addr);
  off += PVA_ADDR_LEN;
  wr_uint (m, &off, (uint32_t) opt_server_port, 2, be);
  m[off++] = (uint8_t) strlen (PVA_PROTO_TCP); /* short string: 1-byte size */
  memcpy (m + off, PVA_PROTO_TCP, strlen (PVA_PROTO_TCP));
  off += strlen (PVA_PROTO_TCP);
  m[off++] = 1; /* found */
  wr_uint (m, &off, 1, 2, be);
  wr_uint (m, &off, cid, 4, be);
  size_t hdr = 4;
  wr_uint (m, &hdr, (uint32_t) (off - PVA_HDR_LEN), 4, be);
  if (sendto (fd, m, off, 0, (const struct sockaddr *) to, sizeof *to) < 0)
    tool_die ("sendto");
  char dst[INET_ADDRSTRLEN];
  inet_ntop (AF_INET, &to->sin_addr, dst, sizeof dst);
  printf ("REPLY to=%s:%u seq=%u channel=%s cid=%u\n", dst, ntohs (to->sin_port), seq, name, cid);
}

static void
handle (int fd, const uint8_t *m, size_t n, const struct sockaddr_in *from, struct in_addr local, int *replies)
{
  char src[INET_ADDRSTRLEN];
  inet_ntop (AF_INET, &from->sin_addr, src, sizeof src);
  if (n < PVA_HDR_LEN || m[0] != PVA_MAGIC || (m[2] & PVA_FLAG_CONTROL))
    return;
  Rd r = { m, n, PVA_HDR_LEN, (m[2] & PVA_FLAG_BIG_ENDIAN) != 0, FALSE };
  Rd h = { m, n, 4, r.be, FALSE };
  size_t plen = rd_uint (&h, 4);
  if (plen > n - PVA_HDR_LEN)
    return; /* truncated: the header promises more than arrived */
  r.len = PVA_HDR_LEN + plen;
  if (m[3] == PVA_CMD_BEACON) {
    printf ("BEACON from=%s:%u\n", src, ntohs (from->sin_port));
    return;
  }
  if (m[3] != PVA_CMD_SEARCH || n < PVA_HDR_LEN + PVA_SEARCH_FIXED_LEN)
    return;
  uint32_t seq = rd_uint (&r, 4);
  r.off += 1 + 3; /* flags, reserved */
  const uint8_t *raddr = m + r.off;
  r.off += PVA_ADDR_LEN;
  uint16_t rport = (uint16_t) rd_uint (&r, 2);

  /* Non-zero responseAddress and port win; else the packet's source. */
  struct sockaddr_in to = *from;
  static const uint8_t zero[PVA_ADDR_LEN];
  if (memcmp (raddr, zero, PVA_ADDR_LEN) && rport) {
    memcpy (&to.sin_addr.s_addr, raddr + PVA_ADDR_LEN - sizeof to.sin_addr.s_addr, sizeof to.sin_addr.s_addr);
    to.sin_port = htons (rport);
  }
  size_t nproto = rd_size (&r);
  for (size_t i = 0; i < nproto && !r.bad; i++)
    g_free (rd_string (&r));
  uint32_t count = rd_uint (&r, 2);
  GString *names = g_string_new (NULL);
  GArray *hits = g_array_new (FALSE, FALSE, sizeof (uint32_t));
  GPtrArray *hit_names = g_ptr_array_new_with_free_func (g_free);
  for (uint32_t i = 0; i < count && !r.bad; i++) {
    uint32_t cid = rd_uint (&r, 4);
    gchar *name = rd_string (&r);
    g_string_append_printf (names, "%s%s", i ? "," : "", name);
    if (!r.bad && is_ours (name)) {
      g_array_append_val (hits, cid);
      g_ptr_array_add (hit_names, name);
    } else {
      g_free (name);
    }
  }
  printf ("REQUEST from=%s:%u seq=%u order=%s channels=%s%s\n", src, ntohs (from->sin_port), seq,
          r.be ? "be" : "le", names->len ? names->str : "-", r.bad ? " malformed" : "");
  for (guint i = 0; i < hits->len; i++) {
    reply (fd, &to, local, seq, g_array_index (hits, uint32_t, i), g_ptr_array_index (hit_names, i), r.be);
    ++*replies;
  }
  g_string_free (names, TRUE);
  g_array_free (hits, TRUE);
  g_ptr_array_free (hit_names, TRUE);
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- answer PVAccess searches for given channels");
  g_autoptr (GError) err = NULL;
  g_option_context_add_main_entries (ctx, entries, NULL);
  tool_init ("pva-responder");
  if (!g_option_context_parse (ctx, &argc, &argv, &err))
    tool_fail ("%s", err->message);
  for (int i = 0; i < PVA_GUID_LEN; i++)
    guid[i] = (uint8_t) g_random_int ();

  /* Shared with other listeners of the search port, as PVA servers do. */
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) opt_port) };
  int fd = tool_udp_socket (&sa, TRUE);
  printf ("READY port=%d\n", opt_port);

  /* The local address a request arrived on is the server address announced. */
  int replies = 0;
  gint64 deadline = tool_deadline (opt_timeout);
  static uint8_t buf[MAX_MSG];
  struct sockaddr_in from;
  struct in_addr local;
  ssize_t n;
  while ((opt_count == 0 || replies < opt_count)
         && (n = tool_recv (fd, buf, sizeof buf, deadline, &from, &local)) >= 0)
    handle (fd, buf, (size_t) n, &from, local, &replies);
  printf ("SUMMARY replies=%d\n", replies);
  g_strfreev (opt_channels);
  return 0;
}
