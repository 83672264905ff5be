/* snowsignal - UDP broadcast relay
 * fuzz.h: what every fuzz target shares.  A target defines
 * LLVMFuzzerTestOneInput(); it is linked either with libFuzzer
 * (run-libfuzzer.sh) or with fuzz-main.c, which replays a corpus under
 * `make check`.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SNOWSIGNAL_TESTS_FUZZ_H
#define SNOWSIGNAL_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the code under test: breaking it is a crash for
 * libFuzzer and a failed test for the replay driver, in every build type
 * (assert() would vanish under NDEBUG). */
#define FUZZ_CHECK(cond)                                                   \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
              #cond);                                                      \
      abort();                                                             \
    }                                                                      \
  } while (0)

#endif
