/* ss-udp-send - test traffic generator for the snowsignal integration tests.
 *
 * Sends UDP datagrams whose payload carries a sequence number and a
 * verifiable filler pattern (tool-pattern.h; ss-udp-listen checks it), either
 *  - through an ordinary UDP socket (the kernel fragments what exceeds the
 *    MTU, which is how the tests produce IPv4 fragments), or
 *  - through a raw IPPROTO_RAW socket with a hand-built IPv4 header carrying
 *    IP options (an ordinary socket can set options too, but building the
 *    header ourselves makes the bytes on the wire exactly known), or
 *  - wrapped as a udp-mesh datagram ("SS" + a whole Ethernet frame), to
 *    check what a relay does with mesh traffic from a host that is not a peer,
 *    or
 *  - as a whole broadcast Ethernet frame with an 802.1Q tag, out of a packet
 *    socket on --dev (--vlan), as a trunk port carries it.
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tool-pattern.h"

#define IPV4_HDR_LEN 20
#define IPV4_VERSION 4
#define IPV4_DEFAULT_TTL 64
#define UDP_HDR_LEN 8
#define ETH_HDR_LEN 14
#define ETH_ALEN_ 6
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_8021Q 0x8100
#define VLAN_TAG_LEN 4
#define VLAN_MAX 4094
#define IPV4_MAX_OPT_LEN 40
#define UDP_MAX_PAYLOAD 65507 /* 65535 - IPv4 header - UDP header */
#define ETH_MAX_PAD 1514      /* an --eth-pad beyond a full frame makes no sense */

/* IPv4 option bytes (RFC 791, RFC 2113). */
#define IPOPT_EOL_ 0x00
#define IPOPT_NOP_ 0x01
#define IPOPT_RA_TYPE 0x94 /* copied flag + class 0 + number 20 */
#define IPOPT_RA_LEN 4

/* udp-mesh framing of SnowSignal 0.1.x: "SS" then the Ethernet frame. */
static const uint8_t mesh_magic[2] = { 'S', 'S' };
/* A locally administered unicast MAC that no test interface carries. */
static const uint8_t fake_src_mac[ETH_ALEN_] = { 0x02, 0x53, 0x53, 0x00, 0x00, 0x66 };

static gchar *opt_src, *opt_dest, *opt_size = (gchar *) "64", *opt_ipopts, *opt_dev;
static gchar *opt_inner_src, *opt_inner_dst;
static gint opt_port = 5076, opt_count = 1, opt_interval_ms = 10, opt_seq = 0, opt_eth_pad = 0;
static gboolean opt_mesh, opt_df;
static gint opt_vlan = -1, opt_rate = 0;

static GOptionEntry entries[] = {
  { "src", 's', 0, G_OPTION_ARG_STRING, &opt_src, "Bind to source ADDR[:PORT]", "ADDR[:PORT]" },
  { "dest", 'd', 0, G_OPTION_ARG_STRING, &opt_dest, "Destination address (required)", "ADDR" },
  { "port", 'p', 0, G_OPTION_ARG_INT, &opt_port, "Destination UDP port (5076)", "PORT" },
  { "size", 'S', 0, G_OPTION_ARG_STRING, &opt_size, "Payload bytes, or 'max' for the largest unfragmented", "N|max" },
  { "count", 'c', 0, G_OPTION_ARG_INT, &opt_count, "Datagrams to send (1)", "N" },
  { "interval", 'i', 0, G_OPTION_ARG_INT, &opt_interval_ms, "Milliseconds between datagrams (10)", "MS" },
  { "seq", 0, 0, G_OPTION_ARG_INT, &opt_seq, "First sequence number (0)", "N" },
  { "ip-options", 'o', 0, G_OPTION_ARG_STRING, &opt_ipopts, "Send via raw socket with IPv4 options: nop | ra", "KIND" },
  { "dev", 'I', 0, G_OPTION_ARG_STRING, &opt_dev, "SO_BINDTODEVICE to this interface", "IFACE" },
  { "dont-fragment", 0, 0, G_OPTION_ARG_NONE, &opt_df, "Set DF (IP_PMTUDISC_DO) instead of letting the kernel fragment", NULL },
  { "rate", 'r', 0, G_OPTION_ARG_INT, &opt_rate, "Datagrams per second, paced by the clock (replaces --interval)", "N" },
  { "vlan", 0, 0, G_OPTION_ARG_INT, &opt_vlan, "Send a broadcast Ethernet frame tagged with this VLAN ID (0: untagged) out of --dev through a packet socket", "VID" },
  { "mesh", 0, 0, G_OPTION_ARG_NONE, &opt_mesh, "Wrap as udp-mesh datagram: \"SS\" + Ethernet frame", NULL },
  { "inner-src", 0, 0, G_OPTION_ARG_STRING, &opt_inner_src, "Mesh: inner IPv4 source ADDR:PORT", "ADDR:PORT" },
  { "inner-dst", 0, 0, G_OPTION_ARG_STRING, &opt_inner_dst, "Mesh: inner destination (255.255.255.255:5076)", "ADDR:PORT" },
  { "eth-pad", 0, 0, G_OPTION_ARG_INT, &opt_eth_pad, "Mesh: zero-pad the inner frame to N bytes, as NICs do (60)", "N" },
  { NULL, 0, 0, 0, NULL, NULL, NULL }
};

static void
die (const char *what)
{
  fprintf (stderr, "ss-udp-send: %s: %s\n", what, strerror (errno));
  exit (2);
}

static void
fail (const char *msg, const char *arg)
{
  fprintf (stderr, "ss-udp-send: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
  exit (2);
}

/* Parses "A.B.C.D" or "A.B.C.D:PORT"; *port is left alone without ":PORT". */
static void
parse_addr_port (const char *text, struct in_addr *addr, uint16_t *port)
{
  g_autofree gchar *copy = g_strdup (text);
  char *colon = strchr (copy, ':');
  if (colon) {
    char *end;
    long p = strtol (colon + 1, &end, 10);
    if (*end || p < 0 || p > 65535)
      fail ("bad port", text);
    *port = (uint16_t) p;
    *colon = '\0';
  }
  if (inet_pton (AF_INET, copy, addr) != 1)
    fail ("bad IPv4 address", text);
}

/* Writes IPv4 header (+ options) + UDP header + payload at out; returns the
 * datagram length.  Both checksums are computed here so the bytes are final
 * whether the kernel touches them (raw socket) or not (mesh wrapping). */
static size_t
build_ip_udp (uint8_t *out, struct in_addr src, uint16_t sport, struct in_addr dst,
              uint16_t dport, const uint8_t *opts, size_t optlen, size_t paylen, uint32_t seq)
{
  size_t ihl = IPV4_HDR_LEN + optlen;
  size_t udplen = UDP_HDR_LEN + paylen;
  uint8_t *ip = out, *udp = out + ihl;

  memset (ip, 0, ihl);
  ip[0] = (uint8_t) (IPV4_VERSION << 4 | ihl / 4);
  tool_put16 (ip + 2, (uint16_t) (ihl + udplen));
  tool_put16 (ip + 4, (uint16_t) (g_random_int () & 0xffff)); /* identification */
  ip[8] = IPV4_DEFAULT_TTL;
  ip[9] = IPPROTO_UDP;
  memcpy (ip + 12, &src, 4);
  memcpy (ip + 16, &dst, 4);
  memcpy (ip + IPV4_HDR_LEN, opts, optlen);
  tool_put16 (ip + 10, tool_csum_fold (tool_csum_add (0, ip, ihl)));

  tool_put16 (udp, sport);
  tool_put16 (udp + 2, dport);
  tool_put16 (udp + 4, (uint16_t) udplen);
  tool_put16 (udp + 6, 0);
  tool_pattern_fill (udp + UDP_HDR_LEN, paylen, seq);

  uint16_t c = tool_csum_fold (tool_udp_csum_sum ((const uint8_t *) &src, (const uint8_t *) &dst,
                                                  udp, udplen));
  tool_put16 (udp + 6, c ? c : 0xffff); /* 0 means "no checksum" in UDP over IPv4 */
  return ihl + udplen;
}

/* Selects the IPv4 option bytes for --ip-options; length a multiple of 4. */
static size_t
pick_options (const char *kind, uint8_t *opts)
{
  if (!strcmp (kind, "nop")) {
    /* Three NOPs and an End of Options List: the smallest legal padding. */
    opts[0] = IPOPT_NOP_;
    opts[1] = IPOPT_NOP_;
    opts[2] = IPOPT_NOP_;
    opts[3] = IPOPT_EOL_;
    return 4;
  }
  if (!strcmp (kind, "ra")) {
    /* Router Alert, value 0: real traffic (IGMP, RSVP) carries it. */
    opts[0] = IPOPT_RA_TYPE;
    opts[1] = IPOPT_RA_LEN;
    opts[2] = 0;
    opts[3] = 0;
    return 4;
  }
  fail ("unknown --ip-options kind (nop, ra)", kind);
  return 0;
}

/* Largest payload that fits the path MTU towards dest unfragmented. */
static size_t
max_payload (struct in_addr dest, size_t optlen)
{
  int fd = socket (AF_INET, SOCK_DGRAM, 0), one = 1, mtu = 0;
  socklen_t sl = sizeof mtu;
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = dest, .sin_port = htons (9) };
  if (fd < 0)
    die ("socket");
  setsockopt (fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
  if (opt_dev && setsockopt (fd, SOL_SOCKET, SO_BINDTODEVICE, opt_dev, (socklen_t) strlen (opt_dev)) < 0)
    die ("SO_BINDTODEVICE");
  /* IP_MTU is only defined on a connected socket. */
  if (connect (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    die ("connect (for IP_MTU)");
  if (getsockopt (fd, IPPROTO_IP, IP_MTU, &mtu, &sl) < 0)
    die ("getsockopt IP_MTU");
  close (fd);
  return (size_t) mtu - IPV4_HDR_LEN - optlen - UDP_HDR_LEN;
}

static int
open_socket (int type, int proto, struct in_addr bind_addr, uint16_t bind_port, gboolean do_bind)
{
  int fd = socket (AF_INET, type, proto), one = 1;
  if (fd < 0)
    die ("socket");
  if (setsockopt (fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) < 0)
    die ("SO_BROADCAST");
  /* Lets tests reuse a fixed source port right after a previous run. */
  if (setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
    die ("SO_REUSEADDR");
  if (opt_dev && setsockopt (fd, SOL_SOCKET, SO_BINDTODEVICE, opt_dev, (socklen_t) strlen (opt_dev)) < 0)
    die ("SO_BINDTODEVICE");
  if (type == SOCK_DGRAM) {
    int pmtu = opt_df ? IP_PMTUDISC_DO : IP_PMTUDISC_DONT;
    if (setsockopt (fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu) < 0)
      die ("IP_MTU_DISCOVER");
  }
  if (do_bind) {
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = bind_addr, .sin_port = htons (bind_port) };
    if (bind (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
      die ("bind");
  }
  return fd;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- send patterned UDP test datagrams");
  g_autoptr (GError) err = NULL;
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &err))
    fail (err->message, NULL);
  if (!opt_dest)
    fail ("--dest is required", NULL);
  if (opt_count < 0 || opt_interval_ms < 0 || opt_rate < 0 || opt_port <= 0 || opt_port > 65535)
    fail ("bad --count, --interval or --port", NULL);

  struct in_addr dest, src = { .s_addr = htonl (INADDR_ANY) };
  uint16_t sport = 0, dummy = 0;
  parse_addr_port (opt_dest, &dest, &dummy);
  if (opt_src)
    parse_addr_port (opt_src, &src, &sport);

  uint8_t opts[IPV4_MAX_OPT_LEN];
  size_t optlen = opt_ipopts ? pick_options (opt_ipopts, opts) : 0;
  size_t paylen;
  if (!strcmp (opt_size, "max"))
    paylen = max_payload (dest, optlen);
  else {
    char *end;
    long n = strtol (opt_size, &end, 10);
    if (*end || n < 0 || n > UDP_MAX_PAYLOAD)
      fail ("bad --size", opt_size);
    paylen = (size_t) n;
  }

  /* Inner frame for --mesh; the outer datagram goes out of a UDP socket. */
  struct in_addr in_src = src, in_dst = { .s_addr = htonl (INADDR_BROADCAST) };
  uint16_t in_sport = sport ? sport : 5076, in_dport = 5076;
  if (opt_inner_src)
    parse_addr_port (opt_inner_src, &in_src, &in_sport);
  if (opt_inner_dst)
    parse_addr_port (opt_inner_dst, &in_dst, &in_dport);

  gboolean raw = opt_ipopts && !opt_mesh;
  if (raw && (!opt_src || !sport))
    fail ("--ip-options needs --src ADDR:PORT (the header is built by hand)", NULL);
  if (opt_vlan >= 0 && (opt_vlan > VLAN_MAX || !opt_dev || !opt_src || !sport || opt_mesh))
    fail ("--vlan needs a VLAN ID up to 4094, --dev IFACE and --src ADDR:PORT, and no --mesh", NULL);
  struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_halen = ETH_ALEN_ };
  int fd;
  if (opt_vlan >= 0) {
    fd = socket (AF_PACKET, SOCK_RAW, 0);
    if (fd < 0)
      die ("socket AF_PACKET");
    ll.sll_ifindex = (int) if_nametoindex (opt_dev);
    if (!ll.sll_ifindex)
      die (opt_dev);
    memset (ll.sll_addr, 0xff, ETH_ALEN_);
  } else {
    fd = raw ? open_socket (SOCK_RAW, IPPROTO_RAW, src, 0, FALSE)
             : open_socket (SOCK_DGRAM, 0, src, sport, opt_src != NULL);
  }

  if (opt_eth_pad < 0 || opt_eth_pad > ETH_MAX_PAD)
    fail ("bad --eth-pad", NULL);
  size_t bufsz = sizeof mesh_magic + ETH_HDR_LEN + VLAN_TAG_LEN + IPV4_HDR_LEN + IPV4_MAX_OPT_LEN + UDP_HDR_LEN + paylen + ETH_MAX_PAD;
  g_autofree uint8_t *buf = g_malloc0 (bufsz);
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr = dest, .sin_port = htons ((uint16_t) opt_port) };
  int sent = 0;

  struct timespec start;
  clock_gettime (CLOCK_MONOTONIC, &start);
  if (opt_rate > 0)
    opt_interval_ms = 0;
  for (int i = 0; i < opt_count; i++) {
    uint32_t seq = (uint32_t) (opt_seq + i);
    if (opt_rate > 0) {
      /* Datagram i leaves at start + i / rate: sleeps only when ahead, so
       * the average holds even when one sleep oversleeps. */
      int64_t at_ns = (int64_t) start.tv_sec * 1000000000 + start.tv_nsec
                      + (int64_t) i * 1000000000 / opt_rate;
      struct timespec at = { .tv_sec = at_ns / 1000000000, .tv_nsec = at_ns % 1000000000 };
      while (clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR)
        ;
    }
    size_t len;
    if (opt_mesh) {
      uint8_t *eth = buf + sizeof mesh_magic;
      memcpy (buf, mesh_magic, sizeof mesh_magic);
      memset (eth, 0xff, ETH_ALEN_); /* broadcast destination, as captured */
      memcpy (eth + ETH_ALEN_, fake_src_mac, ETH_ALEN_);
      tool_put16 (eth + 2 * ETH_ALEN_, ETHERTYPE_IPV4);
      len = sizeof mesh_magic + ETH_HDR_LEN
            + build_ip_udp (eth + ETH_HDR_LEN, in_src, in_sport, in_dst, in_dport, opts, optlen, paylen, seq);
      /* Trailing bytes beyond the IP total length: Ethernet padding. */
      if (len < sizeof mesh_magic + (size_t) opt_eth_pad) {
        memset (buf + len, 0, sizeof mesh_magic + (size_t) opt_eth_pad - len);
        len = sizeof mesh_magic + (size_t) opt_eth_pad;
      }
    } else if (opt_vlan >= 0) {
      size_t hdr = ETH_HDR_LEN + (opt_vlan ? VLAN_TAG_LEN : 0);
      memset (buf, 0xff, ETH_ALEN_);
      memcpy (buf + ETH_ALEN_, fake_src_mac, ETH_ALEN_);
      if (opt_vlan) {
        tool_put16 (buf + 2 * ETH_ALEN_, ETHERTYPE_8021Q);
        tool_put16 (buf + 2 * ETH_ALEN_ + 2, (uint16_t) opt_vlan);
      }
      tool_put16 (buf + hdr - 2, ETHERTYPE_IPV4);
      len = hdr + build_ip_udp (buf + hdr, src, sport, dest, (uint16_t) opt_port, opts, optlen, paylen, seq);
      if (sendto (fd, buf, len, 0, (struct sockaddr *) &ll, sizeof ll) < 0)
        die ("sendto AF_PACKET");
      sent++;
      if (opt_interval_ms && i + 1 < opt_count)
        g_usleep ((gulong) opt_interval_ms * 1000);
      continue;
    } else if (raw) {
      len = build_ip_udp (buf, src, sport, dest, (uint16_t) opt_port, opts, optlen, paylen, seq);
    } else {
      tool_pattern_fill (buf, paylen, seq);
      len = paylen;
    }
    if (sendto (fd, buf, len, 0, (struct sockaddr *) &to, sizeof to) < 0)
      die ("sendto");
    sent++;
    if (opt_interval_ms && i + 1 < opt_count)
      g_usleep ((gulong) opt_interval_ms * 1000);
  }
  close (fd);
  struct timespec end;
  clock_gettime (CLOCK_MONOTONIC, &end);
  long elapsed_ms = (end.tv_sec - start.tv_sec) * 1000 + (end.tv_nsec - start.tv_nsec) / 1000000;
  printf ("SENT count=%d size=%zu dest=%s:%d%s%s ms=%ld\n", sent, paylen, inet_ntoa (dest), opt_port,
          raw ? " ipopts=" : "", raw ? opt_ipopts : "", elapsed_ms);
  return 0;
}
