/* tool-pattern.c - the test datagrams' payload pattern and the Internet
 * checksum, shared by ss-udp-send and ss-udp-listen (tool-pattern.h).
 */
#include <config.h>

#include <netinet/in.h>
#include <string.h>

#include "tool-pattern.h"

void
tool_pattern_fill (uint8_t *buf, size_t len, uint32_t seq)
{
  if (len < PAT_HDR_LEN) {
    for (size_t i = 0; i < len; i++)
      buf[i] = (uint8_t) (PAT_SHORT_BASE + i);
    return;
  }
  buf[0] = PAT_MAGIC0;
  buf[1] = PAT_MAGIC1;
  tool_put16 (buf + 2, (uint16_t) (seq >> 16));
  tool_put16 (buf + 4, (uint16_t) seq);
  tool_put16 (buf + 6, (uint16_t) len);
  for (size_t i = PAT_HDR_LEN; i < len; i++)
    buf[i] = (uint8_t) (seq + i);
}

gboolean
tool_pattern_check (const uint8_t *p, size_t len, long long *seq)
{
  *seq = -1;
  if (len < PAT_HDR_LEN) {
    for (size_t i = 0; i < len; i++)
      if (p[i] != (uint8_t) (PAT_SHORT_BASE + i))
        return FALSE;
    return TRUE;
  }
  if (p[0] != PAT_MAGIC0 || p[1] != PAT_MAGIC1)
    return FALSE;
  uint32_t s = (uint32_t) tool_get16 (p + 2) << 16 | tool_get16 (p + 4);
  *seq = s;
  if (tool_get16 (p + 6) != (uint16_t) len)
    return FALSE;
  for (size_t i = PAT_HDR_LEN; i < len; i++)
    if (p[i] != (uint8_t) (s + i))
      return FALSE;
  return TRUE;
}

uint32_t
tool_csum_add (uint32_t sum, const uint8_t *p, size_t len)
{
  for (size_t i = 0; i + 1 < len; i += 2)
    sum += (uint32_t) (p[i] << 8 | p[i + 1]);
  if (len & 1)
    sum += (uint32_t) (p[len - 1] << 8);
  return sum;
}

static uint32_t
fold (uint32_t sum)
{
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

uint16_t
tool_csum_fold (uint32_t sum)
{
  return (uint16_t) ~fold (sum);
}

gboolean
tool_csum_ok (uint32_t sum)
{
  return fold (sum) == 0xffff;
}

uint32_t
tool_udp_csum_sum (const uint8_t *src, const uint8_t *dst, const uint8_t *udp, size_t udplen)
{
  uint8_t pseudo[12] = { 0 };
  memcpy (pseudo, src, 4);
  memcpy (pseudo + 4, dst, 4);
  pseudo[9] = IPPROTO_UDP;
  tool_put16 (pseudo + 10, (uint16_t) udplen);
  return tool_csum_add (tool_csum_add (0, pseudo, sizeof pseudo), udp, udplen);
}
