/* snowsignal - UDP broadcast relay
 * frame.h: header offsets, checksums and the rewrite a relayed frame gets
 * before it is broadcast on this segment (internal, not installed).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SNOWSIGNAL_CORE_FRAME_H
#define SNOWSIGNAL_CORE_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include <snowsignal/packet.h>

G_BEGIN_DECLS

/* Ethernet header layout. */
#define SS_ETH_OFF_DST        0
#define SS_ETH_OFF_SRC        6
#define SS_ETH_OFF_TYPE       12
#define SS_ETH_BROADCAST_BYTE 0xff

/* IPv4 header layout (RFC 791). */
#define SS_IPV4_VERSION       4
#define SS_IPV4_OFF_VER_IHL   0
#define SS_IPV4_OFF_TOTLEN    2
#define SS_IPV4_OFF_ID        4
#define SS_IPV4_OFF_FRAG      6
#define SS_IPV4_OFF_TTL       8
#define SS_IPV4_OFF_PROTO     9
#define SS_IPV4_OFF_CSUM      10
#define SS_IPV4_OFF_SRC       12
#define SS_IPV4_OFF_DST       16
#define SS_IPV4_IHL_MASK      0x0f
#define SS_IPV4_IHL_UNIT      4     /* IHL counts 32-bit words */
#define SS_IPV4_FRAG_UNIT     8     /* fragment offsets count 8-byte blocks */
#define SS_IPV4_MAX_TOTAL_LEN 65535
#define SS_IPV4_BROADCAST     0xffffffffu  /* 255.255.255.255, host order */
#define SS_IPV4_ADDR_BITS     32
#define SS_IPV4_P2P_PREFIX    31    /* /31 and /32 have no directed broadcast */

/* IPv4 options (RFC 791 section 3.1). */
#define SS_IPV4_OPT_EOL       0
#define SS_IPV4_OPT_NOP       1
#define SS_IPV4_OPT_COPIED    0x80  /* copy into every fragment */
#define SS_IPV4_OPT_MIN_LEN   2     /* type and length bytes */

/* UDP header layout (RFC 768). */
#define SS_UDP_OFF_SPORT      0
#define SS_UDP_OFF_DPORT      2
#define SS_UDP_OFF_LEN        4
#define SS_UDP_OFF_CSUM       6
/* A computed UDP checksum of zero is sent as all ones, since zero on the
 * wire means "no checksum". */
#define SS_UDP_CSUM_ZERO_AS   0xffff

/* Reads a big-endian 16-bit field. */
static inline uint16_t
ss_get_be16(const uint8_t *p)
{
  return (uint16_t) ((p[0] << 8) | p[1]);
}

static inline void
ss_put_be16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t) (v >> 8);
  p[1] = (uint8_t) v;
}

/* Checks what the inbound path must be sure of before a frame received from
 * the mesh is broadcast here: @pkt was parsed with SS_PARSE_OK (a whole UDP
 * datagram, not a fragment), its lengths agree with each other, the Ethernet
 * destination is broadcast, and the UDP destination port is one of @ports
 * (host order; an empty list matches nothing).  Any IP destination is
 * accepted: the sender's subnet cannot be known here, and the rewrite maps
 * it onto this segment.  On FALSE, *@why (if @why is not NULL) is set to a
 * fixed English phrase; on TRUE it is left untouched. */
gboolean ss_frame_check_relayable(const ss_packet *pkt, const uint16_t *ports,
                                   size_t n_ports, const char **why);

/* Checks that a frame from the mesh is a broadcast at the IP layer too, so
 * that no peer can make this relay deliver a datagram to one host: its
 * IPv4 destination must be 255.255.255.255, or a directed broadcast.
 * Inside this segment's subnet (@local_addr_be, network order, and
 * @local_prefix_len; a prefix of 0 is unknown) only the subnet's broadcast
 * address is one; outside it, an address whose host part is all ones for
 * some prefix up to /30 (the rewrite maps it onto this segment).
 * This-network, loopback and multicast addresses never are.  On FALSE,
 * *@why (if not NULL) is set to a fixed English phrase. */
gboolean ss_frame_check_broadcast_destination(const ss_packet *pkt, uint32_t local_addr_be,
                                              uint32_t local_prefix_len, const char **why);

/* Returns the value the checksum field of the IPv4 header at @ip (of
 * @hdr_len bytes, options included, at least SS_IPV4_MIN_HLEN) must hold.
 * The field's current contents are ignored, so a header is valid when the
 * result equals the stored field. */
uint16_t ss_ipv4_header_checksum(const uint8_t *ip, unsigned hdr_len);

/* Returns the UDP checksum for the whole datagram of @pkt (pseudo-header
 * included, the checksum field ignored), already mapped so that it never
 * is 0.  @pkt must be a parsed whole datagram (@pkt->udp not NULL, not a
 * fragment). */
uint16_t ss_udp_checksum(const ss_packet *pkt);

/* Rewrites the IPv4 header checksum, and the UDP checksum when @pkt holds a
 * whole datagram.  The UDP checksum is always computed, even when the
 * sender left it 0 (disabled): captures on veth or offloading NICs carry
 * partial values, and a correct checksum costs nothing to a receiver. */
void ss_packet_fix_checksums(ss_packet *pkt);

/* Makes a frame received from the mesh fit this segment (DESIGN.md section
 * 4): Ethernet destination broadcast, Ethernet source @own_mac, IP source
 * and UDP source port kept, IP options kept.  An IP destination of
 * 255.255.255.255 stays; one outside the local subnet
 * (@local_addr_be/@local_prefix_len, address in network order) is a
 * directed broadcast of the sender's subnet and becomes this subnet's
 * broadcast address (255.255.255.255 on a /31 or /32, which have none); a
 * prefix length of 0 (unknown) or above 32 makes it 255.255.255.255.  Checksums are then recomputed and the view updated.
 * @pkt must be a parsed whole datagram. */
void ss_frame_rewrite_for_segment(ss_packet *pkt, const uint8_t own_mac[SS_ETH_ALEN],
                                   uint32_t local_addr_be, uint32_t local_prefix_len);

G_END_DECLS

#endif /* SNOWSIGNAL_CORE_FRAME_H */
