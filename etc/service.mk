# The systemd unit.  The install paths are make variables (they may still
# refer to ${prefix} until make time), so the unit is generated here rather
# than by configure.  Without libsystemd the daemon never sends READY=1, so
# the unit is then generated with Type=simple instead of Type=notify.
systemdsystemunit_DATA = etc/snowsignal.service
EXTRA_DIST += etc/snowsignal.service.in
CLEANFILES += etc/snowsignal.service

if HAVE_SYSTEMD
SS_SERVICE_TYPE = notify
else
SS_SERVICE_TYPE = simple
endif

ss_edit_service = sed \
	-e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|^Type=notify$$|Type=$(SS_SERVICE_TYPE)|'

etc/snowsignal.service: $(top_srcdir)/etc/snowsignal.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) etc && rm -f $@ $@.tmp && \
	$(ss_edit_service) $(top_srcdir)/etc/snowsignal.service.in > $@.tmp && \
	mv $@.tmp $@
