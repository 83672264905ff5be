/* snowsignal - UDP broadcast relay
 * test-resolve.c: the asynchronous name lookups (core/resolve.c).
 *
 * Names come from /etc/hosts ("localhost") or are reserved never to
 * resolve (RFC 6761 ".invalid"), so no test needs a DNS server.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <arpa/inet.h>
#include <glib.h>

#include "resolve.h"

typedef struct {
  gboolean called;
  guint n_addrs;
  uint32_t first;
  char *error;
  GMainContext *context;
  GThread *thread;            /* where @done ran */
} answer;

static void
on_done(const GArray *addrs, const char *error, void *user)
{
  answer *a = user;
  a->called = TRUE;
  a->thread = g_thread_self();
  if (addrs) {
    a->n_addrs = addrs->len;
    a->first = g_array_index(addrs, uint32_t, 0);
  }
  a->error = g_strdup(error);
}

/* Bounded: a lookup of a local or reserved name answers at once, and a
 * cancelled one comes back at once; a resolver that does not must fail
 * the test, not hang it.  The deadline is a source on @context, so that a
 * blocking iteration wakes for it too. */
#define WAIT_LIMIT_S 20

static gboolean
on_deadline(gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static GSource *
deadline_new(GMainContext *context, gboolean *expired)
{
  GSource *s = g_timeout_source_new_seconds(WAIT_LIMIT_S);
  g_source_set_callback(s, on_deadline, expired, NULL);
  g_source_attach(s, context);
  return s;
}

static void
deadline_free(GSource *s)
{
  g_source_destroy(s);
  g_source_unref(s);
}

static void
wait_for(GMainContext *context, const gboolean *flag)
{
  gboolean expired = FALSE;
  GSource *deadline = deadline_new(context, &expired);
  while (!*flag && !expired)
    g_main_context_iteration(context, TRUE);
  deadline_free(deadline);
  g_assert_true(*flag);
}

/* Iterates @context until every lookup has come back and been freed. */
static void
wait_all_freed(GMainContext *context)
{
  gboolean expired = FALSE;
  GSource *deadline = deadline_new(context, &expired);
  while (ss_lookup_pending() > 0 && !expired)
    g_main_context_iteration(context, TRUE);
  deadline_free(deadline);
  g_assert_cmpuint(ss_lookup_pending(), ==, 0);
}

/* "localhost" comes from /etc/hosts.  A system without one (a bare
 * debootstrap) asks DNS for it, which need not answer: skip, saying so. */
static gboolean
skipped_without_etc_hosts(void)
{
  if (g_file_test("/etc/hosts", G_FILE_TEST_EXISTS))
    return FALSE;
  g_test_skip("no /etc/hosts, where 'localhost' is looked up (a bare debootstrap has none; "
              "an installer writes \"127.0.0.1 localhost\" there)");
  return TRUE;
}

static void
test_localhost(void)
{
  if (skipped_without_etc_hosts())
    return;
  GMainContext *context = g_main_context_new();
  answer a = { 0 };
  ss_lookup_start("localhost", context, on_done, &a);
  wait_for(context, &a.called);
  g_assert_null(a.error);
  g_assert_cmpuint(a.n_addrs, >=, 1);
  g_assert_cmpuint(a.first, ==, htonl(INADDR_LOOPBACK));
  /* Delivered on the context's thread, not the worker's. */
  g_assert_true(a.thread == g_thread_self());
  wait_all_freed(context);
  g_main_context_unref(context);
}

static void
test_failure(void)
{
  GMainContext *context = g_main_context_new();
  answer a = { 0 };
  ss_lookup_start("no-such-host.invalid", context, on_done, &a);
  wait_for(context, &a.called);
  g_assert_cmpuint(a.n_addrs, ==, 0);
  g_assert_nonnull(a.error);
  g_assert_cmpstr(a.error, !=, "");
  g_free(a.error);
  wait_all_freed(context);
  g_main_context_unref(context);
}

/* A cancelled lookup never calls back: each one, cancelled at once or
 * after its worker may have started, comes back through the context to be
 * freed without calling @done. */
static void
test_cancel(void)
{
  GMainContext *context = g_main_context_new();
  enum { N = 8 };
  answer cancelled[N] = { { 0 } };
  g_assert_cmpuint(ss_lookup_pending(), ==, 0);
  for (int i = 0; i < N; i++) {
    ss_lookup *l = ss_lookup_start(i % 2 ? "localhost" : "", context, on_done, &cancelled[i]);
    if (i >= N / 2)
      g_usleep(2000); /* some of them already in getaddrinfo() when cancelled */
    ss_lookup_cancel(l);
  }
  wait_all_freed(context);
  for (int i = 0; i < N; i++)
    g_assert_false(cancelled[i].called);
  g_main_context_unref(context);
}

/* Several at once, each answered once (the failing ones are empty names,
 * which fail without asking a DNS server). */
static void
test_many(void)
{
  if (skipped_without_etc_hosts())
    return;
  GMainContext *context = g_main_context_new();
  enum { N = 12 };
  answer a[N] = { { 0 } };
  for (int i = 0; i < N; i++)
    ss_lookup_start(i % 2 ? "localhost" : "", context, on_done, &a[i]);
  for (int i = 0; i < N; i++)
    wait_for(context, &a[i].called);
  for (int i = 0; i < N; i++) {
    if (i % 2)
      g_assert_cmpuint(a[i].n_addrs, >=, 1);
    else
      g_assert_cmpuint(a[i].n_addrs, ==, 0);
    g_assert_true((a[i].error == NULL) == (i % 2 == 1));
    g_free(a[i].error);
  }
  wait_all_freed(context);
  g_main_context_unref(context);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/resolve/localhost", test_localhost);
  g_test_add_func("/resolve/failure", test_failure);
  g_test_add_func("/resolve/cancel", test_cancel);
  g_test_add_func("/resolve/many", test_many);
  return g_test_run();
}
