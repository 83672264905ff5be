/* snowsignal - UDP broadcast relay
 * source-allowlist.c: an example filter plugin, built outside the snowsignal
 * tree against the installed SDK (see README and Makefile in this folder).
 *
 * "source-allowlist" passes only frames whose IPv4 source address lies in
 * one of the configured prefixes and drops every other frame.  Put it in the
 * outbound chain to relay only the searches of known clients, or in the
 * inbound chain to re-emit only what comes from known subnets:
 *
 *   { name = "clients"; plugin = "source-allowlist";
 *     allow = [ "10.1.0.0/16", "192.168.7.12" ]; }
 *
 * A prefix is an IPv4 address, optionally followed by "/" and a length of
 * 0 to 32 (no length means /32).  The address must be the network address
 * of its prefix ("10.1.2.3/16" is refused, write "10.1.0.0/16"), so that a
 * typo cannot silently widen or narrow the list.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <snowsignal/snowsignal.h>

#define ALLOWLIST_VERSION "1.0.0"

/* One allowed prefix, both in host byte order. */
typedef struct {
  uint32_t network;
  uint32_t mask;
} prefix;

typedef struct {
  ss_instance *inst;
  prefix *prefixes;
  size_t n_prefixes;
} allowlist_state;

/* Errors of instance_new().  Plugins link only against glib-2.0 (not gio),
 * so the plugin has its own error domain. */
static GQuark
allowlist_error_quark(void)
{
  return g_quark_from_static_string("snowsignal-source-allowlist-error");
}

/* Parses "a.b.c.d" or "a.b.c.d/len" into @out.  On failure returns FALSE
 * and sets *@why to a static phrase saying what is wrong. */
static gboolean
parse_prefix(const char *text, prefix *out, const char **why)
{
  const char *slash = strchr(text, '/');
  size_t addr_len = slash ? (size_t) (slash - text) : strlen(text);
  char addr_text[INET_ADDRSTRLEN];
  struct in_addr addr;
  unsigned long len = 32;

  if (addr_len == 0 || addr_len >= sizeof addr_text) {
    *why = "expected an IPv4 address such as 10.1.0.0, optionally followed by /LENGTH";
    return FALSE;
  }
  memcpy(addr_text, text, addr_len);
  addr_text[addr_len] = '\0';
  if (inet_pton(AF_INET, addr_text, &addr) != 1) {
    *why = "the address is not a dotted-quad IPv4 address";
    return FALSE;
  }
  if (slash) {
    const char *digits = slash + 1;
    char *end = NULL;
    if (*digits < '0' || *digits > '9') {
      *why = "the prefix length after '/' must be a number from 0 to 32";
      return FALSE;
    }
    errno = 0;
    len = strtoul(digits, &end, 10);
    if (errno != 0 || *end != '\0' || len > 32) {
      *why = "the prefix length after '/' must be a number from 0 to 32";
      return FALSE;
    }
  }
  out->mask = len == 0 ? 0 : 0xffffffffu << (32 - len);
  out->network = ntohl(addr.s_addr);
  if ((out->network & ~out->mask) != 0) {
    *why = "the address has bits set beyond the prefix length; "
           "write the network address of the prefix";
    return FALSE;
  }
  return TRUE;
}

static void *
allowlist_new(ss_instance *inst, GError **error)
{
  const char *const *allow = ss_instance_get_string_list(inst, "allow");
  const char *origin = ss_instance_get_key_origin(inst, "allow");
  size_t n = allow ? g_strv_length((char **) allow) : 0;

  if (n == 0) {
    g_set_error(error, allowlist_error_quark(), 0,
                "%s: 'allow' is empty, so every frame would be dropped; "
                "list at least one IPv4 prefix such as \"10.1.0.0/16\"", origin);
    return NULL;
  }

  allowlist_state *state = g_new0(allowlist_state, 1);
  state->inst = inst;
  state->prefixes = g_new0(prefix, n);
  for (size_t i = 0; i < n; i++) {
    const char *why = NULL;
    if (!parse_prefix(allow[i], &state->prefixes[i], &why)) {
      g_set_error(error, allowlist_error_quark(), 0,
                  "%s: 'allow' entry %zu, \"%s\", is not a valid IPv4 prefix: %s",
                  origin, i + 1, allow[i], why);
      g_free(state->prefixes);
      g_free(state);
      return NULL;
    }
  }
  state->n_prefixes = n;
  return state;
}

static void
allowlist_free(void *data)
{
  allowlist_state *state = data;

  g_free(state->prefixes);
  g_free(state);
}

/* The hot path: a linear scan, no allocation, no blocking.  Lists of a few
 * dozen prefixes cost less than the copy of the frame that follows. */
static ss_verdict
allowlist_filter(void *data, ss_packet *pkt)
{
  allowlist_state *state = data;
  uint32_t src = ntohl(pkt->ip_src);

  for (size_t i = 0; i < state->n_prefixes; i++)
    if ((src & state->prefixes[i].mask) == state->prefixes[i].network)
      return SS_VERDICT_PASS;

  ss_instance_count(state->inst, "not_allowed", 1);
  if (ss_log_enabled(G_LOG_LEVEL_DEBUG)) {
    char src_text[INET_ADDRSTRLEN];
    struct in_addr a = { .s_addr = pkt->ip_src };
    inet_ntop(AF_INET, &a, src_text, sizeof src_text);
    SS_LOG(ss_instance_get_log_domain(state->inst), G_LOG_LEVEL_DEBUG,
           "frame from a source outside the allowlist dropped",
           "INSTANCE", ss_instance_get_name(state->inst), "SOURCE", src_text);
  }
  return SS_VERDICT_DROP;
}

static const ss_plugin_key allowlist_keys[] = {
  { .name = "allow", .type = SS_KEY_STRING_LIST, .default_value = NULL,
    .help = "IPv4 prefixes whose frames pass, e.g. [ \"10.1.0.0/16\", \"192.168.7.12\" ]; "
            "frames from any other source are dropped" },
  SS_KEY_END
};

static const ss_plugin_desc allowlist_desc = {
  SS_PLUGIN_DESC_HEADER,
  .kind = SS_PLUGIN_FILTER,
  .name = "source-allowlist",
  .version = ALLOWLIST_VERSION,
  .description = "passes only frames whose IPv4 source is inside one of the allowed prefixes",
  .keys = allowlist_keys,
  .instance_new = allowlist_new,
  .instance_free = allowlist_free,
  .filter = allowlist_filter,
};

SS_PLUGIN_DEFINE(source_allowlist, allowlist_desc)
