/* snowsignal - UDP broadcast relay
 * test-dtls-session.c: the dtls transport's session table: slots keyed by
 * address and port, a pending association replacing the established one
 * only when it completes (the replaced one kept as previous for the
 * make-before-break overlap), and the caps on half-open handshakes, server
 * and client side.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <arpa/inet.h>
#include <glib.h>

#include "session.h"

static guint freed;

static void
count_free(dtls_conn *conn)
{
  freed++;
}

static struct sockaddr_in
addr(const char *ip, uint16_t port)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

static void
test_replace_on_completion(void)
{
  dtls_table *t = dtls_table_new(4, count_free);
  struct sockaddr_in a = addr("192.0.2.1", 7125);
  freed = 0;
  dtls_conn *first = dtls_table_begin(t, &a, DTLS_ROLE_CLIENT, 1);
  g_assert_nonnull(first);
  dtls_slot *slot = dtls_table_lookup(t, &a);
  g_assert_true(slot->pending == first && slot->current == NULL);
  dtls_table_established(t, first);
  g_assert_true(slot->current == first && slot->pending == NULL && first->established);
  /* A restarted peer's new handshake: the old association serves until
   * the new one completes. */
  dtls_conn *second = dtls_table_begin(t, &a, DTLS_ROLE_SERVER, 2);
  g_assert_true(slot->current == first && slot->pending == second);
  g_assert_cmpuint(dtls_table_half_open(t), ==, 1);
  dtls_table_established(t, second);
  g_assert_true(slot->current == second && slot->pending == NULL && slot->previous == first);
  g_assert_cmpuint(freed, ==, 0);
  g_assert_cmpuint(dtls_table_half_open(t), ==, 0);
  /* A re-key: the older previous one goes. */
  dtls_conn *third = dtls_table_begin(t, &a, DTLS_ROLE_CLIENT, 3);
  dtls_table_established(t, third);
  g_assert_true(slot->current == third && slot->previous == second);
  g_assert_cmpuint(freed, ==, 1);
  /* The end of the overlap; then the slot lives while any association does. */
  dtls_table_drop(t, second);
  g_assert_true(slot->previous == NULL && slot->current == third);
  dtls_table_established(t, dtls_table_begin(t, &a, DTLS_ROLE_CLIENT, 4));
  dtls_table_drop(t, slot->current);
  g_assert_true(dtls_table_lookup(t, &a) == slot && slot->previous == third);
  dtls_table_drop(t, third);
  g_assert_null(dtls_table_lookup(t, &a));
  g_assert_cmpuint(freed, ==, 4);
  dtls_table_free(t);
}

static void
test_keyed_by_port(void)
{
  dtls_table *t = dtls_table_new(4, count_free);
  struct sockaddr_in a = addr("192.0.2.1", 7125), b = addr("192.0.2.1", 40000);
  struct sockaddr_in c = addr("192.0.2.2", 7125);
  dtls_table_begin(t, &a, DTLS_ROLE_CLIENT, 1);
  dtls_conn *conn_b = dtls_table_begin(t, &b, DTLS_ROLE_SERVER, 1);
  g_assert_cmpuint(dtls_table_size(t), ==, 2);
  g_assert_true(dtls_table_lookup(t, &a) != dtls_table_lookup(t, &b));
  g_assert_null(dtls_table_lookup(t, &c));
  g_assert_null(dtls_table_find_established(t, a.sin_addr.s_addr));
  dtls_table_established(t, conn_b);
  g_assert_true(dtls_table_find_established(t, a.sin_addr.s_addr) == dtls_table_lookup(t, &b));
  g_assert_null(dtls_table_find_established(t, c.sin_addr.s_addr));
  freed = 0;
  dtls_table_free(t);
  g_assert_cmpuint(freed, ==, 2);
}

/* Verified ClientHellos from many ports keep at most max_half_open
 * handshakes; a client handshake (this relay's own) has a cap of its own. */
static void
test_half_open_cap(void)
{
  dtls_table *t = dtls_table_new(3, count_free);
  dtls_conn *conns[3];
  for (uint16_t i = 0; i < 3; i++) {
    struct sockaddr_in a = addr("192.0.2.9", (uint16_t) (1000 + i));
    conns[i] = dtls_table_begin(t, &a, DTLS_ROLE_SERVER, 1);
    g_assert_nonnull(conns[i]);
  }
  struct sockaddr_in more = addr("192.0.2.9", 2000);
  g_assert_null(dtls_table_begin(t, &more, DTLS_ROLE_SERVER, 1));
  g_assert_null(dtls_table_lookup(t, &more));
  g_assert_nonnull(dtls_table_begin(t, &more, DTLS_ROLE_CLIENT, 1));
  /* Replacing a pending server handshake of the same address is allowed. */
  struct sockaddr_in again = addr("192.0.2.9", 1000);
  g_assert_nonnull(dtls_table_begin(t, &again, DTLS_ROLE_SERVER, 2));
  g_assert_cmpuint(dtls_table_half_open(t), ==, 3);
  /* So is replacing a client handshake of ours by the peer's (a role
   * conflict after a restart): bounded by one pending per slot. */
  g_assert_nonnull(dtls_table_begin(t, &more, DTLS_ROLE_SERVER, 2));
  g_assert_cmpuint(dtls_table_half_open(t), ==, 4);
  dtls_table_drop(t, dtls_table_lookup(t, &more)->pending);
  g_assert_cmpuint(dtls_table_half_open(t), ==, 3);
  /* A failed handshake frees its place. */
  dtls_table_drop(t, conns[1]);
  g_assert_cmpuint(dtls_table_half_open(t), ==, 2);
  struct sockaddr_in other = addr("192.0.2.9", 3000);
  g_assert_nonnull(dtls_table_begin(t, &other, DTLS_ROLE_SERVER, 3));
  dtls_table_free(t);
}

/* The handshakes this relay opens (to every address of a DNS answer, say)
 * are bounded as the server ones are; the peers over the cap wait. */
static void
test_client_half_open_cap(void)
{
  dtls_table *t = dtls_table_new(2, count_free);
  struct sockaddr_in a = addr("203.0.113.1", 7125), b = addr("203.0.113.2", 7125);
  struct sockaddr_in c = addr("203.0.113.3", 7125);
  dtls_conn *ca = dtls_table_begin(t, &a, DTLS_ROLE_CLIENT, 1);
  dtls_conn *cb = dtls_table_begin(t, &b, DTLS_ROLE_CLIENT, 1);
  g_assert_true(ca && cb);
  g_assert_cmpuint(dtls_table_half_open_clients(t), ==, 2);
  g_assert_null(dtls_table_begin(t, &c, DTLS_ROLE_CLIENT, 1));
  g_assert_null(dtls_table_lookup(t, &c));
  /* The server side is counted apart: a peer's ClientHello still gets in. */
  g_assert_nonnull(dtls_table_begin(t, &c, DTLS_ROLE_SERVER, 1));
  g_assert_cmpuint(dtls_table_half_open(t), ==, 1);
  dtls_table_drop(t, dtls_table_lookup(t, &c)->pending);
  /* A retry to the same address replaces its own pending handshake. */
  g_assert_nonnull(dtls_table_begin(t, &a, DTLS_ROLE_CLIENT, 2));
  g_assert_cmpuint(dtls_table_half_open_clients(t), ==, 2);
  /* A completed handshake frees its place, and so does a failed one. */
  dtls_table_established(t, cb);
  g_assert_cmpuint(dtls_table_half_open_clients(t), ==, 1);
  dtls_conn *cc = dtls_table_begin(t, &c, DTLS_ROLE_CLIENT, 3);
  g_assert_nonnull(cc);
  g_assert_null(dtls_table_begin(t, &b, DTLS_ROLE_CLIENT, 3)); /* a re-key waits too */
  dtls_table_drop(t, cc);
  g_assert_cmpuint(dtls_table_half_open_clients(t), ==, 1);
  g_assert_nonnull(dtls_table_begin(t, &b, DTLS_ROLE_CLIENT, 4));
  dtls_table_free(t);
}

static void
test_kept_slot(void)
{
  dtls_table *t = dtls_table_new(1, count_free);
  struct sockaddr_in a = addr("198.51.100.4", 7125);
  dtls_slot *slot = dtls_table_ensure(t, &a);
  slot->keep = TRUE;
  dtls_conn *conn = dtls_table_begin(t, &a, DTLS_ROLE_CLIENT, 1);
  g_assert_true(conn->slot == slot);
  dtls_table_drop(t, conn);
  /* A configured peer's slot outlives its associations (retry state). */
  g_assert_true(dtls_table_lookup(t, &a) == slot);
  dtls_table_remove(t, slot);
  g_assert_cmpuint(dtls_table_size(t), ==, 0);
  dtls_table_free(t);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/dtls/session/replace-on-completion", test_replace_on_completion);
  g_test_add_func("/dtls/session/keyed-by-port", test_keyed_by_port);
  g_test_add_func("/dtls/session/half-open-cap", test_half_open_cap);
  g_test_add_func("/dtls/session/client-half-open-cap", test_client_half_open_cap);
  g_test_add_func("/dtls/session/kept-slot", test_kept_slot);
  return g_test_run();
}
