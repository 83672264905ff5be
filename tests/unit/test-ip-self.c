/* snowsignal - UDP broadcast relay
 * test-ip-self.c: the "ip-self" filter, run through a real relay built from
 * a config text, with the host table filled by the test.
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
static const uint8_t remote_mac[SS_ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
#define OWN_IP    "192.0.2.1"
#define OWN_IP_2  "203.0.113.9"
#define REMOTE_IP "198.51.100.7"

typedef struct {
  ss_relay *relay;
  ss_instance *inst;
} fixture;

/* A relay with one ip-self instance "self" on both chains, and a host
 * table holding own_mac and OWN_IP on one interface, OWN_IP_2 on another. */
static void
fixture_open(fixture *f)
{
  f->relay = relay_fixture_filter("ip-self", "self", "", TRUE, &f->inst);
  ss_host *host = ss_relay_get_host(f->relay);
  ss_host_add_mac(host, OWN_IFINDEX, own_mac);
  ss_host_add_ipv4(host, OWN_IFINDEX, ss_fb_addr(OWN_IP), 24, ss_fb_addr("192.0.2.255"));
  ss_host_add_ipv4(host, OTHER_IFINDEX, ss_fb_addr(OWN_IP_2), 24, ss_fb_addr("203.0.113.255"));
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
run(fixture *f, ss_direction direction, const uint8_t *src_mac, const char *src_ip)
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
  g_assert_cmpint(ss_packet_parse(&pkt, frame, len, direction), ==, SS_PARSE_OK);
  return ss_instance_run_filter(f->inst, &pkt);
}

static void
test_own_ip_dropped(void)
{
  static const ss_direction directions[] = { SS_DIRECTION_OUTBOUND, SS_DIRECTION_INBOUND };
  fixture f;

  fixture_open(&f);
  for (size_t i = 0; i < G_N_ELEMENTS(directions); i++) {
    g_assert_cmpint(run(&f, directions[i], remote_mac, OWN_IP), ==, SS_VERDICT_DROP);
    g_assert_cmpint(run(&f, directions[i], own_mac, OWN_IP), ==, SS_VERDICT_DROP);
    /* Any interface's address is this host's. */
    g_assert_cmpint(run(&f, directions[i], remote_mac, OWN_IP_2), ==, SS_VERDICT_DROP);
  }
  g_assert_cmpuint(counter(&f, "own_ip"), ==, 6);
  fixture_close(&f);
}

static void
test_foreign_ip_passes(void)
{
  fixture f;

  fixture_open(&f);
  g_assert_cmpint(run(&f, SS_DIRECTION_OUTBOUND, remote_mac, REMOTE_IP), ==, SS_VERDICT_PASS);
  /* ip-self looks at the IP only: the relay's own re-emission (own MAC,
   * remote IP) is mac-self's business. */
  g_assert_cmpint(run(&f, SS_DIRECTION_OUTBOUND, own_mac, REMOTE_IP), ==, SS_VERDICT_PASS);
  g_assert_cmpint(run(&f, SS_DIRECTION_INBOUND, remote_mac, REMOTE_IP), ==, SS_VERDICT_PASS);
  g_assert_cmpuint(counter(&f, "own_ip"), ==, 0);
  fixture_close(&f);
}

/* The filter asks the host table on every packet: an address removed
 * stops being dropped. */
static void
test_host_table_changes(void)
{
  fixture f;

  fixture_open(&f);
  g_assert_cmpint(run(&f, SS_DIRECTION_OUTBOUND, remote_mac, OWN_IP_2), ==, SS_VERDICT_DROP);
  ss_host_remove_ipv4(ss_relay_get_host(f.relay), OTHER_IFINDEX, ss_fb_addr(OWN_IP_2));
  g_assert_cmpint(run(&f, SS_DIRECTION_OUTBOUND, remote_mac, OWN_IP_2), ==, SS_VERDICT_PASS);
  g_assert_cmpint(run(&f, SS_DIRECTION_OUTBOUND, remote_mac, OWN_IP), ==, SS_VERDICT_DROP);
  fixture_close(&f);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/ip-self/own-ip-dropped", test_own_ip_dropped);
  g_test_add_func("/ip-self/foreign-ip-passes", test_foreign_ip_passes);
  g_test_add_func("/ip-self/host-table-changes", test_host_table_changes);
  return g_test_run();
}
