/* snowsignal - UDP broadcast relay
 * test-refragment.c: splitting datagrams to the MTU on emit, checked
 * fragment by fragment and by reassembling the result.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>

#include "frame.h"
#include "fragment.h"
#include "frame-builder.h"

#define MAX_PAYLOAD (65535 - 20 - 8)

/* Router alert (copied, 4 bytes), a non-copied 7-byte option, a NOP. */
static const uint8_t options[] = { 0x94, 0x04, 0x00, 0x00, 0x07, 0x07, 0x04,
                                   0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t copied_only[] = { 0x94, 0x04, 0x00, 0x00 };

static uint8_t scratch[SS_FRAME_MAX];
static uint8_t out[SS_FRAME_MAX];

typedef struct {
  GPtrArray *frames;          /* GBytes, in emit order */
  const uint8_t *last_ptr;
} collector;

static void
collect(const uint8_t *frame, size_t len, void *user)
{
  collector *c = user;
  g_ptr_array_add(c->frames, g_bytes_new(frame, len));
  c->last_ptr = frame;
}

static void
collector_init(collector *c)
{
  c->frames = g_ptr_array_new_with_free_func((GDestroyNotify) g_bytes_unref);
  c->last_ptr = NULL;
}

static const uint8_t *
frame_at(const collector *c, unsigned i, size_t *len)
{
  return g_bytes_get_data(g_ptr_array_index(c->frames, i), len);
}

static int
split(uint8_t *frame, size_t len, unsigned mtu, collector *c)
{
  ss_packet pkt;
  ss_parse_result res = ss_packet_parse(&pkt, frame, len, SS_DIRECTION_INBOUND);
  g_assert_true(res == SS_PARSE_OK || res == SS_PARSE_FRAGMENT);
  return ss_frame_fragment(&pkt, mtu, scratch, sizeof scratch, collect, c);
}

/* Each fragment on its own: fits the MTU, valid checksum, the right
 * options, MF on all but the last; then all together reassemble to
 * @whole. */
static void
check_fragments(const collector *c, const uint8_t *whole, size_t whole_len, unsigned mtu,
                gboolean with_options)
{
  ss_reassembler *r = ss_reassembler_new(1 << 20, 4, G_USEC_PER_SEC);
  ss_reasm_result res = SS_REASM_PENDING;
  size_t out_len = 0, expect_off = 0;
  for (unsigned i = 0; i < c->frames->len; i++) {
    size_t len;
    const uint8_t *f = frame_at(c, i, &len);
    const uint8_t *ip = f + SS_ETH_HLEN;
    unsigned hl = (ip[0] & 0x0f) * 4u;
    uint16_t frag = ss_get_be16(ip + 6);
    g_assert_cmpuint(len - SS_ETH_HLEN, <=, mtu);
    g_assert_cmpuint(ss_get_be16(ip + 2), ==, len - SS_ETH_HLEN);
    g_assert_true(ss_fb_ip_csum_ok(f));
    g_assert_cmpmem(f, SS_ETH_HLEN, whole, SS_ETH_HLEN);
    g_assert_cmpuint((frag & 0x1fff) * 8u, ==, expect_off);
    g_assert_cmpint(!!(frag & 0x2000), ==, i + 1 < c->frames->len);
    if (i == 0 && with_options)
      g_assert_cmpmem(ip + 20, hl - 20, options, sizeof options);
    else if (with_options)
      g_assert_cmpmem(ip + 20, hl - 20, copied_only, sizeof copied_only);
    else
      g_assert_cmpuint(hl, ==, 20);
    expect_off += len - SS_ETH_HLEN - hl;

    ss_packet pkt;
    g_assert_cmpint(ss_packet_parse(&pkt, (uint8_t *) f, len, SS_DIRECTION_INBOUND), ==,
                    SS_PARSE_FRAGMENT);
    g_assert_cmpint(res, ==, SS_REASM_PENDING);
    res = ss_reassembler_add(r, &pkt, 0, out, sizeof out, &out_len);
  }
  g_assert_cmpint(res, ==, SS_REASM_COMPLETE);
  g_assert_cmpmem(out, out_len, whole, whole_len);
  ss_reassembler_free(r);
}

static void
round_trip(size_t payload_len, gboolean with_options, unsigned mtu)
{
  collector c;
  size_t len;
  uint8_t *whole = ss_fb_whole(payload_len, with_options ? options : NULL,
                               with_options ? sizeof options : 0, 42, &len);
  collector_init(&c);
  int n = split(whole, len, mtu, &c);
  g_assert_cmpint(n, ==, (int) c.frames->len);
  g_assert_cmpint(n, >, 1);
  check_fragments(&c, whole, len, mtu, with_options);
  g_ptr_array_unref(c.frames);
  g_free(whole);
}

/* The public entry for transports: the packet as captured (UDP checksum
 * left partial, as on veth) is untouched, and what comes out is the
 * fragments of the datagram with a correct UDP checksum. */
static void
test_public_entry(void)
{
  collector c;
  size_t len;
  uint8_t *whole = ss_fb_whole(3000, NULL, 0, 7, &len);
  g_assert_true(ss_fb_udp_csum_ok(whole));
  uint8_t *captured = g_memdup2(whole, len);
  uint8_t *udp = captured + SS_ETH_HLEN + SS_IPV4_MIN_HLEN;
  ss_put_be16(udp + 6, 0x1234);  /* a partial checksum */
  uint8_t *before = g_memdup2(captured, len);
  ss_packet pkt;
  g_assert_cmpint(ss_packet_parse(&pkt, captured, len, SS_DIRECTION_OUTBOUND), ==, SS_PARSE_OK);
  collector_init(&c);
  int n = ss_packet_fragment(&pkt, 1500, collect, &c);
  g_assert_cmpint(n, ==, 3);
  g_assert_cmpint(n, ==, (int) c.frames->len);
  g_assert_cmpmem(captured, len, before, len);
  check_fragments(&c, whole, len, 1500, FALSE);
  g_ptr_array_unref(c.frames);

  /* Fits: handed over whole.  DF and a too small MTU: -1, nothing. */
  collector_init(&c);
  g_assert_cmpint(ss_packet_fragment(&pkt, 9000, collect, &c), ==, 1);
  g_assert_cmpuint(c.frames->len, ==, 1);
  g_assert_cmpint(ss_packet_fragment(&pkt, 67, collect, &c), ==, -1);
  uint8_t *ip = captured + SS_ETH_HLEN;
  ss_put_be16(ip + 6, SS_IPV4_FLAG_DF);
  g_assert_cmpint(ss_packet_parse(&pkt, captured, len, SS_DIRECTION_OUTBOUND), ==, SS_PARSE_OK);
  g_assert_cmpint(ss_packet_fragment(&pkt, 1500, collect, &c), ==, -1);
  g_assert_cmpuint(c.frames->len, ==, 1);
  g_ptr_array_unref(c.frames);
  g_free(before);
  g_free(captured);
  g_free(whole);
}

static void
test_round_trips(void)
{
  static const size_t sizes[] = { 1473, 3000, 9000, MAX_PAYLOAD };
  static const unsigned mtus[] = { 1500, 576, 68 };
  for (size_t s = 0; s < G_N_ELEMENTS(sizes); s++)
    for (size_t m = 0; m < G_N_ELEMENTS(mtus); m++) {
      round_trip(sizes[s], FALSE, mtus[m]);
      round_trip(sizes[s] - sizeof options, TRUE, mtus[m]);
    }
}

/* The exact layout for one case, so offsets are checked against numbers
 * worked out by hand rather than against the code's own arithmetic. */
static void
test_exact_layout(void)
{
  static const unsigned totals[] = { 1500, 1500, 68 };
  static const unsigned offsets[] = { 0, 185, 370 };
  collector c;
  size_t len;
  uint8_t *whole = ss_fb_whole(3000, NULL, 0, 1, &len);
  collector_init(&c);
  g_assert_cmpint(split(whole, len, 1500, &c), ==, 3);
  for (unsigned i = 0; i < 3; i++) {
    size_t flen;
    const uint8_t *ip = frame_at(&c, i, &flen) + SS_ETH_HLEN;
    g_assert_cmpuint(ss_get_be16(ip + 2), ==, totals[i]);
    g_assert_cmpuint(ss_get_be16(ip + 6), ==, offsets[i] | (i < 2 ? 0x2000 : 0));
    g_assert_cmpmem(ip + 20, totals[i] - 20, whole + SS_ETH_HLEN + 20 + offsets[i] * 8,
                    totals[i] - 20);
  }
  g_ptr_array_unref(c.frames);
  g_free(whole);
}

static void
assert_unchanged(size_t payload_len, unsigned mtu)
{
  collector c;
  size_t len, flen;
  uint8_t *whole = ss_fb_whole(payload_len, NULL, 0, 2, &len);
  uint8_t *copy = g_memdup2(whole, len);
  collector_init(&c);
  g_assert_cmpint(split(whole, len, mtu, &c), ==, 1);
  g_assert_true(c.last_ptr == whole);
  const uint8_t *f = frame_at(&c, 0, &flen);
  g_assert_cmpmem(f, flen, copy, len);
  g_ptr_array_unref(c.frames);
  g_free(copy);
  g_free(whole);
}

static void
test_fits_unchanged(void)
{
  assert_unchanged(1, 1500);
  assert_unchanged(1500 - 28, 1500);
  assert_unchanged(0, 28);
}

static void
test_one_past_mtu(void)
{
  collector c;
  size_t len, flen;
  uint8_t *whole = ss_fb_whole(1500 - 28 + 1, NULL, 0, 3, &len);
  collector_init(&c);
  g_assert_cmpint(split(whole, len, 1500, &c), ==, 2);
  frame_at(&c, 1, &flen);
  g_assert_cmpuint(flen, ==, SS_ETH_HLEN + 20 + 1481 - 1480);
  check_fragments(&c, whole, len, 1500, FALSE);
  g_ptr_array_unref(c.frames);
  g_free(whole);
}

static void
test_refuses(void)
{
  collector c;
  size_t len;
  ss_packet pkt;
  uint8_t *whole = ss_fb_whole(2000, NULL, 0, 4, &len);
  collector_init(&c);
  ss_packet_parse(&pkt, whole, len, SS_DIRECTION_INBOUND);

  /* Don't Fragment, and too big. */
  whole[SS_ETH_HLEN + 6] |= 0x40;
  pkt.ip_frag |= SS_IPV4_FLAG_DF;
  g_assert_cmpint(ss_frame_fragment(&pkt, 1500, scratch, sizeof scratch, collect, &c), ==, -1);
  /* DF does not matter when it fits. */
  g_assert_cmpint(ss_frame_fragment(&pkt, 2100, scratch, sizeof scratch, collect, &c), ==, 1);
  pkt.ip_frag &= (uint16_t) ~SS_IPV4_FLAG_DF;
  whole[SS_ETH_HLEN + 6] &= (uint8_t) ~0x40;
  g_assert_cmpuint(c.frames->len, ==, 1);

  /* No room for a header and 8 bytes. */
  g_assert_cmpint(ss_frame_fragment(&pkt, 27, scratch, sizeof scratch, collect, &c), ==, -1);
  g_assert_cmpint(ss_frame_fragment(&pkt, 1500, scratch, 41, collect, &c), ==, -1);
  g_assert_cmpint(ss_frame_fragment(&pkt, 28, scratch, sizeof scratch, collect, &c), >, 1);
  g_assert_cmpuint(c.frames->len, >, 200);
  g_ptr_array_unref(c.frames);
  g_free(whole);
}

/* A middle fragment split again still reassembles with its neighbours. */
static void
test_split_a_fragment(void)
{
  static uint8_t frag[SS_FRAME_MAX];
  collector c;
  size_t len, flen;
  uint8_t *whole = ss_fb_whole(3000, options, sizeof options, 5, &len);
  collector_init(&c);
  flen = ss_fb_fragment(whole, 0, 1480, TRUE, frag, sizeof frag);
  g_assert_cmpint(split(frag, flen, 1600, &c), ==, 1);
  flen = ss_fb_fragment(whole, 1480, 1480, TRUE, frag, sizeof frag);
  g_assert_cmpint(split(frag, flen, 576, &c), ==, 3);
  flen = ss_fb_fragment(whole, 2960, 48, FALSE, frag, sizeof frag);
  g_assert_cmpint(split(frag, flen, 60, &c), ==, 2);

  ss_reassembler *r = ss_reassembler_new(1 << 20, 4, G_USEC_PER_SEC);
  ss_reasm_result res = SS_REASM_PENDING;
  size_t out_len = 0;
  for (unsigned i = c.frames->len; i-- > 0;) {
    ss_packet pkt;
    const uint8_t *f = frame_at(&c, i, &flen);
    g_assert_true(ss_fb_ip_csum_ok(f));
    g_assert_cmpint(ss_packet_parse(&pkt, (uint8_t *) f, flen, SS_DIRECTION_INBOUND), ==,
                    SS_PARSE_FRAGMENT);
    res = ss_reassembler_add(r, &pkt, 0, out, sizeof out, &out_len);
  }
  g_assert_cmpint(res, ==, SS_REASM_COMPLETE);
  g_assert_cmpmem(out, out_len, whole, len);
  ss_reassembler_free(r);
  g_ptr_array_unref(c.frames);
  g_free(whole);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/refragment/round-trips", test_round_trips);
  g_test_add_func("/refragment/exact-layout", test_exact_layout);
  g_test_add_func("/refragment/fits-unchanged", test_fits_unchanged);
  g_test_add_func("/refragment/one-past-mtu", test_one_past_mtu);
  g_test_add_func("/refragment/refuses", test_refuses);
  g_test_add_func("/refragment/split-a-fragment", test_split_a_fragment);
  g_test_add_func("/refragment/public-entry", test_public_entry);
  return g_test_run();
}
