# The snowsignal daemon over libsnowsignal: main() and its command line,
# the control socket and the status it serves, the service manager
# protocol.  Nothing here is in the library: plugins never see it.
sbin_PROGRAMS += snowsignal
snowsignal_SOURCES = \
	daemon/snowsignal.c \
	daemon/conf-watch.c daemon/conf-watch.h \
	daemon/options.c daemon/options.h \
	daemon/control.c daemon/control.h \
	daemon/status.c daemon/status.h \
	daemon/notify.c daemon/notify.h
snowsignal_CPPFLAGS = $(AM_CPPFLAGS) -DSS_RUNSTATEDIR=\"$(runstatedir)\"
snowsignal_CFLAGS = $(AM_CFLAGS) $(GIO_CFLAGS)
snowsignal_LDADD = libsnowsignal.la $(GIO_LIBS) $(GLIB_LIBS)

# For the unit tests that build a daemon source with them.
DAEMON_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemon -DSS_RUNSTATEDIR=\"$(runstatedir)\"
