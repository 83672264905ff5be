#!/bin/sh
# What the metrics endpoint (metrics_listen) costs a relay: VmRSS, CPU and
# wake-ups over a quiet period, for relay A of a two-relay mesh, in four
# cases:
#   off        no metrics_listen (the module is not loaded)
#   off-load   the same after 2000 broadcasts relayed at 1000/s
#   on         metrics_listen set, never scraped
#   scraped    after 20 scrapes (a connection each, closed) and 2000
#              broadcasts relayed at 1000/s while scraping 10 times a second
#   keepalive  as scraped, with one HTTP/1.1 connection left open and idle
#              (Prometheus keeps its connection between scrapes)
# Usage (root, from the source directory):
#   bench/metrics-idle.sh --build BUILD [--before OTHER_BUILD] [--idle SECONDS]
# --before measures "off" with another build too (e.g. one without the
# endpoint's code).  Prints one line per case.
BENCH_SRC=$(cd "$(dirname "$0")/.." && pwd)
SS_SCRIPT_TIMEOUT=${SS_SCRIPT_TIMEOUT:-600}
export SS_SCRIPT_TIMEOUT
BUILD="" BEFORE="" IDLE=10
# In a function, so that the script's own arguments stay for the re-run
# under timeout(1) that tests/integration/lib.sh does.
parse() {
	while [ $# -gt 0 ]; do
		case $1 in
		--build) BUILD=$2; shift 2 ;;
		--before) BEFORE=$2; shift 2 ;;
		--idle) IDLE=$2; shift 2 ;;
		*) echo "usage: $0 --build BUILD [--before OTHER_BUILD] [--idle SECONDS]" >&2; exit 2 ;;
		esac
	done
}
parse "$@"
[ -n "$BUILD" ] || { echo "usage: $0 --build BUILD [--before OTHER_BUILD] [--idle SECONDS]" >&2; exit 2; }
BUILD=$(cd "$BUILD" && pwd)
SS_TOP_BUILDDIR=$BUILD
. "$BENCH_SRC/bench/lib.sh"
ss_init
export SNOWSIGNAL_PLUGIN_PATH="$BUILD/plugins" SNOWSIGNAL_PLUGINDIR="$BUILD/plugins"
export SNOWSIGNAL_METRICS_MODULE="$BUILD/daemon/metrics-http"
T=$SS_TMP
ss_two_segments
echo "# $(date -u '+%Y-%m-%d %H:%M UTC') $(uname -r) nproc=$(nproc) load: $(cut -d' ' -f1-3 /proc/loadavg)"

scrape() { ip netns exec "$(ss_nsname relA)" curl -sf -o /dev/null http://127.0.0.1:9464/metrics; }

# measure CASE RELAY: relay A's figures over IDLE quiet seconds.
measure() {
	_pid=$(ss_relay_pid relA)
	_w0=$(bench_wakeups "$_pid") _c0=$(bench_cpu_ns "$_pid")
	sleep "$IDLE"
	_w=$(($(bench_wakeups "$_pid") - _w0)) _c=$((($(bench_cpu_ns "$_pid") - _c0) / 1000))
	echo "$1 $2: ${IDLE}s idle cpu_us=$_c wakeups=$_w rss_kb=$(bench_rss_kb "$_pid") pss_kb=$(bench_pss_kb "$_pid")"
}

run_case() { # CASE RELAY_BINARY TOP-LEVEL
	ss_conf "$T/a.conf" eth0 10.201.2.2 "$3 control_socket = \"\";" "" ""
	ss_conf "$T/b.conf" eth0 10.201.1.2 'control_socket = "";' "" ""
	SS_RELAY=$2 ss_start_relay relA "$T/a.log" --config "$T/a.conf" || return 1
	_a=$SS_RELAY_PID
	SS_RELAY=$2 ss_start_relay relB "$T/b.log" --config "$T/b.conf" || return 1
	_b=$SS_RELAY_PID
	sleep 1
	case $1 in
	off-load | scraped | keepalive)
		[ -n "$3" ] && for _i in $(seq 20); do scrape; done
		ss_in cli "$SS_TOOLS/ss-udp-send" --src 10.201.1.10:45001 --dest 255.255.255.255 \
			--count 2000 --rate 1000 >/dev/null &
		_s=$!
		for _i in $(seq 20); do [ -z "$3" ] || scrape; sleep 0.1; done
		wait "$_s"
		;;
	esac
	if [ "$1" = keepalive ]; then
		# One request, the answer read, the connection left open.
		ip netns exec "$(ss_nsname relA)" python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", 9464))
s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
s.recv(65536)
time.sleep(float(sys.argv[1]) + 2)' "$IDLE" &
		_k=$!
		sleep 0.5
	fi
	measure "$1" "$(basename "$(dirname "$2")")/$(basename "$2")"
	[ "$1" = keepalive ] && wait "$_k"
	ss_stop "$_a"
	ss_stop "$_b"
}

[ -n "$BEFORE" ] && run_case off "$(cd "$BEFORE" && pwd)/snowsignal" ""
run_case off "$BUILD/snowsignal" ""
run_case off-load "$BUILD/snowsignal" ""
run_case on "$BUILD/snowsignal" 'metrics_listen = "127.0.0.1:9464";'
run_case scraped "$BUILD/snowsignal" 'metrics_listen = "127.0.0.1:9464";'
run_case keepalive "$BUILD/snowsignal" 'metrics_listen = "127.0.0.1:9464";'
