/* snowsignal - UDP broadcast relay
 * metrics-server.c: the metrics endpoint's life: metrics_listen parsed and
 * checked, the listening socket opened (here, so a bind error names the
 * address and the setting), the HTTP module loaded on first use and told
 * to serve it; moved, stopped or started on a reload.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ltdl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <snowsignal/log.h>
#include "log.h"
#include "metrics-http.h"
#include "metrics.h"

#define METRICS_BACKLOG 16

struct ss_metrics {
  char *listen;                    /* metrics_listen as configured */
  ss_metrics_http_server *server;
};

gboolean
ss_metrics_parse_listen(const char *text, const char *origin, struct sockaddr_storage *addr,
                        socklen_t *addr_len, GError **error)
{
  g_autofree char *host = NULL;
  const char *port_text = NULL;
  memset(addr, 0, sizeof *addr);
  if (text[0] == '[') {
    const char *end = strchr(text, ']');
    if (end && end[1] == ':') {
      host = g_strndup(text + 1, (gsize) (end - text - 1));
      port_text = end + 2;
    }
  } else if (strchr(text, ':')) {
    const char *colon = strrchr(text, ':');
    host = g_strndup(text, (gsize) (colon - text));
    port_text = colon + 1;
  }
  char *end = NULL;
  unsigned long port = port_text && g_ascii_isdigit(port_text[0]) ? strtoul(port_text, &end, 10) : 0;
  gboolean port_ok = end && !*end && port >= 1 && port <= 65535;
  struct sockaddr_in *in4 = (struct sockaddr_in *) addr;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) addr;
  if (port_ok && text[0] != '[' && inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons((uint16_t) port);
    *addr_len = sizeof *in4;
    return TRUE;
  }
  if (port_ok && text[0] == '[' && inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t) port);
    *addr_len = sizeof *in6;
    return TRUE;
  }
  g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
              "%s: metrics_listen \"%s\" is not ADDRESS:PORT; write a literal IPv4 address or a "
              "bracketed IPv6 one and a port 1-65535, e.g. \"127.0.0.1:9464\" or \"[::1]:9464\" "
              "(names are not looked up), or \"\" for no metrics endpoint",
              origin, text);
  return FALSE;
}

gboolean
ss_metrics_check_conf(const ss_conf *conf, GError **error)
{
  if (!*conf->metrics_listen)
    return TRUE;
#ifndef SS_METRICS_MODULE_DIR
  g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
              "%s: metrics_listen is set, but this snowsignal was built without the metrics "
              "endpoint; build it with libmicrohttpd (Debian package libmicrohttpd-dev, "
              "configure --enable-metrics), or remove the setting", conf->metrics_listen_origin);
  return FALSE;
#else
  struct sockaddr_storage addr;
  socklen_t len;
  return ss_metrics_parse_listen(conf->metrics_listen, conf->metrics_listen_origin, &addr, &len,
                                 error);
#endif
}

#ifdef SS_METRICS_MODULE_DIR
/* What libmicrohttpd reports: at most a line per 10 s, since a flood of
 * connections over its limit would be a line each. */
static void
log_http(const char *text)
{
  static ss_log_limit limit = SS_LOG_LIMIT_INIT(10);
  SS_LOG_LIMITED(&limit, SS_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
                 "the metrics endpoint's HTTP server reports a problem", "ERROR", text);
}

/* The module, opened once and kept: what the HTTP library registers (its
 * TLS library's global state) must not be unloaded under it. */
static const ss_metrics_http *
load_http(GError **error)
{
  static const ss_metrics_http *http;
  if (http)
    return http;
  const char *env = g_getenv("SNOWSIGNAL_METRICS_MODULE");
  g_autofree char *base =
    env && *env ? g_strdup(env) : g_build_filename(SS_METRICS_MODULE_DIR, SS_METRICS_HTTP_MODULE, NULL);
  lt_dlinit();
  lt_dlhandle h = lt_dlopenext(base);
  ss_metrics_http_get_fn get = h ? (ss_metrics_http_get_fn) lt_dlsym(h, SS_METRICS_HTTP_SYMBOL) : NULL;
  const ss_metrics_http *table = get ? get() : NULL;
  if (!table || table->size < sizeof *table) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                "cannot load the metrics endpoint's module %s(.la, .so): %s; it comes with "
                "snowsignal (SNOWSIGNAL_METRICS_MODULE names another)", base,
                h && !table ? "it is not the module of this snowsignal" : lt_dlerror());
    if (h)
      lt_dlclose(h);
    lt_dlexit();
    return NULL;
  }
  lt_dlmakeresident(h);
  return http = table;
}

/* A listening socket on @conf's metrics_listen, or -1 with @error (errno
 * kept, so a caller can tell a port in use). */
static int
open_listener(const ss_conf *conf, GError **error)
{
  struct sockaddr_storage addr;
  socklen_t len;
  if (!ss_metrics_parse_listen(conf->metrics_listen, conf->metrics_listen_origin, &addr, &len, error))
    return -1;
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int on = 1;
  if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0 &&
      bind(fd, (struct sockaddr *) &addr, len) == 0 && listen(fd, METRICS_BACKLOG) == 0)
    return fd;
  int e = errno;
  g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
              "cannot open the metrics endpoint on %s (metrics_listen, %s): %s%s",
              conf->metrics_listen, conf->metrics_listen_origin, g_strerror(e),
              e == EADDRINUSE ? "; another process listens there: choose another port" : "");
  if (fd >= 0)
    close(fd);
  errno = e;
  return -1;
}
#endif

ss_metrics *
ss_metrics_new(const ss_conf *conf, GMainContext *context, ss_metrics_render_fn render, void *user,
               GError **error)
{
  if (!*conf->metrics_listen || !ss_metrics_check_conf(conf, error))
    return NULL;
#ifdef SS_METRICS_MODULE_DIR
  const ss_metrics_http *http = load_http(error);
  int fd = http ? open_listener(conf, error) : -1;
  if (fd < 0)
    return NULL;
  ss_metrics_http_server *server = http->start(fd, context, render, log_http, user, error);
  if (!server)
    return NULL;
  ss_metrics *metrics = g_new0(ss_metrics, 1);
  metrics->listen = g_strdup(conf->metrics_listen);
  metrics->server = server;
  SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_INFO, "metrics endpoint open", "ADDRESS", metrics->listen,
         "PATH", SS_METRICS_HTTP_PATH);
  return metrics;
#else
  return NULL;
#endif
}

void
ss_metrics_free(ss_metrics *metrics)
{
#ifdef SS_METRICS_MODULE_DIR
  if (!metrics)
    return;
  load_http(NULL)->stop(metrics->server);
  g_free(metrics->listen);
  g_free(metrics);
#endif
}

gboolean
ss_metrics_reload(ss_metrics **metrics, const ss_conf *conf, GMainContext *context,
                  ss_metrics_render_fn render, void *user, GError **error)
{
  ss_metrics *old = *metrics;
  if (strcmp(old ? old->listen : "", conf->metrics_listen) == 0)
    return TRUE;
  if (!*conf->metrics_listen) {
    ss_metrics_free(old);
    *metrics = NULL;
    SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_INFO, "metrics endpoint closed (metrics_listen is empty)");
    return TRUE;
  }
  ss_metrics *fresh = ss_metrics_new(conf, context, render, user, error);
  if (!fresh && old && error && g_error_matches(*error, G_FILE_ERROR, g_file_error_from_errno(EADDRINUSE))) {
    /* The old endpoint may hold the port itself ("0.0.0.0:9464" for
     * "127.0.0.1:9464"): free it first, and take it back if that fails. */
    g_autofree char *old_listen = g_strdup(old->listen);
    ss_metrics_free(old);
    old = NULL;
    g_clear_error(error);
    fresh = ss_metrics_new(conf, context, render, user, error);
    if (!fresh) {
      ss_conf back = *conf;
      back.metrics_listen = old_listen;
      old = ss_metrics_new(&back, context, render, user, NULL);
    }
  }
  if (!fresh) {
    *metrics = old;
    return FALSE;
  }
  ss_metrics_free(old);
  *metrics = fresh;
  return TRUE;
}

const char *
ss_metrics_get_listen(const ss_metrics *metrics)
{
  return metrics ? metrics->listen : "";
}
