/* snowsignal - UDP broadcast relay
 * dedup.c: the fingerprint table of dedup.h.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>

#include "dedup.h"

#define WAYS 4u

typedef struct {
  uint64_t fp;            /* 0: empty */
  int64_t noted_us;
} entry;

struct ss_dedup {
  int64_t window_us;
  unsigned window_ms;
  uint64_t seed;
  unsigned bucket_mask;   /* buckets - 1 */
  guint64 evicted;
  entry *entries;         /* buckets * WAYS */
  uint8_t *how;           /* ss_seen of each entry */
  uint8_t *macs;          /* SS_ETH_ALEN bytes each: the captured source, or zeros */
};

/* splitmix64's finaliser: every input bit reaches every output bit. */
static inline uint64_t
mix64(uint64_t x)
{
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

static inline uint64_t
absorb(uint64_t h, uint64_t word)
{
  return mix64(h ^ word) + 0x9e3779b97f4a7c15ull;
}

ss_dedup *
ss_dedup_new(unsigned window_ms, unsigned entries)
{
  ss_dedup *dd = g_new0(ss_dedup, 1);
  unsigned buckets = 1;
  while (buckets * WAYS < entries && buckets < (1u << 24))
    buckets <<= 1;
  dd->bucket_mask = buckets - 1;
  dd->window_ms = window_ms;
  dd->window_us = (int64_t) window_ms * 1000;
  dd->seed = ((uint64_t) g_random_int() << 32) | g_random_int();
  dd->entries = g_new0(entry, (gsize) buckets * WAYS);
  dd->how = g_new0(uint8_t, (gsize) buckets * WAYS);
  dd->macs = g_new0(uint8_t, (gsize) buckets * WAYS * SS_ETH_ALEN);
  return dd;
}

void
ss_dedup_free(ss_dedup *dd)
{
  if (!dd)
    return;
  g_free(dd->entries);
  g_free(dd->how);
  g_free(dd->macs);
  g_free(dd);
}

unsigned
ss_dedup_get_window_ms(const ss_dedup *dd)
{
  return dd->window_ms;
}

guint64
ss_dedup_get_evicted(const ss_dedup *dd)
{
  return dd->evicted;
}

uint64_t
ss_dedup_fingerprint(const ss_dedup *dd, const ss_packet *pkt)
{
  uint64_t h = dd->seed;
  h = absorb(h, ((uint64_t) pkt->ip_src << 32) | ((uint64_t) pkt->ip_id << 16));
  h = absorb(h, ((uint64_t) pkt->udp_src_port << 16) | pkt->udp_dst_port |
                  ((uint64_t) pkt->payload_len << 32));
  const uint8_t *p = pkt->payload;
  size_t n = pkt->payload_len;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    h = absorb(h, w);
  }
  if (n) {
    uint64_t w = 0;
    memcpy(&w, p, n);
    h = absorb(h, w ^ ((uint64_t) n << 56));
  }
  h = mix64(h);
  return h ? h : 1;
}

static inline entry *
bucket_of(const ss_dedup *dd, uint64_t fp, size_t *first)
{
  /* The high bits pick the bucket: the low ones are in the stored value. */
  *first = (size_t) ((fp >> 40) & dd->bucket_mask) * WAYS;
  return dd->entries + *first;
}

static inline gboolean
live(const ss_dedup *dd, const entry *e, int64_t now_us)
{
  return e->fp != 0 && now_us - e->noted_us < dd->window_us;
}

ss_seen
ss_dedup_lookup_from(const ss_dedup *dd, uint64_t fp, int64_t now_us, uint8_t mac[SS_ETH_ALEN])
{
  size_t first;
  const entry *b = bucket_of(dd, fp, &first);
  for (unsigned i = 0; i < WAYS; i++)
    if (b[i].fp == fp && live(dd, &b[i], now_us)) {
      if (mac)
        memcpy(mac, dd->macs + (first + i) * SS_ETH_ALEN, SS_ETH_ALEN);
      return (ss_seen) dd->how[first + i];
    }
  return SS_SEEN_NONE;
}

ss_seen
ss_dedup_lookup(const ss_dedup *dd, uint64_t fp, int64_t now_us)
{
  return ss_dedup_lookup_from(dd, fp, now_us, NULL);
}

void
ss_dedup_note(ss_dedup *dd, uint64_t fp, ss_seen how, int64_t now_us)
{
  ss_dedup_note_from(dd, fp, how, now_us, NULL);
}

void
ss_dedup_note_from(ss_dedup *dd, uint64_t fp, ss_seen how, int64_t now_us,
                   const uint8_t mac[SS_ETH_ALEN])
{
  if (dd->window_us == 0)
    return;
  size_t first;
  entry *b = bucket_of(dd, fp, &first);
  unsigned victim = WAYS;
  for (unsigned i = 0; i < WAYS && victim == WAYS; i++)
    if (b[i].fp == fp)
      victim = i;
  for (unsigned i = 0; i < WAYS && victim == WAYS; i++)
    if (!live(dd, &b[i], now_us))
      victim = i;
  if (victim == WAYS) {
    victim = 0;
    for (unsigned i = 1; i < WAYS; i++)
      if (b[i].noted_us < b[victim].noted_us)
        victim = i;
    dd->evicted++;
  }
  b[victim].fp = fp;
  b[victim].noted_us = now_us;
  dd->how[first + victim] = (uint8_t) how;
  uint8_t *m = dd->macs + (first + victim) * SS_ETH_ALEN;
  if (mac)
    memcpy(m, mac, SS_ETH_ALEN);
  else
    memset(m, 0, SS_ETH_ALEN);
}
