#!/bin/sh
# One relay carries PVAccess through pva-search and Channel Access through
# ca-search at once: each filter instance names its ports, and runs only
# for frames to them (the shipped configuration shows the same).
#  - a PVA client finds a PVA server and a CA client a CA server across
#    the two segments;
#  - a CA search sent to the PVA port, and a PVA search sent to the CA
#    port, are dropped by the filter of that port and counted.
. "$(dirname "$0")/lib.sh"
for _t in ca-search ca-responder; do
	[ -x "$SS_TOOLS/$_t" ] || { echo "Bail out! test tool $SS_TOOLS/$_t not built"; exit 1; }
done
ss_init
ss_plan 8

T=$SS_TMP
ss_two_segments

conf() { # FILE PEER
	cat >"$1" <<EOF
version = 1;
interface = "eth0";
broadcast_ports = [ 5076, 5064 ];
instances = (
  { name = "mac-self"; plugin = "mac-self"; },
  { name = "ip-self"; plugin = "ip-self"; },
  { name = "pva"; plugin = "pva-search"; ports = 5076; },
  { name = "ca"; plugin = "ca-search"; ports = [ 5064 ]; },
  { name = "mesh"; plugin = "udp-mesh"; }
);
outbound = [ "mac-self", "ip-self", "pva", "ca" ];
transports = [ "mesh" ];
peers = { hosts = [ "$2" ]; };
EOF
}
conf "$T/a.conf" 10.201.2.2
conf "$T/b.conf" 10.201.1.2
ok=yes
ss_start_relay relA "$T/relA.log" --config "$T/a.conf" || ok=no
PID_A=$SS_RELAY_PID
ss_start_relay relB "$T/relB.log" --config "$T/b.conf" || ok=no
PID_B=$SS_RELAY_PID
ss_check "two relays with pva (port 5076) and ca (port 5064) in one chain start" [ $ok = yes ]

ss_bg srv "$T/pva-server.out" "$SS_TOOLS/pva-responder" --channel demo:pva --timeout 8
ss_wait_for "$T/pva-server.out" '^READY' 1 5
ss_bg srv "$T/ca-server.out" "$SS_TOOLS/ca-responder" --channel demo:ca --timeout 8
ss_wait_for "$T/ca-server.out" '^READY' 1 5

ss_listen srv "$T/5076.out" --port 5076 --timeout 6
L1=$SS_LISTEN_PID
ss_listen srv "$T/5064.out" --port 5064 --timeout 6
L2=$SS_LISTEN_PID

# The wrong protocol on each port first: by the time the right ones are
# answered, anything let through before them has arrived.
ss_in cli "$SS_TOOLS/ca-search" --channel demo:ca --port 5076 --timeout 0.5 >/dev/null
ss_in cli "$SS_TOOLS/pva-search" --channel demo:pva --port 5064 --timeout 0.5 >/dev/null
ss_in cli "$SS_TOOLS/pva-search" --channel demo:pva --timeout 3 >"$T/pva.out"
ss_in cli "$SS_TOOLS/ca-search" --channel demo:ca --timeout 3 >"$T/ca.out"
ss_check "a PVA search on 5076 crosses and is answered" grep -q '^RESPONSE' "$T/pva.out"
ss_check "a CA search on 5064 crosses and is answered" grep -q '^RESPONSE' "$T/ca.out"
kill "$L1" "$L2" 2>/dev/null
wait "$L1" "$L2" 2>/dev/null
ss_check "one datagram reached port 5076 on segment 2: the CA search sent there stayed on segment 1" \
	[ "$(ss_count "$T/5076.out" '^RX ')" = 1 ]
ss_check "one datagram reached port 5064 on segment 2: the PVA search sent there stayed on segment 1" \
	[ "$(ss_count "$T/5064.out" '^RX ')" = 1 ]

stopped=yes
ss_stop "$PID_A" || stopped=no
ss_stop "$PID_B" || stopped=no
ss_check "relays exit 0 on SIGTERM" [ $stopped = yes ]
# instance counters instance=pva ... seen=N passed=N dropped=N
seen() { sed -n "s/.*instance counters instance=$1 .* seen=\([0-9]*\) passed=\([0-9]*\) dropped=\([0-9]*\).*/\1 \2 \3/p" "$T/relA.log" | tail -n 1; }
ss_check "pva ran for the two frames to 5076 only, dropping the CA one ($(seen pva))" \
	[ "$(seen pva)" = "2 1 1" ]
ss_check "ca ran for the two frames to 5064 only, dropping the PVA one ($(seen ca))" \
	[ "$(seen ca)" = "2 1 1" ]
