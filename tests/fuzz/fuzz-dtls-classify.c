/* snowsignal - UDP broadcast relay
 * fuzz-dtls-classify.c: any bytes as a datagram arriving on the dtls port,
 * through the record classifier that runs before any per-peer state.
 * Invariants: a plaintext "SS" mesh message is never anything but
 * malformed, and each class agrees with the first record's header.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>

#include "classify.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  dtls_record_info info;
  dtls_class cls = dtls_classify(data, size, &info);
  FUZZ_CHECK(cls == info.cls);
  if (size >= 2 && memcmp(data, "SS", 2) == 0)
    FUZZ_CHECK(cls == DTLS_CLASS_MALFORMED);
  if (cls == DTLS_CLASS_MALFORMED)
    return 0;
  FUZZ_CHECK(size >= DTLS_RECORD_HLEN && info.records >= 1);
  FUZZ_CHECK(info.content_type == data[0]);
  FUZZ_CHECK(info.epoch == ((unsigned) data[3] << 8 | data[4]));
  FUZZ_CHECK((cls == DTLS_CLASS_PROTECTED) == (info.epoch != 0));
  if (cls == DTLS_CLASS_CLIENT_HELLO)
    FUZZ_CHECK(data[0] == DTLS_CT_HANDSHAKE && size >= DTLS_RECORD_HLEN + DTLS_HANDSHAKE_HLEN &&
               data[DTLS_RECORD_HLEN] == DTLS_HS_CLIENT_HELLO);
  if (cls == DTLS_CLASS_HANDSHAKE)
    FUZZ_CHECK(data[0] != DTLS_CT_APPLICATION_DATA);
  return 0;
}
