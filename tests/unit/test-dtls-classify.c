/* snowsignal - UDP broadcast relay
 * test-dtls-classify.c: the dtls transport's record classifier, on records
 * built here byte by byte (RFC 6347 section 4.1 layouts).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>
#include <glib.h>

#include "classify.h"

#define CH_BODY_LEN 40   /* an arbitrary ClientHello body for the tests */

/* Appends one record of @type, @epoch and @body_len bytes (a handshake
 * header of @hs_type at fragment offset @frag_off when type is handshake
 * and @hs_type is not 0) to @buf at @off; returns the new offset. */
static size_t
put_record(uint8_t *buf, size_t off, uint8_t type, uint8_t minor, uint16_t epoch, size_t body_len,
           uint8_t hs_type, unsigned frag_off)
{
  uint8_t *r = buf + off;
  memset(r, 0, DTLS_RECORD_HLEN + body_len);
  r[0] = type;
  r[1] = DTLS_VERSION_MAJOR;
  r[2] = minor;
  r[3] = (uint8_t) (epoch >> 8);
  r[4] = (uint8_t) epoch;
  r[11] = (uint8_t) (body_len >> 8);
  r[12] = (uint8_t) body_len;
  if (hs_type && body_len >= DTLS_HANDSHAKE_HLEN) {
    uint8_t *h = r + DTLS_RECORD_HLEN;
    h[0] = hs_type;
    h[6] = (uint8_t) (frag_off >> 16);
    h[7] = (uint8_t) (frag_off >> 8);
    h[8] = (uint8_t) frag_off;
  }
  return off + DTLS_RECORD_HLEN + body_len;
}

static void
test_client_hello(void)
{
  uint8_t buf[256];
  dtls_record_info info;
  size_t n = put_record(buf, 0, DTLS_CT_HANDSHAKE, DTLS_VERSION_1_0_MINOR, 0, CH_BODY_LEN,
                        DTLS_HS_CLIENT_HELLO, 0);
  g_assert_cmpint(dtls_classify(buf, n, &info), ==, DTLS_CLASS_CLIENT_HELLO);
  g_assert_cmpuint(info.records, ==, 1);
  n = put_record(buf, 0, DTLS_CT_HANDSHAKE, DTLS_VERSION_1_2_MINOR, 0, CH_BODY_LEN,
                 DTLS_HS_CLIENT_HELLO, 0);
  g_assert_cmpint(dtls_classify(buf, n, NULL), ==, DTLS_CLASS_CLIENT_HELLO);
  /* A later fragment of a ClientHello is not a first ClientHello. */
  n = put_record(buf, 0, DTLS_CT_HANDSHAKE, DTLS_VERSION_1_2_MINOR, 0, CH_BODY_LEN,
                 DTLS_HS_CLIENT_HELLO, 100);
  g_assert_cmpint(dtls_classify(buf, n, NULL), ==, DTLS_CLASS_HANDSHAKE);
  /* A HelloVerifyRequest is epoch-0 handshake, for a client only. */
  n = put_record(buf, 0, DTLS_CT_HANDSHAKE, DTLS_VERSION_1_0_MINOR, 0, CH_BODY_LEN,
                 DTLS_HS_HELLO_VERIFY, 0);
  g_assert_cmpint(dtls_classify(buf, n, NULL), ==, DTLS_CLASS_HANDSHAKE);
}

static void
test_epochs_and_flights(void)
{
  uint8_t buf[512];
  dtls_record_info info;
  /* The client's last flight: epoch-0 ClientKeyExchange and CCS, then an
   * epoch-1 Finished: classified by its first record. */
  size_t n = put_record(buf, 0, DTLS_CT_HANDSHAKE, DTLS_VERSION_1_2_MINOR, 0, 30, 16, 0);
  n = put_record(buf, n, DTLS_CT_CHANGE_CIPHER, DTLS_VERSION_1_2_MINOR, 0, 1, 0, 0);
  n = put_record(buf, n, DTLS_CT_HANDSHAKE, DTLS_VERSION_1_2_MINOR, 1, 40, 0, 0);
  g_assert_cmpint(dtls_classify(buf, n, &info), ==, DTLS_CLASS_HANDSHAKE);
  g_assert_cmpuint(info.records, ==, 3);
  n = put_record(buf, 0, DTLS_CT_APPLICATION_DATA, DTLS_VERSION_1_2_MINOR, 1, 100, 0, 0);
  g_assert_cmpint(dtls_classify(buf, n, &info), ==, DTLS_CLASS_PROTECTED);
  g_assert_cmpuint(info.content_type, ==, DTLS_CT_APPLICATION_DATA);
  g_assert_cmpuint(info.epoch, ==, 1);
  n = put_record(buf, 0, DTLS_CT_ALERT, DTLS_VERSION_1_2_MINOR, 7, 2, 0, 0);
  g_assert_cmpint(dtls_classify(buf, n, &info), ==, DTLS_CLASS_PROTECTED);
  g_assert_cmpuint(info.epoch, ==, 7);
}

static void
test_malformed(void)
{
  uint8_t buf[256];
  /* The plaintext udp-mesh message: "SS" + an Ethernet frame. */
  memset(buf, 0, sizeof buf);
  memcpy(buf, "SS", 2);
  g_assert_cmpint(dtls_classify(buf, 100, NULL), ==, DTLS_CLASS_MALFORMED);
  g_assert_cmpint(dtls_classify(buf, 0, NULL), ==, DTLS_CLASS_MALFORMED);
  size_t n = put_record(buf, 0, DTLS_CT_HANDSHAKE, DTLS_VERSION_1_2_MINOR, 0, CH_BODY_LEN,
                        DTLS_HS_CLIENT_HELLO, 0);
  /* Truncated: a header alone, a body shorter than announced, a trailer. */
  g_assert_cmpint(dtls_classify(buf, DTLS_RECORD_HLEN - 1, NULL), ==, DTLS_CLASS_MALFORMED);
  g_assert_cmpint(dtls_classify(buf, n - 1, NULL), ==, DTLS_CLASS_MALFORMED);
  g_assert_cmpint(dtls_classify(buf, n + 5, NULL), ==, DTLS_CLASS_MALFORMED);
  /* A TLS (not DTLS) version, an unknown content type. */
  buf[1] = 0x03;
  g_assert_cmpint(dtls_classify(buf, n, NULL), ==, DTLS_CLASS_MALFORMED);
  buf[1] = DTLS_VERSION_MAJOR;
  buf[0] = 24; /* heartbeat: not negotiated, not accepted */
  g_assert_cmpint(dtls_classify(buf, n, NULL), ==, DTLS_CLASS_MALFORMED);
  /* Application data before any keys is forged. */
  n = put_record(buf, 0, DTLS_CT_APPLICATION_DATA, DTLS_VERSION_1_2_MINOR, 0, 50, 0, 0);
  g_assert_cmpint(dtls_classify(buf, n, NULL), ==, DTLS_CLASS_MALFORMED);
  /* A ClientHello record too short for its handshake header. */
  n = put_record(buf, 0, DTLS_CT_HANDSHAKE, DTLS_VERSION_1_2_MINOR, 0, 4, 0, 0);
  buf[DTLS_RECORD_HLEN] = DTLS_HS_CLIENT_HELLO;
  g_assert_cmpint(dtls_classify(buf, n, NULL), ==, DTLS_CLASS_HANDSHAKE);
}

static void
test_names(void)
{
  g_assert_cmpstr(dtls_class_to_string(DTLS_CLASS_MALFORMED), ==, "malformed");
  g_assert_cmpstr(dtls_class_to_string(DTLS_CLASS_CLIENT_HELLO), ==, "client hello");
  g_assert_cmpstr(dtls_class_to_string(DTLS_CLASS_PROTECTED), ==, "protected");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/dtls/classify/client-hello", test_client_hello);
  g_test_add_func("/dtls/classify/epochs-and-flights", test_epochs_and_flights);
  g_test_add_func("/dtls/classify/malformed", test_malformed);
  g_test_add_func("/dtls/classify/names", test_names);
  return g_test_run();
}
