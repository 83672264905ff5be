#!/bin/sh
# Channel Access through two relays with the ca-search filter:
#
#   segment 1: cli .10, relA .2          segment 2: srv .10, relB .2
#
# Both relays carry port 5064 (broadcast_ports) through an outbound chain
# ending in ca-search.  A CA client on segment 1 (tests/tools/ca-search)
# finds a server on segment 2 (tests/tools/ca-responder), which answers the
# client directly; what is not a CA search is dropped and counted by reason
# (`snowsignal status`); beacons pass only with allow_beacons; a CA client on
# the relay's own host is relayed with mac-self's allow_local_senders.
. "$(dirname "$0")/lib.sh"
ss_init
for _t in ca-search ca-responder; do
	[ -x "$SS_TOOLS/$_t" ] || { echo "Bail out! test tool $SS_TOOLS/$_t not built"; exit 1; }
done
ss_plan 18

T=$SS_TMP
A=10.201.1.2 B=10.201.2.2 CLI=10.201.1.10 SRV=10.201.2.10
PV=ss:ca:pv
SOCK_A=$T/a.sock

ss_two_segments

re() { printf '%s' "$1" | sed 's/[].[*^$]/\\&/g'; }

# ca_conf FILE PEER PORTS OUTBOUND MAC-SELF-SETTINGS CA-SETTINGS: a relay on
# eth0 whose outbound chain OUTBOUND ends in the ca-search instance "ca"
# (ss_conf writes the shipped chain, without it).
ca_conf() {
	cat >"$1" <<EOF
version = 1;
interface = "eth0";
broadcast_ports = [ $3 ];
instances = (
  { name = "mac-self"; plugin = "mac-self"; $5 },
  { name = "ip-self"; plugin = "ip-self"; },
  { name = "ca"; plugin = "ca-search"; $6 },
  { name = "mesh"; plugin = "udp-mesh"; }
);
outbound = [ $4 ];
inbound = [ ];
transports = [ "mesh" ];
peers = { hosts = [ "$2" ]; };
EOF
}

# start_a LOG: relay A on $T/a.conf with its control socket.
start_a() {
	ss_start_relay relA "$1" --config "$T/a.conf" -l debug --control-socket "$SOCK_A" && PID_A=$SS_RELAY_PID
}

# status_a: relay A's `snowsignal status` into $T/status.
status_a() { "$SS_RELAY" status --control-socket "$SOCK_A" >"$T/status" 2>&1; }

# counter INSTANCE NAME: a counter of an instance in $T/status.
counter() {
	sed -n "s/^  $1 .* $2=\([0-9]*\).*/\1/p" "$T/status"
}

# responder OUT ARGS...: ca-responder on srv answering for $PV, returns once
# it listens; pid in PID_RESP.
responder() {
	_out=$1
	shift
	ss_bg srv "$_out" "$SS_TOOLS/ca-responder" --channel $PV "$@"
	PID_RESP=$SS_LAST_PID
	ss_wait_for "$_out" '^READY' 1 5 || ss_dump "$_out"
}

# Runs at the end of a group of points: on failure, show what was seen.
PHASE_FAILED=0
phase_end() {
	[ "$SS_TAP_FAILED" = "$PHASE_FAILED" ] && return 0
	PHASE_FAILED=$SS_TAP_FAILED
	for f in "$@"; do ss_dump "$f"; done
}

# ---- 1: start ---------------------------------------------------------------
CHAIN='"mac-self", "ip-self", "ca"'
ca_conf "$T/a.conf" $B 5064 "$CHAIN" "" ""
ca_conf "$T/b.conf" $A 5064 "$CHAIN" "" ""
if start_a "$T/relA.log" &&
	ss_start_relay relB "$T/relB.log" --config "$T/b.conf" -l debug && PID_B=$SS_RELAY_PID; then
	ss_ok "relays A and B start with ca-search on port 5064"
else
	ss_fail "relays A and B start with ca-search on port 5064"
	echo "Bail out! relays did not start; nothing else can be tested"
	exit 1
fi

# ---- 2-4: a CA client finds a server on the other segment -------------------
responder "$T/resp1" --timeout 10
ss_in cli "$SS_TOOLS/ca-search" --channel $PV --cid 11 --timeout 5 >"$T/search1"
ss_check "a CA search from segment 1 reaches the server on segment 2, which answers the client directly" \
	grep -q "^RESPONSE from=$(re $SRV:5064) cid=11 server=$(re $SRV:5064) version=13" "$T/search1"
ss_check "the server saw the client's own address and port as the search's source" \
	grep -q "^REQUEST from=$(re $CLI):[0-9]* version=13 channels=$PV" "$T/resp1"
# The control: the responder answers only for its channel.
ss_in cli "$SS_TOOLS/ca-search" --channel ss:ca:nobody --cid 12 --timeout 2 >"$T/search2"
rc=$?
ss_check "a search for a channel nobody has gets no reply (the control)" \
	[ "$rc" = 1 -a "$(ss_count "$T/search2" '^RESPONSE')" = 0 ]
kill "$PID_RESP" 2>/dev/null
wait "$PID_RESP"
phase_end "$T/search1" "$T/search2" "$T/resp1" "$T/relA.log" "$T/relB.log"

# ---- 5-9: what is not a CA search is dropped and counted ----------------------
# Junk first, then one good search: the relays keep the order, so once the
# good search is answered anything relayed before it has arrived too.
responder "$T/resp3" --timeout 10 --count 1
ss_in cli "$SS_TOOLS/ss-udp-send" --src $CLI:45064 --dest 255.255.255.255 --port 5064 --count 3 >/dev/null
ss_in cli "$SS_TOOLS/ca-search" --malformed --channel $PV >/dev/null
ss_in cli "$SS_TOOLS/ca-search" --beacon --port 5064 >/dev/null
ss_in cli "$SS_TOOLS/ca-search" --channel $PV --cid 13 --timeout 5 >"$T/search3"
wait "$PID_RESP"
ss_check "after the junk, a good search still finds the server" grep -q "^RESPONSE .* cid=13 " "$T/search3"
ss_check "none of the junk reached segment 2 (the server saw one search and nothing else)" \
	[ "$(ss_count "$T/resp3" '^(REQUEST|BEACON|OTHER) ')" = 1 ]
status_a
ss_check "status: ca-search saw 8 broadcasts from segment 1, passed the 3 searches, dropped 5" \
	grep -qE '^  ca +ca-search +seen=8 passed=3 dropped=5 errors=0' "$T/status"
ss_check "status: 3 datagrams that are not CA counted as not_search" [ "$(counter ca not_search)" = 3 ]
ss_check "status: the unpadded search as unaligned_size, the beacon as beacon" \
	[ "$(counter ca unaligned_size)" = 1 -a "$(counter ca beacon)" = 1 ]
phase_end "$T/resp3" "$T/search3" "$T/status"

# ---- 10-11: a CA client on relay A's own host ---------------------------------
responder "$T/resp4" --timeout 10
ss_in relA "$SS_TOOLS/ca-search" --channel $PV --cid 14 --timeout 2 >"$T/search4"
ss_check "by default a CA client on relay A's host is not relayed (mac-self, ip-self)" \
	[ "$(ss_count "$T/search4" '^RESPONSE')" = 0 -a "$(ss_count "$T/resp4" '^REQUEST')" = 0 ]
kill "$PID_RESP" 2>/dev/null
wait "$PID_RESP"
phase_end "$T/search4" "$T/resp4"

ss_stop "$PID_A"
ca_conf "$T/a.conf" $B 5064 '"mac-self", "ca"' "allow_local_senders = true;" ""
if ! start_a "$T/relA2.log"; then ss_diag "relay A did not restart with allow_local_senders"; fi
responder "$T/resp5" --timeout 10 --count 1
ss_in relA "$SS_TOOLS/ca-search" --channel $PV --cid 15 --timeout 5 >"$T/search5"
wait "$PID_RESP"
ss_check "with allow_local_senders a CA client on relay A's host finds the server" \
	grep -q "^RESPONSE from=$(re $SRV:5064) cid=15 " "$T/search5"
status_a
local_passed() {
	[ "$(counter mac-self local_sender)" = 1 ] && grep -qE '^  ca +ca-search +seen=1 passed=1 dropped=0' "$T/status"
}
ss_check "status: mac-self counted it as a local sender, ca-search passed it" local_passed
phase_end "$T/search5" "$T/resp5" "$T/status" "$T/relA2.log"

# ---- 12-17: beacons, port 5065 -------------------------------------------------
# Beacons go to the repeater port: both ports relayed, beacons refused...
ss_stop "$PID_A"
ca_conf "$T/a.conf" $B "5064, 5065" "$CHAIN" "" ""
if ! start_a "$T/relA3.log"; then ss_diag "relay A did not restart on ports 5064 and 5065"; fi
ss_stop "$PID_B"
ca_conf "$T/b.conf" $A "5064, 5065" "$CHAIN" "" ""
if ss_start_relay relB "$T/relB2.log" --config "$T/b.conf" -l debug; then PID_B=$SS_RELAY_PID; fi
ss_bg srv "$T/beacons1" "$SS_TOOLS/ca-responder" --port 5065 --timeout 10
PID_BEACONS=$SS_LAST_PID
ss_wait_for "$T/beacons1" '^READY' 1 5
responder "$T/resp6" --timeout 10 --count 1
ss_in cli "$SS_TOOLS/ca-search" --beacon --port 5065 >/dev/null
ss_in cli "$SS_TOOLS/ca-search" --channel $PV --cid 16 --timeout 5 >"$T/search6"
wait "$PID_RESP"
ss_check "with both ports relayed, a search still finds the server" grep -q "^RESPONSE .* cid=16 " "$T/search6"
status_a
ss_check "a beacon to 5065 is dropped by default, and counted" [ "$(counter ca beacon)" = 1 ]
kill "$PID_BEACONS" 2>/dev/null
wait "$PID_BEACONS"
ss_check "and it did not reach segment 2" [ "$(ss_count "$T/beacons1" '^BEACON')" = 0 ]
phase_end "$T/search6" "$T/beacons1" "$T/status" "$T/relA3.log"

# ...and passed with allow_beacons.
ss_stop "$PID_A"
ca_conf "$T/a.conf" $B "5064, 5065" "$CHAIN" "" "allow_beacons = true;"
if ! start_a "$T/relA4.log"; then ss_diag "relay A did not restart with allow_beacons"; fi
ss_bg srv "$T/beacons2" "$SS_TOOLS/ca-responder" --port 5065 --timeout 10
PID_BEACONS=$SS_LAST_PID
ss_wait_for "$T/beacons2" '^READY' 1 5
ss_in cli "$SS_TOOLS/ca-search" --beacon --port 5065 >/dev/null
ss_check "with allow_beacons a beacon from segment 1 reaches segment 2's port 5065, its source kept" \
	ss_wait_for "$T/beacons2" "^BEACON from=$(re $CLI):[0-9]* server_port=5064" 1 5
status_a
ss_check "status: ca-search passed it" grep -qE '^  ca +ca-search +seen=1 passed=1 dropped=0' "$T/status"
ss_in cli "$SS_TOOLS/ca-search" --malformed --port 5065 --channel $PV >/dev/null
ss_in cli "$SS_TOOLS/ca-search" --beacon --port 5065 >/dev/null
ss_wait_for "$T/beacons2" '^BEACON' 2 5
kill "$PID_BEACONS" 2>/dev/null
wait "$PID_BEACONS"
ss_check "allow_beacons lets beacons through, not malformed searches" \
	[ "$(ss_count "$T/beacons2" '^BEACON')" = 2 -a "$(ss_count "$T/beacons2" '^(REQUEST|OTHER)')" = 0 ]
phase_end "$T/beacons2" "$T/status" "$T/relA4.log"

ss_stop "$PID_A"
ss_stop "$PID_B"
[ "$SS_TAP_FAILED" = 0 ]
