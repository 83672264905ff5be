#!/bin/sh
# The daemon's command line and lifecycle: --version, --list-plugins,
# --check-config (good and bad), -h, bad options; and, in a namespace with
# one Ethernet interface, start, SIGUSR1 counters, SIGTERM clean exit, a
# missing interface.  TAP.
. "$(dirname "$0")/lib.sh"

ss_init
ss_plan 20
conf="$SS_TOP_SRCDIR/etc/snowsignal.conf"
out="$SS_TMP/out"
err="$SS_TMP/err"

"$SS_RELAY" --version >"$out" 2>&1
abi_major=$(sed -n 's/^#define SS_PLUGIN_ABI_MAJOR \([0-9]*\)$/\1/p' "$SS_TOP_SRCDIR/include/snowsignal/plugin.h")
abi_minor=$(sed -n 's/^#define SS_PLUGIN_ABI_MINOR \([0-9]*\)$/\1/p' "$SS_TOP_SRCDIR/include/snowsignal/plugin.h")
ss_check "--version names the version and plugin ABI ($abi_major.$abi_minor, plugin.h's)" \
	grep -q "plugin ABI $abi_major\.$abi_minor\$" "$out"
first_dir=${SNOWSIGNAL_PLUGIN_PATH%%:*}
ss_check "--version prints the plugin search path" grep -qF "$first_dir" "$out"

"$SS_RELAY" --list-plugins >"$out" 2>"$err"
ok=yes
for p in mac-self ip-self pva-search udp-mesh "setting allow_beacons" "setting port"; do
	grep -q "$p" "$out" || { ss_diag "--list-plugins lacks $p"; ok=no; }
done
ss_check "--list-plugins lists the shipped plugins and their settings" [ "$ok" = yes ]

"$SS_RELAY" --check-config -c "$conf" >"$out" 2>&1
ss_check "--check-config accepts the shipped snowsignal.conf" [ $? -eq 0 ]

printf 'version = 1;\ninstances = (\n  { name = "m"; plugin = "udp-mesh"; prot = 7124; }\n);\n' >"$SS_TMP/bad.conf"
"$SS_RELAY" --check-config -c "$SS_TMP/bad.conf" >"$out" 2>"$err"
st=$?
ss_check "--check-config rejects an unknown key with exit 1" [ "$st" -eq 1 ]
ss_check "the error names file:line and the key" grep -qF "$SS_TMP/bad.conf:3: instance 'm' (plugin udp-mesh) has no setting 'prot'" "$err"

"$SS_RELAY" -h >"$out" 2>&1
ss_check "-h explains the options" grep -q -- '--other-relays' "$out"

"$SS_RELAY" --bogus >"$out" 2>&1
st=$?
ss_check "an unknown option exits 1 with a message" sh -c "[ $st -eq 1 ] && grep -q bogus '$out'"

# A namespace with a veth pair: an Ethernet interface, enough to start a relay.
ss_ns solo
ip -n "$(ss_nsname solo)" link add d0 type veth peer name d1
ip -n "$(ss_nsname solo)" link set d1 up
ip -n "$(ss_nsname solo)" addr add 10.201.99.2/24 dev d0
ip -n "$(ss_nsname solo)" link set d0 up
log="$SS_TMP/relay.log"
if ss_start_relay solo "$log" -c "$conf" -t d0 --other-relays 10.201.99.3; then
	ss_ok "the relay starts and says so"
else
	ss_fail "the relay starts and says so"
fi
daemon_pid=$(ss_relay_pid solo)
kill -USR1 $daemon_pid
ss_check "SIGUSR1 logs the counters" ss_wait_for "$log" 'relay counters' 1 5
ss_stop "$SS_RELAY_PID"
st=$?
ss_check "SIGTERM stops the relay with exit 0" [ "$st" -eq 0 ]
ss_check "the counters are logged again at shutdown" ss_wait_for "$log" 'relay counters' 2 1

# The interface goes away and comes back while the relay runs.
ss_start_relay solo "$SS_TMP/relay2.log" -c "$conf" -t d0 --other-relays 10.201.99.3 ||
	ss_dump "$SS_TMP/relay2.log"
pid=$(ss_relay_pid solo)
ip -n "$(ss_nsname solo)" link del d0
ss_check "a vanished interface is reported" \
	ss_wait_for "$SS_TMP/relay2.log" "interface is gone.*interface=d0" 1 5
ip -n "$(ss_nsname solo)" link add d0 type veth peer name d1
ip -n "$(ss_nsname solo)" addr add 10.201.99.9/24 dev d1
ip -n "$(ss_nsname solo)" link set d0 up
ip -n "$(ss_nsname solo)" link set d1 up
ss_check "and its return too" ss_wait_for "$SS_TMP/relay2.log" "interface is back.*interface=d0" 1 5
ss_in solo "$SS_TOOLS/ss-udp-send" --src 10.201.99.9:40000 --dev d1 --dest 255.255.255.255 >/dev/null
kill -USR1 "$pid"
ss_check "the relay captures on the new interface" \
	ss_wait_for "$SS_TMP/relay2.log" 'relay counters captured=1 ' 1 5
ss_stop "$SS_RELAY_PID"

# A SIGHUP while the relay starts: its configuration is a FIFO, so it is
# held reading it (in main(), before the relay exists) until this script
# writes it, after the signal.  Without its handlers in place (or the
# signal held until they are), SIGHUP's default action ends the process.
mkfifo "$SS_TMP/conf.fifo"
hup_log="$SS_TMP/relay-hup.log"
ss_bg solo "$hup_log" "$SS_RELAY" -c "$SS_TMP/conf.fifo" -t d0 --other-relays 10.201.99.3
hup_wrapper=$SS_LAST_PID
exec 3<>"$SS_TMP/conf.fifo" # a writer that does not wait for the reader
# Until the relay has the FIFO open: polls, bounded.
deadline=$(($(date +%s) + 10)) hup_pid=
while [ "$(date +%s)" -le "$deadline" ]; do
	hup_pid=$(ss_relay_pid solo)
	[ -n "$hup_pid" ] && ls -l "/proc/$hup_pid/fd" 2>/dev/null | grep -q 'conf\.fifo' && break
	hup_pid=
	sleep 0.05
done
[ -n "$hup_pid" ] || { ss_diag "the relay never opened its configuration FIFO"; ss_dump "$hup_log"; }
[ -n "$hup_pid" ] && kill -HUP "$hup_pid"
cat "$conf" >&3
exec 3>&-
ss_check "a SIGHUP while the relay reads its configuration does not kill it: it starts" \
	ss_wait_for "$hup_log" 'relay started' 1 5
# The reload it asked for happens once the relay runs, and reads the FIFO
# again (a writer that waits for it, bounded).
timeout 10 sh -c "cat '$conf' >'$SS_TMP/conf.fifo'"
ss_check "and the SIGHUP is a reload, once the relay runs" \
	ss_wait_for "$hup_log" 'reloading the configuration reason=SIGHUP' 1 5
ss_check "which leaves it running" sh -c "kill -0 $hup_pid && ! grep -q 'rejected' '$hup_log'"
ss_stop "$hup_wrapper"

ss_in solo "$SS_RELAY" -c "$conf" -t nosuch0 >"$out" 2>&1
st=$?
ss_check "a missing interface exits 1" [ "$st" -eq 1 ]
ss_check "and the message names the interface" grep -q 'interface nosuch0: not found' "$out"
exit 0
