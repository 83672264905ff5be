# The metrics endpoint (metrics_listen): the exposition and the endpoint's
# life are in the daemon; the HTTP library (libmicrohttpd) only in the
# module daemon/metrics-http.la, which the daemon loads when metrics_listen
# is set, so a relay without the endpoint does not map it (bench/RESULTS.md).
snowsignal_SOURCES += daemon/metrics.c daemon/metrics.h \
	daemon/metrics-server.c daemon/metrics-http.h
snowsignal_LDADD += $(LTDL_LIBS)

if ENABLE_METRICS
snowsignal_CPPFLAGS += -DSS_METRICS_MODULE_DIR=\"$(pkglibdir)\"
pkglib_LTLIBRARIES = daemon/metrics-http.la
daemon_metrics_http_la_SOURCES = daemon/metrics-http.c daemon/metrics-http.h
daemon_metrics_http_la_CPPFLAGS = $(AM_CPPFLAGS)
daemon_metrics_http_la_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS)
daemon_metrics_http_la_LIBADD = $(MHD_LIBS) $(GLIB_LIBS)
daemon_metrics_http_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -no-undefined -shared \
	-export-symbols-regex '^snowsignal_metrics_http_get$$'
endif

# The module is installed without its .la, as the plugins are (packaging.mk):
# the daemon opens metrics-http.so itself.  libtool's uninstall finds a .so
# through its .la, so uninstall-local removes it by name.
if ENABLE_METRICS
install-exec-hook:
	rm -f '$(DESTDIR)$(pkglibdir)/metrics-http.la'
uninstall-local:
	rm -f '$(DESTDIR)$(pkglibdir)/metrics-http.so'
endif
