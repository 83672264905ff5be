#!/bin/bash
# shellcheck disable=SC2317 # the *_ok functions are called through check()
# CI: builds the Debian packages from debian/ and checks them, as root on a
# Debian (12) machine:
#   1. installs the packaging tools and, with mk-build-deps, the build
#      dependencies debian/control names;
#   2. runs `dpkg-buildpackage -us -uc -b` in a copy of the tree
#      (DEB_BUILD_OPTIONS="parallel=1 nocheck": the test suite runs in the
#      other CI steps, where its namespace tests have root);
#   3. runs lintian on the .changes: errors fail, warnings are shown only;
#   4. installs the three packages with apt-get, checks the daemon
#      (--version, --check-config and --list-plugins with the packaged
#      configuration), and builds and loads the example plugins that
#      libsnowsignal-dev ships (a filter, a transport) against the packaged SDK;
#   5. purges them and checks that nothing is left behind.
# Packages, .changes, build log and lintian output are kept in _build-deb/.
# Usage: .ci/debian.sh        (exit status 0 when every check passed)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/_build-deb
fail=0
say() { echo "--- $*"; }
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; fail=1; }
check() { # DESC CMD...
	local d=$1
	shift
	if "$@"; then ok "$d"; else bad "$d"; return 1; fi
}

if [ "$(id -u)" != 0 ]; then
	echo "$0: needs root (apt-get install of the build dependencies and the packages)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -y -q -o Dpkg::Use-Pty=0 --no-install-recommends)
PKGS=(snowsignal libsnowsignal0 libsnowsignal-dev)

work=$(mktemp -d "${TMPDIR:-/tmp}/snowsignal-deb.XXXXXX") || exit 1
cleanup() { [ -n "${SS_KEEP_TMP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT
rm -rf "$out" && mkdir -p "$out"

# ---- 1: tools and build dependencies ------------------------------------------
say "packaging tools"
"${APT[@]}" update >/dev/null || true
"${APT[@]}" install build-essential debhelper devscripts dpkg-dev equivs fakeroot lintian \
	>"$out/apt-tools.log" 2>&1 || { tail -20 "$out/apt-tools.log"; echo "cannot install the packaging tools"; exit 1; }

# A copy of the tree: tracked and untracked files, not what .gitignore
# ignores (build trees, generated files); the whole directory otherwise.
src=$work/snowsignal
mkdir -p "$src"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$top" ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			if [ -e "$top/$f" ] || [ -L "$top/$f" ]; then printf '%s\0' "$f"; fi
		done |
		tar -C "$top" --null --no-recursion -T - -cf - | tar -C "$src" -xf -
else
	tar -C "$top" --exclude=./.git --exclude='./_build*' -cf - . | tar -C "$src" -xf -
fi
[ -f "$src/debian/control" ] || { echo "no debian/control in the copy of $top"; exit 1; }

say "build dependencies (mk-build-deps)"
(cd "$work" && mk-build-deps --install --remove \
	--tool "${APT[*]} -o Debug::pkgProblemResolver=yes" "$src/debian/control") \
	>"$out/build-deps.log" 2>&1 || { tail -30 "$out/build-deps.log"; echo "cannot install the build dependencies"; exit 1; }

# ---- 2: build ---------------------------------------------------------------------
say "dpkg-buildpackage -us -uc -b"
if (cd "$src" && DEB_BUILD_OPTIONS="parallel=1 nocheck" dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b"
else
	tail -60 "$out/build.log"
	bad "dpkg-buildpackage -us -uc -b (log: $out/build.log)"
	exit 1
fi
changes_all=("$work"/snowsignal_*.changes)
changes=${changes_all[0]}
cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/ 2>/dev/null
ls -l "$work"/*.deb

# ---- 3: lintian ---------------------------------------------------------------------
say "lintian $(basename "$changes")"
lintian --fail-on error --display-info "$changes" >"$out/lintian.txt" 2>&1
lintian_status=$?
cat "$out/lintian.txt"
echo "lintian: $(grep -c '^E: ' "$out/lintian.txt") errors, $(grep -c '^W: ' "$out/lintian.txt") warnings"
check "lintian reports no errors" [ "$lintian_status" = 0 ]

# ---- 4: install and use ---------------------------------------------------------------
say "apt-get install ./{snowsignal,libsnowsignal0,libsnowsignal-dev}_*.deb"
debs=()
for p in "${PKGS[@]}"; do debs+=("$work/${p}_"*.deb); done
if "${APT[@]}" install "${debs[@]}" >"$out/install.log" 2>&1; then
	ok "the packages install"
else
	cat "$out/install.log"
	bad "the packages install"
fi

multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
plugindir=/usr/lib/$multiarch/snowsignal/plugins
no_la() { ! dpkg -L "${PKGS[@]}" | grep -q '\.la$'; }
check "no .la files in the packages" no_la
check "plugins in $plugindir" test -f "$plugindir/udp-mesh.so" -a -f "$plugindir/mac-self.so" \
	-a -f "$plugindir/ip-self.so" -a -f "$plugindir/pva-search.so" -a -f "$plugindir/ca-search.so"
metrics_ok() { dpkg -L snowsignal | grep -q "/usr/lib/$multiarch/snowsignal/metrics-http\.so\$"; }
check "the metrics endpoint's module is in the snowsignal package" metrics_ok
check "libsnowsignal.so.0 in /usr/lib/$multiarch (libsnowsignal0)" \
	test "$(dpkg -S "/usr/lib/$multiarch/libsnowsignal.so.0" 2>/dev/null | cut -d: -f1)" = libsnowsignal0
conffile_ok() { dpkg-query -W -f='${Conffiles}\n' snowsignal | grep -q '^ */etc/snowsignal/snowsignal.conf '; }
check "/etc/snowsignal/snowsignal.conf is a conffile" conffile_ok
unit_ok() { dpkg -L snowsignal | grep -q '/systemd/system/snowsignal\.service$'; }
check "the systemd unit is in the snowsignal package" unit_ok

snowsignal --version >"$work/version.out" 2>&1
version_ok() { grep -q '^snowsignal 0\.' "$work/version.out" && grep -qF "$plugindir" "$work/version.out"; }
check "snowsignal --version (plugin search path $plugindir)" version_ok || cat "$work/version.out"
cat "$work/version.out"
check_config_ok() { snowsignal --check-config >"$work/check.out" 2>&1 && grep -q '^configuration OK' "$work/check.out"; }
check "snowsignal --check-config with the packaged /etc/snowsignal/snowsignal.conf" check_config_ok ||
	cat "$work/check.out"
list_ok() {
	snowsignal --list-plugins >"$work/list.out" 2>&1 || return 1
	for p in mac-self ip-self pva-search ca-search udp-mesh dtls; do grep -q "^$p " "$work/list.out" || return 1; done
}
check "snowsignal --list-plugins lists the six shipped plugins" list_ok || cat "$work/list.out"
pc_ok() { [ "$(pkg-config --variable=plugindir snowsignal)" = "$plugindir" ]; }
check "pkg-config --variable=plugindir snowsignal is $plugindir" pc_ok
example_ok() { # NAME
	cp -R "/usr/share/doc/libsnowsignal-dev/examples/$1" "$work/$1" &&
		make -C "$work/$1" >"$work/example-$1.log" 2>&1 &&
		make -C "$work/$1" check >>"$work/example-$1.log" 2>&1
}
check "the shipped example filter (allowlist) builds against libsnowsignal-dev and loads (make check)" \
	example_ok allowlist || cat "$work/example-allowlist.log"
check "the shipped example transport (hmac-mesh) builds against libsnowsignal-dev and loads (make check)" \
	example_ok hmac-mesh || cat "$work/example-hmac-mesh.log"

# ---- 5: purge -----------------------------------------------------------------------------
say "apt-get purge"
if "${APT[@]}" purge "${PKGS[@]}" >"$out/purge.log" 2>&1; then
	ok "the packages purge"
else
	cat "$out/purge.log"
	bad "the packages purge"
fi
"${APT[@]}" purge snowsignal-build-deps >/dev/null 2>&1 || true
left() {
	local l
	l=$(ls -d /usr/lib/*/snowsignal /etc/snowsignal /usr/include/snowsignal /usr/sbin/snowsignal \
		/usr/lib/*/libsnowsignal* /usr/lib/*/pkgconfig/snowsignal.pc \
		/lib/systemd/system/snowsignal.service /usr/lib/systemd/system/snowsignal.service 2>/dev/null)
	[ -z "$l" ] || { echo "left behind:"; echo "$l"; return 1; }
}
check "nothing left in /usr/lib/*/snowsignal, /etc/snowsignal or elsewhere" left
gone() { ! dpkg-query -W -f='${db:Status-Abbrev}\n' "${PKGS[@]}" 2>/dev/null | grep -q '^.[^n]'; }
check "dpkg knows none of the packages any more" gone

if [ "$fail" = 0 ]; then echo "Debian packages: all checks passed"; else echo "Debian packages: FAILED"; fi
exit "$fail"
