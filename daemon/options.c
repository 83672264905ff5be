/* snowsignal - UDP broadcast relay
 * options.c: command line and environment over the configuration file.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "options.h"

static GOptionEntry *
option_entries(ss_options *o, char **port_b, char **port_m)
{
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &o->config_path,
      "Read FILE instead of " SS_SYSCONFDIR "/snowsignal/snowsignal.conf", "FILE" },
    { "check-config", 0, 0, G_OPTION_ARG_NONE, &o->check_config,
      "Parse the configuration, load its plugins, create its instances, then exit (0: valid)", NULL },
    { "list-plugins", 0, 0, G_OPTION_ARG_NONE, &o->list_plugins,
      "List the plugins found on the search path with their settings, then exit", NULL },
    { "version", 'V', 0, G_OPTION_ARG_NONE, &o->version,
      "Print the version, the plugin ABI and the plugin search path, then exit", NULL },
    { "target-interface", 't', 0, G_OPTION_ARG_STRING, &o->interface,
      "Interface of this relay's segment [env TARGET_INTERFACE] (default eth0)", "IFACE" },
    { "broadcast-port", 'b', 0, G_OPTION_ARG_STRING, port_b,
      "UDP port whose broadcasts are relayed [env BDCAST_PORT] (default 5076)", "PORT" },
    { "mesh-port", 'm', 0, G_OPTION_ARG_STRING, port_m,
      "UDP port of the udp-mesh transport [env MESH_PORT] (default 7124)", "PORT" },
    { "other-relays", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->other_relays,
      "Peer relays (addresses or names), replacing peers.hosts", "HOST..." },
    { "control-socket", 0, 0, G_OPTION_ARG_FILENAME, &o->control_socket,
      "The status socket [env SNOWSIGNAL_CONTROL_SOCKET] (default " SS_RUNSTATEDIR
      "/snowsignal/control; \"\" for none)", "PATH" },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &o->user,
      "After opening its sockets, run as USER keeping only CAP_NET_RAW", "USER" },
    { "decode-pvaccess", 0, 0, G_OPTION_ARG_NONE, &o->decode_pvaccess,
      "Log each PVA search and beacon captured, at info (as SnowSignal's flag)", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &o->json,
      "With status: print JSON for programs", NULL },
    { "log-level", 'l', 0, G_OPTION_ARG_STRING, &o->log_level,
      "debug, info, warning, error or critical [env LOGLEVEL] (default info); also -ll", "LEVEL" },
    { NULL, 0, 0, 0, NULL, NULL, NULL }
  };
  return g_memdup2(entries, sizeof entries);
}

/* The original takes "--other-relays A B C" and "-ll LEVEL" (argparse);
 * GOption takes neither, so rewrite them to "--other-relays=A ..." and
 * "--log-level" first. */
static char **
rewrite_argv(int argc, char **argv, GError **error)
{
  GPtrArray *out = g_ptr_array_new();
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--other-relays") == 0) {
      gboolean any = FALSE;
      while (i + 1 < argc && argv[i + 1][0] != '-') {
        g_ptr_array_add(out, g_strconcat("--other-relays=", argv[++i], NULL));
        any = TRUE;
      }
      if (!any) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--other-relays needs at least one peer relay (an address or a name)");
        g_ptr_array_set_free_func(out, g_free);
        g_ptr_array_unref(out);
        return NULL;
      }
    } else if (strcmp(argv[i], "-ll") == 0) {
      g_ptr_array_add(out, g_strdup("--log-level"));
    } else {
      g_ptr_array_add(out, g_strdup(argv[i]));
    }
  }
  g_ptr_array_add(out, NULL);
  return (char **) g_ptr_array_free(out, FALSE);
}

static gboolean
parse_port(const char *text, const char *origin, int *out, GError **error)
{
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno || !*text || *end || v < 1 || v > 65535) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "%s: '%s' is not a port number (1 to 65535)", origin, text);
    return FALSE;
  }
  *out = (int) v;
  return TRUE;
}

/* Takes @var from the environment when the command line left @field unset. */
static void
from_env(char **field, char **origin, const char *option, const char *var)
{
  if (*field) {
    *origin = g_strdup(option);
    return;
  }
  const char *v = g_getenv(var);
  if (v && *v) {
    *field = g_strdup(v);
    *origin = g_strdup(var);
  }
}

static GOptionContext *
make_context(ss_options *o, char **port_b, char **port_m)
{
  GOptionContext *ctx = g_option_context_new("[status [--json]] - relay UDP broadcasts between network segments");
  g_autofree GOptionEntry *entries = option_entries(o, port_b, port_m);
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_option_context_set_summary(ctx,
    "Captures UDP broadcasts (EPICS PVAccess searches) on this segment, sends them to the\n"
    "peer relays, and re-emits the broadcasts the peers send on this segment.");
  g_option_context_set_description(ctx,
    "Settings come from the command line, then the environment, then snowsignal.conf,\n"
    "then built-in defaults.  'snowsignal status' asks the running relay for its peers\n"
    "and counters.  See snowsignal(8) and snowsignal.conf(5).");
  return ctx;
}

char *
ss_options_help(void)
{
  ss_options o = { 0 };
  char *b = NULL, *m = NULL;
  GOptionContext *ctx = make_context(&o, &b, &m);
  char *help = g_option_context_get_help(ctx, TRUE, NULL);
  g_option_context_free(ctx);
  return help;
}

static gboolean options_from_env(ss_options *o, char **port_b_io, char **port_m_io,
                                 GError **error);

gboolean
ss_options_parse(ss_options *o, int *argc, char ***argv, GError **error)
{
  g_autofree char *port_b = NULL, *port_m = NULL;
  GOptionContext *ctx = make_context(o, &port_b, &port_m);
  char **args = rewrite_argv(*argc, *argv, error);
  if (!args) {
    g_option_context_free(ctx);
    return FALSE;
  }
  int n = (int) g_strv_length(args);
  char **parse_args = g_memdup2(args, sizeof(char *) * (gsize) (n + 1));
  gboolean ok = g_option_context_parse(ctx, &n, &parse_args, error);
  g_option_context_free(ctx);
  /* What GOption left: the program name and any subcommand. */
  g_auto(GStrv) rest = ok ? g_strdupv(parse_args) : NULL;
  g_free(parse_args);
  g_strfreev(args);
  if (!ok || !options_from_env(o, &port_b, &port_m, error))
    return FALSE;
  /* Only on success does the caller own a new argv. */
  *argc = n;
  *argv = g_steal_pointer(&rest);
  return TRUE;
}

/* The environment, for what the command line left unset, then the checks
 * of the values that are numbers or names. */
static gboolean
options_from_env(ss_options *o, char **port_b_io, char **port_m_io, GError **error)
{
  char *port_b = *port_b_io, *port_m = *port_m_io;

  from_env(&o->interface, &o->interface_origin, "--target-interface", "TARGET_INTERFACE");
  from_env(&port_b, &o->broadcast_port_origin, "--broadcast-port", "BDCAST_PORT");
  from_env(&port_m, &o->mesh_port_origin, "--mesh-port", "MESH_PORT");
  *port_b_io = port_b;
  *port_m_io = port_m;
  from_env(&o->log_level, &o->log_level_origin, "--log-level", "LOGLEVEL");
  if (!o->control_socket && g_getenv("SNOWSIGNAL_CONTROL_SOCKET"))
    o->control_socket = g_strdup(g_getenv("SNOWSIGNAL_CONTROL_SOCKET"));
  const char *service = g_getenv("SERVICENAME");
  if (service && *service)
    o->service = g_strdup(service);
  if (port_b && !parse_port(port_b, o->broadcast_port_origin, &o->broadcast_port, error))
    return FALSE;
  if (port_m && !parse_port(port_m, o->mesh_port_origin, &o->mesh_port, error))
    return FALSE;
  GLogLevelFlags level;
  if (o->log_level && !ss_log_level_parse(o->log_level, &level)) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "%s: unknown log level '%s'; use debug, info, warning, error or critical",
                o->log_level_origin, o->log_level);
    return FALSE;
  }
  return TRUE;
}

void
ss_options_clear(ss_options *o)
{
  g_free(o->config_path);
  g_free(o->interface);
  g_free(o->interface_origin);
  g_free(o->broadcast_port_origin);
  g_free(o->mesh_port_origin);
  g_strfreev(o->other_relays);
  g_free(o->log_level);
  g_free(o->log_level_origin);
  g_free(o->service);
  g_free(o->control_socket);
  g_free(o->user);
  memset(o, 0, sizeof *o);
}

gboolean
ss_options_apply(const ss_options *o, ss_conf *conf, GError **error)
{
  if (o->interface) {
    g_free(conf->interface);
    conf->interface = g_strdup(o->interface);
    ss_conf_set_origin(&conf->interface_origin, o->interface_origin);
  }
  if (o->broadcast_port) {
    conf->broadcast_ports[0] = (uint16_t) o->broadcast_port;
    conf->n_broadcast_ports = 1;
  }
  if (o->mesh_port)
    conf->mesh_port_override = (uint16_t) o->mesh_port;
  if (o->other_relays) {
    g_strfreev(conf->peer_hosts);
    conf->peer_hosts = g_strdupv(o->other_relays);
    ss_conf_set_origin(&conf->peer_hosts_origin, "--other-relays");
  }
  if (o->log_level) {
    g_free(conf->log_level);
    conf->log_level = g_strdup(o->log_level);
    ss_conf_set_origin(&conf->log_level_origin, o->log_level_origin);
  }
  if (o->control_socket) {
    g_free(conf->control_socket);
    conf->control_socket = g_strdup(o->control_socket);
  }
  if (o->user) {
    g_free(conf->user);
    conf->user = g_strdup(o->user);
  }
  if (o->service) {
    g_free(conf->service);
    conf->service = g_strdup(o->service);
  }
  if (o->decode_pvaccess)
    ss_conf_add_pva_log(conf, "--decode-pvaccess");
  return ss_conf_check(conf, error);
}
