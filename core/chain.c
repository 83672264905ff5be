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
  chain->ports = g_array_new(FALSE, TRUE, sizeof(ss_chain_ports));
  return chain;
}

void
ss_chain_free(ss_chain *chain)
{
  if (!chain)
    return;
  g_ptr_array_unref(chain->instances);
  g_array_unref(chain->ports);
  g_free(chain->name);
  g_free(chain);
}

void
ss_chain_append(ss_chain *chain, ss_instance *inst, const uint16_t *ports, unsigned n_ports)
{
  ss_chain_ports p = { .n_ports = MIN(n_ports, G_N_ELEMENTS(p.ports)) };
  for (unsigned i = 0; i < p.n_ports; i++)
    p.ports[i] = ports[i];
  g_ptr_array_add(chain->instances, inst);
  g_array_append_val(chain->ports, p);
}

static gboolean
runs_for(const ss_chain_ports *p, uint16_t port)
{
  if (p->n_ports == 0)
    return TRUE;
  for (unsigned i = 0; i < p->n_ports; i++)
    if (p->ports[i] == port)
      return TRUE;
  return FALSE;
}

ss_verdict
ss_chain_run(ss_chain *chain, ss_packet *pkt)
{
  chain->counters.seen++;
  for (guint i = 0; i < chain->instances->len; i++) {
    if (!runs_for(&g_array_index(chain->ports, ss_chain_ports, i), pkt->udp_dst_port))
      continue;
    if (ss_instance_run_filter(g_ptr_array_index(chain->instances, i), pkt) != SS_VERDICT_PASS) {
      chain->counters.dropped++;
      return SS_VERDICT_DROP;
    }
  }
  chain->counters.passed++;
  return SS_VERDICT_PASS;
}
