/* Tests of the plugin loader with fixture plugins: the good one, one for
 * each way a descriptor can be wrong, and files that are there but cannot
 * be opened.  Every failure must name the plugin, the paths tried or the
 * file, the reason for each, and both ABI versions where relevant. */
#include <config.h>

#include <dlfcn.h>
#include <elf.h>
#include <grp.h>
#include <link.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "loader.h"

#define assert_has(msg, part)                                                  \
  do {                                                                         \
    if (!strstr((msg), (part)))                                                \
      g_error("message \"%s\" lacks \"%s\"", (msg), (part));                   \
  } while (0)

static ss_loader *
new_loader(void)
{
  return ss_loader_new(NULL);
}

static void
test_good(void)
{
  ss_loader *loader = new_loader();
  GError *error = NULL;
  const ss_plugin *p = ss_loader_load(loader, "fixture-good", &error);
  g_assert_no_error(error);
  g_assert_nonnull(p);
  g_assert_cmpstr(p->desc->name, ==, "fixture-good");
  g_assert_cmpstr(p->desc->version, ==, "1.2.3");
  g_assert_cmpint(p->desc->kind, ==, SS_PLUGIN_FILTER);
  /* Found in the build tree, never an installed copy. */
  assert_has(p->path, g_getenv("SS_TOP_BUILDDIR"));
  /* Loaded once. */
  g_assert_true(ss_loader_load(loader, "fixture-good", NULL) == p);
  ss_loader_free(loader);
}

typedef struct {
  const char *plugin;
  int code;
  const char *expect[4];
} bad_plugin;

static const bad_plugin bad_plugins[] = {
  { "fixture-abi-major", SS_LOADER_ERROR_ABI, { "fixture-abi-major", "ABI 2.0", "ABI 1.1" } },
  { "fixture-abi-minor", SS_LOADER_ERROR_ABI, { "fixture-abi-minor", "ABI 1.2", "newer snowsignal" } },
  { "fixture-short", SS_LOADER_ERROR_ABI, { "fixture-short", "smaller than", "ABI 1.1" } },
  { "fixture-no-free", SS_LOADER_ERROR_INVALID, { "fixture-no-free", "instance_free", NULL } },
  { "fixture-no-symbol", SS_LOADER_ERROR_NO_SYMBOL,
    { "fixture-no-symbol", "snowsignal_plugin_fixture_no_symbol_get_desc", NULL } },
  /* Found, but the dynamic linker refuses them: the loader says why, in
   * its own words and libltdl's. */
  { "fixture-needs-symbol", SS_LOADER_ERROR_CANNOT_OPEN,
    { "plugin 'fixture-needs-symbol' cannot be opened", "a symbol it needs is missing",
      "snowsignal_fixture_nowhere", "(libltdl: " } },
  { "fixture-needs-lib", SS_LOADER_ERROR_CANNOT_OPEN,
    { "plugin 'fixture-needs-lib' cannot be opened", "a library it needs cannot be loaded",
      "libsnowsignal-fixture-gone.so.0", "(libltdl: " } },
  { "no-such-plugin", SS_LOADER_ERROR_NOT_FOUND, { "plugin 'no-such-plugin' not found", "tests/fixtures/no-such-plugin", "plugins/no-such-plugin" } },
  { "../etc/passwd", SS_LOADER_ERROR_NOT_FOUND, { "not valid", NULL } },
};

static void
test_bad(gconstpointer data)
{
  const bad_plugin *c = data;
  ss_loader *loader = new_loader();
  GError *error = NULL;
  g_assert_null(ss_loader_load(loader, c->plugin, &error));
  g_assert_error(error, SS_LOADER_ERROR, c->code);
  for (int i = 0; i < 4 && c->expect[i]; i++)
    assert_has(error->message, c->expect[i]);
  g_error_free(error);
  ss_loader_free(loader);
}

/* ---- files that are there but cannot be opened ---------------------------
 *
 * Made at run time in a directory of their own: a text file, ELF headers of
 * the wrong kind, class or machine, a directory, a libtool archive naming a
 * missing object, and (in a subprocess that cannot read them) a plugin
 * behind a closed directory and an unreadable plugin. */

/* The line of @msg about @path: the reason given for that file. */
static char *
line_about(const char *msg, const char *path)
{
  g_autofree char *start = g_strconcat("\n  ", path, ":", NULL);
  const char *line = strstr(msg, start);
  if (!line)
    g_error("message \"%s\" has no line for %s", msg, path);
  line += 3;
  const char *end = strchr(line, '\n');
  return end ? g_strndup(line, end - line) : g_strdup(line);
}

/* Loads @name from @dir only (and the plugindir) and checks that the
 * failure names @file and, on its line, every part of @expect. */
static void
assert_cannot_open(const char *dir, const char *name, const char *file,
                   const char *const *expect)
{
  g_setenv("SNOWSIGNAL_PLUGIN_PATH", dir, TRUE);
  ss_loader *loader = new_loader();
  GError *error = NULL;
  g_assert_null(ss_loader_load(loader, name, &error));
  g_assert_error(error, SS_LOADER_ERROR, SS_LOADER_ERROR_CANNOT_OPEN);
  g_autofree char *cannot = g_strdup_printf("plugin '%s' cannot be opened; tried:", name);
  assert_has(error->message, cannot);
  g_autofree char *path = g_build_filename(dir, file, NULL);
  g_autofree char *line = line_about(error->message, path);
  for (; *expect; expect++)
    assert_has(line, *expect);
  g_error_free(error);
  ss_loader_free(loader);
}

static const ElfW(Ehdr) *
own_header(void)
{
  static const char anchor;
  Dl_info info;
  g_assert_true(dladdr(&anchor, &info) && info.dli_fbase);
  return info.dli_fbase;
}

/* An ELF header like this program's, with @edit applied. */
typedef enum { OTHER_CLASS, OTHER_MACHINE, RELOCATABLE } elf_edit;
static void
write_elf(const char *path, elf_edit edit)
{
  ElfW(Ehdr) h = *own_header();
  if (edit == OTHER_CLASS)
    h.e_ident[EI_CLASS] = h.e_ident[EI_CLASS] == ELFCLASS64 ? ELFCLASS32 : ELFCLASS64;
  else if (edit == OTHER_MACHINE)
    h.e_machine = h.e_machine == EM_X86_64 ? EM_AARCH64 : EM_X86_64;
  else
    h.e_type = ET_REL;
  g_assert_true(g_file_set_contents(path, (const char *) &h, sizeof h, NULL));
}

static char *
write_file(const char *dir, const char *file, const char *text)
{
  char *path = g_build_filename(dir, file, NULL);
  g_assert_true(g_file_set_contents(path, text, -1, NULL));
  return path;
}

static void
test_cannot_open_files(void)
{
  g_autofree char *saved = g_strdup(g_getenv("SNOWSIGNAL_PLUGIN_PATH"));
  g_autofree char *dir = g_dir_make_tmp("ss-loader-XXXXXX", NULL);
  g_assert_nonnull(dir);
  g_autofree char *text = write_file(dir, "fixture-text.so", "this is not a plugin\n");
  assert_cannot_open(dir, "fixture-text", "fixture-text.so",
                     (const char *[]) { "not a shared object", "not an ELF file", "(libltdl: ",
                                        NULL });

  g_autofree char *rel = g_build_filename(dir, "fixture-object.so", NULL);
  write_elf(rel, RELOCATABLE);
  assert_cannot_open(dir, "fixture-object", "fixture-object.so",
                     (const char *[]) { "not a shared object", "object file (.o)", NULL });

  g_autofree char *cls = g_build_filename(dir, "fixture-class.so", NULL);
  write_elf(cls, OTHER_CLASS);
  assert_cannot_open(dir, "fixture-class", "fixture-class.so",
                     (const char *[]) { "wrong ABI", sizeof(void *) == 8 ? "a 32-bit ELF object"
                                        : "a 64-bit ELF object", NULL });

  g_autofree char *mach = g_build_filename(dir, "fixture-machine.so", NULL);
  write_elf(mach, OTHER_MACHINE);
  g_autofree char *machine = g_strdup_printf("built for ELF machine %u", own_header()->e_machine
                                             == EM_X86_64 ? EM_AARCH64 : EM_X86_64);
  assert_cannot_open(dir, "fixture-machine", "fixture-machine.so",
                     (const char *[]) { "wrong ABI", machine, NULL });

  g_autofree char *sub = g_build_filename(dir, "fixture-dir.so", NULL);
  g_assert_cmpint(g_mkdir(sub, 0755), ==, 0);
  assert_cannot_open(dir, "fixture-dir", "fixture-dir.so",
                     (const char *[]) { "not a shared object", "it is a directory", NULL });

  /* A libtool archive whose shared object is missing, and one whose shared
   * object is not one. */
  g_autofree char *la = write_file(dir, "fixture-lost.la",
                                   "# libtool archive\ndlname='fixture-lost.so'\n"
                                   "libdir='/nowhere'\ninstalled=no\n");
  assert_cannot_open(dir, "fixture-lost", "fixture-lost.la",
                     (const char *[]) { "dlname 'fixture-lost.so'", "is in none of",
                                        "/nowhere/fixture-lost.so", NULL });
  g_autofree char *la2 = write_file(dir, "fixture-text.la",
                                    "# libtool archive\ndlname='fixture-text.so'\n"
                                    "libdir=''\ninstalled=no\n");
  g_autofree char *inner = g_strdup_printf("%s: not a shared object: it is not an ELF file", text);
  assert_cannot_open(dir, "fixture-text", "fixture-text.la",
                     (const char *[]) { inner, NULL });
  g_autofree char *not_la = write_file(dir, "fixture-junk.la", "junk\n");
  assert_cannot_open(dir, "fixture-junk", "fixture-junk.la",
                     (const char *[]) { "not a libtool archive", NULL });

  const char *made[] = { text, rel, cls, mach, la, la2, not_la };
  for (size_t i = 0; i < G_N_ELEMENTS(made); i++)
    g_assert_cmpint(g_unlink(made[i]), ==, 0);
  g_assert_cmpint(g_rmdir(sub), ==, 0);
  g_assert_cmpint(g_rmdir(dir), ==, 0);
  g_setenv("SNOWSIGNAL_PLUGIN_PATH", saved, TRUE);
}

/* Permission: a copy of fixture-good behind a closed directory, or itself
 * unreadable.  root reads everything, so as root the subprocess that loads
 * it first becomes nobody (65534). */
#define LOCKED_DIR_ENV "SS_TEST_LOCKED_DIR"

static void
become_nobody(void)
{
  if (geteuid() != 0)
    return;
  g_assert_cmpint(setgroups(0, NULL), ==, 0);
  g_assert_cmpint(setgid(65534), ==, 0);
  g_assert_cmpint(setuid(65534), ==, 0);
  /* Dumpable again, so that LeakSanitizer can still look at the process. */
  g_assert_cmpint(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), ==, 0);
}

static void
test_permission(gconstpointer data)
{
  const char *what = data;   /* "directory" or "file" */
  if (g_test_subprocess()) {
    become_nobody();
    const char *dir = g_getenv(LOCKED_DIR_ENV);
    g_autofree char *expect = g_strdup_printf("uid %u cannot enter the directory %s (mode 0000",
                                              (unsigned) geteuid(), dir);
    if (strcmp(what, "directory") == 0) /* whether .la or .so, it cannot tell: one line */
      assert_cannot_open(dir, "fixture-locked", "fixture-locked{.la,.so}",
                         (const char *[]) { "permission denied", expect, "(libltdl: ", NULL });
    else
      assert_cannot_open(dir, "fixture-locked", "fixture-locked.so",
                         (const char *[]) { "permission denied", "cannot read it (mode 0000",
                                            NULL });
    return;
  }
  g_autofree char *dir = g_dir_make_tmp("ss-loader-XXXXXX", NULL);
  g_assert_nonnull(dir);
  g_autofree char *good = g_build_filename(g_getenv("SS_TOP_BUILDDIR"), "tests", "fixtures",
                                           LT_OBJDIR, "fixture-good.so", NULL);
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(good, &contents, &len, NULL));
  g_autofree char *copy = g_build_filename(dir, "fixture-locked.so", NULL);
  g_assert_true(g_file_set_contents(copy, contents, len, NULL));
  if (strcmp(what, "directory") == 0) {
    g_assert_cmpint(g_chmod(copy, 0644), ==, 0);
    g_assert_cmpint(g_chmod(dir, 0), ==, 0);
  } else {
    g_assert_cmpint(g_chmod(copy, 0), ==, 0);
    g_assert_cmpint(g_chmod(dir, 0755), ==, 0);
  }
  g_setenv(LOCKED_DIR_ENV, dir, TRUE);
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv(LOCKED_DIR_ENV);
  g_assert_cmpint(g_chmod(dir, 0700), ==, 0);
  g_assert_cmpint(g_unlink(copy), ==, 0);
  g_assert_cmpint(g_rmdir(dir), ==, 0);
  g_test_trap_assert_passed();
}

static void
test_search_path_order(void)
{
  char *conf_path[] = { (char *) "/from/config", NULL };
  ss_loader *loader = ss_loader_new(conf_path);
  char *const *dirs = ss_loader_get_search_path(loader);
  g_auto(GStrv) env = g_strsplit(g_getenv("SNOWSIGNAL_PLUGIN_PATH"), ":", -1);
  guint n = 0;
  for (char **e = env; *e; e++)
    g_assert_cmpstr(dirs[n++], ==, *e);
  g_assert_cmpstr(dirs[n++], ==, "/from/config");
  g_assert_cmpstr(dirs[n++], ==, g_getenv("SNOWSIGNAL_PLUGINDIR"));
  g_assert_null(dirs[n]);
  /* The not-found message lists the config's directory too. */
  GError *error = NULL;
  g_assert_null(ss_loader_load(loader, "absent", &error));
  assert_has(error->message, "/from/config/absent");
  g_error_free(error);
  ss_loader_free(loader);
}

static void
test_find_all(void)
{
  ss_loader *loader = new_loader();
  g_auto(GStrv) names = ss_loader_find_all(loader);
  g_assert_true(g_strv_contains((const char *const *) names, "fixture-good"));
  g_assert_true(g_strv_contains((const char *const *) names, "udp-mesh"));
  g_assert_true(g_strv_contains((const char *const *) names, "mac-self"));
  /* Each name once, though .la and .so both exist. */
  guint count = 0;
  for (char **n = names; *n; n++)
    count += strcmp(*n, "fixture-good") == 0;
  g_assert_cmpuint(count, ==, 1);
  ss_loader_free(loader);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/loader/good", test_good);
  g_test_add_func("/loader/search-path-order", test_search_path_order);
  g_test_add_func("/loader/find-all", test_find_all);
  g_test_add_func("/loader/cannot-open/files", test_cannot_open_files);
  g_test_add_data_func("/loader/cannot-open/permission/directory", "directory", test_permission);
  g_test_add_data_func("/loader/cannot-open/permission/file", "file", test_permission);
  for (size_t i = 0; i < G_N_ELEMENTS(bad_plugins); i++) {
    g_autofree char *path = g_strdup_printf("/loader/bad/%s", bad_plugins[i].plugin);
    g_strdelimit(path + 12, "/.", '_');
    g_test_add_data_func(path, &bad_plugins[i], test_bad);
  }
  return g_test_run();
}
