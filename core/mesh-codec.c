/* snowsignal - UDP broadcast relay
 * mesh-codec.c: the "SS" + Ethernet frame mesh message.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>

#include <snowsignal/packet.h>

const uint8_t *
ss_mesh_decode(const uint8_t *msg, size_t len, size_t *frame_len)
{
  if (len < SS_MESH_MAGIC_LEN + SS_ETH_HLEN || memcmp(msg, SS_MESH_MAGIC, SS_MESH_MAGIC_LEN) != 0)
    return NULL;
  *frame_len = len - SS_MESH_MAGIC_LEN;
  return msg + SS_MESH_MAGIC_LEN;
}
