#!/bin/sh
# A relay that reaches one peer by udp-mesh and another by dtls: each
# transport's "peers" setting names the peers.hosts entries it serves.
#
#   relay A (seg 1) --udp-mesh--> relay B (seg 2) <--dtls-- relay C (seg 3)
#
#  1. a broadcast on segment 2 reaches segments 1 and 3, once each;
#  2. broadcasts from segments 1 and 3 reach segment 2;
#  3. a plaintext udp-mesh datagram from C's address (a peer of B's dtls
#     instance only) is a stranger to B's udp-mesh: dropped and counted;
#  4. "peers" on a filter, or naming what peers.hosts does not list, is an
#     error with file and line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dtls-lib.sh"
ss_init
dtls_need_tools
ss_plan 7

T=$SS_TMP
A=10.201.1.2 B=10.201.2.2 C=10.201.3.2
ss_router r
for s in 1 2 3; do ss_segment r $s; done
ss_host cli r 1 10
ss_host relA r 1 2
ss_host relB r 2 2
ss_host srv r 2 10
ss_host relC r 3 2
ss_host obsC r 3 10
dtls_psk "$T/mesh.psk" relays

ss_conf "$T/a.conf" eth0 "$B" "" "" ""
cat >"$T/b.conf" <<EOF
version = 1;
interface = "eth0";
instances = (
  { name = "mac-self"; plugin = "mac-self"; },
  { name = "ip-self"; plugin = "ip-self"; },
  { name = "mesh"; plugin = "udp-mesh"; peers = [ "$A" ]; },
  { name = "secure"; plugin = "dtls"; psk_file = "$T/mesh.psk"; keepalive = 1;
    peers = "$C"; }
);
outbound = [ "mac-self", "ip-self" ];
transports = [ "mesh", "secure" ];
peers = { hosts = [ "$A", "$C" ]; };
EOF
dtls_conf "$T/c.conf" "psk_file = \"$T/mesh.psk\";"
ok=yes
ss_start_relay relA "$T/relA.log" --config "$T/a.conf" || ok=no
PID_A=$SS_RELAY_PID
ss_start_relay relB "$T/relB.log" --config "$T/b.conf" -l debug || ok=no
PID_B=$SS_RELAY_PID
dtls_relay relC "$T/relC.log" "$T/c.conf" "$B" || ok=no
PID_C=$SS_RELAY_PID
started() { [ $ok = yes ] && dtls_up "$T/relB.log" 1; }
ss_check "relays start; B and C make a dtls association" started

# ---- 1-2: each transport carries its own peers ----------------------------------
ss_listen cli "$T/cli.out" --timeout 3 --count 1
l1=$SS_LISTEN_PID
ss_listen obsC "$T/obsC.out" --timeout 3 --count 1
l2=$SS_LISTEN_PID
ss_in srv "$SS_TOOLS/ss-udp-send" --src 10.201.2.10:46001 --dest 255.255.255.255 >/dev/null
wait $l1 $l2
ss_check "1: a broadcast on segment 2 reaches segment 1 (udp-mesh) once" \
	[ "$(ss_count "$T/cli.out" '^RX src=10\.201\.2\.10:46001 .*dup=no')" = 1 ]
ss_check "1: and segment 3 (dtls) once" \
	[ "$(ss_count "$T/obsC.out" '^RX src=10\.201\.2\.10:46001 .*dup=no')" = 1 ]
ss_listen srv "$T/srv.out" --timeout 3 --count 2
l=$SS_LISTEN_PID
ss_in cli "$SS_TOOLS/ss-udp-send" --src 10.201.1.10:46002 --dest 255.255.255.255 >/dev/null
ss_in obsC "$SS_TOOLS/ss-udp-send" --src 10.201.3.10:46003 --dest 255.255.255.255 >/dev/null
wait $l
ss_check "2: broadcasts from segments 1 and 3 reach segment 2" \
	sh -c "[ \$(grep -c '^RX src=10\.201\.1\.10:46002 ' '$T/srv.out') = 1 ] &&
	       [ \$(grep -c '^RX src=10\.201\.3\.10:46003 ' '$T/srv.out') = 1 ]"

# ---- 3: plaintext from a dtls-only peer --------------------------------------------
ss_listen srv "$T/forged.out" --timeout 2
l=$SS_LISTEN_PID
ss_in relC "$SS_TOOLS/ss-udp-send" --src "$C:7124" --dest "$B" --port 7124 --mesh \
	--inner-src 10.201.9.9:5555 --count 2 >/dev/null
wait $l
ss_check "3: plaintext udp-mesh from C's address (a dtls peer only) is not emitted" \
	[ "$(ss_count "$T/forged.out" '^RX src=10\.201\.9\.9:5555')" = 0 ]
ss_stop "$PID_B"
ss_check "3: it is counted as from a stranger by B's udp-mesh" \
	grep -q 'instance=mesh plugin=udp-mesh .*from_stranger=2' "$T/relB.log"
ss_stop "$PID_A"
ss_stop "$PID_C"

# ---- 4: errors ------------------------------------------------------------------------
printf 'version = 1;\ninstances = (\n { name = "m"; plugin = "mac-self";\n   peers = "x"; }\n);\noutbound = [ "m" ];\n' >"$T/bad1.conf"
printf 'version = 1;\ninstances = (\n { name = "u"; plugin = "udp-mesh";\n   peers = [ "10.9.9.9" ]; }\n);\ntransports = [ "u" ];\npeers = { hosts = [ "10.1.1.1" ]; };\n' >"$T/bad2.conf"
bad() { ! "$SS_RELAY" --check-config --config "$1" >"$1.out" 2>&1 && grep -q "$2" "$1.out"; }
both_bad() {
	bad "$T/bad1.conf" "bad1.conf:4: 'peers' is a setting of transport" &&
		bad "$T/bad2.conf" 'bad2.conf:4: instance .u. names peer "10.9.9.9"'
}
ss_check "4: 'peers' on a filter, and a peer peers.hosts does not list, are errors with file:line" both_bad
