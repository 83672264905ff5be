#!/bin/sh
# What newer SnowSignal (0.1.2 and later) does that 0.1.x did not:
#  1. Its transmitter sends each IPv4 fragment of a large broadcast as its
#     own "SS" + frame datagram.  Relay A is set to do the same
#     (udp-mesh fragment_mtu = 1500): a 4000-byte broadcast leaves A as
#     three mesh datagrams, none longer than 1500 bytes of IP, and relay B
#     rebuilds the whole and emits it; the datagram arrives intact.
#  2. Without fragment_mtu the same broadcast travels whole, as before.
#  3. --decode-pvaccess logs each PVA search at info (channel names,
#     sequence) and relays it as before.
. "$(dirname "$0")/lib.sh"
ss_init
ss_plan 10

T=$SS_TMP
ss_two_segments

start() { # NAME PEER MESH-SETTINGS ARGS...
	_n=$1 _p=$2 _m=$3
	shift 3
	ss_conf "$T/$_n.conf" eth0 "$_p" "" "$_m" ""
	ss_start_relay "$_n" "$T/$_n.log" --config "$T/$_n.conf" -l info "$@" || return 1
	eval "PID_$_n=\$SS_RELAY_PID"
}
counter() { # RELAY FIELD: from the counters logged at shutdown
	sed -n "s/.*[ \"]$2=\([0-9]*\).*/\1/p" "$T/$1.log" | tail -n 1
}
big() { # TAG SRC-PORT: a 4000-byte broadcast from cli, listened for on srv
	ss_listen srv "$T/$1.out" --timeout 3 --count 1
	_l=$SS_LISTEN_PID
	ss_in cli "$SS_TOOLS/ss-udp-send" --src "10.201.1.10:$2" --dest 255.255.255.255 --size 4000 >/dev/null
	wait "$_l"
}

# ---- 1: fragments over the mesh --------------------------------------------------
ok=yes
start relA 10.201.2.2 "fragment_mtu = 1500; " || ok=no
start relB 10.201.1.2 "" || ok=no
ss_check "1: relay A (fragment_mtu = 1500) and relay B start" [ $ok = yes ]
big one 46001
ss_check "1: a 4000-byte broadcast crosses intact" \
	[ "$(ss_count "$T/one.out" '^RX src=10\.201\.1\.10:46001 .*len=4000 .*intact=yes dup=no')" = 1 ]
ss_stop "$PID_relA"
ss_stop "$PID_relB"
ss_check "1: relay A sent it as fragments (sent_fragmented=1)" \
	[ "$(counter relA sent_fragmented)" = 1 ]
ss_check "1: relay B took three fragments and rebuilt one datagram" \
	sh -c "[ '$(counter relB deliver_fragments)' = 3 ] && [ '$(counter relB deliver_reassembled)' = 1 ]"

# ---- 2: whole, by default ---------------------------------------------------------
ok=yes
start relA 10.201.2.2 "" || ok=no
start relB 10.201.1.2 "" || ok=no
big two 46002
ss_check "2: without fragment_mtu the broadcast crosses too" \
	[ "$(ss_count "$T/two.out" '^RX src=10\.201\.1\.10:46002 .*len=4000 .*intact=yes dup=no')" = 1 ]
ss_stop "$PID_relA"
ss_stop "$PID_relB"
ss_check "2: as one mesh datagram (no fragments at relay B)" \
	sh -c "[ '$(counter relB deliver_fragments)' = 0 ] && [ '$(counter relB delivered)' = 1 ]"

# ---- 3: --decode-pvaccess ------------------------------------------------------------
ok=yes
start relA 10.201.2.2 "" --decode-pvaccess || ok=no
start relB 10.201.1.2 "" || ok=no
ss_check "3: relay A starts with --decode-pvaccess" [ $ok = yes ]
ss_bg srv "$T/server.out" "$SS_TOOLS/pva-responder" --channel demo:decoded --timeout 4 --count 1
ss_wait_for "$T/server.out" '^READY' 1 5
ss_in cli "$SS_TOOLS/pva-search" --channel demo:decoded --seq 4242 --timeout 2 >"$T/search.out"
ss_check "3: the search is still relayed and answered" grep -q '^RESPONSE' "$T/search.out"
ss_check "3: relay A logs it decoded, with its channel and sequence" \
	ss_wait_for "$T/relA.log" 'PVA search .*sequence=4242 .*channels=demo:decoded' 1 3
ss_stop "$PID_relA"
ss_stop "$PID_relB"
ss_check "3: relay B, without the flag, logs no search" [ "$(ss_count "$T/relB.log" 'PVA search')" = 0 ]
