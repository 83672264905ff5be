/* snowsignal - UDP broadcast relay
 * test-control.c: the control socket (daemon/control.c): created with its
 * mode, never chmod()ed; served without blocking the loop on a client, on
 * the context it is given; freed with nothing left behind.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "control.h"

#define LIMIT_S 20

static char *
render(gboolean json, void *user)
{
  (*(int *) user)++;
  return g_strdup(json ? "{}\n" : "answer\n");
}

static char *
make_dir(void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp("test-control-XXXXXX", &error);
  g_assert_no_error(error);
  return dir;
}

/* A control socket "control" in @dir on @context, answering with @fn;
 * its path in *@path. */
static ss_control *
open_in(const char *dir, GMainContext *context, ss_control_render_fn fn, int *calls, char **path)
{
  GError *error = NULL;
  *path = g_build_filename(dir, "control", NULL);
  ss_control *control = ss_control_new(*path, context, fn, calls, &error);
  g_assert_no_error(error);
  g_assert_nonnull(control);
  return control;
}

/* The socket is 0660 from its creation, whatever the process's umask: no
 * chmod() after bind() (the path could be a symlink by then), so the
 * directory sees the socket created and never its attributes changed. */
static void
test_mode_at_creation(void)
{
  g_autofree char *dir = make_dir();
  g_autofree char *path = g_build_filename(dir, "control", NULL);
  int watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  g_assert_cmpint(watch, >=, 0);
  g_assert_cmpint(inotify_add_watch(watch, dir, IN_CREATE | IN_ATTRIB), >=, 0);
  mode_t mask = umask(0);
  int calls = 0;
  GError *error = NULL;
  ss_control *control = ss_control_new(path, NULL, render, &calls, &error);
  umask(mask);
  g_assert_no_error(error);
  struct stat st;
  g_assert_cmpint(lstat(path, &st), ==, 0);
  g_assert_true(S_ISSOCK(st.st_mode));
  g_assert_cmpuint(st.st_mode & 07777, ==, 0660);
  char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
  ssize_t n = read(watch, buf, sizeof buf);
  g_assert_cmpint(n, >, 0);
  gboolean created = FALSE;
  for (char *p = buf; p < buf + n;) {
    const struct inotify_event *ev = (const struct inotify_event *) p;
    g_test_message("event mask 0x%x on %s", ev->mask, ev->len ? ev->name : "");
    g_assert_false(ev->mask & IN_ATTRIB);
    created |= (ev->mask & IN_CREATE) != 0;
    p += sizeof *ev + ev->len;
  }
  g_assert_true(created);
  close(watch);
  ss_control_free(control);
  g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
  g_rmdir(dir);
}

static int
connect_to(const char *path)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  g_strlcpy(sun.sun_path, path, sizeof sun.sun_path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  g_assert_cmpint(fd, >=, 0);
  g_assert_cmpint(connect(fd, (struct sockaddr *) &sun, sizeof sun), ==, 0);
  return fd;
}

static void
send_text(int fd, const char *text)
{
  g_assert_cmpint(send(fd, text, strlen(text), MSG_NOSIGNAL), ==, (ssize_t) strlen(text));
}

static gboolean
on_deadline(gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates @context until @fd has its whole answer (the server closed
 * it); the answer, bounded by LIMIT_S. */
static char *
answer_on(GMainContext *context, int fd)
{
  gboolean expired = FALSE;
  GSource *deadline = g_timeout_source_new_seconds(LIMIT_S);
  g_source_set_callback(deadline, on_deadline, &expired, NULL);
  g_source_attach(deadline, context);
  /* The client's end, watched on the same loop: the loop wakes when the
   * server has written or closed. */
  GString *out = g_string_new(NULL);
  for (;;) {
    char buf[256];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      g_string_append_len(out, buf, n);
      continue;
    }
    if (n == 0 || errno != EAGAIN || expired)
      break;
    g_main_context_iteration(context, TRUE);
  }
  g_source_destroy(deadline);
  g_source_unref(deadline);
  g_assert_false(expired);
  return g_string_free(out, FALSE);
}

static char *
answer_of(int fd)
{
  return answer_on(NULL, fd);
}

/* A client that sends its request a byte at a time holds nothing up: the
 * others are answered meanwhile, and it is answered once it is done. */
static void
test_slow_client(void)
{
  g_autofree char *dir = make_dir();
  g_autofree char *path = NULL;
  int calls = 0;
  ss_control *control = open_in(dir, NULL, render, &calls, &path);
  /* The loop must wake for the server, and for each client's answer. */
  int slow = connect_to(path);
  send_text(slow, "st");
  /* Let the server take the slow client and its first bytes. */
  while (g_main_context_iteration(NULL, FALSE))
    ;
  int quick = connect_to(path);
  send_text(quick, "status json\n");
  g_autofree char *quick_answer = answer_of(quick);
  g_assert_cmpstr(quick_answer, ==, "{}\n");
  g_assert_cmpint(calls, ==, 1);
  send_text(slow, "a");
  while (g_main_context_iteration(NULL, FALSE))
    ;
  send_text(slow, "tus\n");
  g_autofree char *slow_answer = answer_of(slow);
  g_assert_cmpstr(slow_answer, ==, "answer\n");
  g_assert_cmpint(calls, ==, 2);
  close(slow);
  close(quick);
  ss_control_free(control);
  g_rmdir(dir);
}

/* A client that asks and never reads, with an answer larger than its
 * socket takes, holds nothing up either; freeing the control with such a
 * client, and with one that sent nothing, leaves nothing behind. */
static char *
render_big(gboolean json, void *user)
{
  (*(int *) user)++;
  char *text = g_malloc(8 << 20);
  memset(text, 'x', (8 << 20) - 2);
  text[(8 << 20) - 2] = '\n';
  text[(8 << 20) - 1] = '\0';
  return text;
}

static void
test_stuck_reader(void)
{
  g_autofree char *dir = make_dir();
  g_autofree char *path = NULL;
  int calls = 0;
  ss_control *control = open_in(dir, NULL, render_big, &calls, &path);
  int stuck = connect_to(path), silent = connect_to(path);
  send_text(stuck, "status\n");
  while (calls < 1)
    g_main_context_iteration(NULL, TRUE);
  int quick = connect_to(path);
  send_text(quick, "bogus\n");
  g_autofree char *answer = answer_of(quick);
  g_assert_true(g_str_has_prefix(answer, "error: unknown request"));
  ss_control_free(control);
  close(stuck);
  close(silent);
  close(quick);
  g_rmdir(dir);
}

/* Whether the server has closed @fd: its end reads as EOF (or reset)
 * once what it had sent is read, without waiting. */
static gboolean
closed_by_server(int fd)
{
  char buf[65536];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0)
    ;
  return n == 0 || errno != EAGAIN;
}

/* Freeing the control while clients are at every stage (connected and
 * silent, halfway through the request, its answer not taken) closes their
 * connections and releases everything before it returns: nothing of it is
 * left on the loop to run later. */
static void
test_free_releases_all(void)
{
  g_autofree char *dir = make_dir();
  g_autofree char *path = NULL;
  int calls = 0;
  ss_control *control = open_in(dir, NULL, render_big, &calls, &path);
  int silent = connect_to(path), halfway = connect_to(path), stuck = connect_to(path);
  send_text(halfway, "sta");
  send_text(stuck, "status\n");
  while (calls < 1)
    g_main_context_iteration(NULL, TRUE);
  while (g_main_context_iteration(NULL, FALSE))
    ;
  g_assert_false(closed_by_server(silent));
  g_assert_false(closed_by_server(halfway));
  ss_control_free(control);
  g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
  g_assert_true(closed_by_server(silent));
  g_assert_true(closed_by_server(halfway));
  g_assert_true(closed_by_server(stuck));
  g_assert_false(g_main_context_pending(NULL));
  g_assert_false(g_main_context_iteration(NULL, FALSE));
  close(silent);
  close(halfway);
  close(stuck);
  g_rmdir(dir);
}

/* A context of its own, which the caller iterates without making it the
 * thread-default one: the service and every client are served on it, and
 * nothing lands on the default context. */
static void
test_own_context(void)
{
  g_autofree char *dir = make_dir();
  g_autofree char *path = NULL;
  GMainContext *context = g_main_context_new();
  int calls = 0;
  ss_control *control = open_in(dir, context, render, &calls, &path);
  for (int i = 0; i < 3; i++) {
    int fd = connect_to(path);
    send_text(fd, "status\n");
    g_autofree char *answer = answer_on(context, fd);
    g_assert_cmpstr(answer, ==, "answer\n");
    close(fd);
  }
  g_assert_cmpint(calls, ==, 3);
  g_assert_false(g_main_context_pending(NULL));
  ss_control_free(control);
  g_assert_false(g_main_context_pending(context));
  g_main_context_unref(context);
  g_rmdir(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/control/mode-at-creation", test_mode_at_creation);
  g_test_add_func("/control/slow-client", test_slow_client);
  g_test_add_func("/control/stuck-reader", test_stuck_reader);
  g_test_add_func("/control/free-releases-all", test_free_releases_all);
  g_test_add_func("/control/own-context", test_own_context);
  return g_test_run();
}
