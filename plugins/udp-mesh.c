/* snowsignal - UDP broadcast relay
 * udp-mesh.c: the "udp-mesh" transport, wire-compatible with SnowSignal
 * 0.1.x: one UDP datagram per relayed frame, to each peer's mesh port,
 * whose payload is the two bytes "SS" and then the whole Ethernet frame.
 * There is no version, length or authentication field (DESIGN.md
 * section 3), so a datagram's only credential is its source address:
 * by default only peers are heard.
 *
 * Both directions move datagrams in batches, one system call per batch:
 * send() copies the frame into a queue and flush(), which the core calls
 * after each capture batch, hands the queue to sendmmsg(); the receive side
 * drains the socket with recvmmsg().
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
#include <glib.h>

#include <snowsignal/snowsignal.h>
#include "udp-mesh-heartbeat.h"

#define MESH_MAX_DATAGRAM (SS_MESH_MAGIC_LEN + SS_FRAME_MAX)
/* Datagrams read per wake-up before yielding to the loop's other sources. */
#define MESH_RECV_BATCH 256
/* Datagrams one recvmmsg() reads.  Each slot holds the largest datagram; its
 * pages become resident only as datagrams that long arrive. */
#define MESH_RECV_SLOTS 16
/* Datagrams (frames times peers) queued for one sendmmsg(). */
#define MESH_SEND_SLOTS 128
/* Bytes of queued frames: at least one frame of any length fits. */
#define MESH_SEND_BYTES (2 * SS_FRAME_MAX)
/* Socket receive buffer asked for: a PVA client opening a display sends
 * thousands of searches at once, and the default buffer (about 200 KiB)
 * overflows while the relay waits for a CPU.  The kernel doubles what it
 * is asked for and charges each datagram what it allocated for it (some
 * 700 bytes for a small one on a veth), so 8 MiB hold about 24,000 small
 * datagrams, a quarter of a second at 100k datagrams/s (overflow.sh shows
 * the figure).  The kernel holds only what is queued; without CAP_NET_ADMIN
 * it caps the size at net.core.rmem_max, and the relay says so at start. */
#define MESH_RECV_BUFFER_BYTES (8 * 1024 * 1024)
/* The least MTU IPv4 allows (RFC 791). */
#define MESH_MIN_FRAGMENT_MTU 68

typedef struct {
  ss_instance *inst;
  const char *domain;
  uint16_t port;
  char *bind_address;
  gboolean accept_strangers;
  gboolean require_peer_port;
  unsigned fragment_mtu;        /* 0: send datagrams whole */
  mesh_heartbeat *heartbeat;
  int fd;
  GSource *source;
  ss_log_limit stranger_log;    /* zeroed: a line at most every 10 s */
  /* Receive batch: MESH_RECV_SLOTS buffers of MESH_MAX_DATAGRAM bytes. */
  uint8_t *rx_buf;
  struct mmsghdr rx_msgs[MESH_RECV_SLOTS];
  struct iovec rx_iov[MESH_RECV_SLOTS];
  struct sockaddr_in rx_from[MESH_RECV_SLOTS];
  /* Control data: the kernel's drop count (ss_instance_note_socket_drops). */
  union {
    char buf[SS_SOCKET_DROPS_CONTROL_LEN];
    struct cmsghdr align;
  } rx_ctl[MESH_RECV_SLOTS];
  /* Send queue: frames copied into tx_frames, one message per peer each. */
  uint8_t *tx_frames;
  size_t tx_frames_used;
  unsigned n_queued;
  struct mmsghdr tx_msgs[MESH_SEND_SLOTS];
  struct iovec tx_iov[MESH_SEND_SLOTS][2];
  struct sockaddr_in tx_to[MESH_SEND_SLOTS];
  ss_peer *tx_peer[MESH_SEND_SLOTS];
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
  { "require_peer_port", SS_KEY_BOOL, "false",
    "Hear a peer only from its mesh port (the port it is sent to): snowsignal sends from it, "
    "SnowSignal 0.1.x from a random port, so leave this off in a mesh that has it",
    0, 0, { NULL, NULL } },
  { "heartbeat_interval", SS_KEY_INT, "5",
    "Seconds between heartbeats to each peer (round trip, loss, up/down in status); 0: none. "
    "A peer that never answers (SnowSignal 0.1.x) is sent one a minute after its first three",
    0, 3600, { NULL, NULL } },
  { "fragment_mtu", SS_KEY_INT, "0",
    "0: send each datagram whole. Else send a datagram longer than this (IP bytes) as IPv4 "
    "fragments of it, one mesh datagram each, as SnowSignal 0.1.2 and later do and need "
    "(they cannot emit a frame longer than their MTU); 1500 in a mesh that has them",
    0, 65535, { NULL, NULL } },
  SS_KEY_END
};

static void *
udp_mesh_new(ss_instance *inst, GError **error)
{
  struct in_addr a;
  const char *bind_address = ss_instance_get_string(inst, "bind_address");
  if (inet_pton(AF_INET, bind_address, &a) != 1) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
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
  m->require_peer_port = ss_instance_get_bool(inst, "require_peer_port");
  int64_t mtu = ss_instance_get_int(inst, "fragment_mtu");
  if (mtu != 0 && mtu < MESH_MIN_FRAGMENT_MTU) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "fragment_mtu %" G_GINT64_FORMAT " (%s) is below %d, the least IPv4 allows; "
                "use 0 (whole datagrams) or the peers' MTU, 1500 on Ethernet",
                mtu, ss_instance_get_key_origin(inst, "fragment_mtu"), MESH_MIN_FRAGMENT_MTU);
    g_free(m->bind_address);
    g_free(m);
    return NULL;
  }
  m->fragment_mtu = (unsigned) mtu;
  m->heartbeat = mesh_heartbeat_new(inst, (unsigned) ss_instance_get_int(inst, "heartbeat_interval"),
                                    m->port);
  m->fd = -1;
  return m;
}

static void
udp_mesh_free(void *data)
{
  udp_mesh *m = data;
  mesh_heartbeat_free(m->heartbeat);
  g_free(m->bind_address);
  g_free(m);
}

static void
stranger(udp_mesh *m, const struct sockaddr_in *from, gboolean wrong_port)
{
  ss_instance_count(m->inst, wrong_port ? "from_wrong_port" : "from_stranger", 1);
  guint64 held_back;
  if (!ss_log_enabled(G_LOG_LEVEL_WARNING) || !ss_log_limit_allow(&m->stranger_log, &held_back))
    return;
  char suppressed[24];
  g_snprintf(suppressed, sizeof suppressed, "%" G_GUINT64_FORMAT, held_back);
  char addr[INET_ADDRSTRLEN + 8];
  inet_ntop(AF_INET, &from->sin_addr, addr, INET_ADDRSTRLEN);
  if (wrong_port) {
    g_snprintf(addr + strlen(addr), 8, ":%u", ntohs(from->sin_port));
    SS_LOG(m->domain, G_LOG_LEVEL_WARNING,
           "datagram from a peer's address but not from its mesh port; dropped",
           "INSTANCE", ss_instance_get_name(m->inst), "FROM", addr,
           "HINT", "require_peer_port is on: a SnowSignal 0.1.x peer sends from a random port",
           "SUPPRESSED", held_back ? suppressed : NULL);
    return;
  }
  SS_LOG(m->domain, G_LOG_LEVEL_WARNING, "datagram from an address that is not a peer; dropped",
         "INSTANCE", ss_instance_get_name(m->inst), "FROM", addr,
         "HINT", "add the sender to peers.hosts if it is a relay",
         "SUPPRESSED", held_back ? suppressed : NULL);
}

/* The port a peer's datagrams must come from with require_peer_port: the
 * one this relay sends to it on. */
static uint16_t
peer_port_be(const udp_mesh *m, const ss_peer *peer)
{
  uint16_t port = ss_peer_get_address(peer)->sin_port;
  return port ? port : htons(m->port);
}

static void
handle_datagram(udp_mesh *m, const uint8_t *buf, size_t len, const struct sockaddr_in *from)
{
  ss_peer *peer = ss_instance_find_peer(m->inst, (const struct sockaddr *) from, sizeof *from);
  if (!peer && !m->accept_strangers) {
    stranger(m, from, FALSE);
    return;
  }
  if (peer && m->require_peer_port && from->sin_port != peer_port_be(m, peer)) {
    stranger(m, from, TRUE);
    return;
  }
  if (mesh_heartbeat_is(buf, len)) {
    if (peer)
      mesh_heartbeat_receive(m->heartbeat, peer, buf, len, from);
    else
      ss_instance_count(m->inst, "bad_framing", 1);
    return;
  }
  ss_instance_deliver_message(m->inst, peer, buf, len);
}

static gboolean
on_readable(gint fd, GIOCondition cond, gpointer data)
{
  udp_mesh *m = data;
  for (int done = 0; done < MESH_RECV_BATCH;) {
    for (unsigned i = 0; i < MESH_RECV_SLOTS; i++) {
      m->rx_msgs[i].msg_hdr.msg_namelen = sizeof m->rx_from[i];
      m->rx_msgs[i].msg_hdr.msg_controllen = sizeof m->rx_ctl[i];
    }
    int n = recvmmsg(fd, m->rx_msgs, MESH_RECV_SLOTS, MSG_DONTWAIT, NULL);
    if (n <= 0) {
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        ss_instance_count(m->inst, "receive_errors", 1);
      break;
    }
    ss_instance_note_socket_drops(m->inst, &m->rx_msgs[n - 1].msg_hdr);
    for (int i = 0; i < n; i++) {
      if (m->rx_msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
        ss_instance_count(m->inst, "oversized", 1);
      else
        handle_datagram(m, m->rx_iov[i].iov_base, m->rx_msgs[i].msg_len, &m->rx_from[i]);
    }
    done += n;
    if (n < MESH_RECV_SLOTS)
      break;
  }
  return G_SOURCE_CONTINUE;
}

/* Points each receive slot at its buffer and address; recvmmsg() reuses
 * them for every batch. */
static void
setup_receive_slots(udp_mesh *m)
{
  m->rx_buf = g_malloc((size_t) MESH_RECV_SLOTS * MESH_MAX_DATAGRAM);
  for (unsigned i = 0; i < MESH_RECV_SLOTS; i++) {
    m->rx_iov[i] = (struct iovec) { m->rx_buf + (size_t) i * MESH_MAX_DATAGRAM, MESH_MAX_DATAGRAM };
    m->rx_msgs[i].msg_hdr = (struct msghdr) { .msg_name = &m->rx_from[i],
                                              .msg_namelen = sizeof m->rx_from[i],
                                              .msg_iov = &m->rx_iov[i], .msg_iovlen = 1,
                                              .msg_control = m->rx_ctl[i].buf,
                                              .msg_controllen = sizeof m->rx_ctl[i] };
  }
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
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot listen on %s:%u: %s%s",
                m->bind_address, m->port, g_strerror(e),
                e == EADDRINUSE ? "; is another relay running, or set another port?" : "");
    if (m->fd >= 0)
      close(m->fd);
    m->fd = -1;
    return FALSE;
  }
  ss_instance_set_receive_buffer(m->inst, m->fd, MESH_RECV_BUFFER_BYTES);
  setup_receive_slots(m);
  m->tx_frames = g_malloc(MESH_SEND_BYTES);
  m->source = g_unix_fd_source_new(m->fd, G_IO_IN);
  g_source_set_callback(m->source, G_SOURCE_FUNC(on_readable), m, NULL);
  /* Not blocked while dispatching: saves GLib's eventfd round trip per
   * wake-up (see ss_relay_path_start()); on_readable() never recurses. */
  g_source_set_can_recurse(m->source, TRUE);
  g_source_attach(m->source, ss_instance_get_context(m->inst));
  mesh_heartbeat_start(m->heartbeat, m->fd);
  return TRUE;
}

/* Sends the queued datagrams.  sendmmsg() stops at the first that fails:
 * that one is counted against its peer and the rest go on. */
static void
send_queued(udp_mesh *m)
{
  unsigned off = 0;
  while (off < m->n_queued) {
    int n = sendmmsg(m->fd, m->tx_msgs + off, m->n_queued - off, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      ss_peer *peer = m->tx_peer[off++];
      ss_instance_count(m->inst, "send_errors", 1);
      ss_peer_note_error(peer, m->inst, g_strerror(n < 0 ? errno : EAGAIN));
      ss_peer_set_state(peer, m->inst, SS_PEER_DOWN);
      continue;
    }
    for (unsigned i = off; i < off + (unsigned) n; i++)
      ss_peer_note_sent(m->tx_peer[i], m->inst);
    ss_instance_count(m->inst, "sent", (guint64) n);
    off += (unsigned) n;
  }
  m->n_queued = 0;
}

static void
udp_mesh_flush(void *data)
{
  udp_mesh *m = data;
  send_queued(m);
  m->tx_frames_used = 0;
}

static void
udp_mesh_stop(void *data)
{
  udp_mesh *m = data;
  mesh_heartbeat_stop(m->heartbeat);
  if (m->source) {
    g_source_destroy(m->source);
    g_clear_pointer(&m->source, g_source_unref);
  }
  if (m->fd >= 0) {
    udp_mesh_flush(m);
    close(m->fd);
  }
  m->fd = -1;
  g_clear_pointer(&m->rx_buf, g_free);
  g_clear_pointer(&m->tx_frames, g_free);
}

/* Queues one datagram per peer; the frame is copied once, since the core
 * reuses its buffer as soon as send() returns. */
/* Queues one frame for every peer. */
static void
queue_frame(const uint8_t *bytes, size_t len, void *data)
{
  udp_mesh *m = data;
  const GPtrArray *peers = ss_instance_get_peers(m->inst);
  if (m->tx_frames_used + len > MESH_SEND_BYTES)
    udp_mesh_flush(m);
  uint8_t *frame = m->tx_frames + m->tx_frames_used;
  memcpy(frame, bytes, len);
  m->tx_frames_used += len;
  for (guint i = 0; i < peers->len; i++) {
    if (m->n_queued == MESH_SEND_SLOTS)
      send_queued(m);
    unsigned q = m->n_queued++;
    ss_peer *peer = g_ptr_array_index(peers, i);
    m->tx_peer[q] = peer;
    m->tx_to[q] = *ss_peer_get_address(peer);
    if (m->tx_to[q].sin_port == 0)
      m->tx_to[q].sin_port = htons(m->port);
    m->tx_iov[q][0] = (struct iovec) { (void *) SS_MESH_MAGIC, SS_MESH_MAGIC_LEN };
    m->tx_iov[q][1] = (struct iovec) { frame, len };
    m->tx_msgs[q].msg_hdr = (struct msghdr) { .msg_name = &m->tx_to[q],
                                              .msg_namelen = sizeof m->tx_to[q],
                                              .msg_iov = m->tx_iov[q], .msg_iovlen = 2 };
  }
}

static void
udp_mesh_send(void *data, const ss_packet *pkt)
{
  udp_mesh *m = data;
  const GPtrArray *peers = ss_instance_get_peers(m->inst);
  if (peers->len == 0 || m->fd < 0)
    return;
  if (m->fragment_mtu && pkt->ip_total_len > m->fragment_mtu) {
    int n = ss_packet_fragment(pkt, m->fragment_mtu, queue_frame, m);
    if (n > 0) {
      ss_instance_count(m->inst, "sent_fragmented", 1);
      return;
    }
    /* Don't Fragment: as whole as it came. */
  }
  queue_frame(pkt->frame, pkt->len, m);
}

static void
udp_mesh_peers_changed(void *data)
{
  udp_mesh *m = data;
  mesh_heartbeat_peers_changed(m->heartbeat);
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
  .flush = udp_mesh_flush,
  .peers_changed = udp_mesh_peers_changed,
};

SS_PLUGIN_DEFINE(udp_mesh, udp_mesh_desc)
