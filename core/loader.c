/* snowsignal - UDP broadcast relay
 * loader.c: finds plugins with libltdl, says why one cannot be opened, and
 * checks their descriptors.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
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

/* ---- why a plugin file cannot be opened ----------------------------------
 *
 * libltdl tries several loaders and keeps the last one's complaint, which is
 * mostly "file not found", whether the file is missing, unreadable, not a
 * shared object or needs a library that is not there.  So when
 * lt_dlopenext() fails the loader looks for itself, for each file it could
 * have opened: stat() and open() (missing, permission), the ELF header (not
 * a shared object, another machine's or word size's ABI), a libtool
 * archive's dlname, and last dlopen()'s own message (a library or a symbol
 * the plugin needs).  libltdl's words are reported too, verbatim. */

/* The ELF header of libsnowsignal itself, as mapped: the class, byte order
 * and machine a plugin must have. */
static const ElfW(Ehdr) *
own_elf_header(void)
{
  static const char anchor;   /* any object of this library */
  Dl_info info;
  if (!dladdr(&anchor, &info) || !info.dli_fbase)
    return NULL;
  const ElfW(Ehdr) *self = info.dli_fbase;
  return memcmp(self->e_ident, ELFMAG, SELFMAG) == 0 ? self : NULL;
}

/* "permission denied: ..." for @path, which stat() or open() refused with
 * EACCES: names the first directory that cannot be entered, or the file. */
static char *
permission_reason(const char *path)
{
  g_autofree char *dir = g_path_get_dirname(path);
  g_autoptr(GString) prefix = g_string_new(NULL);
  g_auto(GStrv) parts = g_strsplit(dir, G_DIR_SEPARATOR_S, -1);
  for (char **part = parts; *part; part++) {
    if (!**part)
      continue;
    if (prefix->len > 0 || g_path_is_absolute(dir))
      g_string_append_c(prefix, G_DIR_SEPARATOR);
    g_string_append(prefix, *part);
    struct stat st;
    if (faccessat(AT_FDCWD, prefix->str, X_OK, AT_EACCESS) != 0 && errno == EACCES &&
        stat(prefix->str, &st) == 0)
      return g_strdup_printf("permission denied: uid %u cannot enter the directory %s "
                             "(mode %04o, owner uid %u gid %u)", (unsigned) geteuid(),
                             prefix->str, (unsigned) (st.st_mode & 07777),
                             (unsigned) st.st_uid, (unsigned) st.st_gid);
  }
  struct stat st;
  if (stat(path, &st) == 0)
    return g_strdup_printf("permission denied: uid %u cannot read it (mode %04o, owner "
                           "uid %u gid %u)", (unsigned) geteuid(),
                           (unsigned) (st.st_mode & 07777), (unsigned) st.st_uid,
                           (unsigned) st.st_gid);
  return g_strdup_printf("permission denied (%s)", g_strerror(EACCES));
}

/* Opens @path for reading; on failure returns -1 and sets *@reason (and
 * *@absent when there is no such file). */
static int
open_for_reason(const char *path, gboolean *absent, char **reason)
{
  struct stat st;
  int fd = -1;
  if (stat(path, &st) != 0 || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
    int err = errno;
    *absent = err == ENOENT || err == ENOTDIR;
    *reason = err == EACCES ? permission_reason(path)
      : *absent ? g_strdup("no such file") : g_strdup(g_strerror(err));
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    *reason = g_strdup(S_ISDIR(st.st_mode) ? "not a shared object: it is a directory"
                       : "not a shared object: not a regular file");
    return -1;
  }
  return fd;
}

static const char *
elf_type_name(unsigned type)
{
  switch (type) {
  case ET_REL: return "an object file (.o), not linked into a shared object";
  case ET_EXEC: return "an executable";
  case ET_CORE: return "a core dump";
  default: return "an ELF file of an unknown type";
  }
}

/* What is wrong with the shared object @path, by its header; NULL when the
 * header is that of a shared object this process can load. */
static char *
elf_reason(const char *path, gboolean *absent)
{
  char *reason = NULL;
  int fd = open_for_reason(path, absent, &reason);
  if (fd < 0)
    return reason;
  ElfW(Ehdr) h;
  ssize_t n = read(fd, &h, sizeof h);
  close(fd);
  if (n < (ssize_t) EI_NIDENT || memcmp(h.e_ident, ELFMAG, SELFMAG) != 0)
    return g_strdup("not a shared object: it is not an ELF file");
  const ElfW(Ehdr) *self = own_elf_header();
  if (!self)
    return NULL;
  if (h.e_ident[EI_CLASS] != self->e_ident[EI_CLASS])
    return g_strdup_printf("wrong ABI: a %s ELF object; this snowsignal is %s",
                           h.e_ident[EI_CLASS] == ELFCLASS32 ? "32-bit" : "64-bit",
                           self->e_ident[EI_CLASS] == ELFCLASS32 ? "32-bit" : "64-bit");
  if (h.e_ident[EI_DATA] != self->e_ident[EI_DATA])
    return g_strdup_printf("wrong ABI: a %s ELF object; this snowsignal is %s",
                           h.e_ident[EI_DATA] == ELFDATA2MSB ? "big-endian" : "little-endian",
                           self->e_ident[EI_DATA] == ELFDATA2MSB ? "big-endian" : "little-endian");
  if (n < (ssize_t) sizeof h)
    return g_strdup("not a shared object: its ELF header is cut short");
  if (h.e_machine != self->e_machine)
    return g_strdup_printf("wrong ABI: built for ELF machine %u; this snowsignal runs on "
                           "machine %u (see EM_* in elf.h)", h.e_machine, self->e_machine);
  if (h.e_type != ET_DYN)
    return g_strdup_printf("not a shared object: %s", elf_type_name(h.e_type));
  return NULL;
}

/* What is wrong with the shared object @path; NULL when it can be loaded. */
static char *
object_reason(const char *path, gboolean *absent)
{
  char *reason = elf_reason(path, absent);
  if (reason)
    return reason;
  /* The header is right: the dynamic linker says what else is missing.
   * libltdl's attempt failed already, so nothing of the plugin ran; should
   * this one succeed, it is closed again at once. */
  dlerror();
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (h) {
    dlclose(h);
    return NULL;
  }
  const char *why = dlerror();
  if (!why)
    return g_strdup("the dynamic linker refused it");
  /* "PATH: undefined symbol: x": the path is on the line already. */
  if (g_str_has_prefix(why, path) && strncmp(why + strlen(path), ": ", 2) == 0)
    why += strlen(path) + 2;
  if (strstr(why, "cannot open shared object file"))
    return g_strdup_printf("a library it needs cannot be loaded: %s", why);
  if (strstr(why, "undefined symbol") || strstr(why, "symbol lookup error"))
    return g_strdup_printf("a symbol it needs is missing: %s", why);
  if (strstr(why, "ELF class") || strstr(why, "wrong ELF"))
    return g_strdup_printf("wrong ABI: %s", why);
  return g_strdup_printf("the dynamic linker refused it: %s", why);
}

/* The value of KEY='...' in the libtool archive @text, or NULL. */
static char *
la_value(const char *text, const char *key)
{
  g_autofree char *start = g_strconcat("\n", key, "='", NULL);
  const char *v = strstr(text, start);
  if (!v)
    return NULL;
  v += strlen(start);
  const char *end = strchr(v, '\'');
  return end ? g_strndup(v, end - v) : NULL;
}

/* What is wrong with the libtool archive @path or the shared object it
 * names; NULL when both look right. */
static char *
archive_reason(const char *path, gboolean *absent)
{
  char *reason = NULL;
  int fd = open_for_reason(path, absent, &reason);
  if (fd < 0)
    return reason;
  close(fd);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents(path, &text, NULL, &error))
    return g_strdup(error->message);
  g_autofree char *contents = g_strconcat("\n", text, NULL);
  g_autofree char *dlname = la_value(contents, "dlname");
  if (!dlname)
    return g_strdup("not a libtool archive (it has no dlname line)");
  if (!*dlname)
    return g_strdup("a libtool archive without a shared object (dlname is empty: built "
                    "static only?)");
  /* Where libltdl looks: objdir beside an uninstalled archive, the
   * archive's own directory, libdir for an installed one. */
  g_autofree char *dir = g_path_get_dirname(path);
  g_autofree char *libdir = la_value(contents, "libdir");
  char *places[] = { g_build_filename(dir, LT_OBJDIR, dlname, NULL),
                     g_build_filename(dir, dlname, NULL),
                     libdir && *libdir ? g_build_filename(libdir, dlname, NULL) : NULL };
  for (size_t i = 0; i < G_N_ELEMENTS(places) && !reason && places[i]; i++) {
    gboolean missing = FALSE;
    g_autofree char *why = object_reason(places[i], &missing);
    if (!missing)
      reason = why ? g_strdup_printf("%s: %s", places[i], why)
        : g_strdup_printf("%s opens; libltdl refused the archive", places[i]);
  }
  if (!reason)
    reason = g_strdup_printf("the shared object it names (dlname '%s') is in none of %s, "
                             "%s%s%s", dlname, places[0], places[1],
                             places[2] ? ", " : "", places[2] ? places[2] : "");
  for (size_t i = 0; i < G_N_ELEMENTS(places); i++)
    g_free(places[i]);
  return reason;
}

/* Appends, for "dir/name", why neither name.la nor name.so opened.
 * Returns TRUE when one of them exists. */
static gboolean
explain_failure(GString *tried, const char *base, const char *ltdl_said)
{
  g_autofree char *la = g_strconcat(base, ".la", NULL);
  g_autofree char *so = g_strconcat(base, ".so", NULL);
  gboolean la_absent = FALSE, so_absent = FALSE;
  g_autofree char *la_why = archive_reason(la, &la_absent);
  g_autofree char *so_why = object_reason(so, &so_absent);
  if (la_absent && so_absent) {
    g_string_append_printf(tried, "\n  %s{.la,.so}: no such file", base);
    return FALSE;
  }
  if (la_why && so_why && strcmp(la_why, so_why) == 0)  /* a closed directory */
    g_string_append_printf(tried, "\n  %s{.la,.so}: %s", base, la_why);
  else {
    if (!la_absent)
      g_string_append_printf(tried, "\n  %s: %s", la, la_why ? la_why : "looks right");
    if (!so_absent)
      g_string_append_printf(tried, "\n  %s: %s", so, so_why ? so_why : "looks right");
  }
  g_string_append_printf(tried, " (libltdl: %s)", ltdl_said ? ltdl_said : "no message");
  return TRUE;
}

/* Opens "dir/name" (.la first, then the shared object) in each directory
 * until one opens; says for each place tried why it did not.  *@found is
 * set when some file was there but could not be opened. */
static lt_dlhandle
open_first(const ss_loader *loader, const char *name, char **path_out, GString *tried,
           gboolean *found)
{
  *found = FALSE;
  for (char *const *dir = loader->search_path; *dir; dir++) {
    g_autofree char *base = g_build_filename(*dir, name, NULL);
    lt_dlhandle h = lt_dlopenext(base);
    if (h) {
      const lt_dlinfo *info = lt_dlgetinfo(h);
      *path_out = g_strdup(info && info->filename ? info->filename : base);
      return h;
    }
    g_autofree char *ltdl_said = g_strdup(lt_dlerror());
    *found |= explain_failure(tried, base, ltdl_said);
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
  gboolean found = FALSE;
  lt_dlhandle h = open_first(loader, name, &path, tried, &found);
  if (!h && found) {
    g_set_error(error, SS_LOADER_ERROR, SS_LOADER_ERROR_CANNOT_OPEN,
                "plugin '%s' cannot be opened; tried:%s\nRepair what is named above, or put "
                "a copy that opens in a directory of plugin_path or SNOWSIGNAL_PLUGIN_PATH",
                name, tried->str);
    return NULL;
  }
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
