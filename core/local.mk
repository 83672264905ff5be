# libsnowsignal: the core shared library (the daemon over it: daemon/local.mk).
lib_LTLIBRARIES += libsnowsignal.la
libsnowsignal_la_SOURCES = \
	core/log.c core/log.h \
	core/version.c \
	core/mesh-codec.c \
	core/conffile.c core/conffile.h core/conffile-read.c core/conffile-read.h \
	core/loader.c core/loader.h \
	core/instance.c core/instance.h core/instance-private.h \
	core/chain.c core/chain.h \
	core/host.c core/host.h \
	core/peer-set.c core/peer-set.h core/peer-private.h \
	core/plugin-services.c \
	core/resolve.c core/resolve.h \
	core/segment.c core/segment.h \
	core/segment-bpf.c \
	core/relay.c core/relay.h core/relay-private.h \
	core/relay-path.c \
	core/dedup.c core/dedup.h \
	core/standby.c core/standby.h \
	core/ratelimit.c core/ratelimit.h \
	core/relay-stats.c \
	core/relay-reload.c \
	core/privileges.c core/privileges.h
libsnowsignal_la_CPPFLAGS = $(AM_CPPFLAGS) -DSS_RUNSTATEDIR=\"$(runstatedir)\"
libsnowsignal_la_CFLAGS = $(AM_CFLAGS) $(GIO_CFLAGS) $(LIBCONFIG_CFLAGS)
libsnowsignal_la_LIBADD = $(GIO_LIBS) $(GLIB_LIBS) $(LIBCONFIG_LIBS) $(LTDL_LIBS)
libsnowsignal_la_LDFLAGS = $(AM_LDFLAGS) -version-info $(SS_LT_VERSION_INFO) -no-undefined \
	-Wl,--version-script=$(top_srcdir)/core/libsnowsignal.map
EXTRA_libsnowsignal_la_DEPENDENCIES = core/libsnowsignal.map
EXTRA_DIST += core/libsnowsignal.map

include core/frame.mk
