/* snowsignal - UDP broadcast relay
 * fuzz-pva.c: libFuzzer target over the PVA parser of the pva-search
 * filter.  The input is one UDP payload, as a capture would hand it over.
 *
 * The plugin's source is included to reach its static parser; the target
 * links against libsnowsignal for the services the plugin calls elsewhere.
 * Seeds: tests/fuzz/corpus/pva/.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "../../plugins/pva-search.c"

#include <string.h>

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  /* An exact-size copy: a read past the payload is a sanitizer report
   * rather than a read of the fuzzer's own buffer slack. */
  uint8_t *copy = malloc(size ? size : 1);
  pva_check strict, with_beacons;

  if (copy == NULL)
    return 0;
  if (size)
    memcpy(copy, data, size);

  strict = pva_check_datagram(copy, size, FALSE);
  with_beacons = pva_check_datagram(copy, size, TRUE);

  /* Every answer names a counter. */
  FUZZ_CHECK(strict < PVA_N_CHECKS && with_beacons < PVA_N_CHECKS);
  /* allow_beacons only ever lets more through... */
  FUZZ_CHECK(strict != PVA_OK || with_beacons == PVA_OK);
  /* ...and what it adds are (well-formed) beacons. */
  FUZZ_CHECK(with_beacons != PVA_OK || strict == PVA_OK || strict == PVA_BEACON);
  /* The parser only reads. */
  FUZZ_CHECK(size == 0 || memcmp(copy, data, size) == 0);

  free(copy);
  return 0;
}
