/* snowsignal - UDP broadcast relay
 * test-dedup.c: the fingerprint table (dedup.h), the standby election and
 * hold (standby.h), the token buckets (ratelimit.h), and the check that
 * a frame from a peer is an IPv4 broadcast
 * (ss_frame_check_broadcast_destination()).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>
#include <glib.h>

#include "dedup.h"
#include "frame.h"
#include "ratelimit.h"
#include "standby.h"
#include "frame-builder.h"

#define MS 1000

static uint8_t payload_a[] = "search for demo:temperature, sequence 1";
static uint8_t payload_b[] = "search for demo:temperature, sequence 2";

static size_t
build(const ss_fb_spec *spec, uint8_t *buf, ss_packet *pkt)
{
  size_t len = ss_fb_build(spec, buf, SS_FRAME_MAX);
  g_assert_cmpint(ss_packet_parse(pkt, buf, len, SS_DIRECTION_OUTBOUND), ==, SS_PARSE_OK);
  return len;
}

static uint64_t
fingerprint_of(const ss_dedup *dd, const ss_fb_spec *spec)
{
  static uint8_t buf[SS_FRAME_MAX];
  ss_packet pkt;
  build(spec, buf, &pkt);
  return ss_dedup_fingerprint(dd, &pkt);
}

/* What a relay rewrites (Ethernet addresses, IP destination, TTL,
 * checksums) leaves the fingerprint as it is; what tells two datagrams
 * apart changes it. */
static void
test_fingerprint_fields(void)
{
  ss_dedup *dd = ss_dedup_new(2000, 1024);
  ss_fb_spec base;
  ss_fb_init(&base);
  base.payload = payload_a;
  base.payload_len = sizeof payload_a;
  uint64_t fp = fingerprint_of(dd, &base);
  g_assert_cmpuint(fp, !=, 0);

  ss_fb_spec s = base;
  memset(s.eth_src, 0x42, SS_ETH_ALEN);
  s.ip_dst = ss_fb_addr("10.9.9.255");
  s.ip_ttl = 3;
  s.udp_csum_zero = TRUE;
  s.padding = 12;
  g_assert_cmpuint(fingerprint_of(dd, &s), ==, fp);

  /* The rewrite itself. */
  static uint8_t buf[SS_FRAME_MAX];
  ss_packet pkt;
  build(&base, buf, &pkt);
  const uint8_t mac[SS_ETH_ALEN] = { 2, 0, 0, 0, 0, 9 };
  ss_frame_rewrite_for_segment(&pkt, mac, ss_fb_addr("10.2.0.1"), 24);
  g_assert_cmpuint(ss_dedup_fingerprint(dd, &pkt), ==, fp);

  s = base;
  s.ip_id++;
  g_assert_cmpuint(fingerprint_of(dd, &s), !=, fp);
  s = base;
  s.ip_src = ss_fb_addr("10.1.0.8");
  g_assert_cmpuint(fingerprint_of(dd, &s), !=, fp);
  s = base;
  s.sport++;
  g_assert_cmpuint(fingerprint_of(dd, &s), !=, fp);
  s = base;
  s.dport = 5064;
  g_assert_cmpuint(fingerprint_of(dd, &s), !=, fp);
  s = base;
  s.payload = payload_b;
  g_assert_cmpuint(fingerprint_of(dd, &s), !=, fp);
  s = base;
  s.payload_len--;
  g_assert_cmpuint(fingerprint_of(dd, &s), !=, fp);

  /* Another table has another key: the same frame, another fingerprint. */
  ss_dedup *other = ss_dedup_new(2000, 1024);
  g_assert_cmpuint(fingerprint_of(other, &base), !=, fp);
  ss_dedup_free(other);
  ss_dedup_free(dd);
}

static void
test_window(void)
{
  ss_dedup *dd = ss_dedup_new(2000, 1024);
  g_assert_cmpuint(ss_dedup_get_window_ms(dd), ==, 2000);
  int64_t t0 = 1000000;
  g_assert_cmpint(ss_dedup_lookup(dd, 77, t0), ==, SS_SEEN_NONE);
  ss_dedup_note(dd, 77, SS_SEEN_RELAYED, t0);
  g_assert_cmpint(ss_dedup_lookup(dd, 77, t0), ==, SS_SEEN_RELAYED);
  g_assert_cmpint(ss_dedup_lookup(dd, 78, t0), ==, SS_SEEN_NONE);
  g_assert_cmpint(ss_dedup_lookup(dd, 77, t0 + 1999 * MS), ==, SS_SEEN_RELAYED);
  g_assert_cmpint(ss_dedup_lookup(dd, 77, t0 + 2000 * MS), ==, SS_SEEN_NONE);
  /* A new note restarts the window and says how it was seen last. */
  ss_dedup_note(dd, 77, SS_SEEN_DELIVERED, t0 + 1500 * MS);
  g_assert_cmpint(ss_dedup_lookup(dd, 77, t0 + 3000 * MS), ==, SS_SEEN_DELIVERED);
  g_assert_cmpuint(ss_dedup_get_evicted(dd), ==, 0);
  ss_dedup_free(dd);

  dd = ss_dedup_new(0, 1024);
  ss_dedup_note(dd, 77, SS_SEEN_RELAYED, t0);
  g_assert_cmpint(ss_dedup_lookup(dd, 77, t0), ==, SS_SEEN_NONE);
  ss_dedup_free(dd);
}

/* A full table gives way oldest first and says so; nothing is lost that
 * fits. */
static void
test_capacity(void)
{
  const unsigned entries = 64;
  ss_dedup *dd = ss_dedup_new(2000, entries);
  ss_fb_spec s;
  ss_fb_init(&s);
  s.payload = payload_a;
  s.payload_len = sizeof payload_a;
  uint64_t fps[4096];
  for (unsigned i = 0; i < G_N_ELEMENTS(fps); i++) {
    s.ip_id = (uint16_t) i;
    fps[i] = fingerprint_of(dd, &s);
    ss_dedup_note(dd, fps[i], SS_SEEN_RELAYED, 1000000 + i);
  }
  g_assert_cmpuint(ss_dedup_get_evicted(dd), >=, G_N_ELEMENTS(fps) - entries);
  g_assert_cmpuint(ss_dedup_get_evicted(dd), <, G_N_ELEMENTS(fps));
  unsigned kept = 0;
  for (unsigned i = 0; i < G_N_ELEMENTS(fps); i++)
    kept += ss_dedup_lookup(dd, fps[i], 1000000 + G_N_ELEMENTS(fps)) != SS_SEEN_NONE;
  g_assert_cmpuint(kept, <=, entries);
  g_assert_cmpuint(kept, >=, entries / 2);
  /* The newest is always there. */
  g_assert_cmpint(ss_dedup_lookup(dd, fps[G_N_ELEMENTS(fps) - 1], 1000000 + G_N_ELEMENTS(fps)),
                  ==, SS_SEEN_RELAYED);
  ss_dedup_free(dd);
}

static const uint8_t mac_low[SS_ETH_ALEN] = { 2, 0, 0, 0, 0, 1 };
static const uint8_t mac_mid[SS_ETH_ALEN] = { 2, 0, 0, 0, 0, 5 };
static const uint8_t mac_high[SS_ETH_ALEN] = { 2, 0, 0, 0, 1, 0 };

static void
test_standby_election(void)
{
  ss_standby *sb = ss_standby_new();
  int64_t t = 5000000;
  uint8_t mac[SS_ETH_ALEN];
  g_assert_false(ss_standby_active(sb, t, NULL));
  /* A higher relay emitting changes nothing: this one emits. */
  ss_standby_saw_emitter(sb, mac_high, mac_mid, t);
  g_assert_false(ss_standby_active(sb, t, NULL));
  ss_standby_saw_emitter(sb, mac_mid, mac_mid, t);
  g_assert_false(ss_standby_active(sb, t, NULL));
  /* A lower one: standby, for SS_STANDBY_TTL_US after it was last seen. */
  ss_standby_saw_emitter(sb, mac_low, mac_mid, t);
  g_assert_true(ss_standby_active(sb, t, mac));
  g_assert_cmpmem(mac, SS_ETH_ALEN, mac_low, SS_ETH_ALEN);
  g_assert_true(ss_standby_active(sb, t + SS_STANDBY_TTL_US - 1, NULL));
  g_assert_false(ss_standby_active(sb, t + SS_STANDBY_TTL_US, NULL));

  ss_standby *next = ss_standby_new();
  ss_standby_inherit(next, sb);
  g_assert_true(ss_standby_active(next, t + 1, mac));
  g_assert_cmpmem(mac, SS_ETH_ALEN, mac_low, SS_ETH_ALEN);
  ss_standby_free(next);
  ss_standby_free(sb);
}

/* The slower relay with the lower MAC claims the segment: never against a
 * lower relay or itself, never on standby, at most once an interval. */
static void
test_standby_claim(void)
{
  ss_standby *sb = ss_standby_new();
  int64_t t = 5000000;
  g_assert_false(ss_standby_claim(sb, mac_low, mac_mid, t));
  g_assert_false(ss_standby_claim(sb, mac_mid, mac_mid, t));
  g_assert_true(ss_standby_claim(sb, mac_high, mac_mid, t));
  g_assert_false(ss_standby_claim(sb, mac_high, mac_mid, t + SS_STANDBY_CLAIM_INTERVAL_US - 1));
  g_assert_true(ss_standby_claim(sb, mac_high, mac_mid, t + SS_STANDBY_CLAIM_INTERVAL_US));
  /* Standing by for a lower relay, this one claims nothing. */
  int64_t later = t + 3 * SS_STANDBY_CLAIM_INTERVAL_US;
  ss_standby_saw_emitter(sb, mac_low, mac_mid, later);
  g_assert_false(ss_standby_claim(sb, mac_high, mac_mid, later + SS_STANDBY_CLAIM_INTERVAL_US));
  /* The interval is kept across a reload. */
  ss_standby *next = ss_standby_new();
  ss_standby_inherit(next, sb);
  ss_standby_free(sb);
  int64_t free_again = later + SS_STANDBY_TTL_US;
  g_assert_true(ss_standby_claim(next, mac_high, mac_mid, free_again));
  ss_standby *third = ss_standby_new();
  ss_standby_inherit(third, next);
  g_assert_false(ss_standby_claim(third, mac_high, mac_mid, free_again + 1));
  ss_standby_free(third);
  ss_standby_free(next);
}

static void
test_standby_hold(void)
{
  ss_standby *sb = ss_standby_new();
  int64_t t = 5000000;
  uint8_t frame[64], big[SS_STANDBY_SLOT_LEN + 1];
  size_t len = 0;
  memset(big, 0, sizeof big);
  ss_standby_saw_emitter(sb, mac_low, mac_mid, t);
  g_assert_cmpint(ss_standby_next_deadline(sb), ==, -1);
  for (unsigned i = 0; i < 3; i++) {
    memset(frame, (int) i + 1, sizeof frame);
    g_assert_true(ss_standby_hold(sb, 100 + i, frame, sizeof frame, t + i));
  }
  g_assert_false(ss_standby_hold(sb, 200, big, sizeof big, t));
  g_assert_cmpint(ss_standby_next_deadline(sb), ==, t + SS_STANDBY_HOLD_US);
  /* The other relay emitted the first and the third. */
  g_assert_true(ss_standby_cancel(sb, 100));
  g_assert_true(ss_standby_cancel(sb, 102));
  g_assert_false(ss_standby_cancel(sb, 102));
  g_assert_false(ss_standby_cancel(sb, 999));
  g_assert_null(ss_standby_take_due(sb, t + SS_STANDBY_HOLD_US - 1, FALSE, &len));
  g_assert_true(ss_standby_active(sb, t + 1, NULL));
  /* The second falls due: the other relay did not emit it, this one
   * does, and leaves standby. */
  uint8_t *out = ss_standby_take_due(sb, t + SS_STANDBY_HOLD_US + 2, FALSE, &len);
  g_assert_nonnull(out);
  g_assert_cmpuint(len, ==, sizeof frame);
  g_assert_cmpuint(out[0], ==, 2);
  g_assert_null(ss_standby_take_due(sb, t + SS_STANDBY_HOLD_US + 2, FALSE, &len));
  g_assert_false(ss_standby_active(sb, t + 3, NULL));
  g_assert_cmpint(ss_standby_next_deadline(sb), ==, -1);

  /* Full: a frame that finds no slot is not held. */
  ss_standby_saw_emitter(sb, mac_low, mac_mid, t);
  for (unsigned i = 0; i < SS_STANDBY_SLOTS; i++)
    g_assert_true(ss_standby_hold(sb, 1000 + i, frame, sizeof frame, t));
  g_assert_false(ss_standby_hold(sb, 5000, frame, sizeof frame, t));
  /* Taking all of them (a stop) does not leave standby. */
  unsigned n = 0;
  while (ss_standby_take_due(sb, t, TRUE, &len))
    n++;
  g_assert_cmpuint(n, ==, SS_STANDBY_SLOTS);
  g_assert_true(ss_standby_active(sb, t, NULL));
  ss_standby_free(sb);
}

static unsigned
allowed(ss_rate_table *rt, uint32_t addr, unsigned tries, int64_t now)
{
  unsigned n = 0;
  for (unsigned i = 0; i < tries; i++)
    n += ss_rate_allow(rt, addr, now);
  return n;
}

static void
test_rate_bucket(void)
{
  ss_rate_table *rt = ss_rate_table_new(100, 64);
  int64_t t = 10 * G_USEC_PER_SEC;
  /* A new address starts with a second's worth. */
  g_assert_cmpuint(allowed(rt, 1, 150, t), ==, 100);
  g_assert_false(ss_rate_allow(rt, 1, t));
  /* Another address is not touched by the first one's flood. */
  g_assert_cmpuint(allowed(rt, 2, 10, t), ==, 10);
  /* 100 a second: 10 more after 100 ms, 5 after 50 more. */
  g_assert_cmpuint(allowed(rt, 1, 50, t + 100 * MS), ==, 10);
  g_assert_cmpuint(allowed(rt, 1, 50, t + 150 * MS), ==, 5);
  /* Time going backwards (never, with a monotonic clock) gives nothing. */
  g_assert_cmpuint(allowed(rt, 1, 5, t), ==, 0);
  /* Idle for a second or more: full again, never more than full. */
  g_assert_cmpuint(allowed(rt, 1, 500, t + 100 * G_USEC_PER_SEC), ==, 100);
  /* Over a long flood the rate holds: 10 s at 1000 tries a second. */
  unsigned n = 0;
  int64_t t0 = t + 200 * G_USEC_PER_SEC;
  for (int ms = 0; ms < 10000; ms++)
    n += ss_rate_allow(rt, 3, t0 + ms * MS);
  g_assert_cmpuint(n, >=, 100 + 999);
  g_assert_cmpuint(n, <=, 100 + 1001);
  ss_rate_table_free(rt);
}

/* More addresses than the table holds: each new one starts full (the
 * table errs on the side of relaying), and the table keeps its size. */
static void
test_rate_many(void)
{
  ss_rate_table *rt = ss_rate_table_new(2, 16);
  int64_t t = G_USEC_PER_SEC;
  for (uint32_t a = 1; a <= 1000; a++)
    g_assert_cmpuint(allowed(rt, a, 3, t + a), ==, 2);
  ss_rate_table_free(rt);
}

typedef struct {
  const char *dst, *local;
  unsigned prefix;
  gboolean ok;
} dst_case;

static void
test_broadcast_destination(void)
{
  static const dst_case cases[] = {
    { "255.255.255.255", "10.2.0.1", 24, TRUE },
    { "255.255.255.255", "0.0.0.0", 0, TRUE },
    { "10.2.0.255", "10.2.0.1", 24, TRUE },    /* this subnet's broadcast */
    { "10.2.0.7", "10.2.0.1", 24, FALSE },     /* a host here: the attack */
    { "10.2.0.1", "10.2.0.1", 24, FALSE },     /* this relay */
    { "10.2.0.127", "10.2.0.1", 24, FALSE },   /* a host here, ones-ending */
    { "10.1.255.255", "10.2.0.1", 24, TRUE },  /* another subnet's broadcast */
    { "10.1.0.63", "10.2.0.1", 24, TRUE },     /* a /26 elsewhere */
    { "10.1.0.7", "10.2.0.1", 24, TRUE },      /* could be a /29 elsewhere */
    { "10.1.0.10", "10.2.0.1", 24, FALSE },    /* a host elsewhere */
    { "10.1.0.10", "0.0.0.0", 0, FALSE },      /* unknown subnet */
    { "10.1.0.255", "0.0.0.0", 0, TRUE },
    { "127.0.0.255", "10.2.0.1", 24, FALSE },  /* loopback */
    { "0.0.0.255", "10.2.0.1", 24, FALSE },
    { "224.0.0.255", "10.2.0.1", 24, FALSE },  /* multicast */
    { "239.255.255.255", "10.2.0.1", 24, FALSE },
    { "10.2.0.0", "10.2.0.1", 31, FALSE },     /* the other end of a /31 */
    { "10.2.0.1", "10.2.0.1", 32, FALSE },
    { "10.3.0.255", "10.2.0.1", 32, TRUE },
  };
  static uint8_t buf[SS_FRAME_MAX];
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    ss_fb_spec s;
    ss_fb_init(&s);
    s.ip_dst = ss_fb_addr(cases[i].dst);
    ss_packet pkt;
    build(&s, buf, &pkt);
    const char *why = NULL;
    gboolean ok = ss_frame_check_broadcast_destination(&pkt, ss_fb_addr(cases[i].local),
                                                       cases[i].prefix, &why);
    if (ok != cases[i].ok)
      g_error("%s from %s/%u: expected %s, got %s (%s)", cases[i].dst, cases[i].local,
              cases[i].prefix, cases[i].ok ? "ok" : "refused", ok ? "ok" : "refused",
              why ? why : "-");
    g_assert_true(ok ? why == NULL : why != NULL);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/dedup/fingerprint-fields", test_fingerprint_fields);
  g_test_add_func("/dedup/window", test_window);
  g_test_add_func("/dedup/capacity", test_capacity);
  g_test_add_func("/standby/election", test_standby_election);
  g_test_add_func("/standby/hold", test_standby_hold);
  g_test_add_func("/standby/claim", test_standby_claim);
  g_test_add_func("/frame/broadcast-destination", test_broadcast_destination);
  g_test_add_func("/ratelimit/bucket", test_rate_bucket);
  g_test_add_func("/ratelimit/many", test_rate_many);
  return g_test_run();
}
