#!/bin/sh
# The relay's resident memory under load: the shipped configuration
# (etc/snowsignal.conf) on a two-relay mesh, each relay with its control
# socket, broadcasts from segment 1 at each rate while `snowsignal status`
# asks both relays twice a second.  VmRSS of each relay is read ten times a
# second; the largest of a step is printed, with the relays' own capture
# counters, and at the end where the largest reading of the run lies
# (/proc/PID/smaps of that moment, summed by kind of mapping).
#
# Usage (root, from the source directory):
#   bench/rss.sh --build BUILD [--ring "1024 2048"] [--rates "10000 50000 100000 0"]
#                [--seconds S] [--set "SETTING = VALUE;"] [--names] [--conf FILE]
# --ring repeats the run for each capture_ring_kib ("default": the shipped
# value); --set adds top-level settings (e.g. "source_rate_limit = 0;");
# --names gives the relays their peers by name, as in a Swarm service
# ("tasks.snowsignal", both relays' addresses, from each namespace's own
# /etc/netns/NS/hosts), so that the name lookups are paid for too;
# --conf measures another configuration than etc/snowsignal.conf (e.g. a
# dtls mesh; its paths must be absolute).
# Rate 0 is flat out.  Figures, not a test: see bench/RESULTS.md.
BENCH_SRC=$(cd "$(dirname "$0")/.." && pwd)
SS_SCRIPT_TIMEOUT=${SS_SCRIPT_TIMEOUT:-1800}
export SS_SCRIPT_TIMEOUT
BUILD="" RINGS=default RATES="10000 50000 100000 0" SECS=5 EXTRA="" NAMES="" CONF=""
usage() { echo "usage: $0 --build BUILD [--ring LIST] [--rates LIST] [--seconds S] [--set TEXT] [--names] [--conf FILE]" >&2; exit 2; }
# In a function, so that the script's own arguments stay for the re-run
# under timeout(1) that tests/integration/lib.sh does.
parse() {
	while [ $# -gt 0 ]; do
		[ "$1" = --names ] && { NAMES=1; shift; continue; }
		[ $# -ge 2 ] || usage
		case $1 in
		--build) BUILD=$2 ;;
		--ring) RINGS=$2 ;;
		--rates) RATES=$2 ;;
		--seconds) SECS=$2 ;;
		--set) EXTRA="$EXTRA $2" ;;
		--conf) CONF=$(cd "$(dirname "$2")" && pwd)/$(basename "$2") ;;
		*) usage ;;
		esac
		shift 2
	done
}
parse "$@"
[ -n "$BUILD" ] || usage
CONF=${CONF:-$BENCH_SRC/etc/snowsignal.conf}
BUILD=$(cd "$BUILD" && pwd)
SS_TOP_BUILDDIR=$BUILD
BENCH_TOOLS=$BUILD/bench
. "$BENCH_SRC/bench/lib.sh"
ss_init
[ -x "$BENCH_TOOLS/ss-bench-send" ] || { echo "bench: run 'make bench' in $BUILD first" >&2; exit 1; }
export SNOWSIGNAL_PLUGIN_PATH="$BUILD/plugins"
T=$SS_TMP
ss_two_segments || { echo "bench: cannot build the topology" >&2; exit 1; }
PEER_A=10.201.2.2 PEER_B=10.201.1.2
if [ -n "$NAMES" ]; then
	[ -e /etc/hosts ] || { echo "bench: --names needs an /etc/hosts for ip netns exec to mount over" >&2; exit 1; }
	for _r in relA relB; do
		mkdir -p "/etc/netns/$(ss_nsname $_r)"
		printf '127.0.0.1 localhost\n10.201.1.2 tasks.snowsignal\n10.201.2.2 tasks.snowsignal\n' \
			>"/etc/netns/$(ss_nsname $_r)/hosts"
	done
	trap 'rm -rf "/etc/netns/$(ss_nsname relA)" "/etc/netns/$(ss_nsname relB)"; ss_cleanup' EXIT
	PEER_A=tasks.snowsignal PEER_B=tasks.snowsignal
fi
echo "# $(date -u '+%Y-%m-%d %H:%M UTC') $(uname -r) nproc=$(nproc) load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $(git -C "$BENCH_SRC" describe --always --dirty 2>/dev/null) $CONF, ${SECS}s per step; peers ${NAMES:+by name }$PEER_A, $PEER_B; top-level additions:${EXTRA:- none}"
echo "# ring_kib   rate     sent  rssA_kb  rssB_kb  idleA_kb  captured  capture_dropped  status_answers"

status() { ip netns exec "$(ss_nsname "$1")" "$BUILD/snowsignal" status --control-socket "$T/ctl-$1" 2>/dev/null; }
# field KEY: KEY=N of the status text's "relay:" line.
field() { sed -n "s/^relay:.* $1=\([0-9][0-9]*\).*/\1/p"; }

PEAK=0
# sample PIDS...: while the sender ($SENDER) runs, the largest VmRSS of each
# relay in PEAK_A/PEAK_B; relay A's smaps at the run's largest reading.
sample() {
	PEAK_A=0 PEAK_B=0 ANSWERS=0 _n=0
	while kill -0 "$SENDER" 2>/dev/null; do
		_ra=$(bench_rss_kb "$1") _rb=$(bench_rss_kb "$2")
		[ "${_ra:-0}" -gt "$PEAK_A" ] && PEAK_A=$_ra
		[ "${_rb:-0}" -gt "$PEAK_B" ] && PEAK_B=$_rb
		if [ "${_ra:-0}" -gt "$PEAK" ]; then PEAK=$_ra; cp /proc/"$1"/smaps "$T/peak.smaps" 2>/dev/null; fi
		_n=$((_n + 1))
		if [ $((_n % 5)) = 0 ]; then
			status relA >/dev/null && ANSWERS=$((ANSWERS + 1))
			status relB >/dev/null && ANSWERS=$((ANSWERS + 1))
		fi
		sleep 0.1
	done
}

for ring in $RINGS; do
	_top=$EXTRA
	[ "$ring" = default ] || _top="$_top capture_ring_kib = $ring;"
	# The configuration, its peers replaced by --other-relays.
	{ cat "$CONF"; printf '%s\n' "$_top"; } >"$T/snowsignal.conf"
	ss_start_relay relA "$T/a.log" -t eth0 -l warning --config "$T/snowsignal.conf" \
		--control-socket "$T/ctl-relA" --other-relays "$PEER_A" || exit 1
	_ta=$SS_RELAY_PID
	ss_start_relay relB "$T/b.log" -t eth0 -l warning --config "$T/snowsignal.conf" \
		--control-socket "$T/ctl-relB" --other-relays "$PEER_B" || exit 1
	_tb=$SS_RELAY_PID
	_a=$(ss_relay_pid relA) _b=$(ss_relay_pid relB)
	sleep 1
	status relA >/dev/null
	_idle=$(bench_rss_kb "$_a")
	for rate in $RATES; do
		_c0=$(status relA | field captured) _d0=$(status relA | field capture_dropped)
		ip netns exec "$(ss_nsname cli)" "$BENCH_TOOLS/ss-bench-send" --src 10.201.1.10 \
			--rate "$rate" --seconds "$SECS" --run-id "$$" >"$T/send.out" 2>&1 &
		SENDER=$!
		sample "$_a" "$_b"
		wait "$SENDER"
		_sent=$(bench_field "$(sed -n 's/^SENT //p' "$T/send.out")" count)
		_c1=$(status relA | field captured) _d1=$(status relA | field capture_dropped)
		printf '%9s %6s %8s %8s %8s %9s %9s %16s %15s\n' "$ring" "$([ "$rate" = 0 ] && echo max || echo "$rate")" \
			"${_sent:-?}" "$PEAK_A" "$PEAK_B" "$_idle" $((${_c1:-0} - ${_c0:-0})) \
			$((${_d1:-0} - ${_d0:-0})) "$ANSWERS"
	done
	ss_stop "$_ta"
	ss_stop "$_tb"
done

# Where the largest reading lies, in KiB by kind of mapping.
echo "# relay A at its largest VmRSS ($PEAK KiB), Rss by mapping:"
awk -v build="$BUILD" '
/^[0-9a-f]+-[0-9a-f]+ / {
	n = $6
	if (n == "") kind = "anonymous (large tables, thread stacks and arenas)"
	else if (n ~ /^socket:/) kind = "capture ring"
	else if (n == "[heap]") kind = "heap"
	else if (n ~ /^\[stack/) kind = "stack"
	else if (index(n, build) == 1) kind = "snowsignal, libsnowsignal, plugins"
	else if (n ~ /\.so/) kind = "system libraries"
	else kind = "other " n
}
/^Rss:/ { rss[kind] += $2 }
END { for (k in rss) printf "#   %6d  %s\n", rss[k], k }' "$T/peak.smaps" | sort -k2 -nr
