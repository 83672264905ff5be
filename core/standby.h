/* snowsignal - UDP broadcast relay
 * standby.h: relays that share a segment emit each frame once.
 *
 * Two relays on one segment (an HA pair, two Swarm tasks on a node during
 * a rolling update, two meshes that meet) both receive what a peer sends
 * and would both broadcast it.  Nobody marks frames, so the relays find
 * each other by what they see: when a relay captures, from another MAC, a
 * frame it received from a peer itself, that MAC is another relay emitting
 * on its segment.  The relay with the lowest MAC emits at once; a relay
 * that has seen a lower one emit within SS_STANDBY_TTL_US is on standby:
 * it holds each frame from a peer for SS_STANDBY_HOLD_US and drops it when
 * the frame appears on the segment meanwhile (the other relay emitted it),
 * or emits it when it does not (the other relay is gone or does not carry
 * it) and leaves standby.  So nothing is lost when the emitting relay goes
 * away, and until two relays have seen each other they may both emit
 * (once each: their fingerprint tables stop any loop).
 *
 * Held frames are copied into preallocated slots; a frame longer than a
 * slot, or one that finds every slot taken, is not held but emitted at
 * once.
 *
 * The race that lets two relays find each other (both emit a frame before
 * either sees the other's copy) is never run when one relay is always the
 * faster, on a loaded host: the slower one sees each frame on the segment
 * before its peer's copy comes, and emits nothing.  When that frame's IP
 * source is not on the segment's subnet, only a relay can have emitted it
 * (a host's own broadcast that came round a loop has a source of the
 * segment), so its MAC is taken as a relay's as if the race had run.  If
 * it is the higher MAC, the slower relay claims the segment
 * (ss_standby_claim()): it emits that one frame anyway, and the other,
 * seeing it, stands by.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SS_CORE_STANDBY_H
#define SS_CORE_STANDBY_H

#include <stddef.h>
#include <stdint.h>
#include <glib.h>
#include <snowsignal/packet.h>

/* How long a frame is held: far above the time a relay takes to emit what
 * it received (under a millisecond, bench/RESULTS.md), far below what a
 * PVA client waits before it searches again (about a second). */
#define SS_STANDBY_HOLD_US  (50 * 1000)
/* Standby lasts this long after the lower relay was last seen emitting. */
#define SS_STANDBY_TTL_US   (10 * G_USEC_PER_SEC)
/* Held frames at most, and the longest frame one slot holds (a PVA or CA
 * search is a few hundred bytes). */
#define SS_STANDBY_SLOTS    256
#define SS_STANDBY_SLOT_LEN 1536

typedef struct ss_standby ss_standby;

ss_standby *ss_standby_new(void);
void ss_standby_free(ss_standby *sb);

/* Another relay, @mac, was seen emitting a frame this one received from a
 * peer.  When @mac is lower than @own_mac, the relay goes (or stays) on
 * standby for it. */
void ss_standby_saw_emitter(ss_standby *sb, const uint8_t mac[SS_ETH_ALEN],
                            const uint8_t own_mac[SS_ETH_ALEN], int64_t now_us);

/* A frame from a peer had been captured here, from @mac, before the
 * peer's copy came: @mac emitted it first, if it is a relay.  Only a MAC
 * that ss_standby_saw_emitter() showed to be a relay counts (a frame that
 * came round a loop looks the same, with its sender's MAC); then the
 * relay stands by as there. */
void ss_standby_saw_known_emitter(ss_standby *sb, const uint8_t mac[SS_ETH_ALEN],
                                  const uint8_t own_mac[SS_ETH_ALEN], int64_t now_us);

/* How often a relay claims the segment at the most: against a relay that
 * never stands by (SnowSignal, an older snowsignal), one duplicate frame
 * per interval. */
#define SS_STANDBY_CLAIM_INTERVAL_US G_USEC_PER_SEC

/* Another relay, @mac, emits frames that this one receives from its peers
 * and never emits, being the slower: TRUE when this relay is to emit the
 * current one anyway so that @mac sees it emit (its MAC is higher than
 * @mac's... lower than @mac, this relay not on standby, no claim within
 * SS_STANDBY_CLAIM_INTERVAL_US). */
gboolean ss_standby_claim(ss_standby *sb, const uint8_t mac[SS_ETH_ALEN],
                          const uint8_t own_mac[SS_ETH_ALEN], int64_t now_us);

/* Whether frames from peers are to be held now; when so and @mac is not
 * NULL, the relay emitting in this one's place is copied there. */
gboolean ss_standby_active(const ss_standby *sb, int64_t now_us, uint8_t *mac);

/* Holds a copy of @frame (of @len bytes), known as @fp.  FALSE when it
 * does not fit: the caller emits it now. */
gboolean ss_standby_hold(ss_standby *sb, uint64_t fp, const uint8_t *frame, size_t len,
                         int64_t now_us);

/* The frame @fp appeared on the segment: drops its held copy.  TRUE when
 * one was held. */
gboolean ss_standby_cancel(ss_standby *sb, uint64_t fp);

/* When the oldest held frame is due, or -1 when none is held. */
int64_t ss_standby_next_deadline(const ss_standby *sb);

/* The oldest held frame that is due at @now_us (all of them with @all),
 * skipping cancelled ones; NULL when there is none.  The frame stays valid
 * until the next call.  A frame that comes out this way was not emitted by
 * the other relay, so the relay leaves standby. */
uint8_t *ss_standby_take_due(ss_standby *sb, int64_t now_us, gboolean all, size_t *len);

/* Takes over @from's standby state (not its held frames), for a reload. */
void ss_standby_inherit(ss_standby *to, const ss_standby *from);

#endif
