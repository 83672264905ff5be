#!/bin/sh
# `snowsignal status` over the control socket (text and JSON), and a relay
# that drops root after opening its sockets (--user) and still relays.
#
#   segment 1: cli .10, relA .2          segment 2: srv .10, relB .2
. "$(dirname "$0")/lib.sh"
ss_init
ss_plan 20

T=$SS_TMP
A=10.201.1.2 B=10.201.2.2
SOCK=$T/run/snowsignal/control # its directory made by the relay

ss_two_segments

NOBODY_UID=$(id -u nobody)
chmod 755 "$T" # nobody must reach its control socket (and, later, read a configuration)
# A relay that gave up root loads plugins as nobody on a reload: from a copy
# in $T, as the build tree may be where nobody cannot go (under /root, mode
# 700, say).
mkdir "$T/plugins"
cp "${SS_TOP_BUILDDIR:-.}"/plugins/.libs/*.so "$T/plugins/" && chmod 644 "$T/plugins/"*.so ||
	{ echo "Bail out! cannot copy the plugins of ${SS_TOP_BUILDDIR:-.}/plugins/.libs to $T/plugins"; exit 1; }
export SNOWSIGNAL_PLUGIN_PATH="$T/plugins" SNOWSIGNAL_PLUGINDIR="$T/plugins"
ss_start_relay relA "$T/relA.log" -t eth0 --control-socket "$SOCK" --user nobody \
	--other-relays "$B" || ss_dump "$T/relA.log"
relA_wrapper=$SS_RELAY_PID
ss_start_relay relB "$T/relB.log" -t eth0 --other-relays "$A" || ss_dump "$T/relB.log"
relA_pid=$(ss_relay_pid relA)

ss_check "relay A runs as nobody (uid $NOBODY_UID), real and effective" \
	sh -c "grep -q '^Uid:[[:space:]]*$NOBODY_UID[[:space:]]*$NOBODY_UID[[:space:]]' /proc/$relA_pid/status"
ss_check "its only capability is CAP_NET_RAW (effective and permitted)" \
	sh -c "grep -q '^CapEff:[[:space:]]*0000000000002000' /proc/$relA_pid/status &&
	       grep -q '^CapPrm:[[:space:]]*0000000000002000' /proc/$relA_pid/status"
# In every thread: capabilities, the bounding set and no_new_privs are
# each thread's own, and a thread started before root was given up keeps it.
ss_check "its capability bounding set is CAP_NET_RAW alone, in every thread" \
	sh -c "for s in /proc/$relA_pid/task/*/status; do
	         grep -q '^CapBnd:[[:space:]]*0000000000002000' \$s &&
	         grep -q '^CapEff:[[:space:]]*0000000000002000' \$s &&
	         grep -q '^CapAmb:[[:space:]]*0000000000000000' \$s || exit 1; done"
ss_check "no exec can give it a privilege back (NoNewPrivs), in every thread" \
	sh -c "for s in /proc/$relA_pid/task/*/status; do grep -q '^NoNewPrivs:[[:space:]]*1' \$s || exit 1; done"
ss_listen srv "$T/b1" --timeout 3 --count 3
LIS=$SS_LISTEN_PID
ss_in cli "$SS_TOOLS/ss-udp-send" --src 10.201.1.10:48001 --dest 255.255.255.255 --count 3 >/dev/null
wait "$LIS"
ss_check "and still relays: 3 broadcasts from A arrive on B" \
	[ "$(ss_count "$T/b1" '^RX src=10\.201\.1\.10:48001 .*intact=yes dup=no')" = 3 ]

ss_check "the control socket is mode 0660" [ "$(stat -c %a "$SOCK")" = 660 ]
"$SS_RELAY" status --control-socket "$SOCK" >"$T/status" 2>&1
ss_check "status answers" [ $? -eq 0 ]
ss_check "status shows the peer, its state and what was sent to it" \
	grep -qE "^  $B +state=up sent=3 \(" "$T/status"
ss_check "status shows each chain instance's counters" \
	grep -qE '^  mac-self +mac-self +seen=3 passed=3 dropped=0 errors=0' "$T/status"
ss_check "status shows the relay counters" grep -q '^relay: captured=3 relayed=3 ' "$T/status"
"$SS_RELAY" status --json --control-socket "$SOCK" >"$T/status.json" 2>&1
if command -v python3 >/dev/null 2>&1; then
	ss_check "status --json is valid JSON with the peer's counters" python3 -c "
import json, sys
d = json.load(open('$T/status.json'))
p = d['peers'][0]
sys.exit(not (p['address'] == '$B' and p['sent'] == 3 and p['state'] == 'up'
              and d['outbound'][0]['name'] == 'mac-self' and d['relay']['relayed'] == 3))"
else
	ss_check "status --json carries the peer's counters" grep -q "\"address\":\"$B\".*\"sent\":3" "$T/status.json"
fi

# A second relay on the same socket path must not take it over.
ss_ns solo
ip -n "$(ss_nsname solo)" link add d0 type veth peer name d1
ip -n "$(ss_nsname solo)" link set d0 up
ip -n "$(ss_nsname solo)" link set d1 up
ss_start_relay solo "$T/solo.log" -t d0 --control-socket "$SOCK" || ss_dump "$T/solo.log"
ss_check "a second relay on the same control socket says so and leaves it alone" \
	grep -q 'another snowsignal answers on' "$T/solo.log"
"$SS_RELAY" status --control-socket "$SOCK" >"$T/status2" 2>&1
ss_check "and status still reaches the first relay" grep -qE "^  $B +state=up" "$T/status2"

# The relay that dropped root removes its socket at exit: the directory it
# made for it is nobody's.
ss_stop "$SS_RELAY_PID"
ss_check "the control socket's directory, made by the relay, belongs to nobody" \
	[ "$(stat -c %u "$(dirname "$SOCK")")" = "$NOBODY_UID" ]
ss_stop "$relA_wrapper"
ss_check "and the relay, as nobody, removed its control socket at exit" [ ! -e "$SOCK" ]

# A reload cannot change the user once root is gone: refused, relay unchanged.
printf 'version = 1;\ninterface = "d0";\nuser = "nobody";\n' >"$T/solo.conf"
chmod 755 "$T" # nobody must be able to read the file again on reload
chmod 644 "$T/solo.conf"
ss_start_relay solo "$T/solo2.log" -c "$T/solo.conf" || ss_dump "$T/solo2.log"
solo_pid=$(ss_relay_pid solo)
printf 'version = 1;\ninterface = "d0";\nuser = "daemon";\n' >"$T/solo.conf"
kill -HUP "$solo_pid"
ss_check "a reload that changes 'user' after root was given up is refused" \
	ss_wait_for "$T/solo2.log" "new configuration rejected.*'user' changed" 1 5
ss_check "and the relay goes on as before" kill -0 "$solo_pid"

# A mesh port below 1024 cannot be bound without root: the reload fails to
# start, and the previous configuration runs again.
ss_conf "$T/solo.conf" d0 "" 'user = "nobody";' "port = 700; " ""
kill -HUP "$solo_pid"
ss_check "a reload to mesh port 700 after root was given up is refused: permission denied" \
	ss_wait_for "$T/solo2.log" "new configuration rejected.*:700: Permission denied" 1 5
ss_check "and the previous configuration runs again in the same process" \
	sh -c "grep -q 'the previous one is running again' '$T/solo2.log' && kill -0 $solo_pid"

"$SS_RELAY" status --control-socket "$T/nothing.sock" >"$T/status3" 2>&1
st=$?
ss_check "status with no relay there exits 1 and says what to check" \
	sh -c "[ $st -eq 1 ] && grep -q 'cannot reach the relay at $T/nothing.sock' '$T/status3'"
exit 0
