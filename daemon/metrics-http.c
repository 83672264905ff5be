/* snowsignal - UDP broadcast relay
 * metrics-http.c: the HTTP side of the metrics endpoint, a module over
 * GNU libmicrohttpd (see metrics-http.h for why it is a module).
 *
 * libmicrohttpd runs in its "external polling" mode with epoll: no thread
 * of its own, one epoll descriptor that the relay's GLib loop watches, and
 * a timer armed only while connections have a timeout running.  An idle
 * endpoint with no client therefore never wakes the relay.
 *
 *   epoll fd readable, or the timer ──▶ MHD_run() ──▶ (a request)
 *       ──▶ render() ──▶ the answer queued ──▶ re-arm the timer
 *
 * Connections are bounded (METRICS_MAX_CONNECTIONS, each closed after
 * METRICS_CONNECTION_TIMEOUT_S of silence), so a slow or hostile client
 * costs a little memory for a while and never stalls the relay.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib-unix.h>
#include <microhttpd.h>

#include "metrics-http.h"

#define METRICS_MAX_CONNECTIONS     16
#define METRICS_CONNECTION_TIMEOUT_S 30
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct ss_metrics_http_server {
  struct MHD_Daemon *mhd;
  GMainContext *context;
  GSource *io;       /* the epoll descriptor */
  GSource *timer;    /* while MHD_get_timeout() asks for one */
  char *(*render)(void *user);
  void (*log)(const char *text);
  void *user;
};

const ss_metrics_http *snowsignal_metrics_http_get(void);

static enum MHD_Result
answer_text(struct MHD_Connection *connection, unsigned status, char *text)
{
  struct MHD_Response *response =
    MHD_create_response_from_buffer_with_free_callback(strlen(text), text, g_free);
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, METRICS_CONTENT_TYPE);
  enum MHD_Result ret = MHD_queue_response(connection, status, response);
  MHD_destroy_response(response);
  return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size,
           void **req_cls)
{
  ss_metrics_http_server *server = cls;
  if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
    /* No body is expected; one sent anyway is dropped with the connection. */
    return answer_text(connection, MHD_HTTP_METHOD_NOT_ALLOWED,
                       g_strdup("only GET and HEAD are served here\n"));
  }
  if (strcmp(url, SS_METRICS_HTTP_PATH) != 0)
    return answer_text(connection, MHD_HTTP_NOT_FOUND,
                       g_strdup("snowsignal serves its metrics at " SS_METRICS_HTTP_PATH "\n"));
  return answer_text(connection, MHD_HTTP_OK, server->render(server->user));
}

static gboolean on_timer(gpointer user_data);

/* After every MHD_run(): libmicrohttpd must run again within the time it
 * names (a connection's timeout, or data already buffered: 0), and needs
 * no timer at all when it names none. */
static void
arm_timer(ss_metrics_http_server *server)
{
  if (server->timer) {
    g_source_destroy(server->timer);
    g_source_unref(server->timer);
    server->timer = NULL;
  }
  MHD_UNSIGNED_LONG_LONG ms;
  if (MHD_get_timeout(server->mhd, &ms) != MHD_YES)
    return;
  server->timer = g_timeout_source_new((guint) MIN(ms, (MHD_UNSIGNED_LONG_LONG) G_MAXUINT));
  g_source_set_callback(server->timer, on_timer, server, NULL);
  g_source_attach(server->timer, server->context);
}

/* Twice: a connection closed in one run is cleaned up at its end, and only
 * the next run puts the listening socket back into libmicrohttpd's epoll
 * set when it had been taken out at METRICS_MAX_CONNECTIONS, while no
 * event or timeout would ask for that next run: a flood of clients would
 * otherwise leave the endpoint deaf for good (seen with libmicrohttpd
 * 0.9.75).  The second run is one epoll_wait() that returns at once. */
static void
run(ss_metrics_http_server *server)
{
  MHD_run(server->mhd);
  MHD_run(server->mhd);
  arm_timer(server);
}

static gboolean
on_timer(gpointer user_data)
{
  run(user_data); /* arm_timer() destroys this source and makes the next */
  return G_SOURCE_REMOVE;
}

static gboolean
on_io(gint fd, GIOCondition condition, gpointer user_data)
{
  run(user_data);
  return G_SOURCE_CONTINUE;
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
  ss_metrics_http_server *server = cls;
  g_autofree char *text = g_strdup_vprintf(fmt, ap);
  server->log(g_strchomp(text));
}

static void
stop(ss_metrics_http_server *server)
{
  if (!server)
    return;
  if (server->timer) {
    g_source_destroy(server->timer);
    g_source_unref(server->timer);
  }
  if (server->io) {
    g_source_destroy(server->io);
    g_source_unref(server->io);
  }
  if (server->mhd)
    MHD_stop_daemon(server->mhd); /* closes the listening socket too */
  g_main_context_unref(server->context);
  g_free(server);
}

static ss_metrics_http_server *
start(int fd, GMainContext *context, char *(*render)(void *user), void (*log)(const char *text),
      void *user, GError **error)
{
  ss_metrics_http_server *server = g_new0(ss_metrics_http_server, 1);
  server->context = g_main_context_ref(context ? context : g_main_context_default());
  server->render = render;
  server->log = log;
  server->user = user;
  /* The logger first, or what the other options say goes to stderr. */
  server->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request,
                                 server, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, server,
                                 MHD_OPTION_LISTEN_SOCKET, fd,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned) METRICS_MAX_CONNECTIONS,
                                 MHD_OPTION_CONNECTION_TIMEOUT,
                                 (unsigned) METRICS_CONNECTION_TIMEOUT_S, MHD_OPTION_END);
  const union MHD_DaemonInfo *info =
    server->mhd ? MHD_get_daemon_info(server->mhd, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
  if (!info) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                "libmicrohttpd %s could not serve the metrics socket (see its message above)",
                MHD_get_version());
    if (!server->mhd && fcntl(fd, F_GETFD) != -1)
      close(fd);
    stop(server);
    return NULL;
  }
  server->io = g_unix_fd_source_new(info->epoll_fd, G_IO_IN);
  g_source_set_callback(server->io, G_SOURCE_FUNC(on_io), server, NULL);
  g_source_attach(server->io, server->context);
  arm_timer(server);
  return server;
}

const ss_metrics_http *
snowsignal_metrics_http_get(void)
{
  static const ss_metrics_http table = { sizeof table, start, stop };
  return &table;
}
