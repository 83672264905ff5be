/* snowsignal - UDP broadcast relay
 * creds.c: the dtls transport's credentials: a pre-shared key file in
 * psktool's format ("identity:hex" lines), or X.509 with a CA, this relay's
 * certificate and key, and an optional list of allowed peer names or SPKI
 * pins, each optionally bound to the address it must come from
 * (allowed.h).  Both sides of every association authenticate.
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

#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <gnutls/x509.h>

#include "dtls-plugin.h"

/* AES-GCM only, DTLS 1.2 only; the key exchange follows the mode. */
#define DTLS_PRIORITY_COMMON "NONE:+VERS-DTLS1.2:+AES-128-GCM:+AES-256-GCM:+AEAD:" \
                             "+SIGN-ALL:+COMP-NULL:+GROUP-ALL:%SERVER_PRECEDENCE"
#define DTLS_PRIORITY_PSK    DTLS_PRIORITY_COMMON ":+PSK"
#define DTLS_PRIORITY_X509   DTLS_PRIORITY_COMMON ":+ECDHE-RSA:+ECDHE-ECDSA"
/* Pin formats, as certtool --certificate-info prints them. */
#define PIN_HEX_PREFIX       "sha256:"
#define PIN_B64_PREFIX       "pin-sha256:"
#define SPKI_SHA256_LEN      32
#define PSK_MIN_KEY_BYTES    16
/* A path that starts with this is under $CREDENTIALS_DIRECTORY, where
 * systemd's LoadCredential= puts files (as systemd's own %d specifier). */
#define CREDENTIALS_PREFIX   "%d/"
#define CREDENTIALS_ENV      "CREDENTIALS_DIRECTORY"

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

/* The address @conn's peer authenticates from, and the name of
 * peers.hosts it was resolved from (NULL for a literal address). */
static const char *
resolved_from(dtls_plugin *p, const dtls_conn *conn)
{
  ss_peer *peer = dtls_peer_of(p, &conn->slot->addr);
  return peer ? ss_peer_get_resolved_from(peer) : NULL;
}

/* allowed_peers refused @identity (@shown: how it may be logged): counted,
 * logged at most every few seconds (the peer chooses the string and how
 * often it is sent). */
static void
refuse_identity(dtls_plugin *p, dtls_conn *conn, dtls_allowed_verdict verdict,
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
           : dtls_allowed_check(p->allowed, conn->slot->addr.sin_addr, resolved_from(p, conn),
                                psk_identity_match, (void *) identity, &expected);
  if (verdict != DTLS_ALLOWED) {
    refuse_identity(p, conn, verdict, identity, expected);
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

/* Reads the file @key names (%d/ resolved) into the digest too. */
static gboolean
read_file(dtls_creds *c, const char *path, const char *key, char **text, gsize *len,
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
  if (!read_file(c, c->p->psk_file, "psk_file", &text, NULL, error))
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

/* The subject DN of the peer's certificate as the peer wrote it (escape
 * it before logging it). */
static char *
cert_dn(gnutls_session_t session)
{
  unsigned n = 0;
  const gnutls_datum_t *certs = gnutls_certificate_get_peers(session, &n);
  gnutls_x509_crt_t crt;
  gnutls_datum_t dn = { NULL, 0 };
  if (n == 0 || gnutls_x509_crt_init(&crt) < 0)
    return g_strdup("?");
  if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) == 0)
    gnutls_x509_crt_get_dn3(crt, &dn, 0);
  gnutls_x509_crt_deinit(crt);
  char *s = g_strndup(dn.data ? (const char *) dn.data : "?", dn.data ? dn.size : 1);
  gnutls_free(dn.data);
  return s;
}

/* What an allowed_peers entry is compared with: the names the certificate
 * carries (subjectAltName, or CN without one) and the SHA-256 of its
 * SubjectPublicKeyInfo, as certtool prints it in two forms. */
typedef struct {
  gnutls_x509_crt_t crt;
  char *hex, *pin;
} cert_identity;

static void
cert_identity_init(cert_identity *ci, gnutls_x509_crt_t crt)
{
  unsigned char id[SPKI_SHA256_LEN];
  size_t id_len = sizeof id;
  ci->crt = crt;
  ci->hex = ci->pin = NULL;
  if (gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, id, &id_len) < 0)
    return;
  GString *h = g_string_new(PIN_HEX_PREFIX);
  for (size_t i = 0; i < id_len; i++)
    g_string_append_printf(h, "%02x", id[i]);
  ci->hex = g_string_free(h, FALSE);
  g_autofree char *b64 = g_base64_encode(id, id_len);
  ci->pin = g_strconcat(PIN_B64_PREFIX, b64, NULL);
}

static void
cert_identity_clear(cert_identity *ci)
{
  g_free(ci->hex);
  g_free(ci->pin);
}

static gboolean
cert_identity_match(const char *entry, void *user)
{
  const cert_identity *ci = user;
  return (ci->hex && g_ascii_strcasecmp(entry, ci->hex) == 0) || (ci->pin && strcmp(entry, ci->pin) == 0) ||
         gnutls_x509_crt_check_hostname2(ci->crt, entry, 0);
}

/* allowed_peers' verdict on the certificate @conn's peer presented. */
static dtls_allowed_verdict
cert_allowed(dtls_plugin *p, const dtls_conn *conn, gnutls_session_t session, const char **expected)
{
  unsigned n = 0;
  const gnutls_datum_t *certs = gnutls_certificate_get_peers(session, &n);
  gnutls_x509_crt_t crt = NULL;
  dtls_allowed_verdict v = DTLS_UNLISTED;
  if (n > 0 && gnutls_x509_crt_init(&crt) == 0 &&
      gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) == 0) {
    cert_identity ci;
    cert_identity_init(&ci, crt);
    v = dtls_allowed_check(p->allowed, conn->slot->addr.sin_addr, resolved_from(p, conn),
                           cert_identity_match, &ci, expected);
    cert_identity_clear(&ci);
  }
  if (crt)
    gnutls_x509_crt_deinit(crt);
  return v;
}

static int
verify_peer(gnutls_session_t session)
{
  dtls_conn *conn = gnutls_session_get_ptr(session);
  dtls_plugin *p = conn->owner;
  unsigned status = 0;
  gnutls_datum_t text = { NULL, 0 };
  if (gnutls_certificate_verify_peers2(session, &status) < 0 || status != 0) {
    gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0);
    refuse_identity(p, conn, DTLS_UNLISTED, text.data ? (const char *) text.data : "no certificate",
                    NULL);
    gnutls_free(text.data);
    return GNUTLS_E_CERTIFICATE_ERROR;
  }
  if (dtls_allowed_is_empty(p->allowed))
    return 0;
  const char *expected = NULL;
  dtls_allowed_verdict v = cert_allowed(p, conn, session, &expected);
  if (v == DTLS_ALLOWED)
    return 0;
  g_autofree char *name = cert_dn(session);
  refuse_identity(p, conn, v,
                  v == DTLS_WRONG_ADDRESS ? name
                                          : "certificate is valid but its name or key is not in allowed_peers",
                  expected);
  return GNUTLS_E_CERTIFICATE_ERROR;
}

static gboolean
x509_load(dtls_creds *c, GError **error)
{
  dtls_plugin *p = c->p;
  const char *missing = !*p->ca_file ? "ca_file" : !*p->cert_file ? "cert_file"
                        : !*p->key_file ? "key_file" : NULL;
  if (missing) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "mode \"x509\" needs %s (%s); see docs/dtls-keys.md", missing,
                ss_instance_get_key_origin(p->inst, missing));
    return FALSE;
  }
  g_autofree char *ca = NULL, *cert = NULL, *key = NULL;
  gsize ca_len = 0, cert_len = 0, key_len = 0;
  if (!read_file(c, p->ca_file, "ca_file", &ca, &ca_len, error) ||
      !read_file(c, p->cert_file, "cert_file", &cert, &cert_len, error) ||
      !read_file(c, p->key_file, "key_file", &key, &key_len, error))
    return FALSE;
  gnutls_datum_t ca_d = { (unsigned char *) ca, (unsigned) ca_len };
  gnutls_datum_t cert_d = { (unsigned char *) cert, (unsigned) cert_len };
  gnutls_datum_t key_d = { (unsigned char *) key, (unsigned) key_len };
  gnutls_certificate_allocate_credentials(&c->x509);
  int r = gnutls_certificate_set_x509_trust_mem(c->x509, &ca_d, GNUTLS_X509_FMT_PEM);
  if (r <= 0) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "ca_file %s: %s", p->ca_file,
                r < 0 ? gnutls_strerror(r) : "no certificate in it");
    return FALSE;
  }
  r = gnutls_certificate_set_x509_key_mem(c->x509, &cert_d, &key_d, GNUTLS_X509_FMT_PEM);
  /* The key's bytes are not kept in freed memory. */
  explicit_bzero(key, key_len);
  if (r < 0) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "cert_file %s / key_file %s: %s",
                p->cert_file, p->key_file, gnutls_strerror(r));
    return FALSE;
  }
  gnutls_certificate_set_verify_function(c->x509, verify_peer);
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
    ok = p->mode == DTLS_MODE_PSK ? psk_load(c, error) : x509_load(c, error);
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

/* The peer's certificate chain of @session against the CAs of @now. */
static gboolean
chain_trusted(dtls_creds *now, gnutls_session_t session)
{
  unsigned n = 0, status = 1;
  const gnutls_datum_t *certs = gnutls_certificate_get_peers(session, &n);
  gnutls_x509_trust_list_t list = NULL;
  if (n == 0)
    return FALSE;
  gnutls_certificate_get_trust_list(now->x509, &list);
  gnutls_x509_crt_t *chain = g_new0(gnutls_x509_crt_t, n);
  gboolean ok = TRUE;
  for (unsigned i = 0; i < n && ok; i++)
    ok = gnutls_x509_crt_init(&chain[i]) == 0 &&
         gnutls_x509_crt_import(chain[i], &certs[i], GNUTLS_X509_FMT_DER) == 0;
  if (ok && gnutls_x509_trust_list_verify_crt2(list, chain, n, NULL, 0, 0, &status, NULL) < 0)
    status = 1;
  for (unsigned i = 0; i < n; i++)
    if (chain[i])
      gnutls_x509_crt_deinit(chain[i]);
  g_free(chain);
  return ok && status == 0;
}

gboolean
dtls_creds_still_valid(dtls_plugin *p, dtls_conn *conn, const char **why)
{
  dtls_creds *then = conn->creds, *now = p->creds;
  gnutls_session_t session = conn->tls;
  if (then == now)
    return TRUE;
  if (now->x509) {
    if (!chain_trusted(now, session)) {
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
  g_autofree char *dn = cert_dn(session);
  return dtls_peer_text(dn);
}
