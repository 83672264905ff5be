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
#include <glib.h>

#include <snowsignal/packet.h>
#include "segment.h"

#define SS_BPF_MAX_INSNS 256
#define SS_DEFAULT_MTU   1500

/* The ring is mapped into the process and counts in its RSS in full, so its
 * slots are sized for what the relay mostly carries, PVA searches of a few
 * hundred bytes at most: a 512-byte slot holds a frame of up to 446 bytes
 * (the kernel puts it 66 bytes in, after its header).  Its size is the
 * caller's (capture_ring_kib; 1 MiB by default, see conffile.h).  A longer
 * frame comes whole through the socket's ordinary receive queue
 * (PACKET_COPY_THRESH), with its truncated copy in the ring marking its
 * place. */
#define SS_RING_SLOT_BYTES  512u
/* The kernel allocates the ring in blocks of contiguous pages; small blocks
 * never fail for want of a high-order allocation. */
#define SS_RING_BLOCK_BYTES (64u * 1024)
/* Any non-zero PACKET_COPY_THRESH turns the receive-queue copy on. */
#define SS_COPY_LONG_FRAMES 1
/* Frames to emit are queued and sent with one sendmmsg() per event-loop
 * iteration.  Room for a whole batch from the mesh of small frames, and
 * for at least one frame of any length. */
#define SS_EMIT_QUEUE_FRAMES 256
#define SS_EMIT_QUEUE_BYTES  (2 * SS_FRAME_MAX)

struct ss_segment {
  int fd;
  unsigned vlan;             /* 0: untagged */
  int ifindex;
  char *ifname;
  unsigned mtu;
  struct sockaddr_ll dest;
  uint8_t *ring;             /* mmap()ed capture ring */
  size_t ring_len;
  unsigned n_frames;
  unsigned next;             /* slot the next frame will be in */
  uint8_t *long_frame;       /* SS_FRAME_MAX bytes for frames longer than a slot */
  /* Emit queue: copies in emit_bytes, one message each. */
  uint8_t *emit_bytes;
  size_t emit_used;
  unsigned n_emit;
  struct mmsghdr emit_msgs[SS_EMIT_QUEUE_FRAMES];
  struct iovec emit_iov[SS_EMIT_QUEUE_FRAMES];
};

static gboolean
fail_errno(GError **error, const char *ifname, const char *what, const char *hint)
{
  int e = errno;
  g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "interface %s: %s: %s%s%s", ifname,
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
attach_filter(int fd, const char *ifname, const uint16_t *ports, unsigned n_ports, unsigned vlan,
              GError **error)
{
  struct sock_filter insns[SS_BPF_MAX_INSNS];
  unsigned n = ss_segment_build_bpf(ports, n_ports, vlan, insns, SS_BPF_MAX_INSNS);
  if (n == 0) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "interface %s: cannot build a capture filter for %u ports", ifname, n_ports);
    return FALSE;
  }
  struct sock_fprog prog = { .len = (unsigned short) n, .filter = insns };
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0)
    return fail_errno(error, ifname, "cannot attach the capture filter", NULL);
  return TRUE;
}

/* Asks the kernel for the ring (TPACKET_V2) and maps it.  Set before
 * bind(), so that from the first frame on all go to the ring. */
static gboolean
map_ring(ss_segment *seg, size_t ring_bytes, GError **error)
{
  /* Whole blocks, at least one. */
  ring_bytes = MAX(ring_bytes, SS_RING_BLOCK_BYTES) / SS_RING_BLOCK_BYTES * SS_RING_BLOCK_BYTES;
  int version = TPACKET_V2, copy = SS_COPY_LONG_FRAMES;
  if (setsockopt(seg->fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) < 0)
    return fail_errno(error, seg->ifname, "cannot select the TPACKET_V2 capture ring", NULL);
  if (setsockopt(seg->fd, SOL_PACKET, PACKET_COPY_THRESH, &copy, sizeof copy) < 0)
    return fail_errno(error, seg->ifname, "cannot have long frames queued whole", NULL);
  struct tpacket_req req = {
    .tp_block_size = SS_RING_BLOCK_BYTES,
    .tp_block_nr = (unsigned) (ring_bytes / SS_RING_BLOCK_BYTES),
    .tp_frame_size = SS_RING_SLOT_BYTES,
    .tp_frame_nr = (unsigned) (ring_bytes / SS_RING_SLOT_BYTES),
  };
  if (setsockopt(seg->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0)
    return fail_errno(error, seg->ifname, "cannot set up the capture ring", NULL);
  void *map = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, seg->fd, 0);
  if (map == MAP_FAILED)
    return fail_errno(error, seg->ifname, "cannot map the capture ring", NULL);
  seg->ring = map;
  seg->ring_len = ring_bytes;
  seg->n_frames = req.tp_frame_nr;
  return TRUE;
}

ss_segment *
ss_segment_open(const char *ifname, const uint16_t *ports, unsigned n_ports, unsigned vlan,
                size_t ring_bytes, GError **error)
{
  if (strlen(ifname) >= IFNAMSIZ) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
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
  seg->vlan = vlan;
  seg->ifindex = ifindex;
  seg->ifname = g_strdup(ifname);
  seg->mtu = read_mtu(fd, ifname);
  /* Its pages become resident only as long frames arrive. */
  seg->long_frame = g_malloc(SS_FRAME_MAX);
  seg->emit_bytes = g_malloc(SS_EMIT_QUEUE_BYTES);
  struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
                             .sll_ifindex = ifindex };
  if (!attach_filter(fd, ifname, ports, n_ports, vlan, error) || !map_ring(seg, ring_bytes, error) ||
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
  g_free(seg->long_frame);
  g_free(seg->emit_bytes);
  g_free(seg->ifname);
  g_free(seg);
}

int
ss_segment_get_fd(const ss_segment *seg)
{
  return seg->fd;
}

unsigned
ss_segment_get_ring_frames(const ss_segment *seg)
{
  return seg->n_frames;
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
  return (struct tpacket2_hdr *) (seg->ring + (size_t) i * SS_RING_SLOT_BYTES);
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
  frame->losing = (h->tp_status & TP_STATUS_LOSING) != 0;
  /* The tag's presence is TP_STATUS_VLAN_VALID, or a non-zero TCI from
   * kernels that predate it. */
  gboolean tagged = (h->tp_status & TP_STATUS_VLAN_VALID) || h->tp_vlan_tci != 0;
  frame->wrong_vlan = seg->vlan ? !tagged || (h->tp_vlan_tci & SS_VLAN_VID_MASK) != seg->vlan
                                : tagged;
  if (h->tp_status & TP_STATUS_COPY) {
    /* The whole frame was queued before the slot was marked ready, and the
     * queue keeps the ring's order: it is the next one there. */
    ssize_t n = recv(seg->fd, seg->long_frame, SS_FRAME_MAX, MSG_DONTWAIT | MSG_TRUNC);
    if (n > 0 && (size_t) n <= SS_FRAME_MAX) {
      frame->data = seg->long_frame;
      frame->len = (size_t) n;
      frame->truncated = FALSE;
    }
  }
  return TRUE;
}

gboolean
ss_segment_has_frame(const ss_segment *seg)
{
  return (__atomic_load_n(&slot(seg, seg->next)->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) != 0;
}

void
ss_segment_release(ss_segment *seg)
{
  /* Release: the relay is done with the slot before the kernel may refill it. */
  __atomic_store_n(&slot(seg, seg->next)->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
  seg->next = (seg->next + 1) % seg->n_frames;
}

guint64
ss_segment_take_drops(ss_segment *seg)
{
  struct tpacket_stats st = { 0 };
  socklen_t len = sizeof st;
  if (getsockopt(seg->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0)
    return 0;
  return st.tp_drops;
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
ss_segment_queue(ss_segment *seg, const uint8_t *frame, size_t len)
{
  size_t out_len = len + (seg->vlan ? SS_VLAN_TAG_LEN : 0);
  if (seg->n_emit == SS_EMIT_QUEUE_FRAMES || seg->emit_used + out_len > SS_EMIT_QUEUE_BYTES ||
      len < SS_ETH_HLEN)
    return FALSE;
  uint8_t *copy = seg->emit_bytes + seg->emit_used;
  if (seg->vlan) {
    /* Destination and source MAC, the tag, then the frame's own type. */
    memcpy(copy, frame, 2 * SS_ETH_ALEN);
    uint8_t *tag = copy + 2 * SS_ETH_ALEN;
    tag[0] = SS_ETH_P_8021Q >> 8;
    tag[1] = SS_ETH_P_8021Q & 0xff;
    tag[2] = (uint8_t) (seg->vlan >> 8);
    tag[3] = (uint8_t) seg->vlan;
    memcpy(tag + SS_VLAN_TAG_LEN, frame + 2 * SS_ETH_ALEN, len - 2 * SS_ETH_ALEN);
  } else {
    memcpy(copy, frame, len);
  }
  seg->emit_used += out_len;
  seg->emit_iov[seg->n_emit] = (struct iovec) { copy, out_len };
  seg->emit_msgs[seg->n_emit].msg_hdr = (struct msghdr) {
    .msg_name = &seg->dest, .msg_namelen = sizeof seg->dest,
    .msg_iov = &seg->emit_iov[seg->n_emit], .msg_iovlen = 1 };
  seg->n_emit++;
  return TRUE;
}

unsigned
ss_segment_flush(ss_segment *seg, int *err)
{
  unsigned off = 0, failed = 0;
  while (off < seg->n_emit) {
    int n = sendmmsg(seg->fd, seg->emit_msgs + off, seg->n_emit - off, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      /* sendmmsg() stops at the first frame that fails: skip it, go on. */
      *err = n < 0 ? errno : EAGAIN;
      failed++;
      off++;
      continue;
    }
    off += (unsigned) n;
  }
  seg->n_emit = 0;
  seg->emit_used = 0;
  return failed;
}
