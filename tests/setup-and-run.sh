#!/bin/sh
# Sets up a fresh Debian 12 machine for building snowsignal, builds it and
# runs the whole test suite (unit tests and, as root, the network-namespace
# integration tests).  The last line printed is "N passed, N failed, N skipped".
#
#   sudo tests/setup-and-run.sh [--no-deps] [--no-check] [--build-dir DIR] [-- CONFIGURE-ARGS...]
#
# --no-check only installs the dependencies and builds (in _build by default).
#
# The integration tests need root (network namespaces); without it they skip.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/_build"
deps=yes
check=yes
while [ $# -gt 0 ]; do
  case "$1" in
    --no-deps) deps=no; shift ;;
    --no-check) check=no; shift ;;
    --build-dir) build=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "usage: $0 [--no-deps] [--no-check] [--build-dir DIR] [-- CONFIGURE-ARGS...]" >&2; exit 2 ;;
  esac
done

# Debian packages needed to build and test.
DEBIAN_PACKAGES="build-essential autoconf automake libtool libltdl-dev libconfig-dev
  libglib2.0-dev pkgconf xz-utils iproute2 procps clang
  libgnutls28-dev gnutls-bin openssl python3 libmicrohttpd-dev prometheus curl"

if [ "$deps" = yes ]; then
  missing=
  for p in $DEBIAN_PACKAGES; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
      missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "missing Debian packages:$missing; run as root or: sudo apt-get install$missing" >&2
      exit 1
    fi
    echo "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
fi

cd "$top"
[ -x configure ] || ./autogen.sh >/dev/null
mkdir -p "$build"
cd "$build"
# stderr too: rerun in a build directory, the clean-ups of configure's test
# programs say "rm: cannot remove 'core': Is a directory" (the build's own
# core/), harmlessly, once per test.
"$top/configure" --enable-werror "$@" >configure.log 2>&1 || { tail -20 configure.log; exit 1; }
jobs=$(nproc 2>/dev/null || echo 2)
make -j"$jobs" >make.log 2>&1 || { tail -40 make.log; exit 1; }
[ "$check" = yes ] || { echo "built in $build"; exit 0; }
status=0
make -j"$jobs" check >check.log 2>&1 || status=$?
grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP):' check.log | grep -v '^PASS' || true
grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR)' check.log || true
if [ "$status" -ne 0 ]; then
  failed_logs=$(grep -lE '^(FAIL|ERROR)' $(find . -name '*.log' -path '*tests*') 2>/dev/null) || true
  for log in $failed_logs; do
    echo "--- $log"; tail -40 "$log"
  done
  # No test failed: make itself did (a test program that does not build).
  [ -n "$failed_logs" ] || { echo "--- make check failed ($build/check.log):"; tail -20 check.log; }
fi
sh "$top/tests/summary.sh" "$build" || status=1
exit "$status"
