/* snowsignal - UDP broadcast relay
 * peer-set.h: the relays this one sends to, shared by all transports.
 *
 * Literal addresses are taken as they are; names (and tasks.<SERVICENAME>)
 * are resolved asynchronously now and every `refresh` seconds.  A failed
 * lookup keeps the name's last good addresses.  This host's own addresses
 * are never peers.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SS_CORE_PEER_SET_H
#define SS_CORE_PEER_SET_H

#include <netinet/in.h>
#include <glib.h>
#include <snowsignal/plugin.h>
#include "conffile.h"
#include "host.h"

typedef struct ss_peer_set ss_peer_set;

typedef struct {
  guint64 lookups;
  guint64 lookup_failures;
  guint64 lookup_truncated;   /* answers with more addresses than max_per_name */
} ss_peer_set_counters;

/* Parses the configured peers; errors name the bad entry and its origin. */
ss_peer_set *ss_peer_set_new(const ss_conf *conf, ss_host *host, GError **error);
void ss_peer_set_free(ss_peer_set *set);

/* Starts resolution on @context; @changed runs after each change of the set. */
void ss_peer_set_start(ss_peer_set *set, GMainContext *context,
                       void (*changed)(void *user), void *user);
void ss_peer_set_stop(ss_peer_set *set);

/* Takes the peers of @from, the set @set replaces on a reload: a peer of
 * @set that comes up with the same address, port and origin (now, or once
 * its name resolves) is that peer, counters and all.  @from is left empty. */
void ss_peer_set_inherit(ss_peer_set *set, ss_peer_set *from);

/* Recomputes the set (e.g. after this host's addresses changed). */
void ss_peer_set_rebuild(ss_peer_set *set);

const GPtrArray *ss_peer_set_get(const ss_peer_set *set);
ss_peer *ss_peer_set_find(const ss_peer_set *set, uint32_t addr_be);
/* The peers.hosts entry (or tasks.<service>) @peer came from, as written. */
const char *ss_peer_get_spec(const ss_peer *peer);
/* Whether @peer is this relay itself, sent to because self_send is on and
 * there is no other peer. */
gboolean ss_peer_is_self(const ss_peer *peer);
const ss_peer_set_counters *ss_peer_set_get_counters(const ss_peer_set *set);

/* Peer statistics for status output. */
typedef struct {
  guint64 sent;
  guint64 received;
  guint64 errors;
  gint64 last_sent_us;      /* g_get_real_time(), 0 = never */
  gint64 last_received_us;
  const char *last_error;
  /* Peer health (ss_peer_note_heartbeat()): round trips in microseconds,
   * 0 until the first answer; the smoothed one as TCP's SRTT (RFC 6298). */
  guint64 heartbeats_answered;
  guint64 heartbeats_lost;
  gint64 rtt_last_us;
  gint64 rtt_min_us;
  gint64 rtt_smoothed_us;
} ss_peer_stats;
const ss_peer_stats *ss_peer_get_stats(const ss_peer *peer);

#endif
