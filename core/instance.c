/* snowsignal - UDP broadcast relay
 * instance.c: plugin instances — settings validated against the plugin's
 * declared keys, lifecycle, counters.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <snowsignal/log.h>
#include "instance-private.h"
#include "log.h"


const char *
ss_key_type_to_string(ss_key_type type)
{
  switch (type) {
  case SS_KEY_BOOL: return "boolean";
  case SS_KEY_INT: return "integer";
  case SS_KEY_STRING: return "string";
  case SS_KEY_STRING_LIST: return "list of strings";
  default: return "unknown";
  }
}

/* Parses a value written as text (a plugin's default, or an override). */
static gboolean
setting_parse_text(setting *s, const char *text)
{
  switch (s->key->type) {
  case SS_KEY_BOOL:
    if (strcmp(text, "true") == 0 || strcmp(text, "false") == 0) {
      s->b = text[0] == 't';
      return TRUE;
    }
    return FALSE;
  case SS_KEY_INT: {
    char *end;
    errno = 0;
    s->i = g_ascii_strtoll(text, &end, 0);
    return errno == 0 && *text && *end == '\0';
  }
  case SS_KEY_STRING:
    s->s = g_strdup(text);
    return TRUE;
  case SS_KEY_STRING_LIST:
    s->list = *text ? g_strsplit(text, ",", -1) : g_new0(char *, 1);
    for (char **p = s->list; *p; p++)
      g_strstrip(*p);
    return TRUE;
  default:
    return FALSE;
  }
}

static void
setting_clear(setting *s)
{
  g_clear_pointer(&s->s, g_free);
  g_clear_pointer(&s->list, g_strfreev);
  g_clear_pointer(&s->origin, g_free);
}

static gboolean
setting_in_range(const setting *s)
{
  const ss_plugin_key *k = s->key;
  return k->type != SS_KEY_INT || (k->min == 0 && k->max == 0) || (s->i >= k->min && s->i <= k->max);
}

static gboolean
setting_from_conf(setting *s, const ss_conf_value *v, const ss_conf_instance *ci, GError **error)
{
  if (v->type != s->key->type) {
    g_set_error(error, SS_CONF_ERROR, SS_CONF_ERROR_INVALID,
                "%s: setting '%s' of instance '%s' must be a %s, not a %s", v->origin, v->key,
                ci->name, ss_key_type_to_string(s->key->type), ss_key_type_to_string(v->type));
    return FALSE;
  }
  setting_clear(s);
  s->b = v->b;
  s->i = v->i;
  s->s = g_strdup(v->s);
  s->list = g_strdupv(v->list);
  s->origin = g_strdup(v->origin);
  return TRUE;
}

static gboolean
known_key_list_error(const ss_plugin *plugin, const ss_conf_instance *ci, const ss_conf_value *v,
                     GError **error)
{
  g_autoptr(GString) known = g_string_new(NULL);
  for (const ss_plugin_key *k = plugin->desc->keys; k && k->name; k++)
    g_string_append_printf(known, "%s%s", known->len ? ", " : "", k->name);
  g_set_error(error, SS_CONF_ERROR, SS_CONF_ERROR_INVALID,
              "%s: instance '%s' (plugin %s) has no setting '%s'; %s%s", v->origin, ci->name,
              plugin->name, v->key, known->len ? "its settings are: " : "it takes no settings",
              known->str);
  return FALSE;
}

static gboolean
settings_fill(ss_instance *inst, const ss_conf_instance *ci, const ss_override *overrides,
              GError **error)
{
  const ss_plugin *plugin = inst->plugin;
  for (guint n = 0; n < ci->values->len; n++) {
    const ss_conf_value *v = g_ptr_array_index(ci->values, n);
    guint i;
    for (i = 0; i < inst->n_settings && strcmp(inst->settings[i].key->name, v->key) != 0; i++)
      ;
    if (i == inst->n_settings)
      return known_key_list_error(plugin, ci, v, error);
    if (!setting_from_conf(&inst->settings[i], v, ci, error))
      return FALSE;
  }
  for (const ss_override *o = overrides; o && o->key; o++)
    for (guint i = 0; i < inst->n_settings; i++) {
      setting *s = &inst->settings[i];
      if (strcmp(s->key->name, o->key) != 0)
        continue;
      setting_clear(s);
      s->origin = g_strdup(o->origin);
      if (!setting_parse_text(s, o->value)) {
        g_set_error(error, SS_CONF_ERROR, SS_CONF_ERROR_INVALID, "%s: '%s' is not a valid %s "
                    "for setting '%s'", o->origin, o->value, ss_key_type_to_string(s->key->type),
                    s->key->name);
        return FALSE;
      }
    }
  for (guint i = 0; i < inst->n_settings; i++) {
    setting *s = &inst->settings[i];
    if (!s->origin) {
      g_set_error(error, SS_CONF_ERROR, SS_CONF_ERROR_INVALID,
                  "%s: instance '%s' (plugin %s) needs setting '%s' (%s): %s", ci->origin,
                  ci->name, plugin->name, s->key->name, ss_key_type_to_string(s->key->type),
                  s->key->help ? s->key->help : "see the plugin's documentation");
      return FALSE;
    }
    if (!setting_in_range(s)) {
      g_set_error(error, SS_CONF_ERROR, SS_CONF_ERROR_INVALID,
                  "%s: setting '%s' of instance '%s' is %" G_GINT64_FORMAT "; it must be between %"
                  G_GINT64_FORMAT " and %" G_GINT64_FORMAT, s->origin, s->key->name, ci->name,
                  s->i, s->key->min, s->key->max);
      return FALSE;
    }
  }
  return TRUE;
}

/* Every declared key starts at its default; keys without one are required. */
static gboolean
settings_init_defaults(ss_instance *inst, GError **error)
{
  const ss_plugin_key *keys = inst->plugin->desc->keys;
  guint n = 0;
  while (keys && keys[n].name)
    n++;
  inst->settings = g_new0(setting, n ? n : 1);
  inst->n_settings = n;
  for (guint i = 0; i < n; i++) {
    setting *s = &inst->settings[i];
    s->key = &keys[i];
    if (!keys[i].default_value)
      continue;
    if (!setting_parse_text(s, keys[i].default_value)) {
      g_set_error(error, SS_LOADER_ERROR, SS_LOADER_ERROR_INVALID,
                  "plugin '%s' (%s) declares key '%s' with default '%s', which is not a valid %s",
                  inst->plugin->name, inst->plugin->path, keys[i].name, keys[i].default_value,
                  ss_key_type_to_string(keys[i].type));
      return FALSE;
    }
    s->origin = g_strdup("default");
  }
  return TRUE;
}

ss_instance *
ss_instance_new(struct ss_relay *relay, const ss_plugin *plugin, const ss_conf_instance *ci,
                const ss_override *overrides, GError **error)
{
  ss_instance *inst = g_new0(ss_instance, 1);
  inst->name = g_strdup(ci->name);
  inst->log_domain = g_strconcat("snowsignal-", plugin->name, NULL);
  inst->plugin = plugin;
  inst->relay = relay;
  if (!settings_init_defaults(inst, error) || !settings_fill(inst, ci, overrides, error)) {
    ss_instance_free(inst);
    return NULL;
  }
  GError *local = NULL;
  inst->state = plugin->desc->instance_new(inst, &local);
  if (!inst->state) {
    g_set_error(error, SS_CONF_ERROR, SS_CONF_ERROR_INVALID, "%s: instance '%s' (plugin %s) "
                "could not be created: %s", ci->origin, ci->name, plugin->name,
                local ? local->message : "the plugin gave no reason");
    g_clear_error(&local);
    ss_instance_free(inst);
    return NULL;
  }
  return inst;
}

gboolean
ss_instance_start(ss_instance *inst, GError **error)
{
  if (inst->started)
    return TRUE;
  GError *local = NULL;
  if (inst->plugin->desc->instance_start && !inst->plugin->desc->instance_start(inst->state, &local)) {
    g_set_error(error, SS_LOADER_ERROR, SS_LOADER_ERROR_INVALID,
                "instance '%s' (plugin %s) failed to start: %s", inst->name, inst->plugin->name,
                local ? local->message : "the plugin gave no reason");
    g_clear_error(&local);
    return FALSE;
  }
  inst->started = TRUE;
  return TRUE;
}

void
ss_instance_stop(ss_instance *inst)
{
  if (!inst || !inst->started)
    return;
  if (inst->plugin->desc->instance_stop)
    inst->plugin->desc->instance_stop(inst->state);
  inst->started = FALSE;
}

void
ss_instance_free(ss_instance *inst)
{
  if (!inst)
    return;
  ss_instance_stop(inst);
  if (inst->state)
    inst->plugin->desc->instance_free(inst->state);
  for (guint i = 0; i < inst->n_settings; i++)
    setting_clear(&inst->settings[i]);
  g_free(inst->settings);
  g_free(inst->name);
  g_free(inst->log_domain);
  g_free(inst);
}

struct ss_relay *
ss_instance_get_relay(const ss_instance *inst)
{
  return inst->relay;
}

void
ss_instance_set_relay(ss_instance *inst, struct ss_relay *relay)
{
  inst->relay = relay;
}

static gboolean
setting_equal(const setting *a, const setting *b)
{
  switch (a->key->type) {
  case SS_KEY_BOOL: return a->b == b->b;
  case SS_KEY_INT: return a->i == b->i;
  case SS_KEY_STRING: return g_strcmp0(a->s, b->s) == 0;
  case SS_KEY_STRING_LIST:
    return g_strv_equal((const char *const *) a->list, (const char *const *) b->list);
  default: return FALSE;
  }
}

gboolean
ss_instance_equivalent(const ss_instance *a, const ss_instance *b)
{
  if (a->plugin != b->plugin || strcmp(a->name, b->name) != 0 || a->n_settings != b->n_settings)
    return FALSE;
  for (guint i = 0; i < a->n_settings; i++)
    if (!setting_equal(&a->settings[i], &b->settings[i]))
      return FALSE;
  return TRUE;
}

void
ss_instance_reload(ss_instance *kept, ss_instance *fresh)
{
  const ss_plugin_desc *desc = kept->plugin->desc;
  if (desc->instance_reload)
    desc->instance_reload(kept->state, fresh->state);
}

const ss_plugin *
ss_instance_get_plugin(const ss_instance *inst)
{
  return inst->plugin;
}

const ss_counters *
ss_instance_get_counters(const ss_instance *inst)
{
  return &inst->counters;
}

ss_verdict
ss_instance_run_filter(ss_instance *inst, ss_packet *pkt)
{
  inst->counters.seen++;
  ss_verdict v = inst->plugin->desc->filter(inst->state, pkt);
  switch (v) {
  case SS_VERDICT_PASS:
    inst->counters.passed++;
    return SS_VERDICT_PASS;
  case SS_VERDICT_DROP:
    inst->counters.dropped++;
    return SS_VERDICT_DROP;
  default:
    /* A bug in the plugin: say so once in a while (the errors counter has
     * them all), never let the packet through. */
    inst->counters.errors++;
    if (ss_log_enabled(G_LOG_LEVEL_CRITICAL)) {
      char value[16];
      g_snprintf(value, sizeof value, "%d", (int) v);
      SS_LOG_LIMITED(&inst->bad_verdict_log, SS_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL,
                     "filter returned an unknown verdict; packet dropped",
                     "INSTANCE", inst->name, "PLUGIN", inst->plugin->name, "VERDICT", value);
    }
    return SS_VERDICT_DROP;
  }
}

void
ss_instance_send(ss_instance *inst, const ss_packet *pkt)
{
  inst->counters.seen++;
  inst->plugin->desc->send(inst->state, pkt);
}

void
ss_instance_flush(ss_instance *inst)
{
  if (inst->plugin->desc->flush)
    inst->plugin->desc->flush(inst->state);
}

void
ss_instance_peers_changed(ss_instance *inst)
{
  if (inst->plugin->desc->peers_changed)
    inst->plugin->desc->peers_changed(inst->state);
}

guint64
ss_instance_get_counter(const ss_instance *inst, const char *name)
{
  for (guint i = 0; i < inst->n_extra; i++)
    if (strcmp(inst->extra[i].name, name) == 0)
      return inst->extra[i].value;
  return 0;
}

void
ss_instance_foreach_counter(const ss_instance *inst,
                            void (*fn)(const char *name, guint64 value, void *user), void *user)
{
  for (guint i = 0; i < inst->n_extra; i++)
    fn(inst->extra[i].name, inst->extra[i].value, user);
}

static const setting *
find_setting(const ss_instance *inst, const char *key, ss_key_type type)
{
  for (guint i = 0; i < inst->n_settings; i++)
    if (strcmp(inst->settings[i].key->name, key) == 0) {
      if (inst->settings[i].key->type == type)
        return &inst->settings[i];
      break;
    }
  g_critical("plugin %s asked for undeclared %s setting '%s'", inst->plugin->name,
             ss_key_type_to_string(type), key);
  return NULL;
}

gboolean
ss_instance_get_bool(const ss_instance *inst, const char *key)
{
  const setting *s = find_setting(inst, key, SS_KEY_BOOL);
  return s ? s->b : FALSE;
}

int64_t
ss_instance_get_int(const ss_instance *inst, const char *key)
{
  const setting *s = find_setting(inst, key, SS_KEY_INT);
  return s ? s->i : 0;
}

const char *
ss_instance_get_string(const ss_instance *inst, const char *key)
{
  const setting *s = find_setting(inst, key, SS_KEY_STRING);
  return s ? s->s : NULL;
}

const char *const *
ss_instance_get_string_list(const ss_instance *inst, const char *key)
{
  const setting *s = find_setting(inst, key, SS_KEY_STRING_LIST);
  return s ? (const char *const *) s->list : NULL;
}

const char *
ss_instance_get_key_origin(const ss_instance *inst, const char *key)
{
  for (guint i = 0; i < inst->n_settings; i++)
    if (strcmp(inst->settings[i].key->name, key) == 0)
      return inst->settings[i].origin;
  return NULL;
}
