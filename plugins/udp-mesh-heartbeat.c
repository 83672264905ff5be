/* snowsignal - UDP broadcast relay
 * udp-mesh-heartbeat.c: the pings and pongs of udp-mesh-heartbeat.h.
 *
 * One timer a udp-mesh instance, at the heartbeat interval: an idle relay
 * wakes for nothing else.  At each tick a ping still unanswered is a
 * loss, then each peer that is due gets a new ping.  Peers are known by
 * address and port, so a peer set rebuilt by a DNS refresh keeps their
 * records.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <glib.h>

#include "udp-mesh-heartbeat.h"

#define HB_VERSION    1
#define HB_PING       1
#define HB_PONG       2
#define HB_OFF_VER    2
#define HB_OFF_TYPE   3
#define HB_OFF_SEQ    4
#define HB_OFF_STAMP  8

typedef struct {
  uint32_t addr;          /* network order */
  uint16_t port;          /* network order: where pings go */
  uint32_t seq;           /* of the outstanding ping */
  int64_t sent_us;        /* when it left; 0: none outstanding */
  gboolean answered_ever;
  unsigned unanswered;    /* in a row */
  unsigned ticks;         /* since the last ping, for quiet peers */
} hb_peer;

struct mesh_heartbeat {
  ss_instance *inst;
  unsigned interval_s;
  uint16_t port;          /* the instance's port, host order */
  int fd;
  GSource *timer;
  GArray *peers;          /* hb_peer */
  uint32_t next_seq;
};

static void
put_be32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t) (v >> 24);
  p[1] = (uint8_t) (v >> 16);
  p[2] = (uint8_t) (v >> 8);
  p[3] = (uint8_t) v;
}

static uint32_t
get_be32(const uint8_t *p)
{
  return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
}

mesh_heartbeat *
mesh_heartbeat_new(ss_instance *inst, unsigned interval_s, uint16_t port)
{
  mesh_heartbeat *hb = g_new0(mesh_heartbeat, 1);
  hb->inst = inst;
  hb->interval_s = interval_s;
  hb->port = port;
  hb->fd = -1;
  hb->peers = g_array_new(FALSE, TRUE, sizeof(hb_peer));
  hb->next_seq = g_random_int();
  return hb;
}

void
mesh_heartbeat_free(mesh_heartbeat *hb)
{
  if (!hb)
    return;
  mesh_heartbeat_stop(hb);
  g_array_unref(hb->peers);
  g_free(hb);
}

static struct sockaddr_in
peer_sockaddr(const mesh_heartbeat *hb, const ss_peer *peer)
{
  struct sockaddr_in to = *ss_peer_get_address(peer);
  if (to.sin_port == 0)
    to.sin_port = htons(hb->port);
  return to;
}

static hb_peer *
find(mesh_heartbeat *hb, uint32_t addr, uint16_t port)
{
  for (guint i = 0; i < hb->peers->len; i++) {
    hb_peer *p = &g_array_index(hb->peers, hb_peer, i);
    if (p->addr == addr && p->port == port)
      return p;
  }
  return NULL;
}

void
mesh_heartbeat_peers_changed(mesh_heartbeat *hb)
{
  const GPtrArray *peers = ss_instance_get_peers(hb->inst);
  GArray *next = g_array_new(FALSE, TRUE, sizeof(hb_peer));
  for (guint i = 0; i < peers->len; i++) {
    struct sockaddr_in to = peer_sockaddr(hb, g_ptr_array_index(peers, i));
    hb_peer *old = find(hb, to.sin_addr.s_addr, to.sin_port);
    hb_peer p = old ? *old : (hb_peer) { .addr = to.sin_addr.s_addr, .port = to.sin_port };
    g_array_append_val(next, p);
  }
  g_array_unref(hb->peers);
  hb->peers = next;
}

static void
send_heartbeat(mesh_heartbeat *hb, int type, uint32_t seq, uint64_t stamp,
               const struct sockaddr_in *to)
{
  uint8_t msg[SS_HEARTBEAT_LEN];
  memcpy(msg, SS_HEARTBEAT_MAGIC, 2);
  msg[HB_OFF_VER] = HB_VERSION;
  msg[HB_OFF_TYPE] = (uint8_t) type;
  put_be32(msg + HB_OFF_SEQ, seq);
  put_be32(msg + HB_OFF_STAMP, (uint32_t) (stamp >> 32));
  put_be32(msg + HB_OFF_STAMP + 4, (uint32_t) stamp);
  if (sendto(hb->fd, msg, sizeof msg, MSG_DONTWAIT, (const struct sockaddr *) to, sizeof *to) < 0)
    ss_instance_count(hb->inst, "heartbeat_send_errors", 1);
  else
    ss_instance_count(hb->inst, type == HB_PING ? "heartbeats_sent" : "heartbeats_answered", 1);
}

static gboolean
on_tick(gpointer data)
{
  mesh_heartbeat *hb = data;
  const GPtrArray *peers = ss_instance_get_peers(hb->inst);
  int64_t now = g_get_monotonic_time();
  for (guint i = 0; i < peers->len; i++) {
    ss_peer *peer = g_ptr_array_index(peers, i);
    struct sockaddr_in to = peer_sockaddr(hb, peer);
    hb_peer *p = find(hb, to.sin_addr.s_addr, to.sin_port);
    if (!p)
      continue;
    if (p->sent_us) {
      p->sent_us = 0;
      p->unanswered++;
      ss_peer_note_heartbeat(peer, hb->inst, -1);
    }
    /* A peer that never answered (SnowSignal 0.1.x, or not there) is
     * pinged rarely: it logs every datagram it cannot read. */
    p->ticks++;
    if (!p->answered_ever && p->unanswered >= SS_HEARTBEAT_QUIET_AFTER &&
        p->ticks < SS_HEARTBEAT_QUIET_TICKS)
      continue;
    p->ticks = 0;
    p->seq = hb->next_seq++;
    p->sent_us = now;
    send_heartbeat(hb, HB_PING, p->seq, (uint64_t) now, &to);
  }
  return G_SOURCE_CONTINUE;
}

void
mesh_heartbeat_start(mesh_heartbeat *hb, int fd)
{
  hb->fd = fd;
  if (!hb->interval_s || hb->timer)
    return;
  mesh_heartbeat_peers_changed(hb);
  hb->timer = g_timeout_source_new_seconds(hb->interval_s);
  g_source_set_callback(hb->timer, on_tick, hb, NULL);
  g_source_attach(hb->timer, ss_instance_get_context(hb->inst));
}

void
mesh_heartbeat_stop(mesh_heartbeat *hb)
{
  if (hb->timer) {
    g_source_destroy(hb->timer);
    g_clear_pointer(&hb->timer, g_source_unref);
  }
  hb->fd = -1;
}

gboolean
mesh_heartbeat_is(const uint8_t *buf, size_t len)
{
  return len >= 2 && memcmp(buf, SS_HEARTBEAT_MAGIC, 2) == 0;
}

void
mesh_heartbeat_receive(mesh_heartbeat *hb, ss_peer *peer, const uint8_t *buf, size_t len,
                       const struct sockaddr_in *from)
{
  if (len != SS_HEARTBEAT_LEN || buf[HB_OFF_VER] != HB_VERSION || hb->fd < 0) {
    ss_instance_count(hb->inst, "bad_heartbeat", 1);
    return;
  }
  uint32_t seq = get_be32(buf + HB_OFF_SEQ);
  uint64_t stamp = ((uint64_t) get_be32(buf + HB_OFF_STAMP) << 32) |
                   get_be32(buf + HB_OFF_STAMP + 4);
  if (buf[HB_OFF_TYPE] == HB_PING) {
    /* Answered whatever this relay's own interval: a peer may probe. */
    send_heartbeat(hb, HB_PONG, seq, stamp, from);
    return;
  }
  if (buf[HB_OFF_TYPE] != HB_PONG) {
    ss_instance_count(hb->inst, "bad_heartbeat", 1);
    return;
  }
  struct sockaddr_in to = peer_sockaddr(hb, peer);
  hb_peer *p = find(hb, to.sin_addr.s_addr, to.sin_port);
  /* Only the answer to the outstanding ping counts, timed by this relay's
   * own record: the stamp it carries is not trusted. */
  if (!p || !p->sent_us || seq != p->seq) {
    ss_instance_count(hb->inst, "stale_heartbeat", 1);
    return;
  }
  int64_t rtt = g_get_monotonic_time() - p->sent_us;
  p->sent_us = 0;
  p->unanswered = 0;
  p->answered_ever = TRUE;
  ss_peer_note_heartbeat(peer, hb->inst, rtt);
}
