#!/bin/sh
# The plugin SDK as a plugin author outside the tree meets it:
#
#   1. `make install DESTDIR=$T/root` of this build tree: a staged install;
#   2. pkg-config finds the staged snowsignal.pc (PKG_CONFIG_PATH) and, with
#      PKG_CONFIG_SYSROOT_DIR, gives paths under $T/root;
#   3. examples/allowlist is copied out of the source tree and built with its
#      own plain Makefile against the staged headers and .pc only, then
#      `make install` puts it into the staged plugindir;
#   4. the staged daemon loads it (--check-config, --list-plugins) and refuses
#      a bad prefix, naming it;
#   5. two segments, relay A's outbound chain ending with source-allowlist
#      (allow 10.201.1.0/28): a broadcast from cli .10 crosses to B, one from
#      rogue .66 does not;
#   6. examples/hmac-mesh, the example transport, the same way: built with
#      its Makefile, its own `make check` passing (--check-config and
#      --list-plugins from its folder), installed; then relays A and B carry
#      broadcasts over it, and relay C on a third segment, holding another
#      key, is refused by B (bad_mac) and by A, which does not list it
#      (from_stranger).
#
#   segment A 10.201.1.0/24              segment B 10.201.2.0/24
#   cli .10  rogue .66                   srv .10
#   relA .2 ────── udp-mesh :7124 ────── relB .2
#           ────── hmac-mesh :7126 ─────   │
#   segment C 10.201.3.0/24                │
#   cli3 .10  relC .2 ── hmac-mesh, another key
. "$(dirname "$0")/lib.sh"
ss_init
ss_plan 22

T=$SS_TMP
ROOT=$T/root
TOP_SRC=${SS_TOP_SRCDIR:-.}
TOP_BUILD=${SS_TOP_BUILDDIR:-.}
LISTEN=2.5
A=10.201.1.2 B=10.201.2.2 CLI=10.201.1.10 ROGUE=10.201.1.66

# check DESC FILE CMD...: ss_check, and FILE as diagnostics when it fails.
check() {
	_failed=$SS_TAP_FAILED _desc=$1 _file=$2
	shift 2
	ss_check "$_desc" "$@"
	[ "$SS_TAP_FAILED" = "$_failed" ] || ss_dump "$_file"
}

# make, without the jobserver and flags of a `make check` this may run under.
plain_make() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES make "$@"; }

# ---- 1-2: staged install --------------------------------------------------------
if plain_make -C "$TOP_BUILD" install DESTDIR="$ROOT" >"$T/install.log" 2>&1; then
	ss_ok "make install DESTDIR=\$T/root of the build tree"
else
	ss_fail "make install DESTDIR=\$T/root of the build tree"
	ss_dump "$T/install.log"
	echo "Bail out! nothing to build a plugin against"
	exit 1
fi

PC=$(find "$ROOT" -path '*/pkgconfig/snowsignal.pc' -type f | head -n 1)
DAEMON=$(find "$ROOT" -path '*/sbin/snowsignal' -type f | head -n 1)
export PKG_CONFIG_PATH="${PC%/*}"
export PKG_CONFIG_SYSROOT_DIR="$ROOT"
LIBDIR=$(pkg-config --variable=libdir snowsignal)
INCLUDEDIR=$(pkg-config --variable=includedir snowsignal)
PLUGINDIR=$(pkg-config --variable=plugindir snowsignal)
# pkg-config implementations differ on whether --variable gets the sysroot.
case $LIBDIR in "$ROOT"/*) ;; *) LIBDIR=$ROOT$LIBDIR ;; esac
case $INCLUDEDIR in "$ROOT"/*) ;; *) INCLUDEDIR=$ROOT$INCLUDEDIR ;; esac
case $PLUGINDIR in "$ROOT"/*) ;; *) PLUGINDIR=$ROOT$PLUGINDIR ;; esac

layout_ok() {
	_ok=0
	[ -n "$PC" ] || { ss_diag "no snowsignal.pc installed"; _ok=1; }
	[ -x "$DAEMON" ] || { ss_diag "no sbin/snowsignal installed"; _ok=1; }
	[ -f "$LIBDIR/libsnowsignal.so.0" ] || { ss_diag "no $LIBDIR/libsnowsignal.so.0"; _ok=1; }
	[ -L "$LIBDIR/libsnowsignal.so" ] || { ss_diag "no libsnowsignal.so link"; _ok=1; }
	if command -v readelf >/dev/null 2>&1 &&
		! readelf -d "$LIBDIR/libsnowsignal.so.0" | grep -q 'SONAME.*\[libsnowsignal\.so\.0\]'; then
		ss_diag "libsnowsignal.so.0 has no SONAME libsnowsignal.so.0"
		_ok=1
	fi
	for _h in snowsignal.h plugin.h packet.h config.h log.h version.h; do
		[ -f "$INCLUDEDIR/snowsignal/$_h" ] || { ss_diag "header $_h not installed"; _ok=1; }
	done
	for _p in mac-self ip-self pva-search udp-mesh; do
		[ -f "$PLUGINDIR/$_p.so" ] || { ss_diag "plugin $_p.so not in $PLUGINDIR"; _ok=1; }
	done
	if ls "$PLUGINDIR"/*.la >/dev/null 2>&1; then ss_diag "plugin .la files installed"; _ok=1; fi
	[ -n "$(find "$ROOT" -path '*/snowsignal/snowsignal.conf' -type f)" ] ||
		{ ss_diag "no snowsignal.conf under sysconfdir/snowsignal"; _ok=1; }
	return $_ok
}
ss_check "staged install: daemon, libsnowsignal.so.0 (soname), headers, .pc, plugins without .la, snowsignal.conf" layout_ok

# ---- 3: pkg-config ------------------------------------------------------------
# A sysroot holds the dependencies too: pkg-config puts the sysroot before
# GLib's paths as well, so GLib's header directories are linked into it.
for d in $(PKG_CONFIG_SYSROOT_DIR='' pkg-config --cflags-only-I glib-2.0); do
	d=${d#-I}
	[ -e "$ROOT$d" ] || { mkdir -p "$(dirname "$ROOT$d")" && ln -s "$d" "$ROOT$d"; }
done
CFLAGS_SS=$(pkg-config --cflags snowsignal)
LIBS_SS=$(pkg-config --libs snowsignal)
pc_ok() {
	case " $CFLAGS_SS " in *" -I$INCLUDEDIR "*) ;; *) return 1 ;; esac
	case " $LIBS_SS " in *" -L$LIBDIR "*) ;; *) return 1 ;; esac
	case $PLUGINDIR in "$ROOT"/*/snowsignal/plugins) return 0 ;; *) return 1 ;; esac
}
printf 'cflags: %s\nlibs: %s\nplugindir: %s\n' "$CFLAGS_SS" "$LIBS_SS" "$PLUGINDIR" >"$T/pc.out"
check "pkg-config --cflags --libs and --variable=plugindir give the staged paths" "$T/pc.out" pc_ok

# ---- 4-5: the example, out of tree --------------------------------------------
EX=$T/allowlist
cp -R "$TOP_SRC/examples/allowlist" "$EX" && chmod -R u+w "$EX"
rm -f "$EX"/*.so
built_ok() {
	(cd "$EX" && plain_make) >"$T/example.log" 2>&1 || return 1
	[ -f "$EX/source-allowlist.so" ] || return 1
	# The compiler saw the staged headers, and nothing of the source or build tree.
	grep -qF -- "-I$INCLUDEDIR" "$T/example.log" || return 1
	! grep -qF -- "-I$(cd "$TOP_SRC" && pwd)" "$T/example.log" &&
		! grep -qF -- "-I$(cd "$TOP_BUILD" && pwd)" "$T/example.log"
}
check "examples/allowlist builds out of tree with its Makefile against the staged headers and .pc only" \
	"$T/example.log" built_ok
installed_ok() {
	(cd "$EX" && plain_make install) >>"$T/example.log" 2>&1 && [ -f "$PLUGINDIR/source-allowlist.so" ]
}
check "make install puts source-allowlist.so into pkg-config's plugindir" "$T/example.log" installed_ok

# ---- 6-8: the staged daemon loads it ------------------------------------------
# The staged daemon, its staged library and plugins (nothing installed on
# this machine is used).
cat >"$T/snowsignal" <<EOF
#!/bin/sh
LD_LIBRARY_PATH='$LIBDIR' SNOWSIGNAL_PLUGIN_PATH='$PLUGINDIR' SNOWSIGNAL_PLUGINDIR='$PLUGINDIR' exec '$DAEMON' "\$@"
EOF
chmod +x "$T/snowsignal"
SS_RELAY=$T/snowsignal

# conf FILE OUTBOUND-EXTRA ALLOW PEER: a relay configuration.
conf() {
	cat >"$1" <<EOF
version = 1;
interface = "eth0";
broadcast_ports = [ 5076 ];
log_level = "debug";
instances = (
  { name = "mac-self"; plugin = "mac-self"; },
  { name = "ip-self"; plugin = "ip-self"; },
  { name = "allow"; plugin = "source-allowlist"; allow = [ $3 ]; },
  { name = "mesh"; plugin = "udp-mesh"; port = 7124; }
);
outbound = [ "mac-self", "ip-self"$2 ];
inbound = [ ];
transports = [ "mesh" ];
peers = { hosts = [ "$4" ]; };
EOF
}
conf "$T/a.conf" ', "allow"' '"10.201.1.0/28", "192.0.2.7"' "$B"
conf "$T/b.conf" '' '"10.201.1.0/28"' "$A"
conf "$T/bad.conf" ', "allow"' '"10.201.1.0/28", "10.201.1.7/28"' "$B"

checked_ok() {
	"$SS_RELAY" --config "$T/a.conf" --check-config >"$T/check.out" 2>&1 &&
		[ "$(ss_count "$T/check.out" '^configuration OK')" = 1 ] || return 1
	# ... and it ran with the staged libsnowsignal, not one installed on this machine.
	command -v ldd >/dev/null 2>&1 || return 0
	LD_LIBRARY_PATH=$LIBDIR ldd "$DAEMON" >>"$T/check.out" 2>&1
	grep -qF "$LIBDIR/libsnowsignal.so.0" "$T/check.out"
}
check "the staged snowsignal --check-config loads the installed source-allowlist" "$T/check.out" checked_ok
"$SS_RELAY" --config "$T/a.conf" --list-plugins >"$T/list.out" 2>&1
check "--list-plugins shows source-allowlist from the plugindir, with its setting" "$T/list.out" [ "$(ss_count "$T/list.out" '^source-allowlist .*filter')" = 1 -a \
	"$(ss_count "$T/list.out" "file: $PLUGINDIR/source-allowlist\\.so")" = 1 -a \
	"$(ss_count "$T/list.out" 'setting allow ')" = 1 ]
"$SS_RELAY" --config "$T/bad.conf" --check-config >"$T/bad.out" 2>&1
check "a bad prefix is refused at instance_new, naming the entry" "$T/bad.out" \
	[ $? = 1 -a "$(ss_count "$T/bad.out" "bad\\.conf:[0-9]+: .*'allow' entry 2, \"10\\.201\\.1\\.7/28\", is not a valid IPv4 prefix")" = 1 ]

# ---- 9-13: relaying through it ----------------------------------------------------
ss_router r
ss_segment r 1
ss_segment r 2
ss_host cli r 1 10
ss_host rogue r 1 66
ss_host relA r 1 2
ss_host relB r 2 2
ss_host srv r 2 10

if ss_start_relay relA "$T/relA.log" --config "$T/a.conf" &&
	PID_A=$SS_RELAY_PID &&
	ss_start_relay relB "$T/relB.log" --config "$T/b.conf" &&
	PID_B=$SS_RELAY_PID; then
	ss_ok "relays A (outbound chain with source-allowlist) and B start"
else
	ss_fail "relays A (outbound chain with source-allowlist) and B start"
	echo "Bail out! relays did not start"
	exit 1
fi

ss_listen srv "$T/b1" --timeout $LISTEN
PID_SRV=$SS_LISTEN_PID
ss_in cli "$SS_TOOLS/ss-udp-send" --src $CLI:45101 --dest 255.255.255.255 --count 3 >/dev/null
ss_in rogue "$SS_TOOLS/ss-udp-send" --src $ROGUE:45102 --dest 255.255.255.255 --count 4 >/dev/null
wait "$PID_SRV"
check "a broadcast from $CLI (inside 10.201.1.0/28) crosses to segment B" "$T/relA.log" [ "$(ss_count "$T/b1" "^RX src=10\\.201\\.1\\.10:45101 .*intact=yes dup=no")" = 3 ]
check "a broadcast from $ROGUE (outside the allowlist) does not" "$T/b1" \
	[ "$(ss_count "$T/b1" "^RX src=10\\.201\\.1\\.66:")" = 0 -a "$(ss_count "$T/b1" '^RX ')" = 3 ]

ss_stop "$PID_A"
ST_A=$?
ss_stop "$PID_B"
ST_B=$?
ss_check "relays A and B exit 0 on SIGTERM" [ "$ST_A" = 0 -a "$ST_B" = 0 ]
check "relay A counted the 4 frames outside the allowlist (not_allowed=4)" "$T/relA.log" \
	[ "$(ss_count "$T/relA.log" 'instance counters.*allow.*not_allowed=4')" -ge 1 ]

# ---- 14-17: the example transport, out of tree -------------------------------------
HM=$T/hmac-mesh
cp -R "$TOP_SRC/examples/hmac-mesh" "$HM" && chmod -R u+w "$HM"
rm -f "$HM"/*.so
hm_built_ok() {
	(cd "$HM" && plain_make CFLAGS="-O2 -g -Werror") >"$T/hmac.log" 2>&1 || return 1
	[ -f "$HM/hmac-mesh.so" ] && grep -qF -- "-I$INCLUDEDIR" "$T/hmac.log"
}
check "examples/hmac-mesh builds out of tree with its Makefile (-Werror) against the staged headers and .pc" \
	"$T/hmac.log" hm_built_ok
# `make check` points SNOWSIGNAL_PLUGIN_PATH at its own folder: it runs the
# staged daemon through a wrapper that leaves that variable alone.
cat >"$T/snowsignal-sdk" <<EOF
#!/bin/sh
LD_LIBRARY_PATH='$LIBDIR' SNOWSIGNAL_PLUGINDIR='$PLUGINDIR' exec '$DAEMON' "\$@"
EOF
chmod +x "$T/snowsignal-sdk"
hm_make_check_ok() { (cd "$HM" && plain_make check SNOWSIGNAL="$T/snowsignal-sdk") >>"$T/hmac.log" 2>&1; }
check "make check in examples/hmac-mesh loads it (--check-config, --list-plugins from its folder)" \
	"$T/hmac.log" hm_make_check_ok
hm_installed_ok() {
	(cd "$HM" && plain_make install) >>"$T/hmac.log" 2>&1 && [ -f "$PLUGINDIR/hmac-mesh.so" ]
}
check "make install puts hmac-mesh.so into pkg-config's plugindir" "$T/hmac.log" hm_installed_ok

C=10.201.3.2 CLI3=10.201.3.10
printf '%s\n' 'the key of relays A and B, 32 bytes' >"$T/ab.key"
printf '%s\n' 'another key, held by relay C only' >"$T/c.key"
printf '%s\n' 'too short' >"$T/short.key"
# hconf FILE KEY PEER...: a relay configuration with hmac-mesh as its transport.
hconf() {
	_file=$1 _key=$2
	shift 2
	_hosts=
	for _h in "$@"; do _hosts="$_hosts${_hosts:+, }\"$_h\""; done
	cat >"$_file" <<EOF
version = 1;
interface = "eth0";
broadcast_ports = [ 5076 ];
instances = (
  { name = "mac-self"; plugin = "mac-self"; },
  { name = "ip-self"; plugin = "ip-self"; },
  { name = "signed"; plugin = "hmac-mesh"; key_file = "$_key"; }
);
outbound = [ "mac-self", "ip-self" ];
inbound = [ ];
transports = [ "signed" ];
peers = { hosts = [ $_hosts ]; };
EOF
}
hconf "$T/ha.conf" "$T/ab.key" "$B"
hconf "$T/hb.conf" "$T/ab.key" "$A" "$C"
hconf "$T/hc.conf" "$T/c.key" "$A" "$B"
hconf "$T/hshort.conf" "$T/short.key" "$B"
"$SS_RELAY" --config "$T/hshort.conf" --check-config >"$T/hshort.out" 2>&1
check "a key_file shorter than 16 bytes is refused at instance_new, naming file:line and the file" \
	"$T/hshort.out" [ $? = 1 -a \
	"$(ss_count "$T/hshort.out" "hshort\\.conf:[0-9]+: key_file .*/short\\.key holds 9 bytes, fewer than 16")" = 1 ]

# ---- 18-23: relaying over it ---------------------------------------------------------
ss_segment r 3
ss_host relC r 3 2
ss_host cli3 r 3 10
if ss_start_relay relA "$T/hA.log" --config "$T/ha.conf" &&
	PID_A=$SS_RELAY_PID &&
	ss_start_relay relB "$T/hB.log" --config "$T/hb.conf" &&
	PID_B=$SS_RELAY_PID &&
	ss_start_relay relC "$T/hC.log" --config "$T/hc.conf" &&
	PID_C=$SS_RELAY_PID; then
	ss_ok "relays A and B (hmac-mesh, one key) and C (another key) start"
else
	ss_fail "relays A and B (hmac-mesh, one key) and C (another key) start"
	echo "Bail out! relays did not start"
	exit 1
fi

ss_listen srv "$T/b2" --timeout $LISTEN
PID_SRV=$SS_LISTEN_PID
ss_in cli3 "$SS_TOOLS/ss-udp-send" --src $CLI3:45103 --dest 255.255.255.255 --count 4 >/dev/null
ss_in cli "$SS_TOOLS/ss-udp-send" --src $CLI:45101 --dest 255.255.255.255 --count 3 >/dev/null
wait "$PID_SRV"
check "a broadcast from $CLI crosses to segment B over hmac-mesh, intact" "$T/hA.log" \
	[ "$(ss_count "$T/b2" "^RX src=10\\.201\\.1\\.10:45101 .*intact=yes dup=no")" = 3 ]
check "one from $CLI3, signed by relay C with another key, does not" "$T/b2" \
	[ "$(ss_count "$T/b2" "^RX src=10\\.201\\.3\\.10:")" = 0 -a "$(ss_count "$T/b2" '^RX ')" = 3 ]

ss_stop "$PID_A"
ST_A=$?
ss_stop "$PID_B"
ST_B=$?
ss_stop "$PID_C"
ST_C=$?
ss_check "relays A, B and C exit 0 on SIGTERM" [ "$ST_A" = 0 -a "$ST_B" = 0 -a "$ST_C" = 0 ]
# A sent B the 3 frames, which B received from peer A; C's 4 were refused
# by B, which lists C (bad_mac), and by A, which does not (from_stranger).
counted_ok() {
	[ "$(ss_count "$T/hA.log" 'instance counters.*hmac-mesh.*[ "]sent=3[ "]')" -ge 1 ] &&
		[ "$(ss_count "$T/hA.log" 'instance counters.*hmac-mesh.*[ "]from_stranger=4[ "]')" -ge 1 ] &&
		[ "$(ss_count "$T/hB.log" 'instance counters.*hmac-mesh.*[ "]bad_mac=4[ "]')" -ge 1 ] &&
		[ "$(ss_count "$T/hB.log" 'instance counters.*hmac-mesh.*[ "]received=3[ "]')" -ge 1 ] &&
		[ "$(ss_count "$T/hB.log" 'peer counters.*10\.201\.1\.2 .*received=3')" -ge 1 ]
}
_failed_before=$SS_TAP_FAILED
check "counted: A sent=3, from_stranger=4; B received=3 (from peer A), bad_mac=4" "$T/hB.log" counted_ok
[ "$SS_TAP_FAILED" = "$_failed_before" ] || ss_dump "$T/hA.log"
