/* snowsignal - UDP broadcast relay
 * frame-builder.h: builds Ethernet + IPv4 + UDP frames for the tests, with
 * deliberate defects on request, and checks checksums independently of
 * the code under test.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SNOWSIGNAL_TESTS_FRAME_BUILDER_H
#define SNOWSIGNAL_TESTS_FRAME_BUILDER_H

#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include <snowsignal/packet.h>

typedef struct {
  uint8_t eth_dst[SS_ETH_ALEN];
  uint8_t eth_src[SS_ETH_ALEN];
  uint16_t ethertype;
  uint8_t ip_version;
  uint32_t ip_src, ip_dst;    /* network order */
  uint16_t ip_id;
  uint16_t ip_frag;           /* flags and offset, host order */
  uint8_t ip_ttl;
  uint8_t ip_proto;
  const uint8_t *options;     /* a multiple of 4 bytes */
  size_t options_len;
  int total_len_delta;        /* added to the correct IP total length */
  uint16_t sport, dport;
  const uint8_t *payload;
  size_t payload_len;
  int udp_len_delta;          /* added to the correct UDP length */
  gboolean udp_csum_zero;     /* leave the UDP checksum 0 (disabled) */
  size_t padding;             /* bytes of Ethernet padding after the datagram */
  uint8_t padding_byte;
} ss_fb_spec;

/* Defaults: broadcast from 02:00:00:00:00:01, 10.1.0.7:40000 to
 * 10.1.255.255:5076, TTL 64, id 0x1234, no options, empty payload. */
void ss_fb_init(ss_fb_spec *spec);

/* Writes the frame into @out (g_assert()s it fits @cap) and returns its
 * length, padding included.  Checksums are correct unless asked not. */
size_t ss_fb_build(const ss_fb_spec *spec, uint8_t *out, size_t cap);

/* Builds the IPv4 fragment carrying bytes [@off, @off + @n) of the IP
 * payload of the whole (unfragmented, unpadded) frame @whole: its headers
 * and options are copied, MF set when @more, checksum correct. */
size_t ss_fb_fragment(const uint8_t *whole, size_t off, size_t n, gboolean more,
                      uint8_t *out, size_t cap);

/* A default frame (ss_fb_init()) with @payload_len pattern bytes (seeded by
 * @id, also the IP id) and the given options, in a g_free()-able buffer
 * that has slack past SS_FRAME_MAX so fragments can be cut anywhere. */
uint8_t *ss_fb_whole(size_t payload_len, const uint8_t *options, size_t options_len,
                     uint16_t id, size_t *len);

/* "a.b.c.d" in network order. */
uint32_t ss_fb_addr(const char *dotted);

/* Fills @p with a pattern that differs per @seed and per position. */
void ss_fb_pattern(uint8_t *p, size_t n, unsigned seed);

/* One's complement sum of @n bytes starting from @init, folded, not
 * complemented: a checksummed region sums to 0xffff. */
uint16_t ss_fb_sum(const uint8_t *p, size_t n, uint32_t init);

/* TRUE when the IPv4 header checksum of @frame verifies. */
gboolean ss_fb_ip_csum_ok(const uint8_t *frame);

/* TRUE when the UDP checksum of the unfragmented @frame verifies (a 0
 * checksum does not count as verified). */
gboolean ss_fb_udp_csum_ok(const uint8_t *frame);

#endif
