/* snowsignal - UDP broadcast relay
 * txq.c: the dtls transport's send queue.  While send() encrypts a frame
 * for each peer, the records are queued here instead of leaving one
 * sendto() each, and the core's flush() sends the queue with one
 * sendmmsg() after its batch of send() calls (as udp-mesh does): one
 * system call per wake-up rather than per record and peer, and the peers
 * receive a burst in one wake-up too.  Handshake flights and keepalives
 * are not queued.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "dtls-plugin.h"

void
dtls_txq_setup(dtls_plugin *p)
{
  p->txq_buf = g_malloc((size_t) DTLS_TXQ_SLOTS * DTLS_TXQ_SLOT_BYTES);
  for (unsigned i = 0; i < DTLS_TXQ_SLOTS; i++) {
    p->txq_iov[i].iov_base = p->txq_buf + (size_t) i * DTLS_TXQ_SLOT_BYTES;
    p->txq_msgs[i].msg_hdr = (struct msghdr) { .msg_name = &p->txq_to[i],
                                               .msg_namelen = sizeof p->txq_to[i],
                                               .msg_iov = &p->txq_iov[i], .msg_iovlen = 1 };
  }
  p->txq_len = 0;
}

void
dtls_txq_clear(dtls_plugin *p)
{
  g_clear_pointer(&p->txq_buf, g_free);
  p->txq_len = 0;
}

void
dtls_txq_flush(dtls_plugin *p)
{
  unsigned done = 0;
  while (done < p->txq_len) {
    int n = sendmmsg(p->fd, p->txq_msgs + done, p->txq_len - done, MSG_DONTWAIT);
    if (n > 0) {
      done += (unsigned) n;
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    /* A full socket buffer loses the records, as the network may. */
    gboolean full = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS);
    ss_instance_count(p->inst, full ? "send_dropped" : "send_errors", p->txq_len - done);
    break;
  }
  p->txq_len = 0;
}

gboolean
dtls_txq_push(dtls_plugin *p, const struct sockaddr_in *to, const void *data, size_t len)
{
  if (!p->txq_buf || len > DTLS_TXQ_SLOT_BYTES)
    return FALSE;
  if (p->txq_len == DTLS_TXQ_SLOTS)
    dtls_txq_flush(p);
  unsigned i = p->txq_len++;
  memcpy(p->txq_iov[i].iov_base, data, len);
  p->txq_iov[i].iov_len = len;
  p->txq_to[i] = *to;
  return TRUE;
}
