/* relay-fixture.c - a relay built from configuration text, for unit tests
 * (relay-fixture.h). */
#include <config.h>

#include "conffile.h"
#include "relay-fixture.h"

static ss_relay *
relay_from_text(const char *label, const char *text, GError **error)
{
  ss_conf *conf = ss_conf_load_string(text, label, error);
  return conf ? ss_relay_new(conf, error) : NULL;   /* which takes @conf */
}

ss_relay *
relay_fixture_try(GError **error, const char *label, const char *format, ...)
{
  va_list args;
  va_start(args, format);
  g_autofree char *text = g_strdup_vprintf(format, args);
  va_end(args);
  return relay_from_text(label, text, error);
}

ss_relay *
relay_fixture_new(const char *label, const char *format, ...)
{
  va_list args;
  va_start(args, format);
  g_autofree char *text = g_strdup_vprintf(format, args);
  va_end(args);
  GError *error = NULL;
  ss_relay *relay = relay_from_text(label, text, &error);
  g_assert_no_error(error);
  g_assert_nonnull(relay);
  return relay;
}

ss_instance *
relay_fixture_instance(ss_relay *relay, const char *name)
{
  ss_instance *inst = ss_relay_find_instance(relay, name);
  if (!inst)
    g_error("the relay has no instance \"%s\"", name);
  return inst;
}

ss_relay *
relay_fixture_filter(const char *plugin, const char *name, const char *settings,
                     gboolean inbound, ss_instance **inst)
{
  ss_relay *relay = relay_fixture_new("test.conf",
                                      "version = 1;\n"
                                      "interface = \"eth0\";\n"
                                      "instances = (\n"
                                      "  { name = \"%s\"; plugin = \"%s\"; %s }\n"
                                      ");\n"
                                      "outbound = [ \"%s\" ];\n"
                                      "inbound = [ %s%s%s ];\n"
                                      "transports = [ ];\n",
                                      name, plugin, settings, name,
                                      inbound ? "\"" : "", inbound ? name : "", inbound ? "\"" : "");
  *inst = relay_fixture_instance(relay, name);
  return relay;
}
