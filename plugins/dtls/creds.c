/* snowsignal - UDP broadcast relay
 * creds.c: the dtls transport's credentials: a pre-shared key file in
 * psktool's format ("identity:hex" lines), or X.509 with a CA, this relay's
 * certificate and key, and an optional list of allowed peer names or SPKI
 * pins, each optionally bound to the address it must come from
 * (allowed.h).  Both sides of every association authenticate.
 *
 * creds-x509.c has what is X.509's own.
 *
 * Files are read here, by content (GnuTLS is given memory, never a path),
 * so a reload can tell that a file changed while its path did not: the
 * digest of everything read says it.  A set of credentials is shared by
 * reference with every association set up with it (GnuTLS keeps pointers
 * to it), so associations made before a reload keep theirs until they end
 * or are found no longer valid (dtls_creds_still_valid()).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>
#include <glib.h>

#include "creds-private.h"

/* AES-GCM only, DTLS 1.2 only; the key exchange follows the mode. */
#define DTLS_PRIORITY_COMMON "NONE:+VERS-DTLS1.2:+AES-128-GCM:+AES-256-GCM:+AEAD:" \
                             "+SIGN-ALL:+COMP-NULL:+GROUP-ALL:%SERVER_PRECEDENCE"
#define DTLS_PRIORITY_PSK    DTLS_PRIORITY_COMMON ":+PSK"
#define DTLS_PRIORITY_X509   DTLS_PRIORITY_COMMON ":+ECDHE-RSA:+ECDHE-ECDSA"
#define PSK_MIN_KEY_BYTES    16
/* A path that starts with this is under $CREDENTIALS_DIRECTORY, where
 * systemd's LoadCredential= puts files (as systemd's own %d specifier). */
#define CREDENTIALS_PREFIX   "%d/"
#define CREDENTIALS_ENV      "CREDENTIALS_DIRECTORY"

const char *
dtls_creds_resolved_from(dtls_plugin *p, const dtls_conn *conn)
{
  ss_peer *peer = dtls_peer_of(p, &conn->slot->addr);
  return peer ? ss_peer_get_resolved_from(peer) : NULL;
}

void
dtls_creds_refuse(dtls_plugin *p, dtls_conn *conn, dtls_allowed_verdict verdict,
                  const char *shown, const char *expected)
{
  conn->auth_failed = TRUE;
  g_autofree char *text = dtls_peer_text(shown);
  char from[INET_ADDRSTRLEN + 8];
  dtls_addr_text(&conn->slot->addr, from, sizeof from);
  if (verdict == DTLS_WRONG_ADDRESS) {
    ss_instance_count(p->inst, "identity_wrong_address", 1);
    SS_LOG_LIMITED(&p->wrong_address_log, p->domain, G_LOG_LEVEL_WARNING,
                   "identity authenticated from an address it is not bound to; handshake refused",
                   "PEER", from, "INSTANCE", ss_instance_get_name(p->inst), "IDENTITY", text,
                   "BOUND_TO", expected,
                   "HINT", "allowed_peers binds it elsewhere: a stolen key, or a relay that moved");
  } else {
    SS_LOG_LIMITED(&p->unlisted_log, p->domain, G_LOG_LEVEL_WARNING,
                   p->mode == DTLS_MODE_PSK ? "unknown or unlisted PSK identity; handshake refused"
                                            : "peer certificate refused",
                   "PEER", from, "INSTANCE", ss_instance_get_name(p->inst),
                   p->mode == DTLS_MODE_PSK ? "IDENTITY" : "REASON", text);
  }
}

static gboolean
psk_identity_match(const char *entry, void *user)
{
  return strcmp(entry, user) == 0;
}

static int
psk_lookup(gnutls_session_t session, const char *identity, gnutls_datum_t *key)
{
  dtls_conn *conn = gnutls_session_get_ptr(session);
  dtls_plugin *p = conn->owner;
  dtls_creds *c = conn->creds;
  GBytes *bytes = g_hash_table_lookup(c->psk_keys, identity);
  const char *expected = NULL;
  dtls_allowed_verdict verdict =
    !bytes ? DTLS_UNLISTED
           : dtls_allowed_check(p->allowed, conn->slot->addr.sin_addr, dtls_creds_resolved_from(p, conn),
                                psk_identity_match, (void *) identity, &expected);
  if (verdict != DTLS_ALLOWED) {
    dtls_creds_refuse(p, conn, verdict, identity, expected);
    return -1;
  }
  gsize n;
  const void *data = g_bytes_get_data(bytes, &n);
  key->data = gnutls_malloc(n);
  if (!key->data)
    return -1;
  memcpy(key->data, data, n);
  key->size = (unsigned) n;
  return 0;
}

char *
dtls_creds_path(const char *path, GError **error)
{
  if (!g_str_has_prefix(path, CREDENTIALS_PREFIX))
    return g_strdup(path);
  const char *dir = g_getenv(CREDENTIALS_ENV);
  if (!dir || !*dir) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                "%s: %%d/ stands for $" CREDENTIALS_ENV ", which is not set (systemd sets it "
                "for a service with LoadCredential=; elsewhere write the file's path)", path);
    return NULL;
  }
  return g_build_filename(dir, path + strlen(CREDENTIALS_PREFIX), NULL);
}

gboolean
dtls_creds_read_file(dtls_creds *c, const char *path, const char *key, char **text, gsize *len,
          GError **error)
{
  g_autofree char *file = dtls_creds_path(path, error);
  gsize n = 0;
  GError *local = NULL;
  if (!file)
    return FALSE;
  if (!g_file_get_contents(file, text, &n, &local)) {
    g_set_error(error, G_FILE_ERROR, local->code, "%s (%s): %s%s", key,
                ss_instance_get_key_origin(c->p->inst, key), local->message,
                local->code == G_FILE_ERROR_ACCES
                  ? "; after --user, a reload reads it as that user: make the file its own, mode 0600"
                  : "");
    g_error_free(local);
    return FALSE;
  }
  g_checksum_update(c->digest, (const guchar *) key, (gssize) strlen(key) + 1);
  g_checksum_update(c->digest, (const guchar *) &n, sizeof n);
  g_checksum_update(c->digest, (const guchar *) *text, (gssize) n);
  if (len)
    *len = n;
  return TRUE;
}

static gboolean
psk_parse_line(dtls_creds *c, const char *line, guint lineno, GError **error)
{
  const char *file = c->p->psk_file;
  const char *colon = strchr(line, ':');
  if (!colon || colon == line) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "%s:%u: expected \"identity:hexkey\" (as psktool writes)", file, lineno);
    return FALSE;
  }
  gnutls_datum_t hex = { (unsigned char *) colon + 1, (unsigned) strlen(colon + 1) };
  gnutls_datum_t raw = { NULL, 0 };
  if (gnutls_hex_decode2(&hex, &raw) < 0 || raw.size < PSK_MIN_KEY_BYTES) {
    gnutls_free(raw.data);
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "%s:%u: the key must be at least %u bytes of hexadecimal; make one with "
                "psktool -u IDENTITY -p %s", file, lineno, PSK_MIN_KEY_BYTES, file);
    return FALSE;
  }
  char *identity = g_strndup(line, (gsize) (colon - line));
  if (!c->first_identity)
    c->first_identity = g_strdup(identity);
  g_hash_table_replace(c->psk_keys, identity, g_bytes_new(raw.data, raw.size));
  gnutls_free(raw.data);
  return TRUE;
}

static gboolean
psk_load(dtls_creds *c, GError **error)
{
  g_autofree char *text = NULL;
  if (!dtls_creds_read_file(c, c->p->psk_file, "psk_file", &text, NULL, error))
    return FALSE;
  c->psk_keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_bytes_unref);
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    g_strstrip(lines[i]);
    if (lines[i][0] && lines[i][0] != '#' && !psk_parse_line(c, lines[i], i + 1, error))
      return FALSE;
  }
  /* As a client this relay presents psk_identity, or the file's first. */
  const char *identity = *c->p->psk_identity ? c->p->psk_identity : c->first_identity;
  GBytes *key = identity ? g_hash_table_lookup(c->psk_keys, identity) : NULL;
  if (!key) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                identity ? "%s: no key for psk_identity '%s'" : "%s: no key in the file%s",
                c->p->psk_file, identity ? identity : "");
    return FALSE;
  }
  gsize n;
  gnutls_datum_t raw = { (unsigned char *) g_bytes_get_data(key, &n), 0 };
  raw.size = (unsigned) n;
  c->own_identity = g_strdup(identity);
  gnutls_psk_allocate_client_credentials(&c->psk_client);
  gnutls_psk_set_client_credentials(c->psk_client, identity, &raw, GNUTLS_PSK_KEY_RAW);
  gnutls_psk_allocate_server_credentials(&c->psk_server);
  gnutls_psk_set_server_credentials_function(c->psk_server, psk_lookup);
  return TRUE;
}

dtls_creds *
dtls_creds_load(dtls_plugin *p, GError **error)
{
  dtls_creds *c = g_new0(dtls_creds, 1);
  c->refs = 1;
  c->p = p;
  c->digest = g_checksum_new(G_CHECKSUM_SHA256);
  const char *prio = p->mode == DTLS_MODE_PSK ? DTLS_PRIORITY_PSK : DTLS_PRIORITY_X509;
  gboolean ok;
  if (p->mode == DTLS_MODE_PSK && !*p->psk_file) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "mode \"psk\" needs psk_file (%s); see docs/dtls-keys.md",
                ss_instance_get_key_origin(p->inst, "psk_file"));
    ok = FALSE;
  } else {
    ok = p->mode == DTLS_MODE_PSK ? psk_load(c, error) : dtls_creds_x509_load(c, error);
  }
  if (ok && gnutls_priority_init(&c->priority, prio, NULL) < 0) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "GnuTLS refuses priority %s", prio);
    ok = FALSE;
  }
  c->digest_hex = g_strdup(g_checksum_get_string(c->digest));
  g_clear_pointer(&c->digest, g_checksum_free);
  c->p = NULL;
  if (!ok) {
    dtls_creds_unref(c);
    return NULL;
  }
  return c;
}

dtls_creds *
dtls_creds_ref(dtls_creds *c)
{
  c->refs++;
  return c;
}

void
dtls_creds_unref(dtls_creds *c)
{
  if (!c || --c->refs > 0)
    return;
  if (c->priority)
    gnutls_priority_deinit(c->priority);
  if (c->psk_server)
    gnutls_psk_free_server_credentials(c->psk_server);
  if (c->psk_client)
    gnutls_psk_free_client_credentials(c->psk_client);
  if (c->x509)
    gnutls_certificate_free_credentials(c->x509);
  g_clear_pointer(&c->psk_keys, g_hash_table_unref);
  g_clear_pointer(&c->digest, g_checksum_free);
  g_free(c->digest_hex);
  g_free(c->first_identity);
  g_free(c->own_identity);
  g_free(c);
}

gboolean
dtls_creds_same(const dtls_creds *a, const dtls_creds *b)
{
  return strcmp(a->digest_hex, b->digest_hex) == 0;
}

int
dtls_creds_apply(dtls_creds *c, gnutls_session_t session, dtls_role role)
{
  int r = gnutls_priority_set(session, c->priority);
  if (r < 0)
    return r;
  if (c->x509) {
    if (role == DTLS_ROLE_SERVER)
      gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUIRE);
    return gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, c->x509);
  }
  return gnutls_credentials_set(session, GNUTLS_CRD_PSK,
                                role == DTLS_ROLE_SERVER ? (void *) c->psk_server
                                                         : (void *) c->psk_client);
}

static gboolean
same_key(GHashTable *then, GHashTable *now, const char *identity)
{
  GBytes *a = identity ? g_hash_table_lookup(then, identity) : NULL;
  GBytes *b = identity ? g_hash_table_lookup(now, identity) : NULL;
  return a && b && g_bytes_equal(a, b);
}

gboolean
dtls_creds_still_valid(dtls_plugin *p, dtls_conn *conn, const char **why)
{
  dtls_creds *then = conn->creds, *now = p->creds;
  gnutls_session_t session = conn->tls;
  if (then == now)
    return TRUE;
  if (now->x509) {
    if (!dtls_creds_x509_trusted(now, session)) {
      *why = "the peer's certificate does not chain to ca_file any more";
      return FALSE;
    }
    return TRUE;
  }
  /* PSK: the key this association was made with must be the same.  As
   * server, the peer's identity's; as client, this relay's own. */
  if (conn->role == DTLS_ROLE_SERVER) {
    if (!same_key(then->psk_keys, now->psk_keys, gnutls_psk_server_get_username(session))) {
      *why = "the peer's PSK identity was removed from psk_file or its key changed";
      return FALSE;
    }
  } else if (g_strcmp0(then->own_identity, now->own_identity) != 0 ||
             !same_key(then->psk_keys, now->psk_keys, now->own_identity)) {
    *why = "this relay's PSK identity or key changed";
    return FALSE;
  }
  return TRUE;
}

char *
dtls_creds_peer_identity(dtls_creds *c, gnutls_session_t session)
{
  if (!c->x509) {
    const char *id = gnutls_psk_server_get_username(session);
    return dtls_peer_text(id ? id : "(server)");
  }
  g_autofree char *dn = dtls_creds_x509_dn(session);
  return dtls_peer_text(dn);
}
