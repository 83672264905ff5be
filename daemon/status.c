/* snowsignal - UDP broadcast relay
 * status.c: the relay's state as text or JSON.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>

#include "instance.h"
#include "peer-set.h"
#include "status.h"

/* ---- JSON, just what the status needs ----------------------------------
 *
 * Written by hand rather than with json-glib: the document is flat
 * numbers and strings in a fixed order, and the one thing a generator
 * would add, escaping, is json_string() below. */

static void
json_string(GString *out, const char *s)
{
  if (!s) {
    g_string_append(out, "null");
    return;
  }
  /* JSON is UTF-8: a configuration path, an interface or peer name or an
   * error message in another encoding has its invalid bytes replaced
   * (U+FFFD), so the answer always parses. */
  g_autofree char *valid = g_utf8_validate(s, -1, NULL) ? NULL : g_utf8_make_valid(s, -1);
  if (valid)
    s = valid;
  g_string_append_c(out, '"');
  for (const unsigned char *c = (const unsigned char *) s; *c; c++) {
    if (*c == '"' || *c == '\\')
      g_string_append_printf(out, "\\%c", *c);
    else if (*c < 0x20)
      g_string_append_printf(out, "\\u%04x", *c);
    else
      g_string_append_c(out, (char) *c);
  }
  g_string_append_c(out, '"');
}

static void
json_key(GString *out, const char *key)
{
  json_string(out, key);
  g_string_append_c(out, ':');
}

static void
format_mac(char text[18], const uint8_t mac[SS_ETH_ALEN])
{
  g_snprintf(text, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
             mac[5]);
}

static void
json_num(GString *out, const char *key, guint64 v, gboolean comma)
{
  json_key(out, key);
  g_string_append_printf(out, "%" G_GUINT64_FORMAT "%s", v, comma ? "," : "");
}

static void
json_extra(const char *name, guint64 value, void *user)
{
  GString *out = user;
  if (out->str[out->len - 1] != '{')
    g_string_append_c(out, ',');
  json_num(out, name, value, FALSE);
}

static void
json_instance(GString *out, ss_instance *inst)
{
  const ss_counters *c = ss_instance_get_counters(inst);
  g_string_append_c(out, '{');
  json_key(out, "name");
  json_string(out, ss_instance_get_name(inst));
  g_string_append_c(out, ',');
  json_key(out, "plugin");
  json_string(out, ss_instance_get_plugin(inst)->name);
  g_string_append_c(out, ',');
  json_num(out, "seen", c->seen, TRUE);
  json_num(out, "passed", c->passed, TRUE);
  json_num(out, "dropped", c->dropped, TRUE);
  json_num(out, "errors", c->errors, TRUE);
  json_key(out, "counters");
  g_string_append_c(out, '{');
  ss_instance_foreach_counter(inst, json_extra, out);
  g_string_append(out, "}}");
}

static void
json_instances(GString *out, const char *key, const GPtrArray *instances)
{
  json_key(out, key);
  g_string_append_c(out, '[');
  for (guint i = 0; i < instances->len; i++) {
    if (i)
      g_string_append_c(out, ',');
    json_instance(out, g_ptr_array_index(instances, i));
  }
  g_string_append_c(out, ']');
}

static void
json_peer(GString *out, const ss_peer *p, gint64 now)
{
  const ss_peer_stats *s = ss_peer_get_stats(p);
  g_string_append_c(out, '{');
  json_key(out, "address");
  json_string(out, ss_peer_get_name(p));
  g_string_append_c(out, ',');
  json_key(out, "resolved_from");
  json_string(out, ss_peer_get_resolved_from(p));
  g_string_append_c(out, ',');
  json_key(out, "state");
  json_string(out, ss_peer_state_to_string(ss_peer_get_state(p)));
  g_string_append_c(out, ',');
  json_num(out, "sent", s->sent, TRUE);
  json_num(out, "received", s->received, TRUE);
  json_num(out, "errors", s->errors, TRUE);
  json_key(out, "last_sent_s_ago");
  g_string_append_printf(out, s->last_sent_us ? "%.1f," : "null,", (now - s->last_sent_us) / 1e6);
  json_key(out, "last_received_s_ago");
  g_string_append_printf(out, s->last_received_us ? "%.1f," : "null,",
                         (now - s->last_received_us) / 1e6);
  json_key(out, "last_error");
  json_string(out, s->last_error);
  g_string_append_c(out, ',');
  json_num(out, "heartbeats_answered", s->heartbeats_answered, TRUE);
  json_num(out, "heartbeats_lost", s->heartbeats_lost, TRUE);
  /* Round trips in milliseconds, null until a heartbeat was answered. */
  const struct { const char *key; gint64 us; } rtts[] = {
    { "rtt_last_ms", s->rtt_last_us }, { "rtt_min_ms", s->rtt_min_us },
    { "rtt_smoothed_ms", s->rtt_smoothed_us },
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rtts); i++) {
    json_key(out, rtts[i].key);
    if (rtts[i].us)
      g_string_append_printf(out, "%.3f", rtts[i].us / 1000.0);
    else
      g_string_append(out, "null");
    if (i + 1 < G_N_ELEMENTS(rtts))
      g_string_append_c(out, ',');
  }
  g_string_append_c(out, '}');
}

char *
ss_status_json(ss_relay *relay, gint64 started_us)
{
  const ss_conf *conf = ss_relay_get_conf(relay);
  const ss_relay_counters *c = ss_relay_get_counters(relay);
  GString *out = g_string_new("{");
  json_key(out, "version");
  json_string(out, PACKAGE_VERSION);
  g_string_append_c(out, ',');
  json_key(out, "uptime_s");
  g_string_append_printf(out, "%.1f,", (g_get_monotonic_time() - started_us) / 1e6);
  json_key(out, "config");
  json_string(out, conf->path);
  g_string_append_c(out, ',');
  json_key(out, "interface");
  json_string(out, conf->interface);
  g_string_append(out, ",\"relay\":{");
  json_num(out, "captured", c->captured, TRUE);
  json_num(out, "capture_invalid", c->capture_invalid, TRUE);
  json_num(out, "capture_dropped", c->capture_dropped, TRUE);
  json_num(out, "capture_errors", c->capture_errors, TRUE);
  json_num(out, "relayed", c->relayed, TRUE);
  json_num(out, "delivered", c->delivered, TRUE);
  json_num(out, "deliver_fragments", c->deliver_fragments, TRUE);
  json_num(out, "deliver_reassembled", c->deliver_reassembled, TRUE);
  json_num(out, "deliver_invalid", c->deliver_invalid, TRUE);
  json_num(out, "deliver_not_broadcast", c->deliver_not_broadcast, TRUE);
  json_num(out, "duplicates_suppressed", c->duplicates_suppressed, TRUE);
  json_num(out, "standby_held", c->standby_held, TRUE);
  json_num(out, "standby_emitted", c->standby_emitted, TRUE);
  json_num(out, "standby_claimed", c->standby_claimed, TRUE);
  json_num(out, "source_rate_limited", c->source_rate_limited, TRUE);
  json_num(out, "peer_rate_limited", c->peer_rate_limited, TRUE);
  json_num(out, "emitted", c->emitted, TRUE);
  json_num(out, "emit_errors", c->emit_errors, TRUE);
  json_key(out, "standby_for");
  uint8_t mac[SS_ETH_ALEN];
  if (ss_relay_get_standby(relay, mac)) {
    char text[18];
    format_mac(text, mac);
    json_string(out, text);
  } else {
    g_string_append(out, "null");
  }
  g_string_append(out, "},\"peers\":[");
  const GPtrArray *peers = ss_relay_get_peers(relay);
  gint64 now = g_get_real_time();
  for (guint i = 0; i < peers->len; i++) {
    if (i)
      g_string_append_c(out, ',');
    json_peer(out, g_ptr_array_index(peers, i), now);
  }
  g_string_append(out, "],");
  json_instances(out, "outbound", ss_relay_get_chain(relay, SS_DIRECTION_OUTBOUND)->instances);
  g_string_append_c(out, ',');
  json_instances(out, "inbound", ss_relay_get_chain(relay, SS_DIRECTION_INBOUND)->instances);
  g_string_append_c(out, ',');
  json_instances(out, "transports", ss_relay_get_transports(relay));
  g_string_append(out, "}\n");
  return g_string_free(out, FALSE);
}

/* ---- text -------------------------------------------------------------- */

static void
text_extra(const char *name, guint64 value, void *user)
{
  g_string_append_printf(user, " %s=%" G_GUINT64_FORMAT, name, value);
}

static void
text_instances(GString *out, const char *title, const GPtrArray *instances)
{
  g_string_append_printf(out, "%s:%s\n", title, instances->len ? "" : " (none)");
  for (guint i = 0; i < instances->len; i++) {
    ss_instance *inst = g_ptr_array_index(instances, i);
    const ss_counters *c = ss_instance_get_counters(inst);
    g_string_append_printf(out, "  %-14s %-12s seen=%" G_GUINT64_FORMAT " passed=%" G_GUINT64_FORMAT
                           " dropped=%" G_GUINT64_FORMAT " errors=%" G_GUINT64_FORMAT,
                           ss_instance_get_name(inst), ss_instance_get_plugin(inst)->name,
                           c->seen, c->passed, c->dropped, c->errors);
    ss_instance_foreach_counter(inst, text_extra, out);
    g_string_append_c(out, '\n');
  }
}

static void
text_ago(GString *out, const char *what, guint64 n, gint64 when, gint64 now)
{
  g_string_append_printf(out, " %s=%" G_GUINT64_FORMAT, what, n);
  if (when)
    g_string_append_printf(out, " (%.1fs ago)", (now - when) / 1e6);
}

char *
ss_status_text(ss_relay *relay, gint64 started_us)
{
  const ss_conf *conf = ss_relay_get_conf(relay);
  const ss_relay_counters *c = ss_relay_get_counters(relay);
  GString *out = g_string_new(NULL);
  g_string_append_printf(out, "snowsignal %s, up %.0fs, interface %s, config %s\n", PACKAGE_VERSION,
                         (g_get_monotonic_time() - started_us) / 1e6, conf->interface, conf->path);
  g_string_append_printf(out, "relay: captured=%" G_GUINT64_FORMAT " relayed=%" G_GUINT64_FORMAT
                         " delivered=%" G_GUINT64_FORMAT " refused=%" G_GUINT64_FORMAT
                         " emitted=%" G_GUINT64_FORMAT " emit_errors=%" G_GUINT64_FORMAT
                         " capture_dropped=%" G_GUINT64_FORMAT
                         " duplicates_suppressed=%" G_GUINT64_FORMAT
                         " not_broadcast=%" G_GUINT64_FORMAT
                         " rate_limited=%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT "\n",
                         c->captured, c->relayed, c->delivered, c->deliver_invalid, c->emitted,
                         c->emit_errors, c->capture_dropped, c->duplicates_suppressed,
                         c->deliver_not_broadcast, c->source_rate_limited, c->peer_rate_limited);
  uint8_t mac[SS_ETH_ALEN];
  if (ss_relay_get_standby(relay, mac)) {
    char text[18];
    format_mac(text, mac);
    g_string_append_printf(out, "standby: relay %s on this segment emits; held=%" G_GUINT64_FORMAT
                           " emitted_after_hold=%" G_GUINT64_FORMAT "\n",
                           text, c->standby_held, c->standby_emitted);
  } else if (c->standby_claimed) {
    g_string_append_printf(out, "standby: this relay emits for the segment; claimed=%" G_GUINT64_FORMAT
                           "\n", c->standby_claimed);
  }
  const GPtrArray *peers = ss_relay_get_peers(relay);
  gint64 now = g_get_real_time();
  g_string_append_printf(out, "peers:%s\n", peers->len ? "" : " (none)");
  for (guint i = 0; i < peers->len; i++) {
    const ss_peer *p = g_ptr_array_index(peers, i);
    const ss_peer_stats *s = ss_peer_get_stats(p);
    g_string_append_printf(out, "  %-16s", ss_peer_get_name(p));
    if (ss_peer_get_resolved_from(p))
      g_string_append_printf(out, " from %s", ss_peer_get_resolved_from(p));
    g_string_append_printf(out, " state=%s", ss_peer_state_to_string(ss_peer_get_state(p)));
    text_ago(out, "sent", s->sent, s->last_sent_us, now);
    text_ago(out, "received", s->received, s->last_received_us, now);
    g_string_append_printf(out, " errors=%" G_GUINT64_FORMAT, s->errors);
    if (s->rtt_smoothed_us)
      g_string_append_printf(out, " rtt=%.3fms (min %.3f, smoothed %.3f)",
                             s->rtt_last_us / 1000.0, s->rtt_min_us / 1000.0,
                             s->rtt_smoothed_us / 1000.0);
    if (s->heartbeats_answered || s->heartbeats_lost)
      g_string_append_printf(out, " heartbeats_lost=%" G_GUINT64_FORMAT, s->heartbeats_lost);
    if (s->last_error)
      g_string_append_printf(out, " last_error=\"%s\"", s->last_error);
    g_string_append_c(out, '\n');
  }
  text_instances(out, "outbound chain", ss_relay_get_chain(relay, SS_DIRECTION_OUTBOUND)->instances);
  text_instances(out, "inbound chain", ss_relay_get_chain(relay, SS_DIRECTION_INBOUND)->instances);
  text_instances(out, "transports", ss_relay_get_transports(relay));
  return g_string_free(out, FALSE);
}
