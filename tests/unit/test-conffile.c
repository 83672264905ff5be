/* Tests of snowsignal.conf parsing: the shipped file, and each kind of
 * mistake an admin can make, which must name file:line. */
#include <config.h>

#include <string.h>
#include <glib.h>

#include "conffile.h"

static void
test_shipped_file(void)
{
  g_autofree char *path = g_build_filename(g_getenv("SS_TOP_SRCDIR"), "etc", "snowsignal.conf", NULL);
  GError *error = NULL;
  ss_conf *conf = ss_conf_load_file(path, &error);
  g_assert_no_error(error);
  g_assert_nonnull(conf);
  g_assert_cmpint(conf->version, ==, 1);
  g_assert_cmpstr(conf->interface, ==, "eth0");
  g_assert_cmpuint(conf->n_broadcast_ports, ==, 1);
  g_assert_cmpuint(conf->broadcast_ports[0], ==, 5076);
  g_assert_cmpstr(conf->outbound.names[0], ==, "mac-self");
  g_assert_cmpstr(conf->outbound.names[1], ==, "ip-self");
  g_assert_null(conf->outbound.names[2]);
  g_assert_cmpstr(conf->transports.names[0], ==, "mesh");
  const ss_conf_instance *mesh = ss_conf_find_instance(conf, "mesh");
  g_assert_nonnull(mesh);
  g_assert_cmpstr(mesh->plugin, ==, "udp-mesh");
  const ss_conf_value *port = ss_conf_instance_find_value(mesh, "port");
  g_assert_nonnull(port);
  g_assert_cmpint(port->type, ==, SS_KEY_INT);
  g_assert_cmpint(port->i, ==, 7124);
  g_assert_cmpint(conf->peer_refresh, ==, 10);
  g_assert_false(conf->self_send);
  g_assert_cmpint(conf->capture_ring_kib, ==, SS_DEFAULT_CAPTURE_RING_KIB);
  ss_conf_free(conf);
}

static void
test_full(void)
{
  const char *text =
    "version = 1;\n"
    "interface = \"veth7\";\n"
    "broadcast_ports = [ 5076, 5064 ];\n"
    "plugin_path = [ \"/a\", \"/b\" ];\n"
    "log_level = \"debug\";\n"
    "capture_ring_kib = 256;\n"
    "instances = (\n"
    "  { name = \"f\"; plugin = \"fixture-good\"; verdict = 1; flag = true; text = \"x\"; list = [ \"p\", \"q\" ]; }\n"
    ");\n"
    "outbound = [ \"f\" ];\n"
    "inbound = \"f\";\n"
    "peers = { hosts = [ \"10.1.2.3\", \"relay.example:9000\" ]; service = \"ss\"; refresh = 3; self_send = true; };\n";
  GError *error = NULL;
  ss_conf *conf = ss_conf_load_string(text, "t.conf", &error);
  g_assert_no_error(error);
  g_assert_cmpstr(conf->interface, ==, "veth7");
  g_assert_cmpuint(conf->n_broadcast_ports, ==, 2);
  g_assert_cmpuint(conf->broadcast_ports[1], ==, 5064);
  g_assert_cmpstr(conf->plugin_path[1], ==, "/b");
  g_assert_cmpstr(conf->log_level, ==, "debug");
  g_assert_cmpint(conf->capture_ring_kib, ==, 256);
  g_assert_cmpstr(conf->inbound.names[0], ==, "f");
  g_assert_cmpstr(conf->peer_hosts[1], ==, "relay.example:9000");
  g_assert_cmpstr(conf->service, ==, "ss");
  g_assert_cmpint(conf->peer_refresh, ==, 3);
  g_assert_true(conf->self_send);
  const ss_conf_instance *f = ss_conf_find_instance(conf, "f");
  g_assert_cmpstr(f->origin, ==, "t.conf:8");
  const ss_conf_value *v = ss_conf_instance_find_value(f, "list");
  g_assert_cmpint(v->type, ==, SS_KEY_STRING_LIST);
  g_assert_cmpstr(v->list[1], ==, "q");
  g_assert_cmpint(ss_conf_instance_find_value(f, "flag")->type, ==, SS_KEY_BOOL);
  g_assert_cmpint(ss_conf_instance_find_value(f, "text")->type, ==, SS_KEY_STRING);
  ss_conf_free(conf);
}

typedef struct {
  const char *name;
  const char *text;
  const char *expect[3];     /* substrings the message must hold */
} bad_case;

static const bad_case bad_cases[] = {
  { "syntax", "version = 1;\ninterface = \"eth0\";\noutbound = [ \"a\" ;\n",
    { "bad.conf:3: syntax error", NULL } },
  { "no-version", "interface = \"eth0\";\n", { "bad.conf", "no 'version'", NULL } },
  { "wrong-version", "version = 2;\n", { "bad.conf:1:", "version 2 is not supported", NULL } },
  { "unknown-top-key", "version = 1;\n\ninterfaces = \"eth0\";\n",
    { "bad.conf:3:", "unknown setting 'interfaces'", "known settings are" } },
  { "wrong-type", "version = 1;\ninterface = 7;\n", { "bad.conf:2:", "must be a string", NULL } },
  { "port-range", "version = 1;\nbroadcast_ports = [ 5076, 70000 ];\n",
    { "bad.conf:2:", "70000", "between 1 and 65535" } },
  { "unknown-instance", "version = 1;\ninstances = ( { name = \"a\"; plugin = \"x\"; } );\n"
    "\noutbound = [ \"a\", \"b\" ];\n", { "bad.conf:4:", "instance 'b'", "not defined" } },
  { "duplicate-instance", "version = 1;\ninstances = (\n { name = \"a\"; plugin = \"x\"; },\n"
    " { name = \"a\"; plugin = \"y\"; }\n);\n", { "bad.conf:4:", "duplicate instance name 'a'", "bad.conf:3" } },
  { "no-name", "version = 1;\ninstances = ( { plugin = \"x\"; } );\n", { "bad.conf:2:", "no 'name'", NULL } },
  { "no-plugin", "version = 1;\ninstances = ( { name = \"a\"; } );\n", { "bad.conf:2:", "no 'plugin'", NULL } },
  { "twice-in-chain", "version = 1;\ninstances = ( { name = \"a\"; plugin = \"x\"; } );\n"
    "outbound = [ \"a\", \"a\" ];\n", { "bad.conf:3:", "twice", NULL } },
  { "peers-unknown-key", "version = 1;\npeers = {\n  host = [ \"x\" ];\n};\n",
    { "bad.conf:3:", "unknown setting 'host'", NULL } },
  { "refresh-range", "version = 1;\npeers = { refresh = 0; };\n", { "bad.conf:2:", "refresh", NULL } },
  { "log-level", "version = 1;\nlog_level = \"loud\";\n", { "bad.conf", "loud", NULL } },
  { "ring-small", "version = 1;\ncapture_ring_kib = 32;\n", { "bad.conf:2:", "capture_ring_kib", "64" } },
  { "ring-type", "version = 1;\n\ncapture_ring_kib = \"big\";\n", { "bad.conf:3:", "capture_ring_kib", NULL } },
  { "dedup-window", "version = 1;\nduplicate_window_ms = 60001;\n", { "bad.conf:2:", "duplicate_window_ms", "60000" } },
  { "vlan-range", "version = 1;\nvlan = 4095;\n", { "bad.conf:2:", "vlan", "4094" } },
  { "source-rate", "version = 1;\nsource_rate_limit = -1;\n", { "bad.conf:2:", "source_rate_limit", NULL } },
  { "peer-rate-type", "version = 1;\npeer_rate_limit = \"fast\";\n", { "bad.conf:2:", "peer_rate_limit", NULL } },
  { "watch-type", "version = 1;\nwatch_config = \"yes\";\n", { "bad.conf:2:", "watch_config", NULL } },
  { "max-per-name", "version = 1;\npeers = { max_per_name = 0; };\n", { "bad.conf:2:", "max_per_name", NULL } },
  { "ports-type", "version = 1;\ninstances = (\n { name = \"f\"; plugin = \"mac-self\";\n   ports = [ 0 ]; }\n);\n", { "bad.conf:4:", NULL, NULL } },
  { "empty-interface", "version = 1;\ninterface = \"\";\n", { "bad.conf", "'interface' is empty", NULL } },
  { "instance-float", "version = 1;\ninstances = ( { name = \"a\"; plugin = \"x\"; k = 1.5; } );\n",
    { "bad.conf:2:", "'k'", NULL } },
};

static void
test_bad(gconstpointer data)
{
  const bad_case *c = data;
  GError *error = NULL;
  ss_conf *conf = ss_conf_load_string(c->text, "bad.conf", &error);
  g_assert_null(conf);
  g_assert_nonnull(error);
  g_assert_true(error->domain == SS_CONF_ERROR);
  for (int i = 0; i < 3 && c->expect[i]; i++)
    if (!strstr(error->message, c->expect[i]))
      g_error("message \"%s\" lacks \"%s\"", error->message, c->expect[i]);
  g_error_free(error);
}

static void
test_missing_file(void)
{
  GError *error = NULL;
  g_assert_null(ss_conf_load_file("/nonexistent/snowsignal.conf", &error));
  g_assert_error(error, SS_CONF_ERROR, SS_CONF_ERROR_IO);
  g_assert_nonnull(strstr(error->message, "/nonexistent/snowsignal.conf"));
  g_error_free(error);
}

static void
test_default(void)
{
  ss_conf *conf = ss_conf_new_default();
  g_assert_cmpstr(conf->interface, ==, "eth0");
  g_assert_cmpuint(conf->broadcast_ports[0], ==, 5076);
  g_assert_nonnull(ss_conf_find_instance(conf, "mesh"));
  g_assert_cmpstr(conf->transports.names[0], ==, "mesh");
  ss_conf_free(conf);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/conffile/shipped", test_shipped_file);
  g_test_add_func("/conffile/full", test_full);
  g_test_add_func("/conffile/default", test_default);
  g_test_add_func("/conffile/missing-file", test_missing_file);
  for (size_t i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
    g_autofree char *path = g_strdup_printf("/conffile/bad/%s", bad_cases[i].name);
    g_test_add_data_func(path, &bad_cases[i], test_bad);
  }
  return g_test_run();
}
