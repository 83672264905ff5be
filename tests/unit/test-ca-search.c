/* snowsignal - UDP broadcast relay
 * test-ca-search.c: the "ca-search" filter, run through a real relay built
 * from a config text (the plugin is loaded from the build tree), plus
 * white-box checks of its static Channel Access parser, reached by including
 * the plugin's source.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "../../plugins/ca-search.c"

#include <string.h>

#include "instance.h"
#include "relay.h"
#include "frame-builder.h"
#include "relay-fixture.h"

/* --- CA messages, built the way libca writes them ------------------------ */

#define TEST_CA_MINOR_VERSION 13     /* CA 4.13, EPICS Base 3.14 and later */
#define TEST_CA_DONT_REPLY    5      /* reply flag of a broadcast search */
#define TEST_CA_ECHO          23
#define TEST_CA_NOT_FOUND     14

typedef struct {
  uint8_t data[4096];
  size_t len;
} msg_buf;

static void
put_u8(msg_buf *b, uint8_t v)
{
  g_assert_cmpuint(b->len, <, sizeof b->data);
  b->data[b->len++] = v;
}

static void
put_u16(msg_buf *b, uint16_t v)
{
  put_u8(b, (uint8_t) (v >> 8));
  put_u8(b, (uint8_t) v);
}

static void
put_u32(msg_buf *b, uint32_t v)
{
  put_u16(b, (uint16_t) (v >> 16));
  put_u16(b, (uint16_t) v);
}

static void
put_header(msg_buf *b, uint16_t command, uint16_t size, uint16_t type, uint16_t count,
           uint32_t p1, uint32_t p2)
{
  put_u16(b, command);
  put_u16(b, size);
  put_u16(b, type);
  put_u16(b, count);
  put_u32(b, p1);
  put_u32(b, p2);
}

static void
put_version(msg_buf *b)
{
  put_header(b, CA_PROTO_VERSION, 0, 0, TEST_CA_MINOR_VERSION, 0, 0);
}

/* A search for @name whose payload is @size bytes (the name, its NUL, and
 * @pad_byte up to @size); @size 0 means the minimal multiple of 8. */
static void
put_search_sized(msg_buf *b, const char *name, uint16_t size, uint8_t pad_byte)
{
  size_t n = strlen(name);

  if (size == 0)
    size = (uint16_t) ((n + 1 + 7) / 8 * 8);
  put_header(b, CA_PROTO_SEARCH, size, TEST_CA_DONT_REPLY, TEST_CA_MINOR_VERSION, 7, 7);
  for (size_t i = 0; i < size; i++)
    put_u8(b, i < n ? (uint8_t) name[i] : i == n ? 0 : pad_byte);
}

static void
put_search(msg_buf *b, const char *name)
{
  put_search_sized(b, name, 0, 0);
}

/* What rsrv broadcasts to the repeater port: version, server port, beacon
 * id, server address. */
static void
put_beacon(msg_buf *b)
{
  put_header(b, CA_PROTO_RSRV_IS_UP, 0, TEST_CA_MINOR_VERSION, 5064, 42, 0x0a000001);
}

/* libca's first search datagram for "TEST:PV", written out by hand from the
 * specification: an independent check on the constants the builder shares
 * with the plugin. */
static const uint8_t literal_search[] = {
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0d, /* VERSION, minor 13 */
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x06, 0x00, 0x08, 0x00, 0x05, 0x00, 0x0d, /* SEARCH, 8 bytes, DONT_REPLY */
  0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, /* search id 1, twice */
  'T', 'E', 'S', 'T', ':', 'P', 'V', 0x00,
};

/* --- a relay ------------------------------------------------------------ */

/* Builds a relay whose "ca" instance has @settings, runs its filter over a
 * frame carrying @payload to port 5064 and checks the verdict; when a
 * @reason is given, checks that this counter, and no other, moved. */
static void
assert_verdict(const char *settings, const uint8_t *payload, size_t len,
               ss_verdict expected, const char *reason)
{
  static uint8_t frame[SS_FRAME_MAX];
  ss_relay *relay;
  ss_instance *inst;
  ss_packet pkt;
  ss_fb_spec spec;
  size_t frame_len;

  ss_fb_init(&spec);
  spec.dport = 5064;
  spec.payload = payload;
  spec.payload_len = len;
  frame_len = ss_fb_build(&spec, frame, sizeof frame);
  memset(&pkt, 0, sizeof pkt);
  g_assert_cmpint(ss_packet_parse(&pkt, frame, frame_len, SS_DIRECTION_OUTBOUND), ==, SS_PARSE_OK);

  relay = relay_fixture_filter("ca-search", "ca", settings, FALSE, &inst);

  g_assert_cmpint(ss_instance_run_filter(inst, &pkt), ==, expected);
  for (int i = 1; i < CA_N_CHECKS; i++) {
    gboolean moved = reason && strcmp(ca_check_counter[i], reason) == 0;

    g_assert_cmpuint(ss_instance_get_counter(inst, ca_check_counter[i]), ==, moved ? 1 : 0);
  }
  ss_relay_free(relay);
}

#define assert_passes(settings, b) \
  assert_verdict((settings), (b)->data, (b)->len, SS_VERDICT_PASS, NULL)
#define assert_dropped(settings, b, reason) \
  assert_verdict((settings), (b)->data, (b)->len, SS_VERDICT_DROP, (reason))

/* --- accepted ------------------------------------------------------------ */

static void
test_literal(void)
{
  assert_verdict("", literal_search, sizeof literal_search, SS_VERDICT_PASS, NULL);
}

static void
test_search_alone_and_several(void)
{
  msg_buf b = { .len = 0 };

  put_search(&b, "TEST:PV");              /* no VERSION in front */
  assert_passes("", &b);

  b.len = 0;                              /* libca batches names */
  put_version(&b);
  put_search(&b, "A");
  put_search(&b, "DEV:ai1.VAL");
  put_search(&b, "x:y:z");
  assert_passes("", &b);

  b.len = 0;                              /* a VERSION between searches */
  put_search(&b, "A");
  put_version(&b);
  put_search(&b, "B");
  assert_passes("", &b);
}

/* Every name length from 1 to 40 across the 8-byte boundaries, with zero
 * padding and with junk in the padding (only recommended to be zero). */
static void
test_name_lengths(void)
{
  for (size_t n = 1; n <= 40; n++) {
    char *name = g_strnfill(n, 'N');
    msg_buf b = { .len = 0 };

    put_version(&b);
    put_search(&b, name);
    assert_passes("", &b);
    b.len = 0;
    put_version(&b);
    put_search_sized(&b, name, 0, 0xAA);
    assert_passes("", &b);
    g_free(name);
  }
}

static void
test_beacons(void)
{
  msg_buf b = { .len = 0 };

  put_beacon(&b);
  assert_dropped("", &b, "beacon");
  assert_dropped("allow_beacons = false;", &b, "beacon");
  assert_passes("allow_beacons = true;", &b);

  b.len = 0;                              /* a VERSION in front */
  put_version(&b);
  put_beacon(&b);
  assert_dropped("", &b, "beacon");
  assert_passes("allow_beacons = true;", &b);

  b.len = 0;                              /* a search with a beacon behind */
  put_version(&b);
  put_search(&b, "TEST:PV");
  put_beacon(&b);
  assert_dropped("", &b, "beacon");
  assert_passes("allow_beacons = true;", &b);

  b.len = 0;                              /* a beacon with a payload */
  put_header(&b, CA_PROTO_RSRV_IS_UP, 8, TEST_CA_MINOR_VERSION, 5064, 42, 0);
  for (int i = 0; i < 8; i++)
    put_u8(&b, 0);
  assert_dropped("allow_beacons = true;", &b, "bad_beacon");
  assert_dropped("", &b, "beacon");       /* refused before it is parsed */
}

/* --- refused ------------------------------------------------------------- */

static void
test_empty_and_truncated(void)
{
  msg_buf b = { .len = 0 };

  assert_dropped("", &b, "no_payload");   /* zero-length UDP payload */

  put_version(&b);
  put_search(&b, "TEST:PV");
  b.len = 15;                             /* not even a header */
  assert_dropped("", &b, "truncated");
  b.len = CA_HEADER_LEN + 10;             /* a second header cut short */
  assert_dropped("", &b, "truncated");

  b.len = 0;                              /* 8 stray bytes behind a search */
  put_version(&b);
  put_search(&b, "TEST:PV");
  put_u32(&b, 0);
  put_u32(&b, 0);
  assert_dropped("", &b, "truncated");
}

static void
test_sizes(void)
{
  msg_buf b = { .len = 0 };

  /* An extended header: payload size 0xFFFF, data count 0, then the real
   * size and count (TCP-only). */
  put_version(&b);
  put_header(&b, CA_PROTO_SEARCH, CA_SIZE_EXTENDED, TEST_CA_DONT_REPLY, 0, 1, 1);
  put_u32(&b, 8);
  put_u32(&b, TEST_CA_MINOR_VERSION);
  put_search_sized(&b, "TEST:PV", 0, 0);
  assert_dropped("", &b, "extended_header");

  b.len = 0;                              /* one 8-byte step past the end */
  put_version(&b);
  put_search(&b, "TEST:PV");
  b.data[CA_HEADER_LEN + CA_SIZE_OFFSET + 1] = 16;
  assert_dropped("", &b, "bad_size");

  b.len = 0;                              /* a size of 7: not padded */
  put_version(&b);
  put_header(&b, CA_PROTO_SEARCH, 7, TEST_CA_DONT_REPLY, TEST_CA_MINOR_VERSION, 1, 1);
  for (const char *p = "ABCDEF"; *p; p++)
    put_u8(&b, (uint8_t) *p);
  put_u8(&b, 0);
  assert_dropped("", &b, "unaligned_size");

  b.len = 0;                              /* unaligned though a NUL is there */
  put_version(&b);
  put_search_sized(&b, "AB", 4, 0);
  put_u32(&b, 0);                         /* bytes for a later header */
  put_u32(&b, 0);
  put_u32(&b, 0);
  put_u32(&b, 0);
  assert_dropped("", &b, "unaligned_size");
}

static void
test_bad_version(void)
{
  msg_buf b = { .len = 0 };

  put_header(&b, CA_PROTO_VERSION, 8, 0, TEST_CA_MINOR_VERSION, 0, 0);
  put_u32(&b, 0);
  put_u32(&b, 0);
  put_search(&b, "TEST:PV");
  assert_dropped("", &b, "bad_version");
}

static void
test_bad_search(void)
{
  msg_buf b = { .len = 0 };

  put_version(&b);                        /* no payload: no name at all */
  put_header(&b, CA_PROTO_SEARCH, 0, TEST_CA_DONT_REPLY, TEST_CA_MINOR_VERSION, 1, 1);
  assert_dropped("", &b, "bad_search");

  b.len = 0;                              /* an empty name */
  put_version(&b);
  put_search_sized(&b, "", 8, 0);
  assert_dropped("", &b, "bad_search");

  b.len = 0;                              /* no NUL anywhere in the payload */
  put_version(&b);
  put_search_sized(&b, "TEST:PV", 0, 0);
  b.data[b.len - 1] = 'X';
  assert_dropped("", &b, "bad_search");

  b.len = 0;                              /* padded 8 bytes too far */
  put_version(&b);
  put_search_sized(&b, "TEST:PV", 16, 0);
  assert_dropped("", &b, "bad_search");

  b.len = 0;                              /* two names in one message */
  put_version(&b);
  put_search_sized(&b, "ABC", 8, 0);
  memcpy(b.data + b.len - 4, "DE", 3);
  assert_passes("", &b);                  /* the control: one name, junk padding */
  put_search_sized(&b, "ABCDEFG", 16, 0);
  memcpy(b.data + b.len - 8, "second", 7);
  assert_dropped("", &b, "bad_search");

  /* A server's search reply (its TCP port in the data type, the server
   * protocol version as payload) is not a search request. */
  b.len = 0;
  put_version(&b);
  put_header(&b, CA_PROTO_SEARCH, 8, 5064, 0, 0xffffffff, 1);
  put_u16(&b, TEST_CA_MINOR_VERSION);
  for (int i = 0; i < 6; i++)
    put_u8(&b, 0);
  assert_dropped("", &b, "bad_search");
}

static void
test_other_commands(void)
{
  static const uint16_t others[] = { 1, 2, 4, TEST_CA_NOT_FOUND, 17, TEST_CA_ECHO, 24, 0x0600, 0xffff };

  for (size_t i = 0; i < G_N_ELEMENTS(others); i++) {
    msg_buf b = { .len = 0 };

    put_version(&b);
    put_search(&b, "TEST:PV");
    put_header(&b, others[i], 0, 0, 0, 0, 0);
    assert_dropped("", &b, "not_search");
    assert_dropped("allow_beacons = true;", &b, "not_search");
  }
}

static void
test_no_request(void)
{
  msg_buf b = { .len = 0 };

  put_version(&b);
  assert_dropped("", &b, "no_request");
  put_version(&b);
  assert_dropped("allow_beacons = true;", &b, "no_request");
}

/* Junk a port sees: a PVA search and plain text. */
static void
test_not_ca(void)
{
  static const uint8_t pva[] = { 0xca, 0x02, 0x00, 0x03, 0x2d, 0x00, 0x00, 0x00,
                                 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
  static const char text[] = "hello, is anybody there? hello, is anybody there?";

  assert_verdict("", pva, sizeof pva, SS_VERDICT_DROP, "not_search");
  assert_verdict("", (const uint8_t *) text, sizeof text - 1, SS_VERDICT_DROP, "not_search");
}

/* --- white box: the parser itself ---------------------------------------- */

/* A prefix of a good datagram passes only when it ends where a search or a
 * beacon ends, and is never read past. */
static void
test_every_prefix(void)
{
  msg_buf b = { .len = 0 };
  size_t ends[3];

  put_version(&b);
  put_search(&b, "DEV:ai1");
  ends[0] = b.len;
  put_search(&b, "DEV:ai2.VAL");
  ends[1] = b.len;
  put_beacon(&b);
  ends[2] = b.len;
  g_assert_cmpint(ca_check_datagram(b.data, b.len, TRUE), ==, CA_OK);
  for (size_t n = 0; n < b.len; n++) {
    /* An exact-size copy, so a sanitizer sees any read past the end. */
    uint8_t *copy = g_malloc(n ? n : 1);
    gboolean whole = n == ends[0] || n == ends[1] || n == ends[2];

    memcpy(copy, b.data, n);
    g_assert_cmpint(ca_check_datagram(copy, n, TRUE) == CA_OK, ==, whole);
    g_free(copy);
  }
  g_assert_cmpint(ca_check_datagram(NULL, 0, TRUE), ==, CA_NO_PAYLOAD);
}

static void
test_search_payload(void)
{
  g_assert_true(ca_search_parses((const uint8_t *) "A\0\0\0\0\0\0\0", 8));
  g_assert_true(ca_search_parses((const uint8_t *) "ABCDEFG\0", 8));
  g_assert_true(ca_search_parses((const uint8_t *) "ABCDEFGH\0\0\0\0\0\0\0\0", 16));
  g_assert_false(ca_search_parses((const uint8_t *) "ABCDEFGH", 8));
  g_assert_false(ca_search_parses((const uint8_t *) "A\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16));
  g_assert_false(ca_search_parses((const uint8_t *) "\0\0\0\0\0\0\0\0", 8));
  g_assert_false(ca_search_parses((const uint8_t *) "", 0));
}

static void
test_counter_names(void)
{
  for (int i = 0; i < CA_N_CHECKS; i++)
    g_assert_nonnull(ca_check_counter[i]);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/ca-search/search/literal", test_literal);
  g_test_add_func("/ca-search/search/alone-and-several", test_search_alone_and_several);
  g_test_add_func("/ca-search/search/name-lengths", test_name_lengths);
  g_test_add_func("/ca-search/beacons", test_beacons);
  g_test_add_func("/ca-search/malformed/empty-and-truncated", test_empty_and_truncated);
  g_test_add_func("/ca-search/malformed/sizes", test_sizes);
  g_test_add_func("/ca-search/malformed/version", test_bad_version);
  g_test_add_func("/ca-search/malformed/search", test_bad_search);
  g_test_add_func("/ca-search/malformed/other-commands", test_other_commands);
  g_test_add_func("/ca-search/malformed/no-request", test_no_request);
  g_test_add_func("/ca-search/malformed/not-ca", test_not_ca);
  g_test_add_func("/ca-search/parser/every-prefix", test_every_prefix);
  g_test_add_func("/ca-search/parser/search-payload", test_search_payload);
  g_test_add_func("/ca-search/parser/counter-names", test_counter_names);
  return g_test_run();
}
