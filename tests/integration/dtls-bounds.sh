#!/bin/sh
# The dtls transport bounds the handshakes it starts, as it bounds those
# it answers: a relay given many peers at once (every address of a DNS
# answer, say) opens at most max_half_open client handshakes, and the
# other peers wait their turn.
#
#   segment A 10.201.1.0/24          segment B 10.201.2.0/24
#   relA .2 (max_half_open = 2)      .11 ... .18: peers that never answer
#
# relA has the lower address, so it is the client of all eight.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dtls-lib.sh"
ss_init
dtls_need_tools
ss_plan 3

T=$SS_TMP
SOCK=$T/control
ss_router r
ss_segment r 1
ss_segment r 2
ss_host relA r 1 2

dtls_psk "$T/mesh.psk" relays
DTLS_HANDSHAKE_TIMEOUT=1 dtls_conf "$T/a.conf" "psk_file = \"$T/mesh.psk\"; max_half_open = 2;"
PEERS="10.201.2.11 10.201.2.12 10.201.2.13 10.201.2.14 10.201.2.15 10.201.2.16 10.201.2.17 10.201.2.18"

# shellcheck disable=SC2086 # PEERS is a list
ss_start_relay relA "$T/relA.log" --config "$T/a.conf" -t eth0 -l debug --control-socket "$SOCK" \
	--other-relays $PEERS && PID_A=$SS_RELAY_PID

# sample: the peers' states now, one per line ("connecting", "down", ...).
MAX_SEEN=0 SAMPLES=0
sample() {
	"$SS_RELAY" status --control-socket "$SOCK" >"$T/status" 2>&1 || return 1
	_c=$(grep -cE '^  10\.201\.2\.1[1-8] .*state=connecting' "$T/status")
	[ "$_c" -gt "$MAX_SEEN" ] && MAX_SEEN=$_c
	SAMPLES=$((SAMPLES + 1))
	return 0
}
# Until every peer had its turn (none left "unknown"), or 20 s.
all_tried() {
	_end=$(($(date +%s) + 20))
	while [ "$(date +%s)" -le "$_end" ]; do
		sample || return 1
		grep -qE '^  10\.201\.2\.1[1-8] .*state=unknown' "$T/status" || return 0
		sleep 0.05
	done
	return 1
}
all_tried
TRIED=$?
ss_diag "status samples: $SAMPLES, most handshakes under way at once: $MAX_SEEN"
ss_check "at most max_half_open (2) client handshakes are under way at any time" \
	eval '[ "$SAMPLES" -gt 0 ] && [ "$MAX_SEEN" -ge 1 ] && [ "$MAX_SEEN" -le 2 ]'
ss_check "every one of the 8 peers gets its turn" [ "$TRIED" = 0 ]
COUNTERS=$(dtls_counters relA "$PID_A" "$T/relA.log")
ss_diag "$COUNTERS"
ss_check "the peers that waited are counted" \
	eval 'printf "%s\n" "$COUNTERS" | grep -q "client_handshakes_deferred=[1-9]"'
[ "$SS_TAP_FAILED" = 0 ] || { ss_dump "$T/status"; ss_dump "$T/relA.log" 30; }
ss_stop "$PID_A"
[ "$SS_TAP_FAILED" = 0 ]
