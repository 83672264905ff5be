/* snowsignal - UDP broadcast relay
 * peer-private.h: a peer's innards, shared by peer-set.c (the set) and
 * plugin-services.c (what transports report about a peer).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SS_CORE_PEER_PRIVATE_H
#define SS_CORE_PEER_PRIVATE_H

#include <netinet/in.h>
#include "peer-set.h"

struct ss_peer {
  char *name;                 /* as configured */
  char *spec;                 /* the peers.hosts entry it came from, as written */
  char *resolved_from;        /* DNS name, or NULL for a literal */
  struct sockaddr_in addr;
  ss_peer_state state;
  ss_peer_stats stats;
  char *last_error;
  /* Heartbeats: once one was answered, they alone say up or down. */
  gboolean health;
  gboolean self;              /* self_send's 127.0.0.1 */
  unsigned lost_in_row, answered_in_row;
};

#endif
