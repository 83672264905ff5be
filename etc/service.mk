# The systemd unit.  The install paths are make variables (they may still
# refer to ${prefix} until make time), so the unit is generated here rather
# than by configure.  The unit is Type=notify: the daemon always sends
# READY=1 (daemon/notify.c).
# The unit's RuntimeDirectory= is /run/snowsignal whatever runstatedir is:
# when the compiled-in control socket is not /run/snowsignal/control, the
# unit passes --control-socket /run/snowsignal/control explicitly.
systemdsystemunit_DATA = etc/snowsignal.service
EXTRA_DIST += etc/snowsignal.service.in
CLEANFILES += etc/snowsignal.service

SS_UNIT_CONTROL_SOCKET = /run/snowsignal/control

ss_edit_service = sed \
	-e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@controlsocket[@]|$(SS_UNIT_CONTROL_SOCKET)|g' \
	-e "s|@controlsocketoption[@]|$$ss_option|g"

etc/snowsignal.service: $(top_srcdir)/etc/snowsignal.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) etc && rm -f $@ $@.tmp && \
	if test "$(runstatedir)/snowsignal/control" = "$(SS_UNIT_CONTROL_SOCKET)"; then \
	  ss_option=; \
	else \
	  ss_option=' --control-socket $(SS_UNIT_CONTROL_SOCKET)'; \
	fi; \
	$(ss_edit_service) $(top_srcdir)/etc/snowsignal.service.in > $@.tmp && \
	mv $@.tmp $@
