/* snowsignal - UDP broadcast relay
 * frame-builder.c: test frames built byte by byte.  The checksum code here
 * is written separately from core/frame.c on purpose, so the tests check
 * the core against a second implementation.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>
#include <arpa/inet.h>

#include "frame.h"
#include "frame-builder.h"

#define DEFAULT_TTL   64
#define DEFAULT_ID    0x1234
#define DEFAULT_SPORT 40000
#define DEFAULT_DPORT 5076
#define FRAME_SLACK   64

void
ss_fb_init(ss_fb_spec *spec)
{
  static const uint8_t src_mac[SS_ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x01 };
  memset(spec, 0, sizeof *spec);
  memset(spec->eth_dst, 0xff, SS_ETH_ALEN);
  memcpy(spec->eth_src, src_mac, SS_ETH_ALEN);
  spec->ethertype = SS_ETH_P_IPV4;
  spec->ip_version = SS_IPV4_VERSION;
  spec->ip_src = ss_fb_addr("10.1.0.7");
  spec->ip_dst = ss_fb_addr("10.1.255.255");
  spec->ip_id = DEFAULT_ID;
  spec->ip_ttl = DEFAULT_TTL;
  spec->ip_proto = SS_IPPROTO_UDP;
  spec->sport = DEFAULT_SPORT;
  spec->dport = DEFAULT_DPORT;
}

uint32_t
ss_fb_addr(const char *dotted)
{
  struct in_addr a;
  g_assert_cmpint(inet_pton(AF_INET, dotted, &a), ==, 1);
  return a.s_addr;
}

void
ss_fb_pattern(uint8_t *p, size_t n, unsigned seed)
{
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t) (i * 7u + seed * 13u + (i >> 8));
}

uint16_t
ss_fb_sum(const uint8_t *p, size_t n, uint32_t init)
{
  uint64_t acc = init;
  for (size_t i = 0; i < n; i++)
    acc += (i % 2 == 0) ? (uint64_t) p[i] << 8 : p[i];
  while (acc > 0xffff)
    acc = (acc >> 16) + (acc & 0xffff);
  return (uint16_t) acc;
}

static void
put16(uint8_t *p, unsigned v)
{
  p[0] = (uint8_t) (v >> 8);
  p[1] = (uint8_t) v;
}

static unsigned
get16(const uint8_t *p)
{
  return (unsigned) p[0] << 8 | p[1];
}

static unsigned
ip_hdr_len(const uint8_t *ip)
{
  return (ip[SS_IPV4_OFF_VER_IHL] & SS_IPV4_IHL_MASK) * (unsigned) SS_IPV4_IHL_UNIT;
}

static void
set_ip_csum(uint8_t *ip)
{
  unsigned hl = ip_hdr_len(ip);
  put16(ip + SS_IPV4_OFF_CSUM, 0);
  put16(ip + SS_IPV4_OFF_CSUM, (uint16_t) ~ss_fb_sum(ip, hl, 0));
}

static uint32_t
pseudo_sum(const uint8_t *ip, unsigned udp_len)
{
  return ss_fb_sum(ip + SS_IPV4_OFF_SRC, 2 * sizeof(uint32_t), 0) + SS_IPPROTO_UDP + udp_len;
}

static void
write_udp(const ss_fb_spec *spec, uint8_t *ip, unsigned hl)
{
  uint8_t *udp = ip + hl;
  unsigned udp_len = (unsigned) (SS_UDP_HLEN + spec->payload_len);
  put16(udp + SS_UDP_OFF_SPORT, spec->sport);
  put16(udp + SS_UDP_OFF_DPORT, spec->dport);
  put16(udp + SS_UDP_OFF_LEN, (unsigned) ((int) udp_len + spec->udp_len_delta));
  put16(udp + SS_UDP_OFF_CSUM, 0);
  if (spec->payload_len)
    memcpy(udp + SS_UDP_HLEN, spec->payload, spec->payload_len);
  if (spec->udp_csum_zero)
    return;
  uint16_t c = (uint16_t) ~ss_fb_sum(udp, udp_len, pseudo_sum(ip, udp_len));
  put16(udp + SS_UDP_OFF_CSUM, c == 0 ? 0xffff : c);
}

size_t
ss_fb_build(const ss_fb_spec *spec, uint8_t *out, size_t cap)
{
  size_t hl = SS_IPV4_MIN_HLEN + spec->options_len;
  size_t total = hl + SS_UDP_HLEN + spec->payload_len;
  size_t len = SS_ETH_HLEN + total + spec->padding;
  g_assert_cmpuint(len, <=, cap);

  memcpy(out + SS_ETH_OFF_DST, spec->eth_dst, SS_ETH_ALEN);
  memcpy(out + SS_ETH_OFF_SRC, spec->eth_src, SS_ETH_ALEN);
  put16(out + SS_ETH_OFF_TYPE, spec->ethertype);

  uint8_t *ip = out + SS_ETH_HLEN;
  ip[SS_IPV4_OFF_VER_IHL] = (uint8_t) (spec->ip_version << 4 | hl / SS_IPV4_IHL_UNIT);
  ip[1] = 0;
  put16(ip + SS_IPV4_OFF_TOTLEN, (unsigned) ((int) total + spec->total_len_delta));
  put16(ip + SS_IPV4_OFF_ID, spec->ip_id);
  put16(ip + SS_IPV4_OFF_FRAG, spec->ip_frag);
  ip[SS_IPV4_OFF_TTL] = spec->ip_ttl;
  ip[SS_IPV4_OFF_PROTO] = spec->ip_proto;
  memcpy(ip + SS_IPV4_OFF_SRC, &spec->ip_src, sizeof spec->ip_src);
  memcpy(ip + SS_IPV4_OFF_DST, &spec->ip_dst, sizeof spec->ip_dst);
  if (spec->options_len)
    memcpy(ip + SS_IPV4_MIN_HLEN, spec->options, spec->options_len);
  set_ip_csum(ip);

  write_udp(spec, ip, (unsigned) hl);
  memset(out + SS_ETH_HLEN + total, spec->padding_byte, spec->padding);
  return len;
}

uint8_t *
ss_fb_whole(size_t payload_len, const uint8_t *options, size_t options_len, uint16_t id,
            size_t *len)
{
  uint8_t *payload = g_malloc(payload_len + 1);
  uint8_t *frame = g_malloc0(SS_FRAME_MAX + FRAME_SLACK);
  ss_fb_spec spec;
  ss_fb_init(&spec);
  ss_fb_pattern(payload, payload_len, id);
  spec.payload = payload;
  spec.payload_len = payload_len;
  spec.ip_id = id;
  spec.options = options;
  spec.options_len = options_len;
  *len = ss_fb_build(&spec, frame, SS_FRAME_MAX);
  g_free(payload);
  return frame;
}

size_t
ss_fb_fragment(const uint8_t *whole, size_t off, size_t n, gboolean more, uint8_t *out,
               size_t cap)
{
  const uint8_t *ip = whole + SS_ETH_HLEN;
  unsigned hl = ip_hdr_len(ip);
  g_assert_cmpuint(off % SS_IPV4_FRAG_UNIT, ==, 0);
  g_assert_cmpuint(SS_ETH_HLEN + hl + n, <=, cap);
  memcpy(out, whole, SS_ETH_HLEN + hl);
  memcpy(out + SS_ETH_HLEN + hl, ip + hl + off, n);
  uint8_t *fip = out + SS_ETH_HLEN;
  put16(fip + SS_IPV4_OFF_TOTLEN, (unsigned) (hl + n));
  put16(fip + SS_IPV4_OFF_FRAG, (unsigned) (off / SS_IPV4_FRAG_UNIT) | (more ? SS_IPV4_FLAG_MF : 0));
  set_ip_csum(fip);
  return SS_ETH_HLEN + hl + n;
}

gboolean
ss_fb_ip_csum_ok(const uint8_t *frame)
{
  const uint8_t *ip = frame + SS_ETH_HLEN;
  return ss_fb_sum(ip, ip_hdr_len(ip), 0) == 0xffff;
}

gboolean
ss_fb_udp_csum_ok(const uint8_t *frame)
{
  const uint8_t *ip = frame + SS_ETH_HLEN;
  unsigned hl = ip_hdr_len(ip);
  const uint8_t *udp = ip + hl;
  unsigned udp_len = get16(ip + SS_IPV4_OFF_TOTLEN) - hl;
  if (get16(udp + SS_UDP_OFF_CSUM) == 0)
    return FALSE;
  return ss_fb_sum(udp, udp_len, pseudo_sum(ip, udp_len)) == 0xffff;
}
