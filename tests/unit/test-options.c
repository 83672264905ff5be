/* Tests of the original SnowSignal's command line and environment over
 * snowsignal.conf: command line > environment > file > built-in default. */
#include <config.h>

#include <string.h>
#include <glib.h>

#include "options.h"
#include "relay.h"

static const char *const env_vars[] = {
  "TARGET_INTERFACE", "BDCAST_PORT", "MESH_PORT", "LOGLEVEL", "SERVICENAME", NULL
};

static const char file_text[] =
  "version = 1;\n"
  "interface = \"fileif\";\n"
  "broadcast_ports = [ 6000 ];\n"
  "log_level = \"warning\";\n"
  "instances = ( { name = \"mesh\"; plugin = \"udp-mesh\"; port = 7000; } );\n"
  "transports = [ \"mesh\" ];\n"
  "peers = { hosts = [ \"10.9.9.9\" ]; };\n";

static void
clear_env(void)
{
  for (const char *const *v = env_vars; *v; v++)
    g_unsetenv(*v);
}

/* Parses @args (NULL-terminated, program name first) over the test file. */
static ss_conf *
parse(const char *const *args, GError **error)
{
  ss_options opts = { 0 };
  int argc = (int) g_strv_length((char **) args);
  char **argv = g_strdupv((char **) args);
  char **owned = argv;
  ss_conf *conf = NULL;
  if (ss_options_parse(&opts, &argc, &argv, error)) {
    conf = ss_conf_load_string(file_text, "o.conf", error);
    if (conf && !ss_options_apply(&opts, conf, error))
      g_clear_pointer(&conf, ss_conf_free);
    g_strfreev(argv);
  }
  g_strfreev(owned);
  ss_options_clear(&opts);
  return conf;
}

static void
test_file_only(void)
{
  clear_env();
  const char *args[] = { "snowsignal", NULL };
  ss_conf *conf = parse(args, NULL);
  g_assert_cmpstr(conf->interface, ==, "fileif");
  g_assert_cmpuint(conf->broadcast_ports[0], ==, 6000);
  g_assert_cmpstr(conf->log_level, ==, "warning");
  g_assert_cmpuint(conf->mesh_port_override, ==, 0);
  g_assert_cmpstr(conf->peer_hosts[0], ==, "10.9.9.9");
  ss_conf_free(conf);
}

static void
test_env_over_file(void)
{
  clear_env();
  g_setenv("TARGET_INTERFACE", "envif", TRUE);
  g_setenv("BDCAST_PORT", "6001", TRUE);
  g_setenv("MESH_PORT", "7001", TRUE);
  g_setenv("LOGLEVEL", "debug", TRUE);
  g_setenv("SERVICENAME", "pva-relay", TRUE);
  const char *args[] = { "snowsignal", NULL };
  ss_conf *conf = parse(args, NULL);
  g_assert_cmpstr(conf->interface, ==, "envif");
  g_assert_cmpuint(conf->broadcast_ports[0], ==, 6001);
  g_assert_cmpuint(conf->n_broadcast_ports, ==, 1);
  g_assert_cmpuint(conf->mesh_port_override, ==, 7001);
  g_assert_cmpstr(conf->log_level, ==, "debug");
  g_assert_cmpstr(conf->service, ==, "pva-relay");
  ss_conf_free(conf);
  clear_env();
}

static void
test_cli_over_env(void)
{
  clear_env();
  g_setenv("TARGET_INTERFACE", "envif", TRUE);
  g_setenv("BDCAST_PORT", "6001", TRUE);
  g_setenv("MESH_PORT", "7001", TRUE);
  g_setenv("LOGLEVEL", "debug", TRUE);
  const char *args[] = { "snowsignal", "-t", "cliif", "-b", "6002", "--mesh-port", "7002",
                         "-ll", "error", "--other-relays", "10.0.0.1", "relay-b", "10.0.0.3:7200",
                         NULL };
  ss_conf *conf = parse(args, NULL);
  g_assert_cmpstr(conf->interface, ==, "cliif");
  g_assert_cmpuint(conf->broadcast_ports[0], ==, 6002);
  g_assert_cmpuint(conf->mesh_port_override, ==, 7002);
  g_assert_cmpstr(conf->log_level, ==, "error");
  g_assert_cmpuint(g_strv_length(conf->peer_hosts), ==, 3);
  g_assert_cmpstr(conf->peer_hosts[1], ==, "relay-b");
  g_assert_cmpstr(conf->peer_hosts[2], ==, "10.0.0.3:7200");
  ss_conf_free(conf);
  clear_env();
}

static void
test_other_relays_then_option(void)
{
  clear_env();
  const char *args[] = { "snowsignal", "--other-relays", "a", "b", "-l", "debug", NULL };
  ss_conf *conf = parse(args, NULL);
  g_assert_cmpuint(g_strv_length(conf->peer_hosts), ==, 2);
  g_assert_cmpstr(conf->log_level, ==, "debug");
  ss_conf_free(conf);
}

/* The mesh port from the command line reaches the udp-mesh instance and
 * says where it came from. */
static void
test_mesh_port_reaches_instance(void)
{
  clear_env();
  const char *args[] = { "snowsignal", "-m", "7300", NULL };
  GError *error = NULL;
  ss_conf *conf = parse(args, &error);
  g_assert_no_error(error);
  ss_relay *relay = ss_relay_new(conf, &error);
  g_assert_no_error(error);
  ss_instance *mesh = ss_relay_find_instance(relay, "mesh");
  g_assert_cmpint(ss_instance_get_int(mesh, "port"), ==, 7300);
  g_assert_nonnull(strstr(ss_instance_get_key_origin(mesh, "port"), "--mesh-port"));
  ss_relay_free(relay);
}

static void
test_bad_env_port(void)
{
  clear_env();
  g_setenv("BDCAST_PORT", "abc", TRUE);
  const char *args[] = { "snowsignal", NULL };
  GError *error = NULL;
  g_assert_null(parse(args, &error));
  g_assert_nonnull(strstr(error->message, "BDCAST_PORT"));
  g_assert_nonnull(strstr(error->message, "abc"));
  g_error_free(error);
  clear_env();
}

static void
test_bad_cli(void)
{
  clear_env();
  const char *bad[][4] = {
    { "snowsignal", "-m", "0", NULL },
    { "snowsignal", "-l", "chatty", NULL },
    { "snowsignal", "--no-such-option", NULL, NULL },
  };
  const char *expect[] = { "--mesh-port", "chatty", "no-such-option" };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    GError *error = NULL;
    g_assert_null(parse(bad[i], &error));
    if (!strstr(error->message, expect[i]))
      g_error("message \"%s\" lacks \"%s\"", error->message, expect[i]);
    g_error_free(error);
  }
}

/* Errors about values that came from the command line name the option. */
static void
test_errors_name_the_option(void)
{
  clear_env();
  GError *error = NULL;
  const char *empty_if[] = { "snowsignal", "-t", "", NULL };
  g_assert_null(parse(empty_if, &error));
  g_assert_nonnull(strstr(error->message, "--target-interface"));
  g_clear_error(&error);

  const char *bad_peer[] = { "snowsignal", "--other-relays", "relay-b:99999", NULL };
  ss_conf *conf = parse(bad_peer, &error);
  g_assert_no_error(error);
  g_assert_null(ss_relay_new(conf, &error));
  g_assert_nonnull(strstr(error->message, "--other-relays: peer 'relay-b:99999'"));
  g_clear_error(&error);

  const char *no_host[] = { "snowsignal", "--other-relays", "-t", "eth1", NULL };
  g_assert_null(parse(no_host, &error));
  g_assert_nonnull(strstr(error->message, "other-relays"));
  g_clear_error(&error);

  g_setenv("LOGLEVEL", "loud", TRUE);
  const char *plain[] = { "snowsignal", NULL };
  g_assert_null(parse(plain, &error));
  g_assert_nonnull(strstr(error->message, "LOGLEVEL"));
  g_clear_error(&error);
  clear_env();
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/options/file-only", test_file_only);
  g_test_add_func("/options/env-over-file", test_env_over_file);
  g_test_add_func("/options/cli-over-env", test_cli_over_env);
  g_test_add_func("/options/other-relays-then-option", test_other_relays_then_option);
  g_test_add_func("/options/mesh-port-reaches-instance", test_mesh_port_reaches_instance);
  g_test_add_func("/options/bad-env-port", test_bad_env_port);
  g_test_add_func("/options/bad-cli", test_bad_cli);
  g_test_add_func("/options/errors-name-the-option", test_errors_name_the_option);
  return g_test_run();
}
