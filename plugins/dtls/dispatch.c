/* snowsignal - UDP broadcast relay
 * dispatch.c: every datagram on the dtls port goes through here.  It is
 * classified from its record headers first (plaintext, "SS" mesh messages
 * included, is refused), then checked against the peer set, and only then
 * handed to an association: a ClientHello after a stateless cookie check,
 * anything else to the association of its source address and port.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <errno.h>
#include <string.h>
#include <arpa/inet.h>

#include "classify.h"
#include "dtls-plugin.h"

/* Datagrams read per wake-up before yielding to the loop's other sources. */
#define DTLS_RECV_BATCH 256
#define HELLO_RANDOM_LEN (sizeof ((dtls_conn *) 0)->hello_random)

void
dtls_addr_text(const struct sockaddr_in *addr, char *buf, size_t size)
{
  char host[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &addr->sin_addr, host, sizeof host);
  g_snprintf(buf, size, "%s:%u", host, ntohs(addr->sin_port));
}

void
dtls_log_addr(dtls_plugin *p, GLogLevelFlags level, const char *message,
              const struct sockaddr_in *addr, const char *key, const char *value)
{
  char text[INET_ADDRSTRLEN + 8];
  dtls_addr_text(addr, text, sizeof text);
  SS_LOG(p->domain, level, message, "PEER", text, "INSTANCE", ss_instance_get_name(p->inst),
         key, value);
}

ss_peer *
dtls_peer_of(dtls_plugin *p, const struct sockaddr_in *addr)
{
  return ss_instance_find_peer(p->inst, (const struct sockaddr *) addr, sizeof *addr);
}

static gboolean
log_due(gint64 *last_us)
{
  gint64 now = g_get_monotonic_time();
  if (*last_us && now - *last_us < DTLS_LOG_INTERVAL_US)
    return FALSE;
  *last_us = now;
  return TRUE;
}

static void
stranger(dtls_plugin *p, const struct sockaddr_in *from)
{
  ss_instance_count(p->inst, "from_stranger", 1);
  if (log_due(&p->last_stranger_log_us))
    dtls_log_addr(p, G_LOG_LEVEL_WARNING, "DTLS datagram from an address that is not a peer; dropped",
                  from, "HINT", "add the sender to peers.hosts if it is a relay");
}

/* The client random of a ClientHello (after the record and handshake
 * headers and client_version), or NULL when the datagram is too short. */
static const uint8_t *
hello_random(const uint8_t *buf, size_t len)
{
  size_t off = DTLS_RECORD_HLEN + DTLS_HANDSHAKE_HLEN + 2;
  return len >= off + HELLO_RANDOM_LEN ? buf + off : NULL;
}

static void
client_hello(dtls_plugin *p, dtls_slot *slot, const struct sockaddr_in *from, const uint8_t *buf,
             size_t len)
{
  gnutls_dtls_prestate_st prestate;
  if (!dtls_cookie_check(p, from, buf, len, &prestate))
    return;
  const uint8_t *random = hello_random(buf, len);
  /* A retransmitted ClientHello of the handshake under way (same random).
   * Another random is a new handshake of a peer that restarted during
   * ours: it replaces ours at once, as it replaces a client handshake of
   * ours to the same address (the peer proved its address in the cookie
   * exchange), instead of waiting for the handshake timeout. */
  dtls_conn *pending = slot ? slot->pending : NULL;
  if (pending && pending->role == DTLS_ROLE_SERVER &&
      (!random || memcmp(random, pending->hello_random, HELLO_RANDOM_LEN) == 0)) {
    dtls_conn_feed(p, pending, buf, len);
    return;
  }
  /* Both sides opened a client handshake at once (this one out of the
   * role rule, on the peer's stray records: no_session()).  If each
   * yielded to the other's ClientHello, both would wait as servers until
   * the timeout: the side that is the client by the role rule yields, this
   * one goes on, and its ClientHello becomes the association. */
  if (pending && pending->role == DTLS_ROLE_CLIENT && !slot->initiator) {
    ss_instance_count(p->inst, "hello_crossed", 1);
    return;
  }
  if (pending)
    ss_instance_count(p->inst, "handshakes_replaced", 1);
  /* A new association; an established one stays in use until this one
   * completes, which is how a restarted peer is taken back (GnuTLS alone
   * would ignore its epoch-0 ClientHello, RFC 6347 section 4.2.8). */
  dtls_conn *conn = dtls_table_begin(p->table, from, DTLS_ROLE_SERVER, g_get_monotonic_time());
  if (!conn) {
    ss_instance_count(p->inst, "half_open_full", 1);
    return;
  }
  if (!dtls_conn_setup(p, conn)) {
    ss_instance_count(p->inst, "session_errors", 1);
    dtls_table_drop(p->table, conn);
    return;
  }
  if (random)
    memcpy(conn->hello_random, random, HELLO_RANDOM_LEN);
  gnutls_dtls_prestate_set(conn->tls, &prestate);
  ss_peer *peer = dtls_peer_of(p, from);
  if (peer && !conn->slot->current)
    ss_peer_set_state(peer, p->inst, SS_PEER_CONNECTING);
  dtls_conn_feed(p, conn, buf, len);
}

/* The association a non-ClientHello datagram belongs to.  Handshake
 * records (epoch 0, or a Finished under the new keys) go to the handshake
 * under way; application data and alerts to the established one. */
static dtls_conn *
route(dtls_slot *slot, const dtls_record_info *info)
{
  if (!slot)
    return NULL;
  if (info->cls == DTLS_CLASS_HANDSHAKE)
    return slot->pending;
  if ((info->content_type == DTLS_CT_HANDSHAKE || info->content_type == DTLS_CT_CHANGE_CIPHER) &&
      slot->pending)
    return slot->pending;
  return slot->current ? slot->current : slot->pending;
}

/* Protected records from a peer's relay port with no association here:
 * this relay restarted and the peer still holds the old one.  Or handshake
 * records (not a ClientHello) with no handshake here: this relay restarted
 * during the peer's handshake with it, and the peer retransmits its flight
 * until its handshake timeout.  Start a handshake at once instead of
 * waiting for the peer's keepalive or timeout; the peer takes our
 * ClientHello in place of its own handshake (client_hello()).  The old
 * association is replaced only if the new handshake succeeds, so a forged
 * record costs a handshake attempt at most once per timeout. */
static void
no_session(dtls_plugin *p, dtls_slot *slot, const dtls_record_info *info)
{
  ss_instance_count(p->inst, "no_session", 1);
  gint64 now = g_get_monotonic_time();
  gboolean orphan = info->cls == DTLS_CLASS_PROTECTED ||
                    (info->cls == DTLS_CLASS_HANDSHAKE && slot && !slot->current);
  if (!orphan || !slot || !slot->keep || slot->pending || now < slot->next_attempt_us)
    return;
  /* In psk mode only the client presents an identity: out of the role rule
   * this relay would be the client, and allowed_peers could not check the
   * peer's.  The peer, the client by the rule, starts again itself once
   * its keepalive finds the association gone. */
  if (!slot->initiator && p->mode == DTLS_MODE_PSK && !dtls_allowed_is_empty(p->allowed))
    return;
  slot->next_attempt_us = now + (gint64) p->handshake_timeout_s * G_USEC_PER_SEC;
  dtls_conn_initiate(p, slot, now);
}

static void
on_datagram(dtls_plugin *p, const uint8_t *buf, size_t len, const struct sockaddr_in *from)
{
  dtls_record_info info;
  if (dtls_classify(buf, len, &info) == DTLS_CLASS_MALFORMED) {
    gboolean plain = len >= SS_MESH_MAGIC_LEN && memcmp(buf, SS_MESH_MAGIC, SS_MESH_MAGIC_LEN) == 0;
    ss_instance_count(p->inst, plain ? "plaintext_refused" : "not_dtls", 1);
    return;
  }
  if (!dtls_peer_of(p, from)) {
    stranger(p, from);
    return;
  }
  dtls_slot *slot = dtls_table_lookup(p->table, from);
  if (info.cls == DTLS_CLASS_CLIENT_HELLO) {
    client_hello(p, slot, from, buf, len);
    return;
  }
  dtls_conn *conn = route(slot, &info);
  if (!conn) {
    no_session(p, slot, &info);
    return;
  }
  /* During a make-before-break overlap the peer may still send on the
   * association just replaced: a record the current one does not accept
   * (its keys do not authenticate it, GnuTLS drops it untouched) is tried
   * on the previous one.  Each record authenticates under one key only. */
  if (!dtls_conn_feed(p, conn, buf, len) && conn == slot->current && slot->previous &&
      dtls_conn_feed(p, slot->previous, buf, len))
    ss_instance_count(p->inst, "overlap_records", 1);
}

void
dtls_setup_receive(dtls_plugin *p)
{
  p->rx_buf = g_malloc((size_t) DTLS_RECV_SLOTS * DTLS_MAX_DATAGRAM);
  for (unsigned i = 0; i < DTLS_RECV_SLOTS; i++) {
    p->rx_iov[i] = (struct iovec) { p->rx_buf + (size_t) i * DTLS_MAX_DATAGRAM, DTLS_MAX_DATAGRAM };
    p->rx_msgs[i].msg_hdr = (struct msghdr) { .msg_name = &p->rx_from[i],
                                              .msg_iov = &p->rx_iov[i], .msg_iovlen = 1,
                                              .msg_control = p->rx_ctl[i].buf };
  }
}

gboolean
dtls_on_readable(gint fd, GIOCondition cond, gpointer data)
{
  dtls_plugin *p = data;
  for (int done = 0; done < DTLS_RECV_BATCH;) {
    for (unsigned i = 0; i < DTLS_RECV_SLOTS; i++) {
      p->rx_msgs[i].msg_hdr.msg_namelen = sizeof p->rx_from[i];
      p->rx_msgs[i].msg_hdr.msg_controllen = sizeof p->rx_ctl[i];
      p->rx_from[i].sin_family = AF_UNSPEC;
    }
    int n = recvmmsg(fd, p->rx_msgs, DTLS_RECV_SLOTS, MSG_DONTWAIT, NULL);
    if (n <= 0) {
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        ss_instance_count(p->inst, "receive_errors", 1);
      break;
    }
    ss_instance_note_socket_drops(p->inst, &p->rx_msgs[n - 1].msg_hdr);
    for (int i = 0; i < n; i++) {
      if ((p->rx_msgs[i].msg_hdr.msg_flags & MSG_TRUNC) || p->rx_from[i].sin_family != AF_INET)
        ss_instance_count(p->inst, "not_dtls", 1);
      else
        on_datagram(p, p->rx_iov[i].iov_base, p->rx_msgs[i].msg_len, &p->rx_from[i]);
    }
    done += n;
    if (n < DTLS_RECV_SLOTS)
      break;
  }
  return G_SOURCE_CONTINUE;
}
