/* Tests of plugin instances: settings checked against the plugin's declared
 * keys (errors with file:line), defaults, accessors, lifecycle failures. */
#include <config.h>

#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <glib.h>

#include "relay.h"
#include "instance.h"
#include "relay-fixture.h"

#define assert_has(msg, part)                                                  \
  do {                                                                         \
    if (!strstr((msg), (part)))                                                \
      g_error("message \"%s\" lacks \"%s\"", (msg), (part));                   \
  } while (0)

static ss_relay *
relay_from(const char *instances, const char *chain, GError **error)
{
  return relay_fixture_try(error, "i.conf", "version = 1;\ninstances = (\n%s\n);\noutbound = [ %s ];\n",
                           instances, chain);
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
    { "i.conf:3:", "ABI 2.0", "ABI 1.1" } },
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

/* Warnings about a full socket buffer, counted (not fatal) by the writer
 * main() installs; everything else is written as usual. */
static guint full_buffer_warnings;

static GLogWriterOutput
count_full_buffer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user)
{
  for (gsize i = 0; i < n_fields; i++)
    if (g_strcmp0(fields[i].key, "MESSAGE") == 0 && fields[i].length < 0 &&
        strstr(fields[i].value, "receive buffer was full") && (level & G_LOG_LEVEL_WARNING)) {
      full_buffer_warnings++;
      return G_LOG_WRITER_HANDLED;
    }
  return g_log_writer_standard_streams(level, fields, n_fields, user);
}

/* The socket services for transports, on a real loopback socket: a small
 * receive buffer overflows under a burst nobody reads, and the drops the
 * kernel reports are counted as receive_dropped: what was read plus what
 * was dropped is what was sent. */
static void
test_socket_drops(void)
{
  GError *error = NULL;
  ss_relay *relay = relay_from("{ name = \"t\"; plugin = \"fixture-good\"; }", "\"t\"", &error);
  g_assert_no_error(error);
  ss_instance *t = ss_relay_find_instance(relay, "t");
  int rx = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);
  g_assert_cmpint(rx, >=, 0);
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  socklen_t len = sizeof sin;
  g_assert_cmpint(bind(rx, (struct sockaddr *) &sin, sizeof sin), ==, 0);
  g_assert_cmpint(getsockname(rx, (struct sockaddr *) &sin, &len), ==, 0);
  /* The kernel's minimum buffer: a few datagrams of the burst fit. */
  ss_instance_set_receive_buffer(t, rx, 4096);
  enum { SENT = 500 };
  char payload[200] = { 0 };
  for (int i = 0; i < SENT; i++)
    g_assert_cmpint(sendto(tx, payload, sizeof payload, 0, (struct sockaddr *) &sin, sizeof sin),
                    ==, sizeof payload);
  /* Read everything that fit, then one more datagram, which carries the
   * count of those dropped before it. */
  guint read = 0;
  char buf[256];
  union {
    char b[SS_SOCKET_DROPS_CONTROL_LEN];
    struct cmsghdr align;
  } ctl;
  for (;;) {
    struct iovec iov = { buf, sizeof buf };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
                          .msg_controllen = sizeof ctl };
    if (recvmsg(rx, &msg, 0) < 0)
      break;
    read++;
    ss_instance_note_socket_drops(t, &msg);
  }
  g_assert_cmpint(sendto(tx, payload, sizeof payload, 0, (struct sockaddr *) &sin, sizeof sin), ==,
                  sizeof payload);
  struct iovec iov = { buf, sizeof buf };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
                        .msg_controllen = sizeof ctl };
  g_assert_cmpint(recvmsg(rx, &msg, 0), ==, sizeof payload);
  read++;
  ss_instance_note_socket_drops(t, &msg);
  guint64 dropped = ss_instance_get_counter(t, "receive_dropped");
  g_assert_cmpuint(full_buffer_warnings, ==, 1);
  g_test_message("read %u, dropped %" G_GUINT64_FORMAT " of %d", read, dropped, SENT + 1);
  g_assert_cmpuint(dropped, >, 0);
  g_assert_cmpuint(read + dropped, ==, SENT + 1);
  /* Seen counts are not counted twice. */
  ss_instance_note_socket_drops(t, &msg);
  g_assert_cmpuint(ss_instance_get_counter(t, "receive_dropped"), ==, dropped);
  close(rx);
  close(tx);
  ss_relay_free(relay);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/instance/defaults-and-values", test_defaults_and_values);
  g_test_add_func("/instance/transport-in-chain", test_transport_in_chain);
  g_test_add_func("/instance/fail-start", test_fail_start);
  g_test_add_func("/instance/socket-drops", test_socket_drops);
  g_log_set_writer_func(count_full_buffer, NULL, NULL);
  for (size_t i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
    g_autofree char *path = g_strdup_printf("/instance/bad/%s", bad_cases[i].name);
    g_test_add_data_func(path, &bad_cases[i], test_bad);
  }
  return g_test_run();
}
