#!/bin/sh
# Peer health over udp-mesh heartbeats (heartbeat_interval = 1 here):
#  1. two relays see each other up, with a round trip, in status (text and
#     JSON);
#  2. relay B stops: relay A logs it down after three lost heartbeats, and
#     status says so; B back: up again;
#  3. a peer that is not a relay (SnowSignal 0.1.x would log every datagram
#     it cannot read) gets three heartbeats, then one every 12 intervals.
. "$(dirname "$0")/lib.sh"
ss_init
ss_plan 9

T=$SS_TMP
ss_two_segments
SOCK=$T/control

start() { # NAME PEERS [ARGS...]
	_n=$1 _p=$2
	shift 2
	ss_conf "$T/$_n.conf" eth0 "$_p" "" "heartbeat_interval = 1; " ""
	ss_start_relay "$_n" "$T/$_n.log" --config "$T/$_n.conf" "$@" || return 1
	eval "PID_$_n=\$SS_RELAY_PID"
}

ok=yes
start relA "10.201.2.2 10.201.1.10" --control-socket "$SOCK" || ok=no
start relB 10.201.1.2 || ok=no
ss_check "two relays with heartbeat_interval = 1 start" [ $ok = yes ]

# ---- 1: up, with a round trip ------------------------------------------------------
ss_check "1: relay A logs relay B up once it answers" \
	ss_wait_for "$T/relA.log" 'peer answers heartbeats; it is up .*peer=10\.201\.2\.2' 1 5
"$SS_RELAY" status --control-socket "$SOCK" >"$T/status" 2>&1
"$SS_RELAY" status --control-socket "$SOCK" --json >"$T/status.json" 2>&1
ss_check "1: status shows B up with its round trip" \
	grep -qE '^  10\.201\.2\.2 +state=up .* rtt=[0-9.]+ms \(min [0-9.]+, smoothed [0-9.]+\) heartbeats_lost=0' "$T/status"
ss_check "1: and so does the JSON" \
	python3 -c "
import json, sys
s = json.load(open('$T/status.json'))
p = [p for p in s['peers'] if p['address'] == '10.201.2.2'][0]
assert p['state'] == 'up' and p['rtt_smoothed_ms'] > 0 and p['rtt_min_ms'] > 0, p
assert p['heartbeats_answered'] >= 1 and p['heartbeats_lost'] == 0, p
"

# ---- 2: down, and up again ------------------------------------------------------------
ss_stop "$PID_relB"
ss_check "2: B stopped: A logs it down after three lost heartbeats" \
	ss_wait_for "$T/relA.log" 'peer stopped answering heartbeats; it is down .*peer=10\.201\.2\.2' 1 6
"$SS_RELAY" status --control-socket "$SOCK" >"$T/status2" 2>&1
ss_check "2: status says down" grep -qE '^  10\.201\.2\.2 +state=down ' "$T/status2"
start relB 10.201.1.2
ss_check "2: B back: up again" \
	ss_wait_for "$T/relA.log" 'peer answers heartbeats; it is up .*peer=10\.201\.2\.2' 2 6

# ---- 3: a peer that never answers ------------------------------------------------------
# cli (10.201.1.10) is a peer of A but runs no relay: count the heartbeats
# it gets on the mesh port over 8 s (A has pinged it since its start).
ss_listen cli "$T/quiet.out" --port 7124 --timeout 8
l=$SS_LISTEN_PID
wait "$l"
n=$(ss_count "$T/quiet.out" '^RX src=10\.201\.1\.2:7124 .*len=16 ')
ss_check "3: a peer that never answers gets at most one heartbeat in 8 s after its first three ($n)" \
	[ "$n" -le 1 ]
stopped=yes
ss_stop "$PID_relA" || stopped=no
ss_stop "$PID_relB" || stopped=no
ss_check "relays exit 0 on SIGTERM" [ $stopped = yes ]
