/* ss-bench-floor - the least a relay can do per packet on snowsignal's data
 * path: a reference ("floor") for the CPU figures of bench/sweep.sh.
 *
 *   ss-bench-floor -t IFACE [-p 5076] [-m 7124] [--recv] --other-relays PEER...
 *
 * One AF_PACKET socket on IFACE (ETH_P_ALL, as snowsignal) with a classic
 * BPF filter in the kernel: Ethernet-broadcast IPv4 UDP to the port, not a
 * non-first fragment.  One UDP socket on 0.0.0.0:mesh-port.  The loop
 * poll()s both, blocking (no CPU at idle):
 *   - capture: each frame not PACKET_OUTGOING goes as "SS" + frame to every
 *     peer, all frames of a wake-up and all peers in one sendmmsg();
 *   - mesh: one recvmmsg() (up to 64), and every datagram starting "SS"
 *     leaves IFACE unchanged, the batch in one sendmmsg() on the packet
 *     socket (its own transmissions are not captured by it).
 * Capture reads a TPACKET_V2 ring, as snowsignal does, so that a wake-up
 * costs poll() + sendmmsg() and no receive call; --recv reads with one
 * recvmmsg(MSG_DONTWAIT) per wake-up instead (one more system call, no
 * EAGAIN round: poll() comes back at once if more is queued).
 *
 * No chain, no rewriting, no GLib.  One store per frame: the UDP checksum
 * is set to 0 ("none", RFC 768) on capture, because a frame captured on a
 * veth (or an offloading NIC) carries only the partial checksum, which the
 * far receiver's kernel would drop as bad; snowsignal recomputes it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <getopt.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#define MAX_PEERS 16
#define BATCH 64                 /* frames per sendmmsg() / recvmmsg() */
#define SLOT 2048                /* ring slot and receive buffer: an MTU frame */
#define RING_BLOCK 4096
#define RING_SLOTS 1024           /* 2 MiB (snowsignal's default ring: 1 MiB of 2048 smaller slots) */
#define MESH_RCVBUF (8 * 1024 * 1024)   /* as snowsignal's mesh socket */

static struct sockaddr_in peers[MAX_PEERS];
static unsigned n_peers;
static int pkt_fd, mesh_fd;
/* Receive batches: the capture side's (--recv only) and the mesh side's. */
static struct rxq {
  uint8_t buf[BATCH][SLOT];
  struct mmsghdr msg[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_ll from[BATCH];
} cap, mesh;
static struct mmsghdr tx_msg[BATCH * MAX_PEERS];
static struct iovec tx_iov[BATCH * MAX_PEERS][2];

static void
die(const char *what)
{
  perror(what);
  exit(1);
}

/* Capture side: "SS" + frame to every peer, one sendmmsg() for the batch. */
static void
forward(uint8_t **frames, const unsigned *lens, unsigned n)
{
  static uint8_t magic[2] = { 'S', 'S' };
  unsigned m = 0;
  for (unsigned i = 0; i < n; i++) {
    uint8_t *f = frames[i];
    unsigned udp = 14 + 4 * (f[14] & 0xfu);
    if (lens[i] >= udp + 8)
      f[udp + 6] = f[udp + 7] = 0;
    for (unsigned p = 0; p < n_peers; p++, m++) {
      tx_iov[m][0] = (struct iovec) { magic, 2 };
      tx_iov[m][1] = (struct iovec) { f, lens[i] };
      tx_msg[m].msg_hdr = (struct msghdr) { .msg_name = &peers[p], .msg_namelen = sizeof peers[p],
                                            .msg_iov = tx_iov[m], .msg_iovlen = 2 };
    }
  }
  if (m && sendmmsg(mesh_fd, tx_msg, m, 0) < 0)
    perror("ss-bench-floor: sendmmsg to peers");
}

/* Drains the ring: frames are forwarded in place, then their slots go back. */
static void
capture_ring(uint8_t *ring)
{
  static unsigned head;
  struct tpacket2_hdr *held[BATCH];
  uint8_t *frames[BATCH];
  unsigned lens[BATCH], n;
  do {
    n = 0;
    while (n < BATCH) {
      struct tpacket2_hdr *h = (struct tpacket2_hdr *) (ring + (size_t) head * SLOT);
      if (!(__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
        break;
      head = (head + 1) % RING_SLOTS;
      const struct sockaddr_ll *sll =
        (const struct sockaddr_ll *) ((uint8_t *) h + TPACKET_ALIGN(sizeof *h));
      if (sll->sll_pkttype == PACKET_OUTGOING || h->tp_snaplen < 34) {
        __atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
        continue;
      }
      held[n] = h;
      frames[n] = (uint8_t *) h + h->tp_mac;
      lens[n++] = h->tp_snaplen;
    }
    forward(frames, lens, n);
    for (unsigned i = 0; i < n; i++)
      __atomic_store_n(&held[i]->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
  } while (n == BATCH);
}

/* --recv: one recvmmsg() per wake-up. */
static void
capture_recv(void)
{
  uint8_t *frames[BATCH];
  unsigned lens[BATCH], n = 0;
  int got = recvmmsg(pkt_fd, cap.msg, BATCH, MSG_DONTWAIT, NULL);
  for (int i = 0; i < got; i++)
    if (cap.from[i].sll_pkttype != PACKET_OUTGOING && cap.msg[i].msg_len >= 34) {
      frames[n] = cap.buf[i];
      lens[n++] = cap.msg[i].msg_len;
    }
  forward(frames, lens, n);
}

/* Mesh side: one recvmmsg(), the "SS" datagrams out of IFACE in one sendmmsg(). */
static void
rebroadcast(const struct sockaddr_ll *dev)
{
  int got = recvmmsg(mesh_fd, mesh.msg, BATCH, MSG_DONTWAIT, NULL);
  unsigned m = 0;
  for (int i = 0; i < got; i++) {
    if (mesh.msg[i].msg_len < 2 + 14 || mesh.buf[i][0] != 'S' || mesh.buf[i][1] != 'S')
      continue;
    tx_iov[m][0] = (struct iovec) { mesh.buf[i] + 2, mesh.msg[i].msg_len - 2 };
    tx_msg[m].msg_hdr = (struct msghdr) { .msg_name = (void *) dev, .msg_namelen = sizeof *dev,
                                          .msg_iov = tx_iov[m], .msg_iovlen = 1 };
    m++;
  }
  if (m && sendmmsg(pkt_fd, tx_msg, m, 0) < 0)
    perror("ss-bench-floor: sendmmsg to the segment");
}

static void
usage(void)
{
  fprintf(stderr, "usage: ss-bench-floor -t IFACE [-p PORT] [-m MESH_PORT] [--recv] "
                  "--other-relays PEER...\n");
  exit(2);
}

int
main(int argc, char **argv)
{
  const char *ifname = "eth0";
  unsigned port = 5076, mesh_port = 7124;
  int use_recv = 0;
  static const struct option opts[] = {
    { "target-interface", 1, NULL, 't' }, { "broadcast-port", 1, NULL, 'p' },
    { "mesh-port", 1, NULL, 'm' }, { "other-relays", 0, NULL, 'o' },
    { "recv", 0, NULL, 'r' }, { NULL, 0, NULL, 0 }
  };
  for (int c; (c = getopt_long(argc, argv, "t:p:b:m:", opts, NULL)) != -1;) {
    switch (c) {
    case 't': ifname = optarg; break;
    case 'p': case 'b': port = (unsigned) atoi(optarg); break;
    case 'm': mesh_port = (unsigned) atoi(optarg); break;
    case 'o': break;             /* the peers are the operands */
    case 'r': use_recv = 1; break;
    default: usage();
    }
  }
  for (; optind < argc && n_peers < MAX_PEERS; optind++) {
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_DGRAM }, *ai;
    if (getaddrinfo(argv[optind], NULL, &hints, &ai) != 0)
      usage();
    peers[n_peers] = *(struct sockaddr_in *) ai->ai_addr;
    peers[n_peers++].sin_port = htons((uint16_t) mesh_port);
    freeaddrinfo(ai);
  }
  int ifindex = (int) if_nametoindex(ifname);
  if (ifindex == 0 || port == 0 || port > 65535 || n_peers == 0)
    usage();

  /* Filter and ring before bind(): no unfiltered frame is ever queued.
   * 0 ethertype IPv4?  2-5 destination ff:ff:ff:ff:ff:ff?  6 UDP?
   * 8 fragment offset 0?  10 X = IP header length  12 UDP port?  13 drop  14 accept */
  struct sock_filter bpf[] = {
    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 11),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),   BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffff, 0, 9),
    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 4),   BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffff, 0, 7),
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 23),  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 17, 0, 5),
    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 20),  BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 3, 0),
    BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 14), BPF_STMT(BPF_LD | BPF_H | BPF_IND, 16),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, 0),            BPF_STMT(BPF_RET | BPF_K, 0x40000),
  };
  struct sock_fprog prog = { .len = sizeof bpf / sizeof bpf[0], .filter = bpf };
  pkt_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (pkt_fd < 0 || setsockopt(pkt_fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0)
    die("ss-bench-floor: packet socket");
  uint8_t *ring = NULL;
  if (!use_recv) {
    int version = TPACKET_V2;
    struct tpacket_req req = { RING_BLOCK, RING_SLOTS * SLOT / RING_BLOCK, SLOT, RING_SLOTS };
    if (setsockopt(pkt_fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) < 0 ||
        setsockopt(pkt_fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0 ||
        (ring = mmap(NULL, (size_t) RING_SLOTS * SLOT, PROT_READ | PROT_WRITE, MAP_SHARED,
                     pkt_fd, 0)) == MAP_FAILED)
      die("ss-bench-floor: capture ring");
  }
  struct sockaddr_ll dev = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
                             .sll_ifindex = ifindex, .sll_halen = 6 };
  if (bind(pkt_fd, (struct sockaddr *) &dev, sizeof dev) < 0)
    die("ss-bench-floor: bind packet socket");
  dev.sll_protocol = htons(ETH_P_IP);
  memset(dev.sll_addr, 0xff, 6);

  int size = MESH_RCVBUF;
  struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons((uint16_t) mesh_port) };
  mesh_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (mesh_fd < 0 || bind(mesh_fd, (struct sockaddr *) &any, sizeof any) < 0)
    die("ss-bench-floor: mesh socket");
  if (setsockopt(mesh_fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
    setsockopt(mesh_fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);

  for (int i = 0; i < BATCH; i++) {
    cap.iov[i] = (struct iovec) { cap.buf[i], SLOT };
    cap.msg[i].msg_hdr = (struct msghdr) { .msg_name = &cap.from[i], .msg_namelen = sizeof cap.from[i],
                                           .msg_iov = &cap.iov[i], .msg_iovlen = 1 };
    mesh.iov[i] = (struct iovec) { mesh.buf[i], SLOT };
    mesh.msg[i].msg_hdr = (struct msghdr) { .msg_iov = &mesh.iov[i], .msg_iovlen = 1 };
  }
  struct pollfd pfd[2] = { { pkt_fd, POLLIN, 0 }, { mesh_fd, POLLIN, 0 } };
  for (;;) {
    if (poll(pfd, 2, -1) < 0)
      die("ss-bench-floor: poll");
    if (pfd[0].revents)
      ring ? capture_ring(ring) : capture_recv();
    if (pfd[1].revents)
      rebroadcast(&dev);
  }
}
