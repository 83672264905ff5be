#!/bin/sh
# Overload: what the kernel drops because a relay did not get the CPU in
# time is counted and logged, not lost silently.  A relay is stopped
# (SIGSTOP) while a burst arrives, then continued:
#   - relay A's capture ring fills: the frames the kernel dropped are its
#     capture_dropped counter, and captured + capture_dropped = sent;
#   - relay B's mesh socket fills: the datagrams the kernel dropped are the
#     transport's receive_dropped, and received + receive_dropped = what A
#     sent to B.
# Both relays go on relaying afterwards.
# A relay that is not root, as under the shipped unit (a plain user with
# CAP_NET_RAW as an ambient capability), says at start when the kernel gave
# its mesh socket less buffer than it asked for.
#
#   segment 1: cli .10, relA .2          segment 2: srv .10, relB .2
. "$(dirname "$0")/lib.sh"
ss_init
ss_plan 15

T=$SS_TMP
A=10.201.1.2 B=10.201.2.2

# The bursts here come from one host: the rate limits (rate-limit.sh tests
# them) would cut them before the buffers under test could overflow.
NO_LIMITS="source_rate_limit = 0; peer_rate_limit = 0;"
# conf_a [TOP-LEVEL]: relay A's configuration (the shipped chain).
conf_a() { ss_conf "$T/a.conf" eth0 "$B" "$NO_LIMITS ${1:-}" "" ""; }

ss_two_segments
conf_a ""
ss_conf "$T/b.conf" eth0 "$A" "$NO_LIMITS" "" ""
ss_start_relay relA "$T/relA.log" --config "$T/a.conf" || ss_dump "$T/relA.log"
ss_start_relay relB "$T/relB.log" --config "$T/b.conf" || ss_dump "$T/relB.log"
relA=$(ss_relay_pid relA) relB=$(ss_relay_pid relB)

# field LOG LINE-PATTERN KEY: KEY's value in the last line matching.
field() { grep -E -- "$2" "$1" | tail -1 | tr ' "' '\n\n' | sed -n "s/^$3=//p"; }
# stats_a, stats_b: SIGUSR1 to the relay, and wait for its counters.
na=0 nb=0
stats_a() { na=$((na + 1)); kill -USR1 "$relA" && ss_wait_for "$T/relA.log" 'relay counters' $na 5; }
stats_b() { nb=$((nb + 1)); kill -USR1 "$relB" && ss_wait_for "$T/relB.log" 'relay counters' $nb 5; }
# b_drained: relay B has emitted all it delivered, and delivers no more.
b_drained() {
	_i=0 _last=-1
	while [ $_i -lt 100 ]; do
		stats_b || return 1
		_dl=$(field "$T/relB.log" 'relay counters' delivered)
		_em=$(field "$T/relB.log" 'relay counters' emitted)
		[ "$_dl" -gt 0 ] && [ "$_dl" = "$_em" ] && [ "$_dl" = "$_last" ] && return 0
		_last=$_dl _i=$((_i + 1))
		sleep 0.1
	done
	return 1
}
# a_caught_up TOTAL: relay A has read, or counted as dropped, TOTAL broadcasts.
a_caught_up() {
	_i=0
	while [ $_i -lt 100 ]; do
		stats_a || return 1
		_c=$(field "$T/relA.log" 'relay counters' captured)
		_d=$(field "$T/relA.log" 'relay counters' capture_dropped)
		[ $((_c + _d)) -ge "$1" ] && return 0
		_i=$((_i + 1))
		sleep 0.1
	done
	return 1
}
# one_more PORT OUT: one broadcast from cli that arrives on srv (a relay
# learns of drops from the next thing that arrives after them).
one_more() {
	# What a burst left queued on the way reaches srv first: a listener
	# started meanwhile could overflow and lose the one datagram it awaits.
	b_drained || return 1
	ss_listen srv "$T/$2" --timeout 5 --count 1000000 || return 1
	_lis=$SS_LISTEN_PID
	ss_in cli "$SS_TOOLS/ss-udp-send" --src "10.201.1.10:$1" --dest 255.255.255.255 >/dev/null
	ss_wait_for "$T/$2" "^RX src=10\.201\.1\.10:$1 " 1 5
	_rc=$?
	kill "$_lis" 2>/dev/null
	wait "$_lis"
	return $_rc
}

# 1. The capture ring (2048 frames by default): A stopped, 10000 broadcasts, A continued.
BURST=10000
kill -STOP "$relA"
ss_in cli "$SS_TOOLS/ss-udp-send" --src 10.201.1.10:49001 --dest 255.255.255.255 \
	--count $BURST --interval 0 >/dev/null
kill -CONT "$relA"
ss_check "relay A relays again after the overflow" one_more 49002 a1
ss_check "and logs that the capture ring was full, with the count" \
	ss_wait_for "$T/relA.log" 'WARNING: the capture ring was full.* dropped=[0-9]+' 1 5
stats_a
captured=$(field "$T/relA.log" 'relay counters' captured)
dropped=$(field "$T/relA.log" 'relay counters' capture_dropped)
ss_diag "relay A: captured=$captured capture_dropped=$dropped of $((BURST + 1)) sent"
ss_check "captured + capture_dropped = every broadcast sent" \
	[ "$((captured + dropped))" = $((BURST + 1)) ]
ss_check "and some were dropped (the ring holds fewer than $BURST)" [ "$dropped" -gt 0 ]

# 2. The mesh socket: B stopped while A forwards a burst larger than B's
# 8 MiB receive buffer holds (1-2 KiB a datagram), B continued.
BURST=60000
kill -STOP "$relB"
ss_in cli "$SS_TOOLS/ss-udp-send" --src 10.201.1.10:49003 --dest 255.255.255.255 \
	--count $BURST --interval 0 >/dev/null
ss_check "relay A has read (or counted as dropped) the whole burst" \
	a_caught_up $((10001 + BURST))
kill -CONT "$relB"
# B first re-broadcasts the ~24,000 datagrams its buffer held; a receiver
# started meanwhile would overflow in turn, so the check waits for that.
ss_check "relay B re-broadcasts everything its buffer held" b_drained
ss_check "relay B relays again after the overflow" one_more 49004 b1
ss_check "and logs that the mesh socket's buffer was full" \
	ss_wait_for "$T/relB.log" "WARNING: the socket's receive buffer was full.*instance=mesh .*dropped=[0-9]+ total=[0-9]+" 1 5
stats_a
stats_b
sent=$(field "$T/relA.log" "peer counters peer=$B" sent)
received=$(field "$T/relB.log" 'instance counters instance=mesh plugin=udp-mesh' received)
rdropped=$(field "$T/relB.log" 'instance counters instance=mesh plugin=udp-mesh' receive_dropped)
ss_diag "A sent $sent to B; B received=$received receive_dropped=$rdropped"
ss_check "received + receive_dropped = what A sent to B" \
	[ "$((received + ${rdropped:-0}))" = "$sent" ]
ss_check "and some were dropped" [ "${rdropped:-0}" -gt 0 ]

# 3. capture_ring_kib sizes the ring: 64 KiB hold 128 frames of 512 bytes.
# A reload that changes it opens a new socket with the new ring; A stopped,
# 1000 broadcasts, A continued: exactly 128 are captured.
conf_a "capture_ring_kib = 64;"
kill -HUP "$relA"
ss_check "a reload to capture_ring_kib = 64 is taken" \
	ss_wait_for "$T/relA.log" 'configuration reloaded' 1 5
stats_a
before=$(field "$T/relA.log" 'relay counters' captured)
before_dropped=$(field "$T/relA.log" 'relay counters' capture_dropped)
kill -STOP "$relA"
ss_in cli "$SS_TOOLS/ss-udp-send" --src 10.201.1.10:49005 --dest 255.255.255.255 \
	--count 1000 --interval 0 >/dev/null
kill -CONT "$relA"
ss_check "relay A relays again" one_more 49006 a2
stats_a
captured=$(( $(field "$T/relA.log" 'relay counters' captured) - before ))
dropped=$(( $(field "$T/relA.log" 'relay counters' capture_dropped) - before_dropped ))
ss_diag "with a 64 KiB ring: captured=$captured capture_dropped=$dropped of 1001"
ss_check "the 64 KiB ring held 128 of the burst (+1 after it), the kernel dropped the rest" \
	sh -c "[ '$captured' = 129 ] && [ '$dropped' = 872 ]"

# 4. Not root: the buffer is capped at net.core.rmem_max.
ss_ns solo
ip -n "$(ss_nsname solo)" link add d0 type veth peer name d1
ip -n "$(ss_nsname solo)" link set d0 up
ip -n "$(ss_nsname solo)" link set d1 up
unprivileged() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
rmem_max=$(cat /proc/sys/net/core/rmem_max)
# nobody may not enter the build tree (a checkout under /root, mode 700):
# it runs a copy of the daemon, its library and the plugins, in $T.
stage_for_nobody() {
	_s=$T/nobody
	mkdir -p "$_s/lib" "$_s/plugins" && chmod 755 "$T" || return 1
	if [ -f "${SS_TOP_BUILDDIR:-.}/.libs/snowsignal" ]; then # libtool's wrapper and binary
		cp "${SS_TOP_BUILDDIR:-.}/.libs/snowsignal" "$_s/" &&
			cp -P "${SS_TOP_BUILDDIR:-.}"/.libs/libsnowsignal.so* "$_s/lib/" || return 1
	else
		cp "$SS_RELAY" "$_s/" || return 1
	fi
	cp "${SS_TOP_BUILDDIR:-.}"/plugins/.libs/*.so "$_s/plugins/" && chmod -R a+rX "$_s"
}
if ! command -v setpriv >/dev/null; then
	ss_skip "a relay that is not root starts" "no setpriv"
	ss_skip "and says its mesh buffer is smaller than asked for" "no setpriv"
elif ! stage_for_nobody || ! unprivileged test -x "$T/nobody/snowsignal"; then
	ss_skip "a relay that is not root starts" "cannot make a copy of the relay nobody can run in $T"
	ss_skip "and says its mesh buffer is smaller than asked for" "no copy of the relay for nobody"
else
	ss_bg solo "$T/solo.log" env LD_LIBRARY_PATH="$T/nobody/lib" \
		SNOWSIGNAL_PLUGIN_PATH="$T/nobody/plugins" SNOWSIGNAL_PLUGINDIR="$T/nobody/plugins" \
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
		--inh-caps=+net_raw --ambient-caps=+net_raw "$T/nobody/snowsignal" -t d0 --other-relays 10.201.9.9
	ss_check "a relay that is not root starts (CAP_NET_RAW only)" \
		ss_wait_for "$T/solo.log" 'relay started' 1 "$SS_START_TIMEOUT"
	if [ "$rmem_max" -ge 8388608 ]; then
		ss_skip "and says its mesh buffer is smaller than asked for" "net.core.rmem_max is $rmem_max"
	else
		ss_check "and says its mesh buffer is smaller than asked for (rmem_max $rmem_max)" \
			grep -q "receive buffer is smaller than asked for.*buffer=\"$((rmem_max / 1024)) KiB\"" "$T/solo.log"
	fi
fi
exit 0
