# Unit tests of the frame module: parsing, checks and rewrite, checksums,
# reassembly and re-fragmentation, and the duplicate table and standby
# hold (test-dedup).  Frames are built in the tests by
# frame-builder.c, whose checksum code is independent of core/frame.c.
frame_unit_tests = \
	tests/unit/test-frame \
	tests/unit/test-rewrite \
	tests/unit/test-fragment \
	tests/unit/test-refragment \
	tests/unit/test-dedup
check_PROGRAMS += $(frame_unit_tests)
TESTS += $(frame_unit_tests)

frame_builder_sources = tests/unit/frame-builder.c tests/unit/frame-builder.h

tests_unit_test_frame_SOURCES = tests/unit/test-frame.c $(frame_builder_sources)
tests_unit_test_frame_LDADD = $(top_builddir)/libsnowsignal.la $(GLIB_LIBS)

tests_unit_test_rewrite_SOURCES = tests/unit/test-rewrite.c $(frame_builder_sources)
tests_unit_test_rewrite_LDADD = $(top_builddir)/libsnowsignal.la $(GLIB_LIBS)

tests_unit_test_fragment_SOURCES = tests/unit/test-fragment.c $(frame_builder_sources)
tests_unit_test_fragment_LDADD = $(top_builddir)/libsnowsignal.la $(GLIB_LIBS)

tests_unit_test_refragment_SOURCES = tests/unit/test-refragment.c $(frame_builder_sources)
tests_unit_test_refragment_LDADD = $(top_builddir)/libsnowsignal.la $(GLIB_LIBS)

tests_unit_test_dedup_SOURCES = tests/unit/test-dedup.c $(frame_builder_sources)
tests_unit_test_dedup_LDADD = $(top_builddir)/libsnowsignal.la $(GLIB_LIBS)
