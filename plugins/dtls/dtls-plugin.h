/* snowsignal - UDP broadcast relay
 * dtls-plugin.h: what the files of the dtls transport share.  Not
 * installed; everything here has internal linkage in the module except
 * the entry symbol (the link exports only that one).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SNOWSIGNAL_DTLS_PLUGIN_H
#define SNOWSIGNAL_DTLS_PLUGIN_H

#include <sys/socket.h>
#include <sys/uio.h>

#include <gnutls/gnutls.h>
#include <gnutls/dtls.h>

#include <snowsignal/snowsignal.h>

#include "allowed.h"
#include "session.h"

#define DTLS_DEFAULT_PORT        "7125"
/* Inner messages: "SS" + frame (the udp-mesh format) and "SK", a
 * keepalive that is never delivered. */
#define DTLS_KEEPALIVE_MAGIC     "SK"
/* A keepalive that measures the round trip: the magic, a type and a
 * sequence number (big endian).  A peer answers a probe with a reply of the
 * same number; an older peer takes a probe for a message it cannot read
 * (bad_framing) and answers nothing, and its state is then left to the
 * association as before. */
#define DTLS_PROBE_LEN           7
#define DTLS_PROBE_PING          'P'
#define DTLS_PROBE_REPLY         'R'

/* Largest record plaintext (RFC 6347 section 4.1, 2^14): frames above
 * this minus the magic are counted and not sent. */
#define DTLS_MAX_PLAINTEXT       16384
#define DTLS_MAX_DATAGRAM        65535
/* Datagrams one recvmmsg() reads (one system call for a burst; a slot's
 * pages become resident only as datagrams that long arrive). */
#define DTLS_RECV_SLOTS          16
/* Socket receive buffer asked for, as udp-mesh's: bursts of searches
 * queue instead of overflowing while the relay waits for a CPU (capped
 * at net.core.rmem_max without CAP_NET_ADMIN). */
#define DTLS_RECV_BUFFER_BYTES   (4 * 1024 * 1024)
/* Records queued for one sendmmsg() (txq.c); a slot holds the largest
 * record (plaintext, header, explicit nonce, tag); its pages become
 * resident only as records that long are queued. */
#define DTLS_TXQ_SLOTS           64
#define DTLS_TXQ_SLOT_BYTES      (DTLS_MAX_PLAINTEXT + 256)
/* Handshake flights stay at GnuTLS's conservative default MTU so they
 * pass any path; the data MTU is raised once the association is up. */
#define DTLS_HANDSHAKE_MTU       1200
#define DTLS_RETRANS_MS          1000   /* first handshake retransmission */
#define DTLS_LOG_INTERVAL_US     (10 * G_USEC_PER_SEC)
/* Keepalive: silence for this many intervals makes the client probe with
 * a fresh handshake, and either side close the association. */
#define DTLS_PROBE_AFTER         2
#define DTLS_DEAD_AFTER          3
#define DTLS_RETRY_MAX_S         10     /* cap of the client's retry backoff */
/* Delay before something found still due right after the timer fired
 * (an initiation that failed) is tried again. */
#define DTLS_RETRY_FLOOR_MS      250
/* The replaced association of a re-key or a restarted peer stays readable
 * for the handshake timeout plus this (the peer sends on it until its own
 * handshake ends, retransmissions included). */
#define DTLS_OVERLAP_EXTRA_S     1

typedef enum { DTLS_MODE_PSK, DTLS_MODE_X509 } dtls_mode;

typedef struct dtls_creds dtls_creds;

typedef struct {
  ss_instance *inst;
  const char *domain;
  /* Settings. */
  uint16_t port;
  struct in_addr bind_addr;
  dtls_mode mode;
  char *psk_file, *psk_identity, *ca_file, *cert_file, *key_file;
  char **allowed_peers;
  dtls_allowed *allowed;      /* allowed_peers parsed */
  guint handshake_timeout_s, keepalive_s, rekey_s, max_half_open;
  /* Running state. */
  dtls_creds *creds;
  int fd;
  GSource *source;
  GSource *timer;             /* the earliest deadline (timer.c), or NULL */
  gint64 timer_due_us;        /* its deadline, -1 when none */
  gboolean in_timer, after_tick;
  uint8_t *rx_buf;             /* DTLS_RECV_SLOTS datagrams */
  struct mmsghdr rx_msgs[DTLS_RECV_SLOTS];
  struct iovec rx_iov[DTLS_RECV_SLOTS];
  struct sockaddr_in rx_from[DTLS_RECV_SLOTS];
  union {                      /* the kernel's drop count (ss_instance_note_socket_drops) */
    char buf[SS_SOCKET_DROPS_CONTROL_LEN];
    struct cmsghdr align;
  } rx_ctl[DTLS_RECV_SLOTS];
  gboolean tx_queueing;       /* send() is encrypting: records go to the queue */
  uint8_t *txq_buf;
  struct mmsghdr txq_msgs[DTLS_TXQ_SLOTS];
  struct iovec txq_iov[DTLS_TXQ_SLOTS];
  struct sockaddr_in txq_to[DTLS_TXQ_SLOTS];
  unsigned txq_len;
  uint8_t *tx_buf;            /* "SS" + frame, the inner message sent */
  uint8_t *plain_buf;         /* a record decrypted */
  gint64 last_fail_log_us;
  dtls_table *table;
  gnutls_datum_t cookie_key;
  gint64 last_stranger_log_us;
  gint64 last_oversize_log_us;
  /* Lines about what a peer chose (its identity, its certificate). */
  ss_log_limit wrong_address_log, unlisted_log;
} dtls_plugin;

/* creds.c */
/* Reads the credentials files (%d/ under $CREDENTIALS_DIRECTORY) by
 * content.  One reference, the caller's. */
dtls_creds *dtls_creds_load(dtls_plugin *p, GError **error);
dtls_creds *dtls_creds_ref(dtls_creds *creds);
void dtls_creds_unref(dtls_creds *creds);
/* TRUE when both were read from files of the same content. */
gboolean dtls_creds_same(const dtls_creds *a, const dtls_creds *b);
/* @path with a leading "%d/" replaced by $CREDENTIALS_DIRECTORY/; NULL
 * with @error when that is not set. */
char *dtls_creds_path(const char *path, GError **error);
/* Puts the credentials and priorities on a new session. */
int dtls_creds_apply(dtls_creds *creds, gnutls_session_t session, dtls_role role);
/* The peer identity of an established session, escaped for log lines. */
char *dtls_creds_peer_identity(dtls_creds *creds, gnutls_session_t session);
/* Whether established @conn, made with older credentials, still holds
 * under @p's current ones; FALSE with @why when it does not. */
gboolean dtls_creds_still_valid(dtls_plugin *p, dtls_conn *conn, const char **why);

/* conn.c */
/* Creates the TLS session of a new pending @conn; FALSE when GnuTLS fails. */
gboolean dtls_conn_setup(dtls_plugin *p, dtls_conn *conn);
void dtls_conn_free(dtls_conn *conn);
/* Feeds one datagram to @conn.  @conn may be freed on return.  FALSE
 * when @conn is established and no record of the datagram was its own (it
 * may be another association's of the same address); @conn is then
 * untouched. */
gboolean dtls_conn_feed(dtls_plugin *p, dtls_conn *conn, const uint8_t *buf, size_t len);
/* Drives the handshake of @conn one step (also its first flight). */
void dtls_conn_handshake(dtls_plugin *p, dtls_conn *conn);
/* Sends one inner message on established @conn; FALSE on a send error. */
gboolean dtls_conn_send(dtls_plugin *p, dtls_conn *conn, const uint8_t *msg, size_t len);
/* Sends a keepalive probe on @conn; one left unanswered counts as lost. */
void dtls_conn_probe(dtls_plugin *p, dtls_conn *conn, gint64 now);
/* Ends @conn, telling the peer when it is established. */
void dtls_conn_close(dtls_plugin *p, dtls_conn *conn, const char *why);
/* Starts a client handshake to @slot's address. */
void dtls_conn_initiate(dtls_plugin *p, dtls_slot *slot, gint64 now_us);

/* timer.c */
/* Arms the one timer for the earliest deadline of all associations, or
 * removes it when nothing is due.  Called whenever a deadline may have
 * moved earlier (a handshake step, a new or closed association). */
void dtls_timer_update(dtls_plugin *p);
void dtls_timer_stop(dtls_plugin *p);

/* txq.c */
void dtls_txq_setup(dtls_plugin *p);
void dtls_txq_clear(dtls_plugin *p);
/* Queues a record to @to; FALSE when it cannot be queued (send it now). */
gboolean dtls_txq_push(dtls_plugin *p, const struct sockaddr_in *to, const void *data, size_t len);
void dtls_txq_flush(dtls_plugin *p);

/* cookie.c */
gboolean dtls_cookie_init(dtls_plugin *p, GError **error);
void dtls_cookie_clear(dtls_plugin *p);
/* TRUE with @prestate filled when the ClientHello carries a valid cookie;
 * otherwise a HelloVerifyRequest has been sent and no state kept. */
gboolean dtls_cookie_check(dtls_plugin *p, const struct sockaddr_in *from,
                           const uint8_t *buf, size_t len, gnutls_dtls_prestate_st *prestate);

/* dispatch.c */
/* Allocates the receive slots and points recvmmsg()'s headers at them. */
void dtls_setup_receive(dtls_plugin *p);
gboolean dtls_on_readable(gint fd, GIOCondition cond, gpointer data);
/* The configured peer @addr belongs to, or NULL. */
ss_peer *dtls_peer_of(dtls_plugin *p, const struct sockaddr_in *addr);
void dtls_log_addr(dtls_plugin *p, GLogLevelFlags level, const char *message,
                   const struct sockaddr_in *addr, const char *key, const char *value);
/* "a.b.c.d:port" into @buf. */
void dtls_addr_text(const struct sockaddr_in *addr, char *buf, size_t size);

#endif
