# Installed configuration.
snowsignalconfdir = $(sysconfdir)/snowsignal
dist_snowsignalconf_DATA = etc/snowsignal.conf
