/* snowsignal - UDP broadcast relay
 * options.h: the command line and environment of the original SnowSignal,
 * laid over snowsignal.conf with its precedence:
 * command line > environment > file > built-in default.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SS_DAEMON_OPTIONS_H
#define SS_DAEMON_OPTIONS_H

#include <glib.h>
#include "conffile.h"

typedef struct {
  char *config_path;
  gboolean check_config;
  gboolean list_plugins;
  gboolean version;
  char *interface;        /* -t, TARGET_INTERFACE */
  char *interface_origin;
  int broadcast_port;     /* -b, BDCAST_PORT; 0 = not given */
  char *broadcast_port_origin;
  int mesh_port;          /* -m, MESH_PORT */
  char *mesh_port_origin;
  char **other_relays;    /* --other-relays */
  char *log_level;        /* -l/-ll, LOGLEVEL */
  char *log_level_origin;
  char *service;          /* SERVICENAME */
  char *control_socket;   /* --control-socket */
  char *user;             /* --user */
  gboolean json;          /* status --json */
  gboolean decode_pvaccess; /* --decode-pvaccess */
} ss_options;

/* Parses argv (removing what it understood) and then the environment for
 * what the command line did not give.  Errors name the option or variable. */
gboolean ss_options_parse(ss_options *opts, int *argc, char ***argv, GError **error);
void ss_options_clear(ss_options *opts);

/* Lays the options over @conf. */
gboolean ss_options_apply(const ss_options *opts, ss_conf *conf, GError **error);

/* The text of --help. */
char *ss_options_help(void);

#endif
