/* snowsignal - UDP broadcast relay
 * daemon/notify.h: telling the service manager how the daemon is doing.
 *
 * The notification protocol of sd_notify(3) and the watchdog settings of
 * sd_watchdog_enabled(3), spoken directly rather than through libsystemd:
 * the daemon needs only these three calls, and the library costs every
 * relay about a megabyte of resident memory.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SS_DAEMON_NOTIFY_H
#define SS_DAEMON_NOTIFY_H

#include <glib.h>

/* Sends @state ("READY=1", or several newline-separated VAR=value
 * assignments) as one datagram to the AF_UNIX socket NOTIFY_SOCKET names:
 * a filesystem path, or a socket in the abstract namespace when the name
 * starts with '@'.  TRUE when the datagram was sent.  FALSE when
 * NOTIFY_SOCKET is unset or empty (no service manager is listening: not an
 * error) or when the name is unusable or the send fails; the first such
 * failure of the process is logged as a warning, later ones are not. */
gboolean ss_notify(const char *state);

/* "RELOADING=1" with "MONOTONIC_USEC=", the CLOCK_MONOTONIC time in
 * microseconds at which the reload starts, as Type=notify-reload units
 * require.  Returns as ss_notify(). */
gboolean ss_notify_reloading(void);

/* The watchdog interval in microseconds the manager asks for in
 * WATCHDOG_USEC; 0 when there is none: WATCHDOG_USEC unset, empty or 0;
 * WATCHDOG_PID set to anything but this process's pid (the interval is
 * meant for another process); or WATCHDOG_USEC not a number (logged). */
guint64 ss_watchdog_usec(void);

#endif
