/* snowsignal - UDP broadcast relay
 * test-fragment.c: IPv4 reassembly (re-fragmentation is in
 * test-refragment.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>

#include "frame.h"
#include "fragment.h"
#include "frame-builder.h"

#define TIMEOUT_US  (30 * G_USEC_PER_SEC)
#define MAX_PAYLOAD (65535 - 20 - 8)

/* Router alert (copied), then a record-route-like option (not copied),
 * then a NOP: 12 bytes. */
static const uint8_t options[] = { 0x94, 0x04, 0x00, 0x00, 0x07, 0x07, 0x04,
                                   0x00, 0x00, 0x00, 0x00, 0x01 };

/* Larger than any datagram may be, so the size limit is the reassembler's
 * own, not the output buffer's. */
static uint8_t out[SS_FRAME_MAX + 64];

static uint8_t *
whole_frame(size_t payload_len, gboolean with_options, uint16_t id, size_t *len)
{
  return ss_fb_whole(payload_len, with_options ? options : NULL,
                     with_options ? sizeof options : 0, id, len);
}

/* Feeds the fragment of @whole covering [@off, @off + @n) of its IP payload. */
static ss_reasm_result
feed(ss_reassembler *r, const uint8_t *whole, size_t off, size_t n, gboolean more,
     int64_t now, size_t *out_len)
{
  static uint8_t frag[SS_FRAME_MAX];
  ss_packet pkt;
  size_t len = ss_fb_fragment(whole, off, n, more, frag, sizeof frag);
  g_assert_cmpint(ss_packet_parse(&pkt, frag, len, SS_DIRECTION_OUTBOUND), ==,
                  SS_PARSE_FRAGMENT);
  return ss_reassembler_add(r, &pkt, now, out, sizeof out, out_len);
}

static void
test_in_order(void)
{
  size_t len, out_len;
  uint8_t *whole = whole_frame(3000, TRUE, 1, &len);
  ss_reassembler *r = ss_reassembler_new(1 << 20, 8, TIMEOUT_US);
  g_assert_cmpint(feed(r, whole, 0, 1480, TRUE, 0, &out_len), ==, SS_REASM_PENDING);
  g_assert_cmpint(ss_reassembler_pending(r), ==, 1);
  g_assert_cmpint(feed(r, whole, 1480, 1480, TRUE, 1, &out_len), ==, SS_REASM_PENDING);
  g_assert_cmpint(feed(r, whole, 2960, 48, FALSE, 2, &out_len), ==, SS_REASM_COMPLETE);
  g_assert_cmpmem(out, out_len, whole, len);
  g_assert_cmpint(ss_reassembler_pending(r), ==, 0);
  g_assert_cmpint(ss_reassembler_next_deadline(r), ==, -1);
  g_assert_cmpuint(ss_reassembler_get_counters(r)->completed, ==, 1);
  ss_reassembler_free(r);
  g_free(whole);
}

static void
test_out_of_order_and_duplicates(void)
{
  size_t len, out_len;
  uint8_t *whole = whole_frame(1000, FALSE, 2, &len);
  ss_reassembler *r = ss_reassembler_new(1 << 20, 8, TIMEOUT_US);
  g_assert_cmpint(feed(r, whole, 800, 208, FALSE, 0, &out_len), ==, SS_REASM_PENDING);
  g_assert_cmpint(feed(r, whole, 400, 400, TRUE, 0, &out_len), ==, SS_REASM_PENDING);
  g_assert_cmpint(feed(r, whole, 400, 400, TRUE, 0, &out_len), ==, SS_REASM_PENDING);
  g_assert_cmpint(feed(r, whole, 800, 208, FALSE, 0, &out_len), ==, SS_REASM_PENDING);
  /* Overlaps two held fragments with the same bytes: accepted. */
  g_assert_cmpint(feed(r, whole, 392, 16, TRUE, 0, &out_len), ==, SS_REASM_PENDING);
  g_assert_cmpint(feed(r, whole, 0, 400, TRUE, 0, &out_len), ==, SS_REASM_COMPLETE);
  g_assert_cmpmem(out, out_len, whole, len);
  const ss_reasm_counters *c = ss_reassembler_get_counters(r);
  g_assert_cmpuint(c->duplicates, ==, 2);
  g_assert_cmpuint(c->completed, ==, 1);
  ss_reassembler_free(r);
  g_free(whole);
}

static void
test_overlap_disagrees(void)
{
  size_t len, out_len;
  uint8_t *whole = whole_frame(1000, FALSE, 3, &len);
  ss_reassembler *r = ss_reassembler_new(1 << 20, 8, TIMEOUT_US);
  g_assert_cmpint(feed(r, whole, 0, 400, TRUE, 0, &out_len), ==, SS_REASM_PENDING);
  whole[SS_ETH_HLEN + 20 + 399] ^= 1;
  g_assert_cmpint(feed(r, whole, 392, 400, TRUE, 0, &out_len), ==, SS_REASM_DROPPED);
  g_assert_cmpuint(ss_reassembler_get_counters(r)->dropped_overlap, ==, 1);
  g_assert_cmpint(ss_reassembler_pending(r), ==, 0);
  ss_reassembler_free(r);
  g_free(whole);
}

static void
test_malformed(void)
{
  size_t len, out_len;
  uint8_t *whole = whole_frame(1000, FALSE, 4, &len);
  ss_reassembler *r = ss_reassembler_new(1 << 20, 8, TIMEOUT_US);
  /* Not the last, yet not a multiple of 8 bytes. */
  g_assert_cmpint(feed(r, whole, 0, 401, TRUE, 0, &out_len), ==, SS_REASM_DROPPED);
  /* A last fragment ending before data already held. */
  g_assert_cmpint(feed(r, whole, 400, 400, TRUE, 0, &out_len), ==, SS_REASM_PENDING);
  g_assert_cmpint(feed(r, whole, 200, 200, FALSE, 0, &out_len), ==, SS_REASM_DROPPED);
  g_assert_cmpuint(ss_reassembler_get_counters(r)->dropped_malformed, ==, 2);
  g_assert_cmpint(ss_reassembler_pending(r), ==, 0);
  /* Data past the end a last fragment announced. */
  g_assert_cmpint(feed(r, whole, 800, 208, FALSE, 0, &out_len), ==, SS_REASM_PENDING);
  g_assert_cmpint(feed(r, whole, 1008, 8, TRUE, 0, &out_len), ==, SS_REASM_DROPPED);
  /* Two last fragments that disagree on the end. */
  g_assert_cmpint(feed(r, whole, 800, 208, FALSE, 0, &out_len), ==, SS_REASM_PENDING);
  g_assert_cmpint(feed(r, whole, 400, 400, FALSE, 0, &out_len), ==, SS_REASM_DROPPED);
  g_assert_cmpuint(ss_reassembler_get_counters(r)->dropped_malformed, ==, 4);
  g_assert_cmpint(ss_reassembler_pending(r), ==, 0);
  ss_reassembler_free(r);
  g_free(whole);
}

static void
test_timeout(void)
{
  size_t len, out_len;
  uint8_t *whole = whole_frame(1000, FALSE, 5, &len);
  ss_reassembler *r = ss_reassembler_new(1 << 20, 8, TIMEOUT_US);
  g_assert_cmpint(ss_reassembler_next_deadline(r), ==, -1);
  g_assert_cmpint(feed(r, whole, 0, 400, TRUE, 1000, &out_len), ==, SS_REASM_PENDING);
  g_assert_cmpint(ss_reassembler_next_deadline(r), ==, 1000 + TIMEOUT_US);
  g_assert_cmpuint(ss_reassembler_expire(r, 999 + TIMEOUT_US), ==, 0);
  g_assert_cmpuint(ss_reassembler_expire(r, 1000 + TIMEOUT_US), ==, 1);
  g_assert_cmpuint(ss_reassembler_get_counters(r)->timed_out, ==, 1);
  g_assert_cmpint(ss_reassembler_next_deadline(r), ==, -1);

  /* Late arrivals start a new datagram, which also times out, implicitly. */
  int64_t t = 2 * TIMEOUT_US;
  g_assert_cmpint(feed(r, whole, 400, 400, TRUE, t, &out_len), ==, SS_REASM_PENDING);
  g_assert_cmpint(feed(r, whole, 800, 208, FALSE, t + TIMEOUT_US, &out_len), ==,
                  SS_REASM_PENDING);
  g_assert_cmpuint(ss_reassembler_get_counters(r)->timed_out, ==, 2);
  g_assert_cmpuint(ss_reassembler_get_counters(r)->completed, ==, 0);
  ss_reassembler_free(r);
  g_free(whole);
}

static void
test_memory_bound(void)
{
  size_t len_a, len_b, out_len;
  uint8_t *a = whole_frame(6000, FALSE, 6, &len_a);
  uint8_t *b = whole_frame(6000, FALSE, 7, &len_b);
  ss_reassembler *r = ss_reassembler_new(8192, 8, TIMEOUT_US);
  g_assert_cmpint(feed(r, a, 0, 4000, TRUE, 0, &out_len), ==, SS_REASM_PENDING);
  g_assert_cmpint(feed(r, b, 0, 4000, TRUE, 1, &out_len), ==, SS_REASM_PENDING);
  g_assert_cmpuint(ss_reassembler_memory(r), <=, 8192);
  /* b needs more than what is left beside a: a, the oldest, goes. */
  g_assert_cmpint(feed(r, b, 4000, 2008, FALSE, 2, &out_len), ==, SS_REASM_COMPLETE);
  g_assert_cmpmem(out, out_len, b, len_b);
  g_assert_cmpuint(ss_reassembler_memory(r), <=, 8192);
  g_assert_cmpuint(ss_reassembler_get_counters(r)->dropped_evicted, ==, 1);
  g_assert_cmpint(ss_reassembler_pending(r), ==, 0);
  ss_reassembler_free(r);

  /* A fragment larger than the whole bound fits nowhere. */
  r = ss_reassembler_new(1024, 8, TIMEOUT_US);
  g_assert_cmpint(feed(r, a, 0, 4000, TRUE, 0, &out_len), ==, SS_REASM_DROPPED);
  g_assert_cmpuint(ss_reassembler_get_counters(r)->dropped_no_room, ==, 1);
  g_assert_cmpuint(ss_reassembler_memory(r), ==, 0);
  ss_reassembler_free(r);
  g_free(a);
  g_free(b);
}

static void
test_datagram_bound(void)
{
  size_t len, out_len;
  uint8_t *w[3];
  for (unsigned i = 0; i < 3; i++)
    w[i] = whole_frame(100, FALSE, (uint16_t) (10 + i), &len);
  ss_reassembler *r = ss_reassembler_new(1 << 20, 2, TIMEOUT_US);
  for (unsigned i = 0; i < 3; i++)
    g_assert_cmpint(feed(r, w[i], 0, 64, TRUE, i, &out_len), ==, SS_REASM_PENDING);
  g_assert_cmpint(ss_reassembler_pending(r), ==, 2);
  g_assert_cmpuint(ss_reassembler_get_counters(r)->dropped_evicted, ==, 1);
  /* The first was evicted: its tail alone cannot complete it. */
  g_assert_cmpint(feed(r, w[0], 64, 44, FALSE, 3, &out_len), ==, SS_REASM_PENDING);
  g_assert_cmpint(feed(r, w[2], 64, 44, FALSE, 4, &out_len), ==, SS_REASM_COMPLETE);
  g_assert_cmpmem(out, out_len, w[2], len);
  ss_reassembler_free(r);
  for (unsigned i = 0; i < 3; i++)
    g_free(w[i]);
}

static void
test_too_big(void)
{
  size_t len, out_len;
  uint8_t *whole = whole_frame(MAX_PAYLOAD, FALSE, 8, &len);
  g_assert_cmpuint(len, ==, SS_FRAME_MAX);
  ss_reassembler *r = ss_reassembler_new(1 << 20, 8, TIMEOUT_US);
  /* The largest datagram IPv4 allows reassembles. */
  size_t data = MAX_PAYLOAD + 8, off;
  for (off = 0; off + 8000 < data; off += 8000)
    g_assert_cmpint(feed(r, whole, off, 8000, TRUE, 0, &out_len), ==, SS_REASM_PENDING);
  g_assert_cmpint(feed(r, whole, off, data - off, FALSE, 0, &out_len), ==,
                  SS_REASM_COMPLETE);
  g_assert_cmpmem(out, out_len, whole, len);

  /* One byte past it is refused, whole datagram with it. */
  static uint8_t frag[SS_FRAME_MAX];
  ss_packet pkt;
  g_assert_cmpint(feed(r, whole, 0, 8000, TRUE, 0, &out_len), ==, SS_REASM_PENDING);
  size_t flen = ss_fb_fragment(whole, 65512, 8, FALSE, frag, sizeof frag);
  ss_packet_parse(&pkt, frag, flen, SS_DIRECTION_OUTBOUND);
  g_assert_cmpint(pkt.ip_total_len, ==, 28);
  g_assert_cmpint(ss_reassembler_add(r, &pkt, 0, out, sizeof out, &out_len), ==,
                  SS_REASM_DROPPED);
  g_assert_cmpuint(ss_reassembler_get_counters(r)->dropped_too_big, ==, 1);
  g_assert_cmpint(ss_reassembler_pending(r), ==, 0);
  ss_reassembler_free(r);
  g_free(whole);
}

/* Options make the first header longer than the rest: fragments that each
 * fit IPv4 can still add up past 65535. */
static void
test_too_big_with_options(void)
{
  size_t len, out_len;
  uint8_t *whole = whole_frame(MAX_PAYLOAD - sizeof options, TRUE, 9, &len);
  uint8_t *plain = whole_frame(MAX_PAYLOAD, FALSE, 9, &len);
  ss_reassembler *r = ss_reassembler_new(1 << 20, 8, TIMEOUT_US);
  g_assert_cmpint(feed(r, whole, 0, 8000, TRUE, 0, &out_len), ==, SS_REASM_PENDING);
  g_assert_cmpint(feed(r, plain, 8000, MAX_PAYLOAD + 8 - 8000, FALSE, 0, &out_len), ==,
                  SS_REASM_DROPPED);
  g_assert_cmpuint(ss_reassembler_get_counters(r)->dropped_too_big, ==, 1);
  ss_reassembler_free(r);
  g_free(whole);
  g_free(plain);
}

static void
test_output_too_small(void)
{
  static uint8_t frag[SS_FRAME_MAX];
  size_t len, out_len, flen;
  ss_packet pkt;
  uint8_t *whole = whole_frame(1000, FALSE, 12, &len);
  ss_reassembler *r = ss_reassembler_new(1 << 20, 8, TIMEOUT_US);
  g_assert_cmpint(feed(r, whole, 0, 400, TRUE, 0, &out_len), ==, SS_REASM_PENDING);
  flen = ss_fb_fragment(whole, 400, 608, FALSE, frag, sizeof frag);
  ss_packet_parse(&pkt, frag, flen, SS_DIRECTION_OUTBOUND);
  g_assert_cmpint(ss_reassembler_add(r, &pkt, 0, out, len - 1, &out_len), ==,
                  SS_REASM_DROPPED);
  g_assert_cmpuint(out_len, ==, 0);
  g_assert_cmpuint(ss_reassembler_get_counters(r)->dropped_too_big, ==, 1);
  ss_reassembler_free(r);
  g_free(whole);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/fragment/reasm/in-order", test_in_order);
  g_test_add_func("/fragment/reasm/out-of-order-duplicates", test_out_of_order_and_duplicates);
  g_test_add_func("/fragment/reasm/overlap-disagrees", test_overlap_disagrees);
  g_test_add_func("/fragment/reasm/malformed", test_malformed);
  g_test_add_func("/fragment/reasm/timeout", test_timeout);
  g_test_add_func("/fragment/reasm/memory-bound", test_memory_bound);
  g_test_add_func("/fragment/reasm/datagram-bound", test_datagram_bound);
  g_test_add_func("/fragment/reasm/too-big", test_too_big);
  g_test_add_func("/fragment/reasm/too-big-with-options", test_too_big_with_options);
  g_test_add_func("/fragment/reasm/output-too-small", test_output_too_small);
  return g_test_run();
}
