/* snowsignal - UDP broadcast relay
 * fuzz-mesh.c: any bytes as a datagram arriving from the mesh, through the
 * mesh codec and the relay's whole inbound path (frame checks, the inbound
 * chain, the rewrite for the segment).  The relay has no segment socket, so
 * a frame that passes everything ends as SS_DELIVER_EMIT_FAILED, or as
 * SS_DELIVER_DROPPED when the same frame came within the duplicate window
 * (or over the peer rate limit); IPv4 fragments go to reassembly;
 * the target checks that exactly the frames an independent parse calls
 * relayable get that far.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>

#include "frame.h"
#include "relay.h"
#include "fuzz.h"

static const uint16_t relayed_port = 5076;
static uint8_t copy[SS_FRAME_MAX];

static ss_relay *
fuzz_relay(void)
{
  static ss_relay *relay;
  if (!relay) {
    ss_conf *conf = ss_conf_load_string("version = 1;\nbroadcast_ports = [ 5076 ];\n", "fuzz", NULL);
    FUZZ_CHECK(conf != NULL);
    relay = ss_relay_new(conf, NULL);
    FUZZ_CHECK(relay != NULL);
  }
  return relay;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  size_t frame_len = 0;
  const uint8_t *frame = ss_mesh_decode(data, size, &frame_len);
  if (!frame) {
    FUZZ_CHECK(size < SS_MESH_MAGIC_LEN + SS_ETH_HLEN ||
               memcmp(data, SS_MESH_MAGIC, SS_MESH_MAGIC_LEN) != 0);
    return 0;
  }
  FUZZ_CHECK(frame == data + SS_MESH_MAGIC_LEN && frame_len == size - SS_MESH_MAGIC_LEN);
  gboolean relayable = FALSE, fragment = FALSE;
  if (frame_len <= sizeof copy) {
    ss_packet pkt;
    memcpy(copy, frame, frame_len);
    ss_parse_result pr = ss_packet_parse(&pkt, copy, frame_len, SS_DIRECTION_INBOUND);
    fragment = pr == SS_PARSE_FRAGMENT;
    relayable = pr == SS_PARSE_OK && ss_frame_check_relayable(&pkt, &relayed_port, 1, NULL) &&
                ss_frame_check_broadcast_destination(&pkt, 0, 0, NULL);
  }
  ss_deliver_result r = ss_relay_deliver(fuzz_relay(), NULL, frame, frame_len);
  if (fragment) {
    /* Held for reassembly, refused by it, or completing a datagram whose
     * fate depends on the fragments before it. */
    FUZZ_CHECK(r == SS_DELIVER_DROPPED || r == SS_DELIVER_INVALID ||
               r == SS_DELIVER_EMIT_FAILED);
  } else {
    FUZZ_CHECK(relayable ? (r == SS_DELIVER_EMIT_FAILED || r == SS_DELIVER_DROPPED)
                         : r == SS_DELIVER_INVALID);
  }
  /* The caller's bytes are never written. */
  FUZZ_CHECK(memcmp(frame, data + SS_MESH_MAGIC_LEN, frame_len) == 0);
  return 0;
}
