/* snowsignal - UDP broadcast relay
 * conn.c: one DTLS association of the dtls transport: its GnuTLS session
 * over the instance's shared socket (push/pull functions; the datagram
 * being read is handed in by dispatch.c), the non-blocking handshake with
 * its retransmission timer, and the records carried once it is up.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "dtls-plugin.h"

#define FAIL_LOG_INTERVAL_US G_USEC_PER_SEC

static ssize_t
conn_push(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
  dtls_conn *conn = ptr;
  dtls_plugin *p = conn->owner;
  if (p->tx_queueing && dtls_txq_push(p, &conn->slot->addr, data, len))
    return (ssize_t) len;
  ssize_t n = sendto(p->fd, data, len, MSG_DONTWAIT, (const struct sockaddr *) &conn->slot->addr,
                     sizeof conn->slot->addr);
  if (n >= 0)
    return n;
  /* A full socket buffer loses the datagram, as the network may: DTLS
   * retransmits handshakes and the mesh tolerates loss of frames. */
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
    ss_instance_count(p->inst, "send_dropped", 1);
    return (ssize_t) len;
  }
  gnutls_transport_set_errno(conn->tls, errno);
  return -1;
}

static ssize_t
conn_pull(gnutls_transport_ptr_t ptr, void *data, size_t len)
{
  dtls_conn *conn = ptr;
  if (!conn->rx) {
    gnutls_transport_set_errno(conn->tls, EAGAIN);
    return -1;
  }
  size_t n = MIN(len, conn->rx_len);
  memcpy(data, conn->rx, n);
  conn->rx = NULL;
  return (ssize_t) n;
}

static int
conn_pull_timeout(gnutls_transport_ptr_t ptr, unsigned ms)
{
  const dtls_conn *conn = ptr;
  return conn->rx ? 1 : 0;
}

gboolean
dtls_conn_setup(dtls_plugin *p, dtls_conn *conn)
{
  gnutls_session_t s;
  unsigned flags = GNUTLS_DATAGRAM | GNUTLS_NONBLOCK |
                   (conn->role == DTLS_ROLE_SERVER ? GNUTLS_SERVER : GNUTLS_CLIENT);
  conn->owner = p;
  if (gnutls_init(&s, flags) < 0)
    return FALSE;
  conn->tls = s;
  conn->creds = dtls_creds_ref(p->creds);
  if (dtls_creds_apply(conn->creds, s, conn->role) < 0)
    return FALSE;
  gnutls_session_set_ptr(s, conn);
  gnutls_transport_set_ptr(s, conn);
  gnutls_transport_set_push_function(s, conn_push);
  gnutls_transport_set_pull_function(s, conn_pull);
  gnutls_transport_set_pull_timeout_function(s, conn_pull_timeout);
  gnutls_dtls_set_mtu(s, DTLS_HANDSHAKE_MTU);
  gnutls_dtls_set_timeouts(s, DTLS_RETRANS_MS, p->handshake_timeout_s * 1000);
  return TRUE;
}

void
dtls_conn_free(dtls_conn *conn)
{
  if (conn->tls)
    gnutls_deinit(conn->tls);
  conn->tls = NULL;
  /* After the session: GnuTLS points into these until it is gone. */
  g_clear_pointer(&conn->creds, dtls_creds_unref);
}

/* Armed only while a handshake is under way: GnuTLS says when its next
 * flight is due (RFC 6347 section 4.2.4); timer.c acts on it. */
static void
retransmit_arm(dtls_conn *conn)
{
  unsigned ms = gnutls_dtls_get_timeout(conn->tls);
  conn->retrans_due_us = g_get_monotonic_time() + (gint64) MAX(ms, 1) * 1000;
}

static void
set_peer_state(dtls_plugin *p, dtls_slot *slot, ss_peer_state state)
{
  ss_peer *peer = dtls_peer_of(p, &slot->addr);
  if (peer)
    ss_peer_set_state(peer, p->inst, state);
}

static void
put_probe(uint8_t msg[DTLS_PROBE_LEN], char type, uint32_t seq)
{
  memcpy(msg, DTLS_KEEPALIVE_MAGIC, SS_MESH_MAGIC_LEN);
  msg[2] = (uint8_t) type;
  msg[3] = (uint8_t) (seq >> 24);
  msg[4] = (uint8_t) (seq >> 16);
  msg[5] = (uint8_t) (seq >> 8);
  msg[6] = (uint8_t) seq;
}

void
dtls_conn_probe(dtls_plugin *p, dtls_conn *conn, gint64 now)
{
  ss_peer *peer = dtls_peer_of(p, &conn->slot->addr);
  if (conn->probe_sent_us && peer)
    ss_peer_note_heartbeat(peer, p->inst, -1);
  uint8_t msg[DTLS_PROBE_LEN];
  conn->probe_seq++;
  conn->probe_sent_us = now;
  put_probe(msg, DTLS_PROBE_PING, conn->probe_seq);
  dtls_conn_send(p, conn, msg, sizeof msg);
}

/* A keepalive probe or its reply: the round trip goes to the core's peer
 * health (ss_peer_note_heartbeat()), timed by this end's own record. */
static void
handle_probe(dtls_plugin *p, dtls_conn *conn, const uint8_t *msg)
{
  uint32_t seq = ((uint32_t) msg[3] << 24) | ((uint32_t) msg[4] << 16) |
                 ((uint32_t) msg[5] << 8) | msg[6];
  if (msg[2] == DTLS_PROBE_PING) {
    uint8_t reply[DTLS_PROBE_LEN];
    put_probe(reply, DTLS_PROBE_REPLY, seq);
    dtls_conn_send(p, conn, reply, sizeof reply);
    return;
  }
  ss_peer *peer = dtls_peer_of(p, &conn->slot->addr);
  if (msg[2] != DTLS_PROBE_REPLY || !conn->probe_sent_us || seq != conn->probe_seq || !peer)
    return;
  ss_peer_note_heartbeat(peer, p->inst, g_get_monotonic_time() - conn->probe_sent_us);
  conn->probe_sent_us = 0;
}

static void
handle_inner(dtls_plugin *p, dtls_conn *conn, const uint8_t *msg, size_t len)
{
  if (len == SS_MESH_MAGIC_LEN && memcmp(msg, DTLS_KEEPALIVE_MAGIC, len) == 0)
    return;
  if (len == DTLS_PROBE_LEN && memcmp(msg, DTLS_KEEPALIVE_MAGIC, SS_MESH_MAGIC_LEN) == 0) {
    handle_probe(p, conn, msg);
    return;
  }
  ss_peer *peer = dtls_peer_of(p, &conn->slot->addr);
  if (!peer) {
    ss_instance_count(p->inst, "from_stranger", 1);
    return;
  }
  /* Decoded, counted (bad_framing, received, invalid_frame) and noted on
   * the peer once, by the core, as for udp-mesh. */
  ss_instance_deliver_message(p->inst, peer, msg, len);
}

/* Reads the records of the datagram handed in.  FALSE when none was
 * accepted: it was not protected by this association's keys (or it was a
 * replay), and @conn is untouched. */
static gboolean
recv_records(dtls_plugin *p, dtls_conn *conn)
{
  gboolean accepted = FALSE;
  for (;;) {
    ssize_t n = gnutls_record_recv(conn->tls, p->plain_buf, DTLS_MAX_PLAINTEXT);
    if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
      return accepted;
    if (n == 0 || (n < 0 && gnutls_error_is_fatal((int) n))) {
      dtls_conn_close(p, conn, n == 0 ? "the peer closed the association" : gnutls_strerror((int) n));
      return TRUE;
    }
    accepted = TRUE;
    if (n < 0) {
      /* Forged or replayed records are dropped by GnuTLS without a word;
       * what reaches here (a renegotiation request) is refused. */
      ss_instance_count(p->inst, "record_errors", 1);
      continue;
    }
    conn->last_rx_us = g_get_monotonic_time();
    handle_inner(p, conn, p->plain_buf, (size_t) n);
  }
}

static void
established(dtls_plugin *p, dtls_conn *conn)
{
  dtls_slot *slot = conn->slot;
  gboolean rekey = slot->current != NULL;
  conn->retrans_due_us = 0;
  /* Whole frames up to a record's plaintext limit from now on; the kernel
   * fragments datagrams above the path MTU. */
  gnutls_dtls_set_data_mtu(conn->tls, DTLS_MAX_PLAINTEXT);
  dtls_table_established(p->table, conn);
  /* Make-before-break: frames went on the old association until now.  The
   * client ends its handshake last (the server's Finished), so the server
   * already reads the new one: the old one is closed towards it.  The
   * server keeps reading the old one (dispatch.c) until this close_notify
   * or the end of the overlap (dtls.c). */
  if (slot->previous && conn->role == DTLS_ROLE_CLIENT)
    gnutls_bye(slot->previous->tls, GNUTLS_SHUT_WR);
  conn->established_us = conn->last_rx_us = conn->last_tx_us = g_get_monotonic_time();
  slot->failures = 0;
  set_peer_state(p, slot, SS_PEER_UP);
  ss_instance_count(p->inst, rekey ? "rekeys" : "associations", 1);
  g_autofree char *identity = dtls_creds_peer_identity(conn->creds, conn->tls);
  g_autofree char *desc = gnutls_session_get_desc(conn->tls);
  char role[64];
  g_snprintf(role, sizeof role, "%s%s", conn->role == DTLS_ROLE_CLIENT ? "client" : "server",
             rekey ? ", replaces the previous association" : "");
  dtls_log_addr(p, rekey ? G_LOG_LEVEL_DEBUG : G_LOG_LEVEL_INFO, "association established",
                &slot->addr, "IDENTITY", identity);
  SS_LOG(p->domain, G_LOG_LEVEL_DEBUG, "association parameters", "ROLE", role, "SESSION", desc,
         "INSTANCE", ss_instance_get_name(p->inst));
  if (gnutls_record_check_pending(conn->tls) > 0)
    recv_records(p, conn);
}

static void
failed(dtls_plugin *p, dtls_conn *conn, int err)
{
  dtls_slot *slot = conn->slot;
  gint64 now = g_get_monotonic_time();
  const char *msg = "handshake failed";
  gboolean auth = conn->auth_failed || err == GNUTLS_E_FATAL_ALERT_RECEIVED ||
                  err == GNUTLS_E_CERTIFICATE_ERROR || err == GNUTLS_E_DECRYPTION_FAILED;
  if (err == GNUTLS_E_TIMEDOUT) {
    /* A wrong PSK brings no alert: the Finished message cannot be read,
     * is dropped, and both sides wait (measured with GnuTLS 3.7.9). */
    msg = conn->heard ? "handshake timed out after the peer answered: likely a key mismatch"
                      : "handshake timed out: no answer from the peer";
    auth |= conn->heard;
  }
  const char *detail = err == GNUTLS_E_FATAL_ALERT_RECEIVED
                           ? gnutls_alert_get_name(gnutls_alert_get(conn->tls))
                           : gnutls_strerror(err);
  ss_instance_count(p->inst, "handshake_failures", 1);
  if (now - p->last_fail_log_us >= FAIL_LOG_INTERVAL_US) {
    p->last_fail_log_us = now;
    dtls_log_addr(p, G_LOG_LEVEL_WARNING, msg, &slot->addr, "ERROR", detail);
  }
  if (conn->role == DTLS_ROLE_CLIENT) {
    slot->failures = MIN(slot->failures + 1, 8u);
    slot->next_attempt_us = now + MIN((gint64) 1 << slot->failures, DTLS_RETRY_MAX_S) * G_USEC_PER_SEC;
  }
  if (!slot->current)
    set_peer_state(p, slot, auth ? SS_PEER_AUTH_FAILED : SS_PEER_DOWN);
  dtls_table_drop(p->table, conn);
}

void
dtls_conn_handshake(dtls_plugin *p, dtls_conn *conn)
{
  int r = gnutls_handshake(conn->tls);
  if (r == 0)
    established(p, conn);
  else if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED || !gnutls_error_is_fatal(r))
    retransmit_arm(conn);
  else
    failed(p, conn, r);
  dtls_timer_update(p);
}

gboolean
dtls_conn_feed(dtls_plugin *p, dtls_conn *conn, const uint8_t *buf, size_t len)
{
  conn->rx = buf;
  conn->rx_len = len;
  if (conn->established)
    return recv_records(p, conn);
  conn->heard = TRUE;
  dtls_conn_handshake(p, conn);
  return TRUE;
}

gboolean
dtls_conn_send(dtls_plugin *p, dtls_conn *conn, const uint8_t *msg, size_t len)
{
  ssize_t r = gnutls_record_send(conn->tls, msg, len);
  if (r >= 0) {
    conn->last_tx_us = g_get_monotonic_time();
    return TRUE;
  }
  ss_instance_count(p->inst, r == GNUTLS_E_LARGE_PACKET ? "oversized" : "send_errors", 1);
  return FALSE;
}

void
dtls_conn_close(dtls_plugin *p, dtls_conn *conn, const char *why)
{
  dtls_slot *slot = conn->slot;
  if (slot->previous == conn) {
    /* The end of a make-before-break overlap: nothing to tell. */
    dtls_log_addr(p, G_LOG_LEVEL_DEBUG, "previous association closed", &slot->addr, "REASON", why);
    dtls_table_drop(p->table, conn);
    dtls_timer_update(p);
    return;
  }
  if (conn->established) {
    gnutls_bye(conn->tls, GNUTLS_SHUT_WR);
    dtls_log_addr(p, G_LOG_LEVEL_INFO, "association closed", &conn->slot->addr, "REASON", why);
  }
  gboolean last = (slot->current == conn && !slot->pending) || (slot->pending == conn && !slot->current);
  if (last)
    set_peer_state(p, slot, SS_PEER_DOWN);
  dtls_table_drop(p->table, conn);
  dtls_timer_update(p);
}

void
dtls_conn_initiate(dtls_plugin *p, dtls_slot *slot, gint64 now_us)
{
  dtls_conn *conn = dtls_table_begin(p->table, &slot->addr, DTLS_ROLE_CLIENT, now_us);
  if (!conn) {
    /* max_half_open client handshakes are under way: this peer waits for
     * a place (the timer tries it again, never in a busy loop). */
    ss_instance_count(p->inst, "client_handshakes_deferred", 1);
    slot->next_attempt_us = now_us + DTLS_RETRY_FLOOR_MS * 1000;
    dtls_timer_update(p);
    return;
  }
  if (!dtls_conn_setup(p, conn)) {
    ss_instance_count(p->inst, "session_errors", 1);
    struct sockaddr_in addr = slot->addr;
    dtls_table_drop(p->table, conn);
    if ((slot = dtls_table_lookup(p->table, &addr)))
      slot->next_attempt_us = now_us + G_USEC_PER_SEC;
    dtls_timer_update(p);
    return;
  }
  if (!slot->current)
    set_peer_state(p, slot, SS_PEER_CONNECTING);
  dtls_conn_handshake(p, conn);
}
