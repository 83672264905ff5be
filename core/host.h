/* snowsignal - UDP broadcast relay
 * host.h: what the relay knows of its own host: interface MACs and IPv4
 * addresses, kept current from netlink.  The self filters ask it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SS_CORE_HOST_H
#define SS_CORE_HOST_H

#include <stdint.h>
#include <glib.h>
#include <snowsignal/packet.h>

typedef struct ss_host ss_host;

/* An empty table (no netlink); for tests and before ss_host_watch(). */
ss_host *ss_host_new(void);
void ss_host_free(ss_host *host);

/* Fills the table from the kernel and keeps it current with a netlink
 * subscription on @context.  FALSE with @error when netlink is unavailable. */
gboolean ss_host_watch(ss_host *host, GMainContext *context, GError **error);

/* Called when an interface or address appears or goes (after the table is
 * updated); the relay uses it to re-read its segment interface. */
void ss_host_set_changed_cb(ss_host *host, void (*cb)(void *user), void *user);

void ss_host_add_mac(ss_host *host, int ifindex, const uint8_t mac[SS_ETH_ALEN]);
void ss_host_remove_link(ss_host *host, int ifindex);
void ss_host_add_ipv4(ss_host *host, int ifindex, uint32_t addr_be, unsigned prefix_len,
                      uint32_t broadcast_be);
void ss_host_remove_ipv4(ss_host *host, int ifindex, uint32_t addr_be);

gboolean ss_host_lookup_mac(const ss_host *host, const uint8_t mac[SS_ETH_ALEN]);
gboolean ss_host_lookup_ipv4(const ss_host *host, uint32_t addr_be);

/* The interface's MAC; FALSE when unknown. */
gboolean ss_host_link_mac(const ss_host *host, int ifindex, uint8_t mac_out[SS_ETH_ALEN]);
/* The interface's first IPv4 address and prefix; FALSE when it has none. */
gboolean ss_host_link_ipv4(const ss_host *host, int ifindex, uint32_t *addr_be,
                           unsigned *prefix_len);

#endif
