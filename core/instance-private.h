/* snowsignal - UDP broadcast relay
 * instance-private.h: the instance's innards, shared by instance.c
 * (settings, lifecycle) and plugin-services.c (what the core does for
 * plugins: counters, socket services, delivery).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SS_CORE_INSTANCE_PRIVATE_H
#define SS_CORE_INSTANCE_PRIVATE_H

#include <snowsignal/log.h>
#include "instance.h"

#define SS_MAX_EXTRA_COUNTERS 32

typedef struct {
  const ss_plugin_key *key;
  gboolean b;
  int64_t i;
  char *s;
  char **list;
  char *origin;
} setting;

typedef struct {
  const char *name;        /* static string from the plugin */
  guint64 value;
} extra_counter;

struct ss_instance {
  char *name;
  char *log_domain;
  const ss_plugin *plugin;
  struct ss_relay *relay;
  setting *settings;       /* one per declared key, in declaration order */
  guint n_settings;
  void *state;
  gboolean started;
  ss_counters counters;
  extra_counter extra[SS_MAX_EXTRA_COUNTERS];
  guint n_extra;
  /* The socket the plugin handed to ss_instance_set_receive_buffer():
   * the kernel's drop count as last seen, drops since the last warning. */
  uint32_t socket_drops_seen;
  guint64 socket_drops_unlogged;
  guint64 socket_drops_total;
  ss_log_limit socket_drops_log;
  ss_log_limit bad_verdict_log; /* a filter returning an unknown verdict */
};

#endif
