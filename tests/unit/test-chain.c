/* Tests of chain semantics and counters, with fixture filters whose verdict
 * is a setting: order, stop at the first drop, unknown verdicts. */
#include <config.h>

#include <string.h>
#include <glib.h>

#include "relay.h"
#include "instance.h"
#include "chain.h"
#include "log.h"
#include "relay-fixture.h"

static ss_relay *
relay_with_verdicts(const int *verdicts, int n)
{
  GString *text = g_string_new("version = 1;\ninstances = (\n");
  for (int i = 0; i < n; i++)
    g_string_append_printf(text, "%s{ name = \"f%d\"; plugin = \"fixture-good\"; verdict = %d; }\n",
                           i ? "," : "", i, verdicts[i]);
  g_string_append(text, ");\noutbound = [ ");
  for (int i = 0; i < n; i++)
    g_string_append_printf(text, "%s\"f%d\"", i ? ", " : "", i);
  g_string_append(text, " ];\n");
  ss_relay *relay = relay_fixture_new("c.conf", "%s", text->str);
  g_string_free(text, TRUE);
  return relay;
}

static const ss_counters *
counters(ss_relay *relay, int i)
{
  char name[8];
  g_snprintf(name, sizeof name, "f%d", i);
  return ss_instance_get_counters(ss_relay_find_instance(relay, name));
}

static void
run_once(ss_relay *relay, ss_verdict expect)
{
  ss_packet pkt;
  memset(&pkt, 0, sizeof pkt);
  const ss_chain *chain = ss_relay_get_chain(relay, SS_DIRECTION_OUTBOUND);
  g_assert_cmpint(ss_chain_run((ss_chain *) chain, &pkt), ==, expect);
}

static void
test_all_pass(void)
{
  const int v[] = { 0, 0, 0 };
  ss_relay *relay = relay_with_verdicts(v, 3);
  run_once(relay, SS_VERDICT_PASS);
  run_once(relay, SS_VERDICT_PASS);
  const ss_chain *chain = ss_relay_get_chain(relay, SS_DIRECTION_OUTBOUND);
  g_assert_cmpuint(chain->counters.seen, ==, 2);
  g_assert_cmpuint(chain->counters.passed, ==, 2);
  g_assert_cmpuint(chain->counters.dropped, ==, 0);
  for (int i = 0; i < 3; i++) {
    g_assert_cmpuint(counters(relay, i)->seen, ==, 2);
    g_assert_cmpuint(counters(relay, i)->passed, ==, 2);
  }
  ss_relay_free(relay);
}

static void
test_stops_at_first_drop(void)
{
  const int v[] = { 0, 1, 0 };
  ss_relay *relay = relay_with_verdicts(v, 3);
  run_once(relay, SS_VERDICT_DROP);
  g_assert_cmpuint(counters(relay, 0)->passed, ==, 1);
  g_assert_cmpuint(counters(relay, 1)->seen, ==, 1);
  g_assert_cmpuint(counters(relay, 1)->dropped, ==, 1);
  g_assert_cmpuint(counters(relay, 2)->seen, ==, 0);
  const ss_chain *chain = ss_relay_get_chain(relay, SS_DIRECTION_OUTBOUND);
  g_assert_cmpuint(chain->counters.dropped, ==, 1);
  g_assert_cmpuint(chain->counters.passed, ==, 0);
  ss_relay_free(relay);
}

static void
test_unknown_verdict(void)
{
  const int v[] = { 7, 0 };
  ss_relay *relay = relay_with_verdicts(v, 2);
  run_once(relay, SS_VERDICT_DROP);
  run_once(relay, SS_VERDICT_DROP);
  g_assert_cmpuint(counters(relay, 0)->errors, ==, 2);
  g_assert_cmpuint(counters(relay, 0)->dropped, ==, 0);
  g_assert_cmpuint(counters(relay, 0)->passed, ==, 0);
  g_assert_cmpuint(counters(relay, 1)->seen, ==, 0);
  ss_relay_free(relay);
}

static void
extra(const char *name, guint64 value, void *user)
{
  if (strcmp(name, "fixture_calls") == 0)
    *(guint64 *) user = value;
}

static void
test_extra_counters(void)
{
  const int v[] = { 0 };
  ss_relay *relay = relay_with_verdicts(v, 1);
  for (int i = 0; i < 5; i++)
    run_once(relay, SS_VERDICT_PASS);
  guint64 calls = 0;
  ss_instance_foreach_counter(ss_relay_find_instance(relay, "f0"), extra, &calls);
  g_assert_cmpuint(calls, ==, 5);
  ss_relay_free(relay);
}

static void
test_empty_chain_passes(void)
{
  ss_relay *relay = relay_with_verdicts(NULL, 0);
  run_once(relay, SS_VERDICT_PASS);
  ss_relay_free(relay);
}

static void
run_port(ss_relay *relay, uint16_t port, ss_verdict expect)
{
  ss_packet pkt;
  memset(&pkt, 0, sizeof pkt);
  pkt.udp_dst_port = port;
  const ss_chain *chain = ss_relay_get_chain(relay, SS_DIRECTION_OUTBOUND);
  g_assert_cmpint(ss_chain_run((ss_chain *) chain, &pkt), ==, expect);
}

/* An instance with "ports" runs only for frames to those ports: one chain
 * carries 5076 through one filter and 5064 through another. */
static void
test_ports(void)
{
  GError *error = NULL;
  ss_relay *relay = relay_fixture_try(&error, "c.conf",
    "version = 1;\nbroadcast_ports = [ 5076, 5064, 5065 ];\n"
    "instances = (\n"
    "  { name = \"f0\"; plugin = \"fixture-good\"; verdict = 0; },\n"
    "  { name = \"f1\"; plugin = \"fixture-good\"; verdict = 1; ports = 5076; },\n"
    "  { name = \"f2\"; plugin = \"fixture-good\"; verdict = 0; ports = [ 5064, 5065 ]; }\n"
    ");\noutbound = [ \"f0\", \"f1\", \"f2\" ];\n");
  g_assert_no_error(error);
  run_port(relay, 5076, SS_VERDICT_DROP);
  run_port(relay, 5064, SS_VERDICT_PASS);
  run_port(relay, 5065, SS_VERDICT_PASS);
  g_assert_cmpuint(counters(relay, 0)->seen, ==, 3);
  g_assert_cmpuint(counters(relay, 1)->seen, ==, 1);
  g_assert_cmpuint(counters(relay, 1)->dropped, ==, 1);
  g_assert_cmpuint(counters(relay, 2)->seen, ==, 2);
  ss_relay_free(relay);

  /* Errors name the file and line. */
  static const struct {
    const char *text, *expect[3];
  } bad[] = {
    { "version = 1;\ninstances = (\n { name = \"f\"; plugin = \"fixture-good\"; ports = \"x\"; }\n);\n",
      { "c.conf:3", "'ports' must be a port or a list", NULL } },
    { "version = 1;\ninstances = (\n { name = \"f\"; plugin = \"fixture-good\"; ports = 70000; }\n);\n",
      { "c.conf:3", NULL, NULL } },
    { "version = 1;\ninstances = (\n { name = \"m\"; plugin = \"udp-mesh\";\n   ports = 5076; }\n);\n"
      "transports = [ \"m\" ];\n",
      { "c.conf:4", "'ports' is a setting of filter instances", "'m' is a transport" } },
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_assert_null(relay_fixture_try(&error, "c.conf", "%s", bad[i].text));
    g_assert_nonnull(error);
    for (size_t k = 0; k < 3 && bad[i].expect[k]; k++)
      if (!strstr(error->message, bad[i].expect[k]))
        g_error("case %zu: '%s' lacks '%s'", i, error->message, bad[i].expect[k]);
    g_clear_error(&error);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  /* The relay's own writer: it logs the unknown verdict without making the
   * test's critical messages fatal. */
  ss_log_init();
  g_test_add_func("/chain/all-pass", test_all_pass);
  g_test_add_func("/chain/stops-at-first-drop", test_stops_at_first_drop);
  g_test_add_func("/chain/unknown-verdict", test_unknown_verdict);
  g_test_add_func("/chain/extra-counters", test_extra_counters);
  g_test_add_func("/chain/empty", test_empty_chain_passes);
  g_test_add_func("/chain/ports", test_ports);
  return g_test_run();
}
