/* snowsignal - UDP broadcast relay
 * privileges.h: giving up root once the sockets are open.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SS_CORE_PRIVILEGES_H
#define SS_CORE_PRIVILEGES_H

#include <glib.h>

/* Call before any thread exists: capabilities are per thread.
 * Switches to @user (its uid, primary gid, no supplementary groups) and
 * keeps only CAP_NET_RAW, which a reload needs to open a packet socket on
 * a changed interface.  Everything else root had is gone for good: the
 * bounding set holds CAP_NET_RAW alone, no ambient capabilities, and
 * PR_SET_NO_NEW_PRIVS is set, so no exec can gain a privilege back. */
gboolean ss_drop_privileges(const char *user, GError **error);

#endif
