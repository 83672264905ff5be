/* snowsignal - UDP broadcast relay
 * ip-self.c: the "ip-self" filter.  Drops frames whose IPv4 source is one
 * of this host's addresses: broadcasts this host sent itself.  On the
 * outbound chain it keeps the relay from carrying its own host's traffic
 * (the SnowSignal 0.1.x behaviour); on the inbound chain it refuses frames
 * a peer relays back with this host as sender.
 *
 * It has no setting.  mac-self's allow_local_senders relays local programs'
 * broadcasts on purpose; a configuration that wants that leaves ip-self out
 * of the outbound chain rather than weakening it here.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>
#include <snowsignal/snowsignal.h>

typedef struct {
  ss_instance *inst;
} ip_self_state;

static void *
ip_self_new(ss_instance *inst, GError **error)
{
  ip_self_state *state = g_new0(ip_self_state, 1);

  state->inst = inst;
  return state;
}

static void
ip_self_free(void *state)
{
  g_free(state);
}

static ss_verdict
ip_self_filter(void *data, ss_packet *pkt)
{
  ip_self_state *state = data;

  if (!ss_host_has_ipv4(state->inst, pkt->ip_src))
    return SS_VERDICT_PASS;

  ss_instance_count(state->inst, "own_ip", 1);
  if (ss_log_enabled(G_LOG_LEVEL_DEBUG))
    SS_LOG(ss_instance_get_log_domain(state->inst), G_LOG_LEVEL_DEBUG,
           "frame from this host's IPv4 address dropped",
           "INSTANCE", ss_instance_get_name(state->inst));
  return SS_VERDICT_DROP;
}

static const ss_plugin_desc ip_self_desc = {
  SS_PLUGIN_DESC_HEADER,
  .kind = SS_PLUGIN_FILTER,
  .name = "ip-self",
  .version = PACKAGE_VERSION,
  .description = "drops frames whose IPv4 source is one of this host's addresses",
  .keys = NULL,
  .instance_new = ip_self_new,
  .instance_free = ip_self_free,
  .filter = ip_self_filter,
};

SS_PLUGIN_DEFINE(ip_self, ip_self_desc)
