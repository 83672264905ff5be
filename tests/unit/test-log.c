/* snowsignal - UDP broadcast relay
 * test-log.c: the stderr log writer (core/log.c): escaping of logged
 * values, and the rate-limited helper of <snowsignal/log.h>.
 *
 * Each test writes through the real writer with stderr pointed at a file,
 * and reads back what a person (or a log parser) would see.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include <snowsignal/log.h>
#include "log.h"

typedef struct {
  char *path;
  int saved_fd;
} capture;

static void
capture_begin(capture *c)
{
  GError *error = NULL;
  int fd = g_file_open_tmp("test-log-XXXXXX", &c->path, &error);
  g_assert_no_error(error);
  fflush(stderr);
  c->saved_fd = dup(STDERR_FILENO);
  g_assert_cmpint(dup2(fd, STDERR_FILENO), ==, STDERR_FILENO);
  close(fd);
}

/* What was written since capture_begin(). */
static char *
capture_end(capture *c)
{
  char *text = NULL;
  fflush(stderr);
  g_assert_cmpint(dup2(c->saved_fd, STDERR_FILENO), ==, STDERR_FILENO);
  close(c->saved_fd);
  g_assert_true(g_file_get_contents(c->path, &text, NULL, NULL));
  g_unlink(c->path);
  g_free(c->path);
  return text;
}

static guint
count_lines(const char *text)
{
  guint n = 0;
  for (const char *p = text; *p; p++)
    n += *p == '\n';
  return n;
}

/* A value from the network (a peer's error, a PSK identity) with a
 * newline, quotes and an escape sequence stays on one line, inside its
 * quotes, and cannot forge a line or a field of its own. */
static void
test_escaped(void)
{
  capture c;
  capture_begin(&c);
  SS_LOG("test", G_LOG_LEVEL_WARNING, "peer said\nsomething",
         "PEER", "10.0.0.1",
         "IDENTITY", "evil\" forged=\"yes\nsnowsignal[snowsignal] ERROR: fake line",
         "RAW", "a\\b\033[2Jc\x7f",
         "PLAIN", "x\ty");
  g_autofree char *out = capture_end(&c);
  g_test_message("written: %s", out);
  g_assert_cmpuint(count_lines(out), ==, 1);
  g_assert_true(g_str_has_prefix(out, "snowsignal[test] WARNING: peer said\\nsomething peer=10.0.0.1 "));
  g_assert_nonnull(strstr(out, " identity=\"evil\\\" forged=\\\"yes\\nsnowsignal[snowsignal] "
                               "ERROR: fake line\""));
  g_assert_nonnull(strstr(out, " raw=\"a\\\\b\\x1b[2Jc\\x7f\""));
  g_assert_nonnull(strstr(out, " plain=\"x\\ty\"\n"));
  g_assert_null(strchr(out, '\033'));
}

/* Values that need nothing are written as they are. */
static void
test_plain(void)
{
  capture c;
  capture_begin(&c);
  SS_LOG("test", G_LOG_LEVEL_WARNING, "plain", "PATH", "/run/x", "EMPTY", "", "UTF8", "café");
  g_autofree char *out = capture_end(&c);
  g_assert_cmpstr(out, ==, "snowsignal[test] WARNING: plain path=/run/x empty=\"\" utf8=café\n");
}

/* One line per interval; the next one written says how many were held
 * back; a limit's time is its own (moved back here rather than waited
 * for). */
static void
test_limited(void)
{
  ss_log_limit limit = SS_LOG_LIMIT_INIT(3600);
  capture c;
  capture_begin(&c);
  for (int i = 0; i < 5; i++)
    SS_LOG_LIMITED(&limit, "test", G_LOG_LEVEL_WARNING, "flood", "N", "x");
  g_assert_cmpuint(limit.suppressed, ==, 4);
  limit.last_us -= limit.interval_us;
  SS_LOG_LIMITED(&limit, "test", G_LOG_LEVEL_WARNING, "flood", "N", "y");
  SS_LOG_LIMITED(&limit, "test", G_LOG_LEVEL_WARNING, "flood", "N", "z");
  /* Below the log level: neither written nor counted. */
  SS_LOG_LIMITED(&limit, "test", G_LOG_LEVEL_DEBUG, "quiet", NULL);
  g_autofree char *out = capture_end(&c);
  g_assert_cmpstr(out, ==,
                  "snowsignal[test] WARNING: flood n=x\n"
                  "snowsignal[test] WARNING: flood n=y suppressed=4\n");
  g_assert_cmpuint(limit.suppressed, ==, 1);
}

static void
test_allow(void)
{
  ss_log_limit limit = { 0 }; /* zeroed: the default interval */
  guint64 held = 99;
  g_assert_true(ss_log_limit_allow(&limit, &held));
  g_assert_cmpuint(held, ==, 0);
  g_assert_false(ss_log_limit_allow(&limit, &held));
  g_assert_false(ss_log_limit_allow(&limit, NULL));
  limit.last_us -= (gint64) SS_LOG_LIMIT_DEFAULT_S * G_USEC_PER_SEC;
  g_assert_true(ss_log_limit_allow(&limit, &held));
  g_assert_cmpuint(held, ==, 2);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  ss_log_init();
  ss_log_set_level(G_LOG_LEVEL_INFO);
  g_test_add_func("/log/escaped", test_escaped);
  g_test_add_func("/log/plain", test_plain);
  g_test_add_func("/log/limited", test_limited);
  g_test_add_func("/log/allow", test_allow);
  return g_test_run();
}
