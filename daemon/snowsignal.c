/* snowsignal - UDP broadcast relay
 * snowsignal.c: the daemon, a thin main() over libsnowsignal.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib-unix.h>

#include <snowsignal/snowsignal.h>
#include "conffile.h"
#include "loader.h"
#include "log.h"
#include "conf-watch.h"
#include "control.h"
#include "metrics.h"
#include "notify.h"
#include "options.h"
#include "relay.h"
#include "status.h"

#define SS_DEFAULT_CONF_PATH SS_SYSCONFDIR "/snowsignal/snowsignal.conf"

/* The file named with --config; else the installed one; else the built-in
 * default, so the original's bare command line works anywhere. */
static ss_conf *
load_conf(const ss_options *opts, GError **error)
{
  ss_conf *conf;
  if (opts->config_path)
    conf = ss_conf_load_file(opts->config_path, error);
  else if (g_file_test(SS_DEFAULT_CONF_PATH, G_FILE_TEST_EXISTS))
    conf = ss_conf_load_file(SS_DEFAULT_CONF_PATH, error);
  else
    conf = ss_conf_new_default();
  if (conf && !ss_options_apply(opts, conf, error)) {
    ss_conf_free(conf);
    return NULL;
  }
  return conf;
}

static void
print_search_path(ss_loader *loader)
{
  printf("plugin search path:\n");
  for (char *const *d = ss_loader_get_search_path(loader); *d; d++)
    printf("  %s\n", *d);
}

static int
print_version(ss_conf *conf)
{
  printf("snowsignal %s\n", PACKAGE_VERSION);
  printf("libsnowsignal %s, plugin ABI %d.%d\n", ss_version_string(), SS_PLUGIN_ABI_MAJOR,
         SS_PLUGIN_ABI_MINOR);
  ss_loader *loader = ss_loader_new(conf ? conf->plugin_path : NULL);
  print_search_path(loader);
  ss_loader_free(loader);
  return EXIT_SUCCESS;
}

static void
print_plugin(const ss_plugin *p)
{
  const ss_plugin_desc *d = p->desc;
  printf("%s %s (%s, ABI %u.%u)\n  %s\n  file: %s\n", d->name, d->version,
         ss_plugin_kind_to_string(d->kind), d->abi_major, d->abi_minor, d->description, p->path);
  for (const ss_plugin_key *k = d->keys; k && k->name; k++) {
    printf("  setting %s (%s", k->name, ss_key_type_to_string(k->type));
    if (k->default_value)
      printf(", default %s", k->default_value[0] ? k->default_value : "empty");
    else
      printf(", required");
    if (k->min || k->max)
      printf(", %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT, k->min, k->max);
    printf(")\n      %s\n", k->help ? k->help : "");
  }
}

static int
list_plugins(ss_conf *conf)
{
  ss_loader *loader = ss_loader_new(conf ? conf->plugin_path : NULL);
  char **names = ss_loader_find_all(loader);
  int status = EXIT_SUCCESS;
  for (char **n = names; *n; n++) {
    GError *error = NULL;
    const ss_plugin *p = ss_loader_load(loader, *n, &error);
    if (p) {
      print_plugin(p);
    } else {
      fprintf(stderr, "snowsignal: %s\n", error->message);
      g_error_free(error);
      status = EXIT_FAILURE;
    }
  }
  if (!names[0]) {
    fprintf(stderr, "snowsignal: no plugins found\n");
    print_search_path(loader);
    status = EXIT_FAILURE;
  }
  g_strfreev(names);
  ss_loader_free(loader);
  return status;
}

typedef struct {
  GMainLoop *loop;
  ss_relay *relay;
  const ss_options *opts;
  int status;
  gint64 started_us;
  ss_control *control;
  ss_conf_watch *watch;       /* watch_config, or NULL */
  ss_metrics *metrics;        /* metrics_listen, or NULL */
} daemon_state;

static char *
render_metrics(void *user)
{
  daemon_state *d = user;
  return ss_metrics_render(d->relay, d->started_us);
}

static char *
render_status(gboolean json, void *user)
{
  daemon_state *d = user;
  return json ? ss_status_json(d->relay, d->started_us) : ss_status_text(d->relay, d->started_us);
}

/* The status socket; a relay without one still relays, so failing to
 * create it is a warning. */
static void
open_control(daemon_state *d)
{
  const char *path = ss_relay_get_conf(d->relay)->control_socket;
  GError *error = NULL;
  if (!*path)
    return;
  d->control = ss_control_new(path, NULL, render_status, d, &error);
  if (!d->control) {
    SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "no status socket; `snowsignal status` will not work",
           "ERROR", error->message);
    g_error_free(error);
    return;
  }
  /* The relay is about to become 'user': the socket is its, and so is the
   * directory made for it, or it could not remove the socket at exit.  (A
   * user that does not exist fails the start, saying so.) */
  const char *user = ss_relay_get_conf(d->relay)->user;
  struct passwd *pw = *user && geteuid() == 0 ? getpwnam(user) : NULL;
  if (pw && !ss_control_set_owner(d->control, pw->pw_uid, pw->pw_gid, &error)) {
    SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
           "the control socket stays root's; it is left behind at exit", "ERROR", error->message);
    g_error_free(error);
  }
}

static int
query_status(const ss_options *opts, const ss_conf *conf)
{
  const char *path = opts->control_socket ? opts->control_socket
                                          : conf ? conf->control_socket : SS_DEFAULT_CONTROL_SOCKET;
  char *answer = NULL;
  GError *error = NULL;
  if (!*path) {
    fprintf(stderr, "snowsignal: no control socket is configured (control_socket, "
                    "--control-socket or SNOWSIGNAL_CONTROL_SOCKET is empty)\n");
    return EXIT_FAILURE;
  }
  if (!ss_control_query(path, opts->json, &answer, &error)) {
    fprintf(stderr, "snowsignal: %s\n", error->message);
    g_error_free(error);
    return EXIT_FAILURE;
  }
  fputs(answer, stdout);
  g_free(answer);
  return EXIT_SUCCESS;
}

static gboolean
on_quit(gpointer user_data)
{
  daemon_state *d = user_data;
  ss_notify("STOPPING=1");
  SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "stopping on signal");
  g_main_loop_quit(d->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_usr1(gpointer user_data)
{
  daemon_state *d = user_data;
  ss_relay_log_stats(d->relay);
  return G_SOURCE_CONTINUE;
}

static void
apply_log_level(const ss_conf *conf)
{
  GLogLevelFlags level = G_LOG_LEVEL_INFO;
  if (ss_log_level_parse(conf->log_level, &level))
    ss_log_set_level(level);
}

static void update_watch(daemon_state *d);

/* SIGHUP, or an edit of a watched file: the new configuration is read,
 * checked and instantiated before anything is swapped; if that fails the
 * running relay is left alone. */
static void
reload(daemon_state *d, const char *why)
{
  GError *error = NULL;
  ss_notify_reloading();
  SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "reloading the configuration", "REASON", why);
  ss_conf *conf = load_conf(d->opts, &error);
  if (conf && !ss_metrics_check_conf(conf, &error))
    g_clear_pointer(&conf, ss_conf_free);
  if (conf) {
    const ss_conf *before = ss_relay_get_conf(d->relay);
    /* The new level applies to the reload's own messages too. */
    apply_log_level(conf);
    if (!ss_relay_reload(&d->relay, conf, &error)) {
      if (ss_relay_is_running(d->relay)) {
        apply_log_level(before);
      } else {
        /* Neither the new configuration nor the previous one starts. */
        SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "the reloaded relay failed to start; exiting",
               "ERROR", error->message);
        d->status = EXIT_FAILURE;
        g_main_loop_quit(d->loop);
        g_error_free(error);
        return;
      }
    } else if (!ss_metrics_reload(&d->metrics, ss_relay_get_conf(d->relay), NULL, render_metrics,
                                  d, &error)) {
      SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "the metrics endpoint did not move; the relay "
             "runs the new configuration otherwise", "METRICS", ss_metrics_get_listen(d->metrics),
             "ERROR", error->message);
      g_clear_error(&error);
    }
  }
  if (error) {
    SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL,
           "new configuration rejected; the relay keeps running with the previous one",
           "ERROR", error->message);
    g_error_free(error);
  }
  update_watch(d);
  ss_notify("READY=1");
}

static gboolean
on_hup(gpointer user_data)
{
  reload(user_data, "SIGHUP");
  return G_SOURCE_CONTINUE;
}

static void
on_conf_changed(void *user)
{
  reload(user, "the configuration file changed (watch_config)");
}

/* The file the configuration came from: --config, or the installed one. */
static const char *
conf_file(const daemon_state *d)
{
  if (d->opts->config_path)
    return d->opts->config_path;
  return g_file_test(SS_DEFAULT_CONF_PATH, G_FILE_TEST_EXISTS) ? SS_DEFAULT_CONF_PATH : NULL;
}

/* Watches the file while the running configuration says watch_config. */
static void
update_watch(daemon_state *d)
{
  gboolean want = ss_relay_get_conf(d->relay)->watch_config && conf_file(d);
  if (!want) {
    g_clear_pointer(&d->watch, ss_conf_watch_free);
    return;
  }
  if (d->watch)
    return;
  GError *error = NULL;
  d->watch = ss_conf_watch_new(conf_file(d), on_conf_changed, d, &error);
  if (!d->watch) {
    SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
           "cannot watch the configuration file; edits need a reload (SIGHUP)",
           "CONFIG", conf_file(d), "ERROR", error->message);
    g_error_free(error);
    return;
  }
  SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_INFO, "watching the configuration file for edits",
         "CONFIG", conf_file(d));
}

static gboolean
on_watchdog(gpointer user_data)
{
  ss_notify("WATCHDOG=1");
  return G_SOURCE_CONTINUE;
}

/* Pings the systemd watchdog at half the interval the unit sets (only when
 * WatchdogSec= asks for it: an idle relay otherwise never wakes). */
static guint
start_watchdog(void)
{
  guint64 usec = ss_watchdog_usec();
  if (!usec)
    return 0;
  guint64 interval_ms = MAX(usec / 2000, 1);
  return g_timeout_add((guint) MIN(interval_ms, G_MAXUINT), on_watchdog, NULL);
}

/* The signals the daemon handles.  They are blocked from main()'s first
 * line until GLib's handlers are in place, after the start: a SIGHUP sent
 * meanwhile (a reload by systemd or a script while the configuration is
 * read or the relay starts) waits and is a reload then, instead of
 * killing the process, as the default action of SIGHUP, SIGUSR1 and
 * SIGTERM would.  Threads started meanwhile inherit the mask, so the main
 * thread takes them. */
static const int daemon_signals[] = { SIGTERM, SIGINT, SIGUSR1, SIGHUP };

static void
block_daemon_signals(gboolean block)
{
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; i < G_N_ELEMENTS(daemon_signals); i++)
    sigaddset(&set, daemon_signals[i]);
  pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

static void
log_started(ss_relay *relay)
{
  const ss_conf *conf = ss_relay_get_conf(relay);
  g_autoptr(GString) ports = g_string_new(NULL);
  for (unsigned i = 0; i < conf->n_broadcast_ports; i++)
    g_string_append_printf(ports, "%s%u", i ? "," : "", conf->broadcast_ports[i]);
  char npeers[16];
  g_snprintf(npeers, sizeof npeers, "%u", ss_relay_get_peers(relay)->len);
  SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "relay started", "INTERFACE", conf->interface,
         "PORTS", ports->str, "PEERS", npeers, "CONFIG", conf->path, "VERSION", PACKAGE_VERSION);
}

static int
run(ss_conf *conf, const ss_options *opts)
{
  GError *error = NULL;
  ss_relay *relay = ss_relay_new(conf, &error);
  if (!relay) {
    fprintf(stderr, "snowsignal: %s\n", error->message);
    g_error_free(error);
    return EXIT_FAILURE;
  }
  daemon_state d = { g_main_loop_new(NULL, FALSE), relay, opts, EXIT_SUCCESS,
                     g_get_monotonic_time(), NULL, NULL, NULL };
  int status = EXIT_SUCCESS;
  guint sources[4] = { 0 };
  /* The status socket first: it is opened while still root.  Signal
   * handlers after the start, since GLib serves them from a thread of its
   * own and the start may give up root, which must happen before any
   * thread exists; until then the signals wait, blocked since main(). */
  open_control(&d);
  d.metrics = ss_metrics_new(ss_relay_get_conf(relay), NULL, render_metrics, &d, &error);
  if (!error && ss_relay_start(relay, NULL, &error)) {
    sources[0] = g_unix_signal_add(SIGTERM, on_quit, &d);
    sources[1] = g_unix_signal_add(SIGINT, on_quit, &d);
    sources[2] = g_unix_signal_add(SIGUSR1, on_usr1, &d);
    sources[3] = g_unix_signal_add(SIGHUP, on_hup, &d);
    block_daemon_signals(FALSE);
    log_started(relay);
    /* After the start: the monitor's thread must come after giving up root. */
    update_watch(&d);
    ss_notify("READY=1");
    guint watchdog = start_watchdog();
    g_main_loop_run(d.loop);
    if (watchdog)
      g_source_remove(watchdog);
    ss_relay_log_stats(d.relay);
    status = d.status;
  } else {
    SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "cannot start the relay", "ERROR", error->message);
    g_error_free(error);
    status = EXIT_FAILURE;
  }
  for (size_t i = 0; i < G_N_ELEMENTS(sources); i++)
    if (sources[i])
      g_source_remove(sources[i]);
  ss_conf_watch_free(d.watch);
  ss_control_free(d.control);
  ss_metrics_free(d.metrics);
  ss_relay_free(d.relay);
  g_main_loop_unref(d.loop);
  return status;
}

int
main(int argc, char **argv)
{
  block_daemon_signals(TRUE);
  ss_options opts = { 0 };
  GError *error = NULL;
  ss_log_init();
  /* A peer or a status client that goes away is an error to handle where
   * it happens, never a reason to die. */
  signal(SIGPIPE, SIG_IGN);
  if (!ss_options_parse(&opts, &argc, &argv, &error)) {
    fprintf(stderr, "snowsignal: %s\nTry 'snowsignal --help'.\n", error->message);
    g_error_free(error);
    return EXIT_FAILURE;
  }
  gboolean status_cmd = argc > 1 && strcmp(argv[1], "status") == 0;
  if (argc > (status_cmd ? 2 : 1)) {
    fprintf(stderr, "snowsignal: unexpected argument '%s'\nTry 'snowsignal --help'.\n",
          argv[status_cmd ? 2 : 1]);
    ss_options_clear(&opts);
    g_strfreev(argv);
    return EXIT_FAILURE;
  }
  g_strfreev(argv);
  /* Only the relay itself handles signals; a command is stopped by them. */
  if (status_cmd || opts.version || opts.list_plugins || opts.check_config)
    block_daemon_signals(FALSE);
  ss_conf *conf = load_conf(&opts, &error);
  int status;
  if (status_cmd) {
    status = query_status(&opts, conf);
  } else if (opts.version) {
    status = print_version(conf);
  } else if (!conf) {
    fprintf(stderr, "snowsignal: %s\n", error->message);
    status = EXIT_FAILURE;
  } else {
    apply_log_level(conf);
    if (opts.list_plugins) {
      status = list_plugins(conf);
    } else if (opts.check_config) {
      ss_relay *relay = ss_relay_new(conf, &error);
      conf = NULL;
      gboolean ok = relay && ss_metrics_check_conf(ss_relay_get_conf(relay), &error);
      status = ok ? EXIT_SUCCESS : EXIT_FAILURE;
      if (ok)
        printf("configuration OK\n");
      else
        fprintf(stderr, "snowsignal: %s\n", error->message);
      ss_relay_free(relay);
    } else {
      status = run(conf, &opts);
      conf = NULL;
    }
  }
  if (conf && (opts.version || opts.list_plugins || status_cmd))
    ss_conf_free(conf);
  g_clear_error(&error);
  ss_options_clear(&opts);
  return status;
}
