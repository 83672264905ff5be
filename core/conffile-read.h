/* snowsignal - UDP broadcast relay
 * conffile-read.h: typed values out of libconfig settings, for conffile.c.
 *
 * Each reader checks the setting's type (and range), stores the value and
 * returns TRUE, or sets @error to "FILE:LINE: what was wrong and what is
 * expected" (SS_CONF_ERROR_INVALID) and returns FALSE, leaving the value
 * as it was.  Internal to the library (not exported: no ss_ prefix).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SS_CORE_CONFFILE_READ_H
#define SS_CORE_CONFFILE_READ_H

#include <stdint.h>
#include <glib.h>
#include <libconfig.h>

#include "conffile.h"

/* "FILE:LINE" of @s (the file @conf was read from when libconfig has none). */
char *conf_origin_of(const ss_conf *conf, const config_setting_t *s);
/* Sets @error to "FILE:LINE: message" (@s may be NULL: the file alone);
 * returns FALSE. */
gboolean conf_fail(GError **error, const ss_conf *conf, const config_setting_t *s,
                   const char *fmt, ...) G_GNUC_PRINTF(4, 5);
/* "an integer", "a string", ...: a libconfig type in words. */
const char *conf_type_name(int type);
/* Every member of @group is one of @allowed (NULL-terminated); @where
 * says which group in the message. */
gboolean conf_check_members(const ss_conf *conf, const config_setting_t *group,
                            const char *const *allowed, const char *where, GError **error);
/* A string, or a list of strings, as a NULL-terminated vector. */
gboolean conf_read_strv(const ss_conf *conf, const config_setting_t *s, char ***out,
                        GError **error);
gboolean conf_read_string(const ss_conf *conf, const config_setting_t *s, char **out,
                          GError **error);
gboolean conf_read_int(const ss_conf *conf, const config_setting_t *s, int64_t min, int64_t max,
                       int64_t *out, GError **error);
gboolean conf_read_bool(const ss_conf *conf, const config_setting_t *s, gboolean *out,
                        GError **error);
/* A port or a list of 1 to SS_MAX_BROADCAST_PORTS ports, as setting @what. */
gboolean conf_read_port_list(ss_conf *conf, const config_setting_t *s, const char *what,
                             uint16_t *ports, unsigned *n_ports, GError **error);

#endif
