/* snowsignal - UDP broadcast relay
 * chain.h: an ordered list of filter instances run over each packet.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SS_CORE_CHAIN_H
#define SS_CORE_CHAIN_H

#include <glib.h>
#include "instance.h"

typedef struct {
  char *name;               /* "outbound" or "inbound" */
  GPtrArray *instances;     /* ss_instance *, borrowed */
  GArray *ports;            /* per instance: its ports setting (ss_chain_ports) */
  ss_counters counters;     /* seen, passed (reached the end), dropped */
} ss_chain;

/* The UDP destination ports one filter of a chain runs for. */
typedef struct {
  uint16_t ports[16];
  unsigned n_ports;         /* 0: every port */
} ss_chain_ports;

ss_chain *ss_chain_new(const char *name);
void ss_chain_free(ss_chain *chain);
/* Appends @inst, run only for frames to one of @ports (@n_ports of them,
 * at most 16; 0: every frame). */
void ss_chain_append(ss_chain *chain, ss_instance *inst, const uint16_t *ports,
                     unsigned n_ports);

/* Runs each filter in order, skipping those set for other ports; stops at
 * the first drop (or error). */
ss_verdict ss_chain_run(ss_chain *chain, ss_packet *pkt);

#endif
