/* snowsignal - UDP broadcast relay
 * ratelimit.h: how many frames one sender may make the relay carry.
 *
 * A token bucket per IPv4 address: @rate tokens a second, at most @rate
 * held (a second's worth of burst), a new address starting full.  One
 * frame takes one token; a frame that finds none is dropped by the
 * caller and counted.  So one host that floods its segment, or one peer
 * that floods the mesh, gets its share and no more, while every other
 * sender's frames go on.
 *
 * The table is fixed in size (no allocation after ss_rate_table_new()):
 * 4-way buckets of addresses; when all four are taken the one idle the
 * longest gives way (it starts full again when it comes back, which errs
 * on the side of relaying).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SS_CORE_RATELIMIT_H
#define SS_CORE_RATELIMIT_H

#include <stdint.h>
#include <glib.h>

/* Defaults of source_rate_limit and peer_rate_limit, frames a second: a
 * large facility's restart has every client search for every channel at
 * once, some thousands a second from one host; a peer carries a whole
 * segment. */
#define SS_DEFAULT_SOURCE_RATE_LIMIT 10000
#define SS_DEFAULT_PEER_RATE_LIMIT   50000
#define SS_MAX_RATE_LIMIT            10000000
/* Addresses tracked at once. */
#define SS_RATE_ENTRIES              4096

typedef struct ss_rate_table ss_rate_table;

/* A table of @entries addresses (rounded up to a power of two) allowing
 * @rate frames a second each. */
ss_rate_table *ss_rate_table_new(unsigned rate, unsigned entries);
void ss_rate_table_free(ss_rate_table *rt);

/* Takes a token of @addr at @now_us (monotonic); FALSE when it has none
 * left. */
gboolean ss_rate_allow(ss_rate_table *rt, uint32_t addr, int64_t now_us);

#endif
