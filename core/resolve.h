/* snowsignal - UDP broadcast relay
 * resolve.h: asynchronous IPv4 name lookups (GIO's GResolver, the answer
 * delivered on a main context).  The peer set's one way to ask DNS.
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

/* Starts resolving @host.  GIO's worker threads are started on first use
 * (so after the daemon has given up root) and shared by every lookup.
 * Not thread-safe: start, cancel and iterate @context on one thread. */
ss_lookup *ss_lookup_start(const char *host, GMainContext *context, ss_lookup_done_fn done,
                           void *user);
/* Abandons a lookup in flight: @done is never called.  The request comes
 * back through its context once more, at once, to be freed (a getaddrinfo()
 * already running finishes in its thread, and what it finds is thrown
 * away): keep iterating the context (the daemon's loop does). */
void ss_lookup_cancel(ss_lookup *lookup);
/* Lookups started and not yet freed (for tests). */
guint ss_lookup_pending(void);

#endif
