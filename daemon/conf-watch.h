/* snowsignal - UDP broadcast relay
 * conf-watch.h: the configuration file watched (watch_config), so that an
 * edit is applied as a SIGHUP would apply it.
 *
 * GIO's file monitor (inotify: no polling, no wake-up while nothing
 * changes) watches the file, including an editor's "write a copy, rename
 * it over" and a symlink or ConfigMap swap.  Events are gathered for
 * SS_CONF_WATCH_SETTLE_MS, then the file is read: only a content other
 * than the last one seen calls @changed, so touching or rewriting the
 * same text reloads nothing.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SS_DAEMON_CONF_WATCH_H
#define SS_DAEMON_CONF_WATCH_H

#include <glib.h>

#define SS_CONF_WATCH_SETTLE_MS 300

typedef struct ss_conf_watch ss_conf_watch;

/* Watches @path on the thread-default main context; @changed runs there.
 * NULL with @error when the file cannot be watched. */
ss_conf_watch *ss_conf_watch_new(const char *path, void (*changed)(void *user), void *user,
                                 GError **error);
void ss_conf_watch_free(ss_conf_watch *w);

#endif
