/* snowsignal - UDP broadcast relay
 * udp-mesh.c: the "udp-mesh" transport, wire-compatible with SnowSignal
 * 0.1.x: one UDP datagram per relayed frame, to each peer's mesh port,
 * whose payload is the two bytes "SS" and then the whole Ethernet frame.
 * There is no version, length or authentication field (DESIGN.md
 * section 3), so a datagram's only credential is its source address:
 * by default only peers are heard.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <glib-unix.h>
#include <gio/gio.h>

#include <snowsignal/snowsignal.h>

#define MESH_MAX_DATAGRAM (SS_MESH_MAGIC_LEN + SS_FRAME_MAX)
/* Datagrams read per wake-up before yielding to the loop's other sources. */
#define MESH_RECV_BATCH 256
#define MESH_STRANGER_LOG_INTERVAL_US (10 * G_USEC_PER_SEC)

typedef struct {
  ss_instance *inst;
  const char *domain;
  uint16_t port;
  char *bind_address;
  gboolean accept_strangers;
  int fd;
  GSource *source;
  uint8_t *rx_buf;
  gint64 last_stranger_log_us;
} udp_mesh;

static const ss_plugin_key udp_mesh_keys[] = {
  { "port", SS_KEY_INT, "7124",
    "UDP port to listen on and to send to on peers (peers written \"host:port\" override it); "
    "--mesh-port and MESH_PORT replace it", 1, 65535, { NULL, NULL } },
  { "bind_address", SS_KEY_STRING, "0.0.0.0",
    "Local IPv4 address to receive peer datagrams on", 0, 0, { NULL, NULL } },
  { "accept_strangers", SS_KEY_BOOL, "false",
    "Also re-emit frames from addresses that are not in the peer set. The format has no "
    "authentication, so leave this off unless every host that can reach the port is trusted",
    0, 0, { NULL, NULL } },
  SS_KEY_END
};

static void *
udp_mesh_new(ss_instance *inst, GError **error)
{
  struct in_addr a;
  const char *bind_address = ss_instance_get_string(inst, "bind_address");
  if (inet_pton(AF_INET, bind_address, &a) != 1) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "bind_address '%s' (%s) is not an IPv4 address", bind_address,
                ss_instance_get_key_origin(inst, "bind_address"));
    return NULL;
  }
  udp_mesh *m = g_new0(udp_mesh, 1);
  m->inst = inst;
  m->domain = ss_instance_get_log_domain(inst);
  m->port = (uint16_t) ss_instance_get_int(inst, "port");
  m->bind_address = g_strdup(bind_address);
  m->accept_strangers = ss_instance_get_bool(inst, "accept_strangers");
  m->fd = -1;
  return m;
}

static void
udp_mesh_free(void *data)
{
  udp_mesh *m = data;
  g_free(m->bind_address);
  g_free(m);
}

static void
stranger(udp_mesh *m, const struct sockaddr_in *from)
{
  ss_instance_count(m->inst, "from_stranger", 1);
  gint64 now = g_get_monotonic_time();
  if (m->last_stranger_log_us && now - m->last_stranger_log_us < MESH_STRANGER_LOG_INTERVAL_US)
    return;
  m->last_stranger_log_us = now;
  char addr[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &from->sin_addr, addr, sizeof addr);
  SS_LOG(m->domain, G_LOG_LEVEL_WARNING, "datagram from an address that is not a peer; dropped",
         "INSTANCE", ss_instance_get_name(m->inst), "FROM", addr,
         "HINT", "add the sender to peers.hosts if it is a relay");
}

static void
handle_datagram(udp_mesh *m, const uint8_t *buf, size_t len, const struct sockaddr_in *from)
{
  ss_peer *peer = ss_instance_find_peer(m->inst, (const struct sockaddr *) from, sizeof *from);
  if (!peer && !m->accept_strangers) {
    stranger(m, from);
    return;
  }
  size_t frame_len;
  const uint8_t *frame = ss_mesh_decode(buf, len, &frame_len);
  if (!frame) {
    ss_instance_count(m->inst, "bad_framing", 1);
    return;
  }
  ss_instance_count(m->inst, "received", 1);
  if (ss_instance_deliver(m->inst, peer, frame, frame_len) == SS_DELIVER_INVALID)
    ss_instance_count(m->inst, "invalid_frame", 1);
}

static gboolean
on_readable(gint fd, GIOCondition cond, gpointer data)
{
  udp_mesh *m = data;
  for (int i = 0; i < MESH_RECV_BATCH; i++) {
    struct sockaddr_in from;
    socklen_t fromlen = sizeof from;
    ssize_t n = recvfrom(fd, m->rx_buf, MESH_MAX_DATAGRAM, MSG_DONTWAIT | MSG_TRUNC,
                         (struct sockaddr *) &from, &fromlen);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        ss_instance_count(m->inst, "receive_errors", 1);
      break;
    }
    if ((size_t) n > MESH_MAX_DATAGRAM) {
      ss_instance_count(m->inst, "oversized", 1);
      continue;
    }
    handle_datagram(m, m->rx_buf, (size_t) n, &from);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
udp_mesh_start(void *data, GError **error)
{
  udp_mesh *m = data;
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(m->port) };
  inet_pton(AF_INET, m->bind_address, &sin.sin_addr);
  m->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (m->fd < 0 || bind(m->fd, (struct sockaddr *) &sin, sizeof sin) < 0) {
    int e = errno;
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "cannot listen on %s:%u: %s%s",
                m->bind_address, m->port, g_strerror(e),
                e == EADDRINUSE ? "; is another relay running, or set another port?" : "");
    if (m->fd >= 0)
      close(m->fd);
    m->fd = -1;
    return FALSE;
  }
  m->rx_buf = g_malloc(MESH_MAX_DATAGRAM);
  m->source = g_unix_fd_source_new(m->fd, G_IO_IN);
  g_source_set_callback(m->source, G_SOURCE_FUNC(on_readable), m, NULL);
  g_source_attach(m->source, ss_instance_get_context(m->inst));
  return TRUE;
}

static void
udp_mesh_stop(void *data)
{
  udp_mesh *m = data;
  if (m->source) {
    g_source_destroy(m->source);
    g_clear_pointer(&m->source, g_source_unref);
  }
  if (m->fd >= 0)
    close(m->fd);
  m->fd = -1;
  g_clear_pointer(&m->rx_buf, g_free);
}

static void
udp_mesh_send(void *data, const ss_packet *pkt)
{
  udp_mesh *m = data;
  const GPtrArray *peers = ss_instance_get_peers(m->inst);
  struct iovec iov[2] = {
    { (void *) SS_MESH_MAGIC, SS_MESH_MAGIC_LEN },
    { pkt->frame, pkt->len },
  };
  for (guint i = 0; i < peers->len; i++) {
    ss_peer *peer = g_ptr_array_index(peers, i);
    struct sockaddr_in to = *ss_peer_get_address(peer);
    if (to.sin_port == 0)
      to.sin_port = htons(m->port);
    struct msghdr msg = { .msg_name = &to, .msg_namelen = sizeof to, .msg_iov = iov, .msg_iovlen = 2 };
    if (sendmsg(m->fd, &msg, MSG_DONTWAIT) < 0) {
      ss_instance_count(m->inst, "send_errors", 1);
      ss_peer_note_error(peer, m->inst, g_strerror(errno));
      ss_peer_set_state(peer, m->inst, SS_PEER_DOWN);
    } else {
      ss_instance_count(m->inst, "sent", 1);
      ss_peer_note_sent(peer, m->inst);
    }
  }
}

static const ss_plugin_desc udp_mesh_desc = {
  SS_PLUGIN_DESC_HEADER,
  .kind = SS_PLUGIN_TRANSPORT,
  .name = "udp-mesh",
  .version = PACKAGE_VERSION,
  .description = "Carries frames to peer relays as \"SS\" + Ethernet frame in UDP "
                 "(SnowSignal 0.1.x compatible)",
  .keys = udp_mesh_keys,
  .instance_new = udp_mesh_new,
  .instance_start = udp_mesh_start,
  .instance_stop = udp_mesh_stop,
  .instance_free = udp_mesh_free,
  .send = udp_mesh_send,
};

SS_PLUGIN_DEFINE(udp_mesh, udp_mesh_desc)
