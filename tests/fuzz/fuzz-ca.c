/* snowsignal - UDP broadcast relay
 * fuzz-ca.c: libFuzzer target over the Channel Access parser of the
 * ca-search filter.  The input is one UDP payload, as a capture would hand
 * it over.
 *
 * The plugin's source is included to reach its static parser; the target
 * links against libsnowsignal for the services the plugin calls elsewhere.
 * Seeds: tests/fuzz/corpus/ca/.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "../../plugins/ca-search.c"

#include <string.h>

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  /* An exact-size copy: a read past the payload is a sanitizer report
   * rather than a read of the fuzzer's own buffer slack. */
  uint8_t *copy = malloc(size ? size : 1);
  ca_check strict, with_beacons;

  if (copy == NULL)
    return 0;
  if (size)
    memcpy(copy, data, size);

  strict = ca_check_datagram(copy, size, FALSE);
  with_beacons = ca_check_datagram(copy, size, TRUE);

  /* Every answer names a counter. */
  FUZZ_CHECK(strict < CA_N_CHECKS && with_beacons < CA_N_CHECKS);
  /* allow_beacons only ever lets more through... */
  FUZZ_CHECK(strict != CA_OK || with_beacons == CA_OK);
  /* ...and what it adds are (well-formed) beacons. */
  FUZZ_CHECK(with_beacons != CA_OK || strict == CA_OK || strict == CA_BEACON);
  /* What passes is whole 16-byte headers and 8-byte aligned payloads. */
  FUZZ_CHECK(with_beacons != CA_OK || size % 8 == 0);
  /* The parser only reads. */
  FUZZ_CHECK(size == 0 || memcmp(copy, data, size) == 0);

  free(copy);
  return 0;
}
