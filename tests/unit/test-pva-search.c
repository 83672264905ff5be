/* snowsignal - UDP broadcast relay
 * test-pva-search.c: the "pva-search" filter, run through a real relay built
 * from a config text (the plugin is loaded from the build tree), plus
 * white-box checks of its static PVA parser, reached by including the
 * plugin's source.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "../../plugins/pva-search.c"

#include <string.h>

#include "instance.h"
#include "relay.h"
#include "frame-builder.h"
#include "relay-fixture.h"

/* --- PVA messages, built the way a client writes them -------------------- */

/* Beacons are sent by servers: the direction bit is set. */
#define TEST_PVA_FLAG_SERVER 0x40

typedef struct {
  uint8_t data[4096];
  size_t len;
  gboolean be;            /* byte order of the message being written */
  size_t start;           /* offset of its header */
} msg_buf;

static void
put_u8(msg_buf *b, uint8_t v)
{
  g_assert_cmpuint(b->len, <, sizeof b->data);
  b->data[b->len++] = v;
}

/* An unsigned field of @n bytes in the message's byte order. */
static void
put_uint(msg_buf *b, uint32_t v, int n)
{
  for (int i = 0; i < n; i++)
    put_u8(b, (uint8_t) (v >> (b->be ? 8 * (n - 1 - i) : 8 * i)));
}

#define put_u16(b, v) put_uint((b), (v), 2)
#define put_u32(b, v) put_uint((b), (v), 4)

static void
put_size(msg_buf *b, uint32_t n)
{
  if (n < PVA_SIZE_LONG) {
    put_u8(b, (uint8_t) n);
  } else {
    put_u8(b, PVA_SIZE_LONG);
    put_u32(b, n);
  }
}

static void
put_string(msg_buf *b, const char *s)
{
  size_t n = strlen(s);

  put_size(b, (uint32_t) n);
  for (size_t i = 0; i < n; i++)
    put_u8(b, (uint8_t) s[i]);
}

static void
begin_message(msg_buf *b, gboolean be, uint8_t flags, uint8_t command)
{
  b->be = be;
  b->start = b->len;
  put_u8(b, PVA_MAGIC);
  put_u8(b, 2);
  put_u8(b, (uint8_t) (flags | (be ? PVA_FLAG_BIG_ENDIAN : 0)));
  put_u8(b, command);
  put_u32(b, 0);          /* patched by end_message() */
}

static void
end_message(msg_buf *b)
{
  size_t end = b->len;

  b->len = b->start + 4;
  put_u32(b, (uint32_t) (end - b->start - PVA_HEADER_LEN));
  b->len = end;
}

static void
put_search(msg_buf *b, gboolean be, const char *const *channels)
{
  begin_message(b, be, 0, PVA_CMD_SEARCH);
  put_u32(b, 0x1234);                     /* searchSequenceID */
  put_u8(b, 0);                           /* flags: broadcast */
  for (int i = 0; i < 3 + 16; i++)        /* reserved, responseAddress */
    put_u8(b, 0);
  put_u16(b, 5075);                       /* responsePort */
  put_size(b, 1);
  put_string(b, "tcp");
  put_u16(b, channels ? (uint16_t) g_strv_length((char **) channels) : 0);
  for (unsigned i = 0; channels && channels[i]; i++) {
    put_u32(b, i + 1);
    put_string(b, channels[i]);
  }
  end_message(b);
}

static void
put_beacon(msg_buf *b, gboolean be)
{
  begin_message(b, be, TEST_PVA_FLAG_SERVER, PVA_CMD_BEACON);
  for (int i = 0; i < 12 + 4 + 16; i++)   /* guid, flags, seq, change, address */
    put_u8(b, (uint8_t) i);
  put_u16(b, 5075);
  put_string(b, "tcp");
  put_u8(b, PVA_SIZE_NULL);               /* no server status: null type */
  end_message(b);
}

static void
put_origin_tag(msg_buf *b)
{
  static const uint8_t lo_mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1 };

  begin_message(b, FALSE, 0, PVA_CMD_ORIGIN_TAG);
  for (size_t i = 0; i < sizeof lo_mapped; i++)
    put_u8(b, lo_mapped[i]);
  end_message(b);
}

static const char *const one_channel[] = { "TEST:PV", NULL };

/* A PVA search written out by hand from the specification, little endian:
 * an independent check on the constants the builder shares with the plugin. */
static const uint8_t literal_search[] = {
  0xca, 0x02, 0x00, 0x03, 0x2d, 0x00, 0x00, 0x00,
  0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0xd3, 0x13, 0x01, 0x03, 't', 'c', 'p', 0x01, 0x00,
  0x01, 0x00, 0x00, 0x00, 0x07, 'T', 'E', 'S', 'T', ':', 'P', 'V',
};

/* --- a relay ------------------------------------------------------------ */

/* Builds a relay whose "pva" instance has @settings, runs its filter over a
 * frame carrying @payload and, when a @reason is given, checks that counter
 * moved. */
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
  spec.payload = payload;
  spec.payload_len = len;
  frame_len = ss_fb_build(&spec, frame, sizeof frame);
  memset(&pkt, 0, sizeof pkt);
  g_assert_cmpint(ss_packet_parse(&pkt, frame, frame_len, SS_DIRECTION_OUTBOUND), ==, SS_PARSE_OK);

  relay = relay_fixture_filter("pva-search", "pva", settings, FALSE, &inst);

  g_assert_cmpint(ss_instance_run_filter(inst, &pkt), ==, expected);
  if (reason)
    g_assert_cmpuint(ss_instance_get_counter(inst, reason), ==, 1);
  ss_relay_free(relay);
}

#define assert_passes(settings, b) \
  assert_verdict((settings), (b)->data, (b)->len, SS_VERDICT_PASS, NULL)
#define assert_dropped(settings, b, reason) \
  assert_verdict((settings), (b)->data, (b)->len, SS_VERDICT_DROP, (reason))

/* --- through the relay --------------------------------------------------- */

static void
test_literal(void)
{
  assert_verdict("", literal_search, sizeof literal_search, SS_VERDICT_PASS, NULL);
}

static void
test_search_byte_orders(void)
{
  msg_buf b = { .len = 0 };

  put_search(&b, FALSE, one_channel);
  assert_passes("", &b);
  b.len = 0;
  put_search(&b, TRUE, one_channel);
  assert_passes("", &b);
}

static void
test_search_channels(void)
{
  static const char *const several[] = { "A", "B:C", "", "DEV:ai1.VAL", "x", NULL };
  char *long_name = g_strnfill(300, 'L');  /* needs the 5-byte Size form */
  const char *with_long[] = { "short", long_name, NULL };
  msg_buf b = { .len = 0 };

  put_search(&b, FALSE, NULL);            /* zero channels: a server ping */
  assert_passes("", &b);
  b.len = 0;
  put_search(&b, TRUE, several);
  assert_passes("", &b);
  b.len = 0;
  put_search(&b, FALSE, with_long);
  assert_passes("", &b);
  g_free(long_name);
}

static void
test_origin_tag(void)
{
  msg_buf b = { .len = 0 };

  put_origin_tag(&b);
  put_search(&b, TRUE, one_channel);
  assert_passes("", &b);

  b.len = 0;                              /* a tag with nothing to tag */
  put_origin_tag(&b);
  assert_dropped("", &b, "no_request");

  b.len = 0;                              /* a tag after the search */
  put_search(&b, FALSE, one_channel);
  put_origin_tag(&b);
  assert_dropped("", &b, "bad_origin_tag");

  b.len = 0;                              /* too short for an address */
  begin_message(&b, FALSE, 0, PVA_CMD_ORIGIN_TAG);
  put_u32(&b, 0);
  end_message(&b);
  put_search(&b, FALSE, one_channel);
  assert_dropped("", &b, "bad_origin_tag");
}

static void
test_several_searches(void)
{
  msg_buf b = { .len = 0 };

  put_search(&b, FALSE, one_channel);
  put_search(&b, TRUE, one_channel);
  assert_passes("", &b);
}

static void
test_beacons(void)
{
  msg_buf b = { .len = 0 };

  put_beacon(&b, FALSE);
  assert_dropped("", &b, "beacon");
  assert_dropped("allow_beacons = false;", &b, "beacon");
  assert_passes("allow_beacons = true;", &b);
  b.len = 0;
  put_beacon(&b, TRUE);
  assert_passes("allow_beacons = true;", &b);

  b.len = 0;                              /* cut inside the server address */
  begin_message(&b, FALSE, TEST_PVA_FLAG_SERVER, PVA_CMD_BEACON);
  for (int i = 0; i < 20; i++)
    put_u8(&b, 0);
  end_message(&b);
  assert_dropped("allow_beacons = true;", &b, "bad_beacon");

  b.len = 0;                              /* a search with a beacon behind */
  put_search(&b, FALSE, one_channel);
  put_beacon(&b, FALSE);
  assert_dropped("", &b, "beacon");
  assert_passes("allow_beacons = true;", &b);
}

static void
test_empty_and_truncated(void)
{
  msg_buf b = { .len = 0 };

  assert_dropped("", &b, "no_payload");   /* zero-length UDP payload */
  put_search(&b, FALSE, one_channel);
  b.len = 5;                              /* not even a header */
  assert_dropped("", &b, "truncated");

  b.len = 0;                              /* 3 stray bytes behind a search */
  put_search(&b, FALSE, one_channel);
  put_u8(&b, 1);
  put_u8(&b, 2);
  put_u8(&b, 3);
  assert_dropped("", &b, "truncated");
}

static void
test_bad_header(void)
{
  msg_buf b = { .len = 0 };

  put_search(&b, FALSE, one_channel);
  b.data[0] = 0xcb;
  assert_dropped("", &b, "bad_magic");
  b.data[0] = PVA_MAGIC;
  b.data[1] = 0;
  assert_dropped("", &b, "bad_version");
  b.data[1] = 2;
  b.data[2] = PVA_FLAG_CONTROL;
  assert_dropped("", &b, "control_message");
  for (uint8_t seg = 0x10; seg <= PVA_FLAG_SEGMENT_MASK; seg += 0x10) {
    b.data[2] = seg;
    assert_dropped("", &b, "segmented");
  }
  b.data[2] = 0;
  b.data[3] = 0x04;                       /* searchResponse */
  assert_dropped("", &b, "not_search");
  b.data[3] = PVA_CMD_SEARCH;
  b.data[4]++;                            /* size one past the end */
  assert_dropped("", &b, "bad_size");
  b.data[4]--;
  b.data[2] = PVA_FLAG_BIG_ENDIAN;        /* size now read as huge */
  assert_dropped("", &b, "bad_size");
}

static void
test_bad_search_body(void)
{
  msg_buf b = { .len = 0 };

  /* One byte inside the message beyond the last channel. */
  put_search(&b, FALSE, one_channel);
  put_u8(&b, 0);
  b.data[4]++;
  assert_dropped("", &b, "bad_search");

  /* A channel name longer than the message. */
  b.len = 0;
  put_search(&b, FALSE, one_channel);
  b.data[b.len - strlen("TEST:PV") - 1] = 100;
  assert_dropped("", &b, "bad_search");

  /* A null protocol count, with no protocols and no channels behind it:
   * well-formed but for the null. */
  b.len = 0;
  begin_message(&b, FALSE, 0, PVA_CMD_SEARCH);
  for (int i = 0; i < 26; i++)            /* up to the protocols */
    put_u8(&b, 0);
  put_u8(&b, 0);                          /* protocol count */
  put_u16(&b, 0);                         /* channel count */
  end_message(&b);
  assert_passes("", &b);
  b.data[PVA_HEADER_LEN + 26] = PVA_SIZE_NULL;
  assert_dropped("", &b, "bad_search");
}

/* --- white box: the parser itself ---------------------------------------- */

static void
test_size_encoding(void)
{
  static const struct {
    uint8_t bytes[5];
    size_t len;
    gboolean big_endian, ok, is_null;
    uint32_t size;
  } cases[] = {
    { { 0x05 }, 1, FALSE, TRUE, FALSE, 5 },
    { { 0xfd }, 1, FALSE, TRUE, FALSE, 0xfd },
    { { PVA_SIZE_LONG, 0x00, 0x01, 0x00, 0x00 }, 5, FALSE, TRUE, FALSE, 256 },
    { { PVA_SIZE_LONG, 0x00, 0x00, 0x01, 0x00 }, 5, TRUE, TRUE, FALSE, 256 },
    { { PVA_SIZE_NULL }, 1, FALSE, TRUE, TRUE, 0 },
    { { PVA_SIZE_LONG, 0x01, 0x02 }, 3, FALSE, FALSE, FALSE, 0 },
    { { 0 }, 0, FALSE, FALSE, FALSE, 0 },
  };

  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    pva_reader r = { cases[i].bytes, cases[i].len, cases[i].big_endian };
    uint32_t size = 0;
    gboolean is_null = FALSE;

    g_assert_cmpint(pva_read_size(&r, &size, &is_null), ==, cases[i].ok);
    if (!cases[i].ok)
      continue;
    g_assert_cmpuint(size, ==, cases[i].size);
    g_assert_cmpint(is_null, ==, cases[i].is_null);
    g_assert_cmpuint(r.left, ==, 0);
  }
}

/* Every proper prefix of a good datagram is refused, and never read past. */
static void
test_every_prefix(void)
{
  msg_buf b = { .len = 0 };

  put_origin_tag(&b);
  put_search(&b, TRUE, one_channel);
  g_assert_cmpint(pva_check_datagram(b.data, b.len, FALSE), ==, PVA_OK);
  for (size_t n = 0; n < b.len; n++) {
    /* An exact-size copy, so a sanitizer sees any read past the end. */
    uint8_t *copy = g_malloc(n ? n : 1);

    memcpy(copy, b.data, n);
    g_assert_cmpint(pva_check_datagram(copy, n, FALSE), !=, PVA_OK);
    g_free(copy);
  }
  g_assert_cmpint(pva_check_datagram(NULL, 0, TRUE), ==, PVA_NO_PAYLOAD);
}

static void
test_counter_names(void)
{
  for (int i = 0; i < PVA_N_CHECKS; i++)
    g_assert_nonnull(pva_check_counter[i]);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/pva-search/search/literal", test_literal);
  g_test_add_func("/pva-search/search/byte-orders", test_search_byte_orders);
  g_test_add_func("/pva-search/search/channels", test_search_channels);
  g_test_add_func("/pva-search/search/origin-tag", test_origin_tag);
  g_test_add_func("/pva-search/search/several", test_several_searches);
  g_test_add_func("/pva-search/beacons", test_beacons);
  g_test_add_func("/pva-search/malformed/empty-and-truncated", test_empty_and_truncated);
  g_test_add_func("/pva-search/malformed/header", test_bad_header);
  g_test_add_func("/pva-search/malformed/search-body", test_bad_search_body);
  g_test_add_func("/pva-search/parser/size-encoding", test_size_encoding);
  g_test_add_func("/pva-search/parser/every-prefix", test_every_prefix);
  g_test_add_func("/pva-search/parser/counter-names", test_counter_names);
  return g_test_run();
}
