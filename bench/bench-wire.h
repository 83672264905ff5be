/* snowsignal bench - the datagram the bench sender and receiver share.
 *
 * A well-formed PVAccess search request (so that a pva-search filter in the
 * chain passes it) for one channel whose name carries the bench stamp:
 *
 *   PVA header (8)  magic 0xCA, version, flags (little-endian), SEARCH, size
 *   search body     searchSequenceID = bench sequence number, flags,
 *                   reserved, response address (zeros), response port,
 *                   protocols ["tcp"], 1 channel: id, name
 *   channel name    "SSB1", run id (u32), sequence (u32), send time (u64 ns,
 *                   CLOCK_MONOTONIC), then filler up to the name length
 *
 * Every multi-byte number is little-endian, as the header flags say.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SS_BENCH_WIRE_H
#define SS_BENCH_WIRE_H

#include <stdint.h>
#include <string.h>
#include <time.h>

#define BENCH_PVA_MAGIC        0xCA
#define BENCH_PVA_VERSION      2
#define BENCH_PVA_CMD_SEARCH   0x03
#define BENCH_PVA_HEADER_LEN   8
#define BENCH_PVA_PORT         5076
#define BENCH_PROTO            "tcp"
#define BENCH_PROTO_LEN        3

/* Offsets in the UDP payload. */
#define BENCH_OFF_SEARCH_ID    8
#define BENCH_OFF_RESP_PORT    32
#define BENCH_OFF_N_PROTOCOLS  34
#define BENCH_OFF_PROTO        35   /* size byte, then the bytes */
#define BENCH_OFF_N_CHANNELS   39
#define BENCH_OFF_CHANNEL_ID   41
#define BENCH_OFF_NAME_LEN     45
#define BENCH_OFF_NAME         46
#define BENCH_OFF_STAMP_MAGIC  (BENCH_OFF_NAME + 0)
#define BENCH_OFF_RUN_ID       (BENCH_OFF_NAME + 4)
#define BENCH_OFF_SEQ          (BENCH_OFF_NAME + 8)
#define BENCH_OFF_SENT_NS      (BENCH_OFF_NAME + 12)
#define BENCH_STAMP_LEN        20
#define BENCH_STAMP_MAGIC      "SSB1"
/* Channel names of PVA searches are typically a few tens of bytes. */
#define BENCH_NAME_LEN_DEFAULT 32
#define BENCH_NAME_LEN_MAX     200  /* fits the one-byte PVA size */

static inline void
bench_put_u16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t) v;
  p[1] = (uint8_t) (v >> 8);
}

static inline void
bench_put_u32(uint8_t *p, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t) (v >> (8 * i));
}

static inline void
bench_put_u64(uint8_t *p, uint64_t v)
{
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t) (v >> (8 * i));
}

static inline uint64_t
bench_get_le(const uint8_t *p, int n)
{
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

static inline uint64_t
bench_now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* Writes the fixed part of a search with a name of @name_len bytes into
 * @buf; returns the payload length.  The stamp is filled by bench_stamp(). */
static inline size_t
bench_build(uint8_t *buf, unsigned name_len, uint32_t run_id)
{
  size_t len = BENCH_OFF_NAME + name_len;
  memset(buf, 0, len);
  buf[0] = BENCH_PVA_MAGIC;
  buf[1] = BENCH_PVA_VERSION;
  buf[3] = BENCH_PVA_CMD_SEARCH;
  bench_put_u32(buf + 4, (uint32_t) (len - BENCH_PVA_HEADER_LEN));
  bench_put_u16(buf + BENCH_OFF_RESP_PORT, BENCH_PVA_PORT);
  buf[BENCH_OFF_N_PROTOCOLS] = 1;
  buf[BENCH_OFF_PROTO] = BENCH_PROTO_LEN;
  memcpy(buf + BENCH_OFF_PROTO + 1, BENCH_PROTO, BENCH_PROTO_LEN);
  bench_put_u16(buf + BENCH_OFF_N_CHANNELS, 1);
  buf[BENCH_OFF_NAME_LEN] = (uint8_t) name_len;
  memset(buf + BENCH_OFF_NAME, 'x', name_len);
  memcpy(buf + BENCH_OFF_STAMP_MAGIC, BENCH_STAMP_MAGIC, 4);
  bench_put_u32(buf + BENCH_OFF_RUN_ID, run_id);
  return len;
}

static inline void
bench_stamp(uint8_t *buf, uint32_t seq, uint64_t sent_ns)
{
  bench_put_u32(buf + BENCH_OFF_SEARCH_ID, seq);
  bench_put_u32(buf + BENCH_OFF_CHANNEL_ID, seq);
  bench_put_u32(buf + BENCH_OFF_SEQ, seq);
  bench_put_u64(buf + BENCH_OFF_SENT_NS, sent_ns);
}

#endif
