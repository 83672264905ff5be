/* snowsignal - UDP broadcast relay
 * classify.h: what a datagram arriving on the dtls port is, read from its
 * DTLS record headers alone (RFC 6347 section 4.1), before any per-peer
 * state is looked at.  Everything that is not a well-formed DTLS 1.0/1.2
 * record sequence is refused here, plaintext "SS" mesh messages included.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SNOWSIGNAL_DTLS_CLASSIFY_H
#define SNOWSIGNAL_DTLS_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

/* Record layer (RFC 6347 section 4.1). */
#define DTLS_RECORD_HLEN          13   /* type, version, epoch, sequence, length */
#define DTLS_CT_CHANGE_CIPHER     20
#define DTLS_CT_ALERT             21
#define DTLS_CT_HANDSHAKE         22
#define DTLS_CT_APPLICATION_DATA  23
#define DTLS_VERSION_MAJOR        0xfe
#define DTLS_VERSION_1_0_MINOR    0xff /* first ClientHellos carry this */
#define DTLS_VERSION_1_2_MINOR    0xfd
/* Handshake header (RFC 6347 section 4.2.2). */
#define DTLS_HANDSHAKE_HLEN       12
#define DTLS_HS_CLIENT_HELLO      1
#define DTLS_HS_HELLO_VERIFY      3

typedef enum {
  DTLS_CLASS_MALFORMED = 0,   /* not DTLS: no state is touched, it is dropped */
  DTLS_CLASS_CLIENT_HELLO,    /* epoch 0, a whole first ClientHello fragment */
  DTLS_CLASS_HANDSHAKE,       /* epoch 0, any other handshake, CCS or alert */
  DTLS_CLASS_PROTECTED        /* epoch > 0: only a session's keys can read it */
} dtls_class;

typedef struct {
  dtls_class cls;
  uint8_t content_type;       /* of the first record */
  uint16_t epoch;             /* of the first record */
  unsigned records;           /* records in the datagram */
} dtls_record_info;

/* Classifies datagram @buf of @len bytes.  Every record header must be
 * complete, with a known content type and a DTLS version, and the records
 * must fill the datagram exactly. */
dtls_class dtls_classify(const uint8_t *buf, size_t len, dtls_record_info *info);

/* A fixed English name of @cls, for log lines and tests. */
const char *dtls_class_to_string(dtls_class cls);

#endif
