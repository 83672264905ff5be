/* ss-bench-recv - receives the bench sender's datagrams and reports what
 * arrived and how late.
 *
 *   ss-bench-recv --expect N [--port P] [--run-id N] [--seconds S] [--idle-ms MS]
 *
 * Prints "READY" once bound, then exits when S seconds have passed, or MS
 * milliseconds after the last datagram, and prints
 *   "RECV unique=N dups=N foreign=N p50_us=.. p99_us=.. p999_us=.. max_us=.."
 * Latency is receive time minus the sender's stamp, both CLOCK_MONOTONIC:
 * namespaces on one machine share that clock.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench-wire.h"

#define RECV_BATCH 64
#define RECV_SLOT 2048          /* larger than any bench datagram */
/* Room for a 100k pps burst while the receiver is descheduled. */
#define RECV_BUFFER_BYTES (8 * 1024 * 1024)
#define NS_PER_MS 1000000ull
#define NS_PER_US 1000.0

static int
cmp_u64(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
  return x < y ? -1 : x > y;
}

static double
percentile_us(const uint64_t *sorted, size_t n, double p)
{
  if (n == 0)
    return -1;
  size_t i = (size_t) (p * (double) (n - 1) + 0.5);
  return (double) sorted[i] / NS_PER_US;
}

static int
open_socket(unsigned port)
{
  int fd = socket(AF_INET, SOCK_DGRAM, 0), on = 1, size = RECV_BUFFER_BYTES;
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
      bind(fd, (struct sockaddr *) &sin, sizeof sin) < 0) {
    perror("ss-bench-recv: socket");
    exit(1);
  }
  /* As root the buffer may exceed net.core.rmem_max. */
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  return fd;
}

int
main(int argc, char **argv)
{
  unsigned port = BENCH_PVA_PORT;
  uint32_t run_id = 1;
  uint64_t expect = 0;
  double seconds = 60, idle_ms = 1000;
  static const struct option opts[] = {
    { "expect", 1, NULL, 'e' }, { "port", 1, NULL, 'p' }, { "run-id", 1, NULL, 'i' },
    { "seconds", 1, NULL, 't' }, { "idle-ms", 1, NULL, 'w' }, { NULL, 0, NULL, 0 }
  };
  for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
    switch (c) {
    case 'e': expect = strtoull(optarg, NULL, 0); break;
    case 'p': port = (unsigned) atoi(optarg); break;
    case 'i': run_id = (uint32_t) strtoul(optarg, NULL, 0); break;
    case 't': seconds = atof(optarg); break;
    case 'w': idle_ms = atof(optarg); break;
    default: fprintf(stderr, "usage: ss-bench-recv --expect N [--port P] [--run-id N] "
                             "[--seconds S] [--idle-ms MS]\n");
      return 2;
    }
  }
  if (expect == 0)
    return 2;
  int fd = open_socket(port);
  uint8_t *seen = calloc(expect, 1);
  uint64_t *lat = calloc(expect, sizeof *lat);
  static uint8_t bufs[RECV_BATCH][RECV_SLOT];
  struct iovec iov[RECV_BATCH];
  struct mmsghdr msgs[RECV_BATCH];
  for (int i = 0; i < RECV_BATCH; i++) {
    iov[i] = (struct iovec) { bufs[i], RECV_SLOT };
    msgs[i].msg_hdr = (struct msghdr) { .msg_iov = &iov[i], .msg_iovlen = 1 };
  }
  printf("READY\n");
  fflush(stdout);

  uint64_t unique = 0, dups = 0, foreign = 0, last = 0;
  const uint64_t end = bench_now_ns() + (uint64_t) (seconds * 1e9);
  for (;;) {
    uint64_t now = bench_now_ns();
    if (now >= end || (last && now - last >= (uint64_t) (idle_ms * NS_PER_MS)) || unique == expect)
      break;
    struct pollfd pfd = { fd, POLLIN, 0 };
    if (poll(&pfd, 1, 10) <= 0)
      continue;
    int n = recvmmsg(fd, msgs, RECV_BATCH, MSG_DONTWAIT, NULL);
    now = bench_now_ns();
    for (int i = 0; i < n; i++) {
      const uint8_t *p = bufs[i];
      if (msgs[i].msg_len < BENCH_OFF_NAME + BENCH_STAMP_LEN ||
          memcmp(p + BENCH_OFF_STAMP_MAGIC, BENCH_STAMP_MAGIC, 4) != 0 ||
          bench_get_le(p + BENCH_OFF_RUN_ID, 4) != run_id) {
        foreign++;
        continue;
      }
      uint64_t seq = bench_get_le(p + BENCH_OFF_SEQ, 4);
      if (seq >= expect) {
        foreign++;
        continue;
      }
      if (seen[seq]) {
        dups++;
        continue;
      }
      seen[seq] = 1;
      lat[unique++] = now - bench_get_le(p + BENCH_OFF_SENT_NS, 8);
      last = now;
    }
  }
  qsort(lat, unique, sizeof *lat, cmp_u64);
  printf("RECV unique=%llu dups=%llu foreign=%llu p50_us=%.1f p99_us=%.1f p999_us=%.1f "
         "max_us=%.1f\n",
         (unsigned long long) unique, (unsigned long long) dups, (unsigned long long) foreign,
         percentile_us(lat, unique, 0.50), percentile_us(lat, unique, 0.99),
         percentile_us(lat, unique, 0.999), unique ? (double) lat[unique - 1] / NS_PER_US : -1);
  free(seen);
  free(lat);
  close(fd);
  return 0;
}
