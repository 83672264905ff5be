/* snowsignal - UDP broadcast relay
 * notify.c: the service manager notification protocol (sd_notify(3)) and
 * its watchdog settings, without libsystemd.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <snowsignal/log.h>
#include "log.h"
#include "notify.h"

#define NOTIFY_SOCKET_VAR "NOTIFY_SOCKET"
#define WATCHDOG_USEC_VAR "WATCHDOG_USEC"
#define WATCHDOG_PID_VAR  "WATCHDOG_PID"
/* NOTIFY_SOCKET="@name" is the abstract socket "\0name" (unix(7)). */
#define ABSTRACT_SOCKET_PREFIX '@'
#define NOTIFY_SEND_TIMEOUT_S 2

/* The watchdog pings every few seconds: when the manager cannot be reached,
 * one line saying so is enough. */
static gboolean failure_logged;

static void
log_failure(const char *socket_name, const char *reason)
{
  if (failure_logged)
    return;
  failure_logged = TRUE;
  SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
         "cannot notify the service manager; further failures are not logged", "PATH",
         socket_name, "ERROR", reason);
}

/* Fills @addr with the socket NOTIFY_SOCKET names and returns the address
 * length, or 0 with @reason set when the name is not one this daemon can
 * send to (systemd only ever gives an absolute path or "@name"). */
static socklen_t
notify_address(const char *name, struct sockaddr_un *addr, const char **reason)
{
  size_t len = strlen(name);
  memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  if (name[0] == '/') {
    if (len >= sizeof addr->sun_path) {
      *reason = "the path is longer than an AF_UNIX address holds (107 bytes)";
      return 0;
    }
    memcpy(addr->sun_path, name, len + 1);
    return (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len + 1);
  }
  if (name[0] == ABSTRACT_SOCKET_PREFIX) {
    if (len < 2) {
      *reason = "an abstract socket needs a name after '@'";
      return 0;
    }
    if (len > sizeof addr->sun_path) {
      *reason = "the abstract socket name is longer than an AF_UNIX address holds (107 bytes)";
      return 0;
    }
    /* The name is the leading NUL and exactly the bytes after the '@':
     * a terminating NUL would be part of it. */
    addr->sun_path[0] = '\0';
    memcpy(addr->sun_path + 1, name + 1, len - 1);
    return (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len);
  }
  *reason = "NOTIFY_SOCKET is neither an absolute path nor an abstract socket ('@name')";
  return 0;
}

gboolean
ss_notify(const char *state)
{
  const char *name = g_getenv(NOTIFY_SOCKET_VAR);
  if (!name || !*name)
    return FALSE;
  struct sockaddr_un addr;
  const char *reason = NULL;
  socklen_t addr_len = notify_address(name, &addr, &reason);
  if (!addr_len) {
    log_failure(name, reason);
    return FALSE;
  }
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    log_failure(name, g_strerror(errno));
    return FALSE;
  }
  /* READY=1 and the other state changes wait (up to
   * NOTIFY_SEND_TIMEOUT_S) for a manager whose queue is full: a lost
   * READY=1 would fail the start.  A watchdog ping never waits: the next
   * one follows, and the relay's loop is not held up for it. */
  gboolean ping = g_str_has_prefix(state, "WATCHDOG=");
  if (!ping) {
    struct timeval tv = { NOTIFY_SEND_TIMEOUT_S, 0 };
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  ssize_t sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL | (ping ? MSG_DONTWAIT : 0),
                        (const struct sockaddr *) &addr, addr_len);
  int send_errno = errno;
  close(fd);
  if (sent < 0) {
    log_failure(name, g_strerror(send_errno));
    return FALSE;
  }
  return TRUE;
}

gboolean
ss_notify_reloading(void)
{
  struct timespec now = { 0 };
  clock_gettime(CLOCK_MONOTONIC, &now);
  guint64 usec = (guint64) now.tv_sec * G_USEC_PER_SEC + (guint64) now.tv_nsec / 1000;
  char state[64];
  g_snprintf(state, sizeof state, "RELOADING=1\nMONOTONIC_USEC=%" G_GUINT64_FORMAT, usec);
  return ss_notify(state);
}

guint64
ss_watchdog_usec(void)
{
  const char *usec_text = g_getenv(WATCHDOG_USEC_VAR);
  const char *pid_text = g_getenv(WATCHDOG_PID_VAR);
  guint64 usec = 0, pid = 0;
  if (!usec_text || !*usec_text)
    return 0;
  /* Set by the manager for the process it started; a child of that process
   * (or a process it exec'd after a fork) inherits it and must not ping. */
  if (pid_text && *pid_text &&
      (!g_ascii_string_to_unsigned(pid_text, 10, 1, G_MAXINT, &pid, NULL) ||
       pid != (guint64) getpid()))
    return 0;
  if (!g_ascii_string_to_unsigned(usec_text, 10, 0, G_MAXUINT64, &usec, NULL)) {
    SS_LOG(SS_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
           "WATCHDOG_USEC is not a number of microseconds; the watchdog is not pinged",
           "VALUE", usec_text);
    return 0;
  }
  return usec;
}
