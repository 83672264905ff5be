/* snowsignal - UDP broadcast relay
 * snowsignal.h: everything a plugin author includes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SNOWSIGNAL_SNOWSIGNAL_H
#define SNOWSIGNAL_SNOWSIGNAL_H

#include <snowsignal/version.h>
#include <snowsignal/packet.h>
#include <snowsignal/config.h>
#include <snowsignal/plugin.h>
#include <snowsignal/log.h>

#endif /* SNOWSIGNAL_SNOWSIGNAL_H */
