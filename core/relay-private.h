/* snowsignal - UDP broadcast relay
 * relay-private.h: the relay's innards, shared by relay.c (set-up) and
 * relay-path.c (the per-packet paths).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SS_CORE_RELAY_PRIVATE_H
#define SS_CORE_RELAY_PRIVATE_H

#include <snowsignal/log.h>
#include "relay.h"
#include "chain.h"
#include "dedup.h"
#include "fragment.h"
#include "frame.h"
#include "instance.h"
#include "loader.h"
#include "peer-set.h"
#include "ratelimit.h"
#include "segment.h"
#include "standby.h"

/* The part of the peer set a transport with a "peers" setting serves. */
typedef struct {
  GPtrArray *peers;            /* ss_peer *, in the peer set's order */
  GHashTable *by_addr;         /* address (network order) -> first ss_peer * */
} transport_peers;
void ss_transport_peers_free(transport_peers *tp);

struct ss_relay {
  ss_conf *conf;
  ss_loader *loader;
  ss_host *host;
  GPtrArray *instances;        /* every instance, in configuration order */
  ss_chain *outbound;
  ss_chain *inbound;
  GPtrArray *transports;       /* ss_instance *, borrowed from instances */
  /* Transports with a "peers" setting: ss_instance * -> transport_peers,
   * rebuilt with the peer set. */
  GHashTable *transport_peers;
  ss_peer_set *peers;
  ss_segment *segment;
  GMainContext *context;
  GSource *capture_source;
  GSource *reasm_timer;
  GSource *hold_timer;
  ss_reassembler *reasm;        /* captured fragments */
  ss_reassembler *reasm_in;     /* fragments from peers (SnowSignal 0.1.2 and later) */
  ss_dedup *dedup;             /* NULL when duplicate_window_ms is 0 */
  ss_standby *standby;
  ss_rate_table *source_rate;  /* NULL when source_rate_limit is 0 */
  ss_rate_table *peer_rate;    /* NULL when peer_rate_limit is 0 */
  uint8_t own_mac[SS_ETH_ALEN];
  /* Preallocated so that the packet paths never allocate. */
  uint8_t *rx_buf;
  uint8_t *tx_buf;
  uint8_t *reasm_buf;
  uint8_t *reasm_in_buf;
  uint8_t *frag_scratch;
  ss_relay_counters counters;
  ss_log_limit drop_log;        /* refused and invalid frames (zeroed: 10 s) */
  ss_log_limit overflow_log;    /* the capture ring overflowing */
  ss_log_limit rate_log;        /* rate limits */
  guint64 standby_emitted_logged; /* standby_emitted when emit_held() last ran */
  gboolean started;
};

/* ss_relay_new(), with @loader shared (referenced) instead of a new one. */
ss_relay *ss_relay_new_with_loader(ss_conf *conf, ss_loader *loader, GError **error);

/* Adds the frames the kernel dropped from the capture ring since the last
 * call to the counters; with @log, says so (a warning at most every 10 s). */
void ss_relay_take_capture_drops(ss_relay *relay, gboolean log);

void ss_relay_path_start(ss_relay *relay);
void ss_relay_path_stop(ss_relay *relay);

#endif
