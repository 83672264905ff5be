/* snowsignal - UDP broadcast relay
 * dedup.h: what this relay sent or emitted lately, by fingerprint, so that
 * it neither relays its own emissions again nor emits one frame twice.
 *
 * No relay, sender or SnowSignal 0.1.x marks its frames, so a frame is
 * known by what every copy of it keeps on its way through any relay: the
 * IPv4 source, the IP identification, the UDP ports and the UDP payload
 * (the destination address, TTL, checksums and the Ethernet header are
 * rewritten on the way).  A fragmented datagram is known by its
 * reassembled whole.
 *
 * The table is fixed in size (no allocation after ss_dedup_new()): 4-way
 * buckets, each entry a 64-bit fingerprint, when it was last noted, how,
 * and for a captured frame its Ethernet source.  An
 * entry counts while it is younger than the window; when a bucket is full
 * of live entries the oldest gives way, so under a load beyond the table's
 * size the window shrinks to what the table holds (a loop between relays
 * turns around in milliseconds, far inside that).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SS_CORE_DEDUP_H
#define SS_CORE_DEDUP_H

#include <stdint.h>
#include <glib.h>
#include <snowsignal/packet.h>

/* The default window, and the bounds of the duplicate_window_ms setting
 * (0 turns the table off). */
#define SS_DEFAULT_DUPLICATE_WINDOW_MS 2000
#define SS_MAX_DUPLICATE_WINDOW_MS     60000
/* Entries of the table: 23 bytes each, 368 KiB in all, touched only as
 * fingerprints arrive.  Holds the whole 2 s window up to 8,000 frames/s;
 * at 100,000 frames/s it still holds 160 ms, a hundred times what a loop
 * between relays takes to turn (bench/RESULTS.md: 65536 entries cost
 * 1.1 MB of RSS under load for nothing a loop needs). */
#define SS_DEDUP_ENTRIES               16384

/* How a fingerprint came to be noted. */
typedef enum {
  SS_SEEN_NONE = 0,
  SS_SEEN_RELAYED = 1,    /* captured here and sent to the peers */
  SS_SEEN_DELIVERED = 2   /* received from a peer: emitted here, or held */
} ss_seen;

typedef struct ss_dedup ss_dedup;

/* A table of @entries (rounded up to a power of two, at least one bucket)
 * whose entries count for @window_ms.  The fingerprints it takes are
 * keyed with a random seed, so that nobody outside can make two different
 * frames collide on purpose. */
ss_dedup *ss_dedup_new(unsigned window_ms, unsigned entries);
void ss_dedup_free(ss_dedup *dd);
unsigned ss_dedup_get_window_ms(const ss_dedup *dd);

/* The fingerprint of the whole UDP datagram @pkt (parsed with
 * SS_PARSE_OK), never 0. */
uint64_t ss_dedup_fingerprint(const ss_dedup *dd, const ss_packet *pkt);

/* How @fp was noted, if it was within the window before @now_us
 * (monotonic microseconds); SS_SEEN_NONE otherwise. */
ss_seen ss_dedup_lookup(const ss_dedup *dd, uint64_t fp, int64_t now_us);

/* Notes @fp at @now_us as @how (the newest note of a fingerprint wins). */
void ss_dedup_note(ss_dedup *dd, uint64_t fp, ss_seen how, int64_t now_us);

/* The same, for a frame captured on the segment: @mac, its Ethernet
 * source, is kept with the note (a relay that emitted it, perhaps). */
void ss_dedup_note_from(ss_dedup *dd, uint64_t fp, ss_seen how, int64_t now_us,
                        const uint8_t mac[SS_ETH_ALEN]);
/* ss_dedup_lookup(), and when @mac is not NULL the source kept with the
 * note copied there (zeros when none was). */
ss_seen ss_dedup_lookup_from(const ss_dedup *dd, uint64_t fp, int64_t now_us,
                             uint8_t mac[SS_ETH_ALEN]);

/* Live entries that gave way to newer ones before their window was over:
 * not zero means the table was too small for the traffic. */
guint64 ss_dedup_get_evicted(const ss_dedup *dd);

#endif
