/* tool-pattern.h - what ss-udp-send writes and ss-udp-listen checks: the
 * payload pattern of test datagrams, and the Internet checksum (RFC 1071)
 * of IPv4 and UDP headers, which the sender computes for the datagrams it
 * builds and the listener verifies on the frames it captures.  GLib and
 * libc only, never libsnowsignal: what the tools check stays independent
 * of the code under test.
 */
#ifndef SNOWSIGNAL_TESTS_TOOL_PATTERN_H
#define SNOWSIGNAL_TESTS_TOOL_PATTERN_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

/* A payload of at least PAT_HDR_LEN bytes: the magic "ST", the sequence
 * number (4 bytes) and the payload length (2 bytes), both big-endian, then
 * filler byte i = (uint8_t) (seq + i).  A shorter payload is filler only:
 * byte i = PAT_SHORT_BASE + i. */
#define PAT_MAGIC0 0x53 /* 'S' */
#define PAT_MAGIC1 0x54 /* 'T' */
#define PAT_HDR_LEN 8
#define PAT_SHORT_BASE 0xA0

/* Fills buf[0..len) with the pattern for sequence number @seq. */
void tool_pattern_fill (uint8_t *buf, size_t len, uint32_t seq);

/* TRUE when p[0..len) is the pattern of its own sequence number and
 * length; *seq is that number, or -1 when the payload is too short to
 * carry one. */
gboolean tool_pattern_check (const uint8_t *p, size_t len, long long *seq);

/* Big-endian 16-bit fields. */
static inline uint16_t
tool_get16 (const uint8_t *p)
{
  return (uint16_t) (p[0] << 8 | p[1]);
}

static inline void
tool_put16 (uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t) (v >> 8);
  p[1] = (uint8_t) v;
}

/* One's complement sum of p[0..len) added to @sum, not yet folded. */
uint32_t tool_csum_add (uint32_t sum, const uint8_t *p, size_t len);

/* The checksum to write into a header whose bytes summed to @sum (the
 * checksum field zero meanwhile). */
uint16_t tool_csum_fold (uint32_t sum);

/* TRUE when @sum, taken over the bytes with their checksum field, verifies. */
gboolean tool_csum_ok (uint32_t sum);

/* The sum over the UDP pseudo-header (IPv4 source @src and destination
 * @dst, 4 bytes each in network order, protocol, @udplen) and the UDP
 * header and payload at @udp. */
uint32_t tool_udp_csum_sum (const uint8_t *src, const uint8_t *dst, const uint8_t *udp,
                            size_t udplen);

#endif /* SNOWSIGNAL_TESTS_TOOL_PATTERN_H */
