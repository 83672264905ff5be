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
  ss_counters counters;     /* seen, passed (reached the end), dropped */
} ss_chain;

ss_chain *ss_chain_new(const char *name);
void ss_chain_free(ss_chain *chain);
void ss_chain_append(ss_chain *chain, ss_instance *inst);

/* Runs each filter in order; stops at the first drop (or error). */
ss_verdict ss_chain_run(ss_chain *chain, ss_packet *pkt);

#endif
