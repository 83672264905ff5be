/* ca-responder - minimal Channel Access search responder for the
 * integration tests.
 *
 * Plays the part of a CA server's UDP side (rsrv): listens on the search
 * port, reads each datagram's CA_PROTO_SEARCH messages, and answers those
 * naming one of its channels with a search reply sent by unicast to the
 * datagram's IP source and UDP source port, the only return address a CA
 * search has.  That is why a relay must keep the original source: the reply
 * must reach the client, not the relay.  The reply is a CA_PROTO_VERSION
 * message followed by a CA_PROTO_SEARCH one carrying the server's TCP port
 * (data type), its address (parameter 1: the address the search arrived
 * on), the client's search id (parameter 2) and the server's protocol
 * version (payload).  Output lines:
 *   READY port=N
 *   REQUEST from=IP:PORT version=N channels=NAME,...
 *   BEACON from=IP:PORT server_port=N
 *   OTHER from=IP:PORT len=N        (anything else)
 *   REPLY to=IP:PORT cid=N channel=NAME
 *   SUMMARY replies=N
 * Exits after --count replies or --timeout seconds.
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

#define MAX_MSG 65536
#define REPLY_PAYLOAD 8 /* the 2-byte protocol version, padded */

static gint opt_port = CA_SERVER_PORT, opt_server_port = CA_SERVER_PORT, opt_count = 0;
static gdouble opt_timeout = 10.0;
static gchar **opt_channels;

static GOptionEntry entries[] = {
  { "port", 'p', 0, G_OPTION_ARG_INT, &opt_port, "UDP search port (5064)", "PORT" },
  { "channel", 'n', 0, G_OPTION_ARG_STRING_ARRAY, &opt_channels, "Channel to answer for (repeatable)", "NAME" },
  { "server-port", 0, 0, G_OPTION_ARG_INT, &opt_server_port, "TCP port announced (5064)", "PORT" },
  { "count", 'c', 0, G_OPTION_ARG_INT, &opt_count, "Exit after N replies (0: only the timeout)", "N" },
  { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, &opt_timeout, "Seconds to run at most (10)", "SEC" },
  { NULL, 0, 0, 0, NULL, NULL, NULL }
};

static gboolean
is_ours (const char *name)
{
  for (gchar **c = opt_channels; c && *c; c++)
    if (!strcmp (*c, name))
      return TRUE;
  return FALSE;
}

static void
reply (int fd, const struct sockaddr_in *to, struct in_addr local, uint32_t cid, const char *name)
{
  uint8_t m[2 * CA_HDR_LEN + REPLY_PAYLOAD] = { 0 };
  ca_put_hdr (m, &(ca_hdr) { .command = CA_CMD_VERSION, .count = CA_MINOR_VERSION });
  ca_put_hdr (m + CA_HDR_LEN,
              &(ca_hdr) { .command = CA_CMD_SEARCH, .size = REPLY_PAYLOAD, .type = (uint16_t) opt_server_port,
                          .p1 = local.s_addr ? ntohl (local.s_addr) : CA_ADDR_FROM_SOURCE, .p2 = cid });
  ca_put_u16 (m + 2 * CA_HDR_LEN, CA_MINOR_VERSION);
  if (sendto (fd, m, sizeof m, 0, (const struct sockaddr *) to, sizeof *to) < 0)
    tool_die ("sendto");
  printf ("REPLY to=%s cid=%u channel=%s\n", tool_addr_str (to), cid, name);
}

/* A search message's channel name, or NULL when it carries none. */
static const char *
search_name (const ca_hdr *h, const uint8_t *payload)
{
  if (h->command != CA_CMD_SEARCH || h->size == 0 || !memchr (payload, '\0', h->size))
    return NULL;
  return (const char *) payload;
}

/* Reads a datagram message by message, as rsrv does: says what it holds,
 * then answers each search for one of our channels.  Returns the number of
 * replies sent. */
static int
handle (int fd, const uint8_t *d, size_t len, const struct sockaddr_in *from, struct in_addr local)
{
  size_t off = 0;
  ca_hdr h;
  const uint8_t *payload;
  const char *name;
  unsigned version = 0;
  int replies = 0, searches = 0, beacons = 0;
  GString *names = g_string_new (NULL);

  while (ca_next_message (d, len, &off, &h, &payload)) {
    if (h.command == CA_CMD_VERSION)
      version = h.count;
    if (h.command == CA_CMD_RSRV_IS_UP) {
      printf ("BEACON from=%s server_port=%u\n", tool_addr_str (from), h.count);
      beacons++;
    }
    if ((name = search_name (&h, payload)))
      g_string_append_printf (names, "%s%s", searches++ ? "," : "", name);
  }
  if (searches)
    printf ("REQUEST from=%s version=%u channels=%s\n", tool_addr_str (from), version, names->str);
  else if (!beacons)
    printf ("OTHER from=%s len=%zu\n", tool_addr_str (from), len);
  g_string_free (names, TRUE);

  for (off = 0; ca_next_message (d, len, &off, &h, &payload);)
    if ((name = search_name (&h, payload)) && is_ours (name)) {
      reply (fd, from, local, h.p2, name);
      replies++;
    }
  return replies;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- answer Channel Access searches for given channels");
  g_autoptr (GError) err = NULL;
  g_option_context_add_main_entries (ctx, entries, NULL);
  tool_init ("ca-responder");
  if (!g_option_context_parse (ctx, &argc, &argv, &err))
    tool_fail ("%s", err->message);

  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) opt_port) };
  int fd = tool_udp_socket (&sa, TRUE);
  printf ("READY port=%d\n", opt_port);

  int replies = 0;
  gint64 deadline = tool_deadline (opt_timeout);
  static uint8_t buf[MAX_MSG];
  struct sockaddr_in from;
  struct in_addr local;
  ssize_t n;
  while ((opt_count == 0 || replies < opt_count)
         && (n = tool_recv (fd, buf, sizeof buf, deadline, &from, &local)) >= 0)
    replies += handle (fd, buf, (size_t) n, &from, local);
  printf ("SUMMARY replies=%d\n", replies);
  g_strfreev (opt_channels);
  return 0;
}
