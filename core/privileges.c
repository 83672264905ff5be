/* snowsignal - UDP broadcast relay
 * privileges.c: giving up root once the sockets are open.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <glib.h>

#include "privileges.h"

static gboolean
fail(GError **error, const char *user, const char *what)
{
  int e = errno;
  g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot switch to user %s: %s: %s",
              user, what, g_strerror(e));
  return FALSE;
}

/* capset(2) directly: libcap would be a dependency for one call. */
static int
keep_only_net_raw(void)
{
  struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { { 0, 0, 0 } };
  data[CAP_TO_INDEX(CAP_NET_RAW)].effective = CAP_TO_MASK(CAP_NET_RAW);
  data[CAP_TO_INDEX(CAP_NET_RAW)].permitted = CAP_TO_MASK(CAP_NET_RAW);
  return (int) syscall(SYS_capset, &hdr, data);
}

/* Empties the capability bounding set but for CAP_NET_RAW, so that nothing
 * the relay runs later (there is nothing it execs, but a plugin could) can
 * gain another capability from a file's capabilities or a setuid binary.
 * Needs CAP_SETPCAP: done while still root. */
static int
bound_to_net_raw(void)
{
  for (int cap = 0;; cap++) {
    int in = prctl(PR_CAPBSET_READ, (unsigned long) cap, 0L, 0L, 0L);
    if (in < 0)
      return errno == EINVAL ? 0 : -1; /* EINVAL: past the kernel's last capability */
    if (in && cap != CAP_NET_RAW && prctl(PR_CAPBSET_DROP, (unsigned long) cap, 0L, 0L, 0L) < 0)
      return -1;
  }
}

gboolean
ss_drop_privileges(const char *user, GError **error)
{
  errno = 0;
  struct passwd *pw = getpwnam(user);
  if (!pw) {
    if (errno == 0)
      errno = ENOENT;
    return fail(error, user, "no such user");
  }
  /* Already that user: a reload after the first start. */
  if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid)
    return TRUE;
  if (bound_to_net_raw() < 0)
    return fail(error, user, "prctl(PR_CAPBSET_DROP)");
  if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) < 0)
    return fail(error, user, "prctl(PR_SET_KEEPCAPS)");
  if (setgroups(0, NULL) < 0)
    return fail(error, user, "setgroups");
  if (setgid(pw->pw_gid) < 0)
    return fail(error, user, "setgid");
  if (setuid(pw->pw_uid) < 0)
    return fail(error, user, "setuid");
  if (keep_only_net_raw() < 0)
    return fail(error, user, "capset(CAP_NET_RAW)");
  prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L);
  /* Ambient capabilities would survive an exec: none. And no exec may
   * ever give back a privilege (setuid binaries, file capabilities). */
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0L, 0L, 0L) < 0 && errno != EINVAL)
    return fail(error, user, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0)
    return fail(error, user, "prctl(PR_SET_NO_NEW_PRIVS)");
  /* Root must be gone for good: a setuid(0) that works is a bug here. */
  if (pw->pw_uid != 0 && setuid(0) == 0) {
    errno = EPERM;
    return fail(error, user, "root could be regained");
  }
  return TRUE;
}
