/* Tests of plugin instances: settings checked against the plugin's declared
 * keys (errors with file:line), defaults, accessors, lifecycle failures. */
#include <config.h>

#include <string.h>
#include <glib.h>

#include "relay.h"
#include "instance.h"

#define assert_has(msg, part)                                                  \
  do {                                                                         \
    if (!strstr((msg), (part)))                                                \
      g_error("message \"%s\" lacks \"%s\"", (msg), (part));                   \
  } while (0)

static ss_relay *
relay_from(const char *instances, const char *chain, GError **error)
{
  g_autofree char *text = g_strdup_printf("version = 1;\ninstances = (\n%s\n);\noutbound = [ %s ];\n",
                                          instances, chain);
  ss_conf *conf = ss_conf_load_string(text, "i.conf", error);
  return conf ? ss_relay_new(conf, error) : NULL;
}

static void
test_defaults_and_values(void)
{
  GError *error = NULL;
  ss_relay *relay = relay_from("{ name = \"d\"; plugin = \"fixture-good\"; },\n"
                               "{ name = \"s\"; plugin = \"fixture-good\"; verdict = 1; flag = true;"
                               " text = \"t\"; list = [ \"x\" ]; }", "\"d\", \"s\"", &error);
  g_assert_no_error(error);
  ss_instance *d = ss_relay_find_instance(relay, "d");
  ss_instance *s = ss_relay_find_instance(relay, "s");
  g_assert_cmpint(ss_instance_get_int(d, "verdict"), ==, 0);
  g_assert_false(ss_instance_get_bool(d, "flag"));
  g_assert_cmpstr(ss_instance_get_string(d, "text"), ==, "hello");
  const char *const *list = ss_instance_get_string_list(d, "list");
  g_assert_cmpstr(list[0], ==, "a");
  g_assert_cmpstr(list[1], ==, "b");
  g_assert_null(list[2]);
  g_assert_cmpstr(ss_instance_get_key_origin(d, "text"), ==, "default");
  g_assert_cmpint(ss_instance_get_int(s, "verdict"), ==, 1);
  g_assert_true(ss_instance_get_bool(s, "flag"));
  g_assert_cmpstr(ss_instance_get_string(s, "text"), ==, "t");
  g_assert_cmpstr(ss_instance_get_string_list(s, "list")[0], ==, "x");
  g_assert_cmpstr(ss_instance_get_key_origin(s, "text"), ==, "i.conf:4");
  g_assert_cmpstr(ss_instance_get_name(s), ==, "s");
  g_assert_cmpstr(ss_instance_get_log_domain(s), ==, "snowsignal-fixture-good");
  ss_relay_free(relay);
}

typedef struct {
  const char *name;
  const char *instances;
  const char *expect[3];
} bad_case;

static const bad_case bad_cases[] = {
  { "unknown-key", "{ name = \"a\"; plugin = \"fixture-good\";\n  colour = 1; }",
    { "i.conf:4:", "has no setting 'colour'", "verdict, flag" } },
  { "wrong-type", "{ name = \"a\"; plugin = \"fixture-good\";\n  flag = 1; }",
    { "i.conf:4:", "'flag'", "must be a boolean" } },
  { "out-of-range", "{ name = \"a\"; plugin = \"fixture-good\"; verdict = 101; }",
    { "i.conf:3:", "101", "between -1 and 100" } },
  { "plugin-not-found", "{ name = \"a\"; plugin = \"nothing-here\"; }",
    { "i.conf:3:", "instance 'a'", "tried" } },
  { "fail-new", "{ name = \"a\"; plugin = \"fixture-good\"; fail_new = true; }",
    { "instance 'a'", "could not be created", "fixture asked to fail" } },
  { "bad-abi-in-config", "{ name = \"a\"; plugin = \"fixture-abi-major\"; }",
    { "i.conf:3:", "ABI 2.0", "ABI 1.0" } },
};

static void
test_bad(gconstpointer data)
{
  const bad_case *c = data;
  GError *error = NULL;
  g_assert_null(relay_from(c->instances, "\"a\"", &error));
  g_assert_nonnull(error);
  for (int i = 0; i < 3 && c->expect[i]; i++)
    assert_has(error->message, c->expect[i]);
  g_error_free(error);
}

static void
test_transport_in_chain(void)
{
  GError *error = NULL;
  g_assert_null(relay_from("{ name = \"m\"; plugin = \"udp-mesh\"; }", "\"m\"", &error));
  assert_has(error->message, "not a filter plugin");
  assert_has(error->message, "i.conf:5");
  g_error_free(error);
}

static void
test_fail_start(void)
{
  GError *error = NULL;
  ss_relay *relay = relay_from("{ name = \"a\"; plugin = \"fixture-good\"; fail_start = true; }",
                               "\"a\"", &error);
  g_assert_no_error(error);
  g_assert_false(ss_instance_start(ss_relay_find_instance(relay, "a"), &error));
  assert_has(error->message, "instance 'a'");
  assert_has(error->message, "failed to start");
  g_error_free(error);
  ss_relay_free(relay);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/instance/defaults-and-values", test_defaults_and_values);
  g_test_add_func("/instance/transport-in-chain", test_transport_in_chain);
  g_test_add_func("/instance/fail-start", test_fail_start);
  for (size_t i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
    g_autofree char *path = g_strdup_printf("/instance/bad/%s", bad_cases[i].name);
    g_test_add_data_func(path, &bad_cases[i], test_bad);
  }
  return g_test_run();
}
