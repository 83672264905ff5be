/* snowsignal - UDP broadcast relay
 * frame.c: parses a captured or received frame into the packet view,
 * checks and rewrites it for this segment, computes checksums.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>

#include "frame.h"

static void
clear_view(ss_packet *pkt)
{
  pkt->eth_dst = NULL;
  pkt->eth_src = NULL;
  pkt->ethertype = 0;
  pkt->ip = NULL;
  pkt->ip_hdr_len = 0;
  pkt->ip_total_len = 0;
  pkt->ip_src = 0;
  pkt->ip_dst = 0;
  pkt->ip_id = 0;
  pkt->ip_frag = 0;
  pkt->ip_ttl = 0;
  pkt->udp = NULL;
  pkt->udp_src_port = 0;
  pkt->udp_dst_port = 0;
  pkt->payload = NULL;
  pkt->payload_len = 0;
}

/* Validates the IPv4 header against the bytes present, and trims the
 * Ethernet padding once the total length is known to be sane. */
static ss_parse_result
parse_ipv4(ss_packet *pkt)
{
  const uint8_t *ip = pkt->frame + SS_ETH_HLEN;
  size_t avail = pkt->len - SS_ETH_HLEN;

  if (avail < SS_IPV4_MIN_HLEN)
    return SS_PARSE_TRUNCATED;
  unsigned version = ip[SS_IPV4_OFF_VER_IHL] >> 4;
  unsigned hdr_len = (ip[SS_IPV4_OFF_VER_IHL] & SS_IPV4_IHL_MASK) * SS_IPV4_IHL_UNIT;
  if (version != SS_IPV4_VERSION || hdr_len < SS_IPV4_MIN_HLEN)
    return SS_PARSE_BAD_IP_HEADER;
  if (avail < hdr_len)
    return SS_PARSE_TRUNCATED;
  unsigned total = ss_get_be16(ip + SS_IPV4_OFF_TOTLEN);
  if (total < hdr_len)
    return SS_PARSE_BAD_IP_HEADER;
  if (avail < total)
    return SS_PARSE_TRUNCATED;

  pkt->len = SS_ETH_HLEN + (size_t) total;
  pkt->ip = ip;
  pkt->ip_hdr_len = hdr_len;
  pkt->ip_total_len = total;
  memcpy(&pkt->ip_src, ip + SS_IPV4_OFF_SRC, sizeof pkt->ip_src);
  memcpy(&pkt->ip_dst, ip + SS_IPV4_OFF_DST, sizeof pkt->ip_dst);
  pkt->ip_id = ss_get_be16(ip + SS_IPV4_OFF_ID);
  pkt->ip_frag = ss_get_be16(ip + SS_IPV4_OFF_FRAG);
  pkt->ip_ttl = ip[SS_IPV4_OFF_TTL];
  return SS_PARSE_OK;
}

/* A first fragment still shows its ports (useful to decide whether to
 * reassemble at all), but never a payload: it would be incomplete. */
static ss_parse_result
parse_fragment(ss_packet *pkt)
{
  if ((pkt->ip_frag & SS_IPV4_OFFSET_MASK) == 0
      && pkt->ip_total_len - pkt->ip_hdr_len >= SS_UDP_HLEN) {
    pkt->udp = pkt->ip + pkt->ip_hdr_len;
    pkt->udp_src_port = ss_get_be16(pkt->udp + SS_UDP_OFF_SPORT);
    pkt->udp_dst_port = ss_get_be16(pkt->udp + SS_UDP_OFF_DPORT);
  }
  return SS_PARSE_FRAGMENT;
}

/* The UDP length must cover exactly the IP payload: the relay forwards
 * the datagram whole, so there is no room for trailing bytes it would
 * carry without a checksum covering them. */
static ss_parse_result
parse_udp(ss_packet *pkt)
{
  unsigned ip_payload = pkt->ip_total_len - pkt->ip_hdr_len;
  if (ip_payload < SS_UDP_HLEN)
    return SS_PARSE_BAD_UDP_LENGTH;
  const uint8_t *udp = pkt->ip + pkt->ip_hdr_len;
  unsigned udp_len = ss_get_be16(udp + SS_UDP_OFF_LEN);
  if (udp_len != ip_payload)
    return SS_PARSE_BAD_UDP_LENGTH;

  pkt->udp = udp;
  pkt->udp_src_port = ss_get_be16(udp + SS_UDP_OFF_SPORT);
  pkt->udp_dst_port = ss_get_be16(udp + SS_UDP_OFF_DPORT);
  pkt->payload = udp + SS_UDP_HLEN;
  pkt->payload_len = udp_len - SS_UDP_HLEN;
  return SS_PARSE_OK;
}

ss_parse_result
ss_packet_parse(ss_packet *pkt, uint8_t *frame, size_t len, ss_direction direction)
{
  /* Every field, ifindex and the reserved ones included, starts from zero:
   * plugins read the struct directly. */
  memset(pkt, 0, sizeof *pkt);
  pkt->frame = frame;
  pkt->len = len;
  pkt->direction = direction;
  clear_view(pkt);

  if (len < SS_ETH_HLEN)
    return SS_PARSE_TRUNCATED;
  pkt->eth_dst = frame + SS_ETH_OFF_DST;
  pkt->eth_src = frame + SS_ETH_OFF_SRC;
  pkt->ethertype = ss_get_be16(frame + SS_ETH_OFF_TYPE);
  if (pkt->ethertype != SS_ETH_P_IPV4)
    return SS_PARSE_NOT_IPV4;

  ss_parse_result r = parse_ipv4(pkt);
  if (r != SS_PARSE_OK)
    return r;
  if (pkt->ip[SS_IPV4_OFF_PROTO] != SS_IPPROTO_UDP)
    return SS_PARSE_NOT_UDP;
  if (pkt->ip_frag & (SS_IPV4_FLAG_MF | SS_IPV4_OFFSET_MASK))
    return parse_fragment(pkt);
  return parse_udp(pkt);
}

const char *
ss_parse_result_to_string(ss_parse_result result)
{
  switch (result) {
  case SS_PARSE_OK: return "parsed";
  case SS_PARSE_TRUNCATED: return "frame truncated";
  case SS_PARSE_NOT_IPV4: return "not IPv4";
  case SS_PARSE_BAD_IP_HEADER: return "bad IPv4 header";
  case SS_PARSE_NOT_UDP: return "not UDP";
  case SS_PARSE_BAD_UDP_LENGTH: return "bad UDP length";
  case SS_PARSE_FRAGMENT: return "IPv4 fragment";
  }
  return "unknown parse result";
}

gboolean
ss_packet_is_eth_broadcast(const ss_packet *pkt)
{
  if (pkt->frame == NULL || pkt->len < SS_ETH_HLEN)
    return FALSE;
  for (unsigned i = 0; i < SS_ETH_ALEN; i++)
    if (pkt->frame[SS_ETH_OFF_DST + i] != SS_ETH_BROADCAST_BYTE)
      return FALSE;
  return TRUE;
}

/* Re-derives the layout from the lengths in the view, so a view that was
 * edited or hand-built inconsistently is refused rather than trusted. */
static const char *
check_view(const ss_packet *pkt)
{
  if (pkt->frame == NULL || pkt->ip != pkt->frame + SS_ETH_HLEN
      || pkt->ethertype != SS_ETH_P_IPV4)
    return "not an IPv4 frame";
  if (pkt->ip_hdr_len < SS_IPV4_MIN_HLEN || pkt->ip_hdr_len > SS_IPV4_MAX_HLEN
      || pkt->ip_total_len < pkt->ip_hdr_len + SS_UDP_HLEN
      || pkt->len != SS_ETH_HLEN + (size_t) pkt->ip_total_len)
    return "inconsistent lengths";
  if (pkt->ip_frag & (SS_IPV4_FLAG_MF | SS_IPV4_OFFSET_MASK))
    return "IPv4 fragment";
  if (pkt->ip[SS_IPV4_OFF_PROTO] != SS_IPPROTO_UDP || pkt->udp == NULL)
    return "not UDP";
  if (pkt->udp != pkt->ip + pkt->ip_hdr_len
      || ss_get_be16(pkt->udp + SS_UDP_OFF_LEN) != pkt->ip_total_len - pkt->ip_hdr_len
      || pkt->payload != pkt->udp + SS_UDP_HLEN
      || pkt->payload_len + SS_UDP_HLEN + pkt->ip_hdr_len != pkt->ip_total_len)
    return "inconsistent lengths";
  return NULL;
}

gboolean
ss_frame_check_relayable(const ss_packet *pkt, const uint16_t *ports, size_t n_ports,
                         const char **why)
{
  const char *reason = check_view(pkt);
  if (reason == NULL && !ss_packet_is_eth_broadcast(pkt))
    reason = "Ethernet destination is not broadcast";
  if (reason == NULL) {
    reason = "UDP destination port is not relayed";
    for (size_t i = 0; i < n_ports; i++)
      if (ports[i] == pkt->udp_dst_port)
        reason = NULL;
  }
  if (reason != NULL && why != NULL)
    *why = reason;
  return reason == NULL;
}

/* One's complement sum of @len bytes as big-endian 16-bit words, added to
 * @sum; folding is left to the caller so partial sums can be chained. */
static uint32_t
sum_words(uint32_t sum, const uint8_t *p, size_t len)
{
  size_t i;
  for (i = 0; i + 1 < len; i += 2)
    sum += ss_get_be16(p + i);
  if (i < len)
    sum += (uint32_t) p[i] << 8;
  return sum;
}

static uint16_t
fold(uint32_t sum)
{
  while (sum >> 16)
    sum = (sum & 0xffffu) + (sum >> 16);
  return (uint16_t) ~sum;
}

uint16_t
ss_ipv4_header_checksum(const uint8_t *ip, unsigned hdr_len)
{
  uint32_t sum = sum_words(0, ip, SS_IPV4_OFF_CSUM);
  sum = sum_words(sum, ip + SS_IPV4_OFF_CSUM + 2, hdr_len - SS_IPV4_OFF_CSUM - 2);
  return fold(sum);
}

uint16_t
ss_udp_checksum(const ss_packet *pkt)
{
  const uint8_t *udp = pkt->udp;
  unsigned udp_len = pkt->ip_total_len - pkt->ip_hdr_len;
  uint32_t sum = sum_words(0, pkt->ip + SS_IPV4_OFF_SRC, 2 * sizeof(uint32_t));
  sum += SS_IPPROTO_UDP;
  sum += udp_len;
  sum = sum_words(sum, udp, SS_UDP_OFF_CSUM);
  sum = sum_words(sum, udp + SS_UDP_OFF_CSUM + 2, udp_len - SS_UDP_OFF_CSUM - 2);
  uint16_t csum = fold(sum);
  return csum == 0 ? SS_UDP_CSUM_ZERO_AS : csum;
}

void
ss_packet_fix_checksums(ss_packet *pkt)
{
  if (pkt->ip == NULL || pkt->ip_hdr_len < SS_IPV4_MIN_HLEN)
    return;
  uint8_t *ip = pkt->frame + SS_ETH_HLEN;
  ss_put_be16(ip + SS_IPV4_OFF_CSUM, ss_ipv4_header_checksum(ip, pkt->ip_hdr_len));
  if (pkt->udp == NULL || (pkt->ip_frag & (SS_IPV4_FLAG_MF | SS_IPV4_OFFSET_MASK)))
    return;
  uint8_t *udp = ip + pkt->ip_hdr_len;
  ss_put_be16(udp + SS_UDP_OFF_CSUM, ss_udp_checksum(pkt));
}

/* The destination this segment should see, in host order. */
static uint32_t
segment_destination(uint32_t dst, uint32_t local, uint32_t prefix_len)
{
  if (dst == SS_IPV4_BROADCAST || prefix_len == 0 || prefix_len > SS_IPV4_ADDR_BITS)
    return SS_IPV4_BROADCAST;
  uint32_t mask = prefix_len == SS_IPV4_ADDR_BITS
                    ? SS_IPV4_BROADCAST
                    : ~(SS_IPV4_BROADCAST >> prefix_len);
  if ((dst & mask) == (local & mask))
    return dst;
  /* Point-to-point prefixes have no directed broadcast address. */
  if (prefix_len >= SS_IPV4_P2P_PREFIX)
    return SS_IPV4_BROADCAST;
  return (local & mask) | ~mask;
}

/* Address blocks that are never a broadcast: "this network" (0/8),
 * loopback (127/8) and multicast and reserved (224/4, whose last address is
 * the limited broadcast, tested before). */
#define SS_IPV4_NET_THIS      0x00000000u
#define SS_IPV4_NET_LOOPBACK  0x7f000000u
#define SS_IPV4_MASK_8        0xff000000u
#define SS_IPV4_NET_MULTICAST 0xe0000000u
#define SS_IPV4_MASK_4        0xf0000000u
/* The widest prefix a directed broadcast can belong to leaves two host
 * bits (a /30): its address ends in two one-bits at least. */
#define SS_IPV4_DIRECTED_MIN_HOST_BITS 0x3u

gboolean
ss_frame_check_broadcast_destination(const ss_packet *pkt, uint32_t local_addr_be,
                                     uint32_t local_prefix_len, const char **why)
{
  uint32_t dst = g_ntohl(pkt->ip_dst), local = g_ntohl(local_addr_be);
  const char *reason = NULL;
  if (dst == SS_IPV4_BROADCAST)
    return TRUE;
  if ((dst & SS_IPV4_MASK_8) == SS_IPV4_NET_THIS || (dst & SS_IPV4_MASK_8) == SS_IPV4_NET_LOOPBACK ||
      (dst & SS_IPV4_MASK_4) == SS_IPV4_NET_MULTICAST ||
      (dst & SS_IPV4_MASK_4) == SS_IPV4_MASK_4) {
    reason = "IPv4 destination is not a broadcast address (this-network, loopback or multicast)";
  } else if (local_prefix_len > 0 && local_prefix_len <= SS_IPV4_ADDR_BITS) {
    uint32_t mask = local_prefix_len == SS_IPV4_ADDR_BITS ? SS_IPV4_BROADCAST
                                                          : ~(SS_IPV4_BROADCAST >> local_prefix_len);
    /* /31 and /32 have no broadcast address of their own. */
    if ((dst & mask) == (local & mask) &&
        (local_prefix_len >= SS_IPV4_P2P_PREFIX || (dst | mask) != SS_IPV4_BROADCAST))
      reason = "IPv4 destination is a host of this segment, not its broadcast address";
  }
  if (!reason && (dst & SS_IPV4_DIRECTED_MIN_HOST_BITS) != SS_IPV4_DIRECTED_MIN_HOST_BITS)
    reason = "IPv4 destination is not a broadcast address of any subnet";
  if (reason && why)
    *why = reason;
  return reason == NULL;
}

void
ss_frame_rewrite_for_segment(ss_packet *pkt, const uint8_t own_mac[SS_ETH_ALEN],
                             uint32_t local_addr_be, uint32_t local_prefix_len)
{
  uint8_t *frame = pkt->frame;
  memset(frame + SS_ETH_OFF_DST, SS_ETH_BROADCAST_BYTE, SS_ETH_ALEN);
  memcpy(frame + SS_ETH_OFF_SRC, own_mac, SS_ETH_ALEN);

  uint32_t dst = segment_destination(g_ntohl(pkt->ip_dst), g_ntohl(local_addr_be),
                                     local_prefix_len);
  pkt->ip_dst = g_htonl(dst);
  memcpy(frame + SS_ETH_HLEN + SS_IPV4_OFF_DST, &pkt->ip_dst, sizeof pkt->ip_dst);
  ss_packet_fix_checksums(pkt);
}
