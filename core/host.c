/* snowsignal - UDP broadcast relay
 * host.c: this host's interface MACs and IPv4 addresses, from netlink.
 *
 * The table is read once with a dump and then kept current from the
 * RTMGRP_LINK and RTMGRP_IPV4_IFADDR multicast groups, so an interface or
 * address added after start counts at once, without polling.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_arp.h>
#include <glib-unix.h>
#include <glib.h>

#include <snowsignal/log.h>
#include "host.h"
#include "log.h"

#define NETLINK_BUFFER_SIZE 32768

typedef struct {
  int ifindex;
  uint8_t mac[SS_ETH_ALEN];
} host_link;

typedef struct {
  int ifindex;
  uint32_t addr;
  unsigned prefix_len;
  uint32_t broadcast;
} host_addr;

struct ss_host {
  GArray *links;        /* host_link */
  GArray *addrs;        /* host_addr */
  int fd;
  GSource *source;
  void (*changed_cb)(void *user);
  void *changed_user;
};

ss_host *
ss_host_new(void)
{
  ss_host *host = g_new0(ss_host, 1);
  host->links = g_array_new(FALSE, FALSE, sizeof(host_link));
  host->addrs = g_array_new(FALSE, FALSE, sizeof(host_addr));
  host->fd = -1;
  return host;
}

void
ss_host_free(ss_host *host)
{
  if (!host)
    return;
  if (host->source) {
    g_source_destroy(host->source);
    g_source_unref(host->source);
  }
  if (host->fd >= 0)
    close(host->fd);
  g_array_unref(host->links);
  g_array_unref(host->addrs);
  g_free(host);
}

void
ss_host_set_changed_cb(ss_host *host, void (*cb)(void *user), void *user)
{
  host->changed_cb = cb;
  host->changed_user = user;
}

void
ss_host_add_mac(ss_host *host, int ifindex, const uint8_t mac[SS_ETH_ALEN])
{
  for (guint i = 0; i < host->links->len; i++) {
    host_link *l = &g_array_index(host->links, host_link, i);
    if (l->ifindex == ifindex) {
      memcpy(l->mac, mac, SS_ETH_ALEN);
      return;
    }
  }
  host_link l = { .ifindex = ifindex };
  memcpy(l.mac, mac, SS_ETH_ALEN);
  g_array_append_val(host->links, l);
}

void
ss_host_remove_link(ss_host *host, int ifindex)
{
  for (guint i = host->links->len; i-- > 0;)
    if (g_array_index(host->links, host_link, i).ifindex == ifindex)
      g_array_remove_index_fast(host->links, i);
  for (guint i = host->addrs->len; i-- > 0;)
    if (g_array_index(host->addrs, host_addr, i).ifindex == ifindex)
      g_array_remove_index_fast(host->addrs, i);
}

void
ss_host_add_ipv4(ss_host *host, int ifindex, uint32_t addr_be, unsigned prefix_len,
                 uint32_t broadcast_be)
{
  for (guint i = 0; i < host->addrs->len; i++) {
    host_addr *a = &g_array_index(host->addrs, host_addr, i);
    if (a->ifindex == ifindex && a->addr == addr_be) {
      a->prefix_len = prefix_len;
      a->broadcast = broadcast_be;
      return;
    }
  }
  host_addr a = { ifindex, addr_be, prefix_len, broadcast_be };
  g_array_append_val(host->addrs, a);
}

void
ss_host_remove_ipv4(ss_host *host, int ifindex, uint32_t addr_be)
{
  for (guint i = host->addrs->len; i-- > 0;) {
    host_addr *a = &g_array_index(host->addrs, host_addr, i);
    if (a->ifindex == ifindex && a->addr == addr_be)
      g_array_remove_index_fast(host->addrs, i);
  }
}

gboolean
ss_host_lookup_mac(const ss_host *host, const uint8_t mac[SS_ETH_ALEN])
{
  for (guint i = 0; i < host->links->len; i++)
    if (memcmp(g_array_index(host->links, host_link, i).mac, mac, SS_ETH_ALEN) == 0)
      return TRUE;
  return FALSE;
}

gboolean
ss_host_lookup_ipv4(const ss_host *host, uint32_t addr_be)
{
  for (guint i = 0; i < host->addrs->len; i++)
    if (g_array_index(host->addrs, host_addr, i).addr == addr_be)
      return TRUE;
  return FALSE;
}

gboolean
ss_host_link_mac(const ss_host *host, int ifindex, uint8_t mac_out[SS_ETH_ALEN])
{
  for (guint i = 0; i < host->links->len; i++) {
    const host_link *l = &g_array_index(host->links, host_link, i);
    if (l->ifindex == ifindex) {
      memcpy(mac_out, l->mac, SS_ETH_ALEN);
      return TRUE;
    }
  }
  return FALSE;
}

gboolean
ss_host_link_ipv4(const ss_host *host, int ifindex, uint32_t *addr_be, unsigned *prefix_len)
{
  for (guint i = 0; i < host->addrs->len; i++) {
    const host_addr *a = &g_array_index(host->addrs, host_addr, i);
    if (a->ifindex == ifindex) {
      *addr_be = a->addr;
      *prefix_len = a->prefix_len;
      return TRUE;
    }
  }
  return FALSE;
}

static void
handle_link(ss_host *host, struct nlmsghdr *nh)
{
  struct ifinfomsg *ifi = NLMSG_DATA(nh);
  if (nh->nlmsg_type == RTM_DELLINK) {
    ss_host_remove_link(host, ifi->ifi_index);
    return;
  }
  if (ifi->ifi_type != ARPHRD_ETHER)
    return;
  int len = (int) IFLA_PAYLOAD(nh);
  for (struct rtattr *rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
    if (rta->rta_type == IFLA_ADDRESS && RTA_PAYLOAD(rta) == SS_ETH_ALEN)
      ss_host_add_mac(host, ifi->ifi_index, RTA_DATA(rta));
}

static void
handle_addr(ss_host *host, struct nlmsghdr *nh)
{
  struct ifaddrmsg *ifa = NLMSG_DATA(nh);
  if (ifa->ifa_family != AF_INET)
    return;
  uint32_t local = 0, bcast = 0;
  gboolean have_local = FALSE;
  int len = (int) IFA_PAYLOAD(nh);
  for (struct rtattr *rta = IFA_RTA(ifa); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
    if (RTA_PAYLOAD(rta) != sizeof(uint32_t))
      continue;
    /* IFA_LOCAL is the address itself; IFA_ADDRESS is the peer on
     * point-to-point links, so prefer IFA_LOCAL when both are given. */
    if (rta->rta_type == IFA_LOCAL || (rta->rta_type == IFA_ADDRESS && !have_local)) {
      memcpy(&local, RTA_DATA(rta), sizeof local);
      have_local = rta->rta_type == IFA_LOCAL;
    } else if (rta->rta_type == IFA_BROADCAST) {
      memcpy(&bcast, RTA_DATA(rta), sizeof bcast);
    }
  }
  if (nh->nlmsg_type == RTM_DELADDR)
    ss_host_remove_ipv4(host, (int) ifa->ifa_index, local);
  else
    ss_host_add_ipv4(host, (int) ifa->ifa_index, local, ifa->ifa_prefixlen, bcast);
}

/* Handles every message in one netlink read; TRUE when a dump ended. */
static gboolean
handle_messages(ss_host *host, char *buf, ssize_t n)
{
  gboolean done = FALSE;
  for (struct nlmsghdr *nh = (struct nlmsghdr *) buf; NLMSG_OK(nh, (size_t) n);
       nh = NLMSG_NEXT(nh, n)) {
    switch (nh->nlmsg_type) {
    case NLMSG_DONE:
    case NLMSG_ERROR:
      done = TRUE;
      break;
    case RTM_NEWLINK:
    case RTM_DELLINK:
      handle_link(host, nh);
      break;
    case RTM_NEWADDR:
    case RTM_DELADDR:
      handle_addr(host, nh);
      break;
    default:
      break;
    }
  }
  return done;
}

static gboolean
dump(ss_host *host, int type, GError **error)
{
  struct {
    struct nlmsghdr nh;
    struct rtgenmsg g;
  } req = {
    .nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct rtgenmsg)), .nlmsg_type = (uint16_t) type,
            .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = (uint32_t) type },
    .g = { .rtgen_family = type == RTM_GETADDR ? AF_INET : AF_PACKET },
  };
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0 || send(fd, &req, req.nh.nlmsg_len, 0) < 0) {
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                "cannot ask the kernel for interfaces (netlink): %s", g_strerror(errno));
    if (fd >= 0)
      close(fd);
    return FALSE;
  }
  g_autofree char *buf = g_malloc(NETLINK_BUFFER_SIZE);
  ssize_t n;
  while ((n = recv(fd, buf, NETLINK_BUFFER_SIZE, 0)) > 0)
    if (handle_messages(host, buf, n))
      break;
  close(fd);
  return TRUE;
}

static gboolean
on_netlink(gint fd, GIOCondition cond, gpointer user_data)
{
  ss_host *host = user_data;
  char buf[NETLINK_BUFFER_SIZE];
  ssize_t n;
  gboolean any = FALSE;
  while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
    handle_messages(host, buf, n);
    any = TRUE;
  }
  if (n < 0 && errno == ENOBUFS) {
    /* Events were lost: the table may be stale, so read it again whole. */
    SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "netlink events lost; re-reading interfaces");
    g_array_set_size(host->links, 0);
    g_array_set_size(host->addrs, 0);
    dump(host, RTM_GETLINK, NULL);
    dump(host, RTM_GETADDR, NULL);
    any = TRUE;
  }
  if (any) {
    SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "host interfaces or addresses changed");
    if (host->changed_cb)
      host->changed_cb(host->changed_user);
  }
  return G_SOURCE_CONTINUE;
}

gboolean
ss_host_watch(ss_host *host, GMainContext *context, GError **error)
{
  /* Subscribe before dumping so that nothing between the two is missed. */
  host->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR };
  if (host->fd < 0 || bind(host->fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                "cannot watch interfaces (netlink): %s", g_strerror(errno));
    return FALSE;
  }
  if (!dump(host, RTM_GETLINK, error) || !dump(host, RTM_GETADDR, error))
    return FALSE;
  host->source = g_unix_fd_source_new(host->fd, G_IO_IN);
  g_source_set_callback(host->source, G_SOURCE_FUNC(on_netlink), host, NULL);
  g_source_attach(host->source, context);
  return TRUE;
}
