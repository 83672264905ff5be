# The manual pages against the code: options, settings, plugins, and groff
# warnings.
TESTS += tests/unit/check-docs.sh
EXTRA_DIST += tests/unit/check-docs.sh
