/* snowsignal - UDP broadcast relay
 * packet.h: the packet a chain sees, and its parsed view.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SNOWSIGNAL_PACKET_H
#define SNOWSIGNAL_PACKET_H

#include <stddef.h>
#include <stdint.h>
#include <glib.h>

G_BEGIN_DECLS

/* Protocol constants, named once. */
#define SS_ETH_ALEN          6
#define SS_ETH_HLEN          14
#define SS_ETH_P_IPV4        0x0800
#define SS_IPV4_MIN_HLEN     20
#define SS_IPV4_MAX_HLEN     60
#define SS_IPPROTO_UDP       17
#define SS_UDP_HLEN          8
#define SS_IPV4_FLAG_MF      0x2000
#define SS_IPV4_FLAG_DF      0x4000
#define SS_IPV4_OFFSET_MASK  0x1fff
/* Largest Ethernet frame (without FCS) the relay carries: an IPv4 datagram
 * is at most 65535 bytes, so a reassembled datagram plus its Ethernet header
 * fits here. */
#define SS_FRAME_MAX         (SS_ETH_HLEN + 65535)

/* Which way a packet is travelling through the relay. */
typedef enum {
  /* Captured on this relay's segment, about to be sent to the peers. */
  SS_DIRECTION_OUTBOUND = 0,
  /* Received from a peer relay, about to be broadcast on this segment. */
  SS_DIRECTION_INBOUND = 1
} ss_direction;

/* Outcome of ss_packet_parse(). */
typedef enum {
  SS_PARSE_OK = 0,
  SS_PARSE_TRUNCATED,      /* shorter than the headers it announces */
  SS_PARSE_NOT_IPV4,       /* ethertype is not IPv4 (VLAN tags are not relayed) */
  SS_PARSE_BAD_IP_HEADER,  /* version != 4, IHL < 5, or total length < IHL */
  SS_PARSE_NOT_UDP,        /* IP protocol is not UDP */
  SS_PARSE_BAD_UDP_LENGTH, /* UDP length disagrees with the IP datagram */
  SS_PARSE_FRAGMENT        /* a non-first fragment, or a first with MF set:
                            * headers past the IP header may be missing */
} ss_parse_result;

/*
 * One relayed frame and its parsed view.  The core fills every field once per
 * packet (ss_packet_parse()); filters read the view instead of re-parsing.
 *
 * Pointers point into @frame.  Multi-byte numbers in the view are in host
 * byte order, except the IPv4 addresses, which are kept in network byte
 * order (as in struct in_addr) so they compare directly with socket
 * addresses.
 *
 * A filter may edit @frame in place (for example rewrite a payload byte) but
 * must not change its length; the core recomputes checksums on emit.
 */
typedef struct ss_packet {
  uint8_t *frame;             /* Ethernet frame: destination MAC first */
  size_t len;                 /* bytes of @frame in use, padding trimmed */
  ss_direction direction;
  int ifindex;                /* capture/emit interface, 0 when unknown */

  /* Parsed view. */
  const uint8_t *eth_dst;     /* SS_ETH_ALEN bytes */
  const uint8_t *eth_src;     /* SS_ETH_ALEN bytes */
  uint16_t ethertype;
  const uint8_t *ip;          /* start of the IPv4 header */
  unsigned ip_hdr_len;        /* bytes, options included */
  unsigned ip_total_len;      /* from the IPv4 header */
  uint32_t ip_src;            /* network byte order */
  uint32_t ip_dst;            /* network byte order */
  uint16_t ip_id;
  uint16_t ip_frag;           /* flags and fragment offset, host order */
  uint8_t ip_ttl;
  const uint8_t *udp;         /* start of the UDP header; NULL for a non-first fragment */
  uint16_t udp_src_port;
  uint16_t udp_dst_port;
  const uint8_t *payload;     /* UDP payload; NULL when @udp is NULL */
  size_t payload_len;

  /* Reserved for future fields; keeps the struct size stable within an ABI
   * major version. */
  void *reserved[8];
} ss_packet;

/* Parses @frame (of @len bytes, Ethernet padding allowed) into @pkt, whose
 * every field is reset first (ifindex to 0: the caller sets it).
 * On SS_PARSE_OK every view field is set and pkt->len is trimmed to the
 * Ethernet header plus the IP total length. */
ss_parse_result ss_packet_parse(ss_packet *pkt, uint8_t *frame, size_t len,
                                ss_direction direction);

/* A fixed English phrase for a parse result, for log lines. */
const char *ss_parse_result_to_string(ss_parse_result result);

/* The mesh message every transport carries (DESIGN.md section 3, the
 * SnowSignal 0.1.x format): the two bytes "SS", then the whole Ethernet
 * frame.  No version, length or authentication field. */
#define SS_MESH_MAGIC      "SS"
#define SS_MESH_MAGIC_LEN  2

/* The Ethernet frame inside mesh message @msg (of @len bytes), with its
 * length in *@frame_len; NULL when @msg does not start with the magic or
 * is too short to hold an Ethernet header. */
const uint8_t *ss_mesh_decode(const uint8_t *msg, size_t len, size_t *frame_len);

/* TRUE when the Ethernet destination is ff:ff:ff:ff:ff:ff. */
gboolean ss_packet_is_eth_broadcast(const ss_packet *pkt);

/* Receives one frame from ss_packet_fragment(); @frame is valid only during
 * the call. */
typedef void (*ss_packet_fragment_fn)(const uint8_t *frame, size_t len, void *user);

/* Cuts the whole UDP datagram of @pkt (parsed with SS_PARSE_OK) into IPv4
 * fragments of at most @mtu bytes of IP datagram each, as a host on a
 * segment of that MTU would send it, and hands each frame to @emit, first
 * fragment first: checksums are computed on the way (those of @pkt may be
 * partial), @pkt is not changed.  A datagram that fits is handed over
 * whole.  Returns the number of frames, or -1 with none handed over when
 * Don't Fragment is set and it does not fit, or @mtu is below 68 (the
 * least IPv4 allows).  For transports that talk to relays which cannot
 * emit a datagram longer than their MTU (SnowSignal 0.1.2 and later).
 * Uses buffers of the core: call it from the relay's main loop only. */
int ss_packet_fragment(const ss_packet *pkt, unsigned mtu, ss_packet_fragment_fn emit, void *user);

G_END_DECLS

#endif /* SNOWSIGNAL_PACKET_H */
