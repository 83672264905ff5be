/* snowsignal - UDP broadcast relay
 * peer-set.c: the relays this one sends to.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include <snowsignal/log.h>
#include "log.h"
#include "peer-private.h"
#include "resolve.h"

#define SS_SELF_SEND_ADDR "127.0.0.1"


/* One configured entry: a literal address or a name to resolve. */
typedef struct {
  ss_peer_set *set;
  char *spec;                 /* "host" or "host:port" as written */
  char *host;
  uint16_t port;              /* 0: the transport's own port */
  gboolean literal;
  GArray *addrs;              /* uint32_t, network order; last good lookup */
  ss_lookup *lookup;          /* in flight, or NULL */
  gboolean truncated;         /* the last answer was cut to max_per_name */
} peer_entry;

struct ss_peer_set {
  GPtrArray *entries;         /* peer_entry * */
  GPtrArray *peers;           /* ss_peer *, current set */
  GHashTable *by_addr;        /* address (network order) -> first ss_peer * with it */
  ss_host *host;
  guint max_per_name;
  gboolean self_send;
  guint refresh;
  GMainContext *context;
  GSource *timer;
  void (*changed)(void *user);
  void *changed_user;
  ss_peer_set_counters counters;
  gboolean warned_empty;
  GPtrArray *inherited;       /* ss_peer * of the set this one replaced, or NULL */
};

static void
peer_free(ss_peer *peer)
{
  g_free(peer->name);
  g_free(peer->spec);
  g_free(peer->resolved_from);
  g_free(peer->last_error);
  g_free(peer);
}

static void
entry_free(gpointer p)
{
  peer_entry *e = p;
  ss_lookup_cancel(e->lookup);
  g_free(e->spec);
  g_free(e->host);
  g_array_unref(e->addrs);
  g_free(e);
}

static gboolean
entry_parse(peer_entry *e, const char *spec, const char *origin, GError **error)
{
  e->spec = g_strdup(spec);
  const char *colon = strrchr(spec, ':');
  if (colon) {
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || port < 1 || port > 65535) {
      g_set_error(error, SS_CONF_ERROR, SS_CONF_ERROR_INVALID,
                  "%s: peer '%s' has an invalid port; write \"host\" or \"host:port\" with a "
                  "port from 1 to 65535", origin, spec);
      return FALSE;
    }
    e->port = (uint16_t) port;
    e->host = g_strndup(spec, (gsize) (colon - spec));
  } else {
    e->host = g_strdup(spec);
  }
  if (e->host[0] == '\0') {
    g_set_error(error, SS_CONF_ERROR, SS_CONF_ERROR_INVALID,
                "%s: peer '%s' has no host name or address", origin, spec);
    return FALSE;
  }
  struct in_addr a;
  if (inet_pton(AF_INET, e->host, &a) == 1) {
    e->literal = TRUE;
    g_array_append_val(e->addrs, a.s_addr);
  }
  return TRUE;
}

static gboolean
add_entry(ss_peer_set *set, const char *spec, const char *origin, GError **error)
{
  peer_entry *e = g_new0(peer_entry, 1);
  e->set = set;
  e->addrs = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  g_ptr_array_add(set->entries, e);
  return entry_parse(e, spec, origin, error);
}

ss_peer_set *
ss_peer_set_new(const ss_conf *conf, ss_host *host, GError **error)
{
  ss_peer_set *set = g_new0(ss_peer_set, 1);
  set->entries = g_ptr_array_new_with_free_func(entry_free);
  set->peers = g_ptr_array_new();
  set->by_addr = g_hash_table_new(g_direct_hash, g_direct_equal);
  set->host = host;
  set->max_per_name = (guint) conf->peer_max_per_name;
  set->self_send = conf->self_send;
  set->refresh = (guint) conf->peer_refresh;
  for (char **h = conf->peer_hosts; *h; h++)
    if (!add_entry(set, *h, conf->peer_hosts_origin, error))
      goto fail;
  if (conf->service && *conf->service) {
    g_autofree char *name = g_strconcat("tasks.", conf->service, NULL);
    if (!add_entry(set, name, "SERVICENAME", error))
      goto fail;
  }
  return set;
fail:
  ss_peer_set_free(set);
  return NULL;
}

void
ss_peer_set_free(ss_peer_set *set)
{
  if (!set)
    return;
  ss_peer_set_stop(set);
  g_ptr_array_unref(set->entries);
  for (guint i = 0; i < set->peers->len; i++)
    peer_free(g_ptr_array_index(set->peers, i));
  g_ptr_array_unref(set->peers);
  g_hash_table_unref(set->by_addr);
  if (set->inherited) {
    for (guint i = 0; i < set->inherited->len; i++)
      if (set->inherited->pdata[i])
        peer_free(set->inherited->pdata[i]);
    g_ptr_array_unref(set->inherited);
  }
  g_free(set);
}

void
ss_peer_set_inherit(ss_peer_set *set, ss_peer_set *from)
{
  if (!set->inherited)
    set->inherited = g_ptr_array_new();
  for (guint i = 0; i < from->peers->len; i++)
    g_ptr_array_add(set->inherited, from->peers->pdata[i]);
  g_ptr_array_set_size(from->peers, 0);
}

/* A peer of the replaced set with the same address, port and origin (the
 * literal written, or the name it was resolved from), taken with its
 * counters. */
static ss_peer *
take_inherited(ss_peer_set *set, uint32_t addr, uint16_t port, const char *resolved_from)
{
  if (!set->inherited)
    return NULL;
  for (guint i = 0; i < set->inherited->len; i++) {
    ss_peer *p = g_ptr_array_index(set->inherited, i);
    if (p && p->addr.sin_addr.s_addr == addr && p->addr.sin_port == htons(port) &&
        g_strcmp0(p->resolved_from, resolved_from) == 0) {
      set->inherited->pdata[i] = NULL;
      return p;
    }
  }
  return NULL;
}

static ss_peer *
take_existing(GPtrArray *old, uint32_t addr, uint16_t port)
{
  for (guint i = 0; i < old->len; i++) {
    ss_peer *p = g_ptr_array_index(old, i);
    if (p && p->addr.sin_addr.s_addr == addr && p->addr.sin_port == htons(port)) {
      old->pdata[i] = NULL;
      return p;
    }
  }
  return NULL;
}

static gboolean
already_listed(GPtrArray *peers, uint32_t addr, uint16_t port)
{
  for (guint i = 0; i < peers->len; i++) {
    ss_peer *p = g_ptr_array_index(peers, i);
    if (p->addr.sin_addr.s_addr == addr && p->addr.sin_port == htons(port))
      return TRUE;
  }
  return FALSE;
}

static void
add_peer(ss_peer_set *set, GPtrArray *old, GPtrArray *peers, const peer_entry *e, uint32_t addr)
{
  if (already_listed(peers, addr, e->port))
    return;
  ss_peer *p = take_existing(old, addr, e->port);
  if (!p)
    p = take_inherited(set, addr, e->port, e->literal ? NULL : e->host);
  if (!p) {
    p = g_new0(ss_peer, 1);
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &addr, text, sizeof text);
    p->name = e->literal ? g_strdup(e->spec)
                         : (e->port ? g_strdup_printf("%s:%u", text, e->port) : g_strdup(text));
    p->resolved_from = e->literal ? NULL : g_strdup(e->host);
    p->spec = g_strdup(e->spec);
    p->addr.sin_family = AF_INET;
    p->addr.sin_addr.s_addr = addr;
    p->addr.sin_port = htons(e->port);
  }
  g_ptr_array_add(peers, p);
}

static void
log_set(const ss_peer_set *set)
{
  g_autoptr(GString) names = g_string_new(NULL);
  for (guint i = 0; i < set->peers->len; i++) {
    const ss_peer *p = g_ptr_array_index(set->peers, i);
    g_string_append_printf(names, "%s%s", i ? "," : "", p->name);
  }
  SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_INFO, "peer set changed", "PEERS", names->str, NULL);
}

void
ss_peer_set_rebuild(ss_peer_set *set)
{
  GPtrArray *old = set->peers;
  GPtrArray *peers = g_ptr_array_new();
  for (guint i = 0; i < set->entries->len; i++) {
    const peer_entry *e = g_ptr_array_index(set->entries, i);
    for (guint j = 0; j < e->addrs->len; j++) {
      uint32_t addr = g_array_index(e->addrs, uint32_t, j);
      /* Sending to ourselves would re-emit every broadcast on our own
       * segment (the original does this when it finds no peers). */
      if (!ss_host_lookup_ipv4(set->host, addr))
        add_peer(set, old, peers, e, addr);
    }
  }
  if (peers->len == 0 && set->self_send) {
    static const peer_entry self = { .spec = (char *) "self (" SS_SELF_SEND_ADDR ")", .literal = TRUE };
    struct in_addr lo;
    inet_pton(AF_INET, SS_SELF_SEND_ADDR, &lo);
    add_peer(set, old, peers, &self, lo.s_addr);
    ((ss_peer *) g_ptr_array_index(peers, peers->len - 1))->self = TRUE;
  }
  gboolean changed = peers->len != old->len;
  for (guint i = 0; i < old->len; i++)
    if (old->pdata[i] != NULL)
      changed = TRUE;
  set->peers = peers;
  /* Mesh datagrams are matched to their peer by address, one lookup each:
   * a hash, so that the cost does not grow with the mesh. */
  g_hash_table_remove_all(set->by_addr);
  for (guint i = peers->len; i-- > 0;) {
    ss_peer *p = g_ptr_array_index(peers, i);
    g_hash_table_insert(set->by_addr, GUINT_TO_POINTER(p->addr.sin_addr.s_addr), p);
  }
  if (changed) {
    log_set(set);
    if (peers->len == 0 && !set->warned_empty)
      SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
             "no peers: captured broadcasts are not sent anywhere",
             "HINT", "set peers.hosts in snowsignal.conf, --other-relays or SERVICENAME", NULL);
    set->warned_empty = peers->len == 0;
    if (set->changed)
      set->changed(set->changed_user);
  }
  for (guint i = 0; i < old->len; i++)
    if (old->pdata[i])
      peer_free(old->pdata[i]);
  g_ptr_array_unref(old);
}

static gint
compare_addr(gconstpointer a, gconstpointer b)
{
  uint32_t x = g_ntohl(*(const uint32_t *) a), y = g_ntohl(*(const uint32_t *) b);
  return x < y ? -1 : x > y;
}

static void
on_resolved(const GArray *addrs, const char *error, void *user)
{
  peer_entry *e = user;
  ss_peer_set *set = e->set;
  e->lookup = NULL;
  if (!addrs) {
    set->counters.lookup_failures++;
    SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "peer name lookup failed; keeping its last addresses",
           "NAME", e->host, "ERROR", error, NULL);
    return;
  }
  g_array_set_size(e->addrs, 0);
  g_array_append_vals(e->addrs, addrs->data, addrs->len);
  if (ss_log_enabled(G_LOG_LEVEL_DEBUG)) {
    char n[16];
    g_snprintf(n, sizeof n, "%u", addrs->len);
    SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "peer name resolved", "NAME", e->host, "ADDRESSES", n);
  }
  if (e->addrs->len > set->max_per_name) {
    /* A name that resolves to more relays than any mesh has is a mistake
     * or an attack on whoever answers DNS: take a bounded, stable part
     * (the lowest addresses, whatever order the answer had). */
    g_array_sort(e->addrs, compare_addr);
    set->counters.lookup_truncated++;
    if (!e->truncated) {
      char got[16], cap[16];
      g_snprintf(got, sizeof got, "%u", e->addrs->len);
      g_snprintf(cap, sizeof cap, "%u", set->max_per_name);
      SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
             "peer name resolved to more addresses than peers.max_per_name; the lowest are taken",
             "NAME", e->host, "ADDRESSES", got, "MAX_PER_NAME", cap,
             "HINT", "raise peers.max_per_name in snowsignal.conf if the mesh is this large");
    }
    g_array_set_size(e->addrs, set->max_per_name);
    e->truncated = TRUE;
  } else {
    e->truncated = FALSE;
  }
  ss_peer_set_rebuild(set);
}

static void
resolve_all(ss_peer_set *set)
{
  for (guint i = 0; i < set->entries->len; i++) {
    peer_entry *e = g_ptr_array_index(set->entries, i);
    if (e->literal || e->lookup)
      continue;
    set->counters.lookups++;
    e->lookup = ss_lookup_start(e->host, set->context, on_resolved, e);
  }
}

static gboolean
on_refresh(gpointer user_data)
{
  resolve_all(user_data);
  return G_SOURCE_CONTINUE;
}

void
ss_peer_set_start(ss_peer_set *set, GMainContext *context, void (*changed)(void *user), void *user)
{
  set->context = context;
  set->changed = changed;
  set->changed_user = user;
  ss_peer_set_rebuild(set);
  if (set->peers->len == 0 && !set->warned_empty && set->entries->len == 0) {
    SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "no peers: captured broadcasts are not sent anywhere",
           "HINT", "set peers.hosts in snowsignal.conf, --other-relays or SERVICENAME", NULL);
    set->warned_empty = TRUE;
  }
  gboolean any_name = FALSE;
  for (guint i = 0; i < set->entries->len; i++)
    any_name |= !((peer_entry *) g_ptr_array_index(set->entries, i))->literal;
  if (!any_name)
    return;
  resolve_all(set);
  set->timer = g_timeout_source_new_seconds(set->refresh);
  g_source_set_callback(set->timer, on_refresh, set, NULL);
  g_source_attach(set->timer, context);
}

void
ss_peer_set_stop(ss_peer_set *set)
{
  if (set->timer) {
    g_source_destroy(set->timer);
    g_clear_pointer(&set->timer, g_source_unref);
  }
  for (guint i = 0; i < set->entries->len; i++) {
    peer_entry *e = g_ptr_array_index(set->entries, i);
    g_clear_pointer(&e->lookup, ss_lookup_cancel);
  }
  set->changed = NULL;
}

const GPtrArray *
ss_peer_set_get(const ss_peer_set *set)
{
  return set->peers;
}

ss_peer *
ss_peer_set_find(const ss_peer_set *set, uint32_t addr_be)
{
  return g_hash_table_lookup(set->by_addr, GUINT_TO_POINTER(addr_be));
}

const char *
ss_peer_get_spec(const ss_peer *peer)
{
  return peer->spec;
}

gboolean
ss_peer_is_self(const ss_peer *peer)
{
  return peer->self;
}

const ss_peer_set_counters *
ss_peer_set_get_counters(const ss_peer_set *set)
{
  return &set->counters;
}

const ss_peer_stats *
ss_peer_get_stats(const ss_peer *peer)
{
  return &peer->stats;
}

