/* snowsignal - UDP broadcast relay
 * control.c: the local control socket.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <glib.h>
#include <glib-unix.h>

#include <snowsignal/log.h>
#include "control.h"
#include "log.h"

#define CONTROL_MODE        0660
#define CONTROL_DIR_MODE    0755
#define CONTROL_BACKLOG     8
#define CONTROL_REQUEST_MAX 64
/* A client gets this long to send its line and take the answer: the loop
 * serving the relay must not wait on a stuck client for longer. */
#define CONTROL_IO_TIMEOUT_MS 500

struct ss_control {
  char *path;
  char *made_dir;         /* the socket's directory, when created here */
  int fd;
  GSource *source;
  ss_control_render_fn render;
  void *user;
};

static gboolean
fill_addr(struct sockaddr_un *sun, const char *path, GError **error)
{
  memset(sun, 0, sizeof *sun);
  sun->sun_family = AF_UNIX;
  if (strlen(path) >= sizeof sun->sun_path) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NAMETOOLONG,
                "control socket path %s is longer than %zu bytes", path, sizeof sun->sun_path - 1);
    return FALSE;
  }
  g_strlcpy(sun->sun_path, path, sizeof sun->sun_path);
  return TRUE;
}

static void
set_timeouts(int fd)
{
  struct timeval tv = { 0, CONTROL_IO_TIMEOUT_MS * 1000 };
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static void
write_all(int fd, const char *text)
{
  size_t len = strlen(text), off = 0;
  while (off < len) {
    /* MSG_NOSIGNAL: a client that hung up must not kill the relay. */
    ssize_t n = send(fd, text + off, len - off, MSG_NOSIGNAL);
    if (n <= 0)
      return;
    off += (size_t) n;
  }
}

static void
serve_client(ss_control *control, int fd)
{
  char req[CONTROL_REQUEST_MAX + 1];
  size_t len = 0;
  set_timeouts(fd);
  while (len < CONTROL_REQUEST_MAX && !memchr(req, '\n', len)) {
    ssize_t n = read(fd, req + len, CONTROL_REQUEST_MAX - len);
    if (n <= 0)
      break;
    len += (size_t) n;
  }
  req[len] = '\0';
  req[strcspn(req, "\r\n")] = '\0';
  if (strcmp(req, "status") == 0 || strcmp(req, "status json") == 0) {
    g_autofree char *answer = control->render(strcmp(req, "status json") == 0, control->user);
    write_all(fd, answer);
  } else {
    write_all(fd, "error: unknown request; send \"status\" or \"status json\"\n");
  }
}

static gboolean
on_accept(gint fd, GIOCondition cond, gpointer user_data)
{
  ss_control *control = user_data;
  int client;
  while ((client = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
    serve_client(control, client);
    close(client);
  }
  return G_SOURCE_CONTINUE;
}

/* Removes @path only when it is a socket: never another file by mistake. */
static gboolean
remove_stale(const char *path, GError **error)
{
  struct stat st;
  if (lstat(path, &st) < 0)
    return TRUE;
  if (!S_ISSOCK(st.st_mode)) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_EXIST,
                "%s exists and is not a socket; choose another control_socket", path);
    return FALSE;
  }
  /* A socket someone still answers on belongs to another relay on this
   * host: taking it over would hide that relay's status. */
  struct sockaddr_un sun;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  gboolean live = fd >= 0 && fill_addr(&sun, path, NULL) &&
                  connect(fd, (struct sockaddr *) &sun, sizeof sun) == 0;
  if (fd >= 0)
    close(fd);
  if (live) {
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(EADDRINUSE),
                "another snowsignal answers on %s; give each relay on a host its own "
                "control_socket", path);
    return FALSE;
  }
  unlink(path);
  return TRUE;
}

ss_control *
ss_control_new(const char *path, GMainContext *context, ss_control_render_fn render, void *user,
               GError **error)
{
  struct sockaddr_un sun;
  g_autofree char *dir = g_path_get_dirname(path);
  if (!fill_addr(&sun, path, error) || !remove_stale(path, error))
    return NULL;
  gboolean dir_existed = g_file_test(dir, G_FILE_TEST_IS_DIR);
  if (g_mkdir_with_parents(dir, CONTROL_DIR_MODE) < 0) {
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                "cannot create the directory %s for the control socket: %s", dir, g_strerror(errno));
    return NULL;
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *) &sun, sizeof sun) < 0 ||
      chmod(path, CONTROL_MODE) < 0 || listen(fd, CONTROL_BACKLOG) < 0) {
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                "cannot open the control socket %s: %s", path, g_strerror(errno));
    if (fd >= 0)
      close(fd);
    return NULL;
  }
  ss_control *control = g_new0(ss_control, 1);
  control->path = g_strdup(path);
  control->made_dir = dir_existed ? NULL : g_steal_pointer(&dir);
  control->fd = fd;
  control->render = render;
  control->user = user;
  control->source = g_unix_fd_source_new(fd, G_IO_IN);
  g_source_set_callback(control->source, G_SOURCE_FUNC(on_accept), control, NULL);
  g_source_attach(control->source, context);
  return control;
}

void
ss_control_free(ss_control *control)
{
  if (!control)
    return;
  g_source_destroy(control->source);
  g_source_unref(control->source);
  close(control->fd);
  unlink(control->path);
  g_free(control->path);
  g_free(control->made_dir);
  g_free(control);
}

gboolean
ss_control_set_owner(ss_control *control, uid_t uid, gid_t gid, GError **error)
{
  const char *what = control->path;
  if (lchown(control->path, uid, gid) == 0 &&
      (!control->made_dir || chown(what = control->made_dir, uid, gid) == 0))
    return TRUE;
  g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "cannot give %s to uid %u: %s",
              what, (unsigned) uid, g_strerror(errno));
  return FALSE;
}

const char *
ss_control_get_path(const ss_control *control)
{
  return control->path;
}

gboolean
ss_control_query(const char *path, gboolean json, char **answer, GError **error)
{
  struct sockaddr_un sun;
  if (!fill_addr(&sun, path, error))
    return FALSE;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *) &sun, sizeof sun) < 0) {
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                "cannot reach the relay at %s: %s; is snowsignal running, and is this its "
                "control_socket (--control-socket)?", path, g_strerror(errno));
    if (fd >= 0)
      close(fd);
    return FALSE;
  }
  write_all(fd, json ? "status json\n" : "status\n");
  GString *out = g_string_new(NULL);
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0)
    g_string_append_len(out, buf, n);
  close(fd);
  *answer = g_string_free(out, FALSE);
  return TRUE;
}
