/* snowsignal - UDP broadcast relay
 * instance-socket.c: socket services of the core for transports — a
 * receive buffer as large as asked for (or a notice saying why not), and
 * the kernel's count of datagrams it dropped for want of room.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>
#include <sys/socket.h>

#include <snowsignal/log.h>
#include "instance-private.h"
#include "log.h"

gboolean
ss_instance_set_receive_buffer(ss_instance *inst, int fd, int bytes)
{
  int got = 0, one = 1;
  socklen_t len = sizeof got;
  /* A new socket's drop count starts at zero. */
  inst->socket_drops_seen = 0;
  setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  /* The kernel reports twice what it was given (its bookkeeping). */
  if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) < 0 || got / 2 >= bytes)
    return TRUE;
  char have[32], asked[32];
  g_snprintf(have, sizeof have, "%d KiB", got / 2 / 1024);
  g_snprintf(asked, sizeof asked, "%d KiB", bytes / 1024);
  SS_LOG(ss_instance_get_log_domain(inst), G_LOG_LEVEL_MESSAGE,
         "the socket's receive buffer is smaller than asked for; bursts may be dropped "
         "(counted as receive_dropped)",
         "INSTANCE", inst->name, "BUFFER", have, "ASKED", asked, "HINT",
         "raise the sysctl net.core.rmem_max to at least the size asked for");
  return FALSE;
}

void
ss_instance_note_socket_drops(ss_instance *inst, const struct msghdr *msg)
{
  if (!msg->msg_controllen)
    return;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR((struct msghdr *) msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SO_RXQ_OVFL)
      continue;
    uint32_t total;
    memcpy(&total, CMSG_DATA(c), sizeof total);
    uint32_t n = total - inst->socket_drops_seen; /* wraps as the kernel's count does */
    if (!n)
      return;
    inst->socket_drops_seen = total;
    inst->socket_drops_unlogged += n;
    inst->socket_drops_total += n;
    ss_instance_count(inst, "receive_dropped", n);
    /* A warning at most every SS_LOG_LIMIT_DEFAULT_S seconds, with the sum
     * of the drops since the last one (they are always counted). */
    if (!ss_log_limit_allow(&inst->socket_drops_log, NULL))
      return;
    char dropped[24], sum[24];
    g_snprintf(dropped, sizeof dropped, "%" G_GUINT64_FORMAT, inst->socket_drops_unlogged);
    g_snprintf(sum, sizeof sum, "%" G_GUINT64_FORMAT, inst->socket_drops_total);
    inst->socket_drops_unlogged = 0;
    SS_LOG(ss_instance_get_log_domain(inst), G_LOG_LEVEL_WARNING,
           "the socket's receive buffer was full: the kernel dropped datagrams "
           "(the relay did not get enough CPU)",
           "INSTANCE", inst->name, "DROPPED", dropped, "TOTAL", sum);
    return;
  }
}
