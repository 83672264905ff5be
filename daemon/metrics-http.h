/* snowsignal - UDP broadcast relay
 * metrics-http.h: the contract between the daemon and its HTTP module.
 *
 * The module (metrics-http.la, installed beside the plugins' directory as
 * $(libdir)/snowsignal/metrics-http.so) holds everything that links the HTTP
 * library, so the daemon maps that library, and what it pulls in, only
 * when metrics_listen is set.  It exports one symbol,
 * SS_METRICS_HTTP_SYMBOL, returning the table below; the daemon checks its
 * size before use.  Daemon and module are built and installed together:
 * this is not a plugin ABI.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SS_DAEMON_METRICS_HTTP_H
#define SS_DAEMON_METRICS_HTTP_H

#include <glib.h>

#define SS_METRICS_HTTP_SYMBOL "snowsignal_metrics_http_get"
#define SS_METRICS_HTTP_MODULE "metrics-http"
/* The path that answers; any other is 404. */
#define SS_METRICS_HTTP_PATH "/metrics"

typedef struct ss_metrics_http_server ss_metrics_http_server;

typedef struct {
  size_t size;  /* sizeof (ss_metrics_http) when the module was built */
  /* Serves GET and HEAD of SS_METRICS_HTTP_PATH with @render's answer
   * (g_free()d after sending) on the listening socket @fd, which it takes
   * over (closed by stop, or on failure), on @context.  What the HTTP
   * library reports (a connection refused over the limit, say) goes to
   * @log, which a flood of clients must not turn into a flood of lines:
   * the daemon rate-limits it. */
  ss_metrics_http_server *(*start)(int fd, GMainContext *context, char *(*render)(void *user),
                                   void (*log)(const char *text), void *user, GError **error);
  /* Closes the listening socket and every connection. */
  void (*stop)(ss_metrics_http_server *server);
} ss_metrics_http;

typedef const ss_metrics_http *(*ss_metrics_http_get_fn)(void);

#endif
