# Test tools of the namespace integration tests (tests/integration): traffic
# generator and sink, and minimal PVAccess and Channel Access search clients
# and responders (tool-udp.c: their shared socket chores; tool-pattern.c:
# the payload pattern and checksums the generator writes and the sink checks).
# They use GLib only (option parsing), never libsnowsignal, so that what they
# check is independent of the code under test.  Included from
# tests/integration/local.mk.
SS_TEST_TOOLS = \
	tests/tools/ss-udp-send \
	tests/tools/ss-udp-listen \
	tests/tools/pva-search \
	tests/tools/pva-responder \
	tests/tools/ca-search \
	tests/tools/ca-responder
check_PROGRAMS += $(SS_TEST_TOOLS)

tests_tools_ss_udp_send_SOURCES = tests/tools/ss-udp-send.c \
	tests/tools/tool-pattern.c tests/tools/tool-pattern.h
tests_tools_ss_udp_send_LDADD = $(GLIB_LIBS)

tests_tools_ss_udp_listen_SOURCES = tests/tools/ss-udp-listen.c \
	tests/tools/tool-pattern.c tests/tools/tool-pattern.h
tests_tools_ss_udp_listen_LDADD = $(GLIB_LIBS)

tests_tools_pva_search_SOURCES = tests/tools/pva-search.c \
	tests/tools/tool-udp.c tests/tools/tool-udp.h
tests_tools_pva_search_LDADD = $(GLIB_LIBS)

tests_tools_pva_responder_SOURCES = tests/tools/pva-responder.c \
	tests/tools/tool-udp.c tests/tools/tool-udp.h
tests_tools_pva_responder_LDADD = $(GLIB_LIBS)

tests_tools_ca_search_SOURCES = tests/tools/ca-search.c tests/tools/ca-proto.h \
	tests/tools/tool-udp.c tests/tools/tool-udp.h
tests_tools_ca_search_LDADD = $(GLIB_LIBS)

tests_tools_ca_responder_SOURCES = tests/tools/ca-responder.c tests/tools/ca-proto.h \
	tests/tools/tool-udp.c tests/tools/tool-udp.h
tests_tools_ca_responder_LDADD = $(GLIB_LIBS)
