#!/bin/sh
# Relays that share a segment, and what no peer may make a relay emit.
#
#  A. Two relays on segment 1 (a1 .2, a2 .3, an HA pair), one on segment 2
#     (b .2), all peers of each other.  Once the pair has seen each other
#     emit, 1,000 broadcasts from each side arrive exactly once on the
#     other segment, never come back to their own, and nothing more
#     appears in the 10 s after (before duplicate suppression: a storm).
#  B. Three relays on segment 1 and one on segment 2: the same, 300 each.
#  C. Two meshes that meet on two segments (a1-b and a2-b2, a1/a2 on
#     segment 1, b/b2 on segment 2): the same, 300 each.
#  D. A peer wraps a datagram to one host of segment 2 (forged source) in
#     a broadcast Ethernet frame: the relay refuses it and counts it.
#  E. With require_peer_port, a datagram from a peer's address but another
#     port than its mesh port is dropped and counted; from the port, taken.
#  F. The HA pair again, the relay with the lower MAC made the slower by
#     SIGSTOP while five broadcasts cross: it finds their frames on its
#     segment before its peer's copies, claims the segment with one of them
#     (one duplicate), the other stands by, and then 300 broadcasts each way
#     arrive exactly once.  (Without the claim the pair never met: the
#     slower relay never emitted, so the faster never saw it.)
. "$(dirname "$0")/lib.sh"
ss_init
ss_plan 28

T=$SS_TMP
QUIET=${SS_QUIET_S:-10}

ss_router r
ss_segment r 1
ss_segment r 2
for h in "cli 1 10" "a1 1 2" "a2 1 3" "a3 1 4" "srv 2 10" "b 2 2" "b2 2 3"; do
	# shellcheck disable=SC2086 # NAME IDX HOST
	set -- $h
	ss_host "$1" r "$2" "$3"
done

# relay NAME PEERS...: starts snowsignal in NAME with the shipped chain.
relay() {
	_n=$1
	shift
	_peers=""
	for _p in "$@"; do _peers="$_peers $_p"; done
	# SS_MESH_SAFETY_TOP: top-level settings to add (duplicate_window_ms = 0;
	# shows the storm this test exists for).
	ss_conf "$T/$_n.conf" eth0 "$_peers" "${SS_MESH_SAFETY_TOP:-}" "" ""
	ss_start_relay "$_n" "$T/$_n.log" --config "$T/$_n.conf" -l info || return 1
	eval "PID_$_n=\$SS_RELAY_PID"
}

stop_relays() {
	_all=yes
	for _n in "$@"; do
		eval "ss_stop \$PID_$_n" || { ss_diag "relay $_n exit status $?"; _all=no; }
	done
	[ "$_all" = yes ]
}

# converge RELAYS...: bursts of broadcasts from srv until all relays of
# segment 1 but one say they stand by.  Relays find each other when both
# emit a frame before seeing the other's copy: a race, which a burst makes
# likely; until then one of them may emit a frame twice, never more.
converge() {
	_want=$(($# - 1))
	for _i in $(seq 1 60); do
		ss_in srv "$SS_TOOLS/ss-udp-send" --src 10.201.2.10:46900 --dest 255.255.255.255 \
			--seq $((_i * 10)) --count 10 --interval 0 >/dev/null
		_n=0
		for _r in "$@"; do
			grep -q 'this relay stands by' "$T/$_r.log" && _n=$((_n + 1))
		done
		[ "$_n" -ge "$_want" ] && return 0
		sleep 0.1
	done
	return 1
}

# exchange TAG N [QUIET]: N broadcasts from cli (port 46001) and from srv
# (46002) at once, listened for on both segments until QUIET seconds after.
exchange() {
	_q=${3:-$QUIET}
	ss_listen cli "$T/$1-cli.out" --timeout $((_q + 6)) --capture eth0
	_l1=$SS_LISTEN_PID
	ss_listen srv "$T/$1-srv.out" --timeout $((_q + 6)) --capture eth0
	_l2=$SS_LISTEN_PID
	ss_in cli "$SS_TOOLS/ss-udp-send" --src 10.201.1.10:46001 --dest 255.255.255.255 \
		--count "$2" --interval 1 >/dev/null &
	_s1=$!
	ss_in srv "$SS_TOOLS/ss-udp-send" --src 10.201.2.10:46002 --dest 255.255.255.255 \
		--count "$2" --interval 1 >/dev/null &
	_s2=$!
	wait $_s1 $_s2 $_l1 $_l2
}

# once TAG N: each side's N broadcasts seen exactly once on the other
# segment (socket and wire), and never on the wire of its own segment again
# (the listener does not count the sender's own outgoing frames).
once() {
	_c="$T/$1-cli.out"
	_s="$T/$1-srv.out"
	_ok=yes
	for _chk in \
		"$_s ^RX.src=10\.201\.1\.10:46001.*dup=no $2" \
		"$_s ^RX.src=10\.201\.1\.10:46001.*dup=yes 0" \
		"$_s ^FRAME.*src=10\.201\.1\.10:46001 $2" \
		"$_c ^RX.src=10\.201\.2\.10:46002.*dup=no $2" \
		"$_c ^RX.src=10\.201\.2\.10:46002.*dup=yes 0" \
		"$_c ^FRAME.*src=10\.201\.2\.10:46002 $2" \
		"$_c ^FRAME.*src=10\.201\.1\.10:46001 0" \
		"$_s ^FRAME.*src=10\.201\.2\.10:46002 0"; do
		# shellcheck disable=SC2086 # FILE PATTERN COUNT
		set -- $_chk
		_got=$(ss_count "$1" "$2")
		[ "$_got" = "$3" ] || { ss_diag "$1: $_got lines match '$2', want $3"; _ok=no; }
	done
	[ "$_ok" = yes ]
}

# ---- A: an HA pair on segment 1 -----------------------------------------------
ok=yes
relay a1 10.201.1.3 10.201.2.2 || ok=no
relay a2 10.201.1.2 10.201.2.2 || ok=no
relay b 10.201.1.2 10.201.1.3 || ok=no
ss_check "A: two relays on segment 1 and one on segment 2 start, all peers" [ $ok = yes ]
ss_check "A: the pair sees each other emit and one stands by" converge a1 a2
exchange A 1000
if once A 1000; then
	ss_ok "A: 1,000 broadcasts each way arrive exactly once, never come back, nothing more in ${QUIET}s"
else
	ss_fail "A: 1,000 broadcasts each way arrive exactly once, never come back, nothing more in ${QUIET}s"
	ss_dump "$T/A-srv.out" 8
	ss_dump "$T/a1.log" 10
fi
status_field() { # RELAY FIELD: a relay counter from its shutdown counters
	sed -n "s/.*relay counters.* $2=\([0-9]*\).*/\1/p" "$T/$1.log" | tail -n 1
}
ss_check "A: relays exit 0 on SIGTERM" stop_relays a1 a2 b
sup=$(($(status_field a1 duplicates_suppressed) + $(status_field a2 duplicates_suppressed) +
	$(status_field b duplicates_suppressed)))
ss_check "A: the suppressed duplicates are counted ($sup)" [ "$sup" -ge 2000 ]
# The standby relay holds a frame when the peer's copy comes first, and
# finds it already on the segment otherwise; the other relay always emits
# in time, so the standby never has to.
held=$(($(status_field a1 standby_held) + $(status_field a2 standby_held)))
late=$(($(status_field a1 standby_emitted) + $(status_field a2 standby_emitted)))
ss_check "A: the relay on standby held frames ($held) and never had to emit one ($late)" \
	sh -c "[ $held -ge 1 ] && [ $late = 0 ]"

# ---- B: three relays on segment 1 --------------------------------------------------
ok=yes
relay a1 10.201.1.3 10.201.1.4 10.201.2.2 || ok=no
relay a2 10.201.1.2 10.201.1.4 10.201.2.2 || ok=no
relay a3 10.201.1.2 10.201.1.3 10.201.2.2 || ok=no
relay b 10.201.1.2 10.201.1.3 10.201.1.4 || ok=no
ss_check "B: three relays on segment 1 and one on segment 2 start, all peers" [ $ok = yes ]
ss_check "B: two of the three stand by" converge a1 a2 a3
exchange B 300 3
if once B 300; then
	ss_ok "B: 300 broadcasts each way arrive exactly once, never come back, nothing more in 3s"
else
	ss_fail "B: 300 broadcasts each way arrive exactly once, never come back, nothing more in 3s"
	ss_dump "$T/B-cli.out" 8
fi
ss_check "B: relays exit 0 on SIGTERM" stop_relays a1 a2 a3 b

# ---- C: two meshes that meet on two segments ------------------------------------------
ok=yes
relay a1 10.201.2.2 || ok=no
relay b 10.201.1.2 || ok=no
relay a2 10.201.2.3 || ok=no
relay b2 10.201.1.3 || ok=no
ss_check "C: mesh a1-b and mesh a2-b2 start" [ $ok = yes ]
ss_check "C: on segment 1 one relay of the two stands by" converge a1 a2
# Segment 2's pair meets the same way, from the other side.
for i in $(seq 1 40); do
	grep -q 'this relay stands by' "$T/b.log" "$T/b2.log" && break
	ss_in cli "$SS_TOOLS/ss-udp-send" --src 10.201.1.10:46901 --dest 255.255.255.255 \
		--seq $((i * 10)) --count 1 >/dev/null
	sleep 0.1
done
ss_check "C: on segment 2 one relay of the two stands by" grep -q 'this relay stands by' "$T/b.log" "$T/b2.log"
exchange C 300 3
if once C 300; then
	ss_ok "C: 300 broadcasts each way arrive exactly once, never come back, nothing more in 3s"
else
	ss_fail "C: 300 broadcasts each way arrive exactly once, never come back, nothing more in 3s"
	ss_dump "$T/C-cli.out" 8
fi
ss_check "C: relays exit 0 on SIGTERM" stop_relays a1 b a2 b2

# ---- D: a unicast wrapped in a broadcast frame -----------------------------------------
relay b 10.201.1.2
ss_listen srv "$T/D-srv.out" --timeout 3 --port 5076
l=$SS_LISTEN_PID
# From a1's address (a peer of b), to b's mesh port: a datagram for srv
# alone, with a forged source, in a broadcast Ethernet frame.
ss_in a1 "$SS_TOOLS/ss-udp-send" --src 10.201.1.2:7124 --dest 10.201.2.2 --port 7124 --mesh \
	--inner-src 10.201.9.9:5555 --inner-dst 10.201.2.10:5076 --count 3 >/dev/null
ss_in a1 "$SS_TOOLS/ss-udp-send" --src 10.201.1.2:7124 --dest 10.201.2.2 --port 7124 --mesh \
	--inner-src 10.201.9.9:5556 --inner-dst 255.255.255.255:5076 --count 1 >/dev/null
wait $l
ss_check "D: the broadcast from the peer is emitted" \
	[ "$(ss_count "$T/D-srv.out" '^RX src=10\.201\.9\.9:5556')" = 1 ]
ss_check "D: the datagram wrapped for one host is not" \
	[ "$(ss_count "$T/D-srv.out" '^RX src=10\.201\.9\.9:5555')" = 0 ]
ss_check "D: b exits 0 on SIGTERM" stop_relays b
ss_check "D: it is refused, counted and logged" \
	sh -c "[ '$(status_field b deliver_not_broadcast)' = 3 ] && grep -q 'not its broadcast address' '$T/b.log'"

# ---- E: require_peer_port ----------------------------------------------------------
ss_conf "$T/b.conf" eth0 "10.201.1.2" "" "require_peer_port = true; " ""
ss_start_relay b "$T/b.log" --config "$T/b.conf" -l info
PID_b=$SS_RELAY_PID
ss_listen srv "$T/E-srv.out" --timeout 3 --port 5076
l=$SS_LISTEN_PID
ss_in a1 "$SS_TOOLS/ss-udp-send" --src 10.201.1.2:40000 --dest 10.201.2.2 --port 7124 --mesh \
	--inner-src 10.201.9.9:5557 --count 2 >/dev/null
ss_in a1 "$SS_TOOLS/ss-udp-send" --src 10.201.1.2:7124 --dest 10.201.2.2 --port 7124 --mesh \
	--inner-src 10.201.9.9:5558 --count 1 >/dev/null
wait $l
ss_check "E: from the peer's mesh port, the frame is emitted" \
	[ "$(ss_count "$T/E-srv.out" '^RX src=10\.201\.9\.9:5558')" = 1 ]
ss_check "E: from another port of the peer's address, it is not" \
	[ "$(ss_count "$T/E-srv.out" '^RX src=10\.201\.9\.9:5557')" = 0 ]
ss_check "E: b exits 0 on SIGTERM" stop_relays b
ss_check "E: it is counted and logged" \
	sh -c "grep -q 'from_wrong_port=2' '$T/b.log' && grep -q 'not from its mesh port.*from=10\.201\.1\.2:40000' '$T/b.log'"

# ---- F: the slower relay of a pair has the lower MAC -------------------------------
ok=yes
relay a1 10.201.1.3 10.201.2.2 || ok=no
relay a2 10.201.1.2 10.201.2.2 || ok=no
relay b 10.201.1.2 10.201.1.3 || ok=no
LOW=a1 HIGH=a2
[ "$(ss_mac a2)" \< "$(ss_mac a1)" ] && LOW=a2 HIGH=a1
ss_check "F: the pair and b start ($LOW has the lower MAC)" [ $ok = yes ]
low_pid=$(ss_relay_pid $LOW)
ss_listen cli "$T/Fclaim-cli.out" --timeout 15 --port 5076
l=$SS_LISTEN_PID
kill -STOP "$low_pid"
ss_in srv "$SS_TOOLS/ss-udp-send" --src 10.201.2.10:46950 --dest 255.255.255.255 --count 5 \
	--interval 1 >/dev/null
# $HIGH emits the five; $LOW, stopped, finds them in its ring when it goes on.
ss_wait_for "$T/Fclaim-cli.out" '^RX src=10\.201\.2\.10:46950' 5 5
kill -CONT "$low_pid"
ss_check "F: $LOW claims the segment" \
	ss_wait_for "$T/$LOW.log" 'has the lower MAC and emits a frame it emitted too' 1 5
ss_check "F: and $HIGH, seeing it emit, stands by" \
	ss_wait_for "$T/$HIGH.log" 'this relay stands by' 1 5
ss_wait_for "$T/Fclaim-cli.out" '^RX src=10\.201\.2\.10:46950' 6 2
sleep 0.5 # a seventh, which must not come, would have come by now
kill $l 2>/dev/null
wait $l 2>/dev/null
seen=$(ss_count "$T/Fclaim-cli.out" '^RX src=10\.201\.2\.10:46950')
ss_check "F: one of the five was emitted twice, the claim ($seen seen)" [ "$seen" = 6 ]
# At once: within SS_STANDBY_TTL_US (10 s) of the claim, before the standby
# lapses for want of traffic and the pair has to meet again.
exchange F 300 3
if once F 300; then
	ss_ok "F: then 300 broadcasts each way arrive exactly once, never come back, nothing more in 3s"
else
	ss_fail "F: then 300 broadcasts each way arrive exactly once, never come back, nothing more in 3s"
	ss_dump "$T/$LOW.log" 10
	ss_dump "$T/$HIGH.log" 10
fi
stop_relays a1 a2 b >/dev/null
ss_diag "F: standby_claimed $LOW=$(status_field $LOW standby_claimed) $HIGH=$(status_field $HIGH standby_claimed)"
