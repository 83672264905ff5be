#!/bin/sh
# The dtls transport with pre-shared keys, two and then three relays:
#
#   segment A 10.201.1.0/24      segment B 10.201.2.0/24     segment C 10.201.3.0/24
#   cli .10  rogue .66           srv .10  obsB .20           srvC .10
#   relA .2 ───────── dtls :7125 ─ relB .2 ─────────────────── relC .2
#
# A search crosses, and each frame is counted once; plaintext "SS" messages and forged records from an
# attacker are never emitted; a wrong key never connects and says so; a
# relay killed with SIGKILL and restarted is taken back within seconds; a
# ClientHello flood keeps the relay's memory bounded.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dtls-lib.sh"
ss_init
dtls_need_tools
ss_plan 18

T=$SS_TMP
A=10.201.1.2 B=10.201.2.2 C=10.201.3.2
LISTEN=2

ss_router r
for s in 1 2 3; do ss_segment r $s; done
ss_host cli r 1 10
ss_host rogue r 1 66
ss_host relA r 1 2
ss_host relB r 2 2
ss_host srv r 2 10
ss_host obsB r 2 20
ss_host relC r 3 2
ss_host srvC r 3 10
dtls_tools "$T"

dtls_psk "$T/mesh.psk" relays
dtls_psk "$T/other.psk" relays
dtls_conf "$T/good.conf" "psk_file = \"$T/mesh.psk\"; max_half_open = 8;"
dtls_conf "$T/wrong.conf" "psk_file = \"$T/other.psk\";"

PHASE_FAILED=0
phase_end() {
	[ "$SS_TAP_FAILED" = "$PHASE_FAILED" ] && return 0
	PHASE_FAILED=$SS_TAP_FAILED
	for f in "$@"; do ss_dump "$f"; done
}

# ---- 1-2: two relays, one association, a search crosses --------------------
if dtls_relay relA "$T/relA.log" "$T/good.conf" $B && PID_A=$SS_RELAY_PID &&
	dtls_relay relB "$T/relB.log" "$T/good.conf" $A && PID_B=$SS_RELAY_PID &&
	dtls_up "$T/relA.log" 1 && dtls_up "$T/relB.log" 1; then
	ss_ok "relays A and B start and establish a PSK association"
else
	ss_fail "relays A and B start and establish a PSK association"
	phase_end "$T/relA.log" "$T/relB.log"
	echo "Bail out! no association; nothing else can be tested"
	exit 1
fi
ss_check "a PVA search from A is answered by the responder on B over dtls" \
	dtls_search cli srv "$T/search1"
phase_end "$T/relA.log" "$T/relB.log" "$T/search1" "$T/search1.resp"
# Keepalives (every second here) are probes that measure the round trip:
# the peer's health engages as with udp-mesh heartbeats.
ss_check "keepalive probes are answered: A logs B up with a round trip" \
	ss_wait_for "$T/relA.log" 'peer answers heartbeats; it is up .*rtt_ms=[0-9.]*[1-9]' 1 5

# ---- 3: a frame of the largest size the MTU allows travels whole ------------
ss_listen srv "$T/b1" --timeout $LISTEN
PID_L=$SS_LISTEN_PID
ss_in cli "$SS_TOOLS/ss-udp-send" --src 10.201.1.10:45001 --dest 255.255.255.255 --size max >"$T/max.out"
wait $PID_L
MAX=$(sed -n 's/.* size=\([0-9]*\) .*/\1/p' "$T/max.out")
ss_check "a broadcast of ${MAX:-?} bytes (1514-byte frame) arrives whole on B" \
	[ "$(ss_count "$T/b1" "^RX src=10\.201\.1\.10:45001 .* len=$MAX .*intact=yes dup=no")" = 1 ]
phase_end "$T/b1" "$T/relA.log"

# ---- 4: each frame received is counted once, for the peer and the instance ----
COUNTERS=$(dtls_counters relB "$PID_B" "$T/relB.log")
INST_RX=$(printf '%s\n' "$COUNTERS" | sed -n 's/.*[" ]received=\([0-9]*\).*/\1/p')
ss_wait_for "$T/relB.log" "peer counters peer=$A " 1 5
PEER_RX=$(grep "peer counters peer=$A " "$T/relB.log" | tail -n 1 | sed -n 's/.* received=\([0-9]*\).*/\1/p')
ss_diag "instance received=$INST_RX, peer $A received=$PEER_RX"
ss_check "relay B counts each frame from A once: the peer's received equals the instance's" \
	eval '[ -n "$INST_RX" ] && [ "$INST_RX" -ge 2 ] && [ "$PEER_RX" = "$INST_RX" ]'
phase_end "$T/relB.log"

# ---- 5-7: an attacker -----------------------------------------------------------
ss_listen srv "$T/b2" --timeout $LISTEN
PID_L=$SS_LISTEN_PID
ss_in rogue "$SS_TOOLS/ss-udp-send" --mesh --dest $B --port $DTLS_PORT --inner-src 10.201.1.66:45002 --count 3 >/dev/null
ss_in rogue python3 "$T/attack.py" spoof $A $DTLS_PORT $B $DTLS_PORT ss 3
ss_in rogue python3 "$T/attack.py" spoof $A $DTLS_PORT $B $DTLS_PORT record 20
wait $PID_L
ss_check "plaintext \"SS\" messages (own and forged source) and forged records are never emitted on B" \
	[ "$(ss_count "$T/b2" '^RX ')" = 0 ]
COUNTERS=$(dtls_counters relB "$PID_B" "$T/relB.log")
ss_diag "$COUNTERS"
has() { printf '%s\n' "$COUNTERS" | grep -qE "$1"; }
ss_check "relay B counted the plaintext messages as refused" has 'plaintext_refused=[1-9]'
ss_check "the association survives the forged records: a search still crosses" \
	dtls_search cli srv "$T/search2"
phase_end "$T/b2" "$T/relB.log" "$T/search2"

# ---- 8-9: kill -9 and restart of either relay --------------------------------
dtls_kill9 "$PID_B"
heal() { # NAME LOG PEER: restart NAME, its association back within 8 s, search crosses
	dtls_relay "$1" "$2" "$T/good.conf" "$3" && dtls_up "$2" 1 8 && dtls_search cli srv "$T/search-$1"
}
if heal relB "$T/relB2.log" $A; then PID_B=$SS_RELAY_PID; ss_ok "relay B (server side) killed with SIGKILL and restarted: association and search back within seconds"
else ss_fail "relay B (server side) killed with SIGKILL and restarted: association and search back within seconds"; fi
phase_end "$T/relB2.log" "$T/relA.log"
dtls_kill9 "$PID_A"
if heal relA "$T/relA2.log" $B; then PID_A=$SS_RELAY_PID; ss_ok "relay A (client side) killed with SIGKILL and restarted: association and search back within seconds"
else ss_fail "relay A (client side) killed with SIGKILL and restarted: association and search back within seconds"; fi
phase_end "$T/relA2.log" "$T/relB2.log"

# ---- 10: a ClientHello flood ---------------------------------------------------
# rogue is made a peer of B so its ClientHellos pass the peer check and
# answer the cookie exchange: the worst case, bounded by max_half_open.
ss_stop "$PID_B"
dtls_relay relB "$T/relB3.log" "$T/good.conf" $A 10.201.1.66 && PID_B=$SS_RELAY_PID && dtls_up "$T/relB3.log" 1
RSS0=$(dtls_rss "$PID_B")
ss_in rogue python3 "$T/attack.py" flood $B $DTLS_PORT 200 10 >"$T/flood"
RSS1=$(dtls_rss "$PID_B")
COUNTERS=$(dtls_counters relB "$PID_B" "$T/relB3.log")
ss_diag "$(cat "$T/flood") rss before=${RSS0}kB after=${RSS1}kB" "$COUNTERS"
ss_check "a flood of 2000 ClientHellos (cookies answered) keeps relay B's memory bounded (< 4 MB growth) and hits the half-open cap" \
	eval '[ -n "$RSS1" ] && [ $((RSS1 - RSS0)) -lt 4096 ] && has "half_open_full=[1-9]"'
ss_check "after the flood a search still crosses" dtls_search cli srv "$T/search3"
phase_end "$T/flood" "$T/relB3.log"

# ---- 11-12: a wrong key --------------------------------------------------------
ss_stop "$PID_B"
dtls_relay relB "$T/relB4.log" "$T/wrong.conf" $A && PID_B=$SS_RELAY_PID
ss_check "with a wrong key relay A logs that a key mismatch is likely" \
	ss_wait_for "$T/relA2.log" 'likely a key mismatch' 1 12
ss_check "with a wrong key no association is established and nothing crosses" \
	[ "$(ss_count "$T/relB4.log" 'association established')" = 0 ] && ! dtls_search cli srv "$T/search4"
phase_end "$T/relA2.log" "$T/relB4.log"

# ---- 13-15: three relays -------------------------------------------------------
ss_stop "$PID_B"
ss_stop "$PID_A"
dtls_relay relA "$T/relA5.log" "$T/good.conf" $B $C && PID_A=$SS_RELAY_PID
dtls_relay relB "$T/relB5.log" "$T/good.conf" $A $C && PID_B=$SS_RELAY_PID
dtls_relay relC "$T/relC5.log" "$T/good.conf" $A $B && PID_C=$SS_RELAY_PID
three_up() {
	dtls_up "$T/relA5.log" 2 && dtls_up "$T/relB5.log" 2 && dtls_up "$T/relC5.log" 2 &&
		for l in relA5 relB5 relC5; do [ "$(ss_count "$T/$l.log" 'association established')" = 2 ] || return 1; done
}
ss_check "three relays: each establishes exactly two associations" three_up
ss_check "three relays: a search from A is answered on C" dtls_search cli srvC "$T/search5"
ss_check "three relays: a search from C is answered on B" dtls_search srvC srv "$T/search6"
phase_end "$T/relA5.log" "$T/relB5.log" "$T/relC5.log"

# Under --enable-sanitizers a leak or an error report makes the exit non-zero.
clean_exit() { ss_stop "$PID_A" && ss_stop "$PID_B" && ss_stop "$PID_C"; }
ss_check "the three relays exit 0 on SIGTERM (no sanitizer report)" clean_exit
phase_end "$T/relA5.log" "$T/relB5.log" "$T/relC5.log"
[ "$SS_TAP_FAILED" = 0 ]
