# Test harness shared by unit and integration tests.
# GLib tests and the integration scripts all speak TAP.
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
TEST_EXTENSIONS = .sh
SH_LOG_DRIVER = $(LOG_DRIVER)
SH_LOG_COMPILER = $(SHELL)

# Tests load plugins from the build tree only: SNOWSIGNAL_PLUGIN_PATH is
# searched first, and SNOWSIGNAL_PLUGINDIR replaces the compiled-in plugindir
# so an installed copy is never picked up.
AM_TESTS_ENVIRONMENT = \
	export SNOWSIGNAL_PLUGIN_PATH='$(abs_top_builddir)/plugins:$(abs_top_builddir)/tests/fixtures'; \
	export SNOWSIGNAL_PLUGINDIR='$(abs_top_builddir)/plugins'; \
	export SNOWSIGNAL_METRICS_MODULE='$(abs_top_builddir)/daemon/metrics-http'; \
	export G_TEST_SRCDIR='$(abs_srcdir)'; \
	export G_TEST_BUILDDIR='$(abs_builddir)'; \
	export SS_TOP_SRCDIR='$(abs_top_srcdir)'; \
	export SS_TOP_BUILDDIR='$(abs_top_builddir)'; \
	export SS_CC='$(CC)' SS_GLIB_CFLAGS='$(GLIB_CFLAGS)'; \
	export G_DEBUG=gc-friendly; \
	export MALLOC_CHECK_=2; \
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0; \
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1; \
	export LSAN_OPTIONS=suppressions='$(abs_top_srcdir)/tests/lsan.supp'; \
	export LC_ALL=C.UTF-8; \
	export SNOWSIGNAL_CONTROL_SOCKET=;

EXTRA_DIST += tests/lsan.supp tests/summary.sh

# Prints "N passed, N failed, N skipped" from the test logs, so the last line
# of a test run states the totals.
check-summary:
	@$(SHELL) $(top_srcdir)/tests/summary.sh $(top_builddir)
.PHONY: check-summary

# The tests that need no namespaces (for `make distcheck` in CI, where the
# namespace tests have already run twice on the same tree).
print-unit-tests:
	@for t in $(TESTS); do case $$t in tests/integration/*) ;; *) echo "$$t" ;; esac; done
.PHONY: print-unit-tests
