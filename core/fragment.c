/* snowsignal - UDP broadcast relay
 * fragment.c: IPv4 reassembly, bounded in memory and time (the splitting
 * on emit is in refragment.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>

#include "frame.h"
#include "fragment.h"

/* The largest IP payload a datagram with a minimal header can carry; no
 * fragment may end past it. */
#define MAX_PAYLOAD  (SS_IPV4_MAX_TOTAL_LEN - SS_IPV4_MIN_HLEN)
#define MAX_BLOCKS   ((MAX_PAYLOAD + SS_IPV4_FRAG_UNIT - 1) / SS_IPV4_FRAG_UNIT)
#define BITMAP_BYTES ((MAX_BLOCKS + 7) / 8)
/* Buffers grow in steps of this many bytes, so in-order fragments of a
 * large datagram do not reallocate each time. */
#define BUF_GRAIN    4096

typedef struct {
  gboolean used;
  uint32_t src, dst;            /* network order, as in the packet view */
  uint16_t id;
  uint8_t proto;
  int64_t deadline;
  unsigned header_len;          /* Ethernet + IP header of the first fragment; 0 until seen */
  uint8_t header[SS_ETH_HLEN + SS_IPV4_MAX_HLEN];
  gboolean have_last;
  size_t data_end;              /* IP payload length, once the last fragment came */
  size_t max_end;               /* furthest byte any fragment reached */
  size_t blocks_set;
  uint8_t *buf;                 /* the IP payload, at fragment offsets */
  size_t cap;
  uint8_t bitmap[BITMAP_BYTES]; /* 8-byte blocks received */
} slot;

struct ss_reassembler {
  size_t max_bytes;
  size_t used_bytes;
  int64_t timeout_us;
  unsigned n_slots;
  slot *slots;
  ss_reasm_counters counters;
};

/* What placing one fragment into its slot led to. */
typedef enum {
  PLACE_OK,
  PLACE_DUPLICATE,
  PLACE_OVERLAP,
  PLACE_MALFORMED,
  PLACE_NO_ROOM
} place_result;

ss_reassembler *
ss_reassembler_new(size_t max_bytes, unsigned max_datagrams, int64_t timeout_us)
{
  ss_reassembler *r = g_new0(ss_reassembler, 1);
  r->max_bytes = max_bytes;
  r->timeout_us = timeout_us;
  r->n_slots = max_datagrams;
  r->slots = g_new0(slot, max_datagrams);
  return r;
}

void
ss_reassembler_free(ss_reassembler *r)
{
  if (r == NULL)
    return;
  for (unsigned i = 0; i < r->n_slots; i++)
    g_free(r->slots[i].buf);
  g_free(r->slots);
  g_free(r);
}

/* Keeps the buffer for the next datagram; only the part of the bitmap a
 * datagram can have touched needs clearing. */
static void
release(slot *s)
{
  size_t blocks = (s->max_end + SS_IPV4_FRAG_UNIT - 1) / SS_IPV4_FRAG_UNIT;
  memset(s->bitmap, 0, MIN((blocks + 7) / 8, sizeof s->bitmap));
  s->used = FALSE;
  s->header_len = 0;
  s->have_last = FALSE;
  s->data_end = 0;
  s->max_end = 0;
  s->blocks_set = 0;
}

unsigned
ss_reassembler_expire(ss_reassembler *r, int64_t now_us)
{
  unsigned n = 0;
  for (unsigned i = 0; i < r->n_slots; i++) {
    slot *s = &r->slots[i];
    if (s->used && s->deadline <= now_us) {
      release(s);
      r->counters.timed_out++;
      n++;
    }
  }
  return n;
}

int64_t
ss_reassembler_next_deadline(const ss_reassembler *r)
{
  int64_t next = -1;
  for (unsigned i = 0; i < r->n_slots; i++) {
    const slot *s = &r->slots[i];
    if (s->used && (next < 0 || s->deadline < next))
      next = s->deadline;
  }
  return next;
}

unsigned
ss_reassembler_pending(const ss_reassembler *r)
{
  unsigned n = 0;
  for (unsigned i = 0; i < r->n_slots; i++)
    n += r->slots[i].used ? 1 : 0;
  return n;
}

size_t
ss_reassembler_memory(const ss_reassembler *r)
{
  return r->used_bytes;
}

const ss_reasm_counters *
ss_reassembler_get_counters(const ss_reassembler *r)
{
  return &r->counters;
}

/* All slots share one timeout, so the earliest deadline is the oldest. */
static slot *
oldest_pending(ss_reassembler *r, const slot *except)
{
  slot *oldest = NULL;
  for (unsigned i = 0; i < r->n_slots; i++) {
    slot *s = &r->slots[i];
    if (s->used && s != except && (oldest == NULL || s->deadline < oldest->deadline))
      oldest = s;
  }
  return oldest;
}

static gboolean
evict_oldest(ss_reassembler *r, const slot *except)
{
  slot *s = oldest_pending(r, except);
  if (s == NULL)
    return FALSE;
  release(s);
  r->counters.dropped_evicted++;
  return TRUE;
}

static gboolean
free_idle_buffer(ss_reassembler *r)
{
  for (unsigned i = 0; i < r->n_slots; i++) {
    slot *s = &r->slots[i];
    if (!s->used && s->buf != NULL) {
      r->used_bytes -= s->cap;
      g_clear_pointer(&s->buf, g_free);
      s->cap = 0;
      return TRUE;
    }
  }
  return FALSE;
}

/* Grows @s's buffer to at least @need bytes within max_bytes, first
 * reclaiming idle buffers, then evicting the oldest other datagrams. */
static gboolean
ensure_capacity(ss_reassembler *r, slot *s, size_t need)
{
  if (s->cap >= need)
    return TRUE;
  while (r->max_bytes - (r->used_bytes - s->cap) < need)
    if (!free_idle_buffer(r) && !evict_oldest(r, s))
      return FALSE;
  size_t room = r->max_bytes - (r->used_bytes - s->cap);
  size_t want = MIN((need + BUF_GRAIN - 1) / BUF_GRAIN * BUF_GRAIN, (size_t) MAX_PAYLOAD);
  size_t new_cap = MIN(MAX(want, need), room);
  s->buf = g_realloc(s->buf, new_cap);
  r->used_bytes += new_cap - s->cap;
  s->cap = new_cap;
  return TRUE;
}

static slot *
find_slot(ss_reassembler *r, const ss_packet *f, uint8_t proto)
{
  for (unsigned i = 0; i < r->n_slots; i++) {
    slot *s = &r->slots[i];
    if (s->used && s->src == f->ip_src && s->dst == f->ip_dst && s->id == f->ip_id
        && s->proto == proto)
      return s;
  }
  return NULL;
}

/* Prefers a free slot that already owns the largest buffer. */
static slot *
claim_slot(ss_reassembler *r, const ss_packet *f, uint8_t proto, int64_t now_us)
{
  slot *best = NULL;
  for (unsigned i = 0; i < r->n_slots; i++) {
    slot *s = &r->slots[i];
    if (!s->used && (best == NULL || s->cap > best->cap))
      best = s;
  }
  if (best == NULL) {
    best = oldest_pending(r, NULL);
    if (best == NULL)
      return NULL;
    release(best);
    r->counters.dropped_evicted++;
  }
  best->used = TRUE;
  best->src = f->ip_src;
  best->dst = f->ip_dst;
  best->id = f->ip_id;
  best->proto = proto;
  best->deadline = now_us + r->timeout_us;
  return best;
}

/* Checks the fragment's end against what the slot already knows of the
 * datagram's length. */
static gboolean
ends_agree(slot *s, size_t end, gboolean more)
{
  if (s->have_last)
    return more ? end <= s->data_end : end == s->data_end;
  if (!more) {
    if (end < s->max_end)
      return FALSE;
    s->have_last = TRUE;
    s->data_end = end;
  }
  return TRUE;
}

static gboolean
block_is_set(const slot *s, size_t b)
{
  return (s->bitmap[b / 8] >> (b % 8)) & 1;
}

/* Compares the new bytes with every block already held; writes and marks
 * the new blocks only if nothing disagrees. */
static place_result
merge_data(slot *s, const uint8_t *data, size_t off, size_t end)
{
  size_t first = off / SS_IPV4_FRAG_UNIT;
  size_t last = (end + SS_IPV4_FRAG_UNIT - 1) / SS_IPV4_FRAG_UNIT;
  size_t fresh = 0;
  for (size_t b = first; b < last; b++) {
    if (!block_is_set(s, b)) {
      fresh++;
      continue;
    }
    size_t lo = b * SS_IPV4_FRAG_UNIT;
    size_t n = MIN(end, lo + SS_IPV4_FRAG_UNIT) - lo;
    if (memcmp(s->buf + lo, data + (lo - off), n) != 0)
      return PLACE_OVERLAP;
  }
  if (fresh == 0 && last > first)
    return PLACE_DUPLICATE;
  memcpy(s->buf + off, data, end - off);
  for (size_t b = first; b < last; b++)
    s->bitmap[b / 8] |= (uint8_t) (1u << (b % 8));
  s->blocks_set += fresh;
  s->max_end = MAX(s->max_end, end);
  return PLACE_OK;
}

static place_result
place(ss_reassembler *r, slot *s, const ss_packet *f, size_t off, size_t end,
      gboolean more)
{
  if (!ends_agree(s, end, more))
    return PLACE_MALFORMED;
  if (!ensure_capacity(r, s, end))
    return PLACE_NO_ROOM;
  place_result res = merge_data(s, f->ip + f->ip_hdr_len, off, end);
  if (res == PLACE_OK && off == 0 && s->header_len == 0) {
    s->header_len = SS_ETH_HLEN + f->ip_hdr_len;
    memcpy(s->header, f->frame, s->header_len);
  }
  return res;
}

static gboolean
is_complete(const slot *s)
{
  size_t blocks = (s->data_end + SS_IPV4_FRAG_UNIT - 1) / SS_IPV4_FRAG_UNIT;
  return s->have_last && s->header_len != 0 && s->blocks_set == blocks;
}

/* Writes the whole datagram; FALSE when it exceeds IPv4 or @out_cap. */
static gboolean
assemble(const slot *s, uint8_t *out, size_t out_cap, size_t *out_len)
{
  unsigned ip_hdr_len = s->header_len - SS_ETH_HLEN;
  size_t total = ip_hdr_len + s->data_end;
  if (total > SS_IPV4_MAX_TOTAL_LEN || SS_ETH_HLEN + total > out_cap)
    return FALSE;
  memcpy(out, s->header, s->header_len);
  memcpy(out + s->header_len, s->buf, s->data_end);
  uint8_t *ip = out + SS_ETH_HLEN;
  uint16_t frag = ss_get_be16(ip + SS_IPV4_OFF_FRAG);
  ss_put_be16(ip + SS_IPV4_OFF_FRAG, frag & (uint16_t) ~(SS_IPV4_FLAG_MF | SS_IPV4_OFFSET_MASK));
  ss_put_be16(ip + SS_IPV4_OFF_TOTLEN, (uint16_t) total);
  ss_put_be16(ip + SS_IPV4_OFF_CSUM, ss_ipv4_header_checksum(ip, ip_hdr_len));
  *out_len = SS_ETH_HLEN + total;
  return TRUE;
}

static ss_reasm_result
drop(slot *s, uint64_t *counter)
{
  if (s != NULL)
    release(s);
  (*counter)++;
  return SS_REASM_DROPPED;
}

static ss_reasm_result
copy_whole(ss_reassembler *r, const ss_packet *f, uint8_t *out, size_t out_cap,
           size_t *out_len)
{
  if (f->len > out_cap)
    return drop(NULL, &r->counters.dropped_too_big);
  memcpy(out, f->frame, f->len);
  *out_len = f->len;
  return SS_REASM_COMPLETE;
}

ss_reasm_result
ss_reassembler_add(ss_reassembler *r, const ss_packet *f, int64_t now_us,
                   uint8_t *out, size_t out_cap, size_t *out_len)
{
  *out_len = 0;
  ss_reassembler_expire(r, now_us);
  if (f->ip == NULL)
    return drop(NULL, &r->counters.dropped_malformed);
  if ((f->ip_frag & (SS_IPV4_FLAG_MF | SS_IPV4_OFFSET_MASK)) == 0)
    return copy_whole(r, f, out, out_cap, out_len);

  uint8_t proto = f->ip[SS_IPV4_OFF_PROTO];
  gboolean more = (f->ip_frag & SS_IPV4_FLAG_MF) != 0;
  size_t off = (size_t) (f->ip_frag & SS_IPV4_OFFSET_MASK) * SS_IPV4_FRAG_UNIT;
  size_t n = f->ip_total_len - f->ip_hdr_len;
  slot *s = find_slot(r, f, proto);

  if (more && (n == 0 || n % SS_IPV4_FRAG_UNIT != 0))
    return drop(s, &r->counters.dropped_malformed);
  if (off + n + f->ip_hdr_len > SS_IPV4_MAX_TOTAL_LEN)
    return drop(s, &r->counters.dropped_too_big);
  if (s == NULL && (s = claim_slot(r, f, proto, now_us)) == NULL)
    return drop(NULL, &r->counters.dropped_no_room);

  switch (place(r, s, f, off, off + n, more)) {
  case PLACE_OK:
    break;
  case PLACE_DUPLICATE:
    /* A last fragment whose bytes all came already still brings the
     * length, so completion is checked all the same. */
    r->counters.duplicates++;
    break;
  case PLACE_OVERLAP:
    return drop(s, &r->counters.dropped_overlap);
  case PLACE_MALFORMED:
    return drop(s, &r->counters.dropped_malformed);
  case PLACE_NO_ROOM:
    return drop(s, &r->counters.dropped_no_room);
  }
  if (!is_complete(s))
    return SS_REASM_PENDING;
  if (!assemble(s, out, out_cap, out_len))
    return drop(s, &r->counters.dropped_too_big);
  release(s);
  r->counters.completed++;
  return SS_REASM_COMPLETE;
}
