#!/bin/sh
# The dtls transport at idle: a relay with a dtls instance and no peers
# arms no timer (deadlines exist only for associations), so it does not
# wake at all while nothing arrives.
#
#   segment A 10.201.1.0/24
#   relA .2  (dtls :7125, no peers)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dtls-lib.sh"
ss_init
dtls_need_tools
ss_plan 1

T=$SS_TMP
ss_router r
ss_segment r 1
ss_host relA r 1 2

dtls_psk "$T/mesh.psk" relays
dtls_conf "$T/idle.conf" "psk_file = \"$T/mesh.psk\";"

# voluntary_ctxt_switches of the relay's main thread (its event loop).
switches() { sed -n 's/^voluntary_ctxt_switches:[[:space:]]*//p' "/proc/$1/status"; }

if ss_start_relay relA "$T/relA.log" --config "$T/idle.conf" -t eth0 -l debug &&
	PID=$(ss_relay_pid relA) && [ -n "$PID" ]; then
	sleep 1 # start-up settles
	BEFORE=$(switches "$PID")
	sleep 3
	AFTER=$(switches "$PID")
	WAKES=$((AFTER - BEFORE))
	ss_diag "wake-ups of the idle relay over 3 s: $WAKES"
	ss_check "an idle relay with dtls and no peers does not wake over 3 s (0-2 switches)" \
		[ "$WAKES" -le 2 ]
else
	ss_fail "an idle relay with dtls and no peers does not wake over 3 s (0-2 switches)"
	ss_dump "$T/relA.log"
fi
