/* snowsignal - UDP broadcast relay
 * conffile-read.c: typed values out of libconfig settings, each refusal
 * naming the file, the line and what was expected (conffile-read.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>

#include "conffile-read.h"

char *
conf_origin_of(const ss_conf *conf, const config_setting_t *s)
{
  const char *file = config_setting_source_file(s);
  return g_strdup_printf("%s:%u", file ? file : conf->path, config_setting_source_line(s));
}

gboolean
conf_fail(GError **error, const ss_conf *conf, const config_setting_t *s, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *what = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_autofree char *where = s ? conf_origin_of(conf, s) : g_strdup(conf->path);
  g_set_error(error, SS_CONF_ERROR, SS_CONF_ERROR_INVALID, "%s: %s", where, what);
  return FALSE;
}

const char *
conf_type_name(int type)
{
  switch (type) {
  case CONFIG_TYPE_GROUP: return "a group { }";
  case CONFIG_TYPE_INT: case CONFIG_TYPE_INT64: return "an integer";
  case CONFIG_TYPE_FLOAT: return "a number with a fraction";
  case CONFIG_TYPE_STRING: return "a string";
  case CONFIG_TYPE_BOOL: return "true/false";
  case CONFIG_TYPE_ARRAY: return "an array [ ]";
  case CONFIG_TYPE_LIST: return "a list ( )";
  default: return "an unknown type";
  }
}

static gboolean
is_one_of(const char *name, const char *const *allowed)
{
  for (; *allowed; allowed++)
    if (strcmp(name, *allowed) == 0)
      return TRUE;
  return FALSE;
}

gboolean
conf_check_members(const ss_conf *conf, const config_setting_t *group, const char *const *allowed,
              const char *where, GError **error)
{
  for (int i = 0; i < config_setting_length(group); i++) {
    const config_setting_t *m = config_setting_get_elem(group, i);
    if (!is_one_of(config_setting_name(m), allowed)) {
      g_autofree char *list = g_strjoinv(", ", (char **) allowed);
      return conf_fail(error, conf, m, "unknown setting '%s' %s; known settings are: %s",
                  config_setting_name(m), where, list);
    }
  }
  return TRUE;
}

/* Reads a string, or a list of strings, into a NULL-terminated vector. */
gboolean
conf_read_strv(const ss_conf *conf, const config_setting_t *s, char ***out, GError **error)
{
  if (config_setting_type(s) == CONFIG_TYPE_STRING) {
    g_strfreev(*out);
    *out = g_new0(char *, 2);
    (*out)[0] = g_strdup(config_setting_get_string(s));
    return TRUE;
  }
  if (!config_setting_is_aggregate(s) || config_setting_type(s) == CONFIG_TYPE_GROUP)
    return conf_fail(error, conf, s, "'%s' must be a list of strings like [ \"a\", \"b\" ], not %s",
                config_setting_name(s), conf_type_name(config_setting_type(s)));
  int n = config_setting_length(s);
  char **v = g_new0(char *, n + 1);
  for (int i = 0; i < n; i++) {
    const config_setting_t *e = config_setting_get_elem(s, i);
    if (config_setting_type(e) != CONFIG_TYPE_STRING) {
      g_strfreev(v);
      return conf_fail(error, conf, e, "element %d of '%s' must be a string in double quotes", i + 1,
                  config_setting_name(s) ? config_setting_name(s) : "the list");
    }
    v[i] = g_strdup(config_setting_get_string(e));
  }
  g_strfreev(*out);
  *out = v;
  return TRUE;
}

gboolean
conf_read_string(const ss_conf *conf, const config_setting_t *s, char **out, GError **error)
{
  if (config_setting_type(s) != CONFIG_TYPE_STRING)
    return conf_fail(error, conf, s, "'%s' must be a string in double quotes, not %s",
                config_setting_name(s), conf_type_name(config_setting_type(s)));
  g_free(*out);
  *out = g_strdup(config_setting_get_string(s));
  return TRUE;
}

gboolean
conf_read_int(const ss_conf *conf, const config_setting_t *s, int64_t min, int64_t max, int64_t *out,
         GError **error)
{
  int t = config_setting_type(s);
  if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
    return conf_fail(error, conf, s, "'%s' must be an integer, not %s",
                config_setting_name(s), conf_type_name(t));
  int64_t v = config_setting_get_int64(s);
  if (v < min || v > max)
    return conf_fail(error, conf, s, "'%s' is %" G_GINT64_FORMAT "; it must be between %"
                G_GINT64_FORMAT " and %" G_GINT64_FORMAT, config_setting_name(s), v, min, max);
  *out = v;
  return TRUE;
}

gboolean
conf_read_bool(const ss_conf *conf, const config_setting_t *s, gboolean *out, GError **error)
{
  if (config_setting_type(s) != CONFIG_TYPE_BOOL)
    return conf_fail(error, conf, s, "'%s' must be true or false, not %s",
                config_setting_name(s), conf_type_name(config_setting_type(s)));
  *out = config_setting_get_bool(s) ? TRUE : FALSE;
  return TRUE;
}

/* A port or a list of ports, 1 to SS_MAX_BROADCAST_PORTS of them, as
 * setting @what. */
gboolean
conf_read_port_list(ss_conf *conf, const config_setting_t *s, const char *what, uint16_t *ports,
               unsigned *n_ports, GError **error)
{
  int64_t v;
  if (config_setting_type(s) == CONFIG_TYPE_INT || config_setting_type(s) == CONFIG_TYPE_INT64) {
    if (!conf_read_int(conf, s, 1, 65535, &v, error))
      return FALSE;
    ports[0] = (uint16_t) v;
    *n_ports = 1;
    return TRUE;
  }
  if (config_setting_type(s) != CONFIG_TYPE_ARRAY && config_setting_type(s) != CONFIG_TYPE_LIST)
    return conf_fail(error, conf, s, "'%s' must be a port or a list like [ 5076, 5064 ]", what);
  int n = config_setting_length(s);
  if (n == 0 || n > SS_MAX_BROADCAST_PORTS)
    return conf_fail(error, conf, s, "'%s' must list 1 to %d ports, not %d", what,
                SS_MAX_BROADCAST_PORTS, n);
  for (int i = 0; i < n; i++) {
    const config_setting_t *e = config_setting_get_elem(s, i);
    if (!conf_read_int(conf, e, 1, 65535, &v, error))
      return FALSE;
    ports[i] = (uint16_t) v;
  }
  *n_ports = (unsigned) n;
  return TRUE;
}
