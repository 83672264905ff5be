/* snowsignal - UDP broadcast relay
 * test-metrics.c: the exposition (daemon/metrics.c) and metrics_listen's
 * parser (daemon/metrics-server.c); the endpoint itself is scraped by
 * tests/integration/metrics.sh.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "metrics.h"
#include "relay-fixture.h"

static char *
escaped(const char *value)
{
  GString *out = g_string_new(NULL);
  ss_metrics_append_label_value(out, value);
  return g_string_free(out, FALSE);
}

static void
test_label_escaping(void)
{
  g_autofree char *plain = escaped("10.0.1.5");
  g_autofree char *hard = escaped("a\"b\\c\nd");
  g_autofree char *bad_utf8 = escaped("x\xff" "y");
  g_assert_cmpstr(plain, ==, "\"10.0.1.5\"");
  g_assert_cmpstr(hard, ==, "\"a\\\"b\\\\c\\nd\"");
  g_assert_cmpstr(bad_utf8, ==, "\"x\xef\xbf\xbdy\"");
}

static void
test_parse_listen(void)
{
  struct sockaddr_storage addr;
  socklen_t len;
  GError *error = NULL;
  g_assert_true(ss_metrics_parse_listen("127.0.0.1:9464", "f:1", &addr, &len, &error));
  g_assert_no_error(error);
  const struct sockaddr_in *in4 = (const struct sockaddr_in *) &addr;
  g_assert_cmpint(addr.ss_family, ==, AF_INET);
  g_assert_cmpuint(len, ==, sizeof *in4);
  g_assert_cmpuint(ntohs(in4->sin_port), ==, 9464);
  g_assert_cmphex(ntohl(in4->sin_addr.s_addr), ==, 0x7f000001);
  g_assert_true(ss_metrics_parse_listen("[::1]:65535", "f:1", &addr, &len, &error));
  const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) &addr;
  g_assert_cmpint(addr.ss_family, ==, AF_INET6);
  g_assert_cmpuint(ntohs(in6->sin6_port), ==, 65535);
  g_assert_true(IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr));
  g_assert_true(ss_metrics_parse_listen("0.0.0.0:1", "f:1", &addr, &len, &error));

  const char *const bad[] = {
    "", "9464", ":9464", "localhost:9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0",
    "127.0.0.1:65536", "127.0.0.1:+80", "127.0.0.1:80x", "::1:9464", "[::1]9464", "[::1]:",
    "[127.0.0.1]:80", "[::1:80", "10.1.2:80", "127.0.0.1:99999999999999999999",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_assert_false(ss_metrics_parse_listen(bad[i], "c.conf:7", &addr, &len, &error));
    g_autofree char *start = g_strdup_printf("c.conf:7: metrics_listen \"%s\" is not ADDRESS:PORT",
                                             bad[i]);
    g_assert_true(g_str_has_prefix(error->message, start));
    g_clear_error(&error);
  }
}

/* Every sample line comes right under its own family's TYPE line, and no
 * family is declared twice: what the format requires and promtool checks. */
static void
assert_families_contiguous(const char *text)
{
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *family = NULL;
  for (char **l = lines; *l && **l; l++) {
    if (g_str_has_prefix(*l, "# HELP "))
      continue;
    if (g_str_has_prefix(*l, "# TYPE ")) {
      g_free(family);
      family = g_strndup(*l + 7, strcspn(*l + 7, " "));
      g_assert_false(g_hash_table_contains(seen, family));
      g_hash_table_add(seen, g_strdup(family));
      continue;
    }
    g_assert_nonnull(family);
    size_t n = strlen(family);
    g_assert_true(strncmp(*l, family, n) == 0 && ((*l)[n] == '{' || (*l)[n] == ' '));
  }
}

static void
test_render(void)
{
  /* Two instances of one plugin, in both chains: one family each. */
  ss_relay *relay = relay_fixture_new("m.conf",
    "version = 1; interface = \"eth0\";\n"
    "instances = ( { name = \"a\"; plugin = \"mac-self\"; },\n"
    "              { name = \"b\"; plugin = \"mac-self\"; },\n"
    "              { name = \"mesh\"; plugin = \"udp-mesh\"; } );\n"
    "outbound = [ \"a\", \"b\" ]; inbound = [ \"a\" ]; transports = [ \"mesh\" ];\n"
    "peers = { hosts = [ \"10.0.1.5\", \"10.0.2.7:7200\" ]; };\n");
  g_autofree char *text = ss_metrics_render(relay, g_get_monotonic_time());
  assert_families_contiguous(text);
  g_autofree char *build =
    g_strdup_printf("\nsnowsignal_build_info{version=\"%s\",plugin_abi=\"%d.%d\"} 1\n",
                    PACKAGE_VERSION, SS_PLUGIN_ABI_MAJOR, SS_PLUGIN_ABI_MINOR);
  g_assert_nonnull(strstr(text, build));
  g_assert_nonnull(strstr(text, "\nsnowsignal_relay_captured_total 0\n"));
  g_assert_nonnull(strstr(text, "\nsnowsignal_relay_emit_errors_total 0\n"));
  g_assert_nonnull(strstr(text, "\nsnowsignal_standby 0\n"));
  g_assert_nonnull(strstr(text, "\nsnowsignal_instance_seen_total{chain=\"outbound\",instance=\"b\","
                                "plugin=\"mac-self\"} 0\n"));
  g_assert_nonnull(strstr(text, "\nsnowsignal_instance_seen_total{chain=\"inbound\",instance=\"a\","
                                "plugin=\"mac-self\"} 0\n"));
  g_assert_nonnull(strstr(text, "\nsnowsignal_instance_errors_total{chain=\"transports\","
                                "instance=\"mesh\",plugin=\"udp-mesh\"} 0\n"));
  /* Peers exist once the relay starts (tests/integration/metrics.sh):
   * none yet, so no per-peer family at all. */
  g_assert_nonnull(strstr(text, "\nsnowsignal_peers 0\n"));
  g_assert_null(strstr(text, "snowsignal_peer_"));
  ss_relay_free(relay);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/metrics/label-escaping", test_label_escaping);
  g_test_add_func("/metrics/parse-listen", test_parse_listen);
  g_test_add_func("/metrics/render", test_render);
  return g_test_run();
}
