# frame parsing, rewriting, fragments (owned by the frame module)
libsnowsignal_la_SOURCES += \
	core/frame.c core/frame.h \
	core/fragment.c core/fragment.h \
	core/refragment.c
