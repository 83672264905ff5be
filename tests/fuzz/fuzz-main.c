/* snowsignal - UDP broadcast relay
 * fuzz-main.c: replays a fuzz target's corpus without libFuzzer, so that
 * `make check` runs every seed and every crash ever fixed (kept in the
 * corpus) under the normal build and its sanitizers.
 *
 * Usage: replay-<target> [FILE-OR-DIRECTORY...]
 * With no argument, replays SS_FUZZ_CORPUS (a path relative to the source
 * tree, compiled in), found under $SS_TOP_SRCDIR or else the current
 * directory.  Prints TAP.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <glib.h>

#include "fuzz.h"

#ifndef SS_FUZZ_CORPUS
#error "SS_FUZZ_CORPUS must name the target's corpus directory"
#endif

static gboolean
replay_file(const char *path)
{
  char *data = NULL;
  gsize len = 0;
  GError *error = NULL;
  if (!g_file_get_contents(path, &data, &len, &error)) {
    printf("# %s\n", error->message);
    g_error_free(error);
    return FALSE;
  }
  LLVMFuzzerTestOneInput((const uint8_t *) data, len);
  g_free(data);
  return TRUE;
}

static int
compare_names(gconstpointer a, gconstpointer b)
{
  return g_strcmp0(*(char *const *) a, *(char *const *) b);
}

/* Replays @path, or each regular file in it when it is a directory, in
 * name order so a failure always happens at the same input.  Returns the
 * number replayed, or -1 on an unreadable input. */
static int
replay_path(const char *path)
{
  if (!g_file_test(path, G_FILE_TEST_IS_DIR))
    return replay_file(path) ? 1 : -1;
  GDir *dir = g_dir_open(path, 0, NULL);
  if (dir == NULL)
    return -1;
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  const char *name;
  while ((name = g_dir_read_name(dir)) != NULL)
    g_ptr_array_add(names, g_build_filename(path, name, NULL));
  g_dir_close(dir);
  g_ptr_array_sort(names, compare_names);

  int count = 0;
  for (unsigned i = 0; i < names->len && count >= 0; i++) {
    const char *file = g_ptr_array_index(names, i);
    if (g_file_test(file, G_FILE_TEST_IS_REGULAR))
      count = replay_file(file) ? count + 1 : -1;
  }
  g_ptr_array_unref(names);
  return count;
}

int
main(int argc, char **argv)
{
  const char *top = g_getenv("SS_TOP_SRCDIR");
  char *fallback = g_build_filename(top ? top : ".", SS_FUZZ_CORPUS, NULL);
  char *self = g_path_get_basename(argv[0]);
  int total = 0;

  printf("1..1\n");
  for (int i = 1; i < argc || (i == 1 && argc == 1); i++) {
    const char *path = argc > 1 ? argv[i] : fallback;
    int n = replay_path(path);
    if (n < 0) {
      printf("not ok 1 - %s: cannot read %s\n", self, path);
      return 1;
    }
    total += n;
  }
  if (total == 0)
    printf("not ok 1 - %s: no input found\n", self);
  else
    printf("ok 1 - %s: %d inputs replayed\n", self, total);
  g_free(self);
  g_free(fallback);
  return total == 0;
}
