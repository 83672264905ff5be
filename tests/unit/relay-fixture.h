/* relay-fixture.h - a relay built from configuration text, for the unit
 * tests of the core and of the plugins.
 *
 * ss_relay_new() loads the plugins the text names (from the build tree:
 * tests/local.mk points SNOWSIGNAL_PLUGIN_PATH there), creates their
 * instances with the settings checked and builds the chains, but opens no
 * socket, so a test can run a chain or one instance's filter on frames it
 * builds, and read the counters, without privileges or a network.
 */
#ifndef SNOWSIGNAL_TESTS_RELAY_FIXTURE_H
#define SNOWSIGNAL_TESTS_RELAY_FIXTURE_H

#include <glib.h>

#include "relay.h"
#include "instance.h"

/* The relay the configuration text @format (printf-style) describes, its
 * errors naming @label as the file ("c.conf:3: ..."); NULL with @error set
 * when the text or the relay is refused. */
ss_relay *relay_fixture_try(GError **error, const char *label, const char *format, ...)
  G_GNUC_PRINTF(3, 4);

/* The same for a text that must be accepted: the test fails otherwise. */
ss_relay *relay_fixture_new(const char *label, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* The instance @name of @relay; the test fails when there is none. */
ss_instance *relay_fixture_instance(ss_relay *relay, const char *name);

/* How a plugin test sees a filter: a relay (errors name "test.conf") on
 * interface "eth0", without transports, whose only instance is @name of
 * @plugin with @settings (written inside its braces, "" for none), alone in
 * the outbound chain and, when @inbound, in the inbound chain too.  The
 * instance is returned in *@inst. */
ss_relay *relay_fixture_filter(const char *plugin, const char *name, const char *settings,
                               gboolean inbound, ss_instance **inst);

#endif /* SNOWSIGNAL_TESTS_RELAY_FIXTURE_H */
