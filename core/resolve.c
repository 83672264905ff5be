/* snowsignal - UDP broadcast relay
 * resolve.c: asynchronous IPv4 name lookups.
 *
 * A lookup is shared by the thread that asked (its handle) and a worker
 * (the job): each holds a reference, and whichever lets go last frees it.
 * Only the asking thread reads or clears @done, so cancelling needs no
 * lock; the worker only fills in the answer before handing the lookup
 * back through an idle source on the asker's context.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "resolve.h"

/* Lookups that may wait on the network at once; more wait in the queue. */
#define SS_LOOKUP_THREADS 4

struct ss_lookup {
  gint refs;
  gint cancelled;             /* set by the asker, read by the worker */
  char *host;
  GMainContext *context;
  ss_lookup_done_fn done;     /* asking thread only; NULL once cancelled or done */
  void *user;
  GArray *addrs;              /* the answer, written by the worker */
  char *error;
};

/* Lookups not yet freed, for ss_lookup_pending(). */
static gint live;

static void
lookup_unref(gpointer p)
{
  ss_lookup *l = p;
  if (!g_atomic_int_dec_and_test(&l->refs))
    return;
  g_atomic_int_add(&live, -1);
  g_free(l->host);
  g_main_context_unref(l->context);
  if (l->addrs)
    g_array_unref(l->addrs);
  g_free(l->error);
  g_free(l);
}

static gint
compare_addr(gconstpointer a, gconstpointer b)
{
  uint32_t x = g_ntohl(*(const uint32_t *) a), y = g_ntohl(*(const uint32_t *) b);
  return x < y ? -1 : x > y;
}

/* On the asker's context. */
static gboolean
lookup_deliver(gpointer p)
{
  ss_lookup *l = p;
  ss_lookup_done_fn done = l->done;
  if (done) {
    l->done = NULL;
    done(l->addrs, l->error, l->user);
    lookup_unref(l); /* the handle's reference: the lookup is over */
  }
  return G_SOURCE_REMOVE;
}

/* In a worker thread. */
static void
lookup_run(gpointer p, gpointer pool_data)
{
  ss_lookup *l = p;
  struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_DGRAM };
  struct addrinfo *res = NULL;
  /* Cancelled while it waited in the queue (a reload while DNS is slow):
   * no need to ask at all. */
  int rc = g_atomic_int_get(&l->cancelled) ? EAI_NONAME : getaddrinfo(l->host, NULL, &hints, &res);
  if (rc == 0) {
    l->addrs = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
      if (ai->ai_family == AF_INET)
        g_array_append_val(l->addrs, ((struct sockaddr_in *) ai->ai_addr)->sin_addr.s_addr);
    freeaddrinfo(res);
    g_array_sort(l->addrs, compare_addr);
    for (guint i = 1; i < l->addrs->len;)
      if (g_array_index(l->addrs, uint32_t, i) == g_array_index(l->addrs, uint32_t, i - 1))
        g_array_remove_index(l->addrs, i);
      else
        i++;
    if (l->addrs->len == 0) {
      g_clear_pointer(&l->addrs, g_array_unref);
      l->error = g_strdup("no IPv4 address");
    }
  } else {
    l->error = g_strdup(rc == EAI_SYSTEM ? g_strerror(errno) : gai_strerror(rc));
  }
  /* The job's reference goes with the source, dropped once it has run:
   * the context must go on being iterated until then (the lookup holds a
   * reference to it), cancelled lookups included. */
  GSource *source = g_idle_source_new();
  g_source_set_priority(source, G_PRIORITY_DEFAULT);
  g_source_set_callback(source, lookup_deliver, l, lookup_unref);
  g_source_attach(source, l->context);
  g_source_unref(source);
}

static GThreadPool *
pool(void)
{
  static GThreadPool *shared;
  if (g_once_init_enter(&shared)) {
    GThreadPool *p = g_thread_pool_new(lookup_run, NULL, SS_LOOKUP_THREADS, FALSE, NULL);
    g_once_init_leave(&shared, p);
  }
  return shared;
}

ss_lookup *
ss_lookup_start(const char *host, GMainContext *context, ss_lookup_done_fn done, void *user)
{
  ss_lookup *l = g_new0(ss_lookup, 1);
  l->refs = 2; /* the handle and the job */
  g_atomic_int_inc(&live);
  l->host = g_strdup(host);
  l->context = g_main_context_ref(context ? context : g_main_context_default());
  l->done = done;
  l->user = user;
  g_thread_pool_push(pool(), l, NULL);
  return l;
}

void
ss_lookup_cancel(ss_lookup *lookup)
{
  if (!lookup)
    return;
  lookup->done = NULL;
  g_atomic_int_set(&lookup->cancelled, 1);
  lookup_unref(lookup);
}

guint
ss_lookup_pending(void)
{
  return (guint) g_atomic_int_get(&live);
}
