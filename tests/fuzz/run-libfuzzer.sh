#!/bin/sh
# run-libfuzzer.sh: builds each fuzz target with libFuzzer and the address
# and undefined-behaviour sanitizers, straight from the sources (no
# configure needed), and runs it for a while on a copy of its corpus.
#
#   tests/fuzz/run-libfuzzer.sh [-b BUILDDIR] SECONDS [TARGET...]
#
# Without TARGET, every target of the table below runs.  -b uses the
# config.h and generated headers of a configured build tree; without it a
# stand-in config.h is made.  CC (default clang), SS_FUZZ_CFLAGS and
# SS_FUZZ_LIBS are honoured.  WORKDIR (default: a new temporary directory)
# receives the binaries, the grown corpora and crash inputs; it is removed
# on success unless given.  Exits 1 when a target fails to build or
# crashes: the input is in WORKDIR, and belongs in tests/fuzz/corpus/<name>/
# once the bug is fixed.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
set -eu

# One target per line: its name (source tests/fuzz/fuzz-<name>.c by
# convention, corpus tests/fuzz/corpus/<name>/), then what clang needs
# besides it: the sources under test, relative to the top of the tree, and
# any flag the target needs.  @LIBSNOWSIGNAL@ stands for every C source of
# the core library as core/*.mk list it, with what they need.
TARGETS='
frame       tests/fuzz/fuzz-frame.c core/frame.c core/fragment.c core/refragment.c
reassembly  tests/fuzz/fuzz-reassembly.c core/frame.c core/fragment.c core/refragment.c
pva         tests/fuzz/fuzz-pva.c @LIBSNOWSIGNAL@
ca          tests/fuzz/fuzz-ca.c @LIBSNOWSIGNAL@
mesh        tests/fuzz/fuzz-mesh.c @LIBSNOWSIGNAL@
dtls-classify tests/fuzz/fuzz-dtls-classify.c plugins/dtls/classify.c -Iplugins/dtls
'

usage() {
  echo "usage: $0 [-b BUILDDIR] SECONDS [TARGET...]" >&2
  exit 2
}

top=$(cd "$(dirname "$0")/../.." && pwd)
builddir=
while getopts b: opt; do
  case $opt in
    b) builddir=$(cd "$OPTARG" && pwd) ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
seconds=$1
shift
case $seconds in '' | *[!0-9]*) usage ;; esac
wanted=$*

for t in $wanted; do
  printf '%s\n' "$TARGETS" | grep -q "^$t " || { echo "$0: no target $t" >&2; exit 2; }
done

CC=${CC:-clang}
own_work=no
if [ -z "${WORKDIR:-}" ]; then
  WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/snowsignal-fuzz.XXXXXX")
  own_work=yes
fi
mkdir -p "$WORKDIR/include"
if [ -n "$builddir" ]; then
  includes="-I$builddir -I$builddir/include"
else
  # What configure's AC_USE_SYSTEM_EXTENSIONS and libtool's LT_INIT would
  # define (the loader names libtool's object directory in its diagnoses).
  printf '#define _GNU_SOURCE 1\n#define PACKAGE_VERSION "fuzz"\n#define LT_OBJDIR ".libs/"\n' \
    >"$WORKDIR/include/config.h"
  # What configure makes of include/snowsignal/version.h.in.
  mkdir -p "$WORKDIR/include/snowsignal"
  sed 's/@[A-Z_]*@/0/g' "$top/include/snowsignal/version.h.in" >"$WORKDIR/include/snowsignal/version.h"
  includes="-I$WORKDIR/include"
fi
glib=$(pkg-config --cflags --libs glib-2.0)
# The library's sources, from the one list the build uses.
libsnowsignal=$(cat "$top"/core/*.mk |
  sed -n '/^libsnowsignal_la_SOURCES/,/^[^\t]/{/^libsnowsignal_la_SOURCES\|^\t/p}' |
  tr ' \\\t' '\n\n\n' | grep '^core/.*\.c$' | sort -u | tr '\n' ' ')
libsnowsignal="$libsnowsignal -DSS_PLUGINDIR=\"/nonexistent\" -DSS_SYSCONFDIR=\"/nonexistent\" -DSS_RUNSTATEDIR=\"/nonexistent\" -lconfig -lltdl"
if pkg-config --exists gio-2.0; then libsnowsignal="$libsnowsignal $(pkg-config --libs gio-2.0)"; fi
if pkg-config --exists json-glib-1.0; then
  libsnowsignal="$libsnowsignal $(pkg-config --cflags --libs json-glib-1.0)"
fi
flags="-std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"

failed=
while read -r name sources; do
  [ -n "$name" ] || continue
  case " $wanted " in *" $name "*) ;; *) [ -z "$wanted" ] || continue ;; esac
  bin=$WORKDIR/fuzz-$name
  sources=$(printf '%s' "$sources" | sed "s|@LIBSNOWSIGNAL@|$libsnowsignal|")
  echo "== $name: build"
  # shellcheck disable=SC2086  # word splitting of the flag lists is wanted
  if ! (cd "$top" && $CC $flags -Iinclude -Icore $includes ${SS_FUZZ_CFLAGS:-} \
          $sources $glib ${SS_FUZZ_LIBS:-} -o "$bin"); then
    failed="$failed $name"
    continue
  fi
  echo "== $name: fuzz for ${seconds}s"
  mkdir -p "$WORKDIR/corpus-$name"
  if ! "$bin" -max_total_time="$seconds" -print_final_stats=1 \
         -artifact_prefix="$WORKDIR/$name-" \
         "$WORKDIR/corpus-$name" "$top/tests/fuzz/corpus/$name"; then
    failed="$failed $name"
  fi
done <<EOF
$TARGETS
EOF

if [ -n "$failed" ]; then
  echo "FAILED:$failed (inputs and binaries kept in $WORKDIR)" >&2
  exit 1
fi
[ "$own_work" = no ] || rm -rf "$WORKDIR"
echo "all fuzz targets ran ${seconds}s without a failure"
