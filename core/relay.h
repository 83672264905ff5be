/* snowsignal - UDP broadcast relay
 * relay.h: the relay — configuration, plugin instances, chains, peers,
 * capture and rebroadcast, wired together on one GLib main loop.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SS_CORE_RELAY_H
#define SS_CORE_RELAY_H

#include <glib.h>
#include <snowsignal/plugin.h>
#include "conffile.h"
#include "host.h"
#include "chain.h"
#include "loader.h"

typedef struct ss_relay ss_relay;

/* What happened to frames on the relay's own paths. */
typedef struct {
  guint64 captured;            /* frames read from the segment */
  guint64 capture_invalid;     /* not Ethernet/IPv4/UDP as the filter promised */
  guint64 capture_truncated;   /* longer than the receive buffer */
  guint64 capture_errors;      /* read errors */
  guint64 capture_dropped;     /* dropped by the kernel: the capture ring was full */
  guint64 fragments;           /* IPv4 fragments handed to reassembly */
  guint64 reassembled;         /* whole datagrams rebuilt from fragments */
  guint64 relayed;             /* passed the outbound chain, given to transports */
  guint64 delivered;           /* frames transports received from peers */
  guint64 deliver_fragments;   /* of those, IPv4 fragments handed to reassembly */
  guint64 deliver_reassembled; /* whole datagrams rebuilt from them */
  guint64 deliver_invalid;     /* refused: not a frame the relay may emit */
  guint64 deliver_not_broadcast; /* of those, not an IPv4 broadcast */
  guint64 duplicates_suppressed; /* sent or emitted within the window already */
  guint64 standby_held;        /* held: another relay here emits (standby.h) */
  guint64 standby_emitted;     /* of those, emitted: nobody else did in time */
  guint64 standby_claimed;     /* emitted though a higher relay here had, so it stands by */
  guint64 source_rate_limited; /* captured, over source_rate_limit for their IP source */
  guint64 peer_rate_limited;   /* from a peer over peer_rate_limit */
  guint64 emitted;             /* broadcast on the segment */
  guint64 emit_fragmented;     /* of those, sent as IPv4 fragments */
  guint64 emit_errors;         /* segment send failures, too big with DF */
} ss_relay_counters;

/* Loads the plugins @conf names, creates every instance (settings checked
 * against the plugins' declared keys) and builds the chains.  Opens no
 * socket: ss_relay_start() does.  Takes ownership of @conf. */
ss_relay *ss_relay_new(ss_conf *conf, GError **error);

/* Opens capture, emit and transport sockets, starts instances and peer
 * resolution on @context. */
gboolean ss_relay_start(ss_relay *relay, GMainContext *context, GError **error);
/* Stops instances and closes sockets; safe to call when not started. */
void ss_relay_stop(ss_relay *relay);
void ss_relay_free(ss_relay *relay);

const ss_conf *ss_relay_get_conf(const ss_relay *relay);
/* Whether ss_relay_start() succeeded and the relay was not stopped since. */
gboolean ss_relay_is_running(const ss_relay *relay);
ss_host *ss_relay_get_host(ss_relay *relay);
/* The instance named @name in the configuration, or NULL. */
ss_instance *ss_relay_find_instance(ss_relay *relay, const char *name);

/* Runs the outbound chain over a captured frame and hands what passes to
 * the transports (the capture path, also used by tests and benchmarks). */
void ss_relay_handle_captured(ss_relay *relay, uint8_t *frame, size_t len, int ifindex);

/* The counters, up to date: frames the kernel dropped from the capture
 * ring since the last frame read are taken in first. */
const ss_relay_counters *ss_relay_get_counters(ss_relay *relay);
/* Whether the relay is on standby (standby.h): another relay on its
 * segment, whose MAC is put in @mac, emits what the peers send. */
gboolean ss_relay_get_standby(const ss_relay *relay, uint8_t mac[SS_ETH_ALEN]);
const ss_chain *ss_relay_get_chain(const ss_relay *relay, ss_direction direction);
const GPtrArray *ss_relay_get_peers(const ss_relay *relay);
const GPtrArray *ss_relay_get_transports(const ss_relay *relay);
ss_loader *ss_relay_get_loader(ss_relay *relay);

/* The inbound path for a frame a transport received (from @from, NULL for
 * a stranger a transport chose to accept): checks, the inbound chain, the
 * rewrite for this segment and the broadcast.  @frame is copied. */
ss_deliver_result ss_relay_deliver(ss_relay *relay, ss_peer *from, const uint8_t *frame,
                                   size_t len);

/* Reload: builds a relay from @conf (all its plugins loaded, every instance
 * created and checked) while *@relay keeps running; if that fails, *@relay
 * is untouched and FALSE is returned with @error.  Otherwise instances
 * whose plugin and settings did not change are moved over with their state,
 * sockets and counters, the segment socket is handed over when the
 * interface and ports are the same, the old relay is stopped and freed, the
 * new one started and stored in *@relay.  Because no socket that stays is
 * ever closed, frames that arrive meanwhile wait in the kernel: none is
 * lost.  When the new relay fails to start (a port taken or privileged,
 * say), a relay of the previous configuration is built and started in its
 * place, taking back the instances and socket still open, and the new one
 * freed: FALSE is returned with @error, and *@relay is the relay left, the
 * restored one, running unless its start failed too, or the failed new one
 * when the previous configuration could not even be built again
 * (ss_relay_is_running() tells which case it is).  Takes @conf. */
gboolean ss_relay_reload(ss_relay **relay, ss_conf *conf, GError **error);

/* Writes every counter (chains, instances, peers, relay) to the log. */
void ss_relay_log_stats(ss_relay *relay);

#endif
