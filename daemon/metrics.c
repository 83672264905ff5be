/* snowsignal - UDP broadcast relay
 * metrics.c: the relay's state in the Prometheus text format (0.0.4).
 *
 * The same figures as `snowsignal status --json`, named the Prometheus way:
 *
 *   snowsignal_relay_<counter>_total                 the relay's own paths
 *   snowsignal_instance_{seen,passed,dropped,errors}_total{chain,instance,plugin}
 *   snowsignal_plugin_<plugin>_<counter>_total{chain,instance}   a plugin's own
 *   snowsignal_peer_*{peer}                          counters, state, round trips
 *
 * The samples of one metric family must be contiguous under its HELP and
 * TYPE lines, and one plugin can have several instances: samples are
 * gathered per family first, in order of first appearance, then written.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <stddef.h>
#include <string.h>

#include "instance.h"
#include "metrics.h"
#include "peer-set.h"

typedef struct {
  char *name;
  const char *type;   /* "counter" or "gauge" */
  char *help;
  GString *samples;
} family;

typedef struct {
  GPtrArray *order;    /* family *, first appearance first */
  GHashTable *byname;  /* name -> family * */
} exposition;

static void
family_free(gpointer p)
{
  family *f = p;
  g_free(f->name);
  g_free(f->help);
  g_string_free(f->samples, TRUE);
  g_free(f);
}

static family *
family_get(exposition *x, const char *name, const char *type, const char *help)
{
  family *f = g_hash_table_lookup(x->byname, name);
  if (!f) {
    f = g_new0(family, 1);
    f->name = g_strdup(name);
    f->type = type;
    f->help = g_strdup(help);
    f->samples = g_string_new(NULL);
    g_ptr_array_add(x->order, f);
    g_hash_table_insert(x->byname, f->name, f);
  }
  return f;
}

void
ss_metrics_append_label_value(GString *out, const char *value)
{
  g_autofree char *valid = g_utf8_validate(value, -1, NULL) ? NULL : g_utf8_make_valid(value, -1);
  g_string_append_c(out, '"');
  for (const char *c = valid ? valid : value; *c; c++) {
    if (*c == '\\' || *c == '"')
      g_string_append_printf(out, "\\%c", *c);
    else if (*c == '\n')
      g_string_append(out, "\\n");
    else
      g_string_append_c(out, *c);
  }
  g_string_append_c(out, '"');
}

/* One sample: @labels is NULL-terminated name, value pairs (may be NULL). */
static void
sample(exposition *x, const char *name, const char *type, const char *help,
       const char *const *labels, const char *value)
{
  family *f = family_get(x, name, type, help);
  g_string_append(f->samples, name);
  for (const char *const *l = labels; l && l[0]; l += 2) {
    g_string_append_c(f->samples, l == labels ? '{' : ',');
    g_string_append_printf(f->samples, "%s=", l[0]);
    ss_metrics_append_label_value(f->samples, l[1]);
  }
  if (labels && labels[0])
    g_string_append_c(f->samples, '}');
  g_string_append_printf(f->samples, " %s\n", value);
}

/* Counters as integers: a double would round them past 2^53. */
static void
counter(exposition *x, const char *name, const char *help, const char *const *labels, guint64 v)
{
  char num[24];
  g_snprintf(num, sizeof num, "%" G_GUINT64_FORMAT, v);
  sample(x, name, "counter", help, labels, num);
}

static void
gauge(exposition *x, const char *name, const char *help, const char *const *labels, double v)
{
  /* 15 digits: microseconds of a Unix time, without binary noise. */
  char num[G_ASCII_DTOSTR_BUF_SIZE];
  sample(x, name, "gauge", help, labels, g_ascii_formatd(num, sizeof num, "%.15g", v));
}

/* A metric name from a plugin's or a counter's own name: [a-zA-Z0-9_] only. */
static void
append_name_part(GString *out, const char *part)
{
  for (const char *c = part; *c; c++)
    g_string_append_c(out, g_ascii_isalnum(*c) ? *c : '_');
}

/* ---- the relay ----------------------------------------------------------- */

static const struct {
  const char *name;
  size_t offset;
  const char *help;
} relay_counters[] = {
#define RC(field, help) { #field, offsetof(ss_relay_counters, field), help }
  RC(captured, "Frames read from the segment."),
  RC(capture_invalid, "Captured frames that were not Ethernet/IPv4/UDP as the filter promised."),
  RC(capture_truncated, "Captured frames longer than the receive buffer."),
  RC(capture_errors, "Capture read errors."),
  RC(capture_dropped, "Frames the kernel dropped because the capture ring was full."),
  RC(fragments, "Captured IPv4 fragments handed to reassembly."),
  RC(reassembled, "Whole datagrams rebuilt from captured fragments."),
  RC(relayed, "Frames that passed the outbound chain and went to the transports."),
  RC(delivered, "Frames the transports received from peers."),
  RC(deliver_fragments, "Delivered IPv4 fragments handed to reassembly."),
  RC(deliver_reassembled, "Whole datagrams rebuilt from delivered fragments."),
  RC(deliver_invalid, "Delivered frames refused: not a frame the relay may emit."),
  RC(deliver_not_broadcast, "Delivered frames refused because they were not IPv4 broadcasts."),
  RC(duplicates_suppressed, "Frames sent or emitted within the duplicate window already."),
  RC(standby_held, "Frames held because another relay on this segment emits."),
  RC(standby_emitted, "Held frames emitted because no other relay did in time."),
  RC(standby_claimed, "Frames emitted after a higher relay on this segment had, so that it stands by."),
  RC(source_rate_limited, "Captured frames over source_rate_limit for their IP source."),
  RC(peer_rate_limited, "Frames from a peer over peer_rate_limit."),
  RC(emitted, "Frames broadcast on the segment."),
  RC(emit_fragmented, "Emitted frames sent as IPv4 fragments."),
  RC(emit_errors, "Segment send failures."),
#undef RC
};

static void
render_relay(exposition *x, ss_relay *relay)
{
  const ss_relay_counters *c = ss_relay_get_counters(relay);
  for (size_t i = 0; i < G_N_ELEMENTS(relay_counters); i++) {
    g_autofree char *name = g_strdup_printf("snowsignal_relay_%s_total", relay_counters[i].name);
    counter(x, name, relay_counters[i].help, NULL,
            G_STRUCT_MEMBER(guint64, c, relay_counters[i].offset));
  }
  uint8_t mac[SS_ETH_ALEN];
  gboolean standby = ss_relay_get_standby(relay, mac);
  gauge(x, "snowsignal_standby",
        "1 while the relay is on standby: another relay on its segment emits.", NULL, standby);
  if (standby) {
    char text[18];
    g_snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
               mac[4], mac[5]);
    const char *labels[] = { "mac", text, NULL };
    gauge(x, "snowsignal_standby_for_info", "The MAC of the relay that emits while on standby.",
          labels, 1);
  }
}

/* ---- instances ------------------------------------------------------------- */

typedef struct {
  exposition *x;
  const char *chain, *instance, *plugin;
} instance_ctx;

static void
render_plugin_counter(const char *name, guint64 value, void *user)
{
  instance_ctx *ic = user;
  g_autoptr(GString) metric = g_string_new("snowsignal_plugin_");
  append_name_part(metric, ic->plugin);
  g_string_append_c(metric, '_');
  append_name_part(metric, name);
  if (!g_str_has_suffix(metric->str, "_total"))
    g_string_append(metric, "_total");
  g_autofree char *help = g_strdup_printf("The %s plugin's counter %s, per instance.", ic->plugin,
                                          name);
  const char *labels[] = { "chain", ic->chain, "instance", ic->instance, NULL };
  counter(ic->x, metric->str, help, labels, value);
}

static void
render_instances(exposition *x, const char *chain, const GPtrArray *instances)
{
  for (guint i = 0; i < instances->len; i++) {
    ss_instance *inst = g_ptr_array_index(instances, i);
    const ss_counters *c = ss_instance_get_counters(inst);
    instance_ctx ic = { x, chain, ss_instance_get_name(inst), ss_instance_get_plugin(inst)->name };
    const char *labels[] = { "chain", chain, "instance", ic.instance, "plugin", ic.plugin, NULL };
    counter(x, "snowsignal_instance_seen_total", "Packets the instance was given.", labels, c->seen);
    counter(x, "snowsignal_instance_passed_total", "Packets the instance passed.", labels,
            c->passed);
    counter(x, "snowsignal_instance_dropped_total", "Packets the instance dropped.", labels,
            c->dropped);
    counter(x, "snowsignal_instance_errors_total", "Errors of the instance.", labels, c->errors);
    ss_instance_foreach_counter(inst, render_plugin_counter, &ic);
  }
}

/* ---- peers ----------------------------------------------------------------- */

static const ss_peer_state peer_states[] = {
  SS_PEER_UNKNOWN, SS_PEER_UP, SS_PEER_CONNECTING, SS_PEER_DOWN, SS_PEER_AUTH_FAILED,
};

static void
render_peer(exposition *x, const ss_peer *p)
{
  const ss_peer_stats *s = ss_peer_get_stats(p);
  const char *labels[] = { "peer", ss_peer_get_name(p), NULL };
  counter(x, "snowsignal_peer_sent_total", "Packets sent to the peer.", labels, s->sent);
  counter(x, "snowsignal_peer_received_total", "Packets received from the peer.", labels,
          s->received);
  counter(x, "snowsignal_peer_errors_total", "Send errors to the peer.", labels, s->errors);
  counter(x, "snowsignal_peer_heartbeats_answered_total", "Heartbeats the peer answered.", labels,
          s->heartbeats_answered);
  counter(x, "snowsignal_peer_heartbeats_lost_total", "Heartbeats the peer did not answer.",
          labels, s->heartbeats_lost);
  ss_peer_state now = ss_peer_get_state(p);
  for (size_t i = 0; i < G_N_ELEMENTS(peer_states); i++) {
    const char *state_labels[] = { "peer", labels[1], "state",
                                   ss_peer_state_to_string(peer_states[i]), NULL };
    gauge(x, "snowsignal_peer_state", "1 for the peer's current state, 0 for the others.",
          state_labels, peer_states[i] == now);
  }
  if (s->last_sent_us)
    gauge(x, "snowsignal_peer_last_sent_timestamp_seconds",
          "When a packet was last sent to the peer (Unix time).", labels, s->last_sent_us / 1e6);
  if (s->last_received_us)
    gauge(x, "snowsignal_peer_last_received_timestamp_seconds",
          "When a packet was last received from the peer (Unix time).", labels,
          s->last_received_us / 1e6);
  /* Round trips exist once a heartbeat was answered; absent until then. */
  if (s->rtt_smoothed_us) {
    gauge(x, "snowsignal_peer_rtt_last_seconds", "The last heartbeat round trip.", labels,
          s->rtt_last_us / 1e6);
    gauge(x, "snowsignal_peer_rtt_min_seconds", "The shortest heartbeat round trip.", labels,
          s->rtt_min_us / 1e6);
    gauge(x, "snowsignal_peer_rtt_smoothed_seconds",
          "The smoothed heartbeat round trip (as TCP's SRTT).", labels, s->rtt_smoothed_us / 1e6);
  }
}

/* ---- the whole exposition ------------------------------------------------- */

char *
ss_metrics_render(ss_relay *relay, gint64 started_us)
{
  exposition x = { g_ptr_array_new_with_free_func(family_free),
                   g_hash_table_new(g_str_hash, g_str_equal) };
  char abi[32];
  g_snprintf(abi, sizeof abi, "%d.%d", SS_PLUGIN_ABI_MAJOR, SS_PLUGIN_ABI_MINOR);
  const char *build[] = { "version", PACKAGE_VERSION, "plugin_abi", abi, NULL };
  gauge(&x, "snowsignal_build_info", "The relay's version and plugin ABI; always 1.", build, 1);
  const char *iface[] = { "interface", ss_relay_get_conf(relay)->interface, NULL };
  gauge(&x, "snowsignal_uptime_seconds", "Seconds since the relay started.", iface,
        (g_get_monotonic_time() - started_us) / 1e6);
  render_relay(&x, relay);
  render_instances(&x, "outbound", ss_relay_get_chain(relay, SS_DIRECTION_OUTBOUND)->instances);
  render_instances(&x, "inbound", ss_relay_get_chain(relay, SS_DIRECTION_INBOUND)->instances);
  render_instances(&x, "transports", ss_relay_get_transports(relay));
  const GPtrArray *peers = ss_relay_get_peers(relay);
  gauge(&x, "snowsignal_peers", "Peers the relay sends to.", NULL, peers->len);
  for (guint i = 0; i < peers->len; i++)
    render_peer(&x, g_ptr_array_index(peers, i));

  GString *out = g_string_new(NULL);
  for (guint i = 0; i < x.order->len; i++) {
    family *f = g_ptr_array_index(x.order, i);
    g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s", f->name, f->help, f->name,
                           f->type, f->samples->str);
  }
  g_hash_table_destroy(x.byname);
  g_ptr_array_unref(x.order);
  return g_string_free(out, FALSE);
}
