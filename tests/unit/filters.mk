# Unit tests of the filter plugins.  Each builds a relay from a config text
# (relay-fixture.c), so the plugins themselves are loaded from the build tree
# (SNOWSIGNAL_PLUGIN_PATH, tests/local.mk); they are plugin_LTLIBRARIES and
# so built by `make all`, before `make check` builds and runs these.
FILTER_TESTS = \
	tests/unit/test-mac-self \
	tests/unit/test-ip-self \
	tests/unit/test-pva-search \
	tests/unit/test-ca-search
check_PROGRAMS += $(FILTER_TESTS)
TESTS += $(FILTER_TESTS)

tests_unit_test_mac_self_SOURCES = tests/unit/test-mac-self.c \
	tests/unit/frame-builder.c tests/unit/frame-builder.h \
	tests/unit/relay-fixture.c tests/unit/relay-fixture.h
tests_unit_test_mac_self_LDADD = $(top_builddir)/libsnowsignal.la $(GLIB_LIBS)

tests_unit_test_ip_self_SOURCES = tests/unit/test-ip-self.c \
	tests/unit/frame-builder.c tests/unit/frame-builder.h \
	tests/unit/relay-fixture.c tests/unit/relay-fixture.h
tests_unit_test_ip_self_LDADD = $(top_builddir)/libsnowsignal.la $(GLIB_LIBS)

# Includes plugins/pva-search.c to test its static parser directly.
tests_unit_test_pva_search_SOURCES = tests/unit/test-pva-search.c \
	tests/unit/frame-builder.c tests/unit/frame-builder.h \
	tests/unit/relay-fixture.c tests/unit/relay-fixture.h
tests_unit_test_pva_search_LDADD = $(top_builddir)/libsnowsignal.la $(GLIB_LIBS)

# Includes plugins/ca-search.c to test its static parser directly.
tests_unit_test_ca_search_SOURCES = tests/unit/test-ca-search.c \
	tests/unit/frame-builder.c tests/unit/frame-builder.h \
	tests/unit/relay-fixture.c tests/unit/relay-fixture.h
tests_unit_test_ca_search_LDADD = $(top_builddir)/libsnowsignal.la $(GLIB_LIBS)

# A test run straight after editing a plugin must not load a stale module:
# each test depends on the plugin it loads.
EXTRA_tests_unit_test_mac_self_DEPENDENCIES = plugins/mac-self.la
EXTRA_tests_unit_test_ip_self_DEPENDENCIES = plugins/ip-self.la
EXTRA_tests_unit_test_pva_search_DEPENDENCIES = plugins/pva-search.la
EXTRA_tests_unit_test_ca_search_DEPENDENCIES = plugins/ca-search.la
