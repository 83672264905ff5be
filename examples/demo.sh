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
build=$(cd "${1:-$top/_build}" 2>/dev/null && pwd) || {
	echo "demo: no build directory ${1:-$top/_build}; run: sudo tests/setup-and-run.sh --no-check" >&2
	exit 1
}
[ -x "$build/snowsignal" ] || { echo "demo: $build/snowsignal is not built" >&2; exit 1; }
make -s -C "$build" tests/tools/pva-search tests/tools/pva-responder >/dev/null ||
	{ echo "demo: cannot build the PVA demo tools in $build" >&2; exit 1; }

export SS_TOP_BUILDDIR="$build" SS_TOP_SRCDIR="$top" SS_SKIP_EXIT=1
export SNOWSIGNAL_PLUGIN_PATH="$build/plugins" SNOWSIGNAL_PLUGINDIR="$build/plugins"
SS_SCRIPT_TIMEOUT=120
# shellcheck source=../tests/integration/lib.sh
. "$top/tests/integration/lib.sh"
[ "$(id -u)" = 0 ] || { echo "demo: run as root (it creates network namespaces)" >&2; exit 1; }
ss_init >/dev/null
T=$SS_TMP
CHANNEL=demo:temperature
say() { printf '%s\n' "$*"; }
field() { sed -n "/^$2 /s/.* $3=\([^ ]*\).*/\1/p" "$1" | head -n 1; } # FILE LINE-TAG KEY

ss_router router
ss_segment router 1
ss_segment router 2
ss_host client router 1 10
ss_host relayA router 1 2
ss_host server router 2 10
ss_host relayB router 2 2
say "Built two segments in network namespaces, joined by a router that forwards unicast only:"
say "  segment A 10.201.1.0/24: PVA client 10.201.1.10, relay A 10.201.1.2"
say "  segment B 10.201.2.0/24: PVA server 10.201.2.10 (channel $CHANNEL), relay B 10.201.2.2"
say ""

search() { # OUTFILE: the client's search, the server answering while it runs
	ss_bg server "$T/server.out" "$SS_TOOLS/pva-responder" --channel "$CHANNEL" --timeout 4 --count 1
	ss_wait_for "$T/server.out" '^READY' 1 5
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
ss_start_relay relayA "$T/relayA.log" -t eth0 --other-relays 10.201.2.2 || { ss_dump "$T/relayA.log"; exit 1; }
PID_A=$SS_RELAY_PID
ss_start_relay relayB "$T/relayB.log" -t eth0 --other-relays 10.201.1.2 || { ss_dump "$T/relayB.log"; exit 1; }
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
say "   relay A: $(grep -m1 'relay counters' "$T/relayA.log" | grep -o 'captured=[0-9]*\|relayed=[0-9]*' | tr '\n' ' ')(broadcasts captured on A, sent to B)"
say "   relay B: $(grep -m1 'relay counters' "$T/relayB.log" | grep -o 'delivered=[0-9]*\|emitted=[0-9]*' | tr '\n' ' ')(frames received from A, broadcast on B)"
say ""
say "Done; the namespaces are removed.  Run it for real: snowsignal -t eth0 --other-relays PEER"
exit "$result"
