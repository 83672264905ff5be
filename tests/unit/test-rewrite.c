/* snowsignal - UDP broadcast relay
 * test-rewrite.c: what a relayed frame looks like once rewritten for this
 * segment (DESIGN.md section 4).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>

#include "frame.h"
#include "frame-builder.h"

#define BUF_LEN 2048

static const uint8_t own_mac[SS_ETH_ALEN] = { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x09 };

/* A copied option (router alert) and a non-copied one, 8 bytes. */
static const uint8_t options[] = { 0x94, 0x04, 0x00, 0x00, 0x44, 0x04, 0x05, 0x00 };

typedef struct {
  uint8_t buf[BUF_LEN];
  uint8_t orig[BUF_LEN];
  uint8_t payload[300];
  size_t len;
  ss_packet pkt;
} fixture;

/* Builds a frame from a unicast MAC to @dst, with bad checksums as a
 * capture on an offloading NIC would give, and parses it. */
static void
setup(fixture *f, const char *dst, gboolean with_options)
{
  static const uint8_t peer_mac[SS_ETH_ALEN] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
  ss_fb_spec spec;
  ss_fb_init(&spec);
  memcpy(spec.eth_dst, peer_mac, SS_ETH_ALEN);
  spec.ip_dst = ss_fb_addr(dst);
  ss_fb_pattern(f->payload, sizeof f->payload, 4);
  spec.payload = f->payload;
  spec.payload_len = sizeof f->payload;
  if (with_options) {
    spec.options = options;
    spec.options_len = sizeof options;
  }
  spec.padding = 7;
  f->len = ss_fb_build(&spec, f->buf, sizeof f->buf);
  f->buf[SS_ETH_HLEN + SS_IPV4_OFF_CSUM] ^= 0xff;
  unsigned hl = SS_IPV4_MIN_HLEN + (unsigned) spec.options_len;
  f->buf[SS_ETH_HLEN + hl + SS_UDP_OFF_CSUM] ^= 0x33;
  memcpy(f->orig, f->buf, f->len);
  g_assert_cmpint(ss_packet_parse(&f->pkt, f->buf, f->len, SS_DIRECTION_INBOUND), ==,
                  SS_PARSE_OK);
}

static uint32_t
dst_in_frame(const fixture *f)
{
  uint32_t d;
  memcpy(&d, f->buf + SS_ETH_HLEN + SS_IPV4_OFF_DST, sizeof d);
  return d;
}

/* What must hold whatever the destination: MACs, kept fields, checksums,
 * and a view that agrees with a fresh parse of the rewritten bytes. */
static void
assert_common(fixture *f)
{
  static const uint8_t bcast[SS_ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
  const uint8_t *ip = f->buf + SS_ETH_HLEN;
  g_assert_cmpmem(f->buf, SS_ETH_ALEN, bcast, SS_ETH_ALEN);
  g_assert_cmpmem(f->buf + SS_ETH_ALEN, SS_ETH_ALEN, own_mac, SS_ETH_ALEN);
  g_assert_cmpmem(f->buf + 12, 2, f->orig + 12, 2);
  /* Source address, and every byte of the header but checksum and destination. */
  g_assert_cmpmem(ip, SS_IPV4_OFF_CSUM, f->orig + SS_ETH_HLEN, SS_IPV4_OFF_CSUM);
  g_assert_cmpmem(ip + 12, 4, f->orig + SS_ETH_HLEN + 12, 4);
  g_assert_cmpmem(ip + 20, f->pkt.ip_hdr_len - 20, f->orig + SS_ETH_HLEN + 20,
                  f->pkt.ip_hdr_len - 20);
  const uint8_t *udp = ip + f->pkt.ip_hdr_len;
  const uint8_t *oudp = f->orig + (udp - f->buf);
  g_assert_cmpmem(udp, 6, oudp, 6);
  g_assert_cmpmem(udp + 8, sizeof f->payload, f->payload, sizeof f->payload);
  g_assert_cmpuint(ss_get_be16(udp), ==, 40000);
  g_assert_cmphex(f->pkt.ip_src, ==, ss_fb_addr("10.1.0.7"));
  g_assert_true(ss_fb_ip_csum_ok(f->buf));
  g_assert_true(ss_fb_udp_csum_ok(f->buf));

  ss_packet again;
  g_assert_cmpint(ss_packet_parse(&again, f->buf, f->pkt.len, SS_DIRECTION_INBOUND), ==,
                  SS_PARSE_OK);
  g_assert_cmphex(again.ip_dst, ==, f->pkt.ip_dst);
  g_assert_cmpuint(again.len, ==, f->pkt.len);
  g_assert_true(again.payload == f->pkt.payload);
  g_assert_cmpuint(f->pkt.len, ==, f->len - 7);
}

static void
rewrite(fixture *f, const char *local, unsigned prefix)
{
  ss_frame_rewrite_for_segment(&f->pkt, own_mac, ss_fb_addr(local), prefix);
}

static void
test_directed_broadcast_of_other_subnet(void)
{
  fixture f;
  setup(&f, "10.1.255.255", FALSE);
  rewrite(&f, "192.168.5.20", 24);
  assert_common(&f);
  g_assert_cmphex(dst_in_frame(&f), ==, ss_fb_addr("192.168.5.255"));
  g_assert_cmphex(f.pkt.ip_dst, ==, ss_fb_addr("192.168.5.255"));

  setup(&f, "10.1.255.255", FALSE);
  rewrite(&f, "172.16.0.1", 12);
  assert_common(&f);
  g_assert_cmphex(dst_in_frame(&f), ==, ss_fb_addr("172.31.255.255"));
}

static void
test_limited_broadcast_kept(void)
{
  fixture f;
  setup(&f, "255.255.255.255", FALSE);
  rewrite(&f, "192.168.5.20", 24);
  assert_common(&f);
  g_assert_cmphex(dst_in_frame(&f), ==, ss_fb_addr("255.255.255.255"));
}

static void
test_same_subnet_kept(void)
{
  fixture f;
  setup(&f, "10.1.255.255", FALSE);
  rewrite(&f, "10.1.3.4", 16);
  assert_common(&f);
  g_assert_cmphex(dst_in_frame(&f), ==, ss_fb_addr("10.1.255.255"));
}

static void
test_unknown_prefix(void)
{
  static const unsigned prefixes[] = { 0, 31, 32, 33 };
  for (size_t i = 0; i < G_N_ELEMENTS(prefixes); i++) {
    fixture f;
    setup(&f, "10.1.255.255", FALSE);
    rewrite(&f, "192.168.5.20", prefixes[i]);
    assert_common(&f);
    g_assert_cmphex(dst_in_frame(&f), ==, ss_fb_addr("255.255.255.255"));
  }
}

static void
test_options_kept(void)
{
  fixture f;
  setup(&f, "10.1.255.255", TRUE);
  g_assert_cmpuint(f.pkt.ip_hdr_len, ==, 28);
  rewrite(&f, "192.168.5.20", 24);
  assert_common(&f);
  g_assert_cmpmem(f.buf + SS_ETH_HLEN + 20, sizeof options, options, sizeof options);
  g_assert_cmphex(dst_in_frame(&f), ==, ss_fb_addr("192.168.5.255"));
}

/* A sender that disabled the UDP checksum gets one computed. */
static void
test_zero_udp_checksum_computed(void)
{
  uint8_t buf[BUF_LEN];
  ss_fb_spec spec;
  ss_packet pkt;
  ss_fb_init(&spec);
  spec.udp_csum_zero = TRUE;
  size_t len = ss_fb_build(&spec, buf, sizeof buf);
  g_assert_false(ss_fb_udp_csum_ok(buf));
  g_assert_cmpint(ss_packet_parse(&pkt, buf, len, SS_DIRECTION_INBOUND), ==, SS_PARSE_OK);
  ss_frame_rewrite_for_segment(&pkt, own_mac, ss_fb_addr("10.1.0.1"), 16);
  g_assert_true(ss_fb_ip_csum_ok(buf));
  g_assert_true(ss_fb_udp_csum_ok(buf));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/rewrite/directed-broadcast-other-subnet",
                  test_directed_broadcast_of_other_subnet);
  g_test_add_func("/rewrite/limited-broadcast-kept", test_limited_broadcast_kept);
  g_test_add_func("/rewrite/same-subnet-kept", test_same_subnet_kept);
  g_test_add_func("/rewrite/unknown-prefix", test_unknown_prefix);
  g_test_add_func("/rewrite/options-kept", test_options_kept);
  g_test_add_func("/rewrite/zero-udp-checksum-computed", test_zero_udp_checksum_computed);
  return g_test_run();
}
