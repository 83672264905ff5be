/* snowsignal - UDP broadcast relay
 * standby.c: the election and the held frames of standby.h.
 *
 * Frames are held for one fixed time, so they fall due in the order they
 * came: the slots form a FIFO ring.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>

#include "standby.h"

typedef struct {
  uint64_t fp;            /* 0: cancelled */
  int64_t due_us;
  size_t len;
} held;

/* Relays seen emitting here, by the race in ss_standby_saw_emitter(). */
#define KNOWN_RELAYS 8

struct ss_standby {
  uint8_t known[KNOWN_RELAYS][SS_ETH_ALEN];
  unsigned n_known, next_known;
  uint8_t emitter[SS_ETH_ALEN];  /* the lowest relay seen emitting */
  int64_t emitter_seen_us;       /* 0: none, not on standby */
  int64_t claimed_us;            /* the last ss_standby_claim(), 0: none */
  unsigned head, count;
  held slots[SS_STANDBY_SLOTS];
  uint8_t *bytes;                /* SS_STANDBY_SLOTS * SS_STANDBY_SLOT_LEN */
};

ss_standby *
ss_standby_new(void)
{
  ss_standby *sb = g_new0(ss_standby, 1);
  sb->bytes = g_malloc((gsize) SS_STANDBY_SLOTS * SS_STANDBY_SLOT_LEN);
  return sb;
}

void
ss_standby_free(ss_standby *sb)
{
  if (!sb)
    return;
  g_free(sb->bytes);
  g_free(sb);
}

gboolean
ss_standby_active(const ss_standby *sb, int64_t now_us, uint8_t *mac)
{
  if (sb->emitter_seen_us == 0 || now_us - sb->emitter_seen_us >= SS_STANDBY_TTL_US)
    return FALSE;
  if (mac)
    memcpy(mac, sb->emitter, SS_ETH_ALEN);
  return TRUE;
}

static gboolean
is_known(const ss_standby *sb, const uint8_t mac[SS_ETH_ALEN])
{
  for (unsigned i = 0; i < sb->n_known; i++)
    if (memcmp(sb->known[i], mac, SS_ETH_ALEN) == 0)
      return TRUE;
  return FALSE;
}

static void
elect(ss_standby *sb, const uint8_t mac[SS_ETH_ALEN], const uint8_t own_mac[SS_ETH_ALEN],
      int64_t now_us);

void
ss_standby_saw_emitter(ss_standby *sb, const uint8_t mac[SS_ETH_ALEN],
                       const uint8_t own_mac[SS_ETH_ALEN], int64_t now_us)
{
  if (!is_known(sb, mac)) {
    memcpy(sb->known[sb->next_known], mac, SS_ETH_ALEN);
    sb->next_known = (sb->next_known + 1) % KNOWN_RELAYS;
    sb->n_known = MIN(sb->n_known + 1, KNOWN_RELAYS);
  }
  elect(sb, mac, own_mac, now_us);
}

void
ss_standby_saw_known_emitter(ss_standby *sb, const uint8_t mac[SS_ETH_ALEN],
                             const uint8_t own_mac[SS_ETH_ALEN], int64_t now_us)
{
  if (is_known(sb, mac))
    elect(sb, mac, own_mac, now_us);
}

static void
elect(ss_standby *sb, const uint8_t mac[SS_ETH_ALEN], const uint8_t own_mac[SS_ETH_ALEN],
      int64_t now_us)
{
  if (memcmp(mac, own_mac, SS_ETH_ALEN) >= 0)
    return;
  /* The lowest emitter seen wins; one not seen for a while gives way. */
  if (!ss_standby_active(sb, now_us, NULL) || memcmp(mac, sb->emitter, SS_ETH_ALEN) <= 0) {
    memcpy(sb->emitter, mac, SS_ETH_ALEN);
    sb->emitter_seen_us = now_us;
  }
}

gboolean
ss_standby_claim(ss_standby *sb, const uint8_t mac[SS_ETH_ALEN], const uint8_t own_mac[SS_ETH_ALEN],
                 int64_t now_us)
{
  if (memcmp(own_mac, mac, SS_ETH_ALEN) >= 0 || ss_standby_active(sb, now_us, NULL) ||
      (sb->claimed_us != 0 && now_us - sb->claimed_us < SS_STANDBY_CLAIM_INTERVAL_US))
    return FALSE;
  sb->claimed_us = now_us;
  return TRUE;
}

gboolean
ss_standby_hold(ss_standby *sb, uint64_t fp, const uint8_t *frame, size_t len, int64_t now_us)
{
  if (len > SS_STANDBY_SLOT_LEN || sb->count == SS_STANDBY_SLOTS)
    return FALSE;
  unsigned i = (sb->head + sb->count) % SS_STANDBY_SLOTS;
  memcpy(sb->bytes + (size_t) i * SS_STANDBY_SLOT_LEN, frame, len);
  sb->slots[i] = (held) { .fp = fp, .due_us = now_us + SS_STANDBY_HOLD_US, .len = len };
  sb->count++;
  return TRUE;
}

gboolean
ss_standby_cancel(ss_standby *sb, uint64_t fp)
{
  for (unsigned n = 0; n < sb->count; n++) {
    held *h = &sb->slots[(sb->head + n) % SS_STANDBY_SLOTS];
    if (h->fp == fp) {
      h->fp = 0;
      return TRUE;
    }
  }
  return FALSE;
}

int64_t
ss_standby_next_deadline(const ss_standby *sb)
{
  return sb->count ? sb->slots[sb->head].due_us : -1;
}

uint8_t *
ss_standby_take_due(ss_standby *sb, int64_t now_us, gboolean all, size_t *len)
{
  while (sb->count && (all || sb->slots[sb->head].due_us <= now_us)) {
    unsigned i = sb->head;
    sb->head = (sb->head + 1) % SS_STANDBY_SLOTS;
    sb->count--;
    if (sb->slots[i].fp == 0)
      continue;
    /* Nobody emitted it in time: this relay emits from now on. */
    if (!all)
      sb->emitter_seen_us = 0;
    *len = sb->slots[i].len;
    return sb->bytes + (size_t) i * SS_STANDBY_SLOT_LEN;
  }
  return NULL;
}

void
ss_standby_inherit(ss_standby *to, const ss_standby *from)
{
  memcpy(to->emitter, from->emitter, SS_ETH_ALEN);
  to->emitter_seen_us = from->emitter_seen_us;
  memcpy(to->known, from->known, sizeof to->known);
  to->n_known = from->n_known;
  to->next_known = from->next_known;
  to->claimed_us = from->claimed_us;
}
