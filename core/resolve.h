/* snowsignal - UDP broadcast relay
 * resolve.h: asynchronous IPv4 name lookups (getaddrinfo() in a worker
 * thread, the answer delivered on a main context).
 *
 * GLib's own GResolver would do, but it lives in GIO, which with its
 * dependencies (GObject, libmount, libselinux, libblkid, zlib, libffi)
 * costs a relay over 1 MB of resident memory for this one call.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SS_CORE_RESOLVE_H
#define SS_CORE_RESOLVE_H

#include <glib.h>

typedef struct ss_lookup ss_lookup;

/* Called on the lookup's context: @addrs (uint32_t, network order, sorted,
 * no duplicates) when the name resolved to at least one IPv4 address, or
 * NULL and @error saying why not.  The lookup is over once this returns:
 * its handle is no longer valid. */
typedef void (*ss_lookup_done_fn)(const GArray *addrs, const char *error, void *user);

/* Starts resolving @host.  The worker threads are started on first use
 * (so after the daemon has given up root) and shared by every lookup. */
ss_lookup *ss_lookup_start(const char *host, GMainContext *context, ss_lookup_done_fn done,
                           void *user);
/* Abandons a lookup in flight: @done is never called.  A lookup still
 * queued is not asked at all; one in getaddrinfo() finishes, and what it
 * finds is thrown away.  Either way it comes back through its context once
 * more to be freed: keep iterating the context (the daemon's loop does). */
void ss_lookup_cancel(ss_lookup *lookup);
/* Lookups started and not yet freed (for tests). */
guint ss_lookup_pending(void);

#endif
