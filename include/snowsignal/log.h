/* snowsignal - UDP broadcast relay
 * log.h: structured logging for the core and plugins.
 *
 * Messages are fixed sentences; the variable parts go into key=value fields
 * (INSTANCE, PEER, PATH, ...), so they can be searched in the journal and
 * read on stderr.  Each plugin logs in its own domain, "snowsignal-<name>"
 * (ss_instance_get_log_domain()).
 *
 *   SS_LOG (domain, G_LOG_LEVEL_WARNING, "send to peer failed",
 *           "PEER", peer_name, "ERROR", g_strerror (errno));
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SNOWSIGNAL_LOG_H
#define SNOWSIGNAL_LOG_H

#include <glib.h>

G_BEGIN_DECLS

/* Logs @message with NULL-terminated pairs of (FIELD, value) strings.
 * FIELD names are upper case, as journald expects. A NULL value is skipped. */
void ss_log(const char *domain, GLogLevelFlags level, const char *message, ...)
  G_GNUC_NULL_TERMINATED;

#define SS_LOG(domain, level, message, ...) \
  ss_log ((domain), (level), (message), ##__VA_ARGS__, NULL)

/* Levels: G_LOG_LEVEL_DEBUG, _INFO, _WARNING, _CRITICAL (shown as ERROR)
 * follow the configured log_level; G_LOG_LEVEL_MESSAGE (shown as NOTICE)
 * is always written, for the few lines an admin always wants (start, stop,
 * reload, counters on request).  Never use G_LOG_LEVEL_ERROR: GLib aborts.
 *
 * TRUE when messages at @level are currently written (skip building costly
 * fields otherwise). */
gboolean ss_log_enabled(GLogLevelFlags level);

/* Rate-limited logging, for what a flood (of frames, of peers, of
 * handshakes) could repeat thousands of times a second: at most one line
 * per interval is written, and the next line written carries the number of
 * those held back in a SUPPRESSED field.  What was held back is not lost
 * when it is also counted (every drop has a counter).
 *
 * One ss_log_limit per kind of message and per object it concerns (a
 * plugin instance, a peer), zeroed or set with SS_LOG_LIMIT_INIT, kept
 * where the object lives; not thread-safe, like the rest of the core:
 *
 *   static ss_log_limit send_failed = SS_LOG_LIMIT_INIT (10);
 *   SS_LOG_LIMITED (&send_failed, domain, G_LOG_LEVEL_WARNING,
 *                   "send to peer failed", "PEER", name, "ERROR", g_strerror (e));
 *
 * A zeroed ss_log_limit (g_new0, a static) has an interval of
 * SS_LOG_LIMIT_DEFAULT_S seconds. */
#define SS_LOG_LIMIT_DEFAULT_S 10

typedef struct {
  gint64 interval_us;  /* at most one line per this much monotonic time */
  gint64 last_us;      /* when the last line was written; 0: never */
  guint64 suppressed;  /* lines held back since then */
  gint64 reserved[2];  /* zero: room to grow without changing the size */
} ss_log_limit;

#define SS_LOG_LIMIT_INIT(seconds) { (gint64) (seconds) * G_USEC_PER_SEC, 0, 0, { 0, 0 } }

/* TRUE when a line may be written now (the first call, then at most once
 * per interval); FALSE counts one line held back.  When TRUE and
 * @suppressed is not NULL, *@suppressed is the number held back since the
 * last TRUE, and the count starts again.  For a caller that builds its own
 * line (or sums what it reports). */
gboolean ss_log_limit_allow(ss_log_limit *limit, guint64 *suppressed);

/* ss_log() through @limit: written when ss_log_limit_allow() says so, with
 * a "SUPPRESSED" field when lines were held back.  A message below the
 * configured log level is neither written nor counted. */
void ss_log_limited(ss_log_limit *limit, const char *domain, GLogLevelFlags level,
                    const char *message, ...) G_GNUC_NULL_TERMINATED;

#define SS_LOG_LIMITED(limit, domain, level, message, ...) \
  ss_log_limited ((limit), (domain), (level), (message), ##__VA_ARGS__, NULL)

G_END_DECLS

#endif /* SNOWSIGNAL_LOG_H */
