/* ss-ring-probe - how late a PACKET_MMAP ring hands a frame to user space.
 *
 *   ss-ring-probe --dev IFACE --version 2|3 --seconds S [--block-ms MS]
 *
 * Captures the bench sender's datagrams from a TPACKET_V2 or TPACKET_V3
 * ring, waiting in poll() as the relay does (no busy polling), and reports
 * capture time minus the sender's stamp:
 *   "RING version=V frames=N wakeups=W p50_us=.. p99_us=.. p999_us=.. max_us=.."
 * This is the measurement behind the relay's choice of TPACKET_V2 (see
 * RESULTS.md): V3 hands over a block only when it is full or its retire
 * timer (whole milliseconds) fires.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench-wire.h"

#define FRAME_SIZE 2048
#define BLOCK_SIZE (64 * 1024)
#define N_BLOCKS 16
#define MAX_SAMPLES (1u << 22)
#define ETH_HLEN_ 14
#define UDP_HLEN_ 8
#define IP_PROTO_OFF 9
#define PROTO_UDP 17

static uint64_t *samples;
static size_t n_samples;

/* Records the latency of @frame if it is a bench datagram: the time user
 * space gets to it minus the sender's stamp. */
static void
note_frame(const uint8_t *frame, size_t len)
{
  if (len < ETH_HLEN_ + 20 || frame[ETH_HLEN_ + IP_PROTO_OFF] != PROTO_UDP)
    return;
  size_t ihl = (size_t) (frame[ETH_HLEN_] & 0xf) * 4;
  const uint8_t *p = frame + ETH_HLEN_ + ihl + UDP_HLEN_;
  if (p + BENCH_OFF_NAME + BENCH_STAMP_LEN > frame + len ||
      memcmp(p + BENCH_OFF_STAMP_MAGIC, BENCH_STAMP_MAGIC, 4) != 0 || n_samples == MAX_SAMPLES)
    return;
  samples[n_samples++] = bench_now_ns() - bench_get_le(p + BENCH_OFF_SENT_NS, 8);
}

static int
cmp_u64(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
  return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
  const char *dev = NULL;
  int version = TPACKET_V2, block_ms = 1;
  double seconds = 5;
  static const struct option opts[] = {
    { "dev", 1, NULL, 'd' }, { "version", 1, NULL, 'v' }, { "seconds", 1, NULL, 't' },
    { "block-ms", 1, NULL, 'b' }, { NULL, 0, NULL, 0 }
  };
  for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
    switch (c) {
    case 'd': dev = optarg; break;
    case 'v': version = atoi(optarg) == 3 ? TPACKET_V3 : TPACKET_V2; break;
    case 't': seconds = atof(optarg); break;
    case 'b': block_ms = atoi(optarg); break;
    default: return 2;
    }
  }
  if (!dev)
    return 2;
  samples = calloc(MAX_SAMPLES, sizeof *samples);
  int fd = socket(AF_PACKET, SOCK_RAW, 0);
  setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version);
  struct tpacket_req3 req = { .tp_block_size = BLOCK_SIZE, .tp_block_nr = N_BLOCKS,
                              .tp_frame_size = FRAME_SIZE,
                              .tp_frame_nr = BLOCK_SIZE / FRAME_SIZE * N_BLOCKS };
  if (version == TPACKET_V3)
    req.tp_retire_blk_tov = (unsigned) block_ms;
  socklen_t req_len = version == TPACKET_V3 ? sizeof req : sizeof(struct tpacket_req);
  if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, req_len) < 0) {
    perror("ss-ring-probe: PACKET_RX_RING");
    return 1;
  }
  uint8_t *ring = mmap(NULL, (size_t) BLOCK_SIZE * N_BLOCKS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP),
                             .sll_ifindex = (int) if_nametoindex(dev) };
  if (ring == MAP_FAILED || bind(fd, (struct sockaddr *) &sll, sizeof sll) < 0) {
    perror("ss-ring-probe: mmap/bind");
    return 1;
  }
  printf("READY\n");
  fflush(stdout);
  const uint64_t end = bench_now_ns() + (uint64_t) (seconds * 1e9);
  unsigned slot = 0, n_slots = version == TPACKET_V3 ? N_BLOCKS : req.tp_frame_nr;
  uint64_t wakeups = 0;
  while (bench_now_ns() < end) {
    struct pollfd pfd = { fd, POLLIN, 0 };
    if (poll(&pfd, 1, 100) <= 0)
      continue;
    wakeups++;
    for (;;) {
      if (version == TPACKET_V3) {
        struct tpacket_block_desc *b = (void *) (ring + (size_t) slot * BLOCK_SIZE);
        if (!(__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
          break;
        struct tpacket3_hdr *h = (void *) ((uint8_t *) b + b->hdr.bh1.offset_to_first_pkt);
        for (unsigned i = 0; i < b->hdr.bh1.num_pkts; i++) {
          note_frame((uint8_t *) h + h->tp_mac, h->tp_snaplen);
          h = (void *) ((uint8_t *) h + h->tp_next_offset);
        }
        __atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
      } else {
        struct tpacket2_hdr *h = (void *) (ring + (size_t) slot * FRAME_SIZE);
        if (!(__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
          break;
        note_frame((uint8_t *) h + h->tp_mac, h->tp_snaplen);
        __atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
      }
      slot = (slot + 1) % n_slots;
    }
  }
  qsort(samples, n_samples, sizeof *samples, cmp_u64);
#define PCT(p) (n_samples ? (double) samples[(size_t) ((p) * (double) (n_samples - 1))] / 1000.0 : -1)
  printf("RING version=%d block_ms=%d frames=%zu wakeups=%llu p50_us=%.1f p99_us=%.1f "
         "p999_us=%.1f max_us=%.1f\n",
         version == TPACKET_V3 ? 3 : 2, version == TPACKET_V3 ? block_ms : 0, n_samples,
         (unsigned long long) wakeups, PCT(0.50), PCT(0.99), PCT(0.999), PCT(1.0));
  return 0;
}
