#!/bin/sh
# snowsignal - UDP broadcast relay
# check-abi.sh: libsnowsignal's exported symbols against its public headers
# (TAP), as core/libsnowsignal.map promises:
#
#   - every function declared by <snowsignal/snowsignal.h> is exported with
#     the version SNOWSIGNAL_0, the plugin API;
#   - every other exported symbol has the version SNOWSIGNAL_PRIVATE;
#   - nothing but ss_* functions is exported;
#   - the shipped plugins use SNOWSIGNAL_0 symbols only, as a third-party
#     plugin must.
#
# Run by `make check`, which sets SS_TOP_SRCDIR, SS_TOP_BUILDDIR, SS_CC and
# SS_GLIB_CFLAGS.  Skips without objdump.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

top_srcdir=${SS_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${SS_TOP_BUILDDIR:-$top_srcdir}
lib=$top_builddir/.libs/libsnowsignal.so
public=SNOWSIGNAL_0 private=SNOWSIGNAL_PRIVATE

command -v objdump >/dev/null 2>&1 || { echo "1..0 # SKIP objdump not found"; exit 0; }
[ -f "$lib" ] || { echo "1..0 # SKIP no shared libsnowsignal (built with --disable-shared?)"; exit 0; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-abi.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT HUP INT TERM

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

# The functions the public headers declare: after the preprocessor, every
# "ss_name(" (declarations are written name-then-parenthesis; a function
# pointer type or member has "(*" instead).
# shellcheck disable=SC2086 # SS_GLIB_CFLAGS is a list of flags
echo '#include <snowsignal/snowsignal.h>' |
	${SS_CC:-cc} -E -P -I"$top_srcdir/include" -I"$top_builddir/include" ${SS_GLIB_CFLAGS:-$(pkg-config --cflags glib-2.0)} - >"$tmp/headers.i" ||
	{ echo "Bail out! cannot preprocess the public headers"; exit 1; }
grep -oE '(ss|snowsignal)_[a-z0-9_]+\(' "$tmp/headers.i" | tr -d '(' | sort -u >"$tmp/declared"
[ -s "$tmp/declared" ] || { echo "Bail out! no function found in the public headers"; exit 1; }

# objdump -T: "ADDR FLAGS SECTION SIZE VERSION NAME"; defined = not *UND*.
# Versions print as "SNOWSIGNAL_0" or "(SNOWSIGNAL_0)" (hidden); strip the
# parentheses.  The version nodes themselves are *ABS* entries.
dynsyms() { objdump -T "$1" | awk 'NF >= 6 && $(NF-1) ~ /^\(?[A-Za-z_]/ { v = $(NF-1); gsub(/[()]/, "", v); print $(NF-3), v, $NF }'; }
dynsyms "$lib" | awk '$1 != "*UND*" && $1 != "*ABS*" { print $3, $2 }' | sort >"$tmp/exported"

missing= wrong=
while read -r f; do
	v=$(awk -v f="$f" '$1 == f { print $2 }' "$tmp/exported")
	if [ -z "$v" ]; then missing="$missing $f"; elif [ "$v" != "$public" ]; then wrong="$wrong $f@$v"; fi
done <"$tmp/declared"
if [ -z "$missing" ]; then ok "every function of the public headers is exported ($(wc -l <"$tmp/declared"))"
else not_ok "every function of the public headers is exported" "missing:$missing"; fi
if [ -z "$wrong" ]; then ok "with the version $public"
else not_ok "with the version $public" "add to $public in core/libsnowsignal.map:$wrong"; fi

extra=$(awk -v pub="$public" '$2 == pub { print $1 }' "$tmp/exported" | grep -vxF -f "$tmp/declared" | tr '\n' ' ')
if [ -z "$extra" ]; then ok "$public holds nothing the public headers do not declare"
else not_ok "$public holds nothing the public headers do not declare" "internal, in $public: $extra"; fi

others=$(awk -v pub="$public" -v priv="$private" '$2 != pub && $2 != priv { print $1 "@" $2 }' "$tmp/exported" | tr '\n' ' ')
if [ -z "$others" ]; then ok "every other export is $private ($(grep -c " $private\$" "$tmp/exported"))"
else not_ok "every other export is $private" "unversioned or other: $others"; fi

strays=$(awk '$1 !~ /^ss_/ { print $1 }' "$tmp/exported" | tr '\n' ' ')
if [ -z "$strays" ]; then ok "only ss_* names are exported"
else not_ok "only ss_* names are exported" "$strays"; fi

plugins=$(ls "$top_builddir"/plugins/.libs/*.so 2>/dev/null)
if [ -z "$plugins" ]; then
	n=$((n + 1)); echo "ok $n # SKIP no shipped plugin built"
else
	bad=
	for p in $plugins; do
		bad="$bad$(dynsyms "$p" | awk -v pub="$public" '$1 == "*UND*" && $3 ~ /^ss_/ && $2 != pub { printf " %s:%s@%s", f, $3, $2 }' f="${p##*/}")"
	done
	if [ -z "$bad" ]; then ok "the shipped plugins use $public symbols only ($(echo "$plugins" | wc -w) plugins)"
	else not_ok "the shipped plugins use $public symbols only" "$bad"; fi
fi

echo "1..$n"
[ "$failed" = 0 ]
