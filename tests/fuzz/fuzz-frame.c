/* snowsignal - UDP broadcast relay
 * fuzz-frame.c: any bytes as a captured or received frame, through parse,
 * the relayability check, re-fragmentation (reassembled back and compared)
 * and the rewrite for the segment.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>

#include "frame.h"
#include "fragment.h"
#include "fuzz.h"

#define MIN_MTU   68     /* RFC 791: every host must take 68-byte datagrams */
#define MTU_RANGE 1433   /* so MTUs span 68..1500 */

static const uint16_t ports[] = { 5075, 5076 };

static uint8_t scratch[SS_FRAME_MAX];
static uint8_t reassembled[SS_FRAME_MAX];
static uint8_t piece[SS_FRAME_MAX];

typedef struct {
  ss_reassembler *r;
  unsigned mtu;
  int emitted;
  ss_reasm_result last;
  size_t out_len;
} round_trip;

static void
reassemble_piece(const uint8_t *frame, size_t len, void *user)
{
  round_trip *rt = user;
  ss_packet pkt;
  FUZZ_CHECK(len - SS_ETH_HLEN <= rt->mtu);
  memcpy(piece, frame, len);
  FUZZ_CHECK(ss_packet_parse(&pkt, piece, len, SS_DIRECTION_INBOUND) == SS_PARSE_FRAGMENT);
  FUZZ_CHECK(ss_ipv4_header_checksum(pkt.ip, pkt.ip_hdr_len)
             == ss_get_be16(pkt.ip + SS_IPV4_OFF_CSUM));
  rt->last = ss_reassembler_add(rt->r, &pkt, 0, reassembled, sizeof reassembled,
                                &rt->out_len);
  rt->emitted++;
}

static void
count_only(const uint8_t *frame, size_t len, void *user)
{
  (void) frame;
  (void) len;
  (*(int *) user)++;
}

/* Split then reassembled, a datagram must come back byte for byte. */
static void
check_round_trip(const ss_packet *pkt, unsigned mtu)
{
  round_trip rt = { ss_reassembler_new(SS_FRAME_MAX, 1, G_USEC_PER_SEC), mtu, 0,
                    SS_REASM_PENDING, 0 };
  if (pkt->ip_total_len <= mtu) {
    int n = 0;
    FUZZ_CHECK(ss_frame_fragment(pkt, mtu, scratch, sizeof scratch, count_only, &n) == 1);
    FUZZ_CHECK(n == 1);
  } else if (pkt->ip_frag & SS_IPV4_FLAG_DF) {
    FUZZ_CHECK(ss_frame_fragment(pkt, mtu, scratch, sizeof scratch, reassemble_piece, &rt)
               == -1);
    FUZZ_CHECK(rt.emitted == 0);
  } else {
    int n = ss_frame_fragment(pkt, mtu, scratch, sizeof scratch, reassemble_piece, &rt);
    FUZZ_CHECK(n > 1 && n == rt.emitted);
    FUZZ_CHECK(rt.last == SS_REASM_COMPLETE);
    FUZZ_CHECK(rt.out_len == pkt->len);
    FUZZ_CHECK(memcmp(reassembled, pkt->frame, pkt->len) == 0);
  }
  ss_reassembler_free(rt.r);
}

static void
check_rewrite(ss_packet *pkt, const uint8_t *data, size_t size)
{
  static const uint8_t mac[SS_ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x42 };
  uint32_t local = 0;
  memcpy(&local, data, MIN(size, sizeof local));
  size_t len = pkt->len;
  ss_frame_rewrite_for_segment(pkt, mac, local, data[size - 1] % (SS_IPV4_ADDR_BITS + 2));
  FUZZ_CHECK(ss_packet_is_eth_broadcast(pkt));

  ss_packet again;
  FUZZ_CHECK(ss_packet_parse(&again, pkt->frame, len, SS_DIRECTION_INBOUND) == SS_PARSE_OK);
  FUZZ_CHECK(again.len == len && again.ip_dst == pkt->ip_dst);
  FUZZ_CHECK(ss_ipv4_header_checksum(again.ip, again.ip_hdr_len)
             == ss_get_be16(again.ip + SS_IPV4_OFF_CSUM));
  FUZZ_CHECK(ss_udp_checksum(&again) == ss_get_be16(again.udp + SS_UDP_OFF_CSUM));
  FUZZ_CHECK(ss_frame_check_relayable(&again, ports, G_N_ELEMENTS(ports), NULL)
             == (again.udp_dst_port == ports[0] || again.udp_dst_port == ports[1]));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size == 0 || size > SS_FRAME_MAX)
    return 0;
  /* An exact-size copy, so the sanitizer sees any read past the end. */
  uint8_t *frame = g_memdup2(data, size);
  ss_packet pkt;
  ss_parse_result res = ss_packet_parse(&pkt, frame, size, SS_DIRECTION_INBOUND);
  FUZZ_CHECK(ss_parse_result_to_string(res) != NULL);
  FUZZ_CHECK(pkt.len <= size);
  const char *why = NULL;
  gboolean ok = ss_frame_check_relayable(&pkt, ports, G_N_ELEMENTS(ports), &why);
  FUZZ_CHECK(ok == (res == SS_PARSE_OK && ss_packet_is_eth_broadcast(&pkt)
                    && (pkt.udp_dst_port == ports[0] || pkt.udp_dst_port == ports[1])));
  FUZZ_CHECK(ok || why != NULL);

  unsigned mtu = MIN_MTU + data[0] % MTU_RANGE;
  if (res == SS_PARSE_OK) {
    ss_packet_fix_checksums(&pkt);
    check_round_trip(&pkt, mtu);
    check_rewrite(&pkt, data, size);
  } else if (res == SS_PARSE_FRAGMENT) {
    int n = 0;
    ss_frame_fragment(&pkt, mtu, scratch, sizeof scratch, count_only, &n);
  }
  g_free(frame);
  return 0;
}
