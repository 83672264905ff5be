# The shipped filter plugins: one module per file, each exporting only its
# snowsignal_plugin_<name>_get_desc symbol (PLUGIN_LDFLAGS, Makefile.am).
plugin_LTLIBRARIES += plugins/mac-self.la
plugins_mac_self_la_SOURCES = plugins/mac-self.c
plugins_mac_self_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_mac_self_la_LIBADD = $(PLUGIN_LIBADD)

plugin_LTLIBRARIES += plugins/ip-self.la
plugins_ip_self_la_SOURCES = plugins/ip-self.c
plugins_ip_self_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_ip_self_la_LIBADD = $(PLUGIN_LIBADD)

plugin_LTLIBRARIES += plugins/pva-search.la
plugins_pva_search_la_SOURCES = plugins/pva-search.c
plugins_pva_search_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_pva_search_la_LIBADD = $(PLUGIN_LIBADD)

plugin_LTLIBRARIES += plugins/ca-search.la
plugins_ca_search_la_SOURCES = plugins/ca-search.c
plugins_ca_search_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_ca_search_la_LIBADD = $(PLUGIN_LIBADD)
