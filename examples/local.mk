# Examples.  They ship in the tarball but are not built here: the
# source-allowlist filter and the hmac-mesh transport are built out of
# tree, against an installed snowsignal, each with its own Makefile
# (tests/integration/sdk.sh does that against a staged install), and
# demo.sh runs the relays of a build tree.
EXTRA_DIST += \
	examples/demo.sh \
	examples/allowlist/README \
	examples/allowlist/Makefile \
	examples/allowlist/example.conf \
	examples/allowlist/source-allowlist.c \
	examples/hmac-mesh/README \
	examples/hmac-mesh/Makefile \
	examples/hmac-mesh/example.conf \
	examples/hmac-mesh/hmac-mesh.c
