/* Tests of the plugin loader with fixture plugins: the good one, and one for
 * each way a descriptor can be wrong.  Every failure must name the plugin,
 * the paths tried or the file, and both ABI versions where relevant. */
#include <config.h>

#include <string.h>
#include <glib.h>

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
  const char *expect[3];
} bad_plugin;

static const bad_plugin bad_plugins[] = {
  { "fixture-abi-major", SS_LOADER_ERROR_ABI, { "fixture-abi-major", "ABI 2.0", "ABI 1.0" } },
  { "fixture-abi-minor", SS_LOADER_ERROR_ABI, { "fixture-abi-minor", "ABI 1.1", "newer snowsignal" } },
  { "fixture-short", SS_LOADER_ERROR_ABI, { "fixture-short", "smaller than", "ABI 1.0" } },
  { "fixture-no-free", SS_LOADER_ERROR_INVALID, { "fixture-no-free", "instance_free", NULL } },
  { "fixture-no-symbol", SS_LOADER_ERROR_NO_SYMBOL,
    { "fixture-no-symbol", "snowsignal_plugin_fixture_no_symbol_get_desc", NULL } },
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
  for (int i = 0; i < 3 && c->expect[i]; i++)
    assert_has(error->message, c->expect[i]);
  g_error_free(error);
  ss_loader_free(loader);
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
  for (size_t i = 0; i < G_N_ELEMENTS(bad_plugins); i++) {
    g_autofree char *path = g_strdup_printf("/loader/bad/%s", bad_plugins[i].plugin);
    g_strdelimit(path + 12, "/.", '_');
    g_test_add_data_func(path, &bad_plugins[i], test_bad);
  }
  return g_test_run();
}
