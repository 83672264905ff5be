/* snowsignal - UDP broadcast relay
 * conffile.c: reads snowsignal.conf (libconfig syntax): which settings
 * there are, where, their defaults and how they fit together; the typed
 * readers with file:line errors are conffile-read.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <errno.h>
#include <string.h>
#include <libconfig.h>

#include "conffile.h"
#include "conffile-read.h"
#include "dedup.h"
#include "ratelimit.h"
#include "log.h"

G_DEFINE_QUARK(snowsignal-conf-error-quark, ss_conf_error)

/* The default when no file is given and none is installed: what SnowSignal
 * 0.1.x does, with the command line and environment on top. */
static const char default_conf_text[] =
  "version = 1;\n"
  "instances = (\n"
  "  { name = \"mac-self\"; plugin = \"mac-self\"; },\n"
  "  { name = \"ip-self\"; plugin = \"ip-self\"; },\n"
  "  { name = \"mesh\"; plugin = \"udp-mesh\"; }\n"
  ");\n"
  "outbound = [ \"mac-self\", \"ip-self\" ];\n"
  "inbound = [ ];\n"
  "transports = [ \"mesh\" ];\n";

static const char *const top_level_keys[] = {
  "version", "interface", "broadcast_ports", "plugin_path", "log_level",
  "instances", "outbound", "inbound", "transports", "peers", "control_socket", "user",
  "capture_ring_kib", "duplicate_window_ms", "vlan", "source_rate_limit", "peer_rate_limit", "metrics_listen",
  "watch_config", NULL
};
static const char *const peer_keys[] = {
  "hosts", "service", "refresh", "self_send", "max_per_name", NULL
};

static gboolean
read_ports(ss_conf *conf, const config_setting_t *s, GError **error)
{
  return conf_read_port_list(conf, s, "broadcast_ports", conf->broadcast_ports,
                        &conf->n_broadcast_ports, error);
}

static void
value_free(gpointer p)
{
  ss_conf_value *v = p;
  g_free(v->key);
  g_free(v->s);
  g_strfreev(v->list);
  g_free(v->origin);
  g_free(v);
}

static void
instance_free(gpointer p)
{
  ss_conf_instance *inst = p;
  g_free(inst->name);
  g_free(inst->plugin);
  g_free(inst->origin);
  g_free(inst->ports_origin);
  g_strfreev(inst->peers);
  g_free(inst->peers_origin);
  g_ptr_array_unref(inst->values);
  g_free(inst);
}

/* Keeps an instance setting with the type the file gave it. */
static gboolean
read_instance_value(const ss_conf *conf, const config_setting_t *m, ss_conf_instance *inst,
                    GError **error)
{
  ss_conf_value *v = g_new0(ss_conf_value, 1);
  v->key = g_strdup(config_setting_name(m));
  v->origin = conf_origin_of(conf, m);
  g_ptr_array_add(inst->values, v);
  switch (config_setting_type(m)) {
  case CONFIG_TYPE_BOOL:
    v->type = SS_KEY_BOOL;
    v->b = config_setting_get_bool(m) ? TRUE : FALSE;
    return TRUE;
  case CONFIG_TYPE_INT:
  case CONFIG_TYPE_INT64:
    v->type = SS_KEY_INT;
    v->i = config_setting_get_int64(m);
    return TRUE;
  case CONFIG_TYPE_STRING:
    v->type = SS_KEY_STRING;
    v->s = g_strdup(config_setting_get_string(m));
    return TRUE;
  case CONFIG_TYPE_ARRAY:
  case CONFIG_TYPE_LIST:
    v->type = SS_KEY_STRING_LIST;
    return conf_read_strv(conf, m, &v->list, error);
  default:
    v->type = SS_KEY_NONE;
    return conf_fail(error, conf, m, "setting '%s' of instance '%s' is %s, which no plugin setting "
                "takes", v->key, inst->name, conf_type_name(config_setting_type(m)));
  }
}

static gboolean
read_instance(ss_conf *conf, const config_setting_t *g, GError **error)
{
  if (config_setting_type(g) != CONFIG_TYPE_GROUP)
    return conf_fail(error, conf, g, "each element of 'instances' must be a group like "
                "{ name = \"mesh\"; plugin = \"udp-mesh\"; }");
  const config_setting_t *name = config_setting_get_member(g, "name");
  const config_setting_t *plugin = config_setting_get_member(g, "plugin");
  if (!name)
    return conf_fail(error, conf, g, "this instance has no 'name'; add name = \"...\"; the chains "
                "refer to instances by name");
  ss_conf_instance *inst = g_new0(ss_conf_instance, 1);
  inst->origin = conf_origin_of(conf, g);
  inst->values = g_ptr_array_new_with_free_func(value_free);
  g_ptr_array_add(conf->instances, inst);
  if (!conf_read_string(conf, name, &inst->name, error))
    return FALSE;
  if (!plugin)
    return conf_fail(error, conf, g, "instance '%s' has no 'plugin'; add plugin = \"...\" "
                "(snowsignal --list-plugins shows the plugins)", inst->name);
  if (!conf_read_string(conf, plugin, &inst->plugin, error))
    return FALSE;
  if (inst->name[0] == '\0')
    return conf_fail(error, conf, name, "an instance name must not be empty");
  for (guint i = 0; i + 1 < conf->instances->len; i++) {
    ss_conf_instance *other = g_ptr_array_index(conf->instances, i);
    if (strcmp(other->name, inst->name) == 0)
      return conf_fail(error, conf, name, "duplicate instance name '%s' (first defined at %s); "
                  "give each instance its own name", inst->name, other->origin);
  }
  for (int i = 0; i < config_setting_length(g); i++) {
    const config_setting_t *m = config_setting_get_elem(g, i);
    const char *key = config_setting_name(m);
    if (strcmp(key, "name") == 0 || strcmp(key, "plugin") == 0)
      continue;
    /* The core's own setting of a filter instance, not the plugin's. */
    if (strcmp(key, SS_INSTANCE_PORTS_KEY) == 0) {
      if (!conf_read_port_list(conf, m, SS_INSTANCE_PORTS_KEY, inst->ports, &inst->n_ports, error))
        return FALSE;
      g_free(inst->ports_origin);
      inst->ports_origin = conf_origin_of(conf, m);
      continue;
    }
    if (strcmp(key, SS_INSTANCE_PEERS_KEY) == 0) {
      g_strfreev(inst->peers);
      inst->peers = NULL;
      if (!conf_read_strv(conf, m, &inst->peers, error))
        return FALSE;
      g_free(inst->peers_origin);
      inst->peers_origin = conf_origin_of(conf, m);
      continue;
    }
    if (!read_instance_value(conf, m, inst, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
read_list(ss_conf *conf, const config_setting_t *s, ss_conf_list *list, GError **error)
{
  g_free(list->origin);
  list->origin = conf_origin_of(conf, s);
  return conf_read_strv(conf, s, &list->names, error);
}

static gboolean
read_peers(ss_conf *conf, const config_setting_t *g, GError **error)
{
  if (config_setting_type(g) != CONFIG_TYPE_GROUP)
    return conf_fail(error, conf, g, "'peers' must be a group: peers = { hosts = [ ... ]; };");
  if (!conf_check_members(conf, g, peer_keys, "in 'peers'", error))
    return FALSE;
  const config_setting_t *s;
  int64_t v;
  if ((s = config_setting_get_member(g, "hosts"))) {
    if (!conf_read_strv(conf, s, &conf->peer_hosts, error))
      return FALSE;
    ss_conf_set_origin(&conf->peer_hosts_origin, NULL);
    conf->peer_hosts_origin = conf_origin_of(conf, s);
  }
  if ((s = config_setting_get_member(g, "service")) && !conf_read_string(conf, s, &conf->service, error))
    return FALSE;
  if ((s = config_setting_get_member(g, "refresh"))) {
    if (!conf_read_int(conf, s, 1, 86400, &v, error))
      return FALSE;
    conf->peer_refresh = (int) v;
  }
  if ((s = config_setting_get_member(g, "self_send")) && !conf_read_bool(conf, s, &conf->self_send, error))
    return FALSE;
  if ((s = config_setting_get_member(g, "max_per_name"))) {
    if (!conf_read_int(conf, s, 1, SS_MAX_PEER_MAX_PER_NAME, &v, error))
      return FALSE;
    conf->peer_max_per_name = (int) v;
  }
  return TRUE;
}

static gboolean
read_root(ss_conf *conf, config_t *cfg, GError **error)
{
  config_setting_t *root = config_root_setting(cfg);
  const config_setting_t *s;
  int64_t v;

  if (!conf_check_members(conf, root, top_level_keys, "at the top level", error))
    return FALSE;
  s = config_setting_get_member(root, "version");
  if (!s)
    return conf_fail(error, conf, NULL, "no 'version' setting; start the file with version = %d;",
                SS_CONF_VERSION);
  if (!conf_read_int(conf, s, 0, G_MAXINT, &v, error))
    return FALSE;
  if (v != SS_CONF_VERSION)
    return conf_fail(error, conf, s, "configuration version %" G_GINT64_FORMAT " is not supported; "
                "this snowsignal reads version %d", v, SS_CONF_VERSION);
  conf->version = (int) v;
  if ((s = config_setting_get_member(root, "interface"))) {
    if (!conf_read_string(conf, s, &conf->interface, error))
      return FALSE;
    ss_conf_set_origin(&conf->interface_origin, NULL);
    conf->interface_origin = conf_origin_of(conf, s);
  }
  if ((s = config_setting_get_member(root, "broadcast_ports")) && !read_ports(conf, s, error))
    return FALSE;
  if ((s = config_setting_get_member(root, "plugin_path")) && !conf_read_strv(conf, s, &conf->plugin_path, error))
    return FALSE;
  if ((s = config_setting_get_member(root, "log_level"))) {
    if (!conf_read_string(conf, s, &conf->log_level, error))
      return FALSE;
    ss_conf_set_origin(&conf->log_level_origin, NULL);
    conf->log_level_origin = conf_origin_of(conf, s);
  }
  if ((s = config_setting_get_member(root, "control_socket")) &&
      !conf_read_string(conf, s, &conf->control_socket, error))
    return FALSE;
  if ((s = config_setting_get_member(root, "user")) && !conf_read_string(conf, s, &conf->user, error))
    return FALSE;
  if ((s = config_setting_get_member(root, "metrics_listen"))) {
    if (!conf_read_string(conf, s, &conf->metrics_listen, error))
      return FALSE;
    ss_conf_set_origin(&conf->metrics_listen_origin, NULL);
    conf->metrics_listen_origin = conf_origin_of(conf, s);
  }
  if ((s = config_setting_get_member(root, "capture_ring_kib"))) {
    if (!conf_read_int(conf, s, SS_MIN_CAPTURE_RING_KIB, SS_MAX_CAPTURE_RING_KIB, &v, error))
      return FALSE;
    conf->capture_ring_kib = (int) v;
  }
  if ((s = config_setting_get_member(root, "duplicate_window_ms"))) {
    if (!conf_read_int(conf, s, 0, SS_MAX_DUPLICATE_WINDOW_MS, &v, error))
      return FALSE;
    conf->duplicate_window_ms = (int) v;
  }
  if ((s = config_setting_get_member(root, "vlan"))) {
    if (!conf_read_int(conf, s, 0, SS_MAX_VLAN, &v, error))
      return FALSE;
    conf->vlan = (int) v;
  }
  if ((s = config_setting_get_member(root, "watch_config")) &&
      !conf_read_bool(conf, s, &conf->watch_config, error))
    return FALSE;
  if ((s = config_setting_get_member(root, "source_rate_limit"))) {
    if (!conf_read_int(conf, s, 0, SS_MAX_RATE_LIMIT, &v, error))
      return FALSE;
    conf->source_rate_limit = (int) v;
  }
  if ((s = config_setting_get_member(root, "peer_rate_limit"))) {
    if (!conf_read_int(conf, s, 0, SS_MAX_RATE_LIMIT, &v, error))
      return FALSE;
    conf->peer_rate_limit = (int) v;
  }
  if ((s = config_setting_get_member(root, "instances"))) {
    if (config_setting_type(s) != CONFIG_TYPE_LIST)
      return conf_fail(error, conf, s, "'instances' must be a list of groups: instances = ( { ... }, { ... } );");
    for (int i = 0; i < config_setting_length(s); i++)
      if (!read_instance(conf, config_setting_get_elem(s, i), error))
        return FALSE;
  }
  if ((s = config_setting_get_member(root, "outbound")) && !read_list(conf, s, &conf->outbound, error))
    return FALSE;
  if ((s = config_setting_get_member(root, "inbound")) && !read_list(conf, s, &conf->inbound, error))
    return FALSE;
  if ((s = config_setting_get_member(root, "transports")) && !read_list(conf, s, &conf->transports, error))
    return FALSE;
  if ((s = config_setting_get_member(root, "peers")) && !read_peers(conf, s, error))
    return FALSE;
  return ss_conf_check(conf, error);
}

static ss_conf *
conf_new(const char *label)
{
  ss_conf *conf = g_new0(ss_conf, 1);
  conf->path = g_strdup(label);
  conf->interface = g_strdup(SS_DEFAULT_INTERFACE);
  conf->interface_origin = g_strdup("built-in default");
  conf->log_level_origin = g_strdup("built-in default");
  conf->peer_hosts_origin = g_strdup(label);
  conf->broadcast_ports[0] = SS_DEFAULT_BROADCAST_PORT;
  conf->n_broadcast_ports = 1;
  conf->plugin_path = g_new0(char *, 1);
  conf->log_level = g_strdup(SS_DEFAULT_LOG_LEVEL);
  conf->instances = g_ptr_array_new_with_free_func(instance_free);
  conf->outbound.names = g_new0(char *, 1);
  conf->outbound.origin = g_strdup(label);
  conf->inbound.names = g_new0(char *, 1);
  conf->inbound.origin = g_strdup(label);
  conf->transports.names = g_new0(char *, 1);
  conf->transports.origin = g_strdup(label);
  conf->peer_hosts = g_new0(char *, 1);
  conf->service = g_strdup("");
  conf->peer_refresh = SS_DEFAULT_PEER_REFRESH;
  conf->peer_max_per_name = SS_DEFAULT_PEER_MAX_PER_NAME;
  conf->capture_ring_kib = SS_DEFAULT_CAPTURE_RING_KIB;
  conf->duplicate_window_ms = SS_DEFAULT_DUPLICATE_WINDOW_MS;
  conf->source_rate_limit = SS_DEFAULT_SOURCE_RATE_LIMIT;
  conf->peer_rate_limit = SS_DEFAULT_PEER_RATE_LIMIT;
  conf->control_socket = g_strdup(SS_DEFAULT_CONTROL_SOCKET);
  conf->user = g_strdup("");
  conf->metrics_listen = g_strdup("");
  conf->metrics_listen_origin = g_strdup("built-in default");
  return conf;
}

static ss_conf *
conf_parse(config_t *cfg, ss_conf *conf, gboolean ok, GError **error)
{
  if (!ok) {
    const char *file = config_error_file(cfg);
    int code = config_error_type(cfg) == CONFIG_ERR_FILE_IO ? SS_CONF_ERROR_IO : SS_CONF_ERROR_SYNTAX;
    if (code == SS_CONF_ERROR_IO)
      g_set_error(error, SS_CONF_ERROR, code, "%s: cannot read the file: %s", conf->path,
                  g_strerror(errno));
    else
      g_set_error(error, SS_CONF_ERROR, code, "%s:%d: syntax error: %s; see snowsignal.conf(5)",
                  file ? file : conf->path, config_error_line(cfg), config_error_text(cfg));
  } else if (read_root(conf, cfg, error)) {
    config_destroy(cfg);
    return conf;
  }
  config_destroy(cfg);
  ss_conf_free(conf);
  return NULL;
}

ss_conf *
ss_conf_load_file(const char *path, GError **error)
{
  config_t cfg;
  config_init(&cfg);
  g_autofree char *dir = g_path_get_dirname(path);
  config_set_include_dir(&cfg, dir);
  errno = 0;
  return conf_parse(&cfg, conf_new(path), config_read_file(&cfg, path) == CONFIG_TRUE, error);
}

ss_conf *
ss_conf_load_string(const char *text, const char *label, GError **error)
{
  config_t cfg;
  config_init(&cfg);
  return conf_parse(&cfg, conf_new(label), config_read_string(&cfg, text) == CONFIG_TRUE, error);
}

ss_conf *
ss_conf_new_default(void)
{
  ss_conf *conf = ss_conf_load_string(default_conf_text, "(built-in default)", NULL);
  g_assert(conf != NULL);
  return conf;
}

void
ss_conf_free(ss_conf *conf)
{
  if (!conf)
    return;
  g_free(conf->path);
  g_free(conf->interface);
  g_free(conf->interface_origin);
  g_free(conf->log_level_origin);
  g_free(conf->peer_hosts_origin);
  g_strfreev(conf->plugin_path);
  g_free(conf->log_level);
  g_ptr_array_unref(conf->instances);
  ss_conf_list *lists[] = { &conf->outbound, &conf->inbound, &conf->transports };
  for (size_t i = 0; i < G_N_ELEMENTS(lists); i++) {
    g_strfreev(lists[i]->names);
    g_free(lists[i]->origin);
  }
  g_strfreev(conf->peer_hosts);
  g_free(conf->service);
  g_free(conf->control_socket);
  g_free(conf->user);
  g_free(conf->metrics_listen);
  g_free(conf->metrics_listen_origin);
  g_free(conf);
}

void
ss_conf_add_pva_log(ss_conf *conf, const char *origin)
{
  if (ss_conf_find_instance(conf, SS_PVA_LOG_INSTANCE))
    return;
  ss_conf_instance *inst = g_new0(ss_conf_instance, 1);
  inst->name = g_strdup(SS_PVA_LOG_INSTANCE);
  inst->plugin = g_strdup("pva-search");
  inst->origin = g_strdup(origin);
  inst->values = g_ptr_array_new_with_free_func(value_free);
  ss_conf_value *v = g_new0(ss_conf_value, 1);
  v->key = g_strdup("log_only");
  v->type = SS_KEY_BOOL;
  v->b = TRUE;
  v->origin = g_strdup(origin);
  g_ptr_array_add(inst->values, v);
  g_ptr_array_add(conf->instances, inst);
  /* First in the outbound chain: it sees every captured frame. */
  guint n = g_strv_length(conf->outbound.names);
  char **names = g_new0(char *, n + 2);
  names[0] = g_strdup(SS_PVA_LOG_INSTANCE);
  for (guint i = 0; i < n; i++)
    names[i + 1] = conf->outbound.names[i];
  g_free(conf->outbound.names);
  conf->outbound.names = names;
}

ss_conf_instance *
ss_conf_find_instance(const ss_conf *conf, const char *name)
{
  for (guint i = 0; i < conf->instances->len; i++) {
    ss_conf_instance *inst = g_ptr_array_index(conf->instances, i);
    if (strcmp(inst->name, name) == 0)
      return inst;
  }
  return NULL;
}

const ss_conf_value *
ss_conf_instance_find_value(const ss_conf_instance *inst, const char *key)
{
  for (guint i = 0; i < inst->values->len; i++) {
    const ss_conf_value *v = g_ptr_array_index(inst->values, i);
    if (strcmp(v->key, key) == 0)
      return v;
  }
  return NULL;
}

static gboolean
check_list(const ss_conf *conf, const ss_conf_list *list, const char *what, GError **error)
{
  for (char **n = list->names; *n; n++) {
    if (!ss_conf_find_instance(conf, *n)) {
      g_set_error(error, SS_CONF_ERROR, SS_CONF_ERROR_INVALID,
                  "%s: '%s' names instance '%s', which is not defined; define it in "
                  "'instances' or remove it from '%s'", list->origin, what, *n, what);
      return FALSE;
    }
    for (char **m = list->names; m < n; m++)
      if (strcmp(*m, *n) == 0) {
        g_set_error(error, SS_CONF_ERROR, SS_CONF_ERROR_INVALID,
                    "%s: '%s' lists instance '%s' twice; an instance runs once per chain",
                    list->origin, what, *n);
        return FALSE;
      }
  }
  return TRUE;
}

void
ss_conf_set_origin(char **field, const char *origin)
{
  g_free(*field);
  *field = g_strdup(origin);
}

gboolean
ss_conf_check(const ss_conf *conf, GError **error)
{
  if (conf->interface[0] == '\0') {
    g_set_error(error, SS_CONF_ERROR, SS_CONF_ERROR_INVALID,
                "%s: 'interface' is empty; name the segment's interface, e.g. \"eth0\"",
                conf->interface_origin);
    return FALSE;
  }
  GLogLevelFlags level;
  if (!ss_log_level_parse(conf->log_level, &level)) {
    g_set_error(error, SS_CONF_ERROR, SS_CONF_ERROR_INVALID,
                "%s: log_level \"%s\" is not known; use debug, info, warning, error or critical",
                conf->log_level_origin, conf->log_level);
    return FALSE;
  }
  return check_list(conf, &conf->outbound, "outbound", error) &&
         check_list(conf, &conf->inbound, "inbound", error) &&
         check_list(conf, &conf->transports, "transports", error);
}
