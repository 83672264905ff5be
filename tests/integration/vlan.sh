#!/bin/sh
# VLANs: on a trunk the kernel takes the 802.1Q tag off a frame before a
# packet socket sees it, so a relay that did not look would relay every
# VLAN's broadcasts, untagged.  Tagged frames are injected on segment 1's
# bridge from cli (a packet socket), and relay A's port takes the tag off
# as a trunk port does (these kernels have no 802.1Q module for VLAN
# sub-interfaces).
#   1. By default only untagged broadcasts cross; a VID 100 one does not.
#   2. With vlan = 100 on relay A, VID 100 crosses (emitted untagged by
#      relay B), VID 200 and untagged ones do not.
#   3. With vlan = 100 on relay B too, B emits with the tag.
. "$(dirname "$0")/lib.sh"
ss_init
ss_plan 10

T=$SS_TMP
ss_two_segments

# start NAME PEER TOP-LEVEL: relay NAME with the shipped chain.
start() {
	ss_conf "$T/$1.conf" eth0 "$2" "$3" "" ""
	ss_start_relay "$1" "$T/$1.log" --config "$T/$1.conf" -l debug || return 1
	eval "PID_$1=\$SS_RELAY_PID"
}

# inject TAG: from cli, broadcasts tagged VID 100 and 200 and an untagged
# one (VID 0) to 5076, from source port 46000 + VID; srv listens on the
# wire meanwhile.  The untagged one goes last and crosses, so once it has
# arrived the tagged ones sent before it have had their chance.
inject() {
	ss_listen srv "$T/$1.out" --timeout 5 --capture eth0
	_l=$SS_LISTEN_PID
	for _v in 100 200 0; do
		ss_in cli "$SS_TOOLS/ss-udp-send" --dev eth0 --vlan "$_v" --src "10.201.1.10:$((46000 + _v))" \
			--dest 255.255.255.255 >/dev/null || ss_diag "cannot inject VID $_v"
	done
	ss_wait_for "$T/$1.out" '^FRAME .*src=10\.201\.1\.10:46000 ' 1 4
	kill "$_l" 2>/dev/null
	wait "$_l" 2>/dev/null
}
arrived() { ss_count "$T/$1.out" "^FRAME .*src=10\\.201\\.1\\.10:$2 .*vlan=$3\$"; }

ok=yes
start relA 10.201.2.2 "" || ok=no
start relB 10.201.1.2 "" || ok=no
ss_check "two relays start" [ $ok = yes ]

# ---- 1: untagged only ------------------------------------------------------------
inject one
ss_check "1: an untagged broadcast crosses" [ "$(arrived one 46000 -)" = 1 ]
ss_check "1: a broadcast tagged VID 100 does not" [ "$(ss_count "$T/one.out" ':46100 ')" = 0 ]
ss_check "1: nor one tagged VID 200" [ "$(ss_count "$T/one.out" ':46200 ')" = 0 ]

# ---- 2: relay A relays VLAN 100 --------------------------------------------------
ss_stop "$PID_relA"
start relA 10.201.2.2 "vlan = 100;" || ss_dump "$T/relA.log"
ss_listen srv "$T/two.out" --timeout 5 --capture eth0
l=$SS_LISTEN_PID
for v in 0 200 100; do
	ss_in cli "$SS_TOOLS/ss-udp-send" --dev eth0 --vlan "$v" --src "10.201.1.10:$((46000 + v))" \
		--dest 255.255.255.255 >/dev/null
done
ss_wait_for "$T/two.out" '^FRAME .*src=10\.201\.1\.10:46100 ' 1 4
kill "$l" 2>/dev/null
wait "$l" 2>/dev/null
ss_check "2: with vlan = 100, a broadcast tagged VID 100 crosses, untagged on segment 2" \
	[ "$(arrived two 46100 -)" = 1 ]
ss_check "2: an untagged one does not" [ "$(ss_count "$T/two.out" ':46000 ')" = 0 ]
ss_check "2: nor one tagged VID 200" [ "$(ss_count "$T/two.out" ':46200 ')" = 0 ]

# ---- 3: relay B emits into VLAN 100 ----------------------------------------------
ss_stop "$PID_relB"
start relB 10.201.1.2 "vlan = 100;" || ss_dump "$T/relB.log"
ss_listen srv "$T/three.out" --timeout 5 --capture eth0
l=$SS_LISTEN_PID
ss_in cli "$SS_TOOLS/ss-udp-send" --dev eth0 --vlan 100 --src 10.201.1.10:46100 \
	--dest 255.255.255.255 >/dev/null
ss_wait_for "$T/three.out" '^FRAME .*src=10\.201\.1\.10:46100 ' 1 4
kill "$l" 2>/dev/null
wait "$l" 2>/dev/null
ss_check "3: with vlan = 100 on both, relay B emits the frame tagged VID 100" \
	[ "$(arrived three 46100 100)" = 1 ]
[ "$(arrived three 46100 100)" = 1 ] || { ss_dump "$T/three.out"; ss_dump "$T/relB.log" 20; }
ss_check "3: the configuration check takes vlan and refuses 4095" \
	sh -c "printf 'version = 1;\nvlan = 4095;\n' >'$T/bad.conf'; ! '$SS_RELAY' --check-config --config '$T/bad.conf' >'$T/bad.out' 2>&1 && grep -q 'bad.conf:2' '$T/bad.out'"

stopped=yes
ss_stop "$PID_relA" || stopped=no
ss_stop "$PID_relB" || stopped=no
ss_check "relays exit 0 on SIGTERM" [ $stopped = yes ]
