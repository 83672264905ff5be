/* snowsignal - UDP broadcast relay
 * conffile.h: snowsignal.conf, read with libconfig into plain structures.
 *
 * libconfig stays inside conffile.c: the rest of the core, and every plugin,
 * sees only these structures and the accessors of config.h.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SS_CORE_CONFFILE_H
#define SS_CORE_CONFFILE_H

#include <stdint.h>
#include <glib.h>
#include <snowsignal/config.h>

#define SS_CONF_VERSION 1

#define SS_DEFAULT_INTERFACE     "eth0"
#define SS_DEFAULT_BROADCAST_PORT 5076
#define SS_DEFAULT_MESH_PORT     7124
#define SS_DEFAULT_LOG_LEVEL     "info"
#define SS_DEFAULT_PEER_REFRESH  10
#define SS_DEFAULT_PEER_MAX_PER_NAME 256
#define SS_MAX_PEER_MAX_PER_NAME 65536
/* The capture ring, in KiB: 2048 frames, 20 ms of a 100k frames/s burst
 * (200 ms of one source at its default rate limit).  It is resident in
 * full, the relay's largest part, and sized so that the relay stays under
 * 8 MB under load with its peers by name (bench/rss.sh; 1536 and 2048 put
 * it over).  What it costs: at 100k frames/s on a busy 2-CPU guest up to
 * 1.4 % was dropped by the kernel (counted), as with 1536 in the same run
 * (bench/RESULTS.md, "RSS under load"). */
#define SS_DEFAULT_CAPTURE_RING_KIB 1024
#define SS_MIN_CAPTURE_RING_KIB     64
#define SS_MAX_CAPTURE_RING_KIB     (1024 * 1024)
#define SS_DEFAULT_CONTROL_SOCKET SS_RUNSTATEDIR "/snowsignal/control"
#define SS_MAX_BROADCAST_PORTS   16
#define SS_MAX_VLAN              4094

#define SS_CONF_ERROR ss_conf_error_quark ()
GQuark ss_conf_error_quark(void);
typedef enum {
  SS_CONF_ERROR_SYNTAX,
  SS_CONF_ERROR_INVALID,
  SS_CONF_ERROR_IO
} ss_conf_error;

/* One setting of a plugin instance as written in the file; its type is what
 * the file says, checked against the plugin's declaration later. */
typedef struct {
  char *key;
  ss_key_type type;       /* SS_KEY_NONE: a type no plugin key can take */
  gboolean b;
  int64_t i;
  char *s;
  char **list;            /* NULL-terminated for SS_KEY_STRING_LIST */
  char *origin;           /* "file:line" */
} ss_conf_value;

/* The setting every filter instance takes besides its plugin's: the UDP
 * destination ports it runs for (none: all), so that one relay can pass
 * PVA through pva-search and CA through ca-search in one chain. */
#define SS_INSTANCE_PORTS_KEY "ports"
/* The setting every transport instance takes besides its plugin's: the
 * entries of peers.hosts (or tasks.<service>) it talks to (none: all), so
 * that a udp-mesh instance hears nothing from relays reached by dtls. */
#define SS_INSTANCE_PEERS_KEY "peers"

typedef struct {
  char *name;
  char *plugin;
  char *origin;           /* "file:line" of the instance group */
  GPtrArray *values;      /* ss_conf_value * */
  uint16_t ports[SS_MAX_BROADCAST_PORTS];
  unsigned n_ports;       /* 0: every port */
  char *ports_origin;
  char **peers;           /* transports: the peers.hosts entries served; NULL: all */
  char *peers_origin;
} ss_conf_instance;

/* A list of instance names (a chain or the transports) and where it was set. */
typedef struct {
  char **names;           /* NULL-terminated */
  char *origin;
} ss_conf_list;

typedef struct ss_conf {
  char *path;             /* file read, or a label for strings and defaults */
  int version;
  char *interface;
  char *interface_origin;  /* "file:line", an option or a variable */
  uint16_t broadcast_ports[SS_MAX_BROADCAST_PORTS];
  unsigned n_broadcast_ports;
  char **plugin_path;     /* NULL-terminated, may be empty */
  char *log_level;
  char *log_level_origin;
  GPtrArray *instances;   /* ss_conf_instance * */
  ss_conf_list outbound;
  ss_conf_list inbound;
  ss_conf_list transports;
  /* peers */
  char **peer_hosts;      /* "host" or "host:port", NULL-terminated */
  char *peer_hosts_origin;
  char *service;          /* Docker Swarm service: peers are tasks.<service> */
  int peer_refresh;       /* seconds between re-resolutions */
  int peer_max_per_name;  /* addresses taken from one name's answer */
  gboolean self_send;     /* no peers: send to ourselves (the original's test mode) */
  char *control_socket;   /* path of the status socket; "" for none */
  char *user;             /* drop to this user after start; "" to stay */
  char *metrics_listen;   /* "address:port" of the Prometheus endpoint; "" for none */
  char *metrics_listen_origin;
  int capture_ring_kib;   /* capture ring size; whole 64 KiB blocks are used */
  int duplicate_window_ms; /* how long sent and emitted frames are remembered; 0: off */
  int vlan;               /* 802.1Q VLAN ID relayed on a trunk; 0: untagged frames only */
  int source_rate_limit;  /* captured frames/s per IPv4 source; 0: no limit */
  int peer_rate_limit;    /* frames/s from one peer; 0: no limit */
  gboolean watch_config;  /* apply edits of the file as a SIGHUP would */
  /* Set by the command line or environment: replaces the port setting of
   * every udp-mesh instance (0: not set). */
  uint16_t mesh_port_override;
} ss_conf;

/* Parses a snowsignal.conf.  Errors read "FILE:LINE: what is wrong; what to do". */
ss_conf *ss_conf_load_file(const char *path, GError **error);
ss_conf *ss_conf_load_string(const char *text, const char *label, GError **error);
/* The built-in default, used when no file is given and none is installed:
 * the original SnowSignal's behaviour (mac-self, ip-self, udp-mesh). */
ss_conf *ss_conf_new_default(void);
void ss_conf_free(ss_conf *conf);

/* The instance --decode-pvaccess adds: a pva-search that drops nothing and
 * logs each PVA search and beacon at info, first in the outbound chain
 * (nothing when @conf has an instance of that name already). */
#define SS_PVA_LOG_INSTANCE "decode-pvaccess"
void ss_conf_add_pva_log(ss_conf *conf, const char *origin);

ss_conf_instance *ss_conf_find_instance(const ss_conf *conf, const char *name);
const ss_conf_value *ss_conf_instance_find_value(const ss_conf_instance *inst, const char *key);

/* Replaces *@field's origin (a small helper for overrides). */
void ss_conf_set_origin(char **field, const char *origin);

/* Structural checks that need no plugin: chains name existing instances,
 * names are unique, ports are valid. */
gboolean ss_conf_check(const ss_conf *conf, GError **error);

#endif
