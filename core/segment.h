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

/* Opens the socket on @ifname with a kernel filter passing only Ethernet
 * broadcast IPv4 UDP frames to one of @ports (and IPv4 fragments, whose
 * ports are only known after reassembly). */
ss_segment *ss_segment_open(const char *ifname, const uint16_t *ports, unsigned n_ports,
                            GError **error);
void ss_segment_close(ss_segment *seg);

int ss_segment_get_fd(const ss_segment *seg);
int ss_segment_get_ifindex(const ss_segment *seg);
const char *ss_segment_get_ifname(const ss_segment *seg);
/* The interface MTU (IP datagram size), read at open. */
unsigned ss_segment_get_mtu(const ss_segment *seg);

/* Reads one frame without blocking: its length, 0 when none is queued, -1 on
 * error (errno set).  Frames longer than @cap are reported truncated with
 * *truncated set. */
ssize_t ss_segment_recv(ss_segment *seg, uint8_t *buf, size_t cap, gboolean *truncated);

/* Sends one whole Ethernet frame on the segment; FALSE with errno set. */
gboolean ss_segment_send(ss_segment *seg, const uint8_t *frame, size_t len);

/* Builds the classic BPF program (exposed for tests).  Returns the number
 * of instructions written to @prog (at most @cap), 0 if it does not fit. */
unsigned ss_segment_build_bpf(const uint16_t *ports, unsigned n_ports, struct sock_filter *prog,
                              unsigned cap);

#endif
