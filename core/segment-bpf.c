/* snowsignal - UDP broadcast relay
 * segment-bpf.c: the classic BPF program that keeps all but candidate frames
 * in the kernel.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <snowsignal/packet.h>
#include "segment.h"

/* Offsets into an untagged Ethernet frame. */
#define OFF_ETH_DST       0
#define OFF_ETH_DST_TAIL  4
#define OFF_ETHERTYPE     12
#define OFF_IP            SS_ETH_HLEN
#define OFF_IP_FRAG       (OFF_IP + 6)
#define OFF_IP_PROTO      (OFF_IP + 9)
#define OFF_UDP_DST_PORT  2            /* from the UDP header, via X */
#define SNAP_ALL          0x40000      /* accept: the whole frame */

/* Layout (k = n_ports, v = 2 untagged only, 5 for one VLAN):
 *   VLAN: ld vlan_tag_present; jeq 0 (untagged) or 1 -> on, else drop;
 *         [ld vlan_tag; and 0xfff; jeq vid -> on, else drop]
 *   v+0 ldh [12]; v+1 jeq IPv4; v+2 ld [0]; v+3 jeq 0xffffffff; v+4 ldh [4];
 *   v+5 jeq 0xffff; v+6 ldb [23]; v+7 jeq UDP; v+8 ldh [20];
 *   v+9 jset offset -> accept; v+10 ldxb 4*([14]&0xf); v+11 ldh [x+16];
 *   v+12.. jeq port_i -> accept; v+12+k ret 0; v+13+k ret all
 * The kernel takes the 802.1Q tag off a frame before packet sockets see
 * it (into the tag fields the VLAN tests read), so a tagged frame looks
 * untagged at [12]: only the ancillary fields tell. */
unsigned
ss_segment_build_bpf(const uint16_t *ports, unsigned n_ports, unsigned vlan,
                     struct sock_filter *prog, unsigned cap)
{
  const unsigned v = vlan ? 5 : 2;
  const unsigned n = v + 14 + n_ports;
  if (n_ports == 0 || n > cap || n_ports > 200 || vlan > SS_VLAN_MAX)
    return 0;
  const unsigned drop = v + 12 + n_ports, accept = v + 13 + n_ports;
  unsigned i = 0;
#define J(code, k, target_true, target_false)                                  \
  prog[i] = (struct sock_filter) BPF_JUMP(code, k, (target_true) - i - 1, (target_false) - i - 1), i++
#define S(code, k) prog[i] = (struct sock_filter) BPF_STMT(code, k), i++
  S(BPF_LD | BPF_W | BPF_ABS, (uint32_t) (SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT));
  J(BPF_JMP | BPF_JEQ | BPF_K, vlan ? 1 : 0, i + 1, drop);
  if (vlan) {
    S(BPF_LD | BPF_W | BPF_ABS, (uint32_t) (SKF_AD_OFF + SKF_AD_VLAN_TAG));
    S(BPF_ALU | BPF_AND | BPF_K, SS_VLAN_VID_MASK);
    J(BPF_JMP | BPF_JEQ | BPF_K, vlan, i + 1, drop);
  }
  S(BPF_LD | BPF_H | BPF_ABS, OFF_ETHERTYPE);
  J(BPF_JMP | BPF_JEQ | BPF_K, SS_ETH_P_IPV4, i + 1, drop);
  S(BPF_LD | BPF_W | BPF_ABS, OFF_ETH_DST);
  J(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffu, i + 1, drop);
  S(BPF_LD | BPF_H | BPF_ABS, OFF_ETH_DST_TAIL);
  J(BPF_JMP | BPF_JEQ | BPF_K, 0xffffu, i + 1, drop);
  S(BPF_LD | BPF_B | BPF_ABS, OFF_IP_PROTO);
  J(BPF_JMP | BPF_JEQ | BPF_K, SS_IPPROTO_UDP, i + 1, drop);
  S(BPF_LD | BPF_H | BPF_ABS, OFF_IP_FRAG);
  /* A non-first fragment carries no UDP header: let reassembly decide. */
  J(BPF_JMP | BPF_JSET | BPF_K, SS_IPV4_OFFSET_MASK, accept, i + 1);
  S(BPF_LDX | BPF_B | BPF_MSH, OFF_IP);
  S(BPF_LD | BPF_H | BPF_IND, OFF_IP + OFF_UDP_DST_PORT);
  for (unsigned p = 0; p < n_ports; p++)
    J(BPF_JMP | BPF_JEQ | BPF_K, ports[p], accept, p + 1 < n_ports ? i + 1 : drop);
  S(BPF_RET | BPF_K, 0);
  S(BPF_RET | BPF_K, SNAP_ALL);
#undef J
#undef S
  return i;
}
