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

G_END_DECLS

#endif /* SNOWSIGNAL_LOG_H */
