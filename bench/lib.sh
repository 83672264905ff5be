# Shell library of the snowsignal benchmarks (POSIX sh), on top of the
# namespace helpers of the integration tests (tests/integration/lib.sh:
# ss_router, ss_segment, ss_host, ss_cleanup, ...).  Every address is
# 10.201.<segment>.<host> inside namespaces this run creates and deletes.
#
# Topology of N relays (bench_topology N): a router namespace with one
# bridge per segment 1..N; on segment i a relay "rel<i>" at .2 and, but on
# segment 1, a receiver "rx<i>" at .10; the sender "tx" at .10 and a
# baseline receiver "rx0" at .11 on segment 1.  The relays form a full mesh by unicast
# through the router.
#
# Usage: . bench/lib.sh, then set BENCH_TOOLS and BENCH_RUN.

# Long enough for a whole sweep; tests/integration/lib.sh re-runs the
# script under timeout(1) with this bound.
SS_SCRIPT_TIMEOUT=${SS_SCRIPT_TIMEOUT:-3600}
export SS_SCRIPT_TIMEOUT
SS_PROC_TIMEOUT=${SS_PROC_TIMEOUT:-600}
BENCH_SRC=${BENCH_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
. "$BENCH_SRC/tests/integration/lib.sh"

# BENCH_TOOLS (the build tree's bench/) is set by the script from --build.
BENCH_IDLE_MS=300      # a receiver stops this long after the last datagram
BENCH_RELAY_SETTLE=1   # seconds for relays to learn their peers once listening
BENCH_START_POLLS=300  # tenths of a second a relay may take to open its sockets
BENCH_MESH_PORT_HEX=1BD4  # 7124, as /proc/net/udp writes it

bench_init() {
	[ "$(id -u)" = 0 ] || { echo "bench: needs root (network namespaces)" >&2; exit 77; }
	for _t in ss-bench-send ss-bench-recv; do
		[ -x "$BENCH_TOOLS/$_t" ] || { echo "bench: $BENCH_TOOLS/$_t missing: run 'make bench' in $BENCH_BUILD" >&2; exit 1; }
	done
	trap 'ss_cleanup' EXIT
	trap 'exit 143' TERM
	trap 'exit 130' INT
	SS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/$SS_RUN_ID.XXXXXX") || exit 1
}

# bench_topology N: the namespaces and links described above.
bench_topology() {
	ss_router r || return 1
	_i=1
	while [ "$_i" -le "$1" ]; do
		ss_segment r "$_i" && ss_host "rel$_i" r "$_i" 2 || return 1
		[ "$_i" = 1 ] || ss_host "rx$_i" r "$_i" 10 || return 1
		_i=$((_i + 1))
	done
	ss_host tx r 1 10 && ss_host rx0 r 1 11
}

# bench_peers N I: the relay addresses other than segment I's.
bench_peers() {
	_j=1 _p=""
	while [ "$_j" -le "$1" ]; do
		[ "$_j" != "$2" ] && _p="$_p 10.201.$_j.2"
		_j=$((_j + 1))
	done
	echo "$_p"
}

# bench_start_relays N CMD: CMD --other-relays PEERS in each rel<i>, started
# by exec (no wrapper), so that $! is the relay itself.  Pids in BENCH_PIDS.
bench_start_relays() {
	BENCH_PIDS=""
	_i=1
	while [ "$_i" -le "$1" ]; do
		# shellcheck disable=SC2086 # the command is a word list on purpose
		ip netns exec "$(ss_nsname "rel$_i")" $2 --other-relays $(bench_peers "$1" "$_i") \
			>"$SS_TMP/rel$_i.log" 2>&1 &
		BENCH_PIDS="$BENCH_PIDS $!"
		SS_PIDS="$SS_PIDS $!"
		_i=$((_i + 1))
	done
	# Ready when each namespace shows the mesh port bound and a packet
	# socket open: true of any implementation.
	_i=1
	while [ "$_i" -le "$1" ]; do
		_ns=$(ss_nsname "rel$_i") _t=0
		until ip netns exec "$_ns" sh -c "grep -q ':$BENCH_MESH_PORT_HEX ' /proc/net/udp && [ \$(wc -l </proc/net/packet) -gt 1 ]"; do
			_t=$((_t + 1))
			[ "$_t" -le "$BENCH_START_POLLS" ] || { echo "bench: relay $_i did not open its sockets:" >&2; cat "$SS_TMP/rel$_i.log" >&2; return 1; }
			sleep 0.1
		done
		_i=$((_i + 1))
	done
	sleep "$BENCH_RELAY_SETTLE"
}

# bench_stop_relays: SIGTERM, and wait until they are gone.
bench_stop_relays() {
	for _p in $BENCH_PIDS; do kill -TERM "$_p" 2>/dev/null; done
	for _p in $BENCH_PIDS; do wait "$_p" 2>/dev/null; done
	BENCH_PIDS=""
}

# bench_cpu_ns PID: nanoseconds the process (all its threads) ran on a CPU.
# /proc/PID/task/*/schedstat has nanosecond resolution where utime+stime in
# /proc/PID/stat count 10 ms ticks; without CONFIG_IRQ_TIME_ACCOUNTING both
# include the softirq work the kernel did while the relay was running.
bench_cpu_ns() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'
}

# bench_wakeups PID: times the process was scheduled in (all threads).
bench_wakeups() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $3 } END { printf "%.0f\n", s }'
}

# bench_rss_kb PID: resident set size.
bench_rss_kb() { awk '/^VmRSS:/ { print $2 }' /proc/"$1"/status 2>/dev/null; }

# bench_pss_kb PID: proportional set size (shared pages divided among the
# processes that map them).
bench_pss_kb() { awk '/^Pss:/ { print $2 }' /proc/"$1"/smaps_rollup 2>/dev/null; }

# bench_recv NAME OUT EXPECT SECONDS: a receiver in NAME, returns once bound.
bench_recv() {
	ip netns exec "$(ss_nsname "$1")" "$BENCH_TOOLS/ss-bench-recv" --expect "$3" \
		--seconds "$4" --idle-ms "$BENCH_IDLE_MS" --run-id "$BENCH_RUN" >"$2" 2>&1 &
	SS_PIDS="$SS_PIDS $!"
	BENCH_RX_PIDS="$BENCH_RX_PIDS $!"
	ss_wait_for "$2" '^READY' 1 5
}

# bench_send RATE SECONDS: the sender on segment 1 (foreground); prints its
# SENT line.
bench_send() {
	ip netns exec "$(ss_nsname tx)" "$BENCH_TOOLS/ss-bench-send" --src 10.201.1.10 \
		--rate "$1" --seconds "$2" --run-id "$BENCH_RUN"
}

# bench_field LINE KEY: the value of KEY=value in LINE.
bench_field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
