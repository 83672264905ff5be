/* snowsignal - UDP broadcast relay
 * relay.c: builds the relay from its configuration and tears it down.
 * The per-packet paths are in relay-path.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>
#include <net/if.h>
#include <glib.h>
#include <glib-unix.h>

#include <snowsignal/log.h>
#include "log.h"
#include "privileges.h"
#include "relay-private.h"

#define SS_UDP_MESH_PLUGIN "udp-mesh"
#define SS_REASM_MAX_BYTES (4u * 1024 * 1024)
#define SS_REASM_MAX_DATAGRAMS 64
#define SS_REASM_TIMEOUT_US (2 * G_USEC_PER_SEC)

static gboolean
kind_error(GError **error, const ss_conf_list *list, const char *what, const char *name,
           const char *expected)
{
  g_set_error(error, SS_CONF_ERROR, SS_CONF_ERROR_INVALID,
              "%s: '%s' lists instance '%s', which is not a %s plugin; '%s' takes only %ss",
              list->origin, what, name, expected, what, expected);
  return FALSE;
}

static gboolean
build_chain(ss_relay *relay, const ss_conf_list *list, const char *what, ss_chain *chain,
            GError **error)
{
  for (char **n = list->names; *n; n++) {
    ss_instance *inst = ss_relay_find_instance(relay, *n);
    if (ss_instance_get_plugin(inst)->desc->kind != SS_PLUGIN_FILTER)
      return kind_error(error, list, what, *n, "filter");
    const ss_conf_instance *ci = ss_conf_find_instance(relay->conf, *n);
    ss_chain_append(chain, inst, ci->ports, ci->n_ports);
  }
  return TRUE;
}

/* "peers" is for transports, and names entries of peers.hosts (or
 * tasks.<service>). */
static gboolean
check_instance_peers(ss_relay *relay, const ss_conf_instance *ci, GError **error)
{
  const ss_conf *conf = relay->conf;
  ss_instance *inst = ss_relay_find_instance(relay, ci->name);
  if (ss_instance_get_plugin(inst)->desc->kind != SS_PLUGIN_TRANSPORT) {
    g_set_error(error, SS_CONF_ERROR, SS_CONF_ERROR_INVALID,
                "%s: 'peers' is a setting of transport instances; '%s' is a filter",
                ci->peers_origin, ci->name);
    return FALSE;
  }
  g_autofree char *service = *conf->service ? g_strconcat("tasks.", conf->service, NULL) : NULL;
  for (char **p = ci->peers; *p; p++)
    if (!g_strv_contains((const char *const *) conf->peer_hosts, *p) && g_strcmp0(*p, service) != 0) {
      g_set_error(error, SS_CONF_ERROR, SS_CONF_ERROR_INVALID,
                  "%s: instance '%s' names peer \"%s\", which peers.hosts does not list (as "
                  "written there%s)", ci->peers_origin, ci->name, *p,
                  service ? ", or the service's tasks.NAME" : "");
      return FALSE;
    }
  return TRUE;
}

/* "ports" is for filters; a filter's ports that the relay does not relay
 * mean the filter never runs for them.  "peers" is for transports. */
static gboolean
check_instance_ports(ss_relay *relay, GError **error)
{
  const ss_conf *conf = relay->conf;
  for (guint i = 0; i < conf->instances->len; i++) {
    const ss_conf_instance *ci = g_ptr_array_index(conf->instances, i);
    if (ci->peers && !check_instance_peers(relay, ci, error))
      return FALSE;
    if (!ci->n_ports)
      continue;
    ss_instance *inst = ss_relay_find_instance(relay, ci->name);
    if (ss_instance_get_plugin(inst)->desc->kind != SS_PLUGIN_FILTER) {
      g_set_error(error, SS_CONF_ERROR, SS_CONF_ERROR_INVALID,
                  "%s: 'ports' is a setting of filter instances; '%s' is a transport "
                  "(its plugin's port setting is 'port')", ci->ports_origin, ci->name);
      return FALSE;
    }
    for (unsigned p = 0; p < ci->n_ports; p++) {
      gboolean relayed = FALSE;
      for (unsigned b = 0; b < conf->n_broadcast_ports; b++)
        relayed |= conf->broadcast_ports[b] == ci->ports[p];
      if (!relayed) {
        char port[8];
        g_snprintf(port, sizeof port, "%u", ci->ports[p]);
        SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
               "an instance's ports lists a port the relay does not relay; it never runs for it",
               "INSTANCE", ci->name, "PORT", port, "ORIGIN", ci->ports_origin,
               "HINT", "add the port to broadcast_ports");
      }
    }
  }
  return TRUE;
}

static gboolean
build_transports(ss_relay *relay, GError **error)
{
  const ss_conf_list *list = &relay->conf->transports;
  for (char **n = list->names; *n; n++) {
    ss_instance *inst = ss_relay_find_instance(relay, *n);
    if (ss_instance_get_plugin(inst)->desc->kind != SS_PLUGIN_TRANSPORT)
      return kind_error(error, list, "transports", *n, "transport");
    g_ptr_array_add(relay->transports, inst);
  }
  return TRUE;
}

static gboolean
create_instances(ss_relay *relay, GError **error)
{
  const ss_conf *conf = relay->conf;
  char port[8];
  g_snprintf(port, sizeof port, "%u", conf->mesh_port_override);
  const ss_override mesh_overrides[] = {
    { "port", port, "--mesh-port/MESH_PORT" },
    { NULL, NULL, NULL }
  };
  for (guint i = 0; i < conf->instances->len; i++) {
    const ss_conf_instance *ci = g_ptr_array_index(conf->instances, i);
    GError *local = NULL;
    const ss_plugin *plugin = ss_loader_load(relay->loader, ci->plugin, &local);
    if (!plugin) {
      g_set_error(error, local->domain, local->code, "%s: instance '%s': %s", ci->origin,
                  ci->name, local->message);
      g_error_free(local);
      return FALSE;
    }
    gboolean is_mesh = strcmp(ci->plugin, SS_UDP_MESH_PLUGIN) == 0 && conf->mesh_port_override;
    ss_instance *inst = ss_instance_new(relay, plugin, ci, is_mesh ? mesh_overrides : NULL, error);
    if (!inst)
      return FALSE;
    g_ptr_array_add(relay->instances, inst);
  }
  return TRUE;
}

static void
warn_unused(ss_relay *relay)
{
  for (guint i = 0; i < relay->instances->len; i++) {
    ss_instance *inst = g_ptr_array_index(relay->instances, i);
    const char *name = ss_instance_get_name(inst);
    gboolean used = g_ptr_array_find(relay->outbound->instances, inst, NULL) ||
                    g_ptr_array_find(relay->inbound->instances, inst, NULL) ||
                    g_ptr_array_find(relay->transports, inst, NULL);
    if (!used)
      SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
             "instance is defined but in no chain and not a transport; it does nothing",
             "INSTANCE", name);
  }
}

ss_relay *
ss_relay_new(ss_conf *conf, GError **error)
{
  return ss_relay_new_with_loader(conf, NULL, error);
}

ss_relay *
ss_relay_new_with_loader(ss_conf *conf, ss_loader *loader, GError **error)
{
  ss_relay *relay = g_new0(ss_relay, 1);
  relay->conf = conf;
  relay->loader = loader ? ss_loader_ref(loader) : ss_loader_new(conf->plugin_path);
  relay->host = ss_host_new();
  relay->instances = g_ptr_array_new();
  relay->outbound = ss_chain_new("outbound");
  relay->inbound = ss_chain_new("inbound");
  relay->transports = g_ptr_array_new();
  relay->transport_peers = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                                 (GDestroyNotify) ss_transport_peers_free);
  relay->rx_buf = g_malloc(SS_FRAME_MAX);
  relay->tx_buf = g_malloc(SS_FRAME_MAX);
  relay->reasm_buf = g_malloc(SS_FRAME_MAX);
  relay->frag_scratch = g_malloc(SS_FRAME_MAX);
  relay->reasm = ss_reassembler_new(SS_REASM_MAX_BYTES, SS_REASM_MAX_DATAGRAMS, SS_REASM_TIMEOUT_US);
  relay->reasm_in = ss_reassembler_new(SS_REASM_MAX_BYTES, SS_REASM_MAX_DATAGRAMS, SS_REASM_TIMEOUT_US);
  relay->reasm_in_buf = g_malloc(SS_FRAME_MAX);
  if (conf->duplicate_window_ms > 0) {
    relay->dedup = ss_dedup_new((unsigned) conf->duplicate_window_ms, SS_DEDUP_ENTRIES);
    relay->standby = ss_standby_new();
  }
  if (conf->source_rate_limit > 0)
    relay->source_rate = ss_rate_table_new((unsigned) conf->source_rate_limit, SS_RATE_ENTRIES);
  if (conf->peer_rate_limit > 0)
    relay->peer_rate = ss_rate_table_new((unsigned) conf->peer_rate_limit, SS_RATE_ENTRIES);
  relay->peers = ss_peer_set_new(conf, relay->host, error);
  if (!relay->peers || !create_instances(relay, error) ||
      !build_chain(relay, &conf->outbound, "outbound", relay->outbound, error) ||
      !build_chain(relay, &conf->inbound, "inbound", relay->inbound, error) ||
      !build_transports(relay, error) || !check_instance_ports(relay, error)) {
    ss_relay_free(relay);
    return NULL;
  }
  warn_unused(relay);
  return relay;
}

/* The segment's interface went away (a container restarted, a link was
 * re-created): the socket bound to its old index is dead, so close it, say
 * so, and open a new one when an interface of that name is back. */
static void
follow_interface(ss_relay *relay)
{
  const ss_conf *conf = relay->conf;
  int ifindex = (int) if_nametoindex(conf->interface);
  if (relay->segment && ifindex == ss_segment_get_ifindex(relay->segment))
    return;
  if (relay->segment) {
    ss_relay_path_stop(relay);
    ss_relay_take_capture_drops(relay, FALSE);
    g_clear_pointer(&relay->segment, ss_segment_close);
    SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
           "the segment's interface is gone; nothing is captured or emitted until it is back",
           "INTERFACE", conf->interface);
  }
  if (ifindex == 0)
    return;
  GError *error = NULL;
  relay->segment = ss_segment_open(conf->interface, conf->broadcast_ports,
                                   conf->n_broadcast_ports, (unsigned) conf->vlan,
                                   (size_t) conf->capture_ring_kib * 1024, &error);
  if (!relay->segment) {
    SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "cannot reopen the segment's interface",
           "INTERFACE", conf->interface, "ERROR", error->message);
    g_error_free(error);
    return;
  }
  ss_relay_path_start(relay);
  SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "the segment's interface is back; relaying again",
         "INTERFACE", conf->interface);
}

static void
on_host_changed(void *user)
{
  ss_relay *relay = user;
  follow_interface(relay);
  if (relay->segment)
    ss_host_link_mac(relay->host, ss_segment_get_ifindex(relay->segment), relay->own_mac);
  ss_peer_set_rebuild(relay->peers);
}

void
ss_transport_peers_free(transport_peers *tp)
{
  g_ptr_array_unref(tp->peers);
  g_hash_table_unref(tp->by_addr);
  g_free(tp);
}

static gboolean
serves(const ss_conf_instance *ci, const ss_peer *peer)
{
  return ss_peer_get_spec(peer) && g_strv_contains((const char *const *) ci->peers,
                                                   ss_peer_get_spec(peer));
}

/* Each transport with a "peers" setting gets the part of the peer set that
 * came from those entries. */
static void
split_peers(ss_relay *relay)
{
  const GPtrArray *all = ss_peer_set_get(relay->peers);
  for (guint i = 0; i < relay->transports->len; i++) {
    ss_instance *inst = g_ptr_array_index(relay->transports, i);
    const ss_conf_instance *ci = ss_conf_find_instance(relay->conf, ss_instance_get_name(inst));
    if (!ci->peers)
      continue;
    transport_peers *mine = g_new0(transport_peers, 1);
    mine->peers = g_ptr_array_new();
    mine->by_addr = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (guint j = all->len; j-- > 0;) {
      ss_peer *peer = g_ptr_array_index(all, j);
      if (!serves(ci, peer))
        continue;
      g_ptr_array_insert(mine->peers, 0, peer);
      g_hash_table_insert(mine->by_addr,
                          GUINT_TO_POINTER(ss_peer_get_address(peer)->sin_addr.s_addr), peer);
    }
    g_hash_table_replace(relay->transport_peers, inst, mine);
  }
}

static void
on_peers_changed(void *user)
{
  ss_relay *relay = user;
  split_peers(relay);
  for (guint i = 0; i < relay->transports->len; i++)
    ss_instance_peers_changed(g_ptr_array_index(relay->transports, i));
}

static gboolean
start_instances(ss_relay *relay, GError **error)
{
  for (guint i = 0; i < relay->instances->len; i++)
    if (!ss_instance_start(g_ptr_array_index(relay->instances, i), error))
      return FALSE;
  return TRUE;
}

gboolean
ss_relay_start(ss_relay *relay, GMainContext *context, GError **error)
{
  const ss_conf *conf = relay->conf;
  relay->context = context ? g_main_context_ref(context) : g_main_context_ref_thread_default();
  if (!ss_host_watch(relay->host, relay->context, error))
    return FALSE;
  ss_host_set_changed_cb(relay->host, on_host_changed, relay);
  /* A reload may have handed over its predecessor's socket (relay-reload.c). */
  if (!relay->segment)
    relay->segment = ss_segment_open(conf->interface, conf->broadcast_ports,
                                     conf->n_broadcast_ports, (unsigned) conf->vlan,
                                   (size_t) conf->capture_ring_kib * 1024, error);
  if (!relay->segment)
    return FALSE;
  if (!ss_host_link_mac(relay->host, ss_segment_get_ifindex(relay->segment), relay->own_mac)) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                "interface %s has no Ethernet address; snowsignal relays on Ethernet segments",
                conf->interface);
    return FALSE;
  }
  if (!start_instances(relay, error))
    return FALSE;
  /* Every socket is open, and no thread exists yet (name resolution starts
   * the first): the moment to give up root, for every thread at once. */
  if (*conf->user && !ss_drop_privileges(conf->user, error))
    return FALSE;
  ss_peer_set_start(relay->peers, relay->context, on_peers_changed, relay);
  on_peers_changed(relay);
  ss_relay_path_start(relay);
  relay->started = TRUE;
  return TRUE;
}

void
ss_relay_stop(ss_relay *relay)
{
  if (!relay)
    return;
  ss_relay_path_stop(relay);
  if (relay->peers)
    ss_peer_set_stop(relay->peers);
  for (guint i = relay->instances->len; i-- > 0;)
    ss_instance_stop(g_ptr_array_index(relay->instances, i));
  ss_relay_take_capture_drops(relay, FALSE);
  g_clear_pointer(&relay->segment, ss_segment_close);
  relay->started = FALSE;
}

void
ss_relay_free(ss_relay *relay)
{
  if (!relay)
    return;
  ss_relay_stop(relay);
  for (guint i = relay->instances->len; i-- > 0;)
    ss_instance_free(g_ptr_array_index(relay->instances, i));
  g_ptr_array_unref(relay->instances);
  g_ptr_array_unref(relay->transports);
  g_hash_table_unref(relay->transport_peers);
  ss_chain_free(relay->outbound);
  ss_chain_free(relay->inbound);
  ss_peer_set_free(relay->peers);
  ss_host_free(relay->host);
  ss_reassembler_free(relay->reasm);
  ss_reassembler_free(relay->reasm_in);
  g_free(relay->reasm_in_buf);
  ss_dedup_free(relay->dedup);
  ss_standby_free(relay->standby);
  ss_rate_table_free(relay->source_rate);
  ss_rate_table_free(relay->peer_rate);
  ss_loader_free(relay->loader);
  ss_conf_free(relay->conf);
  g_free(relay->rx_buf);
  g_free(relay->tx_buf);
  g_free(relay->reasm_buf);
  g_free(relay->frag_scratch);
  if (relay->context)
    g_main_context_unref(relay->context);
  g_free(relay);
}

const ss_conf *
ss_relay_get_conf(const ss_relay *relay)
{
  return relay->conf;
}

gboolean
ss_relay_is_running(const ss_relay *relay)
{
  return relay->started;
}

ss_host *
ss_relay_get_host(ss_relay *relay)
{
  return relay->host;
}

ss_loader *
ss_relay_get_loader(ss_relay *relay)
{
  return relay->loader;
}

ss_instance *
ss_relay_find_instance(ss_relay *relay, const char *name)
{
  for (guint i = 0; i < relay->instances->len; i++) {
    ss_instance *inst = g_ptr_array_index(relay->instances, i);
    if (strcmp(ss_instance_get_name(inst), name) == 0)
      return inst;
  }
  return NULL;
}

const ss_relay_counters *
ss_relay_get_counters(ss_relay *relay)
{
  ss_relay_take_capture_drops(relay, TRUE);
  return &relay->counters;
}

gboolean
ss_relay_get_standby(const ss_relay *relay, uint8_t mac[SS_ETH_ALEN])
{
  return relay->standby && ss_standby_active(relay->standby, g_get_monotonic_time(), mac);
}

const ss_chain *
ss_relay_get_chain(const ss_relay *relay, ss_direction direction)
{
  return direction == SS_DIRECTION_OUTBOUND ? relay->outbound : relay->inbound;
}

const GPtrArray *
ss_relay_get_peers(const ss_relay *relay)
{
  return ss_peer_set_get(relay->peers);
}

const GPtrArray *
ss_relay_get_transports(const ss_relay *relay)
{
  return relay->transports;
}

/* --- Services plugin instances reach through their ss_instance -------- */

