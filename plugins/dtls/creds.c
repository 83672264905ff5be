/* snowsignal - UDP broadcast relay
 * creds.c: the dtls transport's credentials: a pre-shared key file in
 * psktool's format ("identity:hex" lines), or X.509 with a CA, this relay's
 * certificate and key, and an optional list of allowed peer names or SPKI
 * pins.  Both sides of every association authenticate.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

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

struct dtls_creds {
  dtls_plugin *p;
  gnutls_priority_t priority;
  gnutls_psk_server_credentials_t psk_server;
  gnutls_psk_client_credentials_t psk_client;
  GHashTable *psk_keys;          /* identity -> GBytes */
  char *first_identity;
  gnutls_certificate_credentials_t x509;
};

static gboolean
allowed(const dtls_plugin *p, const char *name)
{
  if (!p->allowed_peers[0])
    return TRUE;
  return g_strv_contains((const char *const *) p->allowed_peers, name);
}

static int
psk_lookup(gnutls_session_t session, const char *identity, gnutls_datum_t *key)
{
  dtls_conn *conn = gnutls_session_get_ptr(session);
  dtls_plugin *p = conn->owner;
  GBytes *bytes = g_hash_table_lookup(p->creds->psk_keys, identity);
  if (!bytes || !allowed(p, identity)) {
    conn->auth_failed = TRUE;
    dtls_log_addr(p, G_LOG_LEVEL_WARNING, "unknown or unlisted PSK identity; handshake refused",
                  &conn->slot->addr, "IDENTITY", identity);
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
  if (!g_file_get_contents(c->p->psk_file, &text, NULL, error))
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
  gnutls_psk_allocate_client_credentials(&c->psk_client);
  gnutls_psk_set_client_credentials(c->psk_client, identity, &raw, GNUTLS_PSK_KEY_RAW);
  gnutls_psk_allocate_server_credentials(&c->psk_server);
  gnutls_psk_set_server_credentials_function(c->psk_server, psk_lookup);
  return TRUE;
}

/* TRUE when @crt is one of the allowed peers: a name its certificate
 * carries (subjectAltName, or CN without one) or the SHA-256 of its
 * SubjectPublicKeyInfo. */
static gboolean
cert_allowed(const dtls_plugin *p, gnutls_x509_crt_t crt)
{
  unsigned char id[SPKI_SHA256_LEN];
  size_t id_len = sizeof id;
  if (gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, id, &id_len) < 0)
    id_len = 0;
  g_autofree char *hex = NULL;
  if (id_len) {
    GString *h = g_string_new(PIN_HEX_PREFIX);
    for (size_t i = 0; i < id_len; i++)
      g_string_append_printf(h, "%02x", id[i]);
    hex = g_string_free(h, FALSE);
  }
  g_autofree char *b64 = id_len ? g_base64_encode(id, id_len) : NULL;
  g_autofree char *pin = b64 ? g_strconcat(PIN_B64_PREFIX, b64, NULL) : NULL;
  for (char **a = p->allowed_peers; *a; a++) {
    if ((hex && g_ascii_strcasecmp(*a, hex) == 0) || (pin && strcmp(*a, pin) == 0) ||
        gnutls_x509_crt_check_hostname2(crt, *a, 0))
      return TRUE;
  }
  return FALSE;
}

static int
verify_peer(gnutls_session_t session)
{
  dtls_conn *conn = gnutls_session_get_ptr(session);
  dtls_plugin *p = conn->owner;
  unsigned status = 0;
  const char *why = NULL;
  gnutls_datum_t text = { NULL, 0 };
  if (gnutls_certificate_verify_peers2(session, &status) < 0 || status != 0) {
    gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0);
    why = text.data ? (const char *) text.data : "no certificate";
  } else if (p->allowed_peers[0]) {
    unsigned n = 0;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(session, &n);
    gnutls_x509_crt_t crt = NULL;
    if (n == 0 || gnutls_x509_crt_init(&crt) < 0 ||
        gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) < 0 || !cert_allowed(p, crt))
      why = "certificate is valid but its name or key is not in allowed_peers";
    if (crt)
      gnutls_x509_crt_deinit(crt);
  }
  if (why) {
    conn->auth_failed = TRUE;
    dtls_log_addr(p, G_LOG_LEVEL_WARNING, "peer certificate refused", &conn->slot->addr,
                  "REASON", why);
  }
  gnutls_free(text.data);
  return why ? GNUTLS_E_CERTIFICATE_ERROR : 0;
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
  gnutls_certificate_allocate_credentials(&c->x509);
  int r = gnutls_certificate_set_x509_trust_file(c->x509, p->ca_file, GNUTLS_X509_FMT_PEM);
  if (r <= 0) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "ca_file %s: %s", p->ca_file,
                r < 0 ? gnutls_strerror(r) : "no certificate in it");
    return FALSE;
  }
  r = gnutls_certificate_set_x509_key_file(c->x509, p->cert_file, p->key_file, GNUTLS_X509_FMT_PEM);
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
  c->p = p;
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
  if (!ok) {
    dtls_creds_free(c);
    return NULL;
  }
  return c;
}

void
dtls_creds_free(dtls_creds *c)
{
  if (!c)
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
  g_free(c->first_identity);
  g_free(c);
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

char *
dtls_creds_peer_identity(dtls_creds *c, gnutls_session_t session)
{
  if (!c->x509) {
    const char *id = gnutls_psk_server_get_username(session);
    return g_strdup(id ? id : "(server)");
  }
  unsigned n = 0;
  const gnutls_datum_t *certs = gnutls_certificate_get_peers(session, &n);
  gnutls_x509_crt_t crt;
  gnutls_datum_t dn = { NULL, 0 };
  if (n == 0 || gnutls_x509_crt_init(&crt) < 0)
    return g_strdup("?");
  if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) == 0)
    gnutls_x509_crt_get_dn3(crt, &dn, 0);
  gnutls_x509_crt_deinit(crt);
  char *s = g_strdup(dn.data ? (const char *) dn.data : "?");
  gnutls_free(dn.data);
  return s;
}
