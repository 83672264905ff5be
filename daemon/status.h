/* snowsignal - UDP broadcast relay
 * status.h: the relay's state as text for people or JSON for programs,
 * served by the control socket and printed by `snowsignal status`.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SS_DAEMON_STATUS_H
#define SS_DAEMON_STATUS_H

#include <glib.h>
#include "relay.h"

/* @started_us: g_get_monotonic_time() at start, for the uptime. */
char *ss_status_text(ss_relay *relay, gint64 started_us);
char *ss_status_json(ss_relay *relay, gint64 started_us);

#endif
