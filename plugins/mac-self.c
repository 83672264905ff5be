/* snowsignal - UDP broadcast relay
 * mac-self.c: the "mac-self" filter.  Drops frames whose Ethernet source is
 * one of this host's MACs, which is how a relay stops relaying its own
 * re-emissions: every frame the relay broadcasts on its segment carries the
 * relay's interface MAC as source (DESIGN.md section 4), and the capture on
 * that segment sees it again.  Without this filter each frame would loop
 * between the relays forever.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>
#include <snowsignal/snowsignal.h>

typedef struct {
  ss_instance *inst;
  gboolean allow_local_senders;
} mac_self_state;

static void *
mac_self_new(ss_instance *inst, GError **error)
{
  mac_self_state *state = g_new0(mac_self_state, 1);

  state->inst = inst;
  state->allow_local_senders = ss_instance_get_bool(inst, "allow_local_senders");
  return state;
}

static void
mac_self_free(void *state)
{
  g_free(state);
}

/* A frame with one of our MACs as source was sent from this host, either
 * by the relay (a re-emission) or by another program here, say a PVA client
 * running next to the relay.  The two differ in the IP source: the relay
 * re-emits a frame keeping the original, remote IP source (so the server
 * answers the real client), whereas a local program sends from one of this
 * host's own addresses.  So an own-MAC frame with an own IP source is a
 * local sender's, passed when allow_local_senders is set; an own-MAC frame
 * with a foreign IP source is a re-emission, always dropped.
 *
 * The one case this cannot tell apart is a remote sender that uses an IP
 * address this host also has (overlapping private networks); such frames
 * would loop, which is why allow_local_senders is off by default. */
static ss_verdict
mac_self_filter(void *data, ss_packet *pkt)
{
  mac_self_state *state = data;

  if (!ss_host_has_mac(state->inst, pkt->eth_src))
    return SS_VERDICT_PASS;

  if (state->allow_local_senders && ss_host_has_ipv4(state->inst, pkt->ip_src)) {
    ss_instance_count(state->inst, "local_sender", 1);
    return SS_VERDICT_PASS;
  }

  ss_instance_count(state->inst, "own_mac", 1);
  if (ss_log_enabled(G_LOG_LEVEL_DEBUG))
    SS_LOG(ss_instance_get_log_domain(state->inst), G_LOG_LEVEL_DEBUG,
           "frame from this host's MAC dropped",
           "INSTANCE", ss_instance_get_name(state->inst));
  return SS_VERDICT_DROP;
}

static const ss_plugin_key mac_self_keys[] = {
  { "allow_local_senders", SS_KEY_BOOL, "false",
    "Relay broadcasts sent by other programs on this host (an own MAC with an "
    "own IP source) while still dropping the relay's own re-emissions (an own "
    "MAC with a foreign IP source: the relay keeps the original sender's "
    "address).  Remove ip-self from the outbound chain when you enable this, "
    "or it drops those frames again.",
    0, 0, { NULL, NULL } },
  SS_KEY_END
};

static const ss_plugin_desc mac_self_desc = {
  SS_PLUGIN_DESC_HEADER,
  .kind = SS_PLUGIN_FILTER,
  .name = "mac-self",
  .version = PACKAGE_VERSION,
  .description = "drops frames sent from this host's MACs (the relay's own re-emissions)",
  .keys = mac_self_keys,
  .instance_new = mac_self_new,
  .instance_free = mac_self_free,
  .filter = mac_self_filter,
};

SS_PLUGIN_DEFINE(mac_self, mac_self_desc)
