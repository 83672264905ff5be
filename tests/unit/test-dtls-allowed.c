/* snowsignal - UDP broadcast relay
 * test-dtls-allowed.c: the dtls transport's allowed_peers list: bare
 * identities allowed from anywhere, "identity@host" bound to an IPv4
 * address or to a name of peers.hosts, "@*" for identities that hold a
 * '@', and malformed entries refused with the setting's origin; and the
 * escaping of what a peer chose before it is logged.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>
#include <arpa/inet.h>
#include <glib.h>

#include "allowed.h"

static gboolean
same(const char *entry, void *user)
{
  return g_strcmp0(entry, user) == 0;
}

static struct in_addr
ip(const char *text)
{
  struct in_addr a;
  g_assert_cmpint(inet_pton(AF_INET, text, &a), ==, 1);
  return a;
}

static dtls_allowed *
parse(const char *const *entries)
{
  GError *error = NULL;
  dtls_allowed *a = dtls_allowed_new(entries, "test.conf:3", &error);
  g_assert_no_error(error);
  return a;
}

static void
test_empty_allows_all(void)
{
  dtls_allowed *a = parse(NULL);
  g_assert_true(dtls_allowed_is_empty(a));
  g_assert_cmpint(dtls_allowed_check(a, ip("192.0.2.1"), NULL, same, "anyone", NULL), ==, DTLS_ALLOWED);
  dtls_allowed_free(a);
  const char *const none[] = { NULL };
  a = parse(none);
  g_assert_true(dtls_allowed_is_empty(a));
  dtls_allowed_free(a);
}

static void
test_bare_identity_any_address(void)
{
  const char *const e[] = { "relay-a", NULL };
  dtls_allowed *a = parse(e);
  g_assert_cmpint(dtls_allowed_check(a, ip("192.0.2.1"), NULL, same, "relay-a", NULL), ==, DTLS_ALLOWED);
  g_assert_cmpint(dtls_allowed_check(a, ip("198.51.100.7"), NULL, same, "relay-a", NULL), ==, DTLS_ALLOWED);
  g_assert_cmpint(dtls_allowed_check(a, ip("192.0.2.1"), NULL, same, "relay-b", NULL), ==, DTLS_UNLISTED);
  dtls_allowed_free(a);
}

static void
test_bound_to_address(void)
{
  const char *const e[] = { "relay-a@192.0.2.1", "relay-c@192.0.2.3", NULL };
  dtls_allowed *a = parse(e);
  const char *expected = NULL;
  g_assert_cmpint(dtls_allowed_check(a, ip("192.0.2.1"), NULL, same, "relay-a", &expected), ==, DTLS_ALLOWED);
  /* relay-c's key, used from relay-a's address. */
  g_assert_cmpint(dtls_allowed_check(a, ip("192.0.2.1"), NULL, same, "relay-c", &expected), ==,
                  DTLS_WRONG_ADDRESS);
  g_assert_cmpstr(expected, ==, "192.0.2.3");
  g_assert_cmpint(dtls_allowed_check(a, ip("192.0.2.9"), NULL, same, "relay-a", NULL), ==,
                  DTLS_WRONG_ADDRESS);
  /* The whole entry is no identity of its own. */
  g_assert_cmpint(dtls_allowed_check(a, ip("192.0.2.1"), NULL, same, "relay-a@192.0.2.1", NULL), ==,
                  DTLS_UNLISTED);
  dtls_allowed_free(a);
}

static void
test_bound_to_name(void)
{
  const char *const e[] = { "relay-b@relay-b.example", "relay-b@192.0.2.20", NULL };
  dtls_allowed *a = parse(e);
  g_assert_cmpint(dtls_allowed_check(a, ip("192.0.2.2"), "relay-b.example", same, "relay-b", NULL), ==,
                  DTLS_ALLOWED);
  g_assert_cmpint(dtls_allowed_check(a, ip("192.0.2.2"), "RELAY-B.example", same, "relay-b", NULL), ==,
                  DTLS_ALLOWED);
  /* Either binding of the same identity will do. */
  g_assert_cmpint(dtls_allowed_check(a, ip("192.0.2.20"), NULL, same, "relay-b", NULL), ==, DTLS_ALLOWED);
  /* A literal peer address, or another name's, is not the bound name. */
  g_assert_cmpint(dtls_allowed_check(a, ip("192.0.2.2"), NULL, same, "relay-b", NULL), ==,
                  DTLS_WRONG_ADDRESS);
  g_assert_cmpint(dtls_allowed_check(a, ip("192.0.2.2"), "tasks.other", same, "relay-b", NULL), ==,
                  DTLS_WRONG_ADDRESS);
  dtls_allowed_free(a);
}

static void
test_identity_with_at(void)
{
  const char *const e[] = { "ops@site@*", "ops@lab@192.0.2.5", NULL };
  dtls_allowed *a = parse(e);
  g_assert_cmpint(dtls_allowed_check(a, ip("203.0.113.1"), NULL, same, "ops@site", NULL), ==, DTLS_ALLOWED);
  g_assert_cmpint(dtls_allowed_check(a, ip("192.0.2.5"), NULL, same, "ops@lab", NULL), ==, DTLS_ALLOWED);
  g_assert_cmpint(dtls_allowed_check(a, ip("192.0.2.6"), NULL, same, "ops@lab", NULL), ==,
                  DTLS_WRONG_ADDRESS);
  dtls_allowed_free(a);
}

static void
test_malformed(void)
{
  const char *const bad[][2] = { { "@192.0.2.1", NULL }, { "relay-a@", NULL }, { "", NULL } };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    GError *error = NULL;
    g_assert_null(dtls_allowed_new(bad[i], "test.conf:3", &error));
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "test.conf:3"));
    g_assert_nonnull(strstr(error->message, "identity@host"));
    g_error_free(error);
  }
}

static void
test_peer_text(void)
{
  static const struct { const char *in, *out; } cases[] = {
    { "relay-b", "relay-b" },
    { "CN=relay b,O=site", "CN=relay b,O=site" },
    { "a\"b", "a\\x22b" },
    { "x\nsnowsignal[snowsignal] NOTICE: forged", "x\\x0asnowsignal[snowsignal] NOTICE: forged" },
    { "esc\x1b[31m", "esc\\x1b[31m" },
    { "back\\slash", "back\\x5cslash" },
    { "caf\xc3\xa9", "caf\\xc3\\xa9" },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *got = dtls_peer_text(cases[i].in);
    g_assert_cmpstr(got, ==, cases[i].out);
  }
  /* Bounded, whatever the peer sent. */
  g_autofree char *huge = g_strnfill(5000, 'x');
  g_autofree char *cut = dtls_peer_text(huge);
  g_assert_cmpuint(strlen(cut), ==, DTLS_PEER_TEXT_MAX + 3);
  g_assert_true(g_str_has_suffix(cut, "..."));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/dtls/allowed/empty-allows-all", test_empty_allows_all);
  g_test_add_func("/dtls/allowed/bare-identity", test_bare_identity_any_address);
  g_test_add_func("/dtls/allowed/bound-to-address", test_bound_to_address);
  g_test_add_func("/dtls/allowed/bound-to-name", test_bound_to_name);
  g_test_add_func("/dtls/allowed/identity-with-at", test_identity_with_at);
  g_test_add_func("/dtls/allowed/malformed", test_malformed);
  g_test_add_func("/dtls/allowed/peer-text", test_peer_text);
  return g_test_run();
}
