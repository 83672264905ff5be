/* snowsignal - UDP broadcast relay
 * control.h: the local control socket (AF_UNIX stream) the running daemon
 * answers `snowsignal status` on, and the client side of it.
 *
 * Protocol: the client sends one line, "status" or "status json"; the
 * daemon answers with the text and closes.  Access is the socket file's:
 * mode 0660, owned by the daemon's user and group.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SS_DAEMON_CONTROL_H
#define SS_DAEMON_CONTROL_H

#include <sys/types.h>
#include <glib.h>

typedef struct ss_control ss_control;

/* Renders the answer to a request (json: the "status json" form). */
typedef char *(*ss_control_render_fn)(gboolean json, void *user);

/* Creates the socket at @path (its directory too) and serves it on
 * @context (NULL: the global default), from the context's next iteration
 * on.  A stale socket from a dead daemon is replaced; any other file at
 * @path is an error. */
ss_control *ss_control_new(const char *path, GMainContext *context, ss_control_render_fn render,
                           void *user, GError **error);
/* Gives the socket, and its directory when ss_control_new() created it, to
 * @uid:@gid: a daemon about to drop root (--user) can then still remove
 * its socket at exit.  A directory that was there before is left alone. */
gboolean ss_control_set_owner(ss_control *control, uid_t uid, gid_t gid, GError **error);
/* Closes and removes the socket, and closes every client's connection.
 * Call it from the thread that runs the context: it iterates the context
 * briefly (at most a second) for the completions of the operations it
 * cancelled, so that nothing of the control is left when it returns. */
void ss_control_free(ss_control *control);
const char *ss_control_get_path(const ss_control *control);

/* Client: asks the daemon at @path; the answer in *@answer. */
gboolean ss_control_query(const char *path, gboolean json, char **answer, GError **error);

#endif
