/* snowsignal - UDP broadcast relay
 * segment.c: the AF_PACKET socket on the relay's segment and its capture
 * ring.
 *
 * Capture uses a PACKET_MMAP ring in TPACKET_V2 layout: the kernel writes
 * each frame into a shared slot and wakes poll() per frame, so a frame is
 * seen as soon as it is there, whatever the rate.  TPACKET_V3 hands over
 * whole blocks and wakes only when a block fills or its timer (1 ms at the
 * least) retires it: at low rates every frame would wait up to that timer
 * (bench/RESULTS.md has the measurement).  V2 needs neither a timer nor
 * busy polling, and at high rates one wake-up still drains many frames.
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
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <gio/gio.h>

#include <snowsignal/packet.h>
#include "segment.h"

#define SS_BPF_MAX_INSNS 256
#define SS_DEFAULT_MTU   1500

/* The ring is mapped into the process and counts in its RSS in full: 1 MiB
 * holds 512 frames of a 1500-byte MTU, 5 ms of a 100k frames/s burst. */
#define SS_RING_BYTES      (1u << 20)
/* Fewer slots than this and a burst of jumbo frames would overrun it. */
#define SS_RING_MIN_FRAMES 64u
/* The kernel allocates the ring in blocks of contiguous pages; small blocks
 * never fail for want of a high-order allocation. */
#define SS_RING_BLOCK_MIN  (64u * 1024)
/* Where the kernel puts the frame in a slot (net/packet/af_packet.c): after
 * the V2 header and sockaddr_ll, with room for a MAC header of up to 16
 * bytes, aligned. */
#define SS_RING_FRAME_OFFSET TPACKET_ALIGN(TPACKET2_HDRLEN + 16)
/* A frame may carry one VLAN tag beyond the MTU and Ethernet header. */
#define SS_VLAN_TAG_LEN 4

struct ss_segment {
  int fd;
  int ifindex;
  char *ifname;
  unsigned mtu;
  struct sockaddr_ll dest;
  uint8_t *ring;             /* mmap()ed capture ring */
  size_t ring_len;
  unsigned frame_size;       /* bytes per slot, a power of two */
  unsigned n_frames;
  unsigned next;             /* slot the next frame will be in */
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

static unsigned
round_up_pow2(unsigned n)
{
  unsigned p = 1;
  while (p < n)
    p <<= 1;
  return p;
}

/* Sizes the ring for @mtu, asks the kernel for it (TPACKET_V2) and maps it.
 * Set before bind(), so that from the first frame on all go to the ring. */
static gboolean
map_ring(ss_segment *seg, GError **error)
{
  int version = TPACKET_V2;
  if (setsockopt(seg->fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) < 0)
    return fail_errno(error, seg->ifname, "cannot select the TPACKET_V2 capture ring", NULL);
  seg->frame_size = round_up_pow2(SS_RING_FRAME_OFFSET + SS_ETH_HLEN + SS_VLAN_TAG_LEN + seg->mtu);
  unsigned block = MAX(seg->frame_size, SS_RING_BLOCK_MIN);
  unsigned ring = MAX(SS_RING_BYTES, SS_RING_MIN_FRAMES * seg->frame_size);
  struct tpacket_req req = {
    .tp_block_size = block,
    .tp_block_nr = ring / block,
    .tp_frame_size = seg->frame_size,
    .tp_frame_nr = ring / seg->frame_size,
  };
  if (setsockopt(seg->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0)
    return fail_errno(error, seg->ifname, "cannot set up the capture ring", NULL);
  void *map = mmap(NULL, ring, PROT_READ | PROT_WRITE, MAP_SHARED, seg->fd, 0);
  if (map == MAP_FAILED)
    return fail_errno(error, seg->ifname, "cannot map the capture ring", NULL);
  seg->ring = map;
  seg->ring_len = ring;
  seg->n_frames = req.tp_frame_nr;
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
  ss_segment *seg = g_new0(ss_segment, 1);
  seg->fd = fd;
  seg->ifindex = ifindex;
  seg->ifname = g_strdup(ifname);
  seg->mtu = read_mtu(fd, ifname);
  struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
                             .sll_ifindex = ifindex };
  if (!attach_filter(fd, ifname, ports, n_ports, error) || !map_ring(seg, error) ||
      (bind(fd, (struct sockaddr *) &sll, sizeof sll) < 0 &&
       !fail_errno(error, ifname, "cannot bind the packet socket", NULL))) {
    ss_segment_close(seg);
    return NULL;
  }
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
  if (seg->ring)
    munmap(seg->ring, seg->ring_len);
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

static struct tpacket2_hdr *
slot(const ss_segment *seg, unsigned i)
{
  return (struct tpacket2_hdr *) (seg->ring + (size_t) i * seg->frame_size);
}

gboolean
ss_segment_next(ss_segment *seg, ss_segment_frame *frame)
{
  struct tpacket2_hdr *h = slot(seg, seg->next);
  /* Acquire: the frame bytes the kernel wrote before setting the status
   * are visible once the status is. */
  if (!(__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
    return FALSE;
  frame->data = (uint8_t *) h + h->tp_mac;
  frame->len = h->tp_snaplen;
  frame->truncated = h->tp_snaplen < h->tp_len;
  return TRUE;
}

void
ss_segment_release(ss_segment *seg)
{
  /* Release: the relay is done with the slot before the kernel may refill it. */
  __atomic_store_n(&slot(seg, seg->next)->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
  seg->next = (seg->next + 1) % seg->n_frames;
}

int
ss_segment_take_error(ss_segment *seg)
{
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(seg->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
    return errno;
  return err;
}

gboolean
ss_segment_send(ss_segment *seg, const uint8_t *frame, size_t len)
{
  ssize_t n = sendto(seg->fd, frame, len, 0, (struct sockaddr *) &seg->dest, sizeof seg->dest);
  return n == (ssize_t) len;
}
