/* snowsignal - UDP broadcast relay
 * creds-private.h: what creds.c and creds-x509.c share of the dtls
 * transport's credentials; the rest of the plugin sees dtls_creds through
 * dtls-plugin.h only.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SNOWSIGNAL_DTLS_CREDS_PRIVATE_H
#define SNOWSIGNAL_DTLS_CREDS_PRIVATE_H

#include <gnutls/x509.h>

#include "dtls-plugin.h"

struct dtls_creds {
  gint refs;
  dtls_plugin *p;                /* while loading only */
  GChecksum *digest;             /* of every file read, while loading */
  char *digest_hex;              /* what the files held */
  gnutls_priority_t priority;
  gnutls_psk_server_credentials_t psk_server;
  gnutls_psk_client_credentials_t psk_client;
  GHashTable *psk_keys;          /* identity -> GBytes */
  char *first_identity;
  char *own_identity;            /* presented as client */
  gnutls_certificate_credentials_t x509;
};

/* The address @conn's peer authenticates from was resolved from this name
 * of peers.hosts (NULL: a literal address). */
const char *dtls_creds_resolved_from(dtls_plugin *p, const dtls_conn *conn);
/* allowed_peers (or the chain check) refused the peer of @conn: counted,
 * logged at most every 10 s, @shown escaped (the peer chose it, and how
 * often it is sent).  @expected: where the identity is bound to. */
void dtls_creds_refuse(dtls_plugin *p, dtls_conn *conn, dtls_allowed_verdict verdict,
                       const char *shown, const char *expected);
/* Reads the file @path (setting @key; %d/ resolved) whole, and into the
 * digest of what the credentials were read from. */
gboolean dtls_creds_read_file(dtls_creds *c, const char *path, const char *key, char **text,
                              gsize *len, GError **error);

/* creds-x509.c */
gboolean dtls_creds_x509_load(dtls_creds *c, GError **error);
/* The peer certificate's subject DN as the peer wrote it: escape it
 * before logging it.  Free it. */
char *dtls_creds_x509_dn(gnutls_session_t session);
/* TRUE when the peer's chain of @session holds under the CAs of @now. */
gboolean dtls_creds_x509_trusted(dtls_creds *now, gnutls_session_t session);

#endif
