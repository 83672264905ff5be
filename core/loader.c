/* snowsignal - UDP broadcast relay
 * loader.c: finds plugins with libltdl and checks their descriptors.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>
#include <ltdl.h>

#include "loader.h"

G_DEFINE_QUARK(snowsignal-loader-error-quark, ss_loader_error)

struct ss_loader {
  int refs;
  char **search_path;
  GHashTable *loaded;          /* name -> ss_plugin * */
};

static void
plugin_free(gpointer p)
{
  ss_plugin *plugin = p;
  if (plugin->handle)
    lt_dlclose(plugin->handle);
  g_free(plugin->name);
  g_free(plugin->path);
  g_free(plugin);
}

static void
add_dirs(GPtrArray *dirs, const char *const *list)
{
  for (; list && *list; list++)
    if (**list)
      g_ptr_array_add(dirs, g_strdup(*list));
}

ss_loader *
ss_loader_new(char **conf_path)
{
  ss_loader *loader = g_new0(ss_loader, 1);
  loader->refs = 1;
  GPtrArray *dirs = g_ptr_array_new();
  const char *env = g_getenv("SNOWSIGNAL_PLUGIN_PATH");
  if (env) {
    g_auto(GStrv) parts = g_strsplit(env, G_SEARCHPATH_SEPARATOR_S, -1);
    add_dirs(dirs, (const char *const *) parts);
  }
  add_dirs(dirs, (const char *const *) conf_path);
  const char *builtin = g_getenv("SNOWSIGNAL_PLUGINDIR");
  g_ptr_array_add(dirs, g_strdup(builtin && *builtin ? builtin : SS_PLUGINDIR));
  g_ptr_array_add(dirs, NULL);
  loader->search_path = (char **) g_ptr_array_free(dirs, FALSE);
  loader->loaded = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, plugin_free);
  lt_dlinit();
  return loader;
}

ss_loader *
ss_loader_ref(ss_loader *loader)
{
  loader->refs++;
  return loader;
}

gboolean
ss_loader_same_path(const ss_loader *loader, char **conf_path)
{
  ss_loader *other = ss_loader_new(conf_path);
  gboolean same = g_strv_equal((const char *const *) loader->search_path,
                               (const char *const *) other->search_path);
  ss_loader_free(other);
  return same;
}

void
ss_loader_free(ss_loader *loader)
{
  if (!loader || --loader->refs > 0)
    return;
  g_hash_table_unref(loader->loaded);
  g_strfreev(loader->search_path);
  lt_dlexit();
  g_free(loader);
}

char *const *
ss_loader_get_search_path(const ss_loader *loader)
{
  return loader->search_path;
}

const char *
ss_plugin_kind_to_string(ss_plugin_kind kind)
{
  switch (kind) {
  case SS_PLUGIN_FILTER: return "filter";
  case SS_PLUGIN_TRANSPORT: return "transport";
  default: return "unknown";
  }
}

/* Plugin names become file and symbol names: keep them to [a-z0-9-] so a
 * configuration cannot point the loader at another file. */
static gboolean
name_is_valid(const char *name)
{
  if (!*name)
    return FALSE;
  for (const char *c = name; *c; c++)
    if (!g_ascii_islower(*c) && !g_ascii_isdigit(*c) && *c != '-')
      return FALSE;
  return TRUE;
}

static char *
symbol_for(const char *name)
{
  g_autofree char *ident = g_strdelimit(g_strdup(name), "-", '_');
  return g_strconcat(SS_PLUGIN_SYMBOL_PREFIX, ident, SS_PLUGIN_SYMBOL_SUFFIX, NULL);
}

static gboolean
abi_error(GError **error, const char *name, const char *path, const ss_plugin_desc *desc,
          const char *what)
{
  g_set_error(error, SS_LOADER_ERROR, SS_LOADER_ERROR_ABI,
              "plugin '%s' (%s) was built for plugin ABI %u.%u; this snowsignal provides "
              "ABI %d.%d: %s", name, path, desc->abi_major, desc->abi_minor,
              SS_PLUGIN_ABI_MAJOR, SS_PLUGIN_ABI_MINOR, what);
  return FALSE;
}

static gboolean
invalid(GError **error, const char *name, const char *path, const char *what)
{
  g_set_error(error, SS_LOADER_ERROR, SS_LOADER_ERROR_INVALID,
              "plugin '%s' (%s) has an invalid descriptor: %s", name, path, what);
  return FALSE;
}

gboolean
ss_plugin_desc_check(const ss_plugin_desc *desc, const char *name, const char *path, GError **error)
{
  if (!desc)
    return invalid(error, name, path, "its entry function returned NULL");
  if (desc->abi_major != SS_PLUGIN_ABI_MAJOR)
    return abi_error(error, name, path, desc,
                     "the major versions differ; rebuild the plugin against this snowsignal's headers");
  if (desc->abi_minor > SS_PLUGIN_ABI_MINOR)
    return abi_error(error, name, path, desc,
                     "the plugin needs a newer snowsignal; upgrade snowsignal or use an older plugin");
  if (desc->size < sizeof(ss_plugin_desc)) {
    g_autofree char *what = g_strdup_printf("the descriptor is %u bytes, smaller than the %zu "
                                            "bytes of ABI %d.%d; rebuild the plugin",
                                            desc->size, sizeof(ss_plugin_desc),
                                            SS_PLUGIN_ABI_MAJOR, SS_PLUGIN_ABI_MINOR);
    return abi_error(error, name, path, desc, what);
  }
  if (!desc->name || strcmp(desc->name, name) != 0) {
    g_autofree char *what = g_strdup_printf("it calls itself '%s'; the file name and the "
                                            "descriptor's name must agree",
                                            desc->name ? desc->name : "(null)");
    return invalid(error, name, path, what);
  }
  if (!desc->version || !desc->description)
    return invalid(error, name, path, "version and description are required");
  if (desc->kind != SS_PLUGIN_FILTER && desc->kind != SS_PLUGIN_TRANSPORT)
    return invalid(error, name, path, "kind must be SS_PLUGIN_FILTER or SS_PLUGIN_TRANSPORT");
  if (!desc->instance_new || !desc->instance_free)
    return invalid(error, name, path, "instance_new and instance_free are required");
  if (desc->kind == SS_PLUGIN_FILTER && !desc->filter)
    return invalid(error, name, path, "a filter must set the filter callback");
  if (desc->kind == SS_PLUGIN_TRANSPORT && !desc->send)
    return invalid(error, name, path, "a transport must set the send callback");
  for (size_t i = 0; i < G_N_ELEMENTS(desc->reserved); i++)
    if (desc->reserved[i])
      return invalid(error, name, path, "its reserved fields are not zero; was it built "
                     "against a newer snowsignal's headers with an older ABI version?");
  for (const ss_plugin_key *k = desc->keys; k && k->name; k++)
    if (k->type <= SS_KEY_NONE || k->type > SS_KEY_STRING_LIST) {
      g_autofree char *what = g_strdup_printf("key '%s' has an unknown type %d", k->name, k->type);
      return invalid(error, name, path, what);
    }
  return TRUE;
}

/* Opens "dir/name" (.la first, then the shared object) in each directory
 * until one opens; collects what libltdl said for each place tried. */
static lt_dlhandle
open_first(const ss_loader *loader, const char *name, char **path_out, GString *tried)
{
  for (char *const *dir = loader->search_path; *dir; dir++) {
    g_autofree char *base = g_build_filename(*dir, name, NULL);
    lt_dlhandle h = lt_dlopenext(base);
    if (h) {
      const lt_dlinfo *info = lt_dlgetinfo(h);
      *path_out = g_strdup(info && info->filename ? info->filename : base);
      return h;
    }
    const char *why = lt_dlerror();
    g_string_append_printf(tried, "\n  %s{.la,.so}: %s", base, why ? why : "not found");
  }
  return NULL;
}

const ss_plugin *
ss_loader_load(ss_loader *loader, const char *name, GError **error)
{
  ss_plugin *plugin = g_hash_table_lookup(loader->loaded, name);
  if (plugin)
    return plugin;
  if (!name_is_valid(name)) {
    g_set_error(error, SS_LOADER_ERROR, SS_LOADER_ERROR_NOT_FOUND,
                "plugin name '%s' is not valid: use lower-case letters, digits and '-'", name);
    return NULL;
  }
  g_autoptr(GString) tried = g_string_new(NULL);
  char *path = NULL;
  lt_dlhandle h = open_first(loader, name, &path, tried);
  if (!h) {
    g_set_error(error, SS_LOADER_ERROR, SS_LOADER_ERROR_NOT_FOUND,
                "plugin '%s' not found; tried:%s\nSet plugin_path in the configuration or "
                "SNOWSIGNAL_PLUGIN_PATH, or install the plugin", name, tried->str);
    return NULL;
  }
  g_autofree char *symbol = symbol_for(name);
  ss_plugin_get_desc_func get_desc = (ss_plugin_get_desc_func) lt_dlsym(h, symbol);
  if (!get_desc) {
    const char *why = lt_dlerror();
    g_set_error(error, SS_LOADER_ERROR, SS_LOADER_ERROR_NO_SYMBOL,
                "plugin '%s' (%s) does not export %s: %s; is it a snowsignal plugin?",
                name, path, symbol, why ? why : "symbol not found");
    lt_dlclose(h);
    g_free(path);
    return NULL;
  }
  const ss_plugin_desc *desc = get_desc();
  if (!ss_plugin_desc_check(desc, name, path, error)) {
    lt_dlclose(h);
    g_free(path);
    return NULL;
  }
  plugin = g_new0(ss_plugin, 1);
  plugin->name = g_strdup(name);
  plugin->path = path;
  plugin->desc = desc;
  plugin->handle = h;
  g_hash_table_insert(loader->loaded, plugin->name, plugin);
  return plugin;
}

static gboolean
is_plugin_file(const char *file, char **name_out)
{
  const char *suffixes[] = { ".la", ".so" };
  for (size_t i = 0; i < G_N_ELEMENTS(suffixes); i++)
    if (g_str_has_suffix(file, suffixes[i]) && strncmp(file, "lib", 3) != 0) {
      *name_out = g_strndup(file, strlen(file) - strlen(suffixes[i]));
      if (name_is_valid(*name_out))
        return TRUE;
      g_clear_pointer(name_out, g_free);
    }
  return FALSE;
}

char **
ss_loader_find_all(const ss_loader *loader)
{
  GPtrArray *names = g_ptr_array_new();
  for (char *const *dir = loader->search_path; *dir; dir++) {
    g_autoptr(GDir) d = g_dir_open(*dir, 0, NULL);
    const char *file;
    while (d && (file = g_dir_read_name(d))) {
      char *name = NULL;
      if (!is_plugin_file(file, &name))
        continue;
      gboolean seen = FALSE;
      for (guint i = 0; i < names->len && !seen; i++)
        seen = strcmp(g_ptr_array_index(names, i), name) == 0;
      if (seen)
        g_free(name);
      else
        g_ptr_array_add(names, name);
    }
  }
  g_ptr_array_add(names, NULL);
  return (char **) g_ptr_array_free(names, FALSE);
}
