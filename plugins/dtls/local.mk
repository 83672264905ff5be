# The dtls transport: built only when configure found GnuTLS 3.7.9 or newer
# (ENABLE_DTLS; --disable-dtls turns it off).
if ENABLE_DTLS
plugin_LTLIBRARIES += plugins/dtls.la
plugins_dtls_la_SOURCES = \
	plugins/dtls/dtls.c plugins/dtls/dtls-plugin.h \
	plugins/dtls/dispatch.c \
	plugins/dtls/conn.c \
	plugins/dtls/creds.c plugins/dtls/creds-x509.c plugins/dtls/creds-private.h \
	plugins/dtls/allowed.c plugins/dtls/allowed.h \
	plugins/dtls/cookie.c \
	plugins/dtls/txq.c \
	plugins/dtls/timer.c \
	plugins/dtls/session.c plugins/dtls/session.h \
	plugins/dtls/classify.c plugins/dtls/classify.h
plugins_dtls_la_CFLAGS = $(AM_CFLAGS) $(GNUTLS_CFLAGS)
plugins_dtls_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_dtls_la_LIBADD = $(PLUGIN_LIBADD) $(GNUTLS_LIBS)
endif
EXTRA_DIST += docs/dtls-keys.md
