/* ss-bench-send - sends stamped PVA search broadcasts at a fixed rate.
 *
 *   ss-bench-send --src ADDR --rate PPS --seconds S [--dest ADDR] [--port P]
 *                 [--run-id N] [--name-len N]
 *
 * --rate 0 sends flat out.  Pacing follows absolute deadlines: whatever is
 * due is sent in one sendmmsg() (at 100k pps the sleep granularity makes
 * that a few datagrams), each stamped with the time it was handed to the
 * kernel.  Prints "SENT count=N seconds=S rate=R errors=E".
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench-wire.h"

/* Datagrams handed to one sendmmsg(). */
#define SEND_BATCH 64
#define NS_PER_S 1000000000ull
#define PAYLOAD_MAX (BENCH_OFF_NAME + BENCH_NAME_LEN_MAX)

static void
usage(void)
{
  fprintf(stderr, "usage: ss-bench-send --src ADDR --rate PPS --seconds S [--dest ADDR] "
                  "[--port P] [--run-id N] [--name-len N]\n");
  exit(2);
}

static int
open_socket(const char *src, const char *dest, unsigned port, struct sockaddr_in *to)
{
  int fd = socket(AF_INET, SOCK_DGRAM, 0), on = 1;
  struct sockaddr_in from = { .sin_family = AF_INET };
  *to = (struct sockaddr_in) { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
  if (fd < 0 || inet_pton(AF_INET, src, &from.sin_addr) != 1 ||
      inet_pton(AF_INET, dest, &to->sin_addr) != 1 ||
      setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof on) < 0 ||
      bind(fd, (struct sockaddr *) &from, sizeof from) < 0) {
    perror("ss-bench-send: socket");
    exit(1);
  }
  return fd;
}

int
main(int argc, char **argv)
{
  const char *src = NULL, *dest = "255.255.255.255";
  unsigned port = BENCH_PVA_PORT, name_len = BENCH_NAME_LEN_DEFAULT;
  double rate = -1, seconds = 0;
  uint32_t run_id = 1;
  static const struct option opts[] = {
    { "src", 1, NULL, 's' }, { "dest", 1, NULL, 'd' }, { "port", 1, NULL, 'p' },
    { "rate", 1, NULL, 'r' }, { "seconds", 1, NULL, 't' }, { "run-id", 1, NULL, 'i' },
    { "name-len", 1, NULL, 'n' }, { NULL, 0, NULL, 0 }
  };
  for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
    switch (c) {
    case 's': src = optarg; break;
    case 'd': dest = optarg; break;
    case 'p': port = (unsigned) atoi(optarg); break;
    case 'r': rate = atof(optarg); break;
    case 't': seconds = atof(optarg); break;
    case 'i': run_id = (uint32_t) strtoul(optarg, NULL, 0); break;
    case 'n': name_len = (unsigned) atoi(optarg); break;
    default: usage();
    }
  }
  if (!src || rate < 0 || seconds <= 0 || name_len < BENCH_STAMP_LEN || name_len > BENCH_NAME_LEN_MAX)
    usage();
  struct sockaddr_in to;
  int fd = open_socket(src, dest, port, &to);

  static uint8_t bufs[SEND_BATCH][PAYLOAD_MAX];
  struct iovec iov[SEND_BATCH];
  struct mmsghdr msgs[SEND_BATCH];
  size_t len = 0;
  for (int i = 0; i < SEND_BATCH; i++) {
    len = bench_build(bufs[i], name_len, run_id);
    iov[i] = (struct iovec) { bufs[i], len };
    msgs[i].msg_hdr = (struct msghdr) { .msg_name = &to, .msg_namelen = sizeof to,
                                        .msg_iov = &iov[i], .msg_iovlen = 1 };
  }

  const uint64_t start = bench_now_ns(), end = start + (uint64_t) (seconds * NS_PER_S);
  uint64_t sent = 0, errors = 0, now;
  while ((now = bench_now_ns()) < end) {
    uint64_t due = SEND_BATCH;
    if (rate > 0) {
      due = (uint64_t) ((double) (now - start) * rate / NS_PER_S) + 1 - sent;
      if (due == 0) {
        /* Sleep until the next datagram is due, by the absolute clock. */
        uint64_t next = start + (uint64_t) ((double) sent * NS_PER_S / rate);
        struct timespec ts = { (time_t) (next / NS_PER_S), (long) (next % NS_PER_S) };
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        continue;
      }
      if (due > SEND_BATCH)
        due = SEND_BATCH;
    }
    for (uint64_t i = 0; i < due; i++)
      bench_stamp(bufs[i], (uint32_t) (sent + i), now);
    int n = sendmmsg(fd, msgs, (unsigned) due, 0);
    if (n <= 0) {
      errors++;
      /* Nothing was sent: a full queue; the sequence number is not used. */
      continue;
    }
    sent += (uint64_t) n;
  }
  double elapsed = (double) (bench_now_ns() - start) / NS_PER_S;
  printf("SENT count=%llu seconds=%.3f rate=%.0f errors=%llu\n", (unsigned long long) sent,
         elapsed, (double) sent / elapsed, (unsigned long long) errors);
  close(fd);
  return 0;
}
