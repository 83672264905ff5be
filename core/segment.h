/* snowsignal - UDP broadcast relay
 * segment.h: the relay's AF_PACKET socket on its own segment, used both to
 * capture broadcasts and to re-emit frames from peers.
 *
 * One socket does both on purpose: the kernel does not loop a packet
 * socket's own transmissions back to it, so the relay never captures its
 * own re-emissions, even with no mac-self filter in the chain.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SS_CORE_SEGMENT_H
#define SS_CORE_SEGMENT_H

#include <stdint.h>
#include <sys/types.h>
#include <linux/filter.h>
#include <glib.h>

typedef struct ss_segment ss_segment;

/* 802.1Q: the tag's ethertype, the VLAN ID bits of its TCI, the highest
 * VLAN ID (4095 is reserved), and the tag's length in a frame. */
#define SS_ETH_P_8021Q    0x8100
#define SS_VLAN_VID_MASK  0x0fffu
#define SS_VLAN_MAX       4094u
#define SS_VLAN_TAG_LEN   4

/* Opens the socket on @ifname with a kernel filter passing only Ethernet
 * broadcast IPv4 UDP frames to one of @ports (and IPv4 fragments, whose
 * ports are only known after reassembly), and maps a capture ring of
 * @ring_bytes (rounded down to whole 64 KiB blocks, one at least; a frame
 * takes 512 bytes of it).  With @vlan 0 only untagged frames are captured
 * and frames are emitted untagged; with a VLAN ID (1..SS_VLAN_MAX, on a
 * trunk interface) only frames tagged with it are captured, and frames
 * are emitted with its tag. */
ss_segment *ss_segment_open(const char *ifname, const uint16_t *ports, unsigned n_ports,
                            unsigned vlan, size_t ring_bytes, GError **error);
/* Frames the ring holds. */
unsigned ss_segment_get_ring_frames(const ss_segment *seg);
void ss_segment_close(ss_segment *seg);

int ss_segment_get_fd(const ss_segment *seg);
int ss_segment_get_ifindex(const ss_segment *seg);
const char *ss_segment_get_ifname(const ss_segment *seg);
/* The interface MTU (IP datagram size), read at open. */
unsigned ss_segment_get_mtu(const ss_segment *seg);

/* One captured frame, in place in the capture ring (PACKET_MMAP,
 * TPACKET_V2): no copy and no system call per frame, except for frames
 * longer than a ring slot, which one recv() reads whole. */
typedef struct {
  uint8_t *data;        /* Ethernet frame, writable until released */
  size_t len;           /* bytes at @data */
  gboolean truncated;   /* the kernel could not keep the whole frame; @data is cut */
  gboolean losing;      /* the kernel dropped frames (ring full) since the drops
                         * were last taken: ss_segment_take_drops() */
  gboolean wrong_vlan;  /* tagged, or not, other than the segment's VLAN says:
                         * the kernel filter keeps these out, unless it could
                         * not read the tag */
} ss_segment_frame;

/* The oldest captured frame not yet released, without blocking; FALSE when
 * the ring holds none.  The fd is readable (poll) while one is ready.  Each
 * frame must be released before the next is asked for. */
gboolean ss_segment_next(ss_segment *seg, ss_segment_frame *frame);
/* Whether ss_segment_next() would return a frame now. */
gboolean ss_segment_has_frame(const ss_segment *seg);
/* Hands the frame ss_segment_next() returned back to the kernel. */
void ss_segment_release(ss_segment *seg);
/* Frames the kernel dropped for want of a free ring slot since the last
 * call (PACKET_STATISTICS, which resets the kernel's count and the frames'
 * @losing mark). */
guint64 ss_segment_take_drops(ss_segment *seg);
/* Takes the socket's pending error (after poll reported one): an errno
 * value, 0 if none.  Reading it clears it, so that poll stops reporting. */
int ss_segment_take_error(ss_segment *seg);

/* Queues a copy of one whole Ethernet frame (untagged; the segment's VLAN
 * tag is put in) to broadcast on the segment;
 * FALSE, queueing nothing, when the queue is full: flush, then queue again
 * (an empty queue takes any frame up to SS_FRAME_MAX). */
gboolean ss_segment_queue(ss_segment *seg, const uint8_t *frame, size_t len);
/* Sends the queued frames, one sendmmsg() for all of them, and empties the
 * queue.  Returns how many could not be sent, with the errno of the last
 * failure in *@err. */
unsigned ss_segment_flush(ss_segment *seg, int *err);

/* Builds the classic BPF program (exposed for tests).  Returns the number
 * of instructions written to @prog (at most @cap), 0 if it does not fit. */
unsigned ss_segment_build_bpf(const uint16_t *ports, unsigned n_ports, unsigned vlan,
                              struct sock_filter *prog, unsigned cap);

#endif
