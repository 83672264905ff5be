# The plugin SDK test: stages `make install DESTDIR=...` of this build tree,
# builds examples/allowlist out of tree against the staged headers and
# snowsignal.pc, loads it into the staged daemon and relays through it in a
# two-segment namespace topology.  Needs root (it skips otherwise), like the
# other namespace tests; see tests/integration/local.mk.
TESTS += tests/integration/sdk.sh
dist_check_SCRIPTS += tests/integration/sdk.sh

# It installs and runs the whole build and the example's source.
tests/integration/sdk.log: snowsignal$(EXEEXT) $(lib_LTLIBRARIES) $(plugin_LTLIBRARIES) \
	$(SS_TEST_TOOLS) $(top_srcdir)/examples/allowlist/source-allowlist.c \
	$(top_srcdir)/examples/allowlist/Makefile
