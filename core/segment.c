/* snowsignal - UDP broadcast relay
 * segment.c: the AF_PACKET socket on the relay's segment.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <gio/gio.h>

#include <snowsignal/packet.h>
#include "segment.h"

#define SS_BPF_MAX_INSNS 256
#define SS_DEFAULT_MTU   1500

struct ss_segment {
  int fd;
  int ifindex;
  char *ifname;
  unsigned mtu;
  struct sockaddr_ll dest;
};

static gboolean
fail_errno(GError **error, const char *ifname, const char *what, const char *hint)
{
  int e = errno;
  g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "interface %s: %s: %s%s%s", ifname,
              what, g_strerror(e), hint ? "; " : "", hint ? hint : "");
  return FALSE;
}

static unsigned
read_mtu(int fd, const char *ifname)
{
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  g_strlcpy(ifr.ifr_name, ifname, sizeof ifr.ifr_name);
  if (ioctl(fd, SIOCGIFMTU, &ifr) < 0 || ifr.ifr_mtu <= 0)
    return SS_DEFAULT_MTU;
  return (unsigned) ifr.ifr_mtu;
}

/* The filter is attached before the socket is bound to a protocol, so no
 * unfiltered frame can be queued in between. */
static gboolean
attach_filter(int fd, const char *ifname, const uint16_t *ports, unsigned n_ports, GError **error)
{
  struct sock_filter insns[SS_BPF_MAX_INSNS];
  unsigned n = ss_segment_build_bpf(ports, n_ports, insns, SS_BPF_MAX_INSNS);
  if (n == 0) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "interface %s: cannot build a capture filter for %u ports", ifname, n_ports);
    return FALSE;
  }
  struct sock_fprog prog = { .len = (unsigned short) n, .filter = insns };
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0)
    return fail_errno(error, ifname, "cannot attach the capture filter", NULL);
  return TRUE;
}

ss_segment *
ss_segment_open(const char *ifname, const uint16_t *ports, unsigned n_ports, GError **error)
{
  if (strlen(ifname) >= IFNAMSIZ) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "interface name '%s' is longer than %d characters", ifname, IFNAMSIZ - 1);
    return NULL;
  }
  int ifindex = (int) if_nametoindex(ifname);
  if (ifindex == 0) {
    fail_errno(error, ifname, "not found",
               "name the segment's interface with -t/--target-interface or 'interface' in snowsignal.conf (see `ip link`)");
    return NULL;
  }
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    fail_errno(error, ifname, "cannot open a packet socket",
               "snowsignal needs CAP_NET_RAW (run as root or grant the capability)");
    return NULL;
  }
  struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
                             .sll_ifindex = ifindex };
  if (!attach_filter(fd, ifname, ports, n_ports, error) ||
      (bind(fd, (struct sockaddr *) &sll, sizeof sll) < 0 &&
       !fail_errno(error, ifname, "cannot bind the packet socket", NULL))) {
    close(fd);
    return NULL;
  }
  ss_segment *seg = g_new0(ss_segment, 1);
  seg->fd = fd;
  seg->ifindex = ifindex;
  seg->ifname = g_strdup(ifname);
  seg->mtu = read_mtu(fd, ifname);
  seg->dest.sll_family = AF_PACKET;
  seg->dest.sll_protocol = htons(ETH_P_IP);
  seg->dest.sll_ifindex = ifindex;
  seg->dest.sll_halen = SS_ETH_ALEN;
  memset(seg->dest.sll_addr, 0xff, SS_ETH_ALEN);
  return seg;
}

void
ss_segment_close(ss_segment *seg)
{
  if (!seg)
    return;
  close(seg->fd);
  g_free(seg->ifname);
  g_free(seg);
}

int
ss_segment_get_fd(const ss_segment *seg)
{
  return seg->fd;
}

int
ss_segment_get_ifindex(const ss_segment *seg)
{
  return seg->ifindex;
}

const char *
ss_segment_get_ifname(const ss_segment *seg)
{
  return seg->ifname;
}

unsigned
ss_segment_get_mtu(const ss_segment *seg)
{
  return seg->mtu;
}

ssize_t
ss_segment_recv(ss_segment *seg, uint8_t *buf, size_t cap, gboolean *truncated)
{
  struct sockaddr_ll from;
  socklen_t fromlen = sizeof from;
  ssize_t n = recvfrom(seg->fd, buf, cap, MSG_TRUNC, (struct sockaddr *) &from, &fromlen);
  if (n < 0)
    return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
  *truncated = (size_t) n > cap;
  return *truncated ? (ssize_t) cap : n;
}

gboolean
ss_segment_send(ss_segment *seg, const uint8_t *frame, size_t len)
{
  ssize_t n = sendto(seg->fd, frame, len, 0, (struct sockaddr *) &seg->dest, sizeof seg->dest);
  return n == (ssize_t) len;
}
