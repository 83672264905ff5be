/* snowsignal - UDP broadcast relay
 * control.c: the local control socket.
 *
 * Served on the relay's own loop by a GSocketService, never blocking it:
 * each client's request is read, and its answer written, with GIO's
 * asynchronous stream calls, so the loop wakes only when a client has
 * sent something or taken some of its answer.
 *
 *   our listening GSocket ──▶ GSocketService ──▶ "incoming" ──▶ read the
 *   request line (read_async, as it trickles in) ──▶ render ──▶ write the
 *   answer (write_all_async, as the client takes it) ──▶ close
 *
 * The listening socket is made here, not by the service: its mode comes
 * from a umask around bind(), and a stale socket is replaced only when no
 * relay answers on it.  The service starts accepting from the loop, not
 * in ss_control_new(): GIO's first asynchronous call starts GLib's worker
 * thread, which would keep root's privileges if it came before the daemon
 * gives up root (--user), after ss_control_new().
 *
 * A client gets CONTROL_CLIENT_TIMEOUT_S for the whole exchange, and at
 * most CONTROL_MAX_CLIENTS are served at once (the oldest gives way to a
 * new one), so a slow, stuck or hostile client costs a little memory for
 * a while and never stalls capture, the mesh or the watchdog.
 *
 * Letting a client go (answered, timed out, given way, or the control
 * freed) cancels its GCancellable and closes its socket at once; but GIO
 * delivers the cancelled completion of its pending read or write only
 * from the loop, an iteration or two later.  So each pending operation
 * holds a reference on its client, and each client, and the service until
 * it is finalized (its own accept is pending too), one on the control.
 * ss_control_free() stops the service, closes the listening socket, lets
 * every client go, then iterates the control's context until only its own
 * reference is left (bounded by CONTROL_DRAIN_MS): when it returns,
 * nothing of the control is left.  Should a completion not come in time,
 * the references keep what it touches alive until it does: never freed
 * memory.  No thread of its own either: GIO's socket streams are
 * pollable, so their asynchronous calls run on the loop.
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
/* How long ss_control_free() waits for the cancelled completions; they
 * come in an iteration or two. */
#define CONTROL_DRAIN_MS    1000

typedef struct control_client control_client;

struct ss_control {
  int refs;               /* the owner's, each client's, the service's */
  char *path;
  char *made_dir;         /* the socket's directory, when created here */
  GSocketService *service;
  GSource *start;         /* starts the service from the loop */
  GMainContext *context;
  GQueue clients;         /* control_client being served, oldest first */
  ss_control_render_fn render;
  void *user;
};

struct control_client {
  ss_control *control;    /* a reference */
  int refs;               /* while served, and one per pending operation */
  gboolean served;        /* in control->clients */
  GList link;
  GSocketConnection *connection;
  GCancellable *cancellable;
  GSource *deadline;      /* while served */
  char request[CONTROL_REQUEST_MAX + 1];
  size_t len;
  char *answer;           /* NULL while reading */
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

static ss_control *
control_ref(ss_control *control)
{
  control->refs++;
  return control;
}

static void
control_unref(ss_control *control)
{
  if (--control->refs > 0)
    return;
  g_main_context_unref(control->context);
  g_free(control->path);
  g_free(control->made_dir);
  g_free(control);
}

/* ---- one client ---------------------------------------------------------- */

static void
client_unref(control_client *c)
{
  if (--c->refs > 0)
    return;
  g_object_unref(c->connection);
  g_object_unref(c->cancellable);
  g_free(c->answer);
  control_unref(c->control);
  g_free(c);
}

/* Ends the exchange: the client's socket is closed now, and its pending
 * operation, if any, completes cancelled and only drops its reference. */
static void
client_let_go(control_client *c)
{
  if (!c->served)
    return;
  c->served = FALSE;
  g_queue_unlink(&c->control->clients, &c->link);
  g_source_destroy(c->deadline);
  g_source_unref(c->deadline);
  c->deadline = NULL;
  g_cancellable_cancel(c->cancellable);
  g_socket_close(g_socket_connection_get_socket(c->connection), NULL);
  client_unref(c);
}

static void on_read(GObject *stream, GAsyncResult *result, gpointer user_data);
static void on_written(GObject *stream, GAsyncResult *result, gpointer user_data);

/* On the control's context: GIO completes an operation in the context
 * that was thread-default at the call, and each call here is made from a
 * GIO callback (the service's "incoming", a completion), which GIO runs
 * with the control's context pushed. */
static void
client_read(control_client *c)
{
  c->refs++;
  g_input_stream_read_async(g_io_stream_get_input_stream(G_IO_STREAM(c->connection)),
                            c->request + c->len, CONTROL_REQUEST_MAX - c->len, G_PRIORITY_DEFAULT,
                            c->cancellable, on_read, c);
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
  c->refs++;
  g_output_stream_write_all_async(g_io_stream_get_output_stream(G_IO_STREAM(c->connection)),
                                  c->answer, strlen(c->answer), G_PRIORITY_DEFAULT,
                                  c->cancellable, on_written, c);
}

/* What has come: the request is complete at a line, at as much as a
 * request may be, or at the client's end of it. */
static void
on_read(GObject *stream, GAsyncResult *result, gpointer user_data)
{
  control_client *c = user_data;
  gssize n = g_input_stream_read_finish(G_INPUT_STREAM(stream), result, NULL);
  if (c->served) {
    if (n < 0) {
      client_let_go(c);
    } else {
      c->len += (size_t) n;
      if (n == 0 || c->len == CONTROL_REQUEST_MAX || memchr(c->request, '\n', c->len))
        client_answer(c);
      else
        client_read(c);
    }
  }
  client_unref(c);
}

/* All of it taken, or the client gone: either way, the exchange is over. */
static void
on_written(GObject *stream, GAsyncResult *result, gpointer user_data)
{
  control_client *c = user_data;
  g_output_stream_write_all_finish(G_OUTPUT_STREAM(stream), result, NULL, NULL);
  client_let_go(c);
  client_unref(c);
}

static gboolean
on_client_deadline(gpointer user_data)
{
  client_let_go(user_data);
  return G_SOURCE_REMOVE; /* already destroyed by client_let_go() */
}

static gboolean
on_incoming(GSocketService *service, GSocketConnection *connection, GObject *source_object,
            gpointer user_data)
{
  ss_control *control = user_data;
  if (control->clients.length >= CONTROL_MAX_CLIENTS)
    client_let_go(g_queue_peek_head(&control->clients));
  control_client *c = g_new0(control_client, 1);
  c->control = control_ref(control);
  c->refs = 1;
  c->served = TRUE;
  c->link.data = c;
  g_queue_push_tail_link(&control->clients, &c->link);
  c->connection = g_object_ref(connection);
  c->cancellable = g_cancellable_new();
  c->deadline = g_timeout_source_new_seconds(CONTROL_CLIENT_TIMEOUT_S);
  g_source_set_callback(c->deadline, on_client_deadline, c, NULL);
  g_source_attach(c->deadline, control->context);
  client_read(c);
  return TRUE;
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

/* The service's own accept holds it until its cancelled completion has
 * run: then it is finalized, and lets go of the control. */
static void
on_service_gone(gpointer user_data, GObject *where_the_service_was)
{
  control_unref(user_data);
}

static gboolean
on_start(gpointer user_data)
{
  ss_control *control = user_data;
  /* The service's accept runs in the thread-default context; each next
   * one is started from the completion of the one before, in the same. */
  g_main_context_push_thread_default(control->context);
  g_socket_service_start(control->service);
  g_main_context_pop_thread_default(control->context);
  return G_SOURCE_REMOVE;
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
  control->refs = 1;
  control->path = g_strdup(path);
  control->made_dir = dir_existed ? NULL : g_steal_pointer(&dir);
  control->context = g_main_context_ref(context ? context : g_main_context_default());
  control->render = render;
  control->user = user;
  g_queue_init(&control->clients);
  /* Inactive until the loop runs (see the top of this file). */
  control->service = g_object_new(G_TYPE_SOCKET_SERVICE, "active", FALSE, NULL);
  g_object_weak_ref(G_OBJECT(control->service), on_service_gone, control_ref(control));
  g_signal_connect(control->service, "incoming", G_CALLBACK(on_incoming), control);
  /* At the loop's own priority: at idle priority, it could wait for ever
   * on a busy segment. */
  control->start = g_idle_source_new();
  g_source_set_priority(control->start, G_PRIORITY_DEFAULT);
  g_source_set_callback(control->start, on_start, control, NULL);
  GError *e = NULL;
  gboolean added =
    g_socket_listener_add_socket(G_SOCKET_LISTENER(control->service), socket, NULL, &e);
  g_object_unref(socket);
  if (!added) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot serve the control socket %s: %s",
                path, e->message);
    g_error_free(e);
    ss_control_free(control);
    return NULL;
  }
  g_source_attach(control->start, control->context);
  return control;
}

static gboolean
on_drain_deadline(gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the cancelled completions until only the owner's reference is
 * left.  Other sources of the context may run meanwhile; in the daemon,
 * the loop has stopped and the relay is still there. */
static void
control_drain(ss_control *control)
{
  if (control->refs == 1)
    return;
  gboolean expired = FALSE;
  GSource *guard = g_timeout_source_new(CONTROL_DRAIN_MS);
  g_source_set_callback(guard, on_drain_deadline, &expired, NULL);
  g_source_attach(guard, control->context);
  while (control->refs > 1 && !expired)
    g_main_context_iteration(control->context, TRUE);
  g_source_destroy(guard);
  g_source_unref(guard);
  if (control->refs > 1)
    SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
           "the control socket's last clients are released later, when the loop runs",
           "PATH", control->path);
}

void
ss_control_free(ss_control *control)
{
  if (!control)
    return;
  /* Nothing new from here: an accept already made never reaches us, the
   * pending one is cancelled, the listening socket is closed now. */
  g_source_destroy(control->start);
  g_source_unref(control->start);
  g_signal_handlers_disconnect_by_data(control->service, control);
  g_socket_service_stop(control->service);
  g_socket_listener_close(G_SOCKET_LISTENER(control->service));
  g_clear_object(&control->service);
  while (control->clients.head)
    client_let_go(control->clients.head->data);
  unlink(control->path);
  control_drain(control);
  control_unref(control);
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
