/* tool-udp.c - UDP socket chores shared by the integration tests' search
 * clients and responders (see tool-udp.h).
 */
#include <config.h>

#include "tool-udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const char *tool_program = "tool";

void
tool_init (const char *program)
{
  tool_program = program;
  setvbuf (stdout, NULL, _IOLBF, 0);
}

void
tool_die (const char *what)
{
  fprintf (stderr, "%s: %s: %s\n", tool_program, what, strerror (errno));
  exit (2);
}

void
tool_fail (const char *format, ...)
{
  va_list ap;
  fprintf (stderr, "%s: ", tool_program);
  va_start (ap, format);
  vfprintf (stderr, format, ap);
  va_end (ap);
  fputc ('\n', stderr);
  exit (2);
}

gboolean
tool_parse_addr (const char *spec, struct sockaddr_in *sa)
{
  g_auto (GStrv) parts = g_strsplit (spec, ":", 2);
  sa->sin_family = AF_INET;
  if (inet_pton (AF_INET, parts[0], &sa->sin_addr) != 1)
    return FALSE;
  if (parts[1]) {
    char *end;
    long port = strtol (parts[1], &end, 10);
    if (*parts[1] == '\0' || *end != '\0' || port < 0 || port > 65535)
      return FALSE;
    sa->sin_port = htons ((uint16_t) port);
  }
  return TRUE;
}

int
tool_udp_socket (struct sockaddr_in *sa, gboolean pktinfo)
{
  int fd = socket (AF_INET, SOCK_DGRAM, 0), one = 1;
  socklen_t len = sizeof *sa;
  if (fd < 0)
    tool_die ("socket");
  if (setsockopt (fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) < 0
      || setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0
      || (pktinfo && setsockopt (fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) < 0))
    tool_die ("setsockopt");
  sa->sin_family = AF_INET;
  if (bind (fd, (struct sockaddr *) sa, sizeof *sa) < 0)
    tool_die ("bind");
  if (getsockname (fd, (struct sockaddr *) sa, &len) < 0)
    tool_die ("getsockname");
  return fd;
}

gint64
tool_deadline (double seconds)
{
  return g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
}

ssize_t
tool_recv (int fd, uint8_t *buf, size_t cap, gint64 deadline, struct sockaddr_in *from, struct in_addr *local)
{
  for (;;) {
    gint64 left_ms = (deadline - g_get_monotonic_time ()) / 1000;
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    if (left_ms <= 0)
      return -1;
    int rc = poll (&pfd, 1, (int) left_ms);
    if (rc < 0 && errno != EINTR)
      tool_die ("poll");
    if (rc <= 0)
      continue;

    uint8_t cbuf[256];
    struct iovec iov = { buf, cap };
    struct msghdr msg = { .msg_name = from, .msg_namelen = sizeof *from, .msg_iov = &iov,
                          .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
    ssize_t n = recvmsg (fd, &msg, 0);
    if (n < 0)
      tool_die ("recvmsg");
    if (local) {
      local->s_addr = 0;
      for (struct cmsghdr *c = CMSG_FIRSTHDR (&msg); c; c = CMSG_NXTHDR (&msg, c))
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
          struct in_pktinfo pi;
          memcpy (&pi, CMSG_DATA (c), sizeof pi);
          *local = pi.ipi_spec_dst;
        }
    }
    return n;
  }
}

const char *
tool_addr_str (const struct sockaddr_in *sa)
{
  static char slots[2][INET_ADDRSTRLEN + 6];
  static int next;
  char ip[INET_ADDRSTRLEN];
  char *out = slots[next];
  next = (next + 1) % 2;
  inet_ntop (AF_INET, &sa->sin_addr, ip, sizeof ip);
  snprintf (out, sizeof slots[0], "%s:%u", ip, ntohs (sa->sin_port));
  return out;
}
