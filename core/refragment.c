/* snowsignal - UDP broadcast relay
 * refragment.c: splits a datagram larger than the segment's MTU into IPv4
 * fragments on emit.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>

#include "frame.h"
#include "fragment.h"

/* Keeps, in order, the options RFC 791 marks for copying into every
 * fragment; stops at the end-of-list option or a malformed length.
 * Pads to a 32-bit boundary with end-of-list bytes. */
static unsigned
copied_options(const uint8_t *opt, unsigned len, uint8_t *out)
{
  unsigned i = 0, o = 0;
  while (i < len && opt[i] != SS_IPV4_OPT_EOL) {
    if (opt[i] == SS_IPV4_OPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= len || opt[i + 1] < SS_IPV4_OPT_MIN_LEN || i + opt[i + 1] > len)
      break;
    if (opt[i] & SS_IPV4_OPT_COPIED) {
      memcpy(out + o, opt + i, opt[i + 1]);
      o += opt[i + 1];
    }
    i += opt[i + 1];
  }
  while (o % SS_IPV4_IHL_UNIT != 0)
    out[o++] = SS_IPV4_OPT_EOL;
  return o;
}

/* Data bytes per fragment under a header of @hdr_len: a multiple of 8. */
static size_t
chunk_for(size_t room, unsigned hdr_len)
{
  if (room < hdr_len)
    return 0;
  return (room - hdr_len) / SS_IPV4_FRAG_UNIT * SS_IPV4_FRAG_UNIT;
}

/* Builds one fragment in @out from the Ethernet header of @pkt, the IP
 * header @hdr and @n data bytes at payload offset @pos. */
static size_t
build_fragment(const ss_packet *pkt, const uint8_t *hdr, unsigned hdr_len, size_t pos,
               size_t n, gboolean last, uint8_t *out)
{
  uint8_t *ip = out + SS_ETH_HLEN;
  memcpy(out, pkt->frame, SS_ETH_HLEN);
  memcpy(ip, hdr, hdr_len);
  memcpy(ip + hdr_len, pkt->ip + pkt->ip_hdr_len + pos, n);

  size_t base = (size_t) (pkt->ip_frag & SS_IPV4_OFFSET_MASK) * SS_IPV4_FRAG_UNIT;
  uint16_t flags = pkt->ip_frag & (uint16_t) ~(SS_IPV4_FLAG_MF | SS_IPV4_OFFSET_MASK);
  if (!last || (pkt->ip_frag & SS_IPV4_FLAG_MF))
    flags |= SS_IPV4_FLAG_MF;
  ip[SS_IPV4_OFF_VER_IHL] = (uint8_t) ((SS_IPV4_VERSION << 4) | (hdr_len / SS_IPV4_IHL_UNIT));
  ss_put_be16(ip + SS_IPV4_OFF_FRAG, (uint16_t) (flags | ((base + pos) / SS_IPV4_FRAG_UNIT)));
  ss_put_be16(ip + SS_IPV4_OFF_TOTLEN, (uint16_t) (hdr_len + n));
  ss_put_be16(ip + SS_IPV4_OFF_CSUM, ss_ipv4_header_checksum(ip, hdr_len));
  return SS_ETH_HLEN + hdr_len + n;
}

int
ss_frame_fragment(const ss_packet *pkt, unsigned mtu, uint8_t *scratch, size_t scratch_cap,
                  ss_fragment_emit_fn emit, void *user)
{
  if (pkt->ip == NULL || pkt->ip_hdr_len < SS_IPV4_MIN_HLEN)
    return -1;
  if (pkt->ip_total_len <= mtu) {
    emit(pkt->frame, pkt->len, user);
    return 1;
  }
  if ((pkt->ip_frag & SS_IPV4_FLAG_DF) || scratch_cap < SS_ETH_HLEN)
    return -1;

  uint8_t later[SS_IPV4_MAX_HLEN];
  memcpy(later, pkt->ip, SS_IPV4_MIN_HLEN);
  unsigned later_len = SS_IPV4_MIN_HLEN
    + copied_options(pkt->ip + SS_IPV4_MIN_HLEN, pkt->ip_hdr_len - SS_IPV4_MIN_HLEN,
                     later + SS_IPV4_MIN_HLEN);
  size_t room = MIN((size_t) mtu, scratch_cap - SS_ETH_HLEN);
  size_t first_chunk = chunk_for(room, pkt->ip_hdr_len);
  size_t later_chunk = chunk_for(room, later_len);
  if (first_chunk == 0 || later_chunk == 0)
    return -1;

  size_t data_len = pkt->ip_total_len - pkt->ip_hdr_len;
  int count = 0;
  for (size_t pos = 0; pos < data_len; count++) {
    gboolean first = pos == 0;
    size_t n = MIN(first ? first_chunk : later_chunk, data_len - pos);
    size_t len = build_fragment(pkt, first ? pkt->ip : later,
                                first ? pkt->ip_hdr_len : later_len, pos, n,
                                pos + n == data_len, scratch);
    emit(scratch, len, user);
    pos += n;
  }
  return count;
}

/* The least MTU IPv4 allows (RFC 791): a 60-byte header and 8 bytes. */
#define SS_IPV4_MIN_MTU 68

int
ss_packet_fragment(const ss_packet *pkt, unsigned mtu, ss_packet_fragment_fn emit, void *user)
{
  /* The relay's packet paths run on its main loop alone, and this is
   * called from them: static buffers keep the path free of allocation. */
  static uint8_t whole[SS_FRAME_MAX], scratch[SS_FRAME_MAX];
  if (mtu < SS_IPV4_MIN_MTU || !pkt->udp || pkt->len > sizeof whole)
    return -1;
  ss_packet copy;
  memcpy(whole, pkt->frame, pkt->len);
  if (ss_packet_parse(&copy, whole, pkt->len, pkt->direction) != SS_PARSE_OK)
    return -1;
  ss_packet_fix_checksums(&copy);
  return ss_frame_fragment(&copy, mtu, scratch, sizeof scratch, emit, user);
}
