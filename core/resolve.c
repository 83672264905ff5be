/* snowsignal - UDP broadcast relay
 * resolve.c: asynchronous IPv4 name lookups with GIO's GResolver.
 *
 * A lookup is one GResolver request and its GCancellable.  The handle the
 * asker holds and the request in flight each own a reference; whichever
 * lets go last frees it.  GResolver runs getaddrinfo() in GIO's worker
 * threads and calls back on the context that was the thread's default
 * when the lookup started (pushed here for the asker's context), so the
 * answer, a cancellation included, always comes back there.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <stdint.h>
#include <string.h>
#include <gio/gio.h>

#include "resolve.h"

struct ss_lookup {
  gint refs;                  /* touched on the asker's context only */
  GCancellable *cancellable;
  ss_lookup_done_fn done;     /* NULL once cancelled or done */
  void *user;
};

/* Lookups not yet freed, for ss_lookup_pending(). */
static guint live;

static void
lookup_unref(ss_lookup *l)
{
  if (--l->refs > 0)
    return;
  live--;
  g_object_unref(l->cancellable);
  g_free(l);
}

static gint
compare_addr(gconstpointer a, gconstpointer b)
{
  uint32_t x = g_ntohl(*(const uint32_t *) a), y = g_ntohl(*(const uint32_t *) b);
  return x < y ? -1 : x > y;
}

/* The IPv4 addresses of @list, sorted, each once; NULL when there is none. */
static GArray *
ipv4_addresses(GList *list)
{
  GArray *addrs = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  for (GList *i = list; i; i = i->next) {
    GInetAddress *a = i->data;
    if (g_inet_address_get_family(a) != G_SOCKET_FAMILY_IPV4)
      continue;
    uint32_t v; /* network order, as g_inet_address_to_bytes() gives it */
    memcpy(&v, g_inet_address_to_bytes(a), sizeof v);
    g_array_append_val(addrs, v);
  }
  g_array_sort(addrs, compare_addr);
  for (guint i = 1; i < addrs->len;)
    if (g_array_index(addrs, uint32_t, i) == g_array_index(addrs, uint32_t, i - 1))
      g_array_remove_index(addrs, i);
    else
      i++;
  if (addrs->len == 0)
    g_clear_pointer(&addrs, g_array_unref);
  return addrs;
}

/* On the asker's context, once per lookup, cancelled or not. */
static void
on_resolved(GObject *resolver, GAsyncResult *result, gpointer user_data)
{
  ss_lookup *l = user_data;
  GError *error = NULL;
  GList *list = g_resolver_lookup_by_name_with_flags_finish(G_RESOLVER(resolver), result, &error);
  ss_lookup_done_fn done = l->done;
  if (done) {
    GArray *addrs = list ? ipv4_addresses(list) : NULL;
    l->done = NULL;
    done(addrs, addrs ? NULL : error ? error->message : "no IPv4 address", l->user);
    if (addrs)
      g_array_unref(addrs);
    lookup_unref(l); /* the handle's reference: the lookup is over */
  }
  g_resolver_free_addresses(list);
  g_clear_error(&error);
  lookup_unref(l); /* the request's */
}

ss_lookup *
ss_lookup_start(const char *host, GMainContext *context, ss_lookup_done_fn done, void *user)
{
  ss_lookup *l = g_new0(ss_lookup, 1);
  l->refs = 2; /* the handle and the request */
  live++;
  l->cancellable = g_cancellable_new();
  l->done = done;
  l->user = user;
  GResolver *resolver = g_resolver_get_default();
  g_main_context_push_thread_default(context);
  g_resolver_lookup_by_name_with_flags_async(resolver, host, G_RESOLVER_NAME_LOOKUP_FLAGS_IPV4_ONLY,
                                             l->cancellable, on_resolved, l);
  g_main_context_pop_thread_default(context);
  g_object_unref(resolver);
  return l;
}

void
ss_lookup_cancel(ss_lookup *lookup)
{
  if (!lookup)
    return;
  lookup->done = NULL;
  /* The request comes back at once with G_IO_ERROR_CANCELLED, through its
   * context, and drops the last reference there. */
  g_cancellable_cancel(lookup->cancellable);
  lookup_unref(lookup);
}

guint
ss_lookup_pending(void)
{
  return live;
}
