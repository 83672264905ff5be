/* snowsignal - UDP broadcast relay
 * relay-path.c: the two packet paths.
 *
 *   segment -> capture -> [reassembly] -> outbound chain -> [seen?]
 *           -> transports
 *   transport -> ss_instance_deliver -> checks -> inbound chain -> [seen?]
 *             -> rewrite for this segment -> [standby hold]
 *             -> [fragmentation] -> segment
 *
 * [seen?] is the fingerprint table (dedup.h): a frame this relay sent to
 * its peers or emitted within the window goes no further, so relays that
 * share a segment, or meshes that meet, never loop a broadcast.  The
 * standby hold (standby.h) makes relays that share a segment emit each
 * frame once.
 *
 * Both run in batches, one system call per batch rather than per packet:
 * a wake-up drains the capture ring and the transports flush once after
 * it; frames to emit are queued and leave together just before the loop
 * polls again (capture_prepare()).
 *
 * Nothing here allocates: every buffer is preallocated in ss_relay_new()
 * or when the segment and the transports open.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>
#include <arpa/inet.h>
#include <glib.h>

#include <snowsignal/log.h>
#include "log.h"
#include "relay-private.h"

/* Frames read per wake-up before yielding to the other sources, so that a
 * flood on the segment cannot starve the mesh socket or the signals. */
#define SS_CAPTURE_BATCH 256
/* Drops are always counted; their log lines go through the relay's
 * limiters (ss_log_limited(): a warning at most every 10 s, with the
 * number held back). */
static void
log_drop(ss_relay *relay, const char *message, const char *why, const char *peer)
{
  SS_LOG_LIMITED(&relay->drop_log, SS_LOG_DOMAIN, G_LOG_LEVEL_WARNING, message, "REASON", why,
                 "PEER", peer);
}

static void
log_rate_limited(ss_relay *relay, const char *message, uint32_t addr_be, const char *peer,
                 guint64 total)
{
  if (!ss_log_enabled(G_LOG_LEVEL_WARNING))
    return;
  char addr[INET_ADDRSTRLEN], n[24];
  inet_ntop(AF_INET, &addr_be, addr, sizeof addr);
  g_snprintf(n, sizeof n, "%" G_GUINT64_FORMAT, total);
  SS_LOG_LIMITED(&relay->rate_log, SS_LOG_DOMAIN, G_LOG_LEVEL_WARNING, message,
                 peer ? "PEER" : "SOURCE", peer ? peer : addr, "TOTAL_DROPPED", n);
}

static void
arm_reassembly_timer(ss_relay *relay);
static void
arm_hold_timer(ss_relay *relay);
static void
emit_held(ss_relay *relay, gboolean all);

static gboolean
on_reassembly_timeout(gpointer user_data)
{
  ss_relay *relay = user_data;
  ss_reassembler_expire(relay->reasm, g_get_monotonic_time());
  ss_reassembler_expire(relay->reasm_in, g_get_monotonic_time());
  g_clear_pointer(&relay->reasm_timer, g_source_unref);
  arm_reassembly_timer(relay);
  return G_SOURCE_REMOVE;
}

/* One timer for both reassemblers, armed only while fragments are
 * waiting: an idle relay wakes for nothing. */
static void
arm_reassembly_timer(ss_relay *relay)
{
  int64_t deadline = ss_reassembler_next_deadline(relay->reasm);
  int64_t in = ss_reassembler_next_deadline(relay->reasm_in);
  if (in >= 0 && (deadline < 0 || in < deadline))
    deadline = in;
  if (deadline < 0 || relay->reasm_timer || !relay->context)
    return;
  int64_t wait_ms = (deadline - g_get_monotonic_time()) / 1000 + 1;
  relay->reasm_timer = g_timeout_source_new((guint) CLAMP(wait_ms, 1, G_MAXINT));
  g_source_set_callback(relay->reasm_timer, on_reassembly_timeout, relay, NULL);
  g_source_attach(relay->reasm_timer, relay->context);
}

static gboolean
port_is_relayed(const ss_relay *relay, uint16_t port)
{
  for (unsigned i = 0; i < relay->conf->n_broadcast_ports; i++)
    if (relay->conf->broadcast_ports[i] == port)
      return TRUE;
  return FALSE;
}

static void
format_mac(char text[18], const uint8_t mac[SS_ETH_ALEN])
{
  g_snprintf(text, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
             mac[5]);
}

/* A frame on the segment that this relay received from a peer too: another
 * relay here emitted it (this relay's own emissions never come back to its
 * packet socket), so a held copy is not needed, and that relay may be the
 * one to emit from now on. */
static void
saw_emitter_mac(ss_relay *relay, const uint8_t emitter[SS_ETH_ALEN], gboolean known_only,
                int64_t now)
{
  static const uint8_t none[SS_ETH_ALEN];
  if (memcmp(emitter, relay->own_mac, SS_ETH_ALEN) == 0 || memcmp(emitter, none, SS_ETH_ALEN) == 0)
    return;
  gboolean was = ss_standby_active(relay->standby, now, NULL);
  if (known_only)
    ss_standby_saw_known_emitter(relay->standby, emitter, relay->own_mac, now);
  else
    ss_standby_saw_emitter(relay->standby, emitter, relay->own_mac, now);
  uint8_t mac[SS_ETH_ALEN];
  if (!was && ss_standby_active(relay->standby, now, mac)) {
    char text[18];
    format_mac(text, mac);
    SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_INFO,
           "another relay on this segment emits what the peers send; this relay stands by",
           "RELAY_MAC", text);
  }
}

/* Whether @pkt's IPv4 source lies outside this relay's subnet on the
 * segment (FALSE when the relay has no address there to tell by): then a
 * frame with it that appeared on the segment was put there by a relay,
 * not sent by a host of the segment. */
static gboolean
source_elsewhere(const ss_packet *pkt, uint32_t addr_be, unsigned prefix)
{
  if (prefix == 0 || prefix > SS_IPV4_ADDR_BITS)
    return FALSE;
  uint32_t mask = prefix == SS_IPV4_ADDR_BITS ? SS_IPV4_BROADCAST : ~(SS_IPV4_BROADCAST >> prefix);
  return ((g_ntohl(pkt->ip_src) ^ g_ntohl(addr_be)) & mask) != 0;
}

static void
saw_emitted_here(ss_relay *relay, const ss_packet *pkt, uint64_t fp, int64_t now)
{
  if (memcmp(pkt->eth_src, relay->own_mac, SS_ETH_ALEN) == 0)
    return;
  saw_emitter_mac(relay, pkt->eth_src, FALSE, now);
  ss_standby_cancel(relay->standby, fp);
}

static void
send_outbound(ss_relay *relay, ss_packet *pkt)
{
  if (!port_is_relayed(relay, pkt->udp_dst_port) || !ss_packet_is_eth_broadcast(pkt))
    return;
  uint64_t fp = 0;
  int64_t now = g_get_monotonic_time();
  ss_seen seen = SS_SEEN_NONE;
  if (relay->dedup) {
    fp = ss_dedup_fingerprint(relay->dedup, pkt);
    seen = ss_dedup_lookup(relay->dedup, fp, now);
    if (seen == SS_SEEN_DELIVERED)
      saw_emitted_here(relay, pkt, fp, now);
  }
  if (ss_chain_run(relay->outbound, pkt) != SS_VERDICT_PASS)
    return;
  if (seen != SS_SEEN_NONE) {
    relay->counters.duplicates_suppressed++;
    return;
  }
  if (relay->source_rate && !ss_rate_allow(relay->source_rate, pkt->ip_src, now)) {
    relay->counters.source_rate_limited++;
    log_rate_limited(relay, "a host sends more broadcasts than source_rate_limit; dropped",
                     pkt->ip_src, NULL, relay->counters.source_rate_limited);
    return;
  }
  if (relay->dedup)
    ss_dedup_note_from(relay->dedup, fp, SS_SEEN_RELAYED, now, pkt->eth_src);
  relay->counters.relayed++;
  for (guint i = 0; i < relay->transports->len; i++)
    ss_instance_send(g_ptr_array_index(relay->transports, i), pkt);
}

/* One captured frame, in place in the capture ring.  Transports queue what
 * they send; the caller flushes them. */
static void
capture_one(ss_relay *relay, uint8_t *frame, size_t len, int ifindex)
{
  ss_packet pkt;
  relay->counters.captured++;
  ss_parse_result r = ss_packet_parse(&pkt, frame, len, SS_DIRECTION_OUTBOUND);
  pkt.ifindex = ifindex;
  if (r == SS_PARSE_FRAGMENT) {
    relay->counters.fragments++;
    size_t whole_len;
    ss_reasm_result rr = ss_reassembler_add(relay->reasm, &pkt, g_get_monotonic_time(),
                                            relay->reasm_buf, SS_FRAME_MAX, &whole_len);
    if (rr != SS_REASM_COMPLETE) {
      arm_reassembly_timer(relay);
      return;
    }
    relay->counters.reassembled++;
    r = ss_packet_parse(&pkt, relay->reasm_buf, whole_len, SS_DIRECTION_OUTBOUND);
    pkt.ifindex = ifindex;
  }
  if (r != SS_PARSE_OK) {
    relay->counters.capture_invalid++;
    log_drop(relay, "captured frame is not a relayable UDP datagram; dropped",
             ss_parse_result_to_string(r), NULL);
    return;
  }
  send_outbound(relay, &pkt);
}

static void
flush_transports(ss_relay *relay)
{
  for (guint i = 0; i < relay->transports->len; i++)
    ss_instance_flush(g_ptr_array_index(relay->transports, i));
}

void
ss_relay_handle_captured(ss_relay *relay, uint8_t *frame, size_t len, int ifindex)
{
  capture_one(relay, frame, len, ifindex);
  flush_transports(relay);
}

void
ss_relay_take_capture_drops(ss_relay *relay, gboolean log)
{
  guint64 n = relay->segment ? ss_segment_take_drops(relay->segment) : 0;
  if (!n)
    return;
  relay->counters.capture_dropped += n;
  if (log) {
    char dropped[24], total[24];
    g_snprintf(dropped, sizeof dropped, "%" G_GUINT64_FORMAT, n);
    g_snprintf(total, sizeof total, "%" G_GUINT64_FORMAT, relay->counters.capture_dropped);
    SS_LOG_LIMITED(&relay->overflow_log, SS_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
                   "the capture ring was full: the kernel dropped frames (the relay did not get "
                   "enough CPU)", "DROPPED", dropped, "TOTAL", total);
  }
}

/* Drains the capture ring: every ready frame runs the outbound chain where
 * it lies (no copy) and goes back to the kernel at once; transports copy
 * what they queue and send the whole batch in one flush at the end. */
static void
drain_capture(ss_relay *relay)
{
  ss_segment *seg = relay->segment;
  int ifindex = ss_segment_get_ifindex(seg);
  ss_segment_frame frame;
  gboolean losing = FALSE;
  for (int i = 0; i < SS_CAPTURE_BATCH && ss_segment_next(seg, &frame); i++) {
    losing |= frame.losing;
    if (frame.truncated) {
      relay->counters.capture_truncated++;
    } else if (G_UNLIKELY(frame.wrong_vlan)) {
      relay->counters.capture_invalid++;
      log_drop(relay, "captured frame is not of the relayed VLAN; dropped",
               relay->conf->vlan ? "untagged or another VLAN's tag" : "802.1Q tagged", NULL);
    } else
      capture_one(relay, frame.data, frame.len, ifindex);
    ss_segment_release(seg);
  }
  flush_transports(relay);
  /* Every frame the kernel wrote while its drop count was not zero is
   * marked: one read of the count per batch, which also clears the mark. */
  if (G_UNLIKELY(losing))
    ss_relay_take_capture_drops(relay, TRUE);
}

static gboolean
on_capture(gint fd, GIOCondition cond, gpointer user_data)
{
  ss_relay *relay = user_data;
  if (cond & G_IO_ERR) {
    int err = ss_segment_take_error(relay->segment);
    if (err) {
      relay->counters.capture_errors++;
      log_drop(relay, "reading from the segment failed", g_strerror(err), NULL);
    }
  }
  drain_capture(relay);
  return G_SOURCE_CONTINUE;
}

/* Broadcasts what emit_one() queued.  Send failures surface here, after
 * ss_relay_deliver() has returned, so they are counted and logged but not
 * reported back to the transport. */
static void
flush_emits(ss_relay *relay)
{
  int err = 0;
  unsigned failed = ss_segment_flush(relay->segment, &err);
  if (failed) {
    relay->counters.emit_errors += failed;
    log_drop(relay, "broadcasting on the segment failed", g_strerror(err), NULL);
  }
}

/* The capture source: the segment socket's fd, and a prepare() that
 * broadcasts the frames the previous loop iteration queued for emission,
 * just before the loop polls again.  So whatever a transport delivered in
 * one wake-up (a recvmmsg() batch) goes out in one sendmmsg(), with no
 * timer and no extra wake-up, and a lone frame is not held back. */
typedef struct {
  GSource source;
  ss_relay *relay;
  gpointer fd_tag;
} capture_source;

static gboolean
capture_prepare(GSource *source, gint *timeout)
{
  ss_relay *relay = ((capture_source *) source)->relay;
  flush_emits(relay);
  *timeout = -1;
  return FALSE;
}

static gboolean
capture_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
  capture_source *cs = (capture_source *) source;
  GIOCondition cond = g_source_query_unix_fd(source, cs->fd_tag);
  return on_capture(ss_segment_get_fd(cs->relay->segment), cond, cs->relay);
}

static GSourceFuncs capture_source_funcs = {
  .prepare = capture_prepare,
  .dispatch = capture_dispatch,
};

void
ss_relay_path_start(ss_relay *relay)
{
  GSource *source = g_source_new(&capture_source_funcs, sizeof(capture_source));
  capture_source *cs = (capture_source *) source;
  cs->relay = relay;
  cs->fd_tag = g_source_add_unix_fd(source, ss_segment_get_fd(relay->segment), G_IO_IN | G_IO_ERR);
  g_source_set_name(source, "snowsignal capture");
  /* GLib blocks a source that may not recurse while it dispatches, and
   * removing and re-adding its fd costs two eventfd writes, a read and an
   * extra loop iteration per dispatch: more than the packet itself.
   * on_capture() never runs the loop, so it cannot recurse anyway. */
  g_source_set_can_recurse(source, TRUE);
  g_source_attach(source, relay->context);
  relay->capture_source = source;
}

void
ss_relay_path_stop(ss_relay *relay)
{
  if (relay->segment) {
    emit_held(relay, TRUE);
    flush_emits(relay);
  }
  GSource **sources[] = { &relay->capture_source, &relay->reasm_timer, &relay->hold_timer };
  for (size_t i = 0; i < G_N_ELEMENTS(sources); i++)
    if (*sources[i]) {
      g_source_destroy(*sources[i]);
      g_clear_pointer(sources[i], g_source_unref);
    }
}

/* --- inbound ----------------------------------------------------------- */

/* Queues one frame; the capture source's prepare() sends the queue. */
static void
emit_one(const uint8_t *frame, size_t len, void *user)
{
  ss_relay *relay = user;
  if (!ss_segment_queue(relay->segment, frame, len)) {
    flush_emits(relay);
    ss_segment_queue(relay->segment, frame, len);
  }
}

/* Broadcasts @pkt, already rewritten for this segment, in fragments when
 * it is longer than the MTU. */
static ss_deliver_result
emit_rewritten(ss_relay *relay, ss_packet *pkt)
{
  if (!relay->segment)
    return SS_DELIVER_EMIT_FAILED;
  guint64 errors_before = relay->counters.emit_errors;
  int n = ss_frame_fragment(pkt, ss_segment_get_mtu(relay->segment), relay->frag_scratch,
                            SS_FRAME_MAX, emit_one, relay);
  if (n < 0) {
    relay->counters.emit_errors++;
    log_drop(relay, "frame larger than the interface MTU with Don't Fragment set; dropped",
             "too big", NULL);
    return SS_DELIVER_EMIT_FAILED;
  }
  if (relay->counters.emit_errors != errors_before)
    return SS_DELIVER_EMIT_FAILED;
  relay->counters.emitted++;
  if (n > 1)
    relay->counters.emit_fragmented++;
  return SS_DELIVER_EMITTED;
}

/* Emits the held frames that are due (every one with @all): no other relay
 * on the segment emitted them in time. */
static void
emit_held(ss_relay *relay, gboolean all)
{
  if (!relay->standby)
    return;
  size_t len;
  uint8_t *frame;
  while ((frame = ss_standby_take_due(relay->standby, g_get_monotonic_time(), all, &len))) {
    ss_packet pkt;
    if (ss_packet_parse(&pkt, frame, len, SS_DIRECTION_INBOUND) != SS_PARSE_OK)
      continue;
    if (!all && relay->counters.standby_emitted++ == relay->standby_emitted_logged) {
      SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_INFO,
             "the relay standing in for this one did not emit a frame in time; this relay emits again");
    }
    emit_rewritten(relay, &pkt);
  }
  relay->standby_emitted_logged = relay->counters.standby_emitted;
}

static gboolean
on_hold_timeout(gpointer user_data)
{
  ss_relay *relay = user_data;
  g_clear_pointer(&relay->hold_timer, g_source_unref);
  emit_held(relay, FALSE);
  arm_hold_timer(relay);
  return G_SOURCE_REMOVE;
}

/* Armed only while frames are held, like the reassembly timer. */
static void
arm_hold_timer(ss_relay *relay)
{
  int64_t deadline = ss_standby_next_deadline(relay->standby);
  if (deadline < 0 || relay->hold_timer || !relay->context)
    return;
  int64_t wait_ms = (deadline - g_get_monotonic_time()) / 1000 + 1;
  relay->hold_timer = g_timeout_source_new((guint) CLAMP(wait_ms, 1, G_MAXINT));
  g_source_set_callback(relay->hold_timer, on_hold_timeout, relay, NULL);
  g_source_attach(relay->hold_timer, relay->context);
}

static ss_deliver_result
emit(ss_relay *relay, ss_packet *pkt, uint32_t addr, unsigned prefix, uint64_t fp)
{
  ss_frame_rewrite_for_segment(pkt, relay->own_mac, addr, prefix);
  int64_t now = fp ? g_get_monotonic_time() : 0;
  if (fp && ss_standby_active(relay->standby, now, NULL) &&
      ss_standby_hold(relay->standby, fp, pkt->frame, pkt->len, now)) {
    relay->counters.standby_held++;
    arm_hold_timer(relay);
    return SS_DELIVER_EMITTED;
  }
  return emit_rewritten(relay, pkt);
}

ss_deliver_result
ss_relay_deliver(ss_relay *relay, ss_peer *from, const uint8_t *frame, size_t len)
{
  const char *peer = from ? ss_peer_get_name(from) : "(stranger)";
  const char *why = NULL;
  ss_packet pkt;
  uint32_t addr = 0;
  unsigned prefix = 0;
  relay->counters.delivered++;
  if (relay->segment)
    ss_host_link_ipv4(relay->host, ss_segment_get_ifindex(relay->segment), &addr, &prefix);
  if (len > SS_FRAME_MAX) {
    why = "longer than any Ethernet frame";
  } else {
    memcpy(relay->tx_buf, frame, len);
    ss_parse_result r = ss_packet_parse(&pkt, relay->tx_buf, len, SS_DIRECTION_INBOUND);
    if (r == SS_PARSE_FRAGMENT) {
      /* SnowSignal 0.1.2 and later send a fragmented broadcast one
       * fragment a datagram: the whole is rebuilt, with the same bounds as
       * on capture, and goes on from there. */
      relay->counters.deliver_fragments++;
      size_t whole_len;
      ss_reasm_result rr = ss_reassembler_add(relay->reasm_in, &pkt, g_get_monotonic_time(),
                                              relay->reasm_in_buf, SS_FRAME_MAX, &whole_len);
      arm_reassembly_timer(relay);
      if (rr == SS_REASM_PENDING)
        return SS_DELIVER_DROPPED;
      if (rr == SS_REASM_COMPLETE) {
        relay->counters.deliver_reassembled++;
        r = ss_packet_parse(&pkt, relay->reasm_in_buf, whole_len, SS_DIRECTION_INBOUND);
      }
    }
    pkt.ifindex = relay->segment ? ss_segment_get_ifindex(relay->segment) : 0;
    if (r != SS_PARSE_OK)
      why = ss_parse_result_to_string(r);
    else if (ss_frame_check_relayable(&pkt, relay->conf->broadcast_ports,
                                      relay->conf->n_broadcast_ports, &why) &&
             !ss_frame_check_broadcast_destination(&pkt, addr, prefix, &why))
      relay->counters.deliver_not_broadcast++;
  }
  if (why) {
    relay->counters.deliver_invalid++;
    log_drop(relay, "frame from a peer refused; not emitted", why, peer);
    return SS_DELIVER_INVALID;
  }
  if (relay->peer_rate) {
    uint32_t addr_be = from ? ss_peer_get_address(from)->sin_addr.s_addr : 0;
    if (!ss_rate_allow(relay->peer_rate, addr_be, g_get_monotonic_time())) {
      relay->counters.peer_rate_limited++;
      log_rate_limited(relay, "a peer sends more frames than peer_rate_limit; dropped", addr_be,
                       peer, relay->counters.peer_rate_limited);
      return SS_DELIVER_DROPPED;
    }
  }
  if (ss_chain_run(relay->inbound, &pkt) != SS_VERDICT_PASS)
    return SS_DELIVER_DROPPED;
  uint64_t fp = 0;
  /* self_send (the original's test mode) sends the relay its own
   * captures to emit again, on purpose: no duplicate check for them. */
  if (relay->dedup && !(from && ss_peer_is_self(from))) {
    int64_t now = g_get_monotonic_time();
    fp = ss_dedup_fingerprint(relay->dedup, &pkt);
    uint8_t src[SS_ETH_ALEN];
    ss_seen seen = ss_dedup_lookup_from(relay->dedup, fp, now, src);
    /* A relay on this segment may send a frame on before this one has read
     * it off the segment itself (the loop dispatched the mesh first): what
     * the kernel captured before this frame arrived is taken first, so that
     * a frame from this segment is never emitted back onto it. */
    if (seen == SS_SEEN_NONE && relay->segment && ss_segment_has_frame(relay->segment)) {
      drain_capture(relay);
      seen = ss_dedup_lookup_from(relay->dedup, fp, now, src);
    }
    if (seen != SS_SEEN_NONE) {
      /* A frame a peer sends that was on this segment already: another
       * relay here emitted it first, if its MAC is one seen emitting or
       * the frame's source is not of this segment (else it may have come
       * round a loop, from its sender).  A relay that is always the
       * slower would never be seen emitting: it claims the segment when
       * it has the lower MAC (standby.h). */
      gboolean elsewhere = seen == SS_SEEN_RELAYED && source_elsewhere(&pkt, addr, prefix);
      if (seen == SS_SEEN_RELAYED)
        saw_emitter_mac(relay, src, !elsewhere, now);
      if (elsewhere && relay->segment && ss_standby_claim(relay->standby, src, relay->own_mac, now)) {
        char text[18];
        format_mac(text, src);
        relay->counters.standby_claimed++;
        SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_INFO,
               "another relay on this segment emits what the peers send; this relay has the lower "
               "MAC and emits a frame it emitted too, so that it stands by",
               "RELAY_MAC", text);
        ss_frame_rewrite_for_segment(&pkt, relay->own_mac, addr, prefix);
        return emit_rewritten(relay, &pkt);
      }
      relay->counters.duplicates_suppressed++;
      return SS_DELIVER_DROPPED;
    }
    ss_dedup_note(relay->dedup, fp, SS_SEEN_DELIVERED, now);
  }
  return emit(relay, &pkt, addr, prefix, fp);
}
