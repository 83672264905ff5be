/* Tests of the service manager notification protocol (daemon/notify.c): the
 * test is the manager, with a datagram socket of its own in NOTIFY_SOCKET.
 * It includes notify.c to reset the once-only failure log between cases. */
#include "notify.c"

#include <glib/gstdio.h>

/* The manager's socket: a path in a temporary directory, or an abstract
 * name. */
typedef struct {
  char *dir;
  char *name; /* as NOTIFY_SOCKET gives it */
  int fd;
} manager;

static unsigned warnings;

/* Counts the warnings notify.c logs, instead of writing them. */
static GLogWriterOutput
count_warnings(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  if (level & G_LOG_LEVEL_WARNING)
    warnings++;
  return G_LOG_WRITER_HANDLED;
}

static void
reset(void)
{
  failure_logged = FALSE;
  warnings = 0;
  g_unsetenv("NOTIFY_SOCKET");
  g_unsetenv("WATCHDOG_USEC");
  g_unsetenv("WATCHDOG_PID");
}

static void
manager_bind(manager *m)
{
  struct sockaddr_un addr;
  const char *reason = NULL;
  socklen_t len = notify_address(m->name, &addr, &reason);
  g_assert_cmpuint(len, >, 0);
  m->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint(m->fd, >=, 0);
  g_assert_cmpint(bind(m->fd, (struct sockaddr *) &addr, len), ==, 0);
  g_setenv("NOTIFY_SOCKET", m->name, TRUE);
}

static void
manager_open_path(manager *m)
{
  m->dir = g_dir_make_tmp("test-notify-XXXXXX", NULL);
  g_assert_nonnull(m->dir);
  m->name = g_build_filename(m->dir, "notify", NULL);
  manager_bind(m);
}

static void
manager_open_abstract(manager *m)
{
  m->dir = NULL;
  m->name = g_strdup_printf("@snowsignal-test-notify-%d-%08x", (int) getpid(), g_random_int());
  manager_bind(m);
}

static void
manager_close(manager *m)
{
  if (m->fd >= 0)
    close(m->fd);
  m->fd = -1;
  if (m->dir) {
    g_autofree char *path = g_build_filename(m->dir, "notify", NULL);
    unlink(path);
    g_rmdir(m->dir);
  }
  g_clear_pointer(&m->dir, g_free);
  g_clear_pointer(&m->name, g_free);
}

/* The next datagram, which ss_notify() has already queued when it
 * returned TRUE; NULL when there is none. */
static char *
manager_receive(manager *m)
{
  char buf[4096];
  ssize_t n = recv(m->fd, buf, sizeof buf - 1, MSG_DONTWAIT);
  if (n < 0)
    return NULL;
  buf[n] = '\0';
  return g_strdup(buf);
}

static void
test_path(void)
{
  manager m;
  reset();
  manager_open_path(&m);
  g_assert_true(ss_notify("READY=1"));
  g_autofree char *got = manager_receive(&m);
  g_assert_cmpstr(got, ==, "READY=1");
  /* Several assignments are one datagram. */
  g_assert_true(ss_notify("STOPPING=1\nSTATUS=stopping"));
  g_autofree char *both = manager_receive(&m);
  g_assert_cmpstr(both, ==, "STOPPING=1\nSTATUS=stopping");
  g_assert_null(manager_receive(&m));
  g_assert_cmpuint(warnings, ==, 0);
  manager_close(&m);
}

static void
test_abstract(void)
{
  manager m;
  reset();
  manager_open_abstract(&m);
  g_assert_true(ss_notify("WATCHDOG=1"));
  g_autofree char *got = manager_receive(&m);
  g_assert_cmpstr(got, ==, "WATCHDOG=1");
  g_assert_cmpuint(warnings, ==, 0);
  manager_close(&m);
}

/* No manager: nothing is sent and nothing is logged. */
static void
test_unset(void)
{
  reset();
  g_assert_false(ss_notify("READY=1"));
  g_setenv("NOTIFY_SOCKET", "", TRUE);
  g_assert_false(ss_notify("READY=1"));
  g_assert_cmpuint(warnings, ==, 0);
}

static void
expect_unusable(const char *name)
{
  reset();
  g_setenv("NOTIFY_SOCKET", name, TRUE);
  g_assert_false(ss_notify("READY=1"));
  g_assert_cmpuint(warnings, ==, 1);
  /* Logged once: the watchdog would repeat it every few seconds. */
  g_assert_false(ss_notify("WATCHDOG=1"));
  g_assert_cmpuint(warnings, ==, 1);
}

static void
test_too_long(void)
{
  struct sockaddr_un addr;
  const char *reason = NULL;
  /* The longest names that fit: a path and its NUL, '@' for the leading
   * NUL of an abstract name. */
  g_autofree char *longest_path = g_strnfill(sizeof addr.sun_path - 1, 'p');
  longest_path[0] = '/';
  g_assert_cmpuint(notify_address(longest_path, &addr, &reason), ==, sizeof addr);
  g_autofree char *longest_abstract = g_strnfill(sizeof addr.sun_path, 'a');
  longest_abstract[0] = '@';
  g_assert_cmpuint(notify_address(longest_abstract, &addr, &reason), ==, sizeof addr);
  g_autofree char *path = g_strnfill(sizeof addr.sun_path, 'p');
  path[0] = '/';
  expect_unusable(path);
  g_autofree char *abstract = g_strnfill(sizeof addr.sun_path + 1, 'a');
  abstract[0] = '@';
  expect_unusable(abstract);
}

static void
test_not_a_socket_name(void)
{
  expect_unusable("relative/notify");
  expect_unusable("@");
}

/* The manager went away: the send fails, once logged, never fatal. */
static void
test_socket_gone(void)
{
  manager m;
  reset();
  manager_open_path(&m);
  g_autofree char *name = g_strdup(m.name);
  manager_close(&m);
  g_setenv("NOTIFY_SOCKET", name, TRUE);
  g_assert_false(ss_notify("READY=1"));
  g_assert_false(ss_notify("READY=1"));
  g_assert_cmpuint(warnings, ==, 1);
}

static guint64
monotonic_usec(void)
{
  struct timespec now;
  g_assert_cmpint(clock_gettime(CLOCK_MONOTONIC, &now), ==, 0);
  return (guint64) now.tv_sec * G_USEC_PER_SEC + (guint64) now.tv_nsec / 1000;
}

static void
test_reloading(void)
{
  manager m;
  guint64 usec = 0;
  reset();
  manager_open_path(&m);
  guint64 before = monotonic_usec();
  g_assert_true(ss_notify_reloading());
  guint64 after = monotonic_usec();
  g_autofree char *got = manager_receive(&m);
  g_assert_nonnull(got);
  g_assert_true(g_str_has_prefix(got, "RELOADING=1\nMONOTONIC_USEC="));
  const char *value = got + strlen("RELOADING=1\nMONOTONIC_USEC=");
  g_assert_true(g_ascii_string_to_unsigned(value, 10, 1, G_MAXUINT64, &usec, NULL));
  g_assert_cmpuint(usec, >=, before);
  g_assert_cmpuint(usec, <=, after);
  manager_close(&m);
}

static void
test_watchdog(void)
{
  g_autofree char *self = g_strdup_printf("%d", (int) getpid());
  g_autofree char *other = g_strdup_printf("%d", (int) getpid() + 1);
  reset();
  g_assert_cmpuint(ss_watchdog_usec(), ==, 0);
  g_setenv("WATCHDOG_USEC", "", TRUE);
  g_assert_cmpuint(ss_watchdog_usec(), ==, 0);
  g_setenv("WATCHDOG_USEC", "0", TRUE);
  g_assert_cmpuint(ss_watchdog_usec(), ==, 0);
  g_assert_cmpuint(warnings, ==, 0);

  g_setenv("WATCHDOG_USEC", "30000000", TRUE);
  g_assert_cmpuint(ss_watchdog_usec(), ==, 30000000);
  g_setenv("WATCHDOG_PID", self, TRUE);
  g_assert_cmpuint(ss_watchdog_usec(), ==, 30000000);
  g_setenv("WATCHDOG_PID", "", TRUE);
  g_assert_cmpuint(ss_watchdog_usec(), ==, 30000000);
  /* Meant for another process, or for no process this can be. */
  g_setenv("WATCHDOG_PID", other, TRUE);
  g_assert_cmpuint(ss_watchdog_usec(), ==, 0);
  g_setenv("WATCHDOG_PID", "1x", TRUE);
  g_assert_cmpuint(ss_watchdog_usec(), ==, 0);
  g_setenv("WATCHDOG_PID", "0", TRUE);
  g_assert_cmpuint(ss_watchdog_usec(), ==, 0);
  g_assert_cmpuint(warnings, ==, 0);

  /* Not a number: no watchdog, and a warning (unless meant for another
   * process: then it is none of this one's business). */
  static const char *const garbage[] = { "soon", "30s", "-1", " 30", "1e6",
                                         "99999999999999999999999" };
  for (size_t i = 0; i < G_N_ELEMENTS(garbage); i++) {
    g_setenv("WATCHDOG_PID", other, TRUE);
    g_setenv("WATCHDOG_USEC", garbage[i], TRUE);
    g_assert_cmpuint(ss_watchdog_usec(), ==, 0);
    g_assert_cmpuint(warnings, ==, i);
    g_setenv("WATCHDOG_PID", self, TRUE);
    g_assert_cmpuint(ss_watchdog_usec(), ==, 0);
    g_assert_cmpuint(warnings, ==, i + 1);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_log_set_writer_func(count_warnings, NULL, NULL);
  g_test_add_func("/notify/path", test_path);
  g_test_add_func("/notify/abstract", test_abstract);
  g_test_add_func("/notify/unset", test_unset);
  g_test_add_func("/notify/too-long", test_too_long);
  g_test_add_func("/notify/not-a-socket-name", test_not_a_socket_name);
  g_test_add_func("/notify/socket-gone", test_socket_gone);
  g_test_add_func("/notify/reloading", test_reloading);
  g_test_add_func("/notify/watchdog", test_watchdog);
  return g_test_run();
}
