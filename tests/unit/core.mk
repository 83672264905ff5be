# Unit tests of the core, and the fixture plugins the loader tests use.
include tests/fixtures/local.mk

CORE_TESTS = \
	tests/unit/test-conffile \
	tests/unit/test-loader \
	tests/unit/test-instance \
	tests/unit/test-chain \
	tests/unit/test-options \
	tests/unit/test-notify \
	tests/unit/test-log \
	tests/unit/test-control \
	tests/unit/test-resolve
check_PROGRAMS += $(CORE_TESTS)
TESTS += $(CORE_TESTS)

CORE_TEST_LDADD = $(top_builddir)/libsnowsignal.la $(GLIB_LIBS)
tests_unit_test_conffile_LDADD = $(CORE_TEST_LDADD)
tests_unit_test_loader_LDADD = $(CORE_TEST_LDADD)
# relay-fixture.c: a relay built from configuration text.
tests_unit_test_instance_SOURCES = tests/unit/test-instance.c \
	tests/unit/relay-fixture.c tests/unit/relay-fixture.h
tests_unit_test_instance_LDADD = $(CORE_TEST_LDADD)
tests_unit_test_chain_SOURCES = tests/unit/test-chain.c \
	tests/unit/relay-fixture.c tests/unit/relay-fixture.h
tests_unit_test_chain_LDADD = $(CORE_TEST_LDADD)
# The daemon's command line, control socket and notify.c (daemon/local.mk).
tests_unit_test_options_SOURCES = tests/unit/test-options.c daemon/options.c daemon/options.h
tests_unit_test_options_CPPFLAGS = $(DAEMON_TEST_CPPFLAGS)
tests_unit_test_options_LDADD = $(CORE_TEST_LDADD)
tests_unit_test_resolve_LDADD = $(CORE_TEST_LDADD)
tests_unit_test_log_LDADD = $(CORE_TEST_LDADD)
tests_unit_test_control_SOURCES = tests/unit/test-control.c daemon/control.c daemon/control.h
tests_unit_test_control_CPPFLAGS = $(DAEMON_TEST_CPPFLAGS)
tests_unit_test_control_CFLAGS = $(AM_CFLAGS) $(GIO_CFLAGS)
tests_unit_test_control_LDADD = $(CORE_TEST_LDADD) $(GIO_LIBS)
# The daemon's notify.c (included by the test, which is its manager).
tests_unit_test_notify_CPPFLAGS = $(DAEMON_TEST_CPPFLAGS)
tests_unit_test_notify_LDADD = $(CORE_TEST_LDADD)

# The daemon's command line and lifecycle (a namespace with a veth
# interface; skips without root).  Shares the integration tests' library.
TESTS += tests/integration/daemon.sh
dist_check_SCRIPTS += tests/integration/daemon.sh

# Peer discovery (SERVICENAME, /etc/netns hosts), netlink host changes,
# local senders, no peers and self_send, environment-only start.
TESTS += tests/integration/peers-and-host.sh
dist_check_SCRIPTS += tests/integration/peers-and-host.sh

# Reload on SIGHUP under traffic, good and broken configurations.
TESTS += tests/integration/reload.sh
dist_check_SCRIPTS += tests/integration/reload.sh
TESTS += tests/integration/overflow.sh
dist_check_SCRIPTS += tests/integration/overflow.sh

# The status subcommand over the control socket; dropping root (--user).
TESTS += tests/integration/status-and-user.sh
dist_check_SCRIPTS += tests/integration/status-and-user.sh

# The control socket under slow and silent clients while traffic flows.
TESTS += tests/integration/control.sh
dist_check_SCRIPTS += tests/integration/control.sh

# The sd_notify protocol: READY, RELOADING, WATCHDOG, STOPPING to a
# stand-in manager, over a path and an abstract socket.
TESTS += tests/integration/notify.sh
dist_check_SCRIPTS += tests/integration/notify.sh

# Interoperability with the original Python SnowSignal 0.1.x, both ways;
# skips unless SS_ORIGINAL_DIR points at it (see the script's header).
TESTS += tests/integration/interop-original.sh
dist_check_SCRIPTS += tests/integration/interop-original.sh

# The metrics exposition and metrics_listen's parser (daemon/metrics*.c);
# tests/integration/metrics.sh scrapes the endpoint itself.
check_PROGRAMS += tests/unit/test-metrics
TESTS += tests/unit/test-metrics
tests_unit_test_metrics_SOURCES = tests/unit/test-metrics.c \
	daemon/metrics.c daemon/metrics-server.c daemon/metrics.h daemon/metrics-http.h \
	tests/unit/relay-fixture.c tests/unit/relay-fixture.h
tests_unit_test_metrics_CPPFLAGS = $(DAEMON_TEST_CPPFLAGS)
tests_unit_test_metrics_LDADD = $(CORE_TEST_LDADD) $(LTDL_LIBS)
