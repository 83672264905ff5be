# The plugin SDK test: stages `make install DESTDIR=...` of this build tree,
# builds examples/allowlist and examples/hmac-mesh out of tree against the
# staged headers and snowsignal.pc, loads them into the staged daemon and
# relays through them between namespace segments.  Needs root (it skips
# otherwise), like the other namespace tests; see tests/integration/local.mk.
TESTS += tests/integration/sdk.sh
dist_check_SCRIPTS += tests/integration/sdk.sh

# It installs and runs the whole build and the examples' sources.
tests/integration/sdk.log: snowsignal$(EXEEXT) $(lib_LTLIBRARIES) $(plugin_LTLIBRARIES) \
	$(SS_TEST_TOOLS) $(top_srcdir)/examples/allowlist/source-allowlist.c \
	$(top_srcdir)/examples/allowlist/Makefile \
	$(top_srcdir)/examples/hmac-mesh/hmac-mesh.c $(top_srcdir)/examples/hmac-mesh/Makefile

# ... and runs after every other test: `make install` has libtool relink the
# plugin modules, which moves each plugins/.libs/NAME.so aside for a moment,
# and a test loading the plugins of the build tree at that moment would fail
# (make -j check).  The logs of all the other tests (TEST_LOGS, computed the
# way automake does, without this test) are its prerequisites.
ss_sdk_other_tests = $(TESTS:tests/integration/sdk.sh=)
ss_sdk_other_logs = $(ss_sdk_other_tests:=.log)
tests/integration/sdk.log: $(ss_sdk_other_logs:.sh.log=.log)
