/* snowsignal - UDP broadcast relay
 * relay-reload.c: replacing a running relay by one built from a new
 * configuration, keeping what did not change.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>

#include <snowsignal/log.h>
#include "log.h"
#include "relay-private.h"

static void
replace_in(GPtrArray *array, gpointer from, gpointer to)
{
  for (guint i = 0; i < array->len; i++)
    if (array->pdata[i] == from)
      array->pdata[i] = to;
}

/* Moves @kept from @old into @relay in place of its fresh twin. */
static void
adopt(ss_relay *relay, ss_relay *old, ss_instance *fresh, ss_instance *kept)
{
  replace_in(relay->instances, fresh, kept);
  replace_in(relay->outbound->instances, fresh, kept);
  replace_in(relay->inbound->instances, fresh, kept);
  replace_in(relay->transports, fresh, kept);
  g_ptr_array_remove(old->instances, kept);
  g_ptr_array_remove(old->outbound->instances, kept);
  g_ptr_array_remove(old->inbound->instances, kept);
  g_ptr_array_remove(old->transports, kept);
  ss_instance_set_relay(kept, relay);
  /* Same settings, but the files they name may hold something new. */
  ss_instance_reload(kept, fresh);
  ss_instance_free(fresh);
  SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "instance kept across the reload",
         "INSTANCE", ss_instance_get_name(kept));
}

static guint
adopt_unchanged(ss_relay *relay, ss_relay *old)
{
  guint kept = 0;
  for (guint i = 0; i < relay->instances->len; i++) {
    ss_instance *fresh = g_ptr_array_index(relay->instances, i);
    ss_instance *prev = ss_relay_find_instance(old, ss_instance_get_name(fresh));
    if (prev && ss_instance_equivalent(prev, fresh)) {
      adopt(relay, old, fresh, prev);
      kept++;
    }
  }
  return kept;
}

/* The relay's, the chains' and the peers' counters are totals since the
 * start: a reload carries them on (kept instances keep theirs with them;
 * a peer keeps its own while its address, port and origin stay).  After
 * the path has stopped and the segment was handed over, so that nothing
 * counted on the way out is lost. */
static void
carry_counters(ss_relay *to, ss_relay *from)
{
  ss_peer_set_inherit(to->peers, from->peers);
  to->counters = from->counters;
  /* What was sent and emitted just before stays known: a reload must not
   * let a looping copy through. */
  if (to->dedup && from->dedup &&
      ss_dedup_get_window_ms(to->dedup) == ss_dedup_get_window_ms(from->dedup)) {
    ss_dedup *t = to->dedup;
    to->dedup = from->dedup;
    from->dedup = t;
  }
  if (to->standby && from->standby)
    ss_standby_inherit(to->standby, from->standby);
  to->outbound->counters = from->outbound->counters;
  to->inbound->counters = from->inbound->counters;
}

static gboolean
same_segment(const ss_conf *a, const ss_conf *b)
{
  return strcmp(a->interface, b->interface) == 0 && a->capture_ring_kib == b->capture_ring_kib &&
         a->vlan == b->vlan &&
         a->n_broadcast_ports == b->n_broadcast_ports &&
         memcmp(a->broadcast_ports, b->broadcast_ports,
                a->n_broadcast_ports * sizeof a->broadcast_ports[0]) == 0;
}

/* Gives @from's packet socket to @to when the interface and the ports are
 * the same (the kernel's drop count goes with it); otherwise takes in the
 * drops of the socket that is about to close. */
static void
hand_over_segment(ss_relay *to, ss_relay *from)
{
  if (!from->segment)
    return;
  if (same_segment(from->conf, to->conf)) {
    to->segment = from->segment;
    from->segment = NULL;
  } else {
    ss_relay_take_capture_drops(from, FALSE);
  }
}

/* A reloaded relay failed to start: builds one from the configuration that
 * ran before (@previous, taken), takes back from @failed what it still has
 * open of it (the kept instances, the segment socket) and starts it.
 * Returns the relay that is left, running or not. */
static ss_relay *
restore_previous(ss_relay *failed, ss_conf *previous, GMainContext *context, GError **error)
{
  ss_loader *loader =
    ss_loader_same_path(failed->loader, previous->plugin_path) ? failed->loader : NULL;
  ss_relay *back = ss_relay_new_with_loader(previous, loader, error);
  if (!back)
    return failed;
  adopt_unchanged(back, failed);
  ss_relay_path_stop(failed);
  hand_over_segment(back, failed);
  carry_counters(back, failed);
  ss_relay_free(failed);
  ss_relay_start(back, context, error);
  return back;
}

gboolean
ss_relay_reload(ss_relay **relay_io, ss_conf *conf, GError **error)
{
  ss_relay *old = *relay_io;
  /* Root is gone once a relay has switched user: another user could never
   * be taken, and failing at start would end the daemon. */
  if (*old->conf->user && strcmp(old->conf->user, conf->user) != 0) {
    g_set_error(error, SS_CONF_ERROR, SS_CONF_ERROR_INVALID,
                "%s: 'user' changed from \"%s\" to \"%s\", but root was given up at start; "
                "restart snowsignal to apply it", conf->path, old->conf->user, conf->user);
    ss_conf_free(conf);
    return FALSE;
  }
  ss_loader *loader = ss_loader_same_path(old->loader, conf->plugin_path) ? old->loader : NULL;
  ss_relay *relay = ss_relay_new_with_loader(conf, loader, error);
  if (!relay)
    return FALSE;
  /* From here on the new configuration is known good: swap. */
  guint kept = adopt_unchanged(relay, old);
  GMainContext *context = old->context ? g_main_context_ref(old->context) : NULL;
  ss_relay_path_stop(old);
  hand_over_segment(relay, old);
  carry_counters(relay, old);
  /* The previous configuration outlives its relay, for a way back. */
  ss_conf *previous = old->conf;
  old->conf = NULL;
  ss_relay_free(old);
  *relay_io = relay;
  char n[16];
  g_snprintf(n, sizeof n, "%u", kept);
  gboolean ok = ss_relay_start(relay, context, error);
  if (ok) {
    SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "configuration reloaded", "CONFIG", conf->path,
           "KEPT_INSTANCES", n);
    ss_conf_free(previous);
  } else {
    /* Valid, but it does not start here (a port taken or privileged, an
     * address gone): go back to what ran. */
    GError *restore_error = NULL;
    *relay_io = restore_previous(relay, previous, context, &restore_error);
    if (restore_error) {
      SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "the previous configuration did not start again",
             "ERROR", restore_error->message);
      g_error_free(restore_error);
    } else {
      SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE,
             "the new configuration failed to start; the previous one is running again",
             "CONFIG", previous->path);
    }
  }
  if (context)
    g_main_context_unref(context);
  return ok;
}
