# Unit tests of the dtls transport: its record classifier, session table
# and allowed_peers list, compiled from the plugin's sources (they need no GnuTLS), and the
# replay of the classifier's fuzz corpus.
if ENABLE_DTLS
DTLS_UNIT_TESTS = \
	tests/unit/test-dtls-classify \
	tests/unit/test-dtls-session \
	tests/unit/test-dtls-allowed \
	tests/fuzz/replay-dtls-classify
check_PROGRAMS += $(DTLS_UNIT_TESTS)
TESTS += $(DTLS_UNIT_TESTS)

tests_unit_test_dtls_classify_SOURCES = tests/unit/test-dtls-classify.c \
	plugins/dtls/classify.c plugins/dtls/classify.h
tests_unit_test_dtls_classify_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/dtls
tests_unit_test_dtls_classify_LDADD = $(GLIB_LIBS)

tests_unit_test_dtls_session_SOURCES = tests/unit/test-dtls-session.c \
	plugins/dtls/session.c plugins/dtls/session.h
tests_unit_test_dtls_session_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/dtls
tests_unit_test_dtls_session_LDADD = $(GLIB_LIBS)

tests_unit_test_dtls_allowed_SOURCES = tests/unit/test-dtls-allowed.c \
	plugins/dtls/allowed.c plugins/dtls/allowed.h
tests_unit_test_dtls_allowed_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/dtls
tests_unit_test_dtls_allowed_LDADD = $(GLIB_LIBS)

tests_fuzz_replay_dtls_classify_SOURCES = tests/fuzz/fuzz-dtls-classify.c \
	plugins/dtls/classify.c plugins/dtls/classify.h $(fuzz_main_sources)
tests_fuzz_replay_dtls_classify_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/dtls \
	-DSS_FUZZ_CORPUS=\"tests/fuzz/corpus/dtls-classify\"
tests_fuzz_replay_dtls_classify_LDADD = $(GLIB_LIBS)
endif
EXTRA_DIST += tests/fuzz/corpus/dtls-classify
