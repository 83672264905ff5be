#!/bin/sh
# Interoperability with the original Python SnowSignal 0.1.x (DESIGN.md
# section 3): our relay on segment A, the original on segment B, a router
# between them (unicast only), udp-mesh "SS" + Ethernet frame on port 7124:
#
#   segment A 10.201.1.0/24              segment B 10.201.2.0/24
#   cliA .10  obsA .20                   cliB .10  obsB .20
#   relA .2 (snowsignal) ── :7124 ────── relB .2 (python3 -m snowsignal)
#              router .1 (br1) / .1 (br2)
#
# Checks, in each direction: a broadcast keeps its IP source and UDP source
# port across the mixed mesh, a PVA search crosses and the responder answers
# the client directly, no duplicates, nothing loops back.
#
# Running it.  It skips unless SS_ORIGINAL_DIR names a directory from which
# `python3 -m snowsignal` runs the original (never commit that code here):
#   - get SnowSignal 0.1.x: `pip download snowsignal==0.1.*` and unpack the
#     wheel, or clone github.com/ISISNeutronMuon/SnowSignal; the directory
#     is the one that holds the package folder snowsignal/;
#   - its dependencies: Debian `apt-get install python3-configargparse
#     python3-psutil python3-cachetools` (or pip install configargparse
#     psutil cachetools);
#   - as root, from the build tree:
#       make check TESTS=tests/integration/interop-original.sh \
#            SS_ORIGINAL_DIR=/path/to/SnowSignal
#     (SS_PYTHON picks the interpreter; by default the first of python3 and
#     /usr/bin/python3 that imports configargparse, psutil and cachetools).
# tests/integration/README.interop records which original was run and how
# it went.
#
# What the original does, from its source (snowsignal/udp_relay_*.py):
# captures on an AF_PACKET socket, keeps broadcast frames to the broadcast
# port whose Ethernet source is not one of its own MACs, and sends
# "SS" + frame to each --other-relays host on the mesh port from an
# ephemeral port; it receives on <eth0 address>:<mesh port> and re-emits
# through a raw IP_HDRINCL socket to its interface's broadcast address,
# without recomputing checksums or rewriting the destination.  Its known
# faults (DESIGN.md section 4) are not tested here; the large-payload point
# is marked TODO when it fails.
. "$(dirname "$0")/lib.sh"

# ---- is the original there? -------------------------------------------------
[ -n "${SS_ORIGINAL_DIR:-}" ] && [ -d "$SS_ORIGINAL_DIR/snowsignal" ] ||
	ss_skip_all "set SS_ORIGINAL_DIR to a SnowSignal 0.1.x checkout to run it"
SS_PY=""
for _py in ${SS_PYTHON:-python3 /usr/bin/python3}; do
	if (cd "$SS_ORIGINAL_DIR" && "$_py" -c 'import configargparse, psutil, cachetools' 2>/dev/null); then
		SS_PY=$(command -v "$_py")
		break
	fi
done
[ -n "$SS_PY" ] || ss_skip_all "no python3 with configargparse, psutil and cachetools for the original"
(cd "$SS_ORIGINAL_DIR" && "$SS_PY" -m snowsignal --help 2>&1 | grep -q -- '--other-relays') ||
	ss_skip_all "python3 -m snowsignal in $SS_ORIGINAL_DIR does not run the original"
command -v ss >/dev/null 2>&1 || ss_skip_all "ss (iproute2) not found"

ss_init
ss_plan 15

T=$SS_TMP
A=10.201.1.2 B=10.201.2.2
CLI_A=10.201.1.10 CLI_B=10.201.2.10
LISTEN=2.5 # seconds every listener listens: also the quiet period of absence checks
BCAST_MAC=ff:ff:ff:ff:ff:ff

ss_router r
ss_segment r 1
ss_segment r 2
ss_host relA r 1 2
ss_host cliA r 1 10
ss_host obsA r 1 20
ss_host relB r 2 2
ss_host cliB r 2 10
ss_host obsB r 2 20
MAC_A=$(ss_mac relA)
MAC_B=$(ss_mac relB)

re() { printf '%s' "$1" | sed 's/[].[*^$]/\\&/g'; }
rx() { ss_count "$1" "^RX src=$(re "$2") dst=$(re "${3:-}")[^ ]* .*intact=yes dup=no"; }
rx_all() { ss_count "$1" '^RX '; }

PHASE_FAILED=0
phase_end() {
	[ "$SS_TAP_FAILED" = "$PHASE_FAILED" ] && return 0
	PHASE_FAILED=$SS_TAP_FAILED
	for f in "$@"; do ss_dump "$f"; done
}

# orig_bound: the original's mesh socket is bound in relB.  Its transmit
# task opens the AF_PACKET capture socket before the receive task binds
# (asyncio runs them in creation order), so this also means it captures.
orig_bound() { ss_in relB ss -Hlun "src $B:7124" 2>/dev/null | grep -q .; }

# ---- 1-2: start ------------------------------------------------------------------
T0=$(date +%s)
if ss_start_relay relA "$T/relA.log" -t eth0 -l debug --other-relays $B; then
	PID_A=$SS_RELAY_PID
	ss_ok "our relay on A starts and logs 'relay started'"
else
	ss_fail "our relay on A starts and logs 'relay started'"
	echo "Bail out! our relay did not start"
	exit 1
fi
ss_bg relB "$T/orig.log" sh -c 'cd "$1" && shift && exec "$@"' sh "$SS_ORIGINAL_DIR" \
	"$SS_PY" -u -m snowsignal -t eth0 -b 5076 -m 7124 --other-relays $A -ll debug
PID_O=$SS_LAST_PID
_deadline=$(($(date +%s) + SS_START_TIMEOUT + 1))
until orig_bound || [ "$(date +%s)" -gt "$_deadline" ] || ! kill -0 $PID_O 2>/dev/null; do sleep 0.05; done
if orig_bound; then
	ss_ok "the original on B starts: its mesh socket $B:7124 is bound"
else
	ss_fail "the original on B starts: its mesh socket $B:7124 is bound"
	ss_dump "$T/orig.log"
	echo "Bail out! the original did not start"
	exit 1
fi
ss_diag "original: $SS_PY -m snowsignal in $SS_ORIGINAL_DIR; $(sed -n 's/.*Starting with configuration //p' "$T/orig.log" | head -n 1)"

# ---- 3-6: A -> B, captured by ours, emitted by the original ---------------------
ss_listen obsB "$T/b1" --timeout $LISTEN --capture eth0
PID_OB=$SS_LISTEN_PID
ss_listen obsA "$T/a1" --timeout $LISTEN
PID_OA=$SS_LISTEN_PID
ss_in cliA "$SS_TOOLS/ss-udp-send" --src $CLI_A:45001 --dest 255.255.255.255 --size 100 --count 5 >/dev/null
wait $PID_OB $PID_OA
ss_check "broadcast from A ($CLI_A:45001) arrives on B via the original, source address and port kept" \
	[ "$(rx "$T/b1" $CLI_A:45001 255.255.255.255)" = 5 ]
ss_check "frames on B come from the original's MAC ($MAC_B) to $BCAST_MAC with valid IPv4 and UDP checksums" \
	[ "$(ss_count "$T/b1" "^FRAME src_mac=$MAC_B dst_mac=$BCAST_MAC src=$(re $CLI_A:45001) .*ipcsum=ok udpcsum=ok")" = 5 ]
ss_check "no duplicates on B, nothing more in the ${LISTEN}s after the sender stopped" \
	[ "$(ss_count "$T/b1" 'dup=yes')" = 0 -a "$(rx_all "$T/b1")" = 5 ]
ss_check "nothing comes back to A: the observer on A sees each datagram once" \
	[ "$(rx "$T/a1" $CLI_A:45001)" = 5 -a "$(rx_all "$T/a1")" = 5 ]
phase_end "$T/b1" "$T/a1" "$T/relA.log" "$T/orig.log"

# ---- 7-10: B -> A, captured by the original, emitted by ours ---------------------
ss_listen obsA "$T/a2" --timeout $LISTEN --capture eth0
PID_OA=$SS_LISTEN_PID
ss_listen obsB "$T/b2" --timeout $LISTEN
PID_OB=$SS_LISTEN_PID
ss_in cliB "$SS_TOOLS/ss-udp-send" --src $CLI_B:45003 --dest 255.255.255.255 --size 100 --count 5 >/dev/null
wait $PID_OA $PID_OB
ss_check "broadcast from B ($CLI_B:45003) arrives on A via our relay, source address and port kept" \
	[ "$(rx "$T/a2" $CLI_B:45003 255.255.255.255)" = 5 ]
ss_check "frames on A come from our relay's MAC ($MAC_A) to $BCAST_MAC with valid IPv4 and UDP checksums" \
	[ "$(ss_count "$T/a2" "^FRAME src_mac=$MAC_A dst_mac=$BCAST_MAC src=$(re $CLI_B:45003) .*ipcsum=ok udpcsum=ok .*trail=0")" = 5 ]
ss_check "no duplicates on A, nothing more in the ${LISTEN}s after the sender stopped" \
	[ "$(ss_count "$T/a2" 'dup=yes')" = 0 -a "$(rx_all "$T/a2")" = 5 ]
ss_check "nothing comes back to B: the observer on B sees each datagram once" \
	[ "$(rx "$T/b2" $CLI_B:45003)" = 5 -a "$(rx_all "$T/b2")" = 5 ]
phase_end "$T/a2" "$T/b2" "$T/relA.log" "$T/orig.log"

# ---- 11-12: PVA search in each direction -------------------------------------------
# search NAME_CLIENT NAME_SERVER SERVER_IP TAG
search() {
	ss_bg "$2" "$T/resp-$4" "$SS_TOOLS/pva-responder" --channel ss:interop:pv --timeout 5 --count 1
	_pid=$SS_LAST_PID
	ss_wait_for "$T/resp-$4" '^READY' 1 5
	ss_in "$1" "$SS_TOOLS/pva-search" --channel ss:interop:pv --timeout 3 >"$T/search-$4"
	wait $_pid
	grep -q "^RESPONSE from=$(re "$3"):5076 .*found=yes" "$T/search-$4"
}
ss_check "PVA search from A crosses the original to the responder on B, which answers the client directly" \
	search cliA cliB $CLI_B ab
phase_end "$T/search-ab" "$T/resp-ab" "$T/orig.log"
ss_check "PVA search from B crosses our relay to the responder on A, which answers the client directly" \
	search cliB cliA $CLI_A ba
phase_end "$T/search-ba" "$T/resp-ba" "$T/relA.log"

# ---- 13-14: the largest payload for the MTU, each way --------------------------------
# Ours must relay it whole, or refuse it whole when the original sent it
# cut; the original is only supposed to (it has truncated above 982 bytes
# of payload), so its own direction is a TAP TODO on failure.
ss_listen obsA "$T/a3" --timeout $LISTEN
PID_OA=$SS_LISTEN_PID
ss_in cliB "$SS_TOOLS/ss-udp-send" --src $CLI_B:45012 --dest 255.255.255.255 --size max >"$T/max.out"
wait $PID_OA
MAX=$(sed -n 's/.* size=\([0-9]*\) .*/\1/p' "$T/max.out")
if [ "$(ss_count "$T/a3" "^RX src=$(re $CLI_B:45012) .* len=$MAX .*intact=yes dup=no")" = 1 ]; then
	ss_ok "payload of ${MAX:-?} bytes from B (largest for the MTU) arrives on A whole via our relay"
elif grep -q 'frame from a peer refused.*frame truncated' "$T/relA.log"; then
	# The original's capture cut the frame (seen with its GitHub HEAD,
	# 2f70ffd): what is ours to do is to refuse a truncated frame, say so
	# and emit nothing cut, which this checks.
	ss_check "payload of ${MAX:-?} bytes from B: the original sent it cut; our relay refused it, logged it and emitted nothing of it" \
		[ "$(ss_count "$T/a3" "^RX src=$(re $CLI_B:45012) ")" = 0 ]
else
	ss_fail "payload of ${MAX:-?} bytes from B (largest for the MTU) arrives on A whole via our relay"
fi
phase_end "$T/a3" "$T/orig.log"
ss_listen obsB "$T/b3" --timeout $LISTEN
PID_OB=$SS_LISTEN_PID
ss_in cliA "$SS_TOOLS/ss-udp-send" --src $CLI_A:45013 --dest 255.255.255.255 --size max >/dev/null
wait $PID_OB
if [ "$(ss_count "$T/b3" "^RX src=$(re $CLI_A:45013) .* len=$MAX .*intact=yes dup=no")" = 1 ]; then
	ss_ok "payload of ${MAX:-?} bytes from A arrives on B whole via the original"
else
	SS_TAP_N=$((SS_TAP_N + 1))
	echo "not ok $SS_TAP_N - payload of ${MAX:-?} bytes from A arrives on B whole via the original # TODO the original's own fault"
	ss_dump "$T/b3"
fi

# Our relay pings its peers (heartbeat_interval, 5 s): the original cannot
# read a heartbeat and logs each one at debug, so a peer that never
# answers gets three, then one a minute.  Over this run (well under a
# minute after the third) that is at most three lines in its log.
hb=$(ss_count "$T/orig.log" 'Malformed packet received')
ss_diag "the original logged $hb datagrams it could not read, in $(($(date +%s) - T0)) s"
ss_check "the original is sent few heartbeats it cannot read ($hb logged)" [ "$hb" -le 3 ]

# Both still running: neither crashed on what the other sent.
ss_diag "our relay alive: $(kill -0 $PID_A 2>/dev/null && echo yes || echo no); original alive: $(kill -0 $PID_O 2>/dev/null && echo yes || echo no)"
ss_stop "$PID_A"
kill -TERM $PID_O 2>/dev/null
wait $PID_O 2>/dev/null
[ -n "${SS_KEEP_TMP:-}" ] && ss_diag "logs kept in $T"
[ "$SS_TAP_FAILED" = 0 ]
