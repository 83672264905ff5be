/* snowsignal - UDP broadcast relay
 * core/log.h: log set-up for the daemon (the logging calls are in
 * <snowsignal/log.h>).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SS_CORE_LOG_H
#define SS_CORE_LOG_H

#include <glib.h>

#define SS_LOG_DOMAIN "snowsignal"

/* Parses "debug", "info", "warning", "error", "critical" (the original's
 * names); FALSE for anything else. */
gboolean ss_log_level_parse(const char *name, GLogLevelFlags *level);
/* Messages less severe than @level are not written. */
void ss_log_set_level(GLogLevelFlags level);
/* Installs the writer: journald when stderr is the journal, else stderr. */
void ss_log_init(void);

#endif
