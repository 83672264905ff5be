/* snowsignal - UDP broadcast relay
 * hmac-mesh.c: an example transport plugin, built outside the snowsignal
 * tree against the installed SDK (see README and Makefile in this folder).
 *
 * "hmac-mesh" carries each relayed frame to every peer relay as one UDP
 * datagram: the mesh message of udp-mesh ("SS" and the Ethernet frame)
 * followed by an HMAC-SHA256 of that message under a key all the relays
 * share.  A datagram is delivered only when it comes from a peer's address
 * and its HMAC is right, so a host that can reach the port but does not
 * hold the key cannot make the relays broadcast anything.  It is not
 * encrypted and a recorded datagram can be replayed (the core emits a
 * frame once per two seconds at most): the dtls transport does both.
 *
 *   send()          sign the frame once, queue the datagram
 *   flush()         send every queued datagram to every peer
 *   peers_changed() rebuild the list of destinations
 *   on_readable()   a socket source on the relay's main context: check
 *                   the sender and the HMAC, hand the message to the core
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <glib-unix.h>

#include <snowsignal/snowsignal.h>

#define HMAC_MESH_VERSION "1.0.0"
#define MAC_LEN 32              /* HMAC-SHA256 */
#define MIN_KEY_LEN 16          /* bytes; shorter keys are guessable */
#define DATAGRAM_MAX (SS_MESH_MAGIC_LEN + SS_FRAME_MAX + MAC_LEN)
#define RECV_BATCH 64           /* datagrams read per wake-up before yielding */
#define QUEUE_FLUSH_BYTES 65536 /* send() flushes itself past this much */
#define UDP_PAYLOAD_MAX 65507   /* 65535 - IPv4 header - UDP header */

typedef struct {
  ss_peer *peer;
  struct sockaddr_in to;        /* the peer's address and the port to use */
} destination;

typedef struct {
  ss_instance *inst;
  const char *domain;
  uint16_t port;
  GBytes *key;
  int fd;
  GSource *source;
  uint8_t *rx_buf;              /* DATAGRAM_MAX bytes, while started */
  GArray *dests;                /* destination, rebuilt by peers_changed() */
  GByteArray *queue;            /* datagrams: uint32 length, then the bytes */
  ss_log_limit stranger_log;    /* zeroed: a line at most every 10 s */
  ss_log_limit bad_mac_log;
} hmac_mesh;

static GQuark
hmac_mesh_error_quark(void)
{
  return g_quark_from_static_string("snowsignal-hmac-mesh-error");
}

/* The key file's bytes, a trailing newline left out. */
static GBytes *
read_key(ss_instance *inst, GError **error)
{
  const char *path = ss_instance_get_string(inst, "key_file");
  gchar *text;
  gsize len;
  GError *local = NULL;
  if (!g_file_get_contents(path, &text, &len, &local)) {
    g_set_error(error, hmac_mesh_error_quark(), 0, "%s: key_file: %s",
                ss_instance_get_key_origin(inst, "key_file"), local->message);
    g_error_free(local);
    return NULL;
  }
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
    len--;
  if (len < MIN_KEY_LEN) {
    g_set_error(error, hmac_mesh_error_quark(), 0,
                "%s: key_file %s holds %zu bytes, fewer than %d; make one with "
                "`head -c 32 /dev/urandom | base64 > %s` and copy it to every relay",
                ss_instance_get_key_origin(inst, "key_file"), path, (size_t) len,
                MIN_KEY_LEN, path);
    g_free(text);
    return NULL;
  }
  return g_bytes_new_take(text, len);
}

static void *
hmac_mesh_new(ss_instance *inst, GError **error)
{
  GBytes *key = read_key(inst, error);
  if (!key)
    return NULL;
  hmac_mesh *m = g_new0(hmac_mesh, 1);
  m->inst = inst;
  m->domain = ss_instance_get_log_domain(inst);
  m->port = (uint16_t) ss_instance_get_int(inst, "port");
  m->key = key;
  m->fd = -1;
  m->dests = g_array_new(FALSE, FALSE, sizeof(destination));
  m->queue = g_byte_array_new();
  return m;
}

static void
hmac_mesh_free(void *state)
{
  hmac_mesh *m = state;
  g_bytes_unref(m->key);
  g_array_unref(m->dests);
  g_byte_array_unref(m->queue);
  g_free(m);
}

/* Settings unchanged on reload: take the key file's content as it is now. */
static void
hmac_mesh_reload(void *state, void *fresh)
{
  hmac_mesh *m = state, *f = fresh;
  GBytes *old = m->key;
  m->key = f->key;
  f->key = old;
}

/* HMAC-SHA256 of @len bytes of @msg into @mac.  GHmac allocates a little
 * per call: enough for search traffic; a plugin for higher rates would use
 * a crypto library's context that can be reset. */
static void
compute_mac(const hmac_mesh *m, const uint8_t *msg, size_t len, uint8_t mac[MAC_LEN])
{
  gsize key_len, mac_len = MAC_LEN;
  const guchar *key = g_bytes_get_data(m->key, &key_len);
  GHmac *h = g_hmac_new(G_CHECKSUM_SHA256, key, key_len);
  g_hmac_update(h, msg, (gssize) len);
  g_hmac_get_digest(h, mac, &mac_len);
  g_hmac_unref(h);
}

/* Compares in time independent of where they differ, so that a forger
 * cannot learn the right HMAC a byte at a time. */
static gboolean
mac_equal(const uint8_t *a, const uint8_t *b)
{
  uint8_t diff = 0;
  for (size_t i = 0; i < MAC_LEN; i++)
    diff |= a[i] ^ b[i];
  return diff == 0;
}

static void
handle_datagram(hmac_mesh *m, const uint8_t *buf, size_t len, const struct sockaddr_in *from)
{
  char addr[INET_ADDRSTRLEN];
  ss_peer *peer = ss_instance_find_peer(m->inst, (const struct sockaddr *) from, sizeof *from);
  if (!peer) {
    ss_instance_count(m->inst, "from_stranger", 1);
    inet_ntop(AF_INET, &from->sin_addr, addr, sizeof addr);
    SS_LOG_LIMITED(&m->stranger_log, m->domain, G_LOG_LEVEL_WARNING,
                   "datagram from an address that is not a peer; dropped",
                   "INSTANCE", ss_instance_get_name(m->inst), "FROM", addr);
    return;
  }
  uint8_t mac[MAC_LEN];
  if (len >= MAC_LEN)
    compute_mac(m, buf, len - MAC_LEN, mac);
  if (len < MAC_LEN || !mac_equal(mac, buf + len - MAC_LEN)) {
    ss_instance_count(m->inst, "bad_mac", 1);
    SS_LOG_LIMITED(&m->bad_mac_log, m->domain, G_LOG_LEVEL_WARNING,
                   "datagram from a peer with a wrong HMAC; dropped",
                   "INSTANCE", ss_instance_get_name(m->inst), "PEER", ss_peer_get_name(peer),
                   "HINT", "every relay of the mesh needs the same key_file content");
    return;
  }
  /* What is left is a mesh message: the core checks the "SS", counts it
   * (received, bad_framing, invalid_frame), notes it on the peer and runs
   * the inbound chain. */
  ss_instance_deliver_message(m->inst, peer, buf, len - MAC_LEN);
}

static gboolean
on_readable(gint fd, GIOCondition cond, gpointer data)
{
  hmac_mesh *m = data;
  for (int i = 0; i < RECV_BATCH; i++) {
    struct sockaddr_in from;
    socklen_t from_len = sizeof from;
    ssize_t n = recvfrom(fd, m->rx_buf, DATAGRAM_MAX, MSG_DONTWAIT,
                         (struct sockaddr *) &from, &from_len);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        ss_instance_count(m->inst, "receive_errors", 1);
      break;
    }
    handle_datagram(m, m->rx_buf, (size_t) n, &from);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
hmac_mesh_start(void *state, GError **error)
{
  hmac_mesh *m = state;
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(m->port),
                             .sin_addr.s_addr = htonl(INADDR_ANY) };
  m->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (m->fd < 0 || bind(m->fd, (struct sockaddr *) &sin, sizeof sin) < 0) {
    int e = errno;
    g_set_error(error, hmac_mesh_error_quark(), 0, "cannot listen on UDP port %u: %s%s",
                m->port, g_strerror(e),
                e == EADDRINUSE ? "; is another relay running, or set another port?" : "");
    if (m->fd >= 0)
      close(m->fd);
    m->fd = -1;
    return FALSE;
  }
  m->rx_buf = g_malloc(DATAGRAM_MAX);
  m->source = g_unix_fd_source_new(m->fd, G_IO_IN);
  g_source_set_callback(m->source, G_SOURCE_FUNC(on_readable), m, NULL);
  g_source_attach(m->source, ss_instance_get_context(m->inst));
  char port[8];
  g_snprintf(port, sizeof port, "%u", m->port);
  SS_LOG(m->domain, G_LOG_LEVEL_INFO, "listening for signed mesh datagrams",
         "INSTANCE", ss_instance_get_name(m->inst), "PORT", port);
  return TRUE;
}

/* Sends each queued datagram to each destination. */
static void
hmac_mesh_flush(void *state)
{
  hmac_mesh *m = state;
  for (guint off = 0; off < m->queue->len;) {
    uint32_t len;
    memcpy(&len, m->queue->data + off, sizeof len);
    const uint8_t *datagram = m->queue->data + off + sizeof len;
    off += (guint) (sizeof len + len);
    for (guint i = 0; i < m->dests->len; i++) {
      destination *d = &g_array_index(m->dests, destination, i);
      if (sendto(m->fd, datagram, len, MSG_DONTWAIT, (struct sockaddr *) &d->to,
                 sizeof d->to) == (ssize_t) len) {
        ss_instance_count(m->inst, "sent", 1);
        ss_peer_note_sent(d->peer, m->inst);    /* also marks it up */
      } else {
        ss_instance_count(m->inst, "send_errors", 1);
        ss_peer_note_error(d->peer, m->inst, g_strerror(errno));  /* logs on change */
        ss_peer_set_state(d->peer, m->inst, SS_PEER_DOWN);
      }
    }
  }
  g_byte_array_set_size(m->queue, 0);           /* keeps the memory */
}

static void
hmac_mesh_stop(void *state)
{
  hmac_mesh *m = state;
  if (m->source) {
    g_source_destroy(m->source);
    g_clear_pointer(&m->source, g_source_unref);
  }
  if (m->fd >= 0) {
    hmac_mesh_flush(m);
    close(m->fd);
    m->fd = -1;
  }
  g_clear_pointer(&m->rx_buf, g_free);
}

/* The frame is valid only during the call: it is copied into the queue,
 * as "SS", the frame and their HMAC, behind its length. */
static void
hmac_mesh_send(void *state, const ss_packet *pkt)
{
  hmac_mesh *m = state;
  if (m->fd < 0 || m->dests->len == 0)
    return;
  uint32_t len = (uint32_t) (SS_MESH_MAGIC_LEN + pkt->len + MAC_LEN);
  if (len > UDP_PAYLOAD_MAX) {                  /* a reassembled datagram near 64 KiB */
    ss_instance_count(m->inst, "too_long", 1);
    return;
  }
  guint at = m->queue->len;
  g_byte_array_set_size(m->queue, at + (guint) (sizeof len + len));
  uint8_t *datagram = m->queue->data + at + sizeof len;
  memcpy(m->queue->data + at, &len, sizeof len);
  memcpy(datagram, SS_MESH_MAGIC, SS_MESH_MAGIC_LEN);
  memcpy(datagram + SS_MESH_MAGIC_LEN, pkt->frame, pkt->len);
  compute_mac(m, datagram, SS_MESH_MAGIC_LEN + pkt->len, datagram + len - MAC_LEN);
  if (m->queue->len >= QUEUE_FLUSH_BYTES)
    hmac_mesh_flush(m);
}

/* The peer pointers of the last call may be gone: the destinations are
 * made again from the current set. */
static void
hmac_mesh_peers_changed(void *state)
{
  hmac_mesh *m = state;
  const GPtrArray *peers = ss_instance_get_peers(m->inst);
  g_array_set_size(m->dests, 0);
  for (guint i = 0; i < peers->len; i++) {
    destination d = { .peer = g_ptr_array_index(peers, i) };
    d.to = *ss_peer_get_address(d.peer);
    if (d.to.sin_port == 0)                     /* not written "host:port" */
      d.to.sin_port = htons(m->port);
    g_array_append_val(m->dests, d);
  }
  char n[16];
  g_snprintf(n, sizeof n, "%u", peers->len);
  SS_LOG(m->domain, G_LOG_LEVEL_DEBUG, "peers changed",
         "INSTANCE", ss_instance_get_name(m->inst), "PEERS", n);
}

static const ss_plugin_key hmac_mesh_keys[] = {
  { "port", SS_KEY_INT, "7126",
    "UDP port to listen on and to send to on peers (peers written \"host:port\" override it)",
    1, 65535, { NULL, NULL } },
  { "key_file", SS_KEY_STRING, NULL,
    "File holding the key shared by every relay of the mesh (at least 16 bytes; "
    "a trailing newline is not part of it); read at start and on reload",
    0, 0, { NULL, NULL } },
  SS_KEY_END
};

static const ss_plugin_desc hmac_mesh_desc = {
  SS_PLUGIN_DESC_HEADER,
  .kind = SS_PLUGIN_TRANSPORT,
  .name = "hmac-mesh",
  .version = HMAC_MESH_VERSION,
  .description = "carries frames to peer relays as \"SS\" + frame + HMAC-SHA256 in UDP",
  .keys = hmac_mesh_keys,
  .instance_new = hmac_mesh_new,
  .instance_start = hmac_mesh_start,
  .instance_stop = hmac_mesh_stop,
  .instance_free = hmac_mesh_free,
  .send = hmac_mesh_send,
  .flush = hmac_mesh_flush,
  .peers_changed = hmac_mesh_peers_changed,
  .instance_reload = hmac_mesh_reload,
};

SS_PLUGIN_DEFINE(hmac_mesh, hmac_mesh_desc)
