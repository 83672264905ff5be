/* snowsignal - UDP broadcast relay
 * log.c: structured logging to journald or stderr.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <snowsignal/log.h>
#include "log.h"

/* The relay counters line has the most: some 30 fields. */
#define SS_LOG_MAX_FIELDS 64

/* Messages more severe than or equal to this are written.  GLib numbers
 * levels so that a smaller flag is more severe. */
static GLogLevelFlags threshold = G_LOG_LEVEL_INFO;
static gboolean use_journal;

static const struct {
  const char *name;
  GLogLevelFlags level;
} level_names[] = {
  { "debug", G_LOG_LEVEL_DEBUG },
  { "info", G_LOG_LEVEL_INFO },
  { "warning", G_LOG_LEVEL_WARNING },
  { "error", G_LOG_LEVEL_CRITICAL },
  { "critical", G_LOG_LEVEL_CRITICAL },
};

gboolean
ss_log_level_parse(const char *name, GLogLevelFlags *level)
{
  for (size_t i = 0; i < G_N_ELEMENTS(level_names); i++)
    if (g_ascii_strcasecmp(name, level_names[i].name) == 0) {
      *level = level_names[i].level;
      return TRUE;
    }
  return FALSE;
}

void
ss_log_set_level(GLogLevelFlags level)
{
  threshold = level;
}

static GLogLevelFlags
level_of(GLogLevelFlags flags)
{
  static const GLogLevelFlags order[] = {
    G_LOG_LEVEL_ERROR, G_LOG_LEVEL_CRITICAL, G_LOG_LEVEL_WARNING,
    G_LOG_LEVEL_MESSAGE, G_LOG_LEVEL_INFO, G_LOG_LEVEL_DEBUG
  };
  for (size_t i = 0; i < G_N_ELEMENTS(order); i++)
    if (flags & order[i])
      return order[i];
  return G_LOG_LEVEL_DEBUG;
}

/* Notices (G_LOG_LEVEL_MESSAGE: start, stop, reload, the counters an admin
 * asked for with SIGUSR1) are written whatever the level: they are rare and
 * always wanted. */
gboolean
ss_log_enabled(GLogLevelFlags level)
{
  GLogLevelFlags l = level_of(level);
  return l <= threshold || l == G_LOG_LEVEL_MESSAGE;
}

static const char *
level_label(GLogLevelFlags level)
{
  switch (level_of(level)) {
  case G_LOG_LEVEL_ERROR:
  case G_LOG_LEVEL_CRITICAL: return "ERROR";
  case G_LOG_LEVEL_WARNING: return "WARNING";
  case G_LOG_LEVEL_MESSAGE: return "NOTICE";
  case G_LOG_LEVEL_INFO: return "INFO";
  default: return "DEBUG";
  }
}

/* Fields GLib or journald set that a person reading stderr does not need. */
static gboolean
is_internal_field(const char *key)
{
  return strcmp(key, "MESSAGE") == 0 || strcmp(key, "PRIORITY") == 0 ||
         strcmp(key, "GLIB_DOMAIN") == 0 || strcmp(key, "GLIB_OLD_LOG_API") == 0 ||
         strncmp(key, "CODE_", 5) == 0 || strcmp(key, "SYSLOG_IDENTIFIER") == 0;
}

/* A value needs quotes when it would otherwise not read back as one
 * key=value word. */
static gboolean
needs_quotes(const char *v)
{
  if (!*v)
    return TRUE;
  for (const unsigned char *c = (const unsigned char *) v; *c; c++)
    if (*c <= ' ' || *c == 0x7f || *c == '"' || *c == '=' || *c == '\\')
      return TRUE;
  return FALSE;
}

/* Appends @text with what could forge or break a log line escaped: a
 * newline in a peer's error string must not start a line of its own, a
 * quote must not end the value early, and a terminal must not be sent
 * control sequences.  Bytes of 0x80 and over (UTF-8) are kept. */
static void
append_escaped(GString *line, const char *text, gboolean in_quotes)
{
  for (const unsigned char *c = (const unsigned char *) text; *c; c++) {
    switch (*c) {
    case '\n': g_string_append(line, "\\n"); break;
    case '\r': g_string_append(line, "\\r"); break;
    case '\t': g_string_append(line, "\\t"); break;
    case '"':
    case '\\':
      if (in_quotes)
        g_string_append_c(line, '\\');
      g_string_append_c(line, (char) *c);
      break;
    default:
      if (*c < ' ' || *c == 0x7f)
        g_string_append_printf(line, "\\x%02x", *c);
      else
        g_string_append_c(line, (char) *c);
    }
  }
}

/* One line: "snowsignal[domain] LEVEL: message key=value ...".  Values with
 * spaces, quotes or control characters are quoted and escaped (\", \\, \n,
 * \r, \t, \xHH), so the line stays one line and machine-splittable. */
static void
write_stderr(GLogLevelFlags level, const GLogField *fields, gsize n_fields)
{
  const char *domain = NULL, *message = "";
  for (gsize i = 0; i < n_fields; i++) {
    if (strcmp(fields[i].key, "GLIB_DOMAIN") == 0)
      domain = fields[i].value;
    else if (strcmp(fields[i].key, "MESSAGE") == 0)
      message = fields[i].value;
  }
  GString *line = g_string_sized_new(160);
  g_string_append_printf(line, "snowsignal[%s] %s: ", domain ? domain : SS_LOG_DOMAIN,
                         level_label(level));
  append_escaped(line, message, FALSE);
  for (gsize i = 0; i < n_fields; i++) {
    if (is_internal_field(fields[i].key) || fields[i].length != -1)
      continue;
    const char *v = fields[i].value;
    gboolean quote = needs_quotes(v);
    g_autofree char *lower = g_ascii_strdown(fields[i].key, -1);
    g_string_append_printf(line, quote ? " %s=\"" : " %s=", lower);
    append_escaped(line, v, quote);
    if (quote)
      g_string_append_c(line, '"');
  }
  g_string_append_c(line, '\n');
  fputs(line->str, stderr);
  fflush(stderr);
  g_string_free(line, TRUE);
}

static GLogWriterOutput
writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  if (!ss_log_enabled(level))
    return G_LOG_WRITER_HANDLED;
  if (use_journal && g_log_writer_journald(level, fields, n_fields, user_data) == G_LOG_WRITER_HANDLED)
    return G_LOG_WRITER_HANDLED;
  write_stderr(level, fields, n_fields);
  return G_LOG_WRITER_HANDLED;
}

void
ss_log_init(void)
{
  static gsize once;
  if (g_once_init_enter(&once)) {
    use_journal = g_log_writer_is_journald(fileno(stderr));
    g_log_set_writer_func(writer, NULL, NULL);
    g_once_init_leave(&once, 1);
  }
}

/* ss_log() with one more field (@extra_key, when not NULL) before the
 * caller's. */
static void
log_fields(const char *domain, GLogLevelFlags level, const char *message, const char *extra_key,
           const char *extra_value, va_list ap)
{
  GLogField fields[SS_LOG_MAX_FIELDS + 4];
  gsize n = 0;
  fields[n++] = (GLogField) { "MESSAGE", message, -1 };
  fields[n++] = (GLogField) { "GLIB_DOMAIN", domain ? domain : SS_LOG_DOMAIN, -1 };
  fields[n++] = (GLogField) { "SYSLOG_IDENTIFIER", "snowsignal", -1 };
  const char *key;
  while ((key = va_arg(ap, const char *)) != NULL) {
    const char *value = va_arg(ap, const char *);
    if (value && n < G_N_ELEMENTS(fields) - 1)
      fields[n++] = (GLogField) { key, value, -1 };
  }
  if (extra_key)
    fields[n++] = (GLogField) { extra_key, extra_value, -1 };
  g_log_structured_array(level, fields, n);
}

void
ss_log(const char *domain, GLogLevelFlags level, const char *message, ...)
{
  if (!ss_log_enabled(level))
    return;
  va_list ap;
  va_start(ap, message);
  log_fields(domain, level, message, NULL, NULL, ap);
  va_end(ap);
}

gboolean
ss_log_limit_allow(ss_log_limit *limit, guint64 *suppressed)
{
  gint64 now = g_get_monotonic_time();
  gint64 interval = limit->interval_us > 0 ? limit->interval_us
                                           : (gint64) SS_LOG_LIMIT_DEFAULT_S * G_USEC_PER_SEC;
  if (limit->last_us && now - limit->last_us < interval) {
    limit->suppressed++;
    return FALSE;
  }
  /* Never 0 once written: 0 means "never". */
  limit->last_us = MAX(now, 1);
  if (suppressed)
    *suppressed = limit->suppressed;
  limit->suppressed = 0;
  return TRUE;
}

void
ss_log_limited(ss_log_limit *limit, const char *domain, GLogLevelFlags level, const char *message,
               ...)
{
  guint64 held;
  if (!ss_log_enabled(level) || !ss_log_limit_allow(limit, &held))
    return;
  char count[24];
  g_snprintf(count, sizeof count, "%" G_GUINT64_FORMAT, held);
  va_list ap;
  va_start(ap, message);
  log_fields(domain, level, message, held ? "SUPPRESSED" : NULL, count, ap);
  va_end(ap);
}
