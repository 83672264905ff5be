/* ca-proto.h - the Channel Access messages the integration tests' CA search
 * client and responder (ca-search.c, ca-responder.c) write and read,
 * written from the CA protocol specification independently of
 * plugins/ca-search.c, so that the tools check the plugin rather than share
 * its mistakes.
 *
 * message = header(16) payload(padded to 8), all fields big endian:
 *   command(2) payload size(2) data type(2) data count(2) parameter 1(4)
 *   parameter 2(4)
 */
#ifndef SNOWSIGNAL_TESTS_CA_PROTO_H
#define SNOWSIGNAL_TESTS_CA_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define CA_HDR_LEN 16
#define CA_ALIGN 8
#define CA_MINOR_VERSION 13 /* protocol 4.13, EPICS Base 3.14 and later */
#define CA_SERVER_PORT 5064 /* searches (UDP) and the server's TCP port */
#define CA_REPEATER_PORT 5065 /* beacons */

#define CA_CMD_VERSION 0
#define CA_CMD_SEARCH 6
#define CA_CMD_RSRV_IS_UP 13

#define CA_DONT_REPLY 5        /* search reply flag: broadcast, no NOT_FOUND */
#define CA_ADDR_FROM_SOURCE 0xFFFFFFFFu /* reply: "the server is the UDP source" */

typedef struct {
  uint16_t command, size, type, count;
  uint32_t p1, p2;
} ca_hdr;

static inline size_t
ca_padded (size_t n)
{
  return (n + CA_ALIGN - 1) / CA_ALIGN * CA_ALIGN;
}

static inline void
ca_put_u16 (uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t) (v >> 8);
  p[1] = (uint8_t) v;
}

static inline void
ca_put_u32 (uint8_t *p, uint32_t v)
{
  ca_put_u16 (p, (uint16_t) (v >> 16));
  ca_put_u16 (p + 2, (uint16_t) v);
}

static inline uint16_t
ca_get_u16_be (const uint8_t *p)
{
  return (uint16_t) ((p[0] << 8) | p[1]);
}

static inline uint32_t
ca_get_u32_be (const uint8_t *p)
{
  return ((uint32_t) ca_get_u16_be (p) << 16) | ca_get_u16_be (p + 2);
}

/* Writes a header at @p. */
static inline void
ca_put_hdr (uint8_t *p, const ca_hdr *h)
{
  ca_put_u16 (p, h->command);
  ca_put_u16 (p + 2, h->size);
  ca_put_u16 (p + 4, h->type);
  ca_put_u16 (p + 6, h->count);
  ca_put_u32 (p + 8, h->p1);
  ca_put_u32 (p + 12, h->p2);
}

static inline void
ca_get_hdr (const uint8_t *p, ca_hdr *h)
{
  h->command = ca_get_u16_be (p);
  h->size = ca_get_u16_be (p + 2);
  h->type = ca_get_u16_be (p + 4);
  h->count = ca_get_u16_be (p + 6);
  h->p1 = ca_get_u32_be (p + 8);
  h->p2 = ca_get_u32_be (p + 12);
}

/* The header and payload of a message at @off of a @len-byte datagram;
 * FALSE when it does not fit (an extended header never does: it is
 * TCP-only).  @off moves past the message. */
static inline int
ca_next_message (const uint8_t *d, size_t len, size_t *off, ca_hdr *h, const uint8_t **payload)
{
  if (len - *off < CA_HDR_LEN)
    return 0;
  ca_get_hdr (d + *off, h);
  if (h->size > len - *off - CA_HDR_LEN)
    return 0;
  *payload = d + *off + CA_HDR_LEN;
  *off += CA_HDR_LEN + h->size;
  return 1;
}

#endif
