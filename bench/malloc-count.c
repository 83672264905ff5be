/* malloc-count.so - counts heap allocations of a process (LD_PRELOAD).
 *
 * Wraps malloc, calloc, realloc, posix_memalign, aligned_alloc and
 * memalign, and at exit writes to stderr
 *   "MALLOC-COUNT pid=P allocations=N"
 * The bench runs a relay with it over runs of different lengths: when the
 * count does not grow with the number of packets relayed, the packet paths
 * do not allocate.  Counting only: the real allocator does the work
 * (dlsym(RTLD_NEXT)); the counter is atomic because GLib starts threads.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static unsigned long long allocations;

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);

/* dlsym() itself may call calloc before real_calloc is known: serve that
 * from a small static arena that is never freed. */
static char bootstrap[4096];
static size_t bootstrap_used;

static void
count(void)
{
  __atomic_add_fetch(&allocations, 1, __ATOMIC_RELAXED);
}

/* Looks the real function up once; the result is then kept. */
#define RESOLVE(name)                                                          \
  do {                                                                         \
    if (!real_##name)                                                          \
      real_##name = dlsym(RTLD_NEXT, #name);                                   \
  } while (0)

void *
malloc(size_t n)
{
  count();
  RESOLVE(malloc);
  return real_malloc(n);
}

void *
calloc(size_t n, size_t size)
{
  count();
  if (!real_calloc) {
    static int resolving;
    if (resolving) {
      size_t want = (n * size + 15) & ~(size_t) 15;
      if (bootstrap_used + want > sizeof bootstrap)
        return NULL;
      bootstrap_used += want;
      return bootstrap + bootstrap_used - want;
    }
    resolving = 1;
    real_calloc = dlsym(RTLD_NEXT, "calloc");
  }
  return real_calloc(n, size);
}

void *
realloc(void *p, size_t n)
{
  count();
  RESOLVE(realloc);
  return real_realloc(p, n);
}

int
posix_memalign(void **p, size_t align, size_t n)
{
  count();
  RESOLVE(posix_memalign);
  return real_posix_memalign(p, align, n);
}

void *
aligned_alloc(size_t align, size_t n)
{
  count();
  RESOLVE(aligned_alloc);
  return real_aligned_alloc(align, n);
}

void *
memalign(size_t align, size_t n)
{
  count();
  RESOLVE(memalign);
  return real_memalign(align, n);
}

void
free(void *p)
{
  static void (*real_free)(void *);
  if ((char *) p >= bootstrap && (char *) p < bootstrap + sizeof bootstrap)
    return;
  if (!real_free)
    real_free = dlsym(RTLD_NEXT, "free");
  real_free(p);
}

__attribute__((destructor)) static void
report(void)
{
  char line[96];
  int n = snprintf(line, sizeof line, "MALLOC-COUNT pid=%d allocations=%llu\n", (int) getpid(),
                   __atomic_load_n(&allocations, __ATOMIC_RELAXED));
  if (write(STDERR_FILENO, line, (size_t) n) < 0)
    return;
}
