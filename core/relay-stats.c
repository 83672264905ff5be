/* snowsignal - UDP broadcast relay
 * relay-stats.c: every counter the relay keeps, written to the log (on
 * SIGUSR1 and at shutdown).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <snowsignal/log.h>
#include "log.h"
#include "relay-private.h"

#define NUM(buf, v) (g_snprintf((buf), sizeof (buf), "%" G_GUINT64_FORMAT, (guint64) (v)), (buf))

typedef struct {
  GString *text;
} extra_text;

static void
append_extra(const char *name, guint64 value, void *user)
{
  extra_text *e = user;
  g_string_append_printf(e->text, "%s%s=%" G_GUINT64_FORMAT, e->text->len ? " " : "", name, value);
}

static void
log_instance(ss_instance *inst, const char *role)
{
  const ss_counters *c = ss_instance_get_counters(inst);
  char seen[24], passed[24], dropped[24], errors[24];
  extra_text extra = { g_string_new(NULL) };
  ss_instance_foreach_counter(inst, append_extra, &extra);
  SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "instance counters",
         "INSTANCE", ss_instance_get_name(inst), "PLUGIN", ss_instance_get_plugin(inst)->name,
         "ROLE", role, "SEEN", NUM(seen, c->seen), "PASSED", NUM(passed, c->passed),
         "DROPPED", NUM(dropped, c->dropped), "ERRORS", NUM(errors, c->errors),
         "DETAIL", extra.text->len ? extra.text->str : NULL);
  g_string_free(extra.text, TRUE);
}

static void
log_chain(const ss_chain *chain)
{
  char seen[24], passed[24], dropped[24];
  SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "chain counters", "CHAIN", chain->name,
         "SEEN", NUM(seen, chain->counters.seen), "PASSED", NUM(passed, chain->counters.passed),
         "DROPPED", NUM(dropped, chain->counters.dropped));
  for (guint i = 0; i < chain->instances->len; i++)
    log_instance(g_ptr_array_index(chain->instances, i), chain->name);
}

static void
log_peers(const ss_relay *relay)
{
  const GPtrArray *peers = ss_peer_set_get(relay->peers);
  for (guint i = 0; i < peers->len; i++) {
    const ss_peer *p = g_ptr_array_index(peers, i);
    const ss_peer_stats *s = ss_peer_get_stats(p);
    char sent[24], received[24], errors[24];
    SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "peer counters", "PEER", ss_peer_get_name(p),
           "RESOLVED_FROM", ss_peer_get_resolved_from(p),
           "STATE", ss_peer_state_to_string(ss_peer_get_state(p)),
           "SENT", NUM(sent, s->sent), "RECEIVED", NUM(received, s->received),
           "ERRORS", NUM(errors, s->errors), "LAST_ERROR", s->last_error);
  }
}

void
ss_relay_log_stats(ss_relay *relay)
{
  const ss_relay_counters *c = ss_relay_get_counters(relay);
  char a[24], b[24], d[24], e[24], f[24], g[24], h[24], i[24], j[24], k[24], l[24], m[24], o[24];
  char q[24], r[24], t[24], u[24], v[24], w[24], x[24], y[24], z[24];
  SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "relay counters",
         "CAPTURED", NUM(a, c->captured), "CAPTURE_INVALID", NUM(b, c->capture_invalid),
         "CAPTURE_TRUNCATED", NUM(d, c->capture_truncated),
         "CAPTURE_DROPPED", NUM(m, c->capture_dropped), "CAPTURE_ERRORS", NUM(o, c->capture_errors),
         "FRAGMENTS", NUM(e, c->fragments),
         "REASSEMBLED", NUM(f, c->reassembled), "RELAYED", NUM(g, c->relayed),
         "DELIVERED", NUM(h, c->delivered), "DELIVER_INVALID", NUM(i, c->deliver_invalid),
         "DELIVER_FRAGMENTS", NUM(x, c->deliver_fragments),
         "DELIVER_REASSEMBLED", NUM(y, c->deliver_reassembled),
         "DELIVER_NOT_BROADCAST", NUM(q, c->deliver_not_broadcast),
         "DUPLICATES_SUPPRESSED", NUM(r, c->duplicates_suppressed),
         "STANDBY_HELD", NUM(t, c->standby_held), "STANDBY_EMITTED", NUM(u, c->standby_emitted),
         "STANDBY_CLAIMED", NUM(z, c->standby_claimed),
         "SOURCE_RATE_LIMITED", NUM(v, c->source_rate_limited),
         "PEER_RATE_LIMITED", NUM(w, c->peer_rate_limited),
         "EMITTED", NUM(j, c->emitted), "EMIT_FRAGMENTED", NUM(k, c->emit_fragmented),
         "EMIT_ERRORS", NUM(l, c->emit_errors));
  log_chain(relay->outbound);
  log_chain(relay->inbound);
  for (guint n = 0; n < relay->transports->len; n++)
    log_instance(g_ptr_array_index(relay->transports, n), "transport");
  log_peers(relay);
}
