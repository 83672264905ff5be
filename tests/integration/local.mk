# Namespace integration tests: real relays on virtual networks made by the
# tests themselves (network namespaces, veth pairs, bridges, a router).  They
# need root; without it they skip.  TAP producers, run by the TAP driver of
# tests/local.mk (SH_LOG_DRIVER).
include tests/tools/local.mk

INTEGRATION_TESTS = \
	tests/integration/two-segments.sh \
	tests/integration/mesh4.sh \
	tests/integration/mesh-safety.sh \
	tests/integration/vlan.sh \
	tests/integration/peers-cap.sh \
	tests/integration/rate-limit.sh \
	tests/integration/newer-snowsignal.sh \
	tests/integration/per-port.sh \
	tests/integration/peer-health.sh \
	tests/integration/metrics.sh \
	tests/integration/config-watch.sh \
	tests/integration/ca.sh
TESTS += $(INTEGRATION_TESTS)
dist_check_SCRIPTS += $(INTEGRATION_TESTS)
EXTRA_DIST += tests/integration/lib.sh

# The TAP driver takes "1..0 # SKIP" plus exit 0 as a skip but reports any
# other exit status (77 included) as an error; run by hand, the scripts exit 77.
AM_TESTS_ENVIRONMENT += export SS_SKIP_EXIT=0;

# The scripts run the daemon, the plugins and the tools of this build tree:
# rerun them when any of those changed.
$(INTEGRATION_TESTS:.sh=.log): snowsignal$(EXEEXT) $(plugin_LTLIBRARIES) $(SS_TEST_TOOLS)
