/* snowsignal - UDP broadcast relay
 * ratelimit.c: the token buckets of ratelimit.h.
 *
 * Tokens are kept in millionths, so that refilling at @rate a second
 * needs only integer arithmetic per frame: elapsed microseconds times
 * @rate.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include "ratelimit.h"

#define WAYS      4u
#define TOKEN     G_USEC_PER_SEC   /* one frame, in millionths of a token */

typedef struct {
  uint32_t addr;
  gboolean used;
  int64_t tokens;                  /* millionths */
  int64_t last_us;                 /* last refill */
} bucket;

struct ss_rate_table {
  int64_t rate;                    /* tokens a second */
  int64_t cap;                     /* millionths: a second's worth */
  unsigned mask;                   /* sets - 1 */
  bucket *buckets;                 /* sets * WAYS */
};

ss_rate_table *
ss_rate_table_new(unsigned rate, unsigned entries)
{
  ss_rate_table *rt = g_new0(ss_rate_table, 1);
  unsigned sets = 1;
  while (sets * WAYS < entries && sets < (1u << 20))
    sets <<= 1;
  rt->mask = sets - 1;
  rt->rate = rate;
  rt->cap = (int64_t) rate * TOKEN;
  rt->buckets = g_new0(bucket, (gsize) sets * WAYS);
  return rt;
}

void
ss_rate_table_free(ss_rate_table *rt)
{
  if (!rt)
    return;
  g_free(rt->buckets);
  g_free(rt);
}

static inline unsigned
set_of(const ss_rate_table *rt, uint32_t addr)
{
  /* Fibonacci hashing: neighbouring addresses land far apart. */
  return (unsigned) ((addr * 2654435769u) >> 12) & rt->mask;
}

gboolean
ss_rate_allow(ss_rate_table *rt, uint32_t addr, int64_t now_us)
{
  bucket *set = rt->buckets + (size_t) set_of(rt, addr) * WAYS;
  bucket *b = NULL, *idlest = set;
  for (unsigned i = 0; i < WAYS && !b; i++) {
    if (set[i].used && set[i].addr == addr)
      b = &set[i];
    else if (!set[i].used || (idlest->used && set[i].last_us < idlest->last_us))
      idlest = &set[i];
  }
  if (!b) {
    b = idlest;
    *b = (bucket) { .addr = addr, .used = TRUE, .tokens = rt->cap, .last_us = now_us };
  } else if (now_us > b->last_us) {
    int64_t elapsed = now_us - b->last_us;
    /* A bucket idle for a second or more is full whatever the rate; this
     * also keeps the product below from overflowing. */
    b->tokens = elapsed >= G_USEC_PER_SEC ? rt->cap : MIN(rt->cap, b->tokens + elapsed * rt->rate);
    b->last_us = now_us;
  }
  if (b->tokens < TOKEN)
    return FALSE;
  b->tokens -= TOKEN;
  return TRUE;
}
