/* tool-udp.h - the UDP socket chores the search clients and responders of
 * the integration tests share (tests/tools/{pva,ca}-{search,responder}.c):
 * error exits, addresses given as ADDR[:PORT], a bound broadcast-capable
 * socket, and waiting for one datagram until a deadline, with the local
 * address it was sent to.  GLib and libc only, never libsnowsignal.
 */
#ifndef SNOWSIGNAL_TESTS_TOOL_UDP_H
#define SNOWSIGNAL_TESTS_TOOL_UDP_H

#include <glib.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Names the program in every message of tool_die() and tool_fail(). */
void tool_init (const char *program);

/* "PROGRAM: WHAT: strerror(errno)" on stderr, exit status 2. */
G_GNUC_NORETURN void tool_die (const char *what);

/* "PROGRAM: MESSAGE" on stderr, exit status 2. */
G_GNUC_NORETURN void tool_fail (const char *format, ...) G_GNUC_PRINTF (1, 2);

/* Parses "ADDR" or "ADDR:PORT" (IPv4) into @sa; a missing port leaves
 * @sa->sin_port alone.  FALSE on a malformed address. */
gboolean tool_parse_addr (const char *spec, struct sockaddr_in *sa);

/* A UDP socket with SO_BROADCAST and SO_REUSEADDR (so that it shares a
 * search port with other listeners, as servers do) and, when @pktinfo,
 * IP_PKTINFO, bound to @sa; @sa then holds the bound address and port. */
int tool_udp_socket (struct sockaddr_in *sa, gboolean pktinfo);

/* Monotonic time @seconds from now, for tool_recv(). */
gint64 tool_deadline (double seconds);

/* Waits until @deadline for one datagram; its length, or -1 when the
 * deadline passed first.  @local (may be NULL) receives the address the
 * datagram was sent to as IP_PKTINFO tells it (zero without IP_PKTINFO):
 * the address a server announces as its own. */
ssize_t tool_recv (int fd, uint8_t *buf, size_t cap, gint64 deadline, struct sockaddr_in *from,
                   struct in_addr *local);

/* "a.b.c.d:port" in a static buffer of each of two slots, for printing. */
const char *tool_addr_str (const struct sockaddr_in *sa);

#endif
