/* snowsignal - UDP broadcast relay
 * plugin-services.c: what the core does for plugins, as plugin.h declares
 * it, in one place: an instance's identity and counters, its view of the
 * host and of the peers, socket services for transports, delivery of what
 * a transport received, and a peer's accounting and health.
 *
 * The hot-path entries (ss_instance_deliver*, ss_instance_find_peer,
 * ss_instance_count, ss_peer_note_*) are thin: the work is in the modules
 * they call (relay-path.c, peer-set.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <glib.h>

#include <snowsignal/log.h>
#include <snowsignal/plugin.h>
#include "instance-private.h"
#include "log.h"
#include "peer-private.h"
#include "relay-private.h"

/* --- An instance: its name, log domain, main context and counters ---------- */

const char *
ss_instance_get_name(const ss_instance *inst)
{
  return inst->name;
}

const char *
ss_instance_get_log_domain(const ss_instance *inst)
{
  return inst->log_domain;
}

void
ss_instance_count(ss_instance *inst, const char *name, guint64 n)
{
  for (guint i = 0; i < inst->n_extra; i++)
    if (inst->extra[i].name == name || strcmp(inst->extra[i].name, name) == 0) {
      inst->extra[i].value += n;
      return;
    }
  if (inst->n_extra < SS_MAX_EXTRA_COUNTERS)
    inst->extra[inst->n_extra++] = (extra_counter) { name, n };
}

GMainContext *
ss_instance_get_context(const ss_instance *inst)
{
  ss_relay *relay = ss_instance_get_relay(inst);
  return relay->context ? relay->context : g_main_context_get_thread_default();
}

/* --- The host, as a filter sees it ----------------------------------------- */

gboolean
ss_host_has_ipv4(const ss_instance *inst, uint32_t addr_be)
{
  return ss_host_lookup_ipv4(ss_instance_get_relay(inst)->host, addr_be);
}

gboolean
ss_host_has_mac(const ss_instance *inst, const uint8_t mac[SS_ETH_ALEN])
{
  return ss_host_lookup_mac(ss_instance_get_relay(inst)->host, mac);
}

const uint8_t *
ss_host_relay_mac(const ss_instance *inst)
{
  return ss_instance_get_relay(inst)->own_mac;
}

/* --- The peers a transport serves ------------------------------------------ */

const GPtrArray *
ss_instance_get_peers(const ss_instance *inst)
{
  ss_relay *relay = ss_instance_get_relay(inst);
  const transport_peers *mine = g_hash_table_lookup(relay->transport_peers, inst);
  return mine ? mine->peers : ss_peer_set_get(relay->peers);
}

ss_peer *
ss_instance_find_peer(const ss_instance *inst, const struct sockaddr *addr, socklen_t addrlen)
{
  if (addr->sa_family != AF_INET || addrlen < (socklen_t) sizeof(struct sockaddr_in))
    return NULL;
  const struct sockaddr_in *sin = (const struct sockaddr_in *) addr;
  ss_relay *relay = ss_instance_get_relay(inst);
  const transport_peers *mine = g_hash_table_lookup(relay->transport_peers, inst);
  if (!mine)
    return ss_peer_set_find(relay->peers, sin->sin_addr.s_addr);
  /* A transport with its own peers hears them alone: a relay reached
   * another way (dtls) is a stranger here (udp-mesh). */
  return g_hash_table_lookup(mine->by_addr, GUINT_TO_POINTER(sin->sin_addr.s_addr));
}

/* --- Socket services for transports ----------------------------------------
 * A receive buffer as large as asked for (or a notice saying why not), and
 * the kernel's count of datagrams it dropped for want of room. */

gboolean
ss_instance_set_receive_buffer(ss_instance *inst, int fd, int bytes)
{
  int got = 0, one = 1;
  socklen_t len = sizeof got;
  /* A new socket's drop count starts at zero. */
  inst->socket_drops_seen = 0;
  setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  /* The kernel reports twice what it was given (its bookkeeping). */
  if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) < 0 || got / 2 >= bytes)
    return TRUE;
  char have[32], asked[32];
  g_snprintf(have, sizeof have, "%d KiB", got / 2 / 1024);
  g_snprintf(asked, sizeof asked, "%d KiB", bytes / 1024);
  SS_LOG(ss_instance_get_log_domain(inst), G_LOG_LEVEL_MESSAGE,
         "the socket's receive buffer is smaller than asked for; bursts may be dropped "
         "(counted as receive_dropped)",
         "INSTANCE", inst->name, "BUFFER", have, "ASKED", asked, "HINT",
         "raise the sysctl net.core.rmem_max to at least the size asked for");
  return FALSE;
}

void
ss_instance_note_socket_drops(ss_instance *inst, const struct msghdr *msg)
{
  if (!msg->msg_controllen)
    return;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR((struct msghdr *) msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SO_RXQ_OVFL)
      continue;
    uint32_t total;
    memcpy(&total, CMSG_DATA(c), sizeof total);
    uint32_t n = total - inst->socket_drops_seen; /* wraps as the kernel's count does */
    if (!n)
      return;
    inst->socket_drops_seen = total;
    inst->socket_drops_unlogged += n;
    inst->socket_drops_total += n;
    ss_instance_count(inst, "receive_dropped", n);
    /* A warning at most every SS_LOG_LIMIT_DEFAULT_S seconds, with the sum
     * of the drops since the last one (they are always counted). */
    if (!ss_log_limit_allow(&inst->socket_drops_log, NULL))
      return;
    char dropped[24], sum[24];
    g_snprintf(dropped, sizeof dropped, "%" G_GUINT64_FORMAT, inst->socket_drops_unlogged);
    g_snprintf(sum, sizeof sum, "%" G_GUINT64_FORMAT, inst->socket_drops_total);
    inst->socket_drops_unlogged = 0;
    SS_LOG(ss_instance_get_log_domain(inst), G_LOG_LEVEL_WARNING,
           "the socket's receive buffer was full: the kernel dropped datagrams "
           "(the relay did not get enough CPU)",
           "INSTANCE", inst->name, "DROPPED", dropped, "TOTAL", sum);
    return;
  }
}

/* --- What a transport received --------------------------------------------- */

ss_deliver_result
ss_instance_deliver(ss_instance *inst, ss_peer *from, const uint8_t *frame, size_t len)
{
  if (from)
    ss_peer_note_received(from, inst);
  return ss_relay_deliver(ss_instance_get_relay(inst), from, frame, len);
}

ss_deliver_result
ss_instance_deliver_message(ss_instance *inst, ss_peer *from, const uint8_t *msg, size_t len)
{
  size_t frame_len;
  const uint8_t *frame = ss_mesh_decode(msg, len, &frame_len);
  if (!frame) {
    ss_instance_count(inst, "bad_framing", 1);
    return SS_DELIVER_INVALID;
  }
  ss_instance_count(inst, "received", 1);
  ss_deliver_result r = ss_instance_deliver(inst, from, frame, frame_len);
  if (r == SS_DELIVER_INVALID)
    ss_instance_count(inst, "invalid_frame", 1);
  return r;
}

/* --- A peer: what it is, what went to and came from it, state and health -- */

const struct sockaddr_in *
ss_peer_get_address(const ss_peer *peer)
{
  return &peer->addr;
}

const char *
ss_peer_get_name(const ss_peer *peer)
{
  return peer->name;
}

const char *
ss_peer_get_resolved_from(const ss_peer *peer)
{
  return peer->resolved_from;
}

void
ss_peer_note_sent(ss_peer *peer, const ss_instance *inst)
{
  peer->stats.sent++;
  peer->stats.last_sent_us = g_get_real_time();
  if (!peer->health && (peer->state == SS_PEER_UNKNOWN || peer->state == SS_PEER_DOWN))
    peer->state = SS_PEER_UP;
}

void
ss_peer_note_received(ss_peer *peer, const ss_instance *inst)
{
  peer->stats.received++;
  peer->stats.last_received_us = g_get_real_time();
}

void
ss_peer_note_error(ss_peer *peer, const ss_instance *inst, const char *what)
{
  peer->stats.errors++;
  if (!peer->last_error || strcmp(peer->last_error, what) != 0) {
    g_free(peer->last_error);
    peer->last_error = g_strdup(what);
    peer->stats.last_error = peer->last_error;
    /* Logged when the reason changes, not per packet: a dead peer must not
     * flood the log while the others keep being served. */
    SS_LOG(ss_instance_get_log_domain(inst), G_LOG_LEVEL_WARNING, "sending to peer failed",
           "PEER", peer->name, "INSTANCE", ss_instance_get_name(inst), "ERROR", what, NULL);
  }
}

static void
log_health(const ss_peer *peer, const ss_instance *inst, const char *message)
{
  char rtt[32], lost[24];
  g_snprintf(rtt, sizeof rtt, "%.3f", peer->stats.rtt_smoothed_us / 1000.0);
  g_snprintf(lost, sizeof lost, "%" G_GUINT64_FORMAT, peer->stats.heartbeats_lost);
  SS_LOG(ss_instance_get_log_domain(inst), G_LOG_LEVEL_MESSAGE, message, "PEER", peer->name,
         "INSTANCE", ss_instance_get_name(inst), "RTT_MS", rtt, "HEARTBEATS_LOST", lost, NULL);
}

void
ss_peer_note_heartbeat(ss_peer *peer, const ss_instance *inst, int64_t rtt_us)
{
  ss_peer_stats *s = &peer->stats;
  if (rtt_us < 0) {
    s->heartbeats_lost++;
    peer->answered_in_row = 0;
    if (++peer->lost_in_row == SS_PEER_DOWN_AFTER_LOST && peer->health &&
        peer->state != SS_PEER_DOWN) {
      peer->state = SS_PEER_DOWN;
      log_health(peer, inst, "peer stopped answering heartbeats; it is down");
    }
    return;
  }
  s->heartbeats_answered++;
  s->last_received_us = g_get_real_time();
  s->rtt_last_us = rtt_us;
  if (s->rtt_min_us == 0 || rtt_us < s->rtt_min_us)
    s->rtt_min_us = MAX(rtt_us, 1);
  s->rtt_smoothed_us = s->rtt_smoothed_us ? (7 * s->rtt_smoothed_us + rtt_us) / 8 : MAX(rtt_us, 1);
  peer->lost_in_row = 0;
  peer->answered_in_row++;
  gboolean first = !peer->health;
  peer->health = TRUE;
  /* The first answer is logged even when the peer was up already (a
   * session transport says so when its association is made). */
  if (first || (peer->state != SS_PEER_UP && (peer->state != SS_PEER_DOWN ||
                                              peer->answered_in_row >= SS_PEER_UP_AFTER_ANSWERED))) {
    peer->state = SS_PEER_UP;
    log_health(peer, inst, "peer answers heartbeats; it is up");
  }
}

void
ss_peer_set_state(ss_peer *peer, const ss_instance *inst, ss_peer_state state)
{
  peer->state = state;
}

ss_peer_state
ss_peer_get_state(const ss_peer *peer)
{
  return peer->state;
}

const char *
ss_peer_state_to_string(ss_peer_state state)
{
  switch (state) {
  case SS_PEER_UP: return "up";
  case SS_PEER_CONNECTING: return "connecting";
  case SS_PEER_DOWN: return "down";
  case SS_PEER_AUTH_FAILED: return "authentication failed";
  default: return "unknown";
  }
}
