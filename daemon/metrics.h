/* snowsignal - UDP broadcast relay
 * metrics.h: the optional Prometheus endpoint (metrics_listen).
 *
 * Two halves: the exposition, every counter `snowsignal status` shows in
 * the Prometheus text format (metrics.c), and the HTTP server that serves
 * it on the relay's loop (metrics-server.c).  The server's HTTP library
 * lives in a module of its own (metrics-http.c, loaded only when
 * metrics_listen is set), so a relay without the endpoint maps none of it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SS_DAEMON_METRICS_H
#define SS_DAEMON_METRICS_H

#include <sys/socket.h>
#include <glib.h>
#include "conffile.h"
#include "relay.h"

/* The exposition (text format 0.0.4) of @relay's state: build information,
 * uptime, standby, the relay's counters, every chain and transport
 * instance's counters, and per peer its counters, state and round trips.
 * @started_us: g_get_monotonic_time() at start. */
char *ss_metrics_render(ss_relay *relay, gint64 started_us);

/* Escapes @value for a label value ("\\", "\"", "\n"; invalid UTF-8
 * replaced) into @out, quotes included. */
void ss_metrics_append_label_value(GString *out, const char *value);

/* Parses metrics_listen, "ADDRESS:PORT" with a literal IPv4 address or a
 * bracketed IPv6 one ("127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464").
 * Errors begin with @origin ("file:line"). */
gboolean ss_metrics_parse_listen(const char *text, const char *origin,
                                 struct sockaddr_storage *addr, socklen_t *addr_len,
                                 GError **error);

typedef struct ss_metrics ss_metrics;
typedef char *(*ss_metrics_render_fn)(void *user);

/* Checks @conf's metrics_listen without opening anything: its syntax, and
 * that this build has the endpoint (--check-config, and a reload before
 * anything is swapped). */
gboolean ss_metrics_check_conf(const ss_conf *conf, GError **error);

/* Serves @render's answer on @conf's metrics_listen, on @context; NULL
 * without error when metrics_listen is "" (off).  A bind error names the
 * address. */
ss_metrics *ss_metrics_new(const ss_conf *conf, GMainContext *context, ss_metrics_render_fn render,
                           void *user, GError **error);
/* Applies a reloaded @conf: nothing when metrics_listen is unchanged,
 * else the endpoint moves (or stops, or starts).  When the new address
 * cannot be opened, the old endpoint is kept and FALSE returned. */
gboolean ss_metrics_reload(ss_metrics **metrics, const ss_conf *conf, GMainContext *context,
                           ss_metrics_render_fn render, void *user, GError **error);
void ss_metrics_free(ss_metrics *metrics);
const char *ss_metrics_get_listen(const ss_metrics *metrics);

#endif
