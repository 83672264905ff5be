/* snowsignal - UDP broadcast relay
 * allowed.h: the dtls transport's allowed_peers list.  An entry names an
 * identity a peer may authenticate with (a PSK identity, a certificate
 * name or an SPKI pin) and, after its last '@', where that identity is
 * expected from:
 *
 *   "relay-b"               any peer address (the meaning without a binding)
 *   "relay-b@10.0.2.2"      only from that IPv4 address
 *   "relay-b@relay-b.lan"   only from an address peers.hosts' name
 *                           relay-b.lan resolved to
 *   "ops@site@*"            any address, for an identity that holds a '@'
 *
 * Knows nothing of GnuTLS or of the core: the caller says whether an
 * entry's identity is the one authenticated, and what name (if any) the
 * peer address was resolved from.  Identities a peer sent are escaped
 * here too before they are logged.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SNOWSIGNAL_DTLS_ALLOWED_H
#define SNOWSIGNAL_DTLS_ALLOWED_H

#include <netinet/in.h>
#include <glib.h>

#define DTLS_BIND_SEPARATOR '@'
#define DTLS_BIND_ANY       "*"

typedef struct dtls_allowed dtls_allowed;

typedef enum {
  DTLS_ALLOWED = 0,         /* listed, and from where it is bound to */
  DTLS_UNLISTED,            /* no entry names the identity */
  DTLS_WRONG_ADDRESS        /* listed, but bound to another address */
} dtls_allowed_verdict;

/* Parses @entries (NULL-terminated; NULL or empty: anyone authenticated).
 * NULL with @error naming @origin when an entry is malformed. */
dtls_allowed *dtls_allowed_new(const char *const *entries, const char *origin, GError **error);
void dtls_allowed_free(dtls_allowed *allowed);
gboolean dtls_allowed_is_empty(const dtls_allowed *allowed);

/* Does the authenticated peer carry @identity (an entry's identity part)? */
typedef gboolean (*dtls_identity_match)(const char *identity, void *user);

/* The verdict for a peer that authenticated from @from, an address that
 * peers.hosts' name @resolved_from resolved to (NULL: a literal address,
 * or not a peer).  On DTLS_WRONG_ADDRESS, *@expected (when not NULL) is
 * the binding of the first entry that named the identity. */
dtls_allowed_verdict dtls_allowed_check(const dtls_allowed *allowed, struct in_addr from,
                                        const char *resolved_from, dtls_identity_match match,
                                        void *user, const char **expected);

/* A string a peer chose (a PSK identity, a certificate name), made safe to
 * log: printable ASCII kept, anything else (quotes, backslashes, control
 * characters, other bytes) written \xHH, cut after DTLS_PEER_TEXT_MAX
 * bytes with "...".  Free it. */
#define DTLS_PEER_TEXT_MAX 128
char *dtls_peer_text(const char *text);

#endif
