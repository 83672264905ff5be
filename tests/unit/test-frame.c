/* snowsignal - UDP broadcast relay
 * test-frame.c: ss_packet_parse(), the relayability check and checksums,
 * on frames built in the test.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>

#include "frame.h"
#include "frame-builder.h"

#define BUF_LEN 2048

static const uint16_t pva_ports[] = { 5075, 5076 };

/* Two option words: a router alert (copied) and a NOP-padded timestamp-like
 * option (not copied); the content only has to survive. */
static const uint8_t options[] = { 0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x07, 0x02 };

static size_t
build(const ss_fb_spec *spec, uint8_t *buf)
{
  return ss_fb_build(spec, buf, BUF_LEN);
}

static void
test_well_formed(void)
{
  uint8_t buf[BUF_LEN], payload[100];
  ss_fb_spec spec;
  ss_packet pkt;
  ss_fb_init(&spec);
  ss_fb_pattern(payload, sizeof payload, 1);
  spec.payload = payload;
  spec.payload_len = sizeof payload;
  size_t len = build(&spec, buf);

  g_assert_cmpint(ss_packet_parse(&pkt, buf, len, SS_DIRECTION_OUTBOUND), ==, SS_PARSE_OK);
  g_assert_cmpuint(pkt.len, ==, SS_ETH_HLEN + 20 + 8 + 100);
  g_assert_true(pkt.frame == buf);
  g_assert_cmpint(pkt.direction, ==, SS_DIRECTION_OUTBOUND);
  g_assert_true(pkt.eth_dst == buf);
  g_assert_true(pkt.eth_src == buf + 6);
  g_assert_cmphex(pkt.ethertype, ==, 0x0800);
  g_assert_true(pkt.ip == buf + 14);
  g_assert_cmpuint(pkt.ip_hdr_len, ==, 20);
  g_assert_cmpuint(pkt.ip_total_len, ==, 128);
  g_assert_cmphex(pkt.ip_src, ==, ss_fb_addr("10.1.0.7"));
  g_assert_cmphex(pkt.ip_dst, ==, ss_fb_addr("10.1.255.255"));
  g_assert_cmphex(pkt.ip_id, ==, 0x1234);
  g_assert_cmphex(pkt.ip_frag, ==, 0);
  g_assert_cmpuint(pkt.ip_ttl, ==, 64);
  g_assert_true(pkt.udp == buf + 34);
  g_assert_cmpuint(pkt.udp_src_port, ==, 40000);
  g_assert_cmpuint(pkt.udp_dst_port, ==, 5076);
  g_assert_true(pkt.payload == buf + 42);
  g_assert_cmpuint(pkt.payload_len, ==, 100);
  g_assert_cmpmem(pkt.payload, pkt.payload_len, payload, sizeof payload);
}

static void
test_options(void)
{
  uint8_t buf[BUF_LEN];
  ss_fb_spec spec;
  ss_packet pkt;
  ss_fb_init(&spec);
  spec.options = options;
  spec.options_len = sizeof options;
  size_t len = build(&spec, buf);

  g_assert_cmpint(ss_packet_parse(&pkt, buf, len, SS_DIRECTION_INBOUND), ==, SS_PARSE_OK);
  g_assert_cmpuint(pkt.ip_hdr_len, ==, 28);
  g_assert_true(pkt.udp == buf + 14 + 28);
  g_assert_cmpuint(pkt.payload_len, ==, 0);
  g_assert_cmpuint(pkt.len, ==, len);
}

/* Every proper prefix of a well-formed frame announces more than it has. */
static void
test_truncated_everywhere(void)
{
  uint8_t buf[BUF_LEN], copy[BUF_LEN], payload[9] = "truncated";
  ss_fb_spec spec;
  ss_packet pkt;
  ss_fb_init(&spec);
  spec.options = options;
  spec.options_len = sizeof options;
  spec.payload = payload;
  spec.payload_len = sizeof payload;
  size_t len = build(&spec, buf);

  for (size_t cut = 0; cut < len; cut++) {
    memcpy(copy, buf, cut);
    g_assert_cmpint(ss_packet_parse(&pkt, copy, cut, SS_DIRECTION_INBOUND), ==,
                    SS_PARSE_TRUNCATED);
    g_assert_null(pkt.udp);
    g_assert_null(pkt.payload);
  }
}

static void
test_not_ipv4(void)
{
  static const uint16_t types[] = { 0x86dd, 0x8100, 0x0806, 0 };
  uint8_t buf[BUF_LEN];
  ss_fb_spec spec;
  ss_packet pkt;
  for (size_t i = 0; i < G_N_ELEMENTS(types); i++) {
    ss_fb_init(&spec);
    spec.ethertype = types[i];
    size_t len = build(&spec, buf);
    g_assert_cmpint(ss_packet_parse(&pkt, buf, len, SS_DIRECTION_INBOUND), ==,
                    SS_PARSE_NOT_IPV4);
    g_assert_cmphex(pkt.ethertype, ==, types[i]);
    g_assert_true(pkt.eth_src == buf + 6);
    g_assert_null(pkt.ip);
  }
}

static void
test_bad_ip_header(void)
{
  uint8_t buf[BUF_LEN];
  ss_fb_spec spec;
  ss_packet pkt;
  /* Version and IHL bytes: IHL 0 to 4, then version 6. */
  static const uint8_t ver_ihl[] = { 0x40, 0x41, 0x42, 0x43, 0x44, 0x65 };
  ss_fb_init(&spec);
  size_t len = build(&spec, buf);
  for (size_t i = 0; i < G_N_ELEMENTS(ver_ihl); i++) {
    buf[SS_ETH_HLEN] = ver_ihl[i];
    g_assert_cmpint(ss_packet_parse(&pkt, buf, len, SS_DIRECTION_INBOUND), ==,
                    SS_PARSE_BAD_IP_HEADER);
  }

  /* Total length shorter than the header it belongs to. */
  ss_fb_init(&spec);
  spec.total_len_delta = -(int) (SS_UDP_HLEN + 1);
  len = build(&spec, buf);
  g_assert_cmpint(ss_packet_parse(&pkt, buf, len, SS_DIRECTION_INBOUND), ==,
                  SS_PARSE_BAD_IP_HEADER);
}

static void
test_total_length_past_end(void)
{
  uint8_t buf[BUF_LEN];
  ss_fb_spec spec;
  ss_packet pkt;
  ss_fb_init(&spec);
  spec.total_len_delta = 1;
  spec.udp_len_delta = 1;
  size_t len = build(&spec, buf);
  g_assert_cmpint(ss_packet_parse(&pkt, buf, len, SS_DIRECTION_INBOUND), ==,
                  SS_PARSE_TRUNCATED);

  /* The padding is there, but it is still past the end by one byte. */
  spec.padding = 3;
  spec.total_len_delta = 4;
  len = build(&spec, buf);
  g_assert_cmpint(ss_packet_parse(&pkt, buf, len, SS_DIRECTION_INBOUND), ==,
                  SS_PARSE_TRUNCATED);
}

static void
test_padding_trimmed(void)
{
  uint8_t buf[BUF_LEN], payload[2] = { 0xab, 0xcd };
  ss_fb_spec spec;
  ss_packet pkt;
  ss_fb_init(&spec);
  spec.payload = payload;
  spec.payload_len = sizeof payload;
  spec.padding = 60 - (14 + 20 + 8 + 2);
  spec.padding_byte = 0x5a;
  size_t len = build(&spec, buf);
  g_assert_cmpuint(len, ==, 60);

  g_assert_cmpint(ss_packet_parse(&pkt, buf, len, SS_DIRECTION_INBOUND), ==, SS_PARSE_OK);
  g_assert_cmpuint(pkt.len, ==, 44);
  g_assert_cmpuint(pkt.payload_len, ==, 2);
  g_assert_cmphex(pkt.payload[1], ==, 0xcd);
}

static void
test_udp_length_mismatch(void)
{
  static const int deltas[] = { -1, 1, -8, 100 };
  uint8_t buf[BUF_LEN], payload[20] = { 0 };
  ss_fb_spec spec;
  ss_packet pkt;
  for (size_t i = 0; i < G_N_ELEMENTS(deltas); i++) {
    ss_fb_init(&spec);
    spec.payload = payload;
    spec.payload_len = sizeof payload;
    spec.udp_len_delta = deltas[i];
    size_t len = build(&spec, buf);
    g_assert_cmpint(ss_packet_parse(&pkt, buf, len, SS_DIRECTION_INBOUND), ==,
                    SS_PARSE_BAD_UDP_LENGTH);
    g_assert_null(pkt.udp);
  }
  /* An IP payload too short for a UDP header at all. */
  ss_fb_init(&spec);
  spec.total_len_delta = -4;
  size_t len = build(&spec, buf);
  g_assert_cmpint(ss_packet_parse(&pkt, buf, len, SS_DIRECTION_INBOUND), ==,
                  SS_PARSE_BAD_UDP_LENGTH);
}

static void
test_not_udp(void)
{
  uint8_t buf[BUF_LEN];
  ss_fb_spec spec;
  ss_packet pkt;
  ss_fb_init(&spec);
  spec.ip_proto = 6;
  size_t len = build(&spec, buf);
  g_assert_cmpint(ss_packet_parse(&pkt, buf, len, SS_DIRECTION_INBOUND), ==, SS_PARSE_NOT_UDP);
  g_assert_cmphex(pkt.ip_src, ==, ss_fb_addr("10.1.0.7"));
}

static void
test_fragments(void)
{
  uint8_t whole[BUF_LEN], frag[BUF_LEN], payload[64];
  ss_fb_spec spec;
  ss_packet pkt;
  ss_fb_init(&spec);
  ss_fb_pattern(payload, sizeof payload, 2);
  spec.payload = payload;
  spec.payload_len = sizeof payload;
  ss_fb_build(&spec, whole, sizeof whole);

  size_t len = ss_fb_fragment(whole, 0, 32, TRUE, frag, sizeof frag);
  g_assert_cmpint(ss_packet_parse(&pkt, frag, len, SS_DIRECTION_INBOUND), ==,
                  SS_PARSE_FRAGMENT);
  g_assert_cmphex(pkt.ip_frag, ==, SS_IPV4_FLAG_MF);
  g_assert_true(pkt.udp == frag + 34);
  g_assert_cmpuint(pkt.udp_dst_port, ==, 5076);
  g_assert_null(pkt.payload);
  g_assert_cmpuint(pkt.len, ==, len);

  len = ss_fb_fragment(whole, 32, 40, FALSE, frag, sizeof frag);
  g_assert_cmpint(ss_packet_parse(&pkt, frag, len, SS_DIRECTION_INBOUND), ==,
                  SS_PARSE_FRAGMENT);
  g_assert_cmphex(pkt.ip_frag, ==, 4);
  g_assert_null(pkt.udp);
  g_assert_cmpuint(pkt.udp_dst_port, ==, 0);
  g_assert_null(pkt.payload);
  g_assert_cmpuint(pkt.ip_total_len, ==, 60);
}

static void
test_strings_and_broadcast(void)
{
  GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
  for (int r = SS_PARSE_OK; r <= SS_PARSE_FRAGMENT; r++) {
    const char *s = ss_parse_result_to_string((ss_parse_result) r);
    g_assert_nonnull(s);
    g_assert_false(g_hash_table_contains(seen, s));
    g_hash_table_add(seen, (gpointer) s);
  }
  g_hash_table_unref(seen);

  uint8_t buf[BUF_LEN];
  ss_fb_spec spec;
  ss_packet pkt;
  ss_fb_init(&spec);
  size_t len = build(&spec, buf);
  ss_packet_parse(&pkt, buf, len, SS_DIRECTION_INBOUND);
  g_assert_true(ss_packet_is_eth_broadcast(&pkt));
  buf[5] = 0xfe;
  g_assert_false(ss_packet_is_eth_broadcast(&pkt));
  ss_packet_parse(&pkt, buf, 3, SS_DIRECTION_INBOUND);
  g_assert_false(ss_packet_is_eth_broadcast(&pkt));
}

static void
test_relayable(void)
{
  uint8_t buf[BUF_LEN], frag[BUF_LEN];
  ss_fb_spec spec;
  ss_packet pkt;
  const char *why = NULL;
  ss_fb_init(&spec);
  size_t len = build(&spec, buf);
  ss_packet_parse(&pkt, buf, len, SS_DIRECTION_INBOUND);
  g_assert_true(ss_frame_check_relayable(&pkt, pva_ports, G_N_ELEMENTS(pva_ports), &why));
  g_assert_null(why);

  g_assert_false(ss_frame_check_relayable(&pkt, pva_ports, 1, &why));
  g_assert_cmpstr(why, ==, "UDP destination port is not relayed");
  g_assert_false(ss_frame_check_relayable(&pkt, NULL, 0, NULL));

  pkt.len--;
  g_assert_false(ss_frame_check_relayable(&pkt, pva_ports, 2, &why));
  g_assert_cmpstr(why, ==, "inconsistent lengths");
  pkt.len++;

  buf[0] = 0x01;
  g_assert_false(ss_frame_check_relayable(&pkt, pva_ports, 2, &why));
  g_assert_cmpstr(why, ==, "Ethernet destination is not broadcast");

  buf[0] = 0xff;
  len = ss_fb_fragment(buf, 0, 8, TRUE, frag, sizeof frag);
  g_assert_cmpint(ss_packet_parse(&pkt, frag, len, SS_DIRECTION_INBOUND), ==,
                  SS_PARSE_FRAGMENT);
  g_assert_false(ss_frame_check_relayable(&pkt, pva_ports, 2, &why));
  g_assert_cmpstr(why, ==, "IPv4 fragment");

  spec.ethertype = 0x86dd;
  len = build(&spec, buf);
  ss_packet_parse(&pkt, buf, len, SS_DIRECTION_INBOUND);
  g_assert_false(ss_frame_check_relayable(&pkt, pva_ports, 2, &why));
  g_assert_cmpstr(why, ==, "not an IPv4 frame");
}

static void
test_checksums(void)
{
  uint8_t buf[BUF_LEN], payload[33];
  ss_fb_spec spec;
  ss_packet pkt;
  ss_fb_init(&spec);
  ss_fb_pattern(payload, sizeof payload, 3);
  spec.payload = payload;
  spec.payload_len = sizeof payload;
  spec.options = options;
  spec.options_len = sizeof options;
  size_t len = build(&spec, buf);
  ss_packet_parse(&pkt, buf, len, SS_DIRECTION_INBOUND);
  uint16_t ip_good = ss_get_be16(buf + 14 + 10);
  uint16_t udp_good = ss_get_be16(buf + 14 + 28 + 6);
  g_assert_cmphex(ss_ipv4_header_checksum(pkt.ip, pkt.ip_hdr_len), ==, ip_good);
  g_assert_cmphex(ss_udp_checksum(&pkt), ==, udp_good);

  /* Partial checksums as an offloading NIC leaves them. */
  buf[14 + 10] ^= 0x5a;
  buf[14 + 28 + 6] = 0;
  buf[14 + 28 + 7] = 0;
  g_assert_false(ss_fb_ip_csum_ok(buf));
  ss_packet_fix_checksums(&pkt);
  g_assert_true(ss_fb_ip_csum_ok(buf));
  g_assert_true(ss_fb_udp_csum_ok(buf));
  g_assert_cmphex(ss_get_be16(buf + 14 + 28 + 6), ==, udp_good);
}

/* A datagram whose checksum computes to 0 must carry 0xffff instead. */
static void
test_udp_checksum_zero(void)
{
  uint8_t buf[BUF_LEN], payload[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 0, 0 };
  ss_fb_spec spec;
  ss_packet pkt;
  ss_fb_init(&spec);
  spec.payload = payload;
  spec.payload_len = sizeof payload;
  spec.udp_csum_zero = TRUE;
  size_t len = build(&spec, buf);
  const uint8_t *ip = buf + 14;
  unsigned udp_len = 8 + sizeof payload;
  uint32_t pseudo = ss_fb_sum(ip + 12, 8, 0) + 17 + udp_len;
  uint16_t sum = ss_fb_sum(ip + 20, udp_len, pseudo);
  /* The last payload word brings the sum to 0xffff, its complement 0. */
  ss_put_be16(buf + len - 2, (uint16_t) (0xffff - sum));
  g_assert_cmphex(ss_fb_sum(ip + 20, udp_len, pseudo), ==, 0xffff);

  g_assert_cmpint(ss_packet_parse(&pkt, buf, len, SS_DIRECTION_INBOUND), ==, SS_PARSE_OK);
  g_assert_cmphex(ss_udp_checksum(&pkt), ==, 0xffff);
  ss_packet_fix_checksums(&pkt);
  g_assert_cmphex(ss_get_be16(buf + 14 + 20 + 6), ==, 0xffff);
  g_assert_true(ss_fb_udp_csum_ok(buf));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/frame/parse/well-formed", test_well_formed);
  g_test_add_func("/frame/parse/options", test_options);
  g_test_add_func("/frame/parse/truncated", test_truncated_everywhere);
  g_test_add_func("/frame/parse/not-ipv4", test_not_ipv4);
  g_test_add_func("/frame/parse/bad-ip-header", test_bad_ip_header);
  g_test_add_func("/frame/parse/total-length-past-end", test_total_length_past_end);
  g_test_add_func("/frame/parse/padding-trimmed", test_padding_trimmed);
  g_test_add_func("/frame/parse/udp-length-mismatch", test_udp_length_mismatch);
  g_test_add_func("/frame/parse/not-udp", test_not_udp);
  g_test_add_func("/frame/parse/fragments", test_fragments);
  g_test_add_func("/frame/strings-and-broadcast", test_strings_and_broadcast);
  g_test_add_func("/frame/relayable", test_relayable);
  g_test_add_func("/frame/checksums", test_checksums);
  g_test_add_func("/frame/udp-checksum-zero", test_udp_checksum_zero);
  return g_test_run();
}
