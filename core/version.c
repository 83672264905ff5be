/* snowsignal - UDP broadcast relay
 * version.c: the library's run-time version.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <snowsignal/version.h>

const char *
ss_version_string(void)
{
  return SS_VERSION_STRING;
}
