#!/bin/sh
# How late each PACKET_MMAP ring layout hands a frame to a process that
# waits in poll(): TPACKET_V2 (woken per frame) against TPACKET_V3 (woken
# per retired block, the retire timer in whole milliseconds).  As root:
#
#   bench/ring-latency.sh --build DIR [--rates "1000 10000"] [--seconds S]
#
# One segment: the sender at 10.201.1.10 and the probe at 10.201.1.11.
# Prints the probe's RING lines (capture time minus send stamp).
. "$(dirname "$0")/lib.sh"

RATES="1000 10000" SECONDS_PER_STEP=3
while [ $# -gt 0 ]; do
	case $1 in
	--build) BENCH_BUILD=$2; shift 2 ;;
	--rates) RATES=$2; shift 2 ;;
	--seconds) SECONDS_PER_STEP=$2; shift 2 ;;
	*) echo "usage: $0 --build DIR [--rates LIST] [--seconds S]" >&2; exit 2 ;;
	esac
done
BENCH_TOOLS=${BENCH_BUILD:?--build DIR is required}/bench
BENCH_RUN=$$
bench_init
ss_router r && ss_segment r 1 && ss_host tx r 1 10 && ss_host probe r 1 11 || exit 1
echo "# $(date -u '+%Y-%m-%d %H:%M UTC') $(uname -r) nproc=$(nproc) load $(cut -d' ' -f1-3 /proc/loadavg)"
for rate in $RATES; do
	for layout in "2 0" "3 1" "3 4"; do
		set -- $layout
		ip netns exec "$(ss_nsname probe)" "$BENCH_TOOLS/ss-ring-probe" --dev eth0 --version "$1" \
			--block-ms "$2" --seconds $((SECONDS_PER_STEP + 1)) >"$SS_TMP/probe.out" 2>&1 &
		SS_PIDS="$SS_PIDS $!"
		ss_wait_for "$SS_TMP/probe.out" '^READY' 1 5 || exit 1
		bench_send "$rate" "$SECONDS_PER_STEP" >/dev/null
		wait $!
		echo "rate=$rate $(sed -n 's/^RING //p' "$SS_TMP/probe.out")"
	done
done
