/* snowsignal - UDP broadcast relay
 * config.h: the settings a plugin declares, and how it reads them.
 *
 * Plugins never see libconfig: they declare their keys in the descriptor and
 * read validated values through these accessors.  The core has already
 * checked every key's type and range and filled in defaults, so an accessor
 * called for a declared key always returns a value.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SNOWSIGNAL_CONFIG_H
#define SNOWSIGNAL_CONFIG_H

#include <stdint.h>
#include <glib.h>

G_BEGIN_DECLS

typedef struct ss_instance ss_instance;

typedef enum {
  SS_KEY_NONE = 0,        /* ends a key list */
  SS_KEY_BOOL,            /* true / false */
  SS_KEY_INT,             /* integer within [min, max] */
  SS_KEY_STRING,          /* "text" */
  SS_KEY_STRING_LIST      /* [ "a", "b" ] */
} ss_key_type;

/* One setting a plugin accepts.  @default_value is written as it would be in
 * snowsignal.conf ("true", "7124", "\"text\"" is not needed: plain text for
 * strings, comma-separated for lists); NULL means the key is required. */
typedef struct ss_plugin_key {
  const char *name;
  ss_key_type type;
  const char *default_value;
  const char *help;
  int64_t min;            /* SS_KEY_INT only; min == max == 0 means no range */
  int64_t max;
  void *reserved[2];
} ss_plugin_key;

#define SS_KEY_END { NULL, SS_KEY_NONE, NULL, NULL, 0, 0, { NULL, NULL } }

/* Accessors.  Calling one for an undeclared key, or with the wrong type, is a
 * programming error: it logs a critical and returns FALSE / 0 / NULL. */
gboolean ss_instance_get_bool(const ss_instance *inst, const char *key);
int64_t ss_instance_get_int(const ss_instance *inst, const char *key);
const char *ss_instance_get_string(const ss_instance *inst, const char *key);
/* NULL-terminated; may be empty, never NULL for a declared list key. */
const char *const *ss_instance_get_string_list(const ss_instance *inst, const char *key);

/* Where the key was set ("snowsignal.conf:42"), or "default". For messages. */
const char *ss_instance_get_key_origin(const ss_instance *inst, const char *key);

const char *ss_key_type_to_string(ss_key_type type);

G_END_DECLS

#endif /* SNOWSIGNAL_CONFIG_H */
