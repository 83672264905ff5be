/* snowsignal - UDP broadcast relay
 * timer.c: the deadlines of the dtls transport.  One GLib timeout source
 * is armed for the earliest of them across all associations: handshake
 * retransmission (only while a handshake is under way, as GnuTLS says,
 * RFC 6347 section 4.2.4), keepalive and dead-peer detection, re-keying,
 * the end of a make-before-break overlap, half-open handshake expiry and
 * the client's retry.  Nothing due, no timer: an idle relay never wakes,
 * an associated one only at keepalive times.
 *
 * Deadlines that only move later (a record sent or received) do not
 * re-arm the timer: it fires at the old one, finds nothing due and is
 * armed for the new one.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include "dtls-plugin.h"

#define S(x) ((gint64) (x) * G_USEC_PER_SEC)

static gint64
overlap_us(const dtls_plugin *p)
{
  return S(p->handshake_timeout_s + DTLS_OVERLAP_EXTRA_S);
}

static gint64
half_open_us(const dtls_plugin *p)
{
  return S(p->handshake_timeout_s + 2);
}

static void
earliest(gint64 *due, gint64 t)
{
  if (*due < 0 || t < *due)
    *due = t;
}

/* The earliest deadline of @slot (those tick_slot() acts on), or -1.
 * Comparisons there that are strict ("more than") are due a microsecond
 * after the limit. */
static gint64
slot_due(const dtls_plugin *p, const dtls_slot *slot)
{
  gint64 due = -1, keepalive = S(p->keepalive_s);
  const dtls_conn *cur = slot->current;
  if (slot->previous)
    earliest(&due, cur ? cur->established_us + overlap_us(p) + 1 : 0);
  if (slot->pending) {
    earliest(&due, slot->pending->started_us + half_open_us(p) + 1);
    if (slot->pending->retrans_due_us)
      earliest(&due, slot->pending->retrans_due_us);
  }
  gboolean may_initiate = slot->keep && slot->initiator && !slot->pending;
  if (!cur) {
    if (may_initiate)
      earliest(&due, slot->next_attempt_us);
    return due;
  }
  earliest(&due, cur->last_rx_us + DTLS_DEAD_AFTER * keepalive + 1);
  earliest(&due, cur->last_tx_us + keepalive);
  if (slot->initiator && !slot->pending) {
    gint64 probe = cur->last_rx_us + DTLS_PROBE_AFTER * keepalive + 1;
    if (p->rekey_s)
      probe = MIN(probe, cur->established_us + S(p->rekey_s));
    earliest(&due, MAX(probe, slot->next_attempt_us));
  }
  return due;
}

/* Handshake retransmission, keepalive, dead-peer detection and re-keying
 * of one slot.  May remove the slot it is given, never another one. */
static void
tick_slot(dtls_plugin *p, dtls_slot *slot, gint64 now)
{
  if (slot->pending && slot->pending->retrans_due_us && now >= slot->pending->retrans_due_us) {
    struct sockaddr_in addr = slot->addr;
    dtls_conn_handshake(p, slot->pending);
    if (!(slot = dtls_table_lookup(p->table, &addr)))
      return;
  }
  gint64 keepalive = S(p->keepalive_s);
  dtls_conn *cur = slot->current;
  if (slot->previous && (!cur || now - cur->established_us > overlap_us(p))) {
    gboolean alone = !cur && !slot->pending;
    dtls_conn_close(p, slot->previous, "end of the overlap");
    if (alone)
      return;
  }
  if (slot->pending && now - slot->pending->started_us > half_open_us(p)) {
    dtls_conn_close(p, slot->pending, "handshake timed out");
    return;
  }
  if (!cur) {
    if (slot->keep && slot->initiator && !slot->pending && now >= slot->next_attempt_us)
      dtls_conn_initiate(p, slot, now);
    return;
  }
  gint64 silent = now - cur->last_rx_us;
  if (silent > DTLS_DEAD_AFTER * keepalive) {
    dtls_conn_close(p, cur, "keepalive lost: the peer is silent");
    return;
  }
  if (now - cur->last_tx_us >= keepalive) {
    dtls_conn_probe(p, cur, now);
    cur->last_tx_us = now; /* tried: a failed send is tried again next interval */
  }
  gboolean rekey_due = p->rekey_s && now - cur->established_us >= S(p->rekey_s);
  if (slot->initiator && !slot->pending && (silent > DTLS_PROBE_AFTER * keepalive || rekey_due) &&
      now >= slot->next_attempt_us)
    dtls_conn_initiate(p, slot, now);
}

static gboolean
on_timer(gpointer data)
{
  dtls_plugin *p = data;
  g_clear_pointer(&p->timer, g_source_unref);
  p->timer_due_us = -1;
  p->in_timer = TRUE;
  gint64 now = g_get_monotonic_time();
  g_autoptr(GPtrArray) slots = dtls_table_slots(p->table);
  for (guint i = 0; i < slots->len; i++)
    tick_slot(p, g_ptr_array_index(slots, i), now);
  p->in_timer = FALSE;
  p->after_tick = TRUE;
  dtls_timer_update(p);
  p->after_tick = FALSE;
  return G_SOURCE_REMOVE;
}

void
dtls_timer_stop(dtls_plugin *p)
{
  if (p->timer)
    g_source_destroy(p->timer);
  g_clear_pointer(&p->timer, g_source_unref);
  p->timer_due_us = -1;
}

void
dtls_timer_update(dtls_plugin *p)
{
  if (p->in_timer || !p->table)
    return; /* on_timer() updates once it is done */
  gint64 due = -1;
  g_autoptr(GPtrArray) slots = dtls_table_slots(p->table);
  for (guint i = 0; i < slots->len; i++) {
    gint64 t = slot_due(p, g_ptr_array_index(slots, i));
    if (t >= 0)
      earliest(&due, t);
  }
  if (due == p->timer_due_us && (due < 0 || p->timer))
    return;
  dtls_timer_stop(p);
  if (due < 0)
    return;
  gint64 now = g_get_monotonic_time();
  /* Rounded up: the callback must find the deadline reached.  Something
   * already due that cannot be done now (a failing initiation) is tried
   * again a little later, never in a busy loop. */
  gint64 wait_us = due > now ? due - now : 0;
  guint ms = (guint) MIN((wait_us + 999) / 1000, (gint64) G_MAXUINT);
  if (due <= now && p->after_tick)
    ms = DTLS_RETRY_FLOOR_MS;
  p->timer_due_us = due;
  p->timer = g_timeout_source_new(ms);
  g_source_set_callback(p->timer, on_timer, p, NULL);
  g_source_attach(p->timer, ss_instance_get_context(p->inst));
}
