/* snowsignal - UDP broadcast relay
 * chain.c: runs filter instances in order over a packet.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include "chain.h"

ss_chain *
ss_chain_new(const char *name)
{
  ss_chain *chain = g_new0(ss_chain, 1);
  chain->name = g_strdup(name);
  chain->instances = g_ptr_array_new();
  return chain;
}

void
ss_chain_free(ss_chain *chain)
{
  if (!chain)
    return;
  g_ptr_array_unref(chain->instances);
  g_free(chain->name);
  g_free(chain);
}

void
ss_chain_append(ss_chain *chain, ss_instance *inst)
{
  g_ptr_array_add(chain->instances, inst);
}

ss_verdict
ss_chain_run(ss_chain *chain, ss_packet *pkt)
{
  chain->counters.seen++;
  for (guint i = 0; i < chain->instances->len; i++) {
    if (ss_instance_run_filter(g_ptr_array_index(chain->instances, i), pkt) != SS_VERDICT_PASS) {
      chain->counters.dropped++;
      return SS_VERDICT_DROP;
    }
  }
  chain->counters.passed++;
  return SS_VERDICT_PASS;
}
