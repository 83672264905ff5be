/* ss-udp-listen - test traffic sink for the snowsignal integration tests.
 *
 * Receives UDP datagrams on a port (broadcasts included) and prints one line
 * per datagram so a test script can assert on what arrived:
 *   RX src=IP:PORT dst=IP len=N seq=N|- intact=yes|no dup=yes|no opts=HEX|-
 * With --capture IFACE it also reads the frames themselves from an AF_PACKET
 * socket, because what a relay emits (MACs, checksums, options, padding) is
 * invisible to an ordinary socket:
 *   FRAME src_mac=.. dst_mac=.. src=IP:PORT dst=IP:PORT iplen=N ipcsum=ok|bad
 *         udpcsum=ok|bad|zero|partial|frag opts=HEX|- frag=none|first|middle|last trail=N
 *         vlan=VID|-  (the 802.1Q tag the kernel took off, if any)
 * The first line is "READY port=N" (stdout is flushed per line), the last
 * "SUMMARY rx=N frames=N dups=N bad=N".  Exits when --count datagrams arrived
 * or --timeout expired, whichever is first.
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tool-pattern.h"

#define IPV4_HDR_LEN 20
#define IPV4_MAX_OPT_LEN 40
#define IPV4_VERSION 4
#define IPV4_FLAG_MF 0x2000
#define IPV4_FRAG_OFFSET_MASK 0x1fff
#define UDP_HDR_LEN 8
#define ETH_HDR_LEN 14
#define MAX_DATAGRAM 65536
#define RECENT_FRAGS 16 /* fragment trains remembered to match non-first fragments */

static gint opt_port = 5076, opt_count = 0;
static gdouble opt_timeout = 5.0;
static gchar *opt_bind, *opt_capture, *opt_dev;

static GOptionEntry entries[] = {
  { "port", 'p', 0, G_OPTION_ARG_INT, &opt_port, "UDP port to listen on (5076)", "PORT" },
  { "bind", 'b', 0, G_OPTION_ARG_STRING, &opt_bind, "Local address to bind (any)", "ADDR" },
  { "count", 'c', 0, G_OPTION_ARG_INT, &opt_count, "Exit after N datagrams (0: only the timeout)", "N" },
  { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, &opt_timeout, "Seconds to listen at most (5)", "SEC" },
  { "capture", 'C', 0, G_OPTION_ARG_STRING, &opt_capture, "Also capture frames to PORT on IFACE", "IFACE" },
  { "dev", 'I', 0, G_OPTION_ARG_STRING, &opt_dev, "SO_BINDTODEVICE for the UDP socket", "IFACE" },
  { NULL, 0, 0, 0, NULL, NULL, NULL }
};

static unsigned n_rx, n_frames, n_dups, n_bad;
static GHashTable *seen; /* "src:port/seq" of patterned datagrams */
static struct { uint32_t src; uint16_t id; } recent[RECENT_FRAGS];
static unsigned recent_next;

static void
die (const char *what)
{
  fprintf (stderr, "ss-udp-listen: %s: %s\n", what, strerror (errno));
  exit (2);
}

static void
hex (char *out, size_t outsz, const uint8_t *p, size_t len)
{
  if (len == 0) {
    g_strlcpy (out, "-", outsz);
    return;
  }
  for (size_t i = 0; i < len && 2 * i + 2 < outsz; i++)
    snprintf (out + 2 * i, outsz - 2 * i, "%02x", p[i]);
}

static int
open_udp (void)
{
  int fd = socket (AF_INET, SOCK_DGRAM, 0), one = 1;
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) opt_port) };
  if (fd < 0)
    die ("socket");
  /* Several listeners (and PVA servers) may share the port in one namespace. */
  if (setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0
      || setsockopt (fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) < 0
      || setsockopt (fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) < 0
      || setsockopt (fd, IPPROTO_IP, IP_RECVOPTS, &one, sizeof one) < 0)
    die ("setsockopt");
  if (opt_dev && setsockopt (fd, SOL_SOCKET, SO_BINDTODEVICE, opt_dev, (socklen_t) strlen (opt_dev)) < 0)
    die ("SO_BINDTODEVICE");
  if (opt_bind && inet_pton (AF_INET, opt_bind, &sa.sin_addr) != 1) {
    fprintf (stderr, "ss-udp-listen: bad --bind address %s\n", opt_bind);
    exit (2);
  }
  if (bind (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    die ("bind");
  return fd;
}

static int
open_capture (const char *ifname)
{
  /* Every protocol, as a tap: the kernel takes an 802.1Q tag off into the
   * auxiliary data, and clears it before protocol-bound sockets (and ones
   * bound to IPv4 alone would not see the tag). */
  int fd = socket (AF_PACKET, SOCK_RAW, htons (ETH_P_ALL)), one = 1;
  struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons (ETH_P_ALL) };
  if (fd < 0)
    die ("socket AF_PACKET");
  sll.sll_ifindex = (int) if_nametoindex (ifname);
  if (sll.sll_ifindex == 0)
    die (ifname);
  if (bind (fd, (struct sockaddr *) &sll, sizeof sll) < 0)
    die ("bind AF_PACKET");
  /* Auxdata tells whether the checksum is still partial (offload pending). */
  if (setsockopt (fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) < 0)
    die ("PACKET_AUXDATA");
  return fd;
}

static void
handle_datagram (int fd)
{
  static uint8_t buf[MAX_DATAGRAM];
  uint8_t cbuf[512];
  struct sockaddr_in from;
  struct iovec iov = { buf, sizeof buf };
  struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov,
                        .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  ssize_t n = recvmsg (fd, &msg, 0);
  if (n < 0)
    die ("recvmsg");

  char dst[INET_ADDRSTRLEN] = "?", src[INET_ADDRSTRLEN], opts[2 * IPV4_MAX_OPT_LEN + 2] = "-";
  for (struct cmsghdr *c = CMSG_FIRSTHDR (&msg); c; c = CMSG_NXTHDR (&msg, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      struct in_pktinfo pi;
      memcpy (&pi, CMSG_DATA (c), sizeof pi);
      inet_ntop (AF_INET, &pi.ipi_addr, dst, sizeof dst); /* header destination */
    } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVOPTS) {
      hex (opts, sizeof opts, CMSG_DATA (c), c->cmsg_len - CMSG_LEN (0));
    }
  }
  inet_ntop (AF_INET, &from.sin_addr, src, sizeof src);

  long long seq;
  gboolean intact = tool_pattern_check (buf, (size_t) n, &seq);
  gboolean dup = FALSE;
  if (seq >= 0) {
    char *key = g_strdup_printf ("%s:%u/%lld", src, ntohs (from.sin_port), seq);
    dup = !g_hash_table_add (seen, key);
  }
  n_rx++;
  n_dups += dup;
  n_bad += !intact;
  char seqs[24] = "-";
  if (seq >= 0)
    snprintf (seqs, sizeof seqs, "%lld", seq);
  printf ("RX src=%s:%u dst=%s len=%zd seq=%s intact=%s dup=%s opts=%s\n", src, ntohs (from.sin_port), dst,
          n, seqs, intact ? "yes" : "no", dup ? "yes" : "no", opts);
}

static const char *
mac_str (char *out, const uint8_t *m)
{
  snprintf (out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return out;
}

static gboolean
recent_match (uint32_t src, uint16_t id)
{
  for (unsigned i = 0; i < RECENT_FRAGS; i++)
    if (recent[i].src == src && recent[i].id == id)
      return TRUE;
  return FALSE;
}

/* Prints one FRAME line for an IPv4/UDP frame to opt_port; returns FALSE at EAGAIN. */
static gboolean
handle_frame (int fd, int flags)
{
  static uint8_t f[MAX_DATAGRAM + ETH_HDR_LEN];
  uint8_t cbuf[256];
  struct sockaddr_ll sll;
  struct iovec iov = { f, sizeof f };
  struct msghdr msg = { .msg_name = &sll, .msg_namelen = sizeof sll, .msg_iov = &iov,
                        .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  ssize_t n = recvmsg (fd, &msg, flags);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      return FALSE;
    die ("recvmsg AF_PACKET");
  }
  /* Our own transmissions would show offload-pending checksums: ignore. */
  if (sll.sll_pkttype == PACKET_OUTGOING || n < ETH_HDR_LEN + IPV4_HDR_LEN ||
      tool_get16 (f + 2 * ETHER_ADDR_LEN) != ETHERTYPE_IP)
    return TRUE;
  gboolean partial = FALSE;
  int vlan = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR (&msg); c; c = CMSG_NXTHDR (&msg, c))
    if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
      struct tpacket_auxdata aux;
      memcpy (&aux, CMSG_DATA (c), sizeof aux);
      partial = (aux.tp_status & TP_STATUS_CSUMNOTREADY) != 0;
      /* The kernel took the 802.1Q tag off into the auxiliary data. */
      if ((aux.tp_status & TP_STATUS_VLAN_VALID) || aux.tp_vlan_tci)
        vlan = aux.tp_vlan_tci & 0x0fff;
    }

  const uint8_t *ip = f + ETH_HDR_LEN;
  size_t caplen = (size_t) n - ETH_HDR_LEN, ihl = (size_t) (ip[0] & 0x0f) * 4, iplen = tool_get16 (ip + 2);
  if (ip[0] >> 4 != IPV4_VERSION || ihl < IPV4_HDR_LEN || iplen < ihl || iplen > caplen || ip[9] != IPPROTO_UDP)
    return TRUE;
  uint16_t fragw = tool_get16 (ip + 6), id = tool_get16 (ip + 4);
  gboolean more = (fragw & IPV4_FLAG_MF) != 0, first = (fragw & IPV4_FRAG_OFFSET_MASK) == 0;
  uint32_t ipsrc;
  memcpy (&ipsrc, ip + 12, 4);
  const char *frag = first ? (more ? "first" : "none") : (more ? "middle" : "last");
  const uint8_t *udp = ip + ihl;
  uint16_t sport = 0, dport = 0;
  if (first) {
    if (iplen < ihl + UDP_HDR_LEN)
      return TRUE;
    sport = tool_get16 (udp);
    dport = tool_get16 (udp + 2);
    if (dport != opt_port)
      return TRUE;
    if (more) {
      recent[recent_next].src = ipsrc;
      recent[recent_next].id = id;
      recent_next = (recent_next + 1) % RECENT_FRAGS;
    }
  } else if (!recent_match (ipsrc, id)) {
    return TRUE;
  }

  const char *udpcsum = "frag";
  if (first && !more) {
    size_t udplen = iplen - ihl;
    if (tool_get16 (udp + 6) == 0)
      udpcsum = "zero";
    else if (partial)
      udpcsum = "partial";
    else
      udpcsum = tool_csum_ok (tool_udp_csum_sum (ip + 12, ip + 16, udp, udplen)) ? "ok" : "bad";
  }
  char smac[18], dmac[18], s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN], opts[2 * IPV4_MAX_OPT_LEN + 2];
  inet_ntop (AF_INET, ip + 12, s, sizeof s);
  inet_ntop (AF_INET, ip + 16, d, sizeof d);
  hex (opts, sizeof opts, ip + IPV4_HDR_LEN, ihl - IPV4_HDR_LEN);
  n_frames++;
  char vlan_text[8] = "-";
  if (vlan >= 0)
    g_snprintf (vlan_text, sizeof vlan_text, "%d", vlan);
  printf ("FRAME src_mac=%s dst_mac=%s src=%s:%u dst=%s:%u iplen=%zu ipcsum=%s udpcsum=%s opts=%s frag=%s trail=%zu vlan=%s\n",
          mac_str (smac, f + ETHER_ADDR_LEN), mac_str (dmac, f), s, sport, d, dport, iplen,
          tool_csum_ok (tool_csum_add (0, ip, ihl)) ? "ok" : "bad", udpcsum, opts, frag, caplen - iplen, vlan_text);
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- receive and check patterned UDP datagrams");
  g_autoptr (GError) err = NULL;
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    fprintf (stderr, "ss-udp-listen: %s\n", err->message);
    return 2;
  }
  if (opt_port <= 0 || opt_port > 65535 || opt_count < 0 || opt_timeout <= 0) {
    fprintf (stderr, "ss-udp-listen: bad --port, --count or --timeout\n");
    return 2;
  }
  setvbuf (stdout, NULL, _IOLBF, 0); /* tests poll the output file */
  seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  struct pollfd pfd[2] = { { .fd = open_udp (), .events = POLLIN }, { .fd = -1, .events = POLLIN } };
  if (opt_capture)
    pfd[1].fd = open_capture (opt_capture);
  printf ("READY port=%d\n", opt_port);

  gint64 deadline = g_get_monotonic_time () + (gint64) (opt_timeout * G_USEC_PER_SEC);
  while (opt_count == 0 || n_rx < (unsigned) opt_count) {
    gint64 left_ms = (deadline - g_get_monotonic_time ()) / 1000;
    if (left_ms <= 0)
      break;
    int r = poll (pfd, 2, (int) left_ms);
    if (r < 0 && errno != EINTR)
      die ("poll");
    if (r > 0 && (pfd[1].revents & POLLIN))
      handle_frame (pfd[1].fd, 0);
    if (r > 0 && (pfd[0].revents & POLLIN))
      handle_datagram (pfd[0].fd);
  }
  /* Frames are tapped before IP delivery, so whatever matched the last
   * datagram is already queued on the packet socket: drain it. */
  if (pfd[1].fd >= 0)
    while (handle_frame (pfd[1].fd, MSG_DONTWAIT))
      ;
  printf ("SUMMARY rx=%u frames=%u dups=%u bad=%u\n", n_rx, n_frames, n_dups, n_bad);
  g_hash_table_destroy (seen);
  return 0;
}
