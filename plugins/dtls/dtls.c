/* snowsignal - UDP broadcast relay
 * dtls.c: the "dtls" transport: the inner messages of udp-mesh ("SS" +
 * Ethernet frame) inside DTLS 1.2 associations between relays, so only
 * relays that prove a pre-shared key or an X.509 certificate inject frames,
 * and nobody on the path reads or alters them.  One non-blocking UDP
 * socket per instance; associations multiplexed by peer address
 * (session.c); no plaintext is ever accepted on its port (dispatch.c).
 *
 * Role rule: of two relays, the one with the lower address is the client,
 * so two relays starting together end with one association.  Keepalives
 * detect dead peers; keys are renewed by a fresh association on a schedule
 * (never renegotiation), make-before-break: frames go on the old one until
 * the new one is up, and both are read during the overlap.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <glib-unix.h>
#include <glib.h>

#include "dtls-plugin.h"

static const ss_plugin_key dtls_keys[] = {
  { "port", SS_KEY_INT, DTLS_DEFAULT_PORT,
    "UDP port to listen on and to reach peers at (peers written \"host:port\" override it)",
    1, 65535, { NULL, NULL } },
  { "bind_address", SS_KEY_STRING, "0.0.0.0", "Local IPv4 address of the DTLS socket", 0, 0,
    { NULL, NULL } },
  { "mode", SS_KEY_STRING, "psk",
    "\"psk\": every relay holds a pre-shared key from psk_file; \"x509\": every relay holds a "
    "certificate from ca_file's CA (cert_file, key_file)", 0, 0, { NULL, NULL } },
  { "psk_file", SS_KEY_STRING, "",
    "psk mode: file of \"identity:hexkey\" lines as made by psktool; any listed identity is "
    "accepted from peers", 0, 0, { NULL, NULL } },
  { "psk_identity", SS_KEY_STRING, "",
    "psk mode: identity this relay presents (empty: the file's first)", 0, 0, { NULL, NULL } },
  { "ca_file", SS_KEY_STRING, "", "x509 mode: PEM file of the CA(s) peer certificates must chain to",
    0, 0, { NULL, NULL } },
  { "cert_file", SS_KEY_STRING, "", "x509 mode: PEM file of this relay's certificate (chain)", 0, 0,
    { NULL, NULL } },
  { "key_file", SS_KEY_STRING, "", "x509 mode: PEM file of this relay's private key", 0, 0,
    { NULL, NULL } },
  { "allowed_peers", SS_KEY_STRING_LIST, "",
    "Empty: any peer with valid credentials. Else only these: x509 certificate names (DNS or IP "
    "subjectAltName, or CN) or SPKI pins (\"sha256:HEX\" or \"pin-sha256:BASE64\" as certtool "
    "prints them); psk identities. \"ID@HOST\" binds ID to the peer address HOST (IPv4, or a "
    "name of peers.hosts); bare ID: any address", 0, 0, { NULL, NULL } },
  { "handshake_timeout", SS_KEY_INT, "10",
    "Seconds a handshake may take before it is abandoned (a wrong key shows as a timeout)",
    1, 300, { NULL, NULL } },
  { "keepalive", SS_KEY_INT, "5",
    "Seconds of silence after which a keepalive is sent; a peer silent for 3 of these is down",
    1, 3600, { NULL, NULL } },
  { "rekey_interval", SS_KEY_INT, "3600",
    "Seconds after which the client side replaces an association by a fresh one (new keys); "
    "0 never", 0, 604800, { NULL, NULL } },
  { "max_half_open", SS_KEY_INT, "64",
    "Handshakes under way at once, each side: as server (after the cookie check; more "
    "ClientHellos are dropped) and as client (more peers wait their turn)",
    1, 65535, { NULL, NULL } },
  SS_KEY_END
};

static gboolean
read_settings(dtls_plugin *p, GError **error)
{
  ss_instance *inst = p->inst;
  const char *bind_address = ss_instance_get_string(inst, "bind_address");
  const char *mode = ss_instance_get_string(inst, "mode");
  if (inet_pton(AF_INET, bind_address, &p->bind_addr) != 1) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "bind_address '%s' (%s) is not an IPv4 address", bind_address,
                ss_instance_get_key_origin(inst, "bind_address"));
    return FALSE;
  }
  if (strcmp(mode, "psk") != 0 && strcmp(mode, "x509") != 0) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "mode '%s' (%s) must be \"psk\" or \"x509\"", mode,
                ss_instance_get_key_origin(inst, "mode"));
    return FALSE;
  }
  p->mode = mode[0] == 'p' ? DTLS_MODE_PSK : DTLS_MODE_X509;
  p->port = (uint16_t) ss_instance_get_int(inst, "port");
  p->psk_file = g_strdup(ss_instance_get_string(inst, "psk_file"));
  p->psk_identity = g_strdup(ss_instance_get_string(inst, "psk_identity"));
  p->ca_file = g_strdup(ss_instance_get_string(inst, "ca_file"));
  p->cert_file = g_strdup(ss_instance_get_string(inst, "cert_file"));
  p->key_file = g_strdup(ss_instance_get_string(inst, "key_file"));
  p->allowed_peers = g_strdupv((char **) ss_instance_get_string_list(inst, "allowed_peers"));
  p->allowed = dtls_allowed_new((const char *const *) p->allowed_peers,
                                ss_instance_get_key_origin(inst, "allowed_peers"), error);
  if (!p->allowed)
    return FALSE;
  p->handshake_timeout_s = (guint) ss_instance_get_int(inst, "handshake_timeout");
  p->keepalive_s = (guint) ss_instance_get_int(inst, "keepalive");
  p->rekey_s = (guint) ss_instance_get_int(inst, "rekey_interval");
  p->max_half_open = (guint) ss_instance_get_int(inst, "max_half_open");
  return TRUE;
}

static void
dtls_free(void *data)
{
  dtls_plugin *p = data;
  dtls_creds_unref(p->creds);
  dtls_allowed_free(p->allowed);
  g_free(p->psk_file);
  g_free(p->psk_identity);
  g_free(p->ca_file);
  g_free(p->cert_file);
  g_free(p->key_file);
  g_strfreev(p->allowed_peers);
  g_free(p);
}

/* Credentials are loaded here, so --check-config finds a bad key file. */
static void *
dtls_new(ss_instance *inst, GError **error)
{
  dtls_plugin *p = g_new0(dtls_plugin, 1);
  p->inst = inst;
  p->domain = ss_instance_get_log_domain(inst);
  p->fd = -1;
  if (!read_settings(p, error) || !(p->creds = dtls_creds_load(p, error))) {
    dtls_free(p);
    return NULL;
  }
  return p;
}

/* The role rule: this relay is the client towards @slot when its own
 * address (the one the kernel picks to reach the peer) is the lower. */
static gboolean
is_initiator(const dtls_plugin *p, const dtls_slot *slot)
{
  struct sockaddr_in local = { .sin_family = AF_INET, .sin_addr = p->bind_addr };
  if (p->bind_addr.s_addr == htonl(INADDR_ANY)) {
    socklen_t len = sizeof local;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    gboolean ok = fd >= 0 && connect(fd, (const struct sockaddr *) &slot->addr, sizeof slot->addr) == 0 &&
                  getsockname(fd, (struct sockaddr *) &local, &len) == 0;
    if (fd >= 0)
      close(fd);
    if (!ok)
      return TRUE;
  }
  uint32_t mine = ntohl(local.sin_addr.s_addr), theirs = ntohl(slot->addr.sin_addr.s_addr);
  return mine != theirs ? mine < theirs : p->port < ntohs(slot->addr.sin_port);
}

static struct sockaddr_in
peer_sockaddr(const dtls_plugin *p, const ss_peer *peer)
{
  struct sockaddr_in to = *ss_peer_get_address(peer);
  if (to.sin_port == 0)
    to.sin_port = htons(p->port);
  memset(to.sin_zero, 0, sizeof to.sin_zero);
  return to;
}

static void
dtls_peers_changed(void *data)
{
  dtls_plugin *p = data;
  if (!p->table)
    return;
  g_autoptr(GPtrArray) slots = dtls_table_slots(p->table);
  for (guint i = 0; i < slots->len; i++) {
    dtls_slot *slot = g_ptr_array_index(slots, i);
    slot->keep = FALSE;
    if (!dtls_peer_of(p, &slot->addr))
      dtls_table_remove(p->table, slot);
  }
  const GPtrArray *peers = ss_instance_get_peers(p->inst);
  gint64 now = g_get_monotonic_time();
  for (guint i = 0; i < peers->len; i++) {
    struct sockaddr_in to = peer_sockaddr(p, g_ptr_array_index(peers, i));
    dtls_slot *slot = dtls_table_ensure(p->table, &to);
    slot->keep = TRUE;
    slot->initiator = is_initiator(p, slot);
    if (slot->initiator && !slot->current && !slot->pending)
      dtls_conn_initiate(p, slot, now);
  }
  dtls_timer_update(p);
}

static gboolean
open_socket(dtls_plugin *p, GError **error)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(p->port), .sin_addr = p->bind_addr };
  p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (p->fd >= 0 && bind(p->fd, (struct sockaddr *) &sin, sizeof sin) == 0) {
    ss_instance_set_receive_buffer(p->inst, p->fd, DTLS_RECV_BUFFER_BYTES);
    return TRUE;
  }
  int e = errno;
  char addr[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &p->bind_addr, addr, sizeof addr);
  g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot listen on %s:%u: %s%s", addr,
              p->port, g_strerror(e),
              e == EADDRINUSE ? "; is another relay running, or set another port?" : "");
  return FALSE;
}

static void dtls_stop(void *data);

static gboolean
dtls_start(void *data, GError **error)
{
  dtls_plugin *p = data;
  if (!open_socket(p, error) || !dtls_cookie_init(p, error)) {
    dtls_stop(p);
    return FALSE;
  }
  p->table = dtls_table_new(p->max_half_open, dtls_conn_free);
  dtls_setup_receive(p);
  dtls_txq_setup(p);
  p->plain_buf = g_malloc(DTLS_MAX_PLAINTEXT);
  p->tx_buf = g_malloc(DTLS_MAX_PLAINTEXT);
  p->source = g_unix_fd_source_new(p->fd, G_IO_IN);
  g_source_set_callback(p->source, G_SOURCE_FUNC(dtls_on_readable), p, NULL);
  /* Not blocked while dispatching (saves GLib's eventfd round trip per
   * wake-up, as udp-mesh does); dtls_on_readable() never recurses. */
  g_source_set_can_recurse(p->source, TRUE);
  g_source_attach(p->source, ss_instance_get_context(p->inst));
  p->timer_due_us = -1; /* armed when a deadline appears (timer.c) */
  return TRUE;
}

static void
dtls_stop(void *data)
{
  dtls_plugin *p = data;
  dtls_timer_stop(p);
  if (p->source)
    g_source_destroy(p->source);
  g_clear_pointer(&p->source, g_source_unref);
  g_clear_pointer(&p->table, dtls_table_free);
  dtls_txq_clear(p);
  if (p->fd >= 0)
    close(p->fd);
  p->fd = -1;
  dtls_cookie_clear(p);
  g_clear_pointer(&p->rx_buf, g_free);
  g_clear_pointer(&p->plain_buf, g_free);
  g_clear_pointer(&p->tx_buf, g_free);
}

static dtls_slot *
ready_slot(dtls_plugin *p, const ss_peer *peer)
{
  struct sockaddr_in to = peer_sockaddr(p, peer);
  dtls_slot *slot = dtls_table_lookup(p->table, &to);
  if (slot && slot->current)
    return slot;
  /* A peer that connected from another port (not a relay's own socket). */
  return dtls_table_find_established(p->table, to.sin_addr.s_addr);
}

static void
oversized(dtls_plugin *p, size_t len)
{
  ss_instance_count(p->inst, "oversized", 1);
  gint64 now = g_get_monotonic_time();
  if (p->last_oversize_log_us && now - p->last_oversize_log_us < DTLS_LOG_INTERVAL_US)
    return;
  p->last_oversize_log_us = now;
  char size[32];
  g_snprintf(size, sizeof size, "%zu", len);
  SS_LOG(p->domain, G_LOG_LEVEL_WARNING, "frame larger than one DTLS record holds; not sent",
         "INSTANCE", ss_instance_get_name(p->inst), "SIZE", size,
         "HINT", "frames up to 16382 bytes travel over dtls; use udp-mesh for larger ones");
}

static void
dtls_send(void *data, const ss_packet *pkt)
{
  dtls_plugin *p = data;
  size_t len = SS_MESH_MAGIC_LEN + pkt->len;
  if (len > DTLS_MAX_PLAINTEXT) {
    oversized(p, len);
    return;
  }
  memcpy(p->tx_buf, SS_MESH_MAGIC, SS_MESH_MAGIC_LEN);
  memcpy(p->tx_buf + SS_MESH_MAGIC_LEN, pkt->frame, pkt->len);
  const GPtrArray *peers = ss_instance_get_peers(p->inst);
  p->tx_queueing = TRUE; /* sent by dtls_flush() */
  for (guint i = 0; i < peers->len; i++) {
    ss_peer *peer = g_ptr_array_index(peers, i);
    dtls_slot *slot = ready_slot(p, peer);
    if (!slot) {
      ss_instance_count(p->inst, "peer_not_ready", 1);
    } else if (dtls_conn_send(p, slot->current, p->tx_buf, len)) {
      ss_instance_count(p->inst, "sent", 1);
      ss_peer_note_sent(peer, p->inst);
    } else {
      ss_peer_note_error(peer, p->inst, "DTLS record send failed");
    }
  }
  p->tx_queueing = FALSE;
}

static void
dtls_flush(void *data)
{
  dtls_plugin *p = data;
  if (p->txq_len)
    dtls_txq_flush(p);
}

/* Ends what the credentials read now no longer allow: handshakes under
 * way (begun with the old ones; the client side starts again with the new
 * ones) and associations whose peer's identity, or this relay's own PSK,
 * is not what it was made with. */
static void
recheck_associations(dtls_plugin *p)
{
  g_autoptr(GPtrArray) slots = dtls_table_slots(p->table);
  for (guint i = 0; i < slots->len; i++) {
    struct sockaddr_in addr = ((dtls_slot *) g_ptr_array_index(slots, i))->addr;
    dtls_slot *slot = dtls_table_lookup(p->table, &addr);
    if (slot && slot->pending)
      dtls_conn_close(p, slot->pending, "credentials changed during the handshake");
    for (int which = 0; which < 2; which++) {
      /* Looked up again: a close may free the slot. */
      if (!(slot = dtls_table_lookup(p->table, &addr)))
        break;
      dtls_conn *conn = which == 0 ? slot->current : slot->previous;
      const char *why = NULL;
      if (!conn || dtls_creds_still_valid(p, conn, &why))
        continue;
      ss_instance_count(p->inst, "revoked_associations", 1);
      dtls_log_addr(p, G_LOG_LEVEL_WARNING, "association no longer valid after a reload; closed",
                    &addr, "REASON", why);
      dtls_conn_close(p, conn, why);
    }
  }
  dtls_timer_update(p);
}

/* The settings are the same, but the files may not be: @fresh read them
 * again.  Associations still valid carry on; new handshakes use what the
 * files hold now. */
static void
dtls_reload(void *data, void *fresh_data)
{
  dtls_plugin *p = data, *fresh = fresh_data;
  if (dtls_creds_same(p->creds, fresh->creds)) {
    SS_LOG(p->domain, G_LOG_LEVEL_DEBUG, "credentials files unchanged",
           "INSTANCE", ss_instance_get_name(p->inst));
    return;
  }
  dtls_creds *old = p->creds;
  p->creds = fresh->creds;
  fresh->creds = old; /* released with @fresh; associations keep their reference */
  ss_instance_count(p->inst, "credentials_reloaded", 1);
  SS_LOG(p->domain, G_LOG_LEVEL_MESSAGE, "credentials files changed; associations checked again",
         "INSTANCE", ss_instance_get_name(p->inst));
  if (p->table)
    recheck_associations(p);
}

static const ss_plugin_desc dtls_desc = {
  SS_PLUGIN_DESC_HEADER,
  .kind = SS_PLUGIN_TRANSPORT,
  .name = "dtls",
  .version = PACKAGE_VERSION,
  .description = "Carries frames to peer relays inside DTLS 1.2 (PSK or X.509, AES-GCM): "
                 "only authenticated relays inject, the mesh is encrypted",
  .keys = dtls_keys,
  .instance_new = dtls_new,
  .instance_start = dtls_start,
  .instance_stop = dtls_stop,
  .instance_free = dtls_free,
  .send = dtls_send,
  .flush = dtls_flush,
  .peers_changed = dtls_peers_changed,
  .instance_reload = dtls_reload,
};

SS_PLUGIN_DEFINE(dtls, dtls_desc)
