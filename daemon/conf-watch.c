/* snowsignal - UDP broadcast relay
 * conf-watch.c: the file monitor of conf-watch.h.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <gio/gio.h>

#include "conf-watch.h"

struct ss_conf_watch {
  char *path;
  GFile *file;
  GFileMonitor *monitor;
  GSource *settle;
  char *digest;               /* SHA-256 of the content last seen, or NULL */
  void (*changed)(void *user);
  void *user;
};

/* The file's digest, NULL when it cannot be read (being replaced, say). */
static char *
digest_of(const char *path)
{
  char *text = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &text, &len, NULL))
    return NULL;
  char *d = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *) text, len);
  g_free(text);
  return d;
}

static gboolean
on_settled(gpointer user_data)
{
  ss_conf_watch *w = user_data;
  g_clear_pointer(&w->settle, g_source_unref);
  char *d = digest_of(w->path);
  if (!d || g_strcmp0(d, w->digest) == 0) {
    g_free(d);
    return G_SOURCE_REMOVE;
  }
  g_free(w->digest);
  w->digest = d;
  w->changed(w->user);
  return G_SOURCE_REMOVE;
}

static void
on_event(GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event, gpointer user)
{
  ss_conf_watch *w = user;
  switch (event) {
  case G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT:
  case G_FILE_MONITOR_EVENT_CREATED:
  case G_FILE_MONITOR_EVENT_MOVED_IN:
  case G_FILE_MONITOR_EVENT_RENAMED:
  case G_FILE_MONITOR_EVENT_CHANGED:
  case G_FILE_MONITOR_EVENT_ATTRIBUTE_CHANGED:
    break;
  default:
    return;
  }
  /* An editor writes in several steps: act once they are over. */
  if (w->settle) {
    g_source_destroy(w->settle);
    g_clear_pointer(&w->settle, g_source_unref);
  }
  w->settle = g_timeout_source_new(SS_CONF_WATCH_SETTLE_MS);
  g_source_set_callback(w->settle, on_settled, w, NULL);
  g_source_attach(w->settle, g_main_context_get_thread_default());
}

ss_conf_watch *
ss_conf_watch_new(const char *path, void (*changed)(void *user), void *user, GError **error)
{
  GFile *file = g_file_new_for_path(path);
  GFileMonitor *monitor = g_file_monitor_file(file, G_FILE_MONITOR_WATCH_MOVES, NULL, error);
  if (!monitor) {
    g_object_unref(file);
    return NULL;
  }
  ss_conf_watch *w = g_new0(ss_conf_watch, 1);
  w->path = g_strdup(path);
  w->file = file;
  w->monitor = monitor;
  w->digest = digest_of(path);
  w->changed = changed;
  w->user = user;
  g_signal_connect(monitor, "changed", G_CALLBACK(on_event), w);
  return w;
}

void
ss_conf_watch_free(ss_conf_watch *w)
{
  if (!w)
    return;
  if (w->settle) {
    g_source_destroy(w->settle);
    g_source_unref(w->settle);
  }
  g_file_monitor_cancel(w->monitor);
  g_signal_handlers_disconnect_by_data(w->monitor, w);
  g_object_unref(w->monitor);
  g_object_unref(w->file);
  g_free(w->digest);
  g_free(w->path);
  g_free(w);
}
