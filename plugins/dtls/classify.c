/* snowsignal - UDP broadcast relay
 * classify.c: DTLS record classifier (see classify.h).  Reads headers only;
 * never trusts a length beyond the datagram.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>

#include "classify.h"

/* Offsets in a record header. */
#define REC_OFF_TYPE     0
#define REC_OFF_VERSION  1
#define REC_OFF_EPOCH    3
#define REC_OFF_LENGTH   11
/* Offsets in a handshake header, from the start of the record body. */
#define HS_OFF_TYPE      0
#define HS_OFF_FRAG_OFF  6

static unsigned
be16(const uint8_t *p)
{
  return (unsigned) p[0] << 8 | p[1];
}

static unsigned
be24(const uint8_t *p)
{
  return (unsigned) p[0] << 16 | (unsigned) p[1] << 8 | p[2];
}

static int
known_content_type(uint8_t t)
{
  return t == DTLS_CT_CHANGE_CIPHER || t == DTLS_CT_ALERT || t == DTLS_CT_HANDSHAKE ||
         t == DTLS_CT_APPLICATION_DATA;
}

static int
dtls_version(const uint8_t *p)
{
  return p[0] == DTLS_VERSION_MAJOR &&
         (p[1] == DTLS_VERSION_1_0_MINOR || p[1] == DTLS_VERSION_1_2_MINOR);
}

/* TRUE when the epoch-0 handshake record body @body of @len bytes starts a
 * ClientHello: type 1, fragment offset 0 (a first ClientHello always fits
 * one record, and the cookie check reads it whole). */
static int
is_client_hello(const uint8_t *body, size_t len)
{
  return len >= DTLS_HANDSHAKE_HLEN && body[HS_OFF_TYPE] == DTLS_HS_CLIENT_HELLO &&
         be24(body + HS_OFF_FRAG_OFF) == 0;
}

dtls_class
dtls_classify(const uint8_t *buf, size_t len, dtls_record_info *info)
{
  dtls_record_info local;
  if (!info)
    info = &local;
  memset(info, 0, sizeof *info);
  size_t off = 0;
  while (off < len) {
    if (len - off < DTLS_RECORD_HLEN)
      return info->cls = DTLS_CLASS_MALFORMED;
    const uint8_t *rec = buf + off;
    size_t body_len = be16(rec + REC_OFF_LENGTH);
    if (!known_content_type(rec[REC_OFF_TYPE]) || !dtls_version(rec + REC_OFF_VERSION) ||
        body_len > len - off - DTLS_RECORD_HLEN)
      return info->cls = DTLS_CLASS_MALFORMED;
    if (info->records++ == 0) {
      info->content_type = rec[REC_OFF_TYPE];
      info->epoch = (uint16_t) be16(rec + REC_OFF_EPOCH);
    }
    off += DTLS_RECORD_HLEN + body_len;
  }
  if (info->records == 0)
    return info->cls = DTLS_CLASS_MALFORMED;
  if (info->epoch != 0)
    return info->cls = DTLS_CLASS_PROTECTED;
  /* Application data exists only under keys: in epoch 0 it is forged. */
  if (info->content_type == DTLS_CT_APPLICATION_DATA)
    return info->cls = DTLS_CLASS_MALFORMED;
  if (info->content_type == DTLS_CT_HANDSHAKE &&
      is_client_hello(buf + DTLS_RECORD_HLEN, be16(buf + REC_OFF_LENGTH)))
    return info->cls = DTLS_CLASS_CLIENT_HELLO;
  return info->cls = DTLS_CLASS_HANDSHAKE;
}

const char *
dtls_class_to_string(dtls_class cls)
{
  switch (cls) {
  case DTLS_CLASS_CLIENT_HELLO: return "client hello";
  case DTLS_CLASS_HANDSHAKE: return "handshake";
  case DTLS_CLASS_PROTECTED: return "protected";
  default: return "malformed";
  }
}
