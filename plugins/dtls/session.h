/* snowsignal - UDP broadcast relay
 * session.h: the dtls transport's session table.  Associations are keyed
 * by the remote address and port (one UDP socket serves them all).  Each
 * slot holds at most three: the established one frames are sent on, a
 * pending one whose handshake is under way (the first, a re-key, or a
 * restarted peer's new ClientHello, RFC 6347 section 4.2.8), and the
 * previous one.  The pending one replaces the established one only when
 * its handshake completes (make-before-break); the one it replaces stays
 * readable as "previous" for a while, because the peer may still send on
 * it until its own side of the handshake ends.
 *
 * The table knows nothing of GnuTLS: a conn carries the TLS session as an
 * opaque pointer, freed by the callback given to dtls_table_new().
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SNOWSIGNAL_DTLS_SESSION_H
#define SNOWSIGNAL_DTLS_SESSION_H

#include <stdint.h>
#include <netinet/in.h>
#include <glib.h>

typedef enum {
  DTLS_ROLE_CLIENT = 0,
  DTLS_ROLE_SERVER = 1
} dtls_role;

typedef struct dtls_slot dtls_slot;

typedef struct dtls_conn {
  dtls_slot *slot;
  void *owner;                /* the transport instance */
  dtls_role role;
  gboolean established;
  gboolean heard;             /* a datagram came back during the handshake */
  gboolean auth_failed;       /* the peer's credentials were refused */
  gint64 started_us;
  gint64 established_us;
  gint64 last_rx_us;
  gint64 last_tx_us;
  uint32_t probe_seq;         /* the keepalive probe outstanding (peer health) */
  gint64 probe_sent_us;       /* when it left; 0: none outstanding */
  void *tls;                  /* gnutls_session_t, owned */
  void *creds;                /* dtls_creds it was set up with, a reference */
  gint64 retrans_due_us;      /* handshake retransmission, only while handshaking; 0 none */
  const uint8_t *rx;          /* the datagram being fed to the session, or NULL */
  size_t rx_len;
  /* Server: the random of the ClientHello that began the handshake, to
   * tell its retransmission from a restarted peer's new one. */
  uint8_t hello_random[32];
} dtls_conn;

struct dtls_slot {
  gint64 key;                 /* address << 16 | port, host order */
  struct sockaddr_in addr;
  dtls_conn *current;         /* established: frames go here */
  dtls_conn *pending;         /* handshake under way */
  dtls_conn *previous;        /* replaced by current, still read for a while */
  gboolean keep;              /* a configured peer's slot: kept while empty */
  gboolean initiator;         /* the role rule makes this side the client */
  gint64 next_attempt_us;     /* client: earliest next handshake */
  guint failures;             /* client: handshakes failed in a row */
};

typedef struct dtls_table dtls_table;

dtls_table *dtls_table_new(guint max_half_open, void (*conn_free)(dtls_conn *conn));
void dtls_table_free(dtls_table *table);

/* The slot of @addr, or NULL. */
dtls_slot *dtls_table_lookup(dtls_table *table, const struct sockaddr_in *addr);
/* The slot of @addr, made empty when missing. */
dtls_slot *dtls_table_ensure(dtls_table *table, const struct sockaddr_in *addr);
/* A slot of address @addr_be (network order), any port, with an
 * established association; NULL when none. */
dtls_slot *dtls_table_find_established(dtls_table *table, uint32_t addr_be);

/* Starts a pending association to or from @addr, replacing a pending one.
 * NULL when the slot has no pending association of @role to replace and
 * max_half_open handshakes of @role are already under way: a flood of
 * verified ClientHellos stays bounded (one pending per slot), and so do
 * the handshakes this relay opens to the peers of a large DNS answer. */
dtls_conn *dtls_table_begin(dtls_table *table, const struct sockaddr_in *addr,
                            dtls_role role, gint64 now_us);
/* Pending @conn completed its handshake: it becomes the slot's current
 * association, the current one becomes the previous one (an older
 * previous one is freed). */
void dtls_table_established(dtls_table *table, dtls_conn *conn);
/* Frees @conn; its slot goes too when empty and not kept. */
void dtls_table_drop(dtls_table *table, dtls_conn *conn);
/* Frees a slot and its associations. */
void dtls_table_remove(dtls_table *table, dtls_slot *slot);

/* Handshakes under way, server and client side. */
guint dtls_table_half_open(const dtls_table *table);
guint dtls_table_half_open_clients(const dtls_table *table);
guint dtls_table_size(const dtls_table *table);
/* The slots, in no order; valid until the table changes. */
GPtrArray *dtls_table_slots(dtls_table *table);

#endif
