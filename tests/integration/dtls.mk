# Namespace integration tests of the dtls transport (TAP, run like
# tests/integration/local.mk's; they need root and gnutls-bin's psktool and
# certtool, and skip without them).
if ENABLE_DTLS
DTLS_INTEGRATION_TESTS = \
	tests/integration/dtls-psk.sh \
	tests/integration/dtls-x509.sh \
	tests/integration/dtls-interop.sh \
	tests/integration/dtls-rekey.sh \
	tests/integration/dtls-idle.sh \
	tests/integration/dtls-reload.sh \
	tests/integration/dtls-bounds.sh \
	tests/integration/dtls-split.sh
TESTS += $(DTLS_INTEGRATION_TESTS)
$(DTLS_INTEGRATION_TESTS:.sh=.log): snowsignal$(EXEEXT) $(plugin_LTLIBRARIES) $(SS_TEST_TOOLS)
endif
dist_check_SCRIPTS += tests/integration/dtls-psk.sh tests/integration/dtls-x509.sh \
	tests/integration/dtls-interop.sh tests/integration/dtls-rekey.sh tests/integration/dtls-idle.sh \
	tests/integration/dtls-reload.sh tests/integration/dtls-bounds.sh tests/integration/dtls-split.sh \
	tests/integration/dtls-lib.sh
