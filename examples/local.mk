# Examples.  They ship in the tarball but are not built here: the
# source-allowlist plugin is built out of tree, against an installed
# snowsignal, with its own Makefile (tests/integration/sdk.sh does that
# against a staged install), and demo.sh runs the relays of a build tree.
EXTRA_DIST += \
	examples/demo.sh \
	examples/allowlist/README \
	examples/allowlist/Makefile \
	examples/allowlist/example.conf \
	examples/allowlist/source-allowlist.c
