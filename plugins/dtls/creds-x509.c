/* snowsignal - UDP broadcast relay
 * creds-x509.c: the X.509 side of the dtls transport's credentials: the
 * CA, certificate and key read from memory, the peer's certificate
 * checked during the handshake (chain, then allowed_peers by name or SPKI
 * pin and the address it is bound to), and checked again against new CAs
 * after a reload.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>
#include <glib.h>

#include "creds-private.h"

/* Pin formats, as certtool --certificate-info prints them. */
#define PIN_HEX_PREFIX       "sha256:"
#define PIN_B64_PREFIX       "pin-sha256:"
#define SPKI_SHA256_LEN      32

char *
dtls_creds_x509_dn(gnutls_session_t session)
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
    v = dtls_allowed_check(p->allowed, conn->slot->addr.sin_addr, dtls_creds_resolved_from(p, conn),
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
    dtls_creds_refuse(p, conn, DTLS_UNLISTED, text.data ? (const char *) text.data : "no certificate",
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
  g_autofree char *name = dtls_creds_x509_dn(session);
  dtls_creds_refuse(p, conn, v,
                  v == DTLS_WRONG_ADDRESS ? name
                                          : "certificate is valid but its name or key is not in allowed_peers",
                  expected);
  return GNUTLS_E_CERTIFICATE_ERROR;
}

gboolean
dtls_creds_x509_load(dtls_creds *c, GError **error)
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
  if (!dtls_creds_read_file(c, p->ca_file, "ca_file", &ca, &ca_len, error) ||
      !dtls_creds_read_file(c, p->cert_file, "cert_file", &cert, &cert_len, error) ||
      !dtls_creds_read_file(c, p->key_file, "key_file", &key, &key_len, error))
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

gboolean
dtls_creds_x509_trusted(dtls_creds *now, gnutls_session_t session)
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
