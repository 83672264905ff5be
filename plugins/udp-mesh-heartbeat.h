/* snowsignal - UDP broadcast relay
 * udp-mesh-heartbeat.h: peer health for the udp-mesh transport.
 *
 * Every heartbeat_interval seconds the relay sends each peer a 16-byte
 * ping on the mesh socket; a peer answers with a pong carrying the same
 * sequence number; the round trip and the pings left unanswered by the
 * next tick go to the core (ss_peer_note_heartbeat()), which keeps the
 * figures for status and says up or down.
 *
 *   "SH" version(1) type(1: ping, 2: pong) sequence(4) stamp(8), big endian
 *
 * The magic is not "SS": SnowSignal 0.1.x drops such a datagram (and logs
 * it), so a peer that has never answered is pinged only every
 * SS_HEARTBEAT_QUIET_TICKS ticks after its first few pings, which keeps a
 * mixed mesh quiet.  Only peers are answered and only answers to this
 * relay's own outstanding ping count: a pong is no larger than its ping
 * and strangers get nothing, so heartbeats reflect nothing at anyone.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SS_PLUGINS_UDP_MESH_HEARTBEAT_H
#define SS_PLUGINS_UDP_MESH_HEARTBEAT_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <snowsignal/snowsignal.h>

#define SS_HEARTBEAT_MAGIC       "SH"
#define SS_HEARTBEAT_LEN         16
/* Unanswered pings after which a peer that never answered is pinged only
 * every SS_HEARTBEAT_QUIET_TICKS ticks (a minute at the default 5 s). */
#define SS_HEARTBEAT_QUIET_AFTER 3
#define SS_HEARTBEAT_QUIET_TICKS 12

typedef struct mesh_heartbeat mesh_heartbeat;

mesh_heartbeat *mesh_heartbeat_new(ss_instance *inst, unsigned interval_s, uint16_t port);
void mesh_heartbeat_free(mesh_heartbeat *hb);
/* Starts the timer; pings leave from @fd (the mesh socket). */
void mesh_heartbeat_start(mesh_heartbeat *hb, int fd);
void mesh_heartbeat_stop(mesh_heartbeat *hb);
/* Forgets peers no longer in the set. */
void mesh_heartbeat_peers_changed(mesh_heartbeat *hb);

/* Whether a mesh datagram is a heartbeat (by its magic). */
gboolean mesh_heartbeat_is(const uint8_t *buf, size_t len);
/* A heartbeat datagram from @peer (never a stranger) at @from. */
void mesh_heartbeat_receive(mesh_heartbeat *hb, ss_peer *peer, const uint8_t *buf, size_t len,
                            const struct sockaddr_in *from);

#endif
