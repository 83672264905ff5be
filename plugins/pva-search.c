/* snowsignal - UDP broadcast relay
 * pva-search.c: the "pva-search" filter.  Passes a frame only when its UDP
 * payload is a well-formed PVAccess search request (optionally a beacon), so
 * the relay never carries anything else a broadcast port happens to receive.
 *
 * Protocol facts (PVAccess protocol specification; PVXS and pvAccessCPP as
 * the implementations that define the behaviour on the wire):
 *
 *   message = header(8) payload(size)
 *   header  = 0xCA, version, flags, command, size (4 bytes, in the message's
 *             byte order)
 *   flags   bit 0  control message (1) / application message (0)
 *           bits 4-5 segmentation: 00 not segmented, 01 first, 11 middle,
 *                  10 last
 *           bit 6  sent by server (1) / client (0)
 *           bit 7  byte order: big endian (1) / little endian (0)
 *
 * One UDP datagram may hold several messages back to back.  PVXS forwards a
 * search it received by unicast to the other local processes over loopback
 * multicast with an ORIGIN_TAG message (a 16-byte address) in front of it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>
#include <snowsignal/snowsignal.h>

#include <string.h>

#define PVA_HEADER_LEN        8
#define PVA_MAGIC             0xCA
/* Version 0 predates the released protocol; PVXS ignores it, so do we. */
#define PVA_VERSION_MIN       1

#define PVA_FLAG_CONTROL      0x01
#define PVA_FLAG_SEGMENT_MASK 0x30
#define PVA_FLAG_BIG_ENDIAN   0x80

#define PVA_CMD_BEACON        0x00
#define PVA_CMD_SEARCH        0x03
#define PVA_CMD_ORIGIN_TAG    0x16

/* "Size" encoding: values below PVA_SIZE_LONG are the size itself;
 * PVA_SIZE_LONG is followed by a 4-byte size (a 4-byte 0x7fffffff would
 * announce an 8-byte size, which cannot fit a datagram and so fails the
 * length check below); PVA_SIZE_NULL is "null", an absent string. */
#define PVA_SIZE_LONG         0xFE
#define PVA_SIZE_NULL         0xFF

/* Fixed parts of the payloads. */
#define PVA_ADDRESS_LEN       16   /* IPv6, or IPv4-mapped IPv6 */
#define PVA_PORT_LEN          2
#define PVA_SEARCH_ID_LEN     4
#define PVA_SEARCH_FLAGS_LEN  1
#define PVA_SEARCH_RESERVED   3
#define PVA_CHANNEL_ID_LEN    4
#define PVA_GUID_LEN          12
/* beacon: flags(1), beaconSequenceID(1), changeCount(2) */
#define PVA_BEACON_MISC_LEN   4

/* Why a datagram was dropped; each one is an instance counter. */
typedef enum {
  PVA_OK = 0,
  PVA_NO_PAYLOAD,     /* no UDP payload to look at */
  PVA_TRUNCATED,      /* fewer bytes left than a message header */
  PVA_BAD_MAGIC,
  PVA_BAD_VERSION,
  PVA_CONTROL,        /* control messages are TCP-only */
  PVA_SEGMENTED,      /* segmentation is TCP-only */
  PVA_BAD_SIZE,       /* payload size runs past the datagram */
  PVA_BAD_SEARCH,
  PVA_BAD_BEACON,
  PVA_BAD_ORIGIN_TAG,
  PVA_BEACON,         /* a well-formed beacon, not allowed */
  PVA_OTHER_COMMAND,
  PVA_NO_REQUEST,     /* only an ORIGIN_TAG, nothing it tags */
  PVA_N_CHECKS
} pva_check;

/* Counter names, static as ss_instance_count() requires. */
static const char *const pva_check_counter[PVA_N_CHECKS] = {
  [PVA_OK] = "pva_ok",
  [PVA_NO_PAYLOAD] = "no_payload",
  [PVA_TRUNCATED] = "truncated",
  [PVA_BAD_MAGIC] = "bad_magic",
  [PVA_BAD_VERSION] = "bad_version",
  [PVA_CONTROL] = "control_message",
  [PVA_SEGMENTED] = "segmented",
  [PVA_BAD_SIZE] = "bad_size",
  [PVA_BAD_SEARCH] = "bad_search",
  [PVA_BAD_BEACON] = "bad_beacon",
  [PVA_BAD_ORIGIN_TAG] = "bad_origin_tag",
  [PVA_BEACON] = "beacon",
  [PVA_OTHER_COMMAND] = "not_search",
  [PVA_NO_REQUEST] = "no_request",
};

/* A bounded cursor over one message payload. */
typedef struct {
  const uint8_t *p;
  size_t left;
  gboolean big_endian;
} pva_reader;

static gboolean
pva_skip(pva_reader *r, size_t n)
{
  if (n > r->left)
    return FALSE;
  r->p += n;
  r->left -= n;
  return TRUE;
}

static gboolean
pva_read_u8(pva_reader *r, uint8_t *v)
{
  if (r->left < 1)
    return FALSE;
  *v = r->p[0];
  return pva_skip(r, 1);
}

static gboolean
pva_read_u16(pva_reader *r, uint16_t *v)
{
  if (r->left < 2)
    return FALSE;
  if (r->big_endian)
    *v = (uint16_t) ((r->p[0] << 8) | r->p[1]);
  else
    *v = (uint16_t) ((r->p[1] << 8) | r->p[0]);
  return pva_skip(r, 2);
}

static uint32_t
pva_get_u32(const uint8_t *p, gboolean big_endian)
{
  if (big_endian)
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
  return ((uint32_t) p[3] << 24) | ((uint32_t) p[2] << 16) | ((uint32_t) p[1] << 8) | p[0];
}

static gboolean
pva_read_u32(pva_reader *r, uint32_t *v)
{
  if (r->left < 4)
    return FALSE;
  *v = pva_get_u32(r->p, r->big_endian);
  return pva_skip(r, 4);
}

/* A "Size".  @is_null tells a null apart from a zero size. */
static gboolean
pva_read_size(pva_reader *r, uint32_t *size, gboolean *is_null)
{
  uint8_t first;

  *is_null = FALSE;
  if (!pva_read_u8(r, &first))
    return FALSE;
  if (first == PVA_SIZE_NULL) {
    *is_null = TRUE;
    *size = 0;
    return TRUE;
  }
  if (first == PVA_SIZE_LONG)
    return pva_read_u32(r, size);
  *size = first;
  return TRUE;
}

/* A string is a Size and that many bytes; a null string is an empty one,
 * as the receivers read it. */
static gboolean
pva_skip_string(pva_reader *r)
{
  uint32_t len;
  gboolean is_null;

  return pva_read_size(r, &len, &is_null) && pva_skip(r, len);
}

/* searchRequest: searchSequenceID, flags, reserved, responseAddress,
 * responsePort, protocols (Size count of strings), channels (2-byte count of
 * channel id + name).  Bytes left over inside the message are refused: every
 * implementation sizes the message to exactly its fields, and a relay
 * should not carry data no receiver reads. */
static gboolean
pva_search_parses(pva_reader *r)
{
  uint32_t n_protocols, channel_id;
  uint16_t n_channels;
  gboolean is_null;

  if (!pva_skip(r, PVA_SEARCH_ID_LEN + PVA_SEARCH_FLAGS_LEN + PVA_SEARCH_RESERVED
                   + PVA_ADDRESS_LEN + PVA_PORT_LEN))
    return FALSE;
  /* A null count is no count at all: the receivers would read garbage. */
  if (!pva_read_size(r, &n_protocols, &is_null) || is_null)
    return FALSE;
  for (uint32_t i = 0; i < n_protocols; i++) {
    if (!pva_skip_string(r))
      return FALSE;
  }
  if (!pva_read_u16(r, &n_channels))
    return FALSE;
  for (unsigned i = 0; i < n_channels; i++) {
    if (!pva_read_u32(r, &channel_id) || !pva_skip_string(r))
      return FALSE;
  }
  return r->left == 0;
}

/* beacon: guid, flags, beaconSequenceID, changeCount, serverAddress,
 * serverPort, protocol, then the server status (a pvData type description
 * and value).  The status is left unparsed, as PVXS does: it needs a full
 * pvData decoder, and the bytes are bounded by the message size anyway. */
static gboolean
pva_beacon_parses(pva_reader *r)
{
  return pva_skip(r, PVA_GUID_LEN + PVA_BEACON_MISC_LEN + PVA_ADDRESS_LEN + PVA_PORT_LEN)
         && pva_skip_string(r);
}

/* Checks one datagram: a sequence of whole messages, nothing left over.
 * An ORIGIN_TAG may come first; then each message must be a search (or a
 * beacon when @allow_beacons), and there must be at least one.
 *
 * Control messages and segmentation are refused: they belong to the TCP
 * stream, and PVXS drops any datagram that carries them.  The server/client
 * direction bit is not checked, because no receiver checks it.
 *
 * An ORIGIN_TAG only ever travels to the loopback multicast group, so
 * seeing one on a segment is odd; it is passed (with its search) because
 * pvAccessCPP receivers honour it, while PVXS receivers will ignore the
 * datagram when it does not arrive through loopback. */
static pva_check
pva_check_datagram(const uint8_t *data, size_t len, gboolean allow_beacons)
{
  size_t off = 0;
  unsigned n_messages = 0;
  gboolean have_request = FALSE;

  if (data == NULL || len == 0)
    return PVA_NO_PAYLOAD;

  while (off < len) {
    const uint8_t *h = data + off;
    uint8_t flags, command;
    uint32_t size;
    pva_reader body;

    if (len - off < PVA_HEADER_LEN)
      return PVA_TRUNCATED;
    if (h[0] != PVA_MAGIC)
      return PVA_BAD_MAGIC;
    if (h[1] < PVA_VERSION_MIN)
      return PVA_BAD_VERSION;
    flags = h[2];
    command = h[3];
    if (flags & PVA_FLAG_CONTROL)
      return PVA_CONTROL;
    if (flags & PVA_FLAG_SEGMENT_MASK)
      return PVA_SEGMENTED;
    size = pva_get_u32(h + 4, (flags & PVA_FLAG_BIG_ENDIAN) != 0);
    if (size > len - off - PVA_HEADER_LEN)
      return PVA_BAD_SIZE;

    body.p = h + PVA_HEADER_LEN;
    body.left = size;
    body.big_endian = (flags & PVA_FLAG_BIG_ENDIAN) != 0;

    switch (command) {
    case PVA_CMD_ORIGIN_TAG:
      /* One tag, in front; PVXS skips any bytes past the address. */
      if (n_messages != 0 || size < PVA_ADDRESS_LEN)
        return PVA_BAD_ORIGIN_TAG;
      break;
    case PVA_CMD_SEARCH:
      if (!pva_search_parses(&body))
        return PVA_BAD_SEARCH;
      have_request = TRUE;
      break;
    case PVA_CMD_BEACON:
      if (!allow_beacons)
        return PVA_BEACON;
      if (!pva_beacon_parses(&body))
        return PVA_BAD_BEACON;
      have_request = TRUE;
      break;
    default:
      return PVA_OTHER_COMMAND;
    }
    off += PVA_HEADER_LEN + (size_t) size;
    n_messages++;
  }
  return have_request ? PVA_OK : PVA_NO_REQUEST;
}


/* --- decoding for the log (log_only, the daemon's --decode-pvaccess) ------- */

/* Appends a string's bytes, at most a log line's worth; FALSE past the
 * message. */
static gboolean
pva_read_string(pva_reader *r, GString *out)
{
  uint32_t len;
  gboolean is_null;
  if (!pva_read_size(r, &len, &is_null) || len > r->left)
    return FALSE;
  g_string_append_len(out, (const char *) r->p, MIN(len, 256u));
  return pva_skip(r, len);
}

/* "a.b.c.d:port" for an IPv4-mapped address, "[v6]:port" otherwise; all
 * zeros means "the packet's source" in a search. */
static void
pva_format_address(const uint8_t addr[PVA_ADDRESS_LEN], uint16_t port, char *out, size_t cap)
{
  static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
  if (memcmp(addr, mapped, sizeof mapped) == 0)
    g_snprintf(out, cap, "%u.%u.%u.%u:%u", addr[12], addr[13], addr[14], addr[15], port);
  else {
    GString *s = g_string_new("[");
    for (unsigned i = 0; i < PVA_ADDRESS_LEN; i += 2)
      g_string_append_printf(s, "%s%x", i ? ":" : "", (addr[i] << 8) | addr[i + 1]);
    g_snprintf(out, cap, "%s]:%u", s->str, port);
    g_string_free(s, TRUE);
  }
}

static void
pva_log_search(const ss_instance *inst, pva_reader *r, const char *from)
{
  uint32_t seq, n_protocols, id;
  uint16_t port, n_channels;
  uint8_t addr[PVA_ADDRESS_LEN];
  gboolean is_null;
  g_autoptr(GString) names = g_string_new(NULL);
  if (!pva_read_u32(r, &seq) || !pva_skip(r, PVA_SEARCH_FLAGS_LEN + PVA_SEARCH_RESERVED) ||
      r->left < PVA_ADDRESS_LEN)
    return;
  memcpy(addr, r->p, PVA_ADDRESS_LEN);
  if (!pva_skip(r, PVA_ADDRESS_LEN) || !pva_read_u16(r, &port) ||
      !pva_read_size(r, &n_protocols, &is_null))
    return;
  for (uint32_t i = 0; i < n_protocols; i++) {
    g_autoptr(GString) skip = g_string_new(NULL);
    if (!pva_read_string(r, skip))
      return;
  }
  if (!pva_read_u16(r, &n_channels))
    return;
  for (unsigned i = 0; i < n_channels; i++) {
    if (names->len)
      g_string_append_c(names, ',');
    if (!pva_read_u32(r, &id) || !pva_read_string(r, names))
      return;
  }
  char seq_text[16], reply[80];
  g_snprintf(seq_text, sizeof seq_text, "%u", seq);
  pva_format_address(addr, port, reply, sizeof reply);
  SS_LOG(ss_instance_get_log_domain(inst), G_LOG_LEVEL_INFO, "PVA search",
         "INSTANCE", ss_instance_get_name(inst), "FROM", from, "SEQUENCE", seq_text,
         "REPLY_TO", reply, "CHANNELS", names->str);
}

static void
pva_log_beacon(const ss_instance *inst, pva_reader *r, const char *from)
{
  uint8_t addr[PVA_ADDRESS_LEN];
  uint16_t port;
  char guid[2 * PVA_GUID_LEN + 1], server[80];
  if (r->left < PVA_GUID_LEN + PVA_BEACON_MISC_LEN + PVA_ADDRESS_LEN)
    return;
  for (unsigned i = 0; i < PVA_GUID_LEN; i++)
    g_snprintf(guid + 2 * i, 3, "%02x", r->p[i]);
  pva_skip(r, PVA_GUID_LEN + PVA_BEACON_MISC_LEN);
  memcpy(addr, r->p, PVA_ADDRESS_LEN);
  pva_skip(r, PVA_ADDRESS_LEN);
  g_autoptr(GString) protocol = g_string_new(NULL);
  if (!pva_read_u16(r, &port) || !pva_read_string(r, protocol))
    return;
  pva_format_address(addr, port, server, sizeof server);
  SS_LOG(ss_instance_get_log_domain(inst), G_LOG_LEVEL_INFO, "PVA beacon",
         "INSTANCE", ss_instance_get_name(inst), "FROM", from, "GUID", guid, "SERVER", server,
         "PROTOCOL", protocol->str);
}

/* Logs each search and beacon of a datagram at info; anything that does
 * not decode is skipped (pva_check_datagram() judges, this only tells). */
static void
pva_log_datagram(const ss_instance *inst, const ss_packet *pkt)
{
  char from[32];
  const uint8_t *a = (const uint8_t *) &pkt->ip_src;
  g_snprintf(from, sizeof from, "%u.%u.%u.%u:%u", a[0], a[1], a[2], a[3], pkt->udp_src_port);
  size_t off = 0;
  while (pkt->payload && pkt->payload_len - off >= PVA_HEADER_LEN) {
    const uint8_t *h = pkt->payload + off;
    gboolean big_endian = (h[2] & PVA_FLAG_BIG_ENDIAN) != 0;
    uint32_t size = pva_get_u32(h + 4, big_endian);
    if (h[0] != PVA_MAGIC || size > pkt->payload_len - off - PVA_HEADER_LEN)
      return;
    pva_reader body = { h + PVA_HEADER_LEN, size, big_endian };
    if (!(h[2] & (PVA_FLAG_CONTROL | PVA_FLAG_SEGMENT_MASK))) {
      if (h[3] == PVA_CMD_SEARCH)
        pva_log_search(inst, &body, from);
      else if (h[3] == PVA_CMD_BEACON)
        pva_log_beacon(inst, &body, from);
    }
    off += PVA_HEADER_LEN + (size_t) size;
  }
}

/* --- the plugin ---------------------------------------------------------- */

typedef struct {
  ss_instance *inst;
  gboolean allow_beacons;
  gboolean log_only;
} pva_search_state;

static void *
pva_search_new(ss_instance *inst, GError **error)
{
  pva_search_state *state = g_new0(pva_search_state, 1);

  state->inst = inst;
  state->allow_beacons = ss_instance_get_bool(inst, "allow_beacons");
  state->log_only = ss_instance_get_bool(inst, "log_only");
  return state;
}

static void
pva_search_free(void *state)
{
  g_free(state);
}

static ss_verdict
pva_search_filter(void *data, ss_packet *pkt)
{
  pva_search_state *state = data;
  if (state->log_only) {
    if (ss_log_enabled(G_LOG_LEVEL_INFO))
      pva_log_datagram(state->inst, pkt);
    return SS_VERDICT_PASS;
  }
  pva_check check = pva_check_datagram(pkt->payload, pkt->payload_len, state->allow_beacons);

  if (check == PVA_OK)
    return SS_VERDICT_PASS;
  ss_instance_count(state->inst, pva_check_counter[check], 1);
  if (ss_log_enabled(G_LOG_LEVEL_DEBUG))
    SS_LOG(ss_instance_get_log_domain(state->inst), G_LOG_LEVEL_DEBUG,
           "frame is not a PVA search, dropped",
           "INSTANCE", ss_instance_get_name(state->inst),
           "REASON", pva_check_counter[check]);
  return SS_VERDICT_DROP;
}

static const ss_plugin_key pva_search_keys[] = {
  { "allow_beacons", SS_KEY_BOOL, "false",
    "Also pass well-formed PVA beacons (servers announcing themselves).  Off by "
    "default: a client finds a server by searching, and relayed beacons only add "
    "traffic on every segment.",
    0, 0, { NULL, NULL } },
  { "log_only", SS_KEY_BOOL, "false",
    "Drop nothing: log each PVA search (sequence, reply address, channel names) and beacon "
    "(GUID, server) at info instead.  snowsignal --decode-pvaccess puts one in front of the "
    "outbound chain, as SnowSignal's flag of that name does.",
    0, 0, { NULL, NULL } },
  SS_KEY_END
};

static const ss_plugin_desc pva_search_desc = {
  SS_PLUGIN_DESC_HEADER,
  .kind = SS_PLUGIN_FILTER,
  .name = "pva-search",
  .version = PACKAGE_VERSION,
  .description = "passes only well-formed PVAccess search requests (and beacons if asked)",
  .keys = pva_search_keys,
  .instance_new = pva_search_new,
  .instance_free = pva_search_free,
  .filter = pva_search_filter,
};

SS_PLUGIN_DEFINE(pva_search, pva_search_desc)
