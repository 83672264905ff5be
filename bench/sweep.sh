#!/bin/sh
# snowsignal benchmark sweep (bench/README).  As root:
#
#   bench/sweep.sh --build DIR [--relay NAME=CMD]... [--relays "2 4 8"]
#                  [--rates "1000 10000 50000 100000 0"] [--mesh-rates "1000 10000"]
#                  [--seconds S] [--idle S]
#
# For each relay implementation (default: DIR/snowsignal with the shipped
# etc/snowsignal.conf) and each mesh size, builds the topology of
# bench/lib.sh, starts one relay per segment as "CMD --other-relays PEERS",
# checks that idle relays use no CPU, then sends stamped PVA searches from
# segment 1 at each rate (0 = flat out) and prints one line per step:
# delivered % (worst far segment), duplicates, one-way latency p50/p99/p99.9
# (worst far segment) and the same minus the no-relay baseline (a receiver
# on the sender's segment gets the same datagrams directly; its own line,
# "direct", shows count received and latency), CPU us per relayed packet of
# the capturing relay
# and of the busiest rebroadcasting relay, and the largest RSS.
. "$(dirname "$0")/lib.sh"

RELAYS="" SIZES="2 4 8" RATES="1000 10000 50000 100000 0" MESH_RATES="1000 10000"
SECONDS_PER_STEP=3 IDLE_SECONDS=10
FLAT_OUT_SECONDS=2 FLAT_OUT_EXPECT=4000000   # receivers' bound for "flat out"
while [ $# -gt 0 ]; do
	case $1 in
	--build) BENCH_BUILD=$2; shift 2 ;;
	--relay) RELAYS="$RELAYS
$2"; shift 2 ;;
	--relays) SIZES=$2; shift 2 ;;
	--rates) RATES=$2; shift 2 ;;
	--mesh-rates) MESH_RATES=$2; shift 2 ;;
	--seconds) SECONDS_PER_STEP=$2; shift 2 ;;
	--idle) IDLE_SECONDS=$2; shift 2 ;;
	*) echo "usage: $0 --build DIR [--relay NAME=CMD]... [--relays LIST] [--rates LIST] [--mesh-rates LIST] [--seconds S] [--idle S]" >&2; exit 2 ;;
	esac
done
BENCH_TOOLS=${BENCH_BUILD:?--build DIR is required}/bench
SNOWSIGNAL_PLUGIN_PATH=$BENCH_BUILD/plugins
export SNOWSIGNAL_PLUGIN_PATH
[ -n "$RELAYS" ] || RELAYS="snowsignal=$BENCH_BUILD/snowsignal -t eth0 -l warning --config $BENCH_SRC/etc/snowsignal.conf"
BENCH_RUN=$$
bench_init

# step IMPL N RATE: one rate step on a running mesh of N relays.
step() {
	_secs=$SECONDS_PER_STEP _expect=$(($3 * SECONDS_PER_STEP + $3 + 1))
	[ "$3" = 0 ] && _secs=$FLAT_OUT_SECONDS _expect=$FLAT_OUT_EXPECT
	BENCH_RX_PIDS="" _rx="" _i=2
	while [ "$_i" -le "$2" ]; do
		bench_recv "rx$_i" "$SS_TMP/rx$_i.out" "$_expect" $((_secs + 10)) || return 1
		_rx="$_rx $_i" _i=$((_i + 1))
	done
	# The same datagrams straight from the sender on segment 1, at the same
	# moment: the no-relay baseline the added latency is measured against.
	bench_recv rx0 "$SS_TMP/rx0.out" "$_expect" $((_secs + 10)) || return 1
	_cpu0="" _cpu1=""
	for _p in $BENCH_PIDS; do _cpu0="$_cpu0 $(bench_cpu_ns "$_p")"; done
	_sent=$(bench_field "$(bench_send "$3" "$_secs")" count)
	for _r in $BENCH_RX_PIDS; do wait "$_r"; done
	for _p in $BENCH_PIDS; do _cpu1="$_cpu1 $(bench_cpu_ns "$_p")"; done
	_rss=0
	for _p in $BENCH_PIDS; do _k=$(bench_rss_kb "$_p"); [ "${_k:-0}" -gt "$_rss" ] && _rss=$_k; done
	# The worst far segment, and each relay's CPU per packet it relayed: the
	# capturing relay relays what was sent, relay i what arrived on segment i.
	_lines=""
	for _i in $_rx; do _lines="$_lines$(sed -n 's/^RECV //p' "$SS_TMP/rx$_i.out") rx=$_i
"; done
	_b=$(sed -n 's/^RECV //p' "$SS_TMP/rx0.out")
	_base="$(bench_field "$_b" p50_us) $(bench_field "$_b" p99_us) $(bench_field "$_b" p999_us)"
	printf '%-10s %2d %7s %8d %8s %5s %7.0f %7.0f %7.0f\n' "  direct" "$2" "$([ "$3" = 0 ] && echo max || echo "$3")" \
		"$_sent" "$(echo "$(bench_field "$_b" unique) $_sent" | awk '{ printf "%.3f", $2 ? 100 * $1 / $2 : 0 }')" \
		"$(bench_field "$_b" dups)" $_base
	printf '%s' "$_lines" | awk -v impl="$1" -v n="$2" -v rate="$3" -v sent="$_sent" \
		-v cpu0="$_cpu0" -v cpu1="$_cpu1" -v rss="$_rss" -v base="$_base" '
	function v(k,   i, kv) { for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) return kv[2] } return 0 }
	BEGIN { worst = 101; split(cpu0, c0, " "); split(cpu1, c1, " "); split(base, b, " ") }
	{ d = sent ? 100 * v("unique") / sent : 0; if (d < worst) worst = d; dups += v("dups")
	  if (v("p50_us") > p50) p50 = v("p50_us"); if (v("p99_us") > p99) p99 = v("p99_us")
	  if (v("p999_us") > p999) p999 = v("p999_us")
	  r = v("rx"); got[r] = v("unique") }
	END {
	  cap = sent ? (c1[1] - c0[1]) / 1000 / sent : 0; reb = 0
	  for (i = 2; i <= n; i++) if (got[i] > 0) { x = (c1[i] - c0[i]) / 1000 / got[i]; if (x > reb) reb = x }
	  added = (base == "") ? "      -" : sprintf("%7.0f %7.0f %7.0f", p50 - b[1], p99 - b[2], p999 - b[3])
	  printf "%-10s %2d %7s %8d %8.3f %5d %7.0f %7.0f %7.0f %s %6.2f %6.2f %6d\n", impl, n,
	         rate ? rate : "max", sent, worst, dups, p50, p99, p999, added, cap, reb, rss }'
}

# idle IMPL N: CPU and wake-ups of each relay over IDLE_SECONDS of silence.
idle() {
	_w0="" _c0=""
	for _p in $BENCH_PIDS; do _w0="$_w0 $(bench_wakeups "$_p")" _c0="$_c0 $(bench_cpu_ns "$_p")"; done
	sleep "$IDLE_SECONDS"
	_i=1
	for _p in $BENCH_PIDS; do
		_w=$(($(bench_wakeups "$_p") - $(echo "$_w0" | cut -d' ' -f$((_i + 1)))))
		_c=$(($(bench_cpu_ns "$_p") - $(echo "$_c0" | cut -d' ' -f$((_i + 1)))))
		echo "# idle $1 n=$2 relay=$_i: ${IDLE_SECONDS}s cpu_us=$((_c / 1000)) wakeups=$_w rss_kb=$(bench_rss_kb "$_p") pss_kb=$(bench_pss_kb "$_p")"
		_i=$((_i + 1))
	done
}

echo "# $(date -u '+%Y-%m-%d %H:%M UTC') $(uname -r) nproc=$(nproc) $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
MAX_N=0
for n in $SIZES; do [ "$n" -gt "$MAX_N" ] && MAX_N=$n; done
bench_topology "$MAX_N" || { echo "bench: cannot build the topology" >&2; exit 1; }
echo "# impl       N    rate     sent  deliv%  dups     p50     p99   p99.9  +p50    +p99  +p99.9  us/pkt(cap) (reb)  rss_kb"
printf '%s\n' "$RELAYS" | while IFS= read -r spec; do
	[ -n "$spec" ] || continue
	impl=${spec%%=*} cmd=${spec#*=}
	for n in $SIZES; do
		bench_start_relays "$n" "$cmd" || exit 1
		idle "$impl" "$n"
		rates=$RATES
		[ "$n" -gt 2 ] && rates=$MESH_RATES
		for rate in $rates; do step "$impl" "$n" "$rate"; done
		bench_stop_relays
	done
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
