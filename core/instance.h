/* snowsignal - UDP broadcast relay
 * instance.h: a configured plugin instance — validated settings, the
 * plugin's state, lifecycle and counters.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SS_CORE_INSTANCE_H
#define SS_CORE_INSTANCE_H

#include <glib.h>
#include <snowsignal/plugin.h>
#include "conffile.h"
#include "loader.h"

struct ss_relay;

/* A setting imposed from outside the file (command line, environment):
 * replaces the file's value when the plugin declares @key. */
typedef struct {
  const char *key;
  const char *value;      /* written as a default_value would be */
  const char *origin;     /* "--mesh-port", "MESH_PORT" */
} ss_override;

typedef struct {
  guint64 seen;
  guint64 passed;
  guint64 dropped;
  guint64 errors;         /* unknown verdicts */
} ss_counters;

/* Checks @ci's settings against @plugin's declared keys (unknown key, wrong
 * type, out of range, missing required: errors with file:line), then calls
 * the plugin's instance_new().  @overrides ends with a NULL key; may be NULL. */
ss_instance *ss_instance_new(struct ss_relay *relay, const ss_plugin *plugin,
                             const ss_conf_instance *ci, const ss_override *overrides,
                             GError **error);
gboolean ss_instance_start(ss_instance *inst, GError **error);
void ss_instance_stop(ss_instance *inst);
void ss_instance_free(ss_instance *inst);

struct ss_relay *ss_instance_get_relay(const ss_instance *inst);
/* Moves a kept instance to the relay that replaces its own on reload. */
void ss_instance_set_relay(ss_instance *inst, struct ss_relay *relay);
/* TRUE when @a and @b run the same plugin with the same settings: a reload
 * keeps @a (its state, sockets and counters) instead of starting @b. */
gboolean ss_instance_equivalent(const ss_instance *a, const ss_instance *b);
/* @kept is kept across a reload in place of its equivalent @fresh (about
 * to be freed): the plugin's instance_reload(), when it has one. */
void ss_instance_reload(ss_instance *kept, ss_instance *fresh);
const ss_plugin *ss_instance_get_plugin(const ss_instance *inst);
const ss_counters *ss_instance_get_counters(const ss_instance *inst);

/* Runs the instance's filter over @pkt and counts the verdict.  An unknown
 * verdict is counted as an error, logged, and returned as SS_VERDICT_DROP so
 * the chain stops. */
ss_verdict ss_instance_run_filter(ss_instance *inst, ss_packet *pkt);

/* Transports. */
void ss_instance_send(ss_instance *inst, const ss_packet *pkt);
void ss_instance_flush(ss_instance *inst);
void ss_instance_peers_changed(ss_instance *inst);

/* The extra counter @name (ss_instance_count()), 0 if never counted. */
guint64 ss_instance_get_counter(const ss_instance *inst, const char *name);

/* Calls @fn for each extra counter (ss_instance_count()). */
void ss_instance_foreach_counter(const ss_instance *inst,
                                 void (*fn)(const char *name, guint64 value, void *user),
                                 void *user);

#endif
