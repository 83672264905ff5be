/* snowsignal - UDP broadcast relay
 * ca-search.c: the "ca-search" filter.  Passes a frame only when its UDP
 * payload is a well-formed EPICS Channel Access search (optionally a server
 * beacon), so a relay carrying port 5064 carries nothing else that port
 * happens to receive.
 *
 * Protocol facts (Channel Access protocol specification, version 4.13 as in
 * EPICS Base 3.14 and later; libca and rsrv define the behaviour on the
 * wire):
 *
 *   message = header(16) payload(payload size)
 *   header  = command(2) payload size(2) data type(2) data count(2)
 *             parameter 1(4) parameter 2(4), all unsigned, big endian
 *   payload = padded to a multiple of 8 bytes
 *
 * A payload size of 0xFFFF announces an extended header (two more 32-bit
 * fields with the real size and count), used by TCP for large arrays only.
 * A client's search datagram is a CA_PROTO_VERSION message (no payload)
 * followed by one or more CA_PROTO_SEARCH messages, each carrying one
 * NUL-terminated channel name padded to 8 bytes.  A server beacon
 * (CA_PROTO_RSRV_IS_UP, no payload) goes to the repeater port, 5065.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>
#include <snowsignal/snowsignal.h>

#include <string.h>

#define CA_HEADER_LEN         16
#define CA_PAYLOAD_ALIGN      8
#define CA_SIZE_OFFSET        2       /* payload size field, after the command */
#define CA_SIZE_EXTENDED      0xFFFF  /* the real size follows the header */

#define CA_PROTO_VERSION      0
#define CA_PROTO_SEARCH       6
#define CA_PROTO_RSRV_IS_UP   13

/* Why a datagram was dropped; each one is an instance counter. */
typedef enum {
  CA_OK = 0,
  CA_NO_PAYLOAD,      /* no UDP payload to look at */
  CA_TRUNCATED,       /* fewer bytes left than a message header */
  CA_EXTENDED,        /* an extended header: TCP-only */
  CA_BAD_SIZE,        /* payload size runs past the datagram */
  CA_UNALIGNED,       /* payload size not a multiple of 8 */
  CA_BAD_VERSION,     /* a VERSION message with a payload */
  CA_BAD_SEARCH,      /* search payload not one padded channel name */
  CA_BAD_BEACON,      /* a beacon with a payload */
  CA_BEACON,          /* a well-formed beacon, not allowed */
  CA_OTHER_COMMAND,
  CA_NO_REQUEST,      /* VERSION messages only, nothing to search */
  CA_N_CHECKS
} ca_check;

/* Counter names, static as ss_instance_count() requires. */
static const char *const ca_check_counter[CA_N_CHECKS] = {
  [CA_OK] = "ca_ok",
  [CA_NO_PAYLOAD] = "no_payload",
  [CA_TRUNCATED] = "truncated",
  [CA_EXTENDED] = "extended_header",
  [CA_BAD_SIZE] = "bad_size",
  [CA_UNALIGNED] = "unaligned_size",
  [CA_BAD_VERSION] = "bad_version",
  [CA_BAD_SEARCH] = "bad_search",
  [CA_BAD_BEACON] = "bad_beacon",
  [CA_BEACON] = "beacon",
  [CA_OTHER_COMMAND] = "not_search",
  [CA_NO_REQUEST] = "no_request",
};

static uint16_t
ca_get_u16(const uint8_t *p)
{
  return (uint16_t) ((p[0] << 8) | p[1]);
}

/* A search payload is exactly one channel name: not empty, NUL-terminated,
 * and padded to the next multiple of 8 and no further, as libca and every
 * other client write it.  The padding's content is not checked (the
 * specification only recommends zeros).  A server's search reply, which
 * carries a 2-byte protocol version where the name would be, starts with a
 * zero byte and so fails here too. */
static gboolean
ca_search_parses(const uint8_t *payload, size_t size)
{
  const uint8_t *nul;
  size_t name_len;

  if (size == 0 || payload[0] == '\0')
    return FALSE;
  nul = memchr(payload, '\0', size);
  if (nul == NULL)
    return FALSE;
  name_len = (size_t) (nul - payload);
  return size - (name_len + 1) < CA_PAYLOAD_ALIGN;
}

/* Checks one datagram: a sequence of whole messages, nothing left over.
 * Each must be a VERSION, a SEARCH, or (when @allow_beacons) a beacon, and
 * there must be at least one search or allowed beacon.  libca puts one
 * VERSION first; the order is not checked, because rsrv and the CA gateway
 * handle the messages of a datagram one by one.
 *
 * The header fields other than command and payload size (reply flag,
 * protocol version, search ids) are not checked: their meaning is the
 * receiver's business and no value of theirs can make it read more. */
static ca_check
ca_check_datagram(const uint8_t *data, size_t len, gboolean allow_beacons)
{
  size_t off = 0;
  gboolean have_request = FALSE;

  if (data == NULL || len == 0)
    return CA_NO_PAYLOAD;

  while (off < len) {
    const uint8_t *h = data + off;
    uint16_t command, size;

    if (len - off < CA_HEADER_LEN)
      return CA_TRUNCATED;
    command = ca_get_u16(h);
    size = ca_get_u16(h + CA_SIZE_OFFSET);
    /* The command first: junk on the port is counted as not CA, not as
     * whatever its third and fourth bytes happen to say about a size. */
    if (command != CA_PROTO_VERSION && command != CA_PROTO_SEARCH
        && command != CA_PROTO_RSRV_IS_UP)
      return CA_OTHER_COMMAND;
    if (size == CA_SIZE_EXTENDED)
      return CA_EXTENDED;
    if (size > len - off - CA_HEADER_LEN)
      return CA_BAD_SIZE;
    if (size % CA_PAYLOAD_ALIGN != 0)
      return CA_UNALIGNED;

    switch (command) {
    case CA_PROTO_VERSION:
      if (size != 0)
        return CA_BAD_VERSION;
      break;
    case CA_PROTO_SEARCH:
      if (!ca_search_parses(h + CA_HEADER_LEN, size))
        return CA_BAD_SEARCH;
      have_request = TRUE;
      break;
    default:                      /* CA_PROTO_RSRV_IS_UP */
      if (!allow_beacons)
        return CA_BEACON;
      if (size != 0)
        return CA_BAD_BEACON;
      have_request = TRUE;
      break;
    }
    off += CA_HEADER_LEN + (size_t) size;
  }
  return have_request ? CA_OK : CA_NO_REQUEST;
}


/* --- the plugin ---------------------------------------------------------- */

typedef struct {
  ss_instance *inst;
  gboolean allow_beacons;
} ca_search_state;

static void *
ca_search_new(ss_instance *inst, GError **error)
{
  ca_search_state *state = g_new0(ca_search_state, 1);

  state->inst = inst;
  state->allow_beacons = ss_instance_get_bool(inst, "allow_beacons");
  return state;
}

static void
ca_search_free(void *state)
{
  g_free(state);
}

static ss_verdict
ca_search_filter(void *data, ss_packet *pkt)
{
  ca_search_state *state = data;
  ca_check check = ca_check_datagram(pkt->payload, pkt->payload_len, state->allow_beacons);

  if (check == CA_OK)
    return SS_VERDICT_PASS;
  ss_instance_count(state->inst, ca_check_counter[check], 1);
  if (ss_log_enabled(G_LOG_LEVEL_DEBUG))
    SS_LOG(ss_instance_get_log_domain(state->inst), G_LOG_LEVEL_DEBUG,
           "frame is not a CA search, dropped",
           "INSTANCE", ss_instance_get_name(state->inst),
           "REASON", ca_check_counter[check]);
  return SS_VERDICT_DROP;
}

static const ss_plugin_key ca_search_keys[] = {
  { "allow_beacons", SS_KEY_BOOL, "false",
    "Also pass well-formed Channel Access beacons (CA_PROTO_RSRV_IS_UP, which "
    "servers send to port 5065; add that port to broadcast_ports too).  Off by "
    "default: a client finds a server by searching, and relayed beacons only add "
    "traffic on every segment.",
    0, 0, { NULL, NULL } },
  SS_KEY_END
};

static const ss_plugin_desc ca_search_desc = {
  SS_PLUGIN_DESC_HEADER,
  .kind = SS_PLUGIN_FILTER,
  .name = "ca-search",
  .version = PACKAGE_VERSION,
  .description = "passes only well-formed Channel Access search requests (and beacons if asked)",
  .keys = ca_search_keys,
  .instance_new = ca_search_new,
  .instance_free = ca_search_free,
  .filter = ca_search_filter,
};

SS_PLUGIN_DEFINE(ca_search, ca_search_desc)
