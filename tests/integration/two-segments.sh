#!/bin/sh
# Two segments, one relay on each, a router between them (unicast only):
#
#   segment A 10.201.1.0/24              segment B 10.201.2.0/24
#   cli .10  obsA .20  rogue .66         srv .10
#   relA .2 ────── udp-mesh :7124 ────── relB .2
#              router .1 (br1) / .1 (br2)
#
# Checks what DESIGN.md sections 1 and 4 promise for a relayed broadcast.
. "$(dirname "$0")/lib.sh"
ss_init
ss_plan 24

T=$SS_TMP
A=10.201.1.2 B=10.201.2.2 CLI=10.201.1.10 SRV=10.201.2.10
CONF_ARGS=""
[ -f "${SS_TOP_SRCDIR:-.}/etc/snowsignal.conf" ] && CONF_ARGS="--config ${SS_TOP_SRCDIR:-.}/etc/snowsignal.conf"
LISTEN=2.5 # seconds every listener listens: also the quiet period of absence checks

ss_router r
ss_segment r 1
ss_segment r 2
ss_host cli r 1 10
ss_host obsA r 1 20
ss_host rogue r 1 66
ss_host relA r 1 2
ss_host relB r 2 2
ss_host srv r 2 10
MAC_A=$(ss_mac relA)
MAC_B=$(ss_mac relB)
BCAST_MAC=ff:ff:ff:ff:ff:ff

# re TEXT: TEXT as a literal in a grep -E pattern (IPs contain dots).
re() { printf '%s' "$1" | sed 's/[].[*^$]/\\&/g'; }

# rx FILE SRC [DST]: intact, non-duplicate datagrams from SRC (ip:port).
rx() { ss_count "$1" "^RX src=$(re "$2") dst=$(re "${3:-}")[^ ]* .*intact=yes dup=no"; }

# rx_all FILE: every datagram the listener saw, whatever its source.
rx_all() { ss_count "$1" '^RX '; }

# frames_ok FILE SRC N MAC: N frames from SRC, each with Ethernet source MAC,
# broadcast destination and valid IPv4 and UDP checksums, and no others.
frames_ok() {
	[ "$(ss_count "$1" "^FRAME .* src=$(re "$2") ")" = "$3" ] &&
		[ "$(ss_count "$1" "^FRAME src_mac=$4 dst_mac=$BCAST_MAC src=$(re "$2") .*ipcsum=ok udpcsum=ok .*frag=none")" = "$3" ]
}

# Runs at the end of a group of points: on failure, show what was seen.
PHASE_FAILED=0
phase_end() {
	[ "$SS_TAP_FAILED" = "$PHASE_FAILED" ] && return 0
	PHASE_FAILED=$SS_TAP_FAILED
	for f in "$@"; do ss_dump "$f"; done
}

relay() { # NAME LOG PEERS...: relay on eth0 of NAME, peers last (nargs)
	_n=$1 _l=$2
	shift 2
	# shellcheck disable=SC2086 # CONF_ARGS is a word list on purpose
	ss_start_relay "$_n" "$_l" $CONF_ARGS -t eth0 -l debug --other-relays "$@"
}

# ---- 1: start -------------------------------------------------------------
if relay relA "$T/relA.log" "$B" && PID_A=$SS_RELAY_PID &&
	relay relB "$T/relB.log" "$A" && PID_B=$SS_RELAY_PID; then
	ss_ok "relays A and B start and log 'relay started'"
else
	ss_fail "relays A and B start and log 'relay started'"
	echo "Bail out! relays did not start; nothing else can be tested"
	exit 1
fi

# ---- 2-6: limited broadcast A -> B ----------------------------------------
ss_listen srv "$T/b1" --timeout $LISTEN --capture eth0
PID_SRV=$SS_LISTEN_PID
ss_listen obsA "$T/a1" --timeout $LISTEN
PID_OBS=$SS_LISTEN_PID
ss_in cli "$SS_TOOLS/ss-udp-send" --src $CLI:45001 --dest 255.255.255.255 --size 100 --count 5 >/dev/null
wait $PID_SRV $PID_OBS
ss_check "broadcast to 255.255.255.255 from A arrives on B with source $CLI:45001" \
	[ "$(rx "$T/b1" $CLI:45001 255.255.255.255)" = 5 ]
ss_check "no duplicates on B" [ "$(ss_count "$T/b1" 'dup=yes')" = 0 ]
ss_check "frames on B: Ethernet source = relay B ($MAC_B), broadcast destination, valid IPv4 and UDP checksums" \
	frames_ok "$T/b1" $CLI:45001 5 "$MAC_B"
ss_check "nothing comes back to A: the observer on A sees each datagram once and nothing else" \
	[ "$(rx "$T/a1" $CLI:45001)" = 5 -a "$(rx_all "$T/a1")" = 5 ]
ss_check "nothing more arrives on B in the ${LISTEN}s after the sender stopped" [ "$(rx_all "$T/b1")" = 5 ]
phase_end "$T/b1" "$T/a1"

# ---- 7: subnet-directed broadcast ------------------------------------------
ss_listen srv "$T/b2" --timeout $LISTEN --capture eth0
PID_SRV=$SS_LISTEN_PID
ss_in cli "$SS_TOOLS/ss-udp-send" --src $CLI:45002 --dest 10.201.1.255 --count 3 >/dev/null
wait $PID_SRV
ss_check "directed broadcast 10.201.1.255 of A arrives on B as 10.201.2.255, checksums valid" \
	[ "$(rx "$T/b2" $CLI:45002 10.201.2.255)" = 3 -a "$(ss_count "$T/b2" \
	"^FRAME .*dst=10\.201\.2\.255:5076 .*ipcsum=ok udpcsum=ok")" = 3 -a "$(rx_all "$T/b2")" = 3 ]
phase_end "$T/b2"

# ---- 8-9: B -> A ------------------------------------------------------------
ss_listen obsA "$T/a3" --timeout $LISTEN --capture eth0
PID_OBS=$SS_LISTEN_PID
ss_listen srv "$T/b3" --timeout $LISTEN
PID_SRV=$SS_LISTEN_PID
ss_in srv "$SS_TOOLS/ss-udp-send" --src $SRV:45003 --dest 255.255.255.255 --count 3 >/dev/null
wait $PID_OBS $PID_SRV
b_to_a() {
	[ "$(rx "$T/a3" $SRV:45003 255.255.255.255)" = 3 ] && [ "$(rx_all "$T/a3")" = 3 ] &&
		frames_ok "$T/a3" $SRV:45003 3 "$MAC_A"
}
ss_check "broadcast from B arrives on A with source $SRV:45003 and relay A's MAC" b_to_a
# The sender's own listener gets its broadcast once over the local stack.
ss_check "nothing comes back to B" [ "$(rx "$T/b3" $SRV:45003)" = 3 -a "$(rx_all "$T/b3")" = 3 ]
phase_end "$T/a3" "$T/b3"

# ---- 10-15: payload sizes, IP options, fragments ----------------------------
ss_listen srv "$T/b4" --timeout $LISTEN --capture eth0
PID_SRV=$SS_LISTEN_PID
ss_in cli "$SS_TOOLS/ss-udp-send" --src $CLI:45010 --dest 255.255.255.255 --size 1 >/dev/null
ss_in cli "$SS_TOOLS/ss-udp-send" --src $CLI:45011 --dest 255.255.255.255 --size 100 >/dev/null
ss_in cli "$SS_TOOLS/ss-udp-send" --src $CLI:45012 --dest 255.255.255.255 --size max >"$T/max.out"
ss_in cli "$SS_TOOLS/ss-udp-send" --src $CLI:45013 --dest 255.255.255.255 --size 200 --ip-options ra >/dev/null
ss_in cli "$SS_TOOLS/ss-udp-send" --src $CLI:45014 --dest 255.255.255.255 --size 200 --ip-options nop >/dev/null
ss_in cli "$SS_TOOLS/ss-udp-send" --src $CLI:45015 --dest 255.255.255.255 --size 3000 >/dev/null
wait $PID_SRV
MAX=$(sed -n 's/.* size=\([0-9]*\) .*/\1/p' "$T/max.out")
sized() { # PORT LEN
	[ "$(ss_count "$T/b4" "^RX src=$(re "$CLI:$1") .* len=$2 .*intact=yes dup=no")" = 1 ] &&
		frames_ok "$T/b4" "$CLI:$1" 1 "$MAC_B"
}
ss_check "payload of 1 byte arrives intact with valid checksums" sized 45010 1
ss_check "payload of 100 bytes arrives intact with valid checksums" sized 45011 100
ss_check "payload of ${MAX:-?} bytes (largest for the MTU) arrives intact with valid checksums" sized 45012 "$MAX"
ss_check "IP options (router alert) preserved, checksums valid" \
	[ "$(ss_count "$T/b4" "^RX src=$(re $CLI:45013) .*intact=yes dup=no opts=94040000")" = 1 -a \
	"$(ss_count "$T/b4" "^FRAME src_mac=$MAC_B .* src=$(re $CLI:45013) .*ipcsum=ok udpcsum=ok opts=94040000")" = 1 ]
ss_check "IP options (NOP NOP NOP EOL) preserved, checksums valid" \
	[ "$(ss_count "$T/b4" "^RX src=$(re $CLI:45014) .*intact=yes dup=no opts=01010100")" = 1 -a \
	"$(ss_count "$T/b4" "^FRAME src_mac=$MAC_B .* src=$(re $CLI:45014) .*ipcsum=ok udpcsum=ok opts=01010100")" = 1 ]
# 3000 bytes exceed the 1500-byte MTU: the sender's kernel fragments, the
# relay reassembles, and re-fragments on B; the listener's kernel
# reassembles (verifying the UDP checksum) and checks every payload byte.
ss_check "fragmented 3000-byte datagram arrives intact, fragments have valid IPv4 checksums" \
	[ "$(ss_count "$T/b4" "^RX src=$(re $CLI:45015) .* len=3000 .*intact=yes dup=no")" = 1 -a \
	"$(ss_count "$T/b4" "^FRAME src_mac=$MAC_B .* ipcsum=bad")" = 0 -a \
	"$(ss_count "$T/b4" "^FRAME src_mac=$MAC_B .*frag=last")" -ge 1 ]
phase_end "$T/b4"

# ---- 16: PVA search -------------------------------------------------------------
ss_bg srv "$T/resp1" "$SS_TOOLS/pva-responder" --channel ss:test:pv --timeout 5 --count 1
PID_SRV=$SS_LAST_PID
ss_wait_for "$T/resp1" '^READY' 1 5
ss_in cli "$SS_TOOLS/pva-search" --channel ss:test:pv --timeout 3 >"$T/search1"
wait $PID_SRV
ss_check "PVA search from A reaches the responder on B, which answers the client directly" \
	grep -q "^RESPONSE from=$(re $SRV:5076) .*found=yes" "$T/search1"
phase_end "$T/search1" "$T/resp1"

# ---- 17: mesh port from a non-peer ----------------------------------------------
ss_listen srv "$T/b5" --timeout $LISTEN
PID_SRV=$SS_LISTEN_PID
ss_in rogue "$SS_TOOLS/ss-udp-send" --mesh --dest $B --port 7124 --inner-src 10.201.1.66:45020 \
	--count 3 >/dev/null
wait $PID_SRV
ss_check "udp-mesh datagram to $B:7124 from a non-peer is never emitted" [ "$(rx_all "$T/b5")" = 0 ]
phase_end "$T/b5" "$T/relB.log"

# ---- 18-19: relay B restarted while traffic flows --------------------------------
ss_listen srv "$T/b6" --timeout 9
PID_SRV=$SS_LISTEN_PID
ss_bg cli "$T/send6" "$SS_TOOLS/ss-udp-send" --src $CLI:45030 --dest 255.255.255.255 --count 50 --interval 100
PID_SEND=$SS_LAST_PID
ss_wait_for "$T/b6" '^RX ' 3 5
ss_stop "$PID_B"
ss_check "relay B exits 0 on SIGTERM" [ $? = 0 ]
# Restarted with rogue as a peer too, for the control of point 20.
if relay relB "$T/relB2.log" "$A" 10.201.1.66; then PID_B=$SS_RELAY_PID; fi
wait $PID_SEND $PID_SRV
ss_check "relay B restarted mid-run resumes: the last datagrams arrive, no duplicates" \
	[ "$(rx "$T/b6" $CLI:45030)" -ge 10 -a "$(ss_count "$T/b6" 'seq=49 intact=yes dup=no')" = 1 -a \
	"$(ss_count "$T/b6" 'dup=yes')" = 0 ]
phase_end "$T/b6" "$T/relB2.log"

# ---- 20: control for 17 --------------------------------------------------------
# The same hand-made datagram, now from a configured peer and from the mesh
# port as a SnowSignal 0.1.x relay sends it, is emitted: so point 17 failed
# for the right reason, and the wire format is the 0.1.x one.
ss_listen srv "$T/b8" --timeout $LISTEN --capture eth0
PID_SRV=$SS_LISTEN_PID
ss_in rogue "$SS_TOOLS/ss-udp-send" --mesh --src 10.201.1.66:7124 --dest $B --port 7124 \
	--inner-src 10.201.1.66:45021 --count 3 >/dev/null
wait $PID_SRV
from_peer() { [ "$(rx "$T/b8" 10.201.1.66:45021)" = 3 ] && frames_ok "$T/b8" 10.201.1.66:45021 3 "$MAC_B"; }
ss_check "control: that udp-mesh datagram from a configured peer is emitted on B" from_peer
phase_end "$T/b8" "$T/relB2.log"

# ---- 21: Ethernet padding -------------------------------------------------------
# A real NIC pads short frames to 60 bytes and a capture keeps the padding;
# veth does not, so a peer sends one such frame by hand.  The relay must
# trim it by the IP total length: no trailing bytes, payload intact.
ss_listen srv "$T/b9" --timeout $LISTEN --capture eth0
PID_SRV=$SS_LISTEN_PID
ss_in rogue "$SS_TOOLS/ss-udp-send" --mesh --src 10.201.1.66:7124 --dest $B --port 7124 \
	--inner-src 10.201.1.66:45022 --size 1 --eth-pad 60 >/dev/null
wait $PID_SRV
trimmed() {
	[ "$(ss_count "$T/b9" "^RX src=$(re 10.201.1.66:45022) .* len=1 .*intact=yes")" = 1 ] &&
		[ "$(ss_count "$T/b9" "^FRAME src_mac=$MAC_B .* src=$(re 10.201.1.66:45022) .*iplen=29 ipcsum=ok udpcsum=ok .*trail=0")" = 1 ]
}
ss_check "Ethernet padding of a relayed frame is trimmed by the IP total length" trimmed
phase_end "$T/b9" "$T/relB2.log"

# ---- 20-21: a dead peer and a name that does not resolve ---------------------------
ss_stop "$PID_A"
# 10.201.2.99 is on segment B but nobody has it (ARP fails after ~3 s, and
# then sends to it report EHOSTUNREACH); *.invalid never resolves.
if relay relA "$T/relA2.log" 10.201.2.99 nonexistent.invalid "$B"; then
	PID_A=$SS_RELAY_PID
	ss_ok "relay A starts with a dead peer and an unresolvable name among its peers"
else
	ss_fail "relay A starts with a dead peer and an unresolvable name among its peers"
fi
ss_listen srv "$T/b7" --timeout 7
PID_SRV=$SS_LISTEN_PID
ss_in cli "$SS_TOOLS/ss-udp-send" --src $CLI:45040 --dest 255.255.255.255 --count 3 >/dev/null
sleep 4 # let the ARP resolution of the dead peer fail
ss_in cli "$SS_TOOLS/ss-udp-send" --src $CLI:45040 --dest 255.255.255.255 --count 3 --seq 3 >/dev/null
wait $PID_SRV
still_relays() { [ "$(rx "$T/b7" $CLI:45040)" = 6 ] && kill -0 "$PID_A" 2>/dev/null; }
ss_check "a dead peer and an unresolvable name do not stop relaying to the others" still_relays
phase_end "$T/b7" "$T/relA2.log"

# ---- 22: beacons and the pva-search filter ------------------------------------------
# Outbound chain with the pva-search filter (allow_beacons defaults to false):
# searches pass, beacons do not.  Config keys as in core/conffile.c.
cat >"$T/pva.conf" <<'EOF'
version = 1;
instances = (
  { name = "mac-self"; plugin = "mac-self"; },
  { name = "ip-self"; plugin = "ip-self"; },
  { name = "pva"; plugin = "pva-search"; },
  { name = "mesh"; plugin = "udp-mesh"; }
);
outbound = [ "mac-self", "ip-self", "pva" ];
inbound = [ ];
transports = [ "mesh" ];
EOF
ss_stop "$PID_A"
CONF_ARGS="--config $T/pva.conf"
if relay relA "$T/relA3.log" "$B"; then
	PID_A=$SS_RELAY_PID
	ss_bg srv "$T/resp2" "$SS_TOOLS/pva-responder" --channel ss:test:pv --timeout $LISTEN
	PID_SRV=$SS_LAST_PID
	ss_wait_for "$T/resp2" '^READY' 1 5
	ss_in cli "$SS_TOOLS/pva-search" --beacon >/dev/null
	ss_in cli "$SS_TOOLS/pva-search" --channel ss:test:pv --timeout 2 --big-endian >"$T/search2"
	wait $PID_SRV
	beacons_dropped() { [ "$(ss_count "$T/resp2" '^BEACON')" = 0 ] && grep -q "^RESPONSE .*found=yes" "$T/search2"; }
	ss_check "with pva-search in the outbound chain beacons are dropped and (big-endian) searches pass" beacons_dropped
else
	ss_fail "with pva-search in the outbound chain beacons are dropped and (big-endian) searches pass"
fi
phase_end "$T/resp2" "$T/search2" "$T/relA3.log"

ss_stop "$PID_A"
ss_stop "$PID_B"
[ "$SS_TAP_FAILED" = 0 ]
