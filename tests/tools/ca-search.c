/* ca-search - minimal Channel Access search client for the integration tests.
 *
 * Sends what a CA client sends first: one UDP datagram holding a
 * CA_PROTO_VERSION message and a CA_PROTO_SEARCH for one channel name, as a
 * broadcast to port 5064, then waits for a server's search reply, which
 * comes by unicast to the datagram's source.  It proves, end to end, that a
 * relayed search reaches a server on another segment and that the server
 * answers the client itself.  With --beacon it sends a server beacon
 * (CA_PROTO_RSRV_IS_UP) instead, with --malformed a search whose payload
 * size is not a multiple of 8; both exit once sent.  Output lines:
 *   SENT search|beacon|malformed cid=N channel=NAME to=IP:PORT from=IP:PORT
 *   RESPONSE from=IP:PORT cid=N server=IP:PORT version=N
 *   TIMEOUT
 * Exit status: 0 a reply to our search arrived (or a beacon or malformed
 * search was sent), 1 none did before --timeout, 2 usage or system error.
 */
#include <config.h>

#include <arpa/inet.h>
#include <glib.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ca-proto.h"
#include "tool-udp.h"

#define MAX_MSG 1500
#define BEACON_ID 1

static gchar *opt_dest = (gchar *) "255.255.255.255", *opt_bind, *opt_channel = (gchar *) "ss:test:pv";
static gint opt_port = CA_SERVER_PORT, opt_cid = 1;
static gdouble opt_timeout = 3.0;
static gboolean opt_beacon, opt_malformed;

static GOptionEntry entries[] = {
  { "dest", 'd', 0, G_OPTION_ARG_STRING, &opt_dest, "Destination (255.255.255.255)", "ADDR" },
  { "port", 'p', 0, G_OPTION_ARG_INT, &opt_port, "Destination UDP port (5064)", "PORT" },
  { "bind", 'b', 0, G_OPTION_ARG_STRING, &opt_bind, "Bind to ADDR[:PORT]", "ADDR[:PORT]" },
  { "channel", 'n', 0, G_OPTION_ARG_STRING, &opt_channel, "Channel name (ss:test:pv)", "NAME" },
  { "cid", 0, 0, G_OPTION_ARG_INT, &opt_cid, "Search id of the channel (1)", "N" },
  { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, &opt_timeout, "Seconds to wait for a reply (3)", "SEC" },
  { "beacon", 0, 0, G_OPTION_ARG_NONE, &opt_beacon, "Send a server beacon instead of a search", NULL },
  { "malformed", 0, 0, G_OPTION_ARG_NONE, &opt_malformed, "Send a search with an unpadded payload", NULL },
  { NULL, 0, 0, 0, NULL, NULL, NULL }
};

/* VERSION + SEARCH, as libca writes them; --malformed leaves the name
 * unpadded (a payload size that is not a multiple of 8).  Returns the length. */
static size_t
build_search (uint8_t *m, size_t cap)
{
  size_t name_len = strlen (opt_channel) + 1;
  size_t size = opt_malformed ? name_len : ca_padded (name_len);
  if (size % CA_ALIGN == 0 && opt_malformed)
    size++;                             /* one stray byte still breaks the padding */
  if (2 * CA_HDR_LEN + size > cap)
    tool_fail ("channel name too long");
  memset (m, 0, 2 * CA_HDR_LEN + size);
  ca_put_hdr (m, &(ca_hdr) { .command = CA_CMD_VERSION, .count = CA_MINOR_VERSION });
  ca_put_hdr (m + CA_HDR_LEN, &(ca_hdr) { .command = CA_CMD_SEARCH, .size = (uint16_t) size, .type = CA_DONT_REPLY,
                                          .count = CA_MINOR_VERSION, .p1 = (uint32_t) opt_cid,
                                          .p2 = (uint32_t) opt_cid });
  memcpy (m + 2 * CA_HDR_LEN, opt_channel, name_len - 1);
  return 2 * CA_HDR_LEN + size;
}

/* What rsrv broadcasts to the repeater port: its protocol version, its TCP
 * port, a beacon id and its address (0: "the UDP source"). */
static size_t
build_beacon (uint8_t *m)
{
  ca_put_hdr (m, &(ca_hdr) { .command = CA_CMD_RSRV_IS_UP, .type = CA_MINOR_VERSION, .count = CA_SERVER_PORT,
                             .p1 = BEACON_ID });
  return CA_HDR_LEN;
}

/* Prints each search reply of a datagram; TRUE when one answers our cid. */
static gboolean
parse_replies (const uint8_t *d, size_t len, const struct sockaddr_in *from)
{
  gboolean ours = FALSE;
  size_t off = 0;
  ca_hdr h;
  const uint8_t *payload;

  while (ca_next_message (d, len, &off, &h, &payload)) {
    if (h.command != CA_CMD_SEARCH || h.size < 2)
      continue;
    /* The server: parameter 1, or the datagram's source when that is the
     * "use the source" marker; its TCP port is in the data type field. */
    struct sockaddr_in server = { .sin_family = AF_INET, .sin_port = htons (h.type) };
    server.sin_addr.s_addr = h.p1 == CA_ADDR_FROM_SOURCE ? from->sin_addr.s_addr : htonl (h.p1);
    printf ("RESPONSE from=%s cid=%u server=%s version=%u\n", tool_addr_str (from), h.p2, tool_addr_str (&server),
            ca_get_u16_be (payload));
    if (h.p2 == (uint32_t) opt_cid)
      ours = TRUE;
  }
  return ours;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- send a Channel Access search (or beacon) and await the reply");
  g_autoptr (GError) err = NULL;
  g_option_context_add_main_entries (ctx, entries, NULL);
  tool_init ("ca-search");
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
  size_t len = opt_beacon ? build_beacon (msg) : build_search (msg, sizeof msg);
  if (sendto (fd, msg, len, 0, (struct sockaddr *) &to, sizeof to) < 0)
    tool_die ("sendto");
  printf ("SENT %s cid=%d channel=%s to=%s from=%s\n", opt_beacon ? "beacon" : opt_malformed ? "malformed" : "search",
          opt_cid, opt_beacon ? "-" : opt_channel, tool_addr_str (&to), tool_addr_str (&me));
  if (opt_beacon || opt_malformed)
    return 0;

  gint64 deadline = tool_deadline (opt_timeout);
  uint8_t in[MAX_MSG];
  struct sockaddr_in from;
  ssize_t n;
  while ((n = tool_recv (fd, in, sizeof in, deadline, &from, NULL)) >= 0)
    if (parse_replies (in, (size_t) n, &from))
      return 0;
  printf ("TIMEOUT\n");
  return 1;
}
