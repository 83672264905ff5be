# libsnowsignal's exported symbols against its public headers.
TESTS += tests/unit/check-abi.sh
EXTRA_DIST += tests/unit/check-abi.sh
