/* snowsignal - UDP broadcast relay
 * fuzz-reassembly.c: a sequence of frames fed to one small reassembler,
 * with time passing between them.
 *
 * Input: records of [time step, 1 byte][frame length, 2 bytes big-endian]
 * [frame].  The time step is in milliseconds; the reassembler times out
 * after TIMEOUT_MS, so a few large steps exercise expiry.  Its bounds are
 * small so eviction is reached too.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>

#include "frame.h"
#include "fragment.h"
#include "fuzz.h"

#define RECORD_HLEN     3
#define TIMEOUT_MS      200
#define MAX_BYTES       (24 * 1024)
#define MAX_DATAGRAMS   3

static uint8_t out[SS_FRAME_MAX];

/* What must hold after every step, whatever the input. */
static void
check_bounds(const ss_reassembler *r)
{
  unsigned pending = ss_reassembler_pending(r);
  FUZZ_CHECK(pending <= MAX_DATAGRAMS);
  FUZZ_CHECK(ss_reassembler_memory(r) <= MAX_BYTES);
  FUZZ_CHECK((ss_reassembler_next_deadline(r) == -1) == (pending == 0));
}

/* A completed datagram is a consistent IPv4 frame of one piece. */
static void
check_output(size_t out_len)
{
  FUZZ_CHECK(out_len > SS_ETH_HLEN + SS_IPV4_MIN_HLEN && out_len <= sizeof out);
  const uint8_t *ip = out + SS_ETH_HLEN;
  unsigned hl = (ip[SS_IPV4_OFF_VER_IHL] & SS_IPV4_IHL_MASK) * SS_IPV4_IHL_UNIT;
  FUZZ_CHECK(ss_get_be16(ip + SS_IPV4_OFF_TOTLEN) == out_len - SS_ETH_HLEN);
  FUZZ_CHECK((ss_get_be16(ip + SS_IPV4_OFF_FRAG) & (SS_IPV4_FLAG_MF | SS_IPV4_OFFSET_MASK)) == 0);
  FUZZ_CHECK(ss_ipv4_header_checksum(ip, hl) == ss_get_be16(ip + SS_IPV4_OFF_CSUM));
  ss_packet pkt;
  ss_parse_result res = ss_packet_parse(&pkt, out, out_len, SS_DIRECTION_INBOUND);
  FUZZ_CHECK(res == SS_PARSE_OK || res == SS_PARSE_BAD_UDP_LENGTH);
}

static void
feed(ss_reassembler *r, const uint8_t *data, size_t len, int64_t now)
{
  /* An exact-size copy, so the sanitizer sees any read past the end. */
  uint8_t *frame = g_memdup2(data, len);
  ss_packet pkt;
  ss_parse_result res = ss_packet_parse(&pkt, frame, len, SS_DIRECTION_OUTBOUND);
  if (res == SS_PARSE_FRAGMENT) {
    size_t out_len = 0;
    if (ss_reassembler_add(r, &pkt, now, out, sizeof out, &out_len) == SS_REASM_COMPLETE)
      check_output(out_len);
    else
      FUZZ_CHECK(out_len == 0);
  }
  g_free(frame);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  ss_reassembler *r = ss_reassembler_new(MAX_BYTES, MAX_DATAGRAMS,
                                         TIMEOUT_MS * G_TIME_SPAN_MILLISECOND);
  int64_t now = 0;
  size_t pos = 0;
  while (size - pos >= RECORD_HLEN) {
    now += data[pos] * G_TIME_SPAN_MILLISECOND;
    size_t len = MIN(ss_get_be16(data + pos + 1), size - pos - RECORD_HLEN);
    pos += RECORD_HLEN;
    feed(r, data + pos, len, now);
    pos += len;
    check_bounds(r);
  }
  int64_t deadline = ss_reassembler_next_deadline(r);
  if (deadline >= 0) {
    ss_reassembler_expire(r, deadline);
    FUZZ_CHECK(ss_reassembler_next_deadline(r) == -1 || ss_reassembler_next_deadline(r) > deadline);
  }
  const ss_reasm_counters *c = ss_reassembler_get_counters(r);
  FUZZ_CHECK(c->completed <= size);
  ss_reassembler_free(r);
  return 0;
}
