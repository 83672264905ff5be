# Install layout details automake does not handle by itself.
#
# Plugin modules are installed without their libtool .la files.  Nothing
# links against a module, and the loader opens NAME.so directly
# (lt_dlopenext tries NAME.la, then NAME.so), so the .la would only be a
# stale file for distributions to delete.  libtool's uninstall mode finds a
# module's .so through its .la, so uninstall-hook removes the modules by
# name, then the directories this package created if they are left empty.
# (libsnowsignal.la is still installed in libdir, as libtool expects.)

install-data-hook: ss-install-plugins-hook
ss-install-plugins-hook:
	@for m in $(plugin_LTLIBRARIES); do \
	  m=$${m##*/}; \
	  echo " rm -f '$(DESTDIR)$(plugindir)/'$$m"; \
	  rm -f "$(DESTDIR)$(plugindir)/$$m"; \
	done

uninstall-hook: ss-uninstall-plugins-hook
ss-uninstall-plugins-hook:
	@for m in $(plugin_LTLIBRARIES); do \
	  m=$${m##*/}; m=$${m%.la}.so; \
	  echo " rm -f '$(DESTDIR)$(plugindir)/'$$m"; \
	  rm -f "$(DESTDIR)$(plugindir)/$$m"; \
	done
	-@for d in '$(DESTDIR)$(plugindir)' '$(DESTDIR)$(libdir)/snowsignal' \
	  '$(DESTDIR)$(ssincludedir)' '$(DESTDIR)$(snowsignalconfdir)'; do \
	  test ! -d "$$d" || rmdir "$$d" 2>/dev/null || :; \
	done

.PHONY: ss-install-plugins-hook ss-uninstall-plugins-hook
