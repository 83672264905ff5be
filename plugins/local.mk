# Transport plugins.  (The filters are in plugins/filters.mk.)
plugin_LTLIBRARIES += plugins/udp-mesh.la
plugins_udp_mesh_la_SOURCES = plugins/udp-mesh.c \
	plugins/udp-mesh-heartbeat.c plugins/udp-mesh-heartbeat.h
plugins_udp_mesh_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_udp_mesh_la_LIBADD = $(PLUGIN_LIBADD)
