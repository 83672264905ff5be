/* snowsignal - UDP broadcast relay
 * fragment.h: IPv4 reassembly before the chains, and re-fragmentation to
 * the segment's MTU on emit (internal, not installed).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SNOWSIGNAL_CORE_FRAGMENT_H
#define SNOWSIGNAL_CORE_FRAGMENT_H

#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include <snowsignal/packet.h>

G_BEGIN_DECLS

typedef struct ss_reassembler ss_reassembler;

typedef enum {
  SS_REASM_COMPLETE = 0, /* the output holds the whole datagram */
  SS_REASM_PENDING,      /* held; more fragments are needed */
  SS_REASM_DROPPED       /* refused, and its datagram (if held) discarded */
} ss_reasm_result;

/* Why datagrams went or fragments were refused, since creation. */
typedef struct {
  uint64_t completed;
  uint64_t timed_out;
  uint64_t duplicates;        /* fragments already held, identical: ignored */
  uint64_t dropped_overlap;   /* overlapping fragments disagreed */
  uint64_t dropped_too_big;   /* datagram past 65535 bytes or the output buffer */
  uint64_t dropped_malformed; /* fragment lengths or ends that contradict */
  uint64_t dropped_evicted;   /* pending datagrams evicted to make room */
  uint64_t dropped_no_room;   /* fragments that fit nowhere under the bounds */
} ss_reasm_counters;

/* A reassembler holding at most @max_datagrams datagrams in progress and
 * at most @max_bytes of fragment data (buffers are kept between datagrams
 * and released only under memory pressure, so steady state allocates
 * nothing).  Bookkeeping of about 1 KiB per datagram slot is allocated up
 * front and not counted in @max_bytes.  A datagram not complete
 * @timeout_us after its first fragment arrived is dropped. */
ss_reassembler *ss_reassembler_new(size_t max_bytes, unsigned max_datagrams,
                                   int64_t timeout_us);
void ss_reassembler_free(ss_reassembler *r);

/* Adds @fragment, a packet ss_packet_parse() reported as SS_PARSE_FRAGMENT.
 * Datagrams are told apart by (source, destination, id, protocol).  On
 * SS_REASM_COMPLETE, @out_frame holds @out_len bytes: the first fragment's
 * Ethernet and IPv4 headers (options kept) with MF and the offset cleared,
 * the total length and header checksum fixed, then the whole IP payload;
 * the caller re-parses it.  A packet that is not a fragment at all is
 * copied out as complete.  Datagrams timed out at @now_us are dropped
 * first.  Making room for a new datagram evicts the oldest pending ones. */
ss_reasm_result ss_reassembler_add(ss_reassembler *r, const ss_packet *fragment,
                                   int64_t now_us, uint8_t *out_frame, size_t out_cap,
                                   size_t *out_len);

/* Drops the datagrams whose deadline is at or before @now_us; returns how
 * many. */
unsigned ss_reassembler_expire(ss_reassembler *r, int64_t now_us);

/* The earliest deadline of a pending datagram, or -1 when none is
 * pending: the caller keeps one timer armed only while this is set. */
int64_t ss_reassembler_next_deadline(const ss_reassembler *r);

/* Datagrams in progress, and bytes of buffer held against @max_bytes. */
unsigned ss_reassembler_pending(const ss_reassembler *r);
size_t ss_reassembler_memory(const ss_reassembler *r);

const ss_reasm_counters *ss_reassembler_get_counters(const ss_reassembler *r);

typedef void (*ss_fragment_emit_fn)(const uint8_t *frame, size_t len, void *user);

/* Emits @pkt (a parsed IPv4 frame, checksums already final) through @emit
 * as frames whose IP datagrams are at most @mtu bytes.  A datagram that
 * fits is emitted unchanged.  Otherwise fragments are built one at a time
 * in @scratch (@scratch_cap bytes; SS_ETH_HLEN + @mtu is enough): offsets
 * are multiples of 8, non-first fragments carry only the options with the
 * copied flag (RFC 791), and every header checksum is recomputed.  A
 * fragment can itself be re-fragmented.  Returns the number of frames
 * emitted, or -1 without emitting anything when DF is set and the datagram
 * does not fit, or when @mtu or @scratch_cap cannot hold a header and 8
 * bytes of data. */
int ss_frame_fragment(const ss_packet *pkt, unsigned mtu, uint8_t *scratch,
                      size_t scratch_cap, ss_fragment_emit_fn emit, void *user);

G_END_DECLS

#endif /* SNOWSIGNAL_CORE_FRAGMENT_H */
