# Fuzz targets.  Each target (fuzz-<name>.c, defining LLVMFuzzerTestOneInput)
# is also linked with fuzz-main.c into tests/fuzz/replay-<name>, a check
# program that replays tests/fuzz/corpus/<name>/, so `make check` runs every
# seed and every crash once found under the normal (and sanitizer) build.
# run-libfuzzer.sh builds the same sources with libFuzzer for real fuzzing.
#
# To add a target: append it to fuzz_replays, and copy the three lines of
# an existing target with the name changed.
fuzz_replays = \
	tests/fuzz/replay-frame \
	tests/fuzz/replay-reassembly \
	tests/fuzz/replay-pva \
	tests/fuzz/replay-ca \
	tests/fuzz/replay-mesh
check_PROGRAMS += $(fuzz_replays)
TESTS += $(fuzz_replays)

fuzz_main_sources = tests/fuzz/fuzz-main.c tests/fuzz/fuzz.h

tests_fuzz_replay_frame_SOURCES = tests/fuzz/fuzz-frame.c $(fuzz_main_sources)
tests_fuzz_replay_frame_CPPFLAGS = $(AM_CPPFLAGS) -DSS_FUZZ_CORPUS=\"tests/fuzz/corpus/frame\"
tests_fuzz_replay_frame_LDADD = $(top_builddir)/libsnowsignal.la $(GLIB_LIBS)

tests_fuzz_replay_reassembly_SOURCES = tests/fuzz/fuzz-reassembly.c $(fuzz_main_sources)
tests_fuzz_replay_reassembly_CPPFLAGS = $(AM_CPPFLAGS) -DSS_FUZZ_CORPUS=\"tests/fuzz/corpus/reassembly\"
tests_fuzz_replay_reassembly_LDADD = $(top_builddir)/libsnowsignal.la $(GLIB_LIBS)

tests_fuzz_replay_pva_SOURCES = tests/fuzz/fuzz-pva.c $(fuzz_main_sources)
tests_fuzz_replay_pva_CPPFLAGS = $(AM_CPPFLAGS) -DSS_FUZZ_CORPUS=\"tests/fuzz/corpus/pva\"
tests_fuzz_replay_pva_LDADD = $(top_builddir)/libsnowsignal.la $(GLIB_LIBS)

tests_fuzz_replay_ca_SOURCES = tests/fuzz/fuzz-ca.c $(fuzz_main_sources)
tests_fuzz_replay_ca_CPPFLAGS = $(AM_CPPFLAGS) -DSS_FUZZ_CORPUS=\"tests/fuzz/corpus/ca\"
tests_fuzz_replay_ca_LDADD = $(top_builddir)/libsnowsignal.la $(GLIB_LIBS)

tests_fuzz_replay_mesh_SOURCES = tests/fuzz/fuzz-mesh.c $(fuzz_main_sources)
tests_fuzz_replay_mesh_CPPFLAGS = $(AM_CPPFLAGS) -DSS_FUZZ_CORPUS=\"tests/fuzz/corpus/mesh\"
tests_fuzz_replay_mesh_LDADD = $(top_builddir)/libsnowsignal.la $(GLIB_LIBS)

# gen-corpus.c is not built: the seeds are committed (see tests/fuzz/README).
EXTRA_DIST += \
	tests/fuzz/README \
	tests/fuzz/gen-corpus.c \
	tests/fuzz/corpus
dist_noinst_SCRIPTS += tests/fuzz/run-libfuzzer.sh
