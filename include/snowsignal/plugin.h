/* snowsignal - UDP broadcast relay
 * plugin.h: the contract between libsnowsignal and filter/transport plugins.
 *
 * A plugin is a libtool module that exports exactly one symbol,
 *
 *     const ss_plugin_desc *snowsignal_plugin_<name>_get_desc (void);
 *
 * where <name> is the plugin's name with '-' replaced by '_' (SS_PLUGIN_DEFINE
 * writes it).  Everything else in the module is static.  See
 * snowsignal-plugin(7) for the lifecycle, threading rules and the ABI
 * versioning policy.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SNOWSIGNAL_PLUGIN_H
#define SNOWSIGNAL_PLUGIN_H

#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <glib.h>

#include <snowsignal/packet.h>
#include <snowsignal/config.h>

G_BEGIN_DECLS

/* ABI version of this header.  The loader accepts a plugin whose major equals
 * SS_PLUGIN_ABI_MAJOR and whose minor is at most SS_PLUGIN_ABI_MINOR.
 * Minor bumps only append fields (taken from the reserved space) or add
 * functions; anything else bumps the major. */
#define SS_PLUGIN_ABI_MAJOR 1
#define SS_PLUGIN_ABI_MINOR 1

/* The verdict a filter returns for one packet.  A closed set: any other
 * value is counted as an error and stops the chain (the packet is dropped). */
typedef enum {
  SS_VERDICT_PASS = 0,   /* hand the packet to the next stage */
  SS_VERDICT_DROP = 1    /* stop here; the packet is not relayed */
} ss_verdict;

typedef enum {
  SS_PLUGIN_FILTER = 1,
  SS_PLUGIN_TRANSPORT = 2
} ss_plugin_kind;

/* A running plugin instance, owned by the core.  Plugins receive it in
 * instance_new() and may keep the pointer until instance_free(). */
typedef struct ss_instance ss_instance;

/* A peer relay, owned by the core's peer set and shared by all transports.
 * Valid from the peers_changed() call that introduced it until the
 * peers_changed() call after which it is no longer listed. */
typedef struct ss_peer ss_peer;

/* Per-peer state a transport reports, shown by `snowsignal status`. */
typedef enum {
  SS_PEER_UNKNOWN = 0,     /* nothing sent or received yet */
  SS_PEER_UP,              /* datagram transports: last send succeeded */
  SS_PEER_CONNECTING,      /* session transports: handshake under way */
  SS_PEER_DOWN,            /* unreachable, send errors or keepalive lost */
  SS_PEER_AUTH_FAILED      /* session transports: identity check failed */
} ss_peer_state;

/* The core's answer to a frame a transport delivered. */
typedef enum {
  SS_DELIVER_EMITTED = 0,  /* passed the inbound chain and queued for broadcast on the
                            * segment (sent in a batch before the loop next waits; a
                            * send that fails then is counted and logged by the core) */
  SS_DELIVER_DROPPED,      /* not emitted, and not wrong: dropped by the inbound chain,
                            * emitted already (a duplicate), over peer_rate_limit,
                            * or an IPv4 fragment kept until its datagram is whole */
  SS_DELIVER_INVALID,      /* not a frame the relay may emit; counted and logged */
  SS_DELIVER_EMIT_FAILED   /* the segment send failed; counted and logged */
} ss_deliver_result;

/*
 * The plugin descriptor.  Fill it statically and return it from the entry
 * symbol.  Set abi_major/abi_minor/size with SS_PLUGIN_DESC_HEADER.
 */
typedef struct ss_plugin_desc {
  uint32_t abi_major;
  uint32_t abi_minor;
  uint32_t size;                 /* sizeof (ss_plugin_desc) as the plugin saw it */
  ss_plugin_kind kind;
  const char *name;              /* as written in snowsignal.conf: "mac-self" */
  const char *version;           /* the plugin's own version string */
  const char *description;       /* one line, shown by --list-plugins */
  const ss_plugin_key *keys;     /* settings accepted, ended by SS_KEY_END; may be NULL */

  /* Lifecycle, called on the main loop's thread. */
  /* Required.  Reads settings (ss_instance_get_*), allocates the instance
   * state and returns it; NULL with @error set on failure. */
  void *(*instance_new)(ss_instance *inst, GError **error);
  /* Optional.  Opens sockets, starts timers.  FALSE with @error on failure. */
  gboolean (*instance_start)(void *state, GError **error);
  /* Optional.  Undoes instance_start(); must not fail. */
  void (*instance_stop)(void *state);
  /* Required.  Frees what instance_new() allocated. */
  void (*instance_free)(void *state);

  /* Filters (required for SS_PLUGIN_FILTER): the hot path.  Must not block,
   * should not allocate. */
  ss_verdict (*filter)(void *state, ss_packet *pkt);

  /* Transports (send is required for SS_PLUGIN_TRANSPORT). */
  /* Sends one packet the outbound chain passed to every peer this transport
   * can reach now.  Per-peer failures are reported with ss_peer_note_*();
   * a peer that is not ready (session transports) is skipped and counted. */
  void (*send)(void *state, const ss_packet *pkt);
  /* Optional.  Called after a batch of send() calls: flush queued datagrams. */
  void (*flush)(void *state);
  /* Optional.  The peer set changed (ss_instance_get_peers()): session
   * transports open or close sessions here. */
  void (*peers_changed)(void *state);

  /* Optional (ABI 1.1).  On reload, an instance whose settings did not
   * change is kept running (its @state, sockets and counters); @fresh is
   * the state instance_new() has just made from the new configuration,
   * never started, and freed by instance_free() right after this call.
   * A plugin whose settings name files takes what they hold now from
   * @fresh, so a file changed under the same path takes effect (the dtls
   * transport's keys).  Must not fail. */
  void (*instance_reload)(void *state, void *fresh);

  /* Reserved: must be zero.  Later minor versions take fields from here. */
  void *reserved[15];
} ss_plugin_desc;

#define SS_PLUGIN_DESC_HEADER                                                  \
  .abi_major = SS_PLUGIN_ABI_MAJOR, .abi_minor = SS_PLUGIN_ABI_MINOR,          \
  .size = sizeof (ss_plugin_desc)

/* The signature of the single exported symbol. */
typedef const ss_plugin_desc *(*ss_plugin_get_desc_func)(void);

#define SS_PLUGIN_SYMBOL_PREFIX "snowsignal_plugin_"
#define SS_PLUGIN_SYMBOL_SUFFIX "_get_desc"

#define SS_PLUGIN_EXPORT __attribute__ ((visibility ("default")))

/* Defines the entry symbol.  @ident is the plugin name with '-' written as
 * '_'; @desc is a static ss_plugin_desc. */
#define SS_PLUGIN_DEFINE(ident, desc)                                          \
  SS_PLUGIN_EXPORT const ss_plugin_desc *snowsignal_plugin_##ident##_get_desc (void); \
  SS_PLUGIN_EXPORT const ss_plugin_desc *snowsignal_plugin_##ident##_get_desc (void) \
  {                                                                            \
    return &(desc);                                                            \
  }


/* --- Services the core offers to plugin instances ----------------------- */

/* The instance's name in snowsignal.conf, e.g. "mesh". */
const char *ss_instance_get_name(const ss_instance *inst);

/* The log domain for this instance's messages: "snowsignal-<plugin>". */
const char *ss_instance_get_log_domain(const ss_instance *inst);

/* The GLib main context the relay runs on. Sources a plugin adds go here. */
GMainContext *ss_instance_get_context(const ss_instance *inst);

/* Own-host knowledge, kept current by the core (netlink). */
gboolean ss_host_has_mac(const ss_instance *inst, const uint8_t mac[SS_ETH_ALEN]);
gboolean ss_host_has_ipv4(const ss_instance *inst, uint32_t addr_be);

/* The MAC of the relay's segment interface: the source of every frame the
 * relay re-emits.  All zero before the interface is known. */
const uint8_t *ss_host_relay_mac(const ss_instance *inst);

/* The current peers (ss_peer *), in the core's order.  Borrowed: valid until
 * the next peers_changed() call.  Never contains this host's own addresses. */
const GPtrArray *ss_instance_get_peers(const ss_instance *inst);

/* The peer whose address is @addr (port ignored), or NULL for a stranger. */
ss_peer *ss_instance_find_peer(const ss_instance *inst, const struct sockaddr *addr,
                               socklen_t addrlen);

/* Hands a frame received from a peer to the core: validation, the inbound
 * chain, rebroadcast on the segment.  @frame is copied; @from may be NULL when
 * the transport accepted a stranger on purpose. */
ss_deliver_result ss_instance_deliver(ss_instance *inst, ss_peer *from,
                                      const uint8_t *frame, size_t len);

/* The same for a whole mesh message as it came off the wire ("SS", then
 * the frame: ss_mesh_decode()), counted on @inst once: "bad_framing" when it
 * is not one (SS_DELIVER_INVALID is returned), else "received", and
 * "invalid_frame" when the core refuses the frame.  Every transport that
 * carries mesh messages hands them over here. */
ss_deliver_result ss_instance_deliver_message(ss_instance *inst, ss_peer *from,
                                              const uint8_t *msg, size_t len);

/* A peer's name as configured ("relay-b.example", "10.0.0.2") and what it
 * resolved from (the DNS name, or NULL for a literal address). */
const char *ss_peer_get_name(const ss_peer *peer);
const char *ss_peer_get_resolved_from(const ss_peer *peer);
/* The peer's IPv4 address; sin_port is 0 unless the peer was configured as
 * "host:port", in which case the transport should use that port. */
const struct sockaddr_in *ss_peer_get_address(const ss_peer *peer);

/* Per-peer accounting, shown by status and at shutdown. */
void ss_peer_note_sent(ss_peer *peer, const ss_instance *inst);
void ss_peer_note_received(ss_peer *peer, const ss_instance *inst);
void ss_peer_note_error(ss_peer *peer, const ss_instance *inst, const char *what);
void ss_peer_set_state(ss_peer *peer, const ss_instance *inst, ss_peer_state state);
/* Peer health, for transports that probe their peers (udp-mesh heartbeats,
 * dtls keepalives): a probe answered after @rtt_us microseconds, or, with
 * @rtt_us < 0, one that got no answer in time.  The core keeps the round
 * trip figures (last, minimum, smoothed) and the losses for status, and
 * once a peer has answered, its state follows the probes alone, with
 * hysteresis: down after SS_PEER_DOWN_AFTER_LOST losses in a row, up again
 * after SS_PEER_UP_AFTER_ANSWERED answers in a row; each change is logged. */
#define SS_PEER_DOWN_AFTER_LOST    3
#define SS_PEER_UP_AFTER_ANSWERED  2
void ss_peer_note_heartbeat(ss_peer *peer, const ss_instance *inst, int64_t rtt_us);
ss_peer_state ss_peer_get_state(const ss_peer *peer);
const char *ss_peer_state_to_string(ss_peer_state state);

/* Instance counters beyond seen/passed/dropped/errors, e.g. "from_stranger".
 * @name must be a static string; counters are printed on SIGUSR1. */
void ss_instance_count(ss_instance *inst, const char *name, guint64 n);

/* Socket services for transports that receive datagrams.
 *
 * ss_instance_set_receive_buffer() asks the kernel for a receive buffer of
 * @bytes on @fd (SO_RCVBUFFORCE while the relay may, else SO_RCVBUF, which
 * net.core.rmem_max caps), logs a notice naming the instance and the sysctl
 * when it got less (and returns FALSE then), and turns on the kernel's drop
 * count (SO_RXQ_OVFL).  Call it once per socket, after opening it.
 *
 * ss_instance_note_socket_drops() takes that count from a received
 * message's control data: give each message of a recvmsg()/recvmmsg() a
 * control buffer of SS_SOCKET_DROPS_CONTROL_LEN bytes (msg_control,
 * msg_controllen, reset before each call) and pass the newest message of a
 * batch.  What grew since the last call is counted as "receive_dropped"
 * and logged as a warning at most every 10 seconds.  The kernel attaches
 * the count only once a datagram was dropped, so until then this costs
 * nothing. */
#define SS_SOCKET_DROPS_CONTROL_LEN CMSG_SPACE(sizeof(uint32_t))
gboolean ss_instance_set_receive_buffer(ss_instance *inst, int fd, int bytes);
void ss_instance_note_socket_drops(ss_instance *inst, const struct msghdr *msg);

G_END_DECLS

#endif /* SNOWSIGNAL_PLUGIN_H */
