/* snowsignal - UDP broadcast relay
 * test-mac-self.c: the "mac-self" filter, run through a real relay built
 * from a config text, with the host table filled by the test.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>
#include <arpa/inet.h>

#include <snowsignal/snowsignal.h>
#include "conffile.h"
#include "host.h"
#include "instance.h"
#include "relay.h"

#define OWN_IFINDEX   2
#define OTHER_IFINDEX 3

static const uint8_t own_mac[SS_ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t own_mac_2[SS_ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x01 };
static const uint8_t remote_mac[SS_ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
#define OWN_IP    "192.0.2.1"
#define REMOTE_IP "198.51.100.7"

static uint32_t
ipv4(const char *text)
{
  struct in_addr a;

  g_assert_cmpint(inet_pton(AF_INET, text, &a), ==, 1);
  return a.s_addr;
}

/* A broadcast UDP frame from @src_mac / @src_ip with a small payload. */
static size_t
build_frame(uint8_t *frame, const uint8_t *src_mac, uint32_t src_ip_be)
{
  static const uint8_t payload[] = { 'p', 'i', 'n', 'g' };
  uint8_t *ip = frame + SS_ETH_HLEN, *udp = ip + SS_IPV4_MIN_HLEN;
  size_t ip_len = SS_IPV4_MIN_HLEN + SS_UDP_HLEN + sizeof payload;
  uint32_t sum = 0;

  memset(frame, 0xff, SS_ETH_ALEN);
  memcpy(frame + SS_ETH_ALEN, src_mac, SS_ETH_ALEN);
  frame[12] = SS_ETH_P_IPV4 >> 8;
  frame[13] = SS_ETH_P_IPV4 & 0xff;
  memset(ip, 0, SS_IPV4_MIN_HLEN);
  ip[0] = 0x45;
  ip[2] = (uint8_t) (ip_len >> 8);
  ip[3] = (uint8_t) ip_len;
  ip[8] = 64;
  ip[9] = SS_IPPROTO_UDP;
  memcpy(ip + 12, &src_ip_be, 4);
  memset(ip + 16, 0xff, 4);
  for (int i = 0; i < SS_IPV4_MIN_HLEN; i += 2)
    sum += (uint32_t) (ip[i] << 8 | ip[i + 1]);
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  ip[10] = (uint8_t) (~sum >> 8);
  ip[11] = (uint8_t) ~sum;
  udp[0] = 0x9c; udp[1] = 0x40;           /* source port 40000 */
  udp[2] = 0x13; udp[3] = 0xd4;           /* destination port 5076 */
  udp[4] = 0;
  udp[5] = (uint8_t) (SS_UDP_HLEN + sizeof payload);
  udp[6] = udp[7] = 0;
  memcpy(udp + SS_UDP_HLEN, payload, sizeof payload);
  return SS_ETH_HLEN + ip_len;
}

typedef struct {
  ss_relay *relay;
  ss_instance *inst;
} fixture;

/* A relay with one mac-self instance "self" and a host table holding
 * own_mac and OWN_IP on one interface and own_mac_2 on another. */
static void
fixture_open(fixture *f, const char *settings)
{
  GError *error = NULL;
  char *text = g_strdup_printf("version = 1;\n"
                               "interface = \"eth0\";\n"
                               "instances = (\n"
                               "  { name = \"self\"; plugin = \"mac-self\"; %s }\n"
                               ");\n"
                               "outbound = [ \"self\" ];\n"
                               "inbound = [ ];\n"
                               "transports = [ ];\n", settings);
  ss_conf *conf = ss_conf_load_string(text, "test.conf", &error);
  ss_host *host;

  g_assert_no_error(error);
  f->relay = ss_relay_new(conf, &error);
  g_assert_no_error(error);
  g_assert_nonnull(f->relay);
  f->inst = ss_relay_find_instance(f->relay, "self");
  g_assert_nonnull(f->inst);
  host = ss_relay_get_host(f->relay);
  ss_host_add_mac(host, OWN_IFINDEX, own_mac);
  ss_host_add_mac(host, OTHER_IFINDEX, own_mac_2);
  ss_host_add_ipv4(host, OWN_IFINDEX, ipv4(OWN_IP), 24, ipv4("192.0.2.255"));
  g_free(text);
}

static void
fixture_close(fixture *f)
{
  ss_relay_free(f->relay);
}

typedef struct {
  const char *name;
  guint64 value;
} counter_query;

static void
counter_match(const char *name, guint64 value, void *user)
{
  counter_query *q = user;

  if (g_strcmp0(name, q->name) == 0)
    q->value = value;
}

static guint64
counter(fixture *f, const char *name)
{
  counter_query q = { name, 0 };

  ss_instance_foreach_counter(f->inst, counter_match, &q);
  return q.value;
}

static ss_verdict
run(fixture *f, const uint8_t *src_mac, const char *src_ip)
{
  static uint8_t frame[SS_FRAME_MAX];
  size_t len = build_frame(frame, src_mac, ipv4(src_ip));
  ss_packet pkt;

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
