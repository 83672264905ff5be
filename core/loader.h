/* snowsignal - UDP broadcast relay
 * loader.h: finds plugins with libltdl and checks their descriptors.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SS_CORE_LOADER_H
#define SS_CORE_LOADER_H

#include <glib.h>
#include <snowsignal/plugin.h>

#define SS_LOADER_ERROR ss_loader_error_quark ()
GQuark ss_loader_error_quark(void);
typedef enum {
  SS_LOADER_ERROR_NOT_FOUND,
  SS_LOADER_ERROR_NO_SYMBOL,
  SS_LOADER_ERROR_ABI,
  SS_LOADER_ERROR_INVALID,
  SS_LOADER_ERROR_CANNOT_OPEN  /* a file is there but cannot be opened */
} ss_loader_error;

typedef struct {
  char *name;
  char *path;                  /* the file libltdl opened */
  const ss_plugin_desc *desc;
  void *handle;                /* lt_dlhandle */
} ss_plugin;

typedef struct ss_loader ss_loader;

/* The search path is SNOWSIGNAL_PLUGIN_PATH (colon-separated), then
 * @conf_path, then the compiled-in plugindir (SNOWSIGNAL_PLUGINDIR replaces
 * it, for tests and relocated installs). */
ss_loader *ss_loader_new(char **conf_path);
/* Reference counting: a reloaded relay shares its predecessor's loader so
 * that instances it keeps still point at loaded plugins. */
ss_loader *ss_loader_ref(ss_loader *loader);
void ss_loader_free(ss_loader *loader);   /* drops one reference */
/* TRUE when a loader made for @conf_path would search what @loader does. */
gboolean ss_loader_same_path(const ss_loader *loader, char **conf_path);

/* The directories searched, in order (NULL-terminated, owned by @loader). */
char *const *ss_loader_get_search_path(const ss_loader *loader);

/* Opens plugin @name (once; later calls return the same plugin). */
const ss_plugin *ss_loader_load(ss_loader *loader, const char *name, GError **error);

/* Every plugin file found on the search path, first one of each name wins.
 * Returns the names (NULL-terminated, free with g_strfreev). */
char **ss_loader_find_all(const ss_loader *loader);

/* The descriptor checks, separate so they can be tested alone. */
gboolean ss_plugin_desc_check(const ss_plugin_desc *desc, const char *name, const char *path,
                              GError **error);

const char *ss_plugin_kind_to_string(ss_plugin_kind kind);

#endif
