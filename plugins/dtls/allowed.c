/* snowsignal - UDP broadcast relay
 * allowed.c: the dtls transport's allowed_peers list (see allowed.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>
#include <arpa/inet.h>

#include "allowed.h"

typedef struct {
  char *identity;
  char *host;               /* as written after the '@'; NULL: any address */
  gboolean host_is_addr;
  struct in_addr addr;
} allowed_entry;

struct dtls_allowed {
  GArray *entries;          /* allowed_entry */
};

static void
entry_clear(gpointer data)
{
  allowed_entry *e = data;
  g_free(e->identity);
  g_free(e->host);
}

static gboolean
entry_parse(allowed_entry *e, const char *text, const char *origin, GError **error)
{
  const char *at = strrchr(text, DTLS_BIND_SEPARATOR);
  e->identity = at ? g_strndup(text, (gsize) (at - text)) : g_strdup(text);
  if (at && strcmp(at + 1, DTLS_BIND_ANY) != 0) {
    e->host = g_strdup(at + 1);
    e->host_is_addr = inet_pton(AF_INET, e->host, &e->addr) == 1;
  }
  if (!*e->identity || (at && !at[1])) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "allowed_peers entry '%s' (%s) must read \"identity\" or \"identity@host\", "
                "host an IPv4 address, a name of peers.hosts or \"*\"", text, origin);
    return FALSE;
  }
  return TRUE;
}

dtls_allowed *
dtls_allowed_new(const char *const *entries, const char *origin, GError **error)
{
  dtls_allowed *a = g_new0(dtls_allowed, 1);
  a->entries = g_array_new(FALSE, TRUE, sizeof(allowed_entry));
  g_array_set_clear_func(a->entries, entry_clear);
  for (const char *const *t = entries; t && *t; t++) {
    allowed_entry e = { 0 };
    gboolean ok = entry_parse(&e, *t, origin, error);
    g_array_append_val(a->entries, e);
    if (!ok) {
      dtls_allowed_free(a);
      return NULL;
    }
  }
  return a;
}

void
dtls_allowed_free(dtls_allowed *a)
{
  if (!a)
    return;
  g_array_unref(a->entries);
  g_free(a);
}

gboolean
dtls_allowed_is_empty(const dtls_allowed *a)
{
  return a->entries->len == 0;
}

static gboolean
bound_here(const allowed_entry *e, struct in_addr from, const char *resolved_from)
{
  if (!e->host)
    return TRUE;
  if (e->host_is_addr)
    return e->addr.s_addr == from.s_addr;
  return resolved_from && g_ascii_strcasecmp(e->host, resolved_from) == 0;
}

dtls_allowed_verdict
dtls_allowed_check(const dtls_allowed *a, struct in_addr from, const char *resolved_from,
                   dtls_identity_match match, void *user, const char **expected)
{
  if (dtls_allowed_is_empty(a))
    return DTLS_ALLOWED;
  const allowed_entry *elsewhere = NULL;
  for (guint i = 0; i < a->entries->len; i++) {
    const allowed_entry *e = &g_array_index(a->entries, allowed_entry, i);
    if (!match(e->identity, user))
      continue;
    if (bound_here(e, from, resolved_from))
      return DTLS_ALLOWED;
    if (!elsewhere)
      elsewhere = e;
  }
  if (!elsewhere)
    return DTLS_UNLISTED;
  if (expected)
    *expected = elsewhere->host;
  return DTLS_WRONG_ADDRESS;
}

char *
dtls_peer_text(const char *text)
{
  GString *out = g_string_sized_new(32);
  size_t n = 0;
  for (const unsigned char *c = (const unsigned char *) text; *c; c++, n++) {
    if (n == DTLS_PEER_TEXT_MAX) {
      g_string_append(out, "...");
      break;
    }
    if (*c >= ' ' && *c < 0x7f && *c != '"' && *c != '\\')
      g_string_append_c(out, (char) *c);
    else
      g_string_append_printf(out, "\\x%02x", *c);
  }
  return g_string_free(out, FALSE);
}
