#!/bin/sh
# A self-contained demonstration of snowsignal on one machine (as root):
# two network segments in network namespaces, joined by a router that
# forwards unicast only, a PVA client on segment A and a PVA server on
# segment B.  First the client searches without relays (no answer: the
# broadcast stops at the segment), then with a relay on each segment (the
# server answers the client directly).  Everything is torn down at the end.
#
#   sudo examples/demo.sh [BUILDDIR]      (BUILDDIR: default _build)
#
# SPDX-License-Identifier: LGPL-2.1-or-later
top=$(cd "$(dirname "$0")/.." && pwd)
# demo_fail WHAT-FAILED WHAT-TO-DO: says both, in words, and stops.
demo_fail() {
	printf 'demo: %s\ndemo: what to do: %s\n' "$1" "$2" >&2
	exit 1
}
build=$(cd "${1:-$top/_build}" 2>/dev/null && pwd) ||
	demo_fail "there is no build directory ${1:-$top/_build}" \
		"build snowsignal first: sudo tests/setup-and-run.sh --no-check"
if [ ! -x "$build/snowsignal" ] || [ ! -f "$build/Makefile" ]; then
	demo_fail "snowsignal is not built in $build" \
		"build it first: sudo tests/setup-and-run.sh --no-check (it builds in _build)"
fi

export SS_TOP_BUILDDIR="$build" SS_TOP_SRCDIR="$top" SS_SKIP_EXIT=1
export SNOWSIGNAL_PLUGIN_PATH="$build/plugins" SNOWSIGNAL_PLUGINDIR="$build/plugins"
SS_SCRIPT_TIMEOUT=300
# shellcheck source=../tests/integration/lib.sh
. "$top/tests/integration/lib.sh"
# lib.sh skips a test it cannot run; the demo says why and stops.
ss_skip_all() {
	demo_fail "cannot run: $1" "run it as root (sudo), with iproute2 installed, on a Linux \
whose network namespaces may be used (not inside a container that forbids them)"
}
[ "$(id -u)" = 0 ] || ss_skip_all "it needs root to create network namespaces"

# The tools it runs (a PVA client and server, and what lib.sh checks for)
# are test tools, which a plain build (--no-check) does not make.
tools=
for t in $SS_TOOL_NAMES; do tools="$tools tests/tools/$t"; done
# shellcheck disable=SC2086 # one word per tool
made=$(make -C "$build" $tools 2>&1) || {
	printf '%s\n' "$made" | tail -n 30 >&2
	demo_fail "cannot build the demo's tools ($SS_TOOL_NAMES) in $build; make's last lines are above" \
		"fix what make reports, or rebuild: sudo tests/setup-and-run.sh --no-check"
}

ss_init
# shellcheck disable=SC2317 # called by the trap
demo_timeout() {
	printf 'demo: stopped: it ran longer than its limit of %ss\n' "$SS_SCRIPT_TIMEOUT" >&2
	printf 'demo: what to do: run it again with SS_KEEP_TMP=1, which keeps the logs in %s\n' \
		"$SS_TMP" >&2
	exit 143
}
trap demo_timeout TERM
T=$SS_TMP
CHANNEL=demo:temperature
say() { printf '%s\n' "$*"; }
field() { sed -n "/^$2 /s/.* $3=\([^ ]*\).*/\1/p" "$1" | head -n 1; } # FILE LINE-TAG KEY
counters() { # FILE KEY...: "KEY=N ..." from the log's first 'relay counters' line
	_line=$(grep -m1 'relay counters' "$1")
	shift
	for _k in "$@"; do printf '%s ' "$(printf '%s\n' "$_line" | grep -oE " $_k=[0-9]+" | tr -d ' ')"; done
}

{ ss_router router && ss_segment router 1 && ss_segment router 2 &&
	ss_host client router 1 10 && ss_host relayA router 1 2 &&
	ss_host server router 2 10 && ss_host relayB router 2 2; } ||
	demo_fail "cannot build the two segments (the ip command's error is above)" \
		"check that the kernel has veth and bridge support (modprobe veth bridge)"
say "Built two segments in network namespaces, joined by a router that forwards unicast only:"
say "  segment A 10.201.1.0/24: PVA client 10.201.1.10, relay A 10.201.1.2"
say "  segment B 10.201.2.0/24: PVA server 10.201.2.10 (channel $CHANNEL), relay B 10.201.2.2"
say ""

search() { # OUTFILE: the client's search, the server answering while it runs
	ss_bg server "$T/server.out" "$SS_TOOLS/pva-responder" --channel "$CHANNEL" --timeout 4 --count 1
	ss_wait_for "$T/server.out" '^READY' 1 5 || {
		ss_dump "$T/server.out"
		demo_fail "the PVA server (pva-responder) did not start; its output is above" \
			"run the test suite to see what else fails: sudo tests/setup-and-run.sh"
	}
	ss_in client "$SS_TOOLS/pva-search" --channel "$CHANNEL" --timeout 2 >"$1"
	kill "$SS_LAST_PID" 2>/dev/null
	wait "$SS_LAST_PID" 2>/dev/null
}

say "1. Without relays, the client broadcasts a PVA search for $CHANNEL ..."
search "$T/before.out"
if grep -q '^RESPONSE' "$T/before.out"; then
	say "   unexpected: an answer came back without relays"
else
	say "   no answer: the broadcast stopped at segment A, as broadcasts do."
fi
say ""

say "2. Starting snowsignal on both segments (each names the other as its peer) ..."
relay_failed() { # NAME
	demo_fail "relay $1 did not start; its log is above" \
		"read the log's ERROR line; run the test suite: sudo tests/setup-and-run.sh"
}
ss_start_relay relayA "$T/relayA.log" -t eth0 --other-relays 10.201.2.2 || relay_failed A
PID_A=$SS_RELAY_PID
ss_start_relay relayB "$T/relayB.log" -t eth0 --other-relays 10.201.1.2 || relay_failed B
PID_B=$SS_RELAY_PID
say "   relay A: $(grep -m1 'relay started' "$T/relayA.log" | sed 's/.*relay started //')"
say ""

say "3. The client searches again ..."
search "$T/after.out"
if grep -q '^RESPONSE' "$T/after.out"; then
	say "   answered by $(field "$T/after.out" RESPONSE from) (found=$(field "$T/after.out" RESPONSE found)); the server offers TCP at $(field "$T/after.out" RESPONSE server)."
	say "   The server saw the search come from $(field "$T/server.out" REQUEST from): the client itself,"
	say "   because relay B re-broadcast the frame with its original IP source, so the"
	say "   answer went straight back to the client, not through the relays."
	result=0
else
	say "   no answer: something is wrong; the relays' logs follow."
	ss_dump "$T/relayA.log"
	ss_dump "$T/relayB.log"
	result=1
fi
say ""

ss_stop "$PID_A" >/dev/null 2>&1
ss_stop "$PID_B" >/dev/null 2>&1
say "4. What the relays counted (logged at shutdown):"
say "   relay A: $(counters "$T/relayA.log" captured relayed)(broadcasts captured on A, sent to B)"
say "   relay B: $(counters "$T/relayB.log" delivered emitted)(frames received from A, broadcast on B)"
say ""
if [ "$result" -ne 0 ]; then
	demo_fail "the relayed search was not answered; the relays' logs are above" \
		"look there for ERROR and WARNING lines, and run the test suite: sudo tests/setup-and-run.sh"
fi
say "Done; the namespaces are removed.  Run it for real: snowsignal -t eth0 --other-relays PEER"
exit 0
