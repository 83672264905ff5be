/* snowsignal - UDP broadcast relay
 * control.c: the local control socket.
 *
 * Served on the relay's own loop, never blocking it: the listening socket
 * and each client are GSockets in non-blocking mode, each with a source
 * that wakes the loop when there is something to do.
 *
 *   accept ──▶ read the request line (as it trickles in) ──▶ render
 *          ──▶ write the answer (as the client takes it) ──▶ close
 *
 * A client gets CONTROL_CLIENT_TIMEOUT_S for the whole exchange, and at
 * most CONTROL_MAX_CLIENTS are served at once (the oldest gives way to a
 * new one), so a slow, stuck or hostile client costs a little memory for
 * a while and never stalls capture, the mesh or the watchdog.
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
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>

#include <snowsignal/log.h>
#include "control.h"
#include "log.h"

/* The socket is created with this mode (a umask around bind()), never
 * chmod()ed after: between the two, the path could be replaced. */
#define CONTROL_UMASK       0117  /* 0660 */
#define CONTROL_DIR_MODE    0755
#define CONTROL_BACKLOG     16
#define CONTROL_REQUEST_MAX 64
#define CONTROL_MAX_CLIENTS 32
#define CONTROL_CLIENT_TIMEOUT_S 10

typedef struct control_client control_client;

struct ss_control {
  char *path;
  char *made_dir;         /* the socket's directory, when created here */
  GSocket *socket;
  GSource *source;
  GMainContext *context;
  GQueue clients;         /* control_client, oldest first */
  ss_control_render_fn render;
  void *user;
};

struct control_client {
  ss_control *control;
  GList link;             /* in control->clients */
  GSocket *socket;
  GSource *io;            /* readable while reading, writable while writing */
  GSource *deadline;
  char request[CONTROL_REQUEST_MAX + 1];
  size_t len;
  char *answer;           /* NULL while reading */
  size_t answer_len, sent;
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

/* ---- one client ---------------------------------------------------------- */

static void
client_free(control_client *c)
{
  g_queue_unlink(&c->control->clients, &c->link);
  g_source_destroy(c->io);
  g_source_unref(c->io);
  g_source_destroy(c->deadline);
  g_source_unref(c->deadline);
  g_socket_close(c->socket, NULL);
  g_object_unref(c->socket);
  g_free(c->answer);
  g_free(c);
}

static gboolean on_client_io(GSocket *socket, GIOCondition cond, gpointer user_data);

/* Waits for @cond on the client's socket (replacing what it waited for). */
static void
client_wait(control_client *c, GIOCondition cond)
{
  if (c->io) {
    g_source_destroy(c->io);
    g_source_unref(c->io);
  }
  c->io = g_socket_create_source(c->socket, cond, NULL);
  g_source_set_callback(c->io, G_SOURCE_FUNC(on_client_io), c, NULL);
  g_source_attach(c->io, c->control->context);
}

/* Sends what the socket takes now; TRUE when all of it is gone, or the
 * client is (either way, the exchange is over). */
static gboolean
client_send(control_client *c)
{
  while (c->sent < c->answer_len) {
    GError *error = NULL;
    gssize n = g_socket_send(c->socket, c->answer + c->sent, c->answer_len - c->sent, NULL, &error);
    if (n < 0) {
      gboolean again = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
      g_error_free(error);
      return !again;
    }
    c->sent += (size_t) n;
  }
  return TRUE;
}

static void
client_answer(control_client *c)
{
  ss_control *control = c->control;
  c->request[c->len] = '\0';
  c->request[strcspn(c->request, "\r\n")] = '\0';
  if (strcmp(c->request, "status") == 0 || strcmp(c->request, "status json") == 0)
    c->answer = control->render(strcmp(c->request, "status json") == 0, control->user);
  else
    c->answer = g_strdup("error: unknown request; send \"status\" or \"status json\"\n");
  c->answer_len = strlen(c->answer);
  if (client_send(c))
    client_free(c);
  else
    client_wait(c, G_IO_OUT);
}

/* Reads what has come; TRUE when the request is complete (a line, as much
 * as a request may be, or the client's end of it). */
static gboolean
client_read(control_client *c, gboolean *gone)
{
  GError *error = NULL;
  gssize n = g_socket_receive(c->socket, c->request + c->len, CONTROL_REQUEST_MAX - c->len, NULL,
                              &error);
  if (n < 0) {
    *gone = !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
    g_error_free(error);
    return FALSE;
  }
  c->len += (size_t) n;
  return n == 0 || c->len == CONTROL_REQUEST_MAX || memchr(c->request, '\n', c->len);
}

static gboolean
on_client_io(GSocket *socket, GIOCondition cond, gpointer user_data)
{
  control_client *c = user_data;
  gboolean gone = FALSE;
  if (c->answer) {
    if (client_send(c))
      client_free(c);
    return G_SOURCE_CONTINUE; /* removed by client_free() or client_wait() */
  }
  if (client_read(c, &gone))
    client_answer(c);
  else if (gone)
    client_free(c);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_client_deadline(gpointer user_data)
{
  client_free(user_data);
  return G_SOURCE_CONTINUE; /* destroyed by client_free() */
}

static void
client_new(ss_control *control, GSocket *socket)
{
  if (control->clients.length >= CONTROL_MAX_CLIENTS)
    client_free(g_queue_peek_head_link(&control->clients)->data);
  control_client *c = g_new0(control_client, 1);
  c->control = control;
  c->link.data = c;
  g_queue_push_tail_link(&control->clients, &c->link);
  c->socket = socket;
  g_socket_set_blocking(socket, FALSE);
  c->deadline = g_timeout_source_new_seconds(CONTROL_CLIENT_TIMEOUT_S);
  g_source_set_callback(c->deadline, on_client_deadline, c, NULL);
  g_source_attach(c->deadline, control->context);
  client_wait(c, G_IO_IN);
}

static gboolean
on_accept(GSocket *socket, GIOCondition cond, gpointer user_data)
{
  ss_control *control = user_data;
  GSocket *client;
  /* A few at a time, so that a flood of connections cannot hold the loop. */
  for (int i = 0; i < CONTROL_BACKLOG && (client = g_socket_accept(socket, NULL, NULL)); i++)
    client_new(control, client);
  return G_SOURCE_CONTINUE;
}

/* ---- the socket ----------------------------------------------------------- */

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

/* A listening socket at @path, mode 0660 from its creation. */
static GSocket *
listen_at(const char *path, GError **error)
{
  GError *e = NULL;
  GSocket *s = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, &e);
  if (s) {
    GSocketAddress *addr = g_unix_socket_address_new(path);
    /* The relay has no other thread yet that creates files. */
    mode_t mask = umask(CONTROL_UMASK);
    gboolean bound = g_socket_bind(s, addr, FALSE, &e);
    umask(mask);
    g_object_unref(addr);
    g_socket_set_listen_backlog(s, CONTROL_BACKLOG);
    if (bound && g_socket_listen(s, &e)) {
      g_socket_set_blocking(s, FALSE);
      return s;
    }
    g_object_unref(s);
  }
  g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot open the control socket %s: %s",
              path, e->message);
  g_error_free(e);
  return NULL;
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
  GSocket *socket = listen_at(path, error);
  if (!socket)
    return NULL;
  ss_control *control = g_new0(ss_control, 1);
  control->path = g_strdup(path);
  control->made_dir = dir_existed ? NULL : g_steal_pointer(&dir);
  control->socket = socket;
  control->context = g_main_context_ref(context ? context : g_main_context_default());
  control->render = render;
  control->user = user;
  g_queue_init(&control->clients);
  control->source = g_socket_create_source(socket, G_IO_IN, NULL);
  g_source_set_callback(control->source, G_SOURCE_FUNC(on_accept), control, NULL);
  g_source_attach(control->source, control->context);
  return control;
}

void
ss_control_free(ss_control *control)
{
  if (!control)
    return;
  while (control->clients.head)
    client_free(control->clients.head->data);
  g_source_destroy(control->source);
  g_source_unref(control->source);
  g_socket_close(control->socket, NULL);
  g_object_unref(control->socket);
  unlink(control->path);
  g_main_context_unref(control->context);
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

/* ---- the client side (`snowsignal status`) --------------------------------- */

static void
write_all(int fd, const char *text)
{
  size_t len = strlen(text), off = 0;
  while (off < len) {
    ssize_t n = send(fd, text + off, len - off, MSG_NOSIGNAL);
    if (n <= 0)
      return;
    off += (size_t) n;
  }
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
