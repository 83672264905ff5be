/* snowsignal - UDP broadcast relay
 * test-mac-self.c: the "mac-self" filter, run through a real relay built
 * from a config text, with the host table filled by the test.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>

#include <snowsignal/snowsignal.h>
#include "host.h"
#include "instance.h"
#include "relay.h"
#include "frame-builder.h"
#include "relay-fixture.h"

#define OWN_IFINDEX   2
#define OTHER_IFINDEX 3

static const uint8_t own_mac[SS_ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t own_mac_2[SS_ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x01 };
static const uint8_t remote_mac[SS_ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
#define OWN_IP    "192.0.2.1"
#define REMOTE_IP "198.51.100.7"

typedef struct {
  ss_relay *relay;
  ss_instance *inst;
} fixture;

/* A relay with one mac-self instance "self" and a host table holding
 * own_mac and OWN_IP on one interface and own_mac_2 on another. */
static void
fixture_open(fixture *f, const char *settings)
{
  f->relay = relay_fixture_filter("mac-self", "self", settings, FALSE, &f->inst);
  ss_host *host = ss_relay_get_host(f->relay);
  ss_host_add_mac(host, OWN_IFINDEX, own_mac);
  ss_host_add_mac(host, OTHER_IFINDEX, own_mac_2);
  ss_host_add_ipv4(host, OWN_IFINDEX, ss_fb_addr(OWN_IP), 24, ss_fb_addr("192.0.2.255"));
}

static void
fixture_close(fixture *f)
{
  ss_relay_free(f->relay);
}

static guint64
counter(fixture *f, const char *name)
{
  return ss_instance_get_counter(f->inst, name);
}

static ss_verdict
run(fixture *f, const uint8_t *src_mac, const char *src_ip)
{
  static uint8_t frame[SS_FRAME_MAX];
  ss_fb_spec spec;
  ss_packet pkt;
  size_t len;

  ss_fb_init(&spec);
  memcpy(spec.eth_src, src_mac, SS_ETH_ALEN);
  spec.ip_src = ss_fb_addr(src_ip);
  len = ss_fb_build(&spec, frame, sizeof frame);
  memset(&pkt, 0, sizeof pkt);
  g_assert_cmpint(ss_packet_parse(&pkt, frame, len, SS_DIRECTION_OUTBOUND), ==, SS_PARSE_OK);
  return ss_instance_run_filter(f->inst, &pkt);
}

/* The settings the tests run under: the default, and both values spelled out. */
static const char *const strict_settings[] = { "", "allow_local_senders = false;" };

static void
test_foreign_mac_passes(void)
{
  const char *all[] = { "", "allow_local_senders = false;", "allow_local_senders = true;" };

  for (size_t i = 0; i < G_N_ELEMENTS(all); i++) {
    fixture f;

    fixture_open(&f, all[i]);
    g_assert_cmpint(run(&f, remote_mac, REMOTE_IP), ==, SS_VERDICT_PASS);
    /* mac-self looks at the MAC only: an own IP from a foreign MAC is not
     * its business (ip-self's). */
    g_assert_cmpint(run(&f, remote_mac, OWN_IP), ==, SS_VERDICT_PASS);
    g_assert_cmpuint(counter(&f, "own_mac"), ==, 0);
    fixture_close(&f);
  }
}

static void
test_own_mac_dropped(void)
{
  for (size_t i = 0; i < G_N_ELEMENTS(strict_settings); i++) {
    fixture f;

    fixture_open(&f, strict_settings[i]);
    g_assert_cmpint(run(&f, own_mac, REMOTE_IP), ==, SS_VERDICT_DROP);
    g_assert_cmpint(run(&f, own_mac, OWN_IP), ==, SS_VERDICT_DROP);
    /* Any interface's MAC is this host's. */
    g_assert_cmpint(run(&f, own_mac_2, REMOTE_IP), ==, SS_VERDICT_DROP);
    g_assert_cmpuint(counter(&f, "own_mac"), ==, 3);
    g_assert_cmpuint(counter(&f, "local_sender"), ==, 0);
    fixture_close(&f);
  }
}

static void
test_allow_local_senders(void)
{
  fixture f;

  fixture_open(&f, "allow_local_senders = true;");
  /* A program on this host: own MAC, own IP. */
  g_assert_cmpint(run(&f, own_mac, OWN_IP), ==, SS_VERDICT_PASS);
  g_assert_cmpuint(counter(&f, "local_sender"), ==, 1);
  /* The relay's re-emission keeps the remote IP source: still dropped. */
  g_assert_cmpint(run(&f, own_mac, REMOTE_IP), ==, SS_VERDICT_DROP);
  g_assert_cmpint(run(&f, own_mac_2, REMOTE_IP), ==, SS_VERDICT_DROP);
  g_assert_cmpuint(counter(&f, "own_mac"), ==, 2);
  fixture_close(&f);
}

/* The filter asks the host table on every packet, so a MAC that goes away
 * (an interface removed) stops being dropped. */
static void
test_host_table_changes(void)
{
  fixture f;

  fixture_open(&f, "");
  g_assert_cmpint(run(&f, own_mac_2, REMOTE_IP), ==, SS_VERDICT_DROP);
  ss_host_remove_link(ss_relay_get_host(f.relay), OTHER_IFINDEX);
  g_assert_cmpint(run(&f, own_mac_2, REMOTE_IP), ==, SS_VERDICT_PASS);
  g_assert_cmpint(run(&f, own_mac, REMOTE_IP), ==, SS_VERDICT_DROP);
  fixture_close(&f);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/mac-self/foreign-mac-passes", test_foreign_mac_passes);
  g_test_add_func("/mac-self/own-mac-dropped", test_own_mac_dropped);
  g_test_add_func("/mac-self/allow-local-senders", test_allow_local_senders);
  g_test_add_func("/mac-self/host-table-changes", test_host_table_changes);
  return g_test_run();
}
