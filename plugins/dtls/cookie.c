/* snowsignal - UDP broadcast relay
 * cookie.c: the stateless cookie exchange (RFC 6347 section 4.2.1).  A
 * ClientHello without a valid cookie is answered by a HelloVerifyRequest
 * and forgotten, so a sender that does not receive at its source address
 * (a spoofer) never makes the relay keep state.  The cookie binds the
 * source address and port.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <errno.h>
#include <glib.h>

#include "dtls-plugin.h"

typedef struct {
  dtls_plugin *p;
  const struct sockaddr_in *to;
} cookie_dest;

static ssize_t
cookie_push(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
  const cookie_dest *d = ptr;
  ssize_t n = sendto(d->p->fd, data, len, MSG_DONTWAIT, (const struct sockaddr *) d->to,
                     sizeof *d->to);
  if (n < 0)
    ss_instance_count(d->p->inst, "send_errors", 1);
  return n;
}

gboolean
dtls_cookie_init(dtls_plugin *p, GError **error)
{
  int r = gnutls_key_generate(&p->cookie_key, GNUTLS_COOKIE_KEY_SIZE);
  if (r < 0) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot make the DTLS cookie key: %s",
                gnutls_strerror(r));
    return FALSE;
  }
  return TRUE;
}

void
dtls_cookie_clear(dtls_plugin *p)
{
  gnutls_free(p->cookie_key.data);
  p->cookie_key.data = NULL;
  p->cookie_key.size = 0;
}

gboolean
dtls_cookie_check(dtls_plugin *p, const struct sockaddr_in *from, const uint8_t *buf, size_t len,
                  gnutls_dtls_prestate_st *prestate)
{
  memset(prestate, 0, sizeof *prestate);
  if (gnutls_dtls_cookie_verify(&p->cookie_key, (void *) from, sizeof *from, (void *) buf, len,
                                prestate) == 0)
    return TRUE;
  cookie_dest d = { p, from };
  gnutls_dtls_cookie_send(&p->cookie_key, (void *) from, sizeof *from, prestate, &d, cookie_push);
  ss_instance_count(p->inst, "cookies_sent", 1);
  return FALSE;
}
