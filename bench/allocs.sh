#!/bin/sh
# Whether the packet paths allocate: runs the two-relay topology twice with
# the relays under bench/malloc-count.so (LD_PRELOAD), relaying N1 and then
# N2 packets, and prints each relay's heap allocation count for both runs.
# Equal counts (up to start-up noise) mean no allocation per packet.  As root:
#
#   bench/allocs.sh --build DIR [--packets "1000 20000"] [--rate PPS]
. "$(dirname "$0")/lib.sh"

COUNTS="1000 20000" RATE=5000
while [ $# -gt 0 ]; do
	case $1 in
	--build) BENCH_BUILD=$2; shift 2 ;;
	--packets) COUNTS=$2; shift 2 ;;
	--rate) RATE=$2; shift 2 ;;
	*) echo "usage: $0 --build DIR [--packets \"N1 N2\"] [--rate PPS]" >&2; exit 2 ;;
	esac
done
BENCH_TOOLS=${BENCH_BUILD:?--build DIR is required}/bench
BENCH_RUN=$$
SHIM=$BENCH_BUILD/bench/.libs/malloc-count.so
[ -f "$SHIM" ] || { echo "bench: $SHIM missing: run 'make bench'" >&2; exit 1; }
bench_init
SNOWSIGNAL_PLUGIN_PATH=$BENCH_BUILD/plugins
export SNOWSIGNAL_PLUGIN_PATH
bench_topology 2 || exit 1
for n in $COUNTS; do
	# The real binary, not the libtool wrapper script, so that only the relay
	# runs with the counter.
	bench_start_relays 2 "env LD_PRELOAD=$SHIM LD_LIBRARY_PATH=$BENCH_BUILD/.libs $BENCH_BUILD/.libs/snowsignal -t eth0 -l warning --config $BENCH_SRC/etc/snowsignal.conf" || exit 1
	BENCH_RX_PIDS=""
	bench_recv rx2 "$SS_TMP/rx2.out" "$n" 60 || exit 1
	bench_send "$RATE" "$(echo "$n $RATE" | awk '{ print $1 / $2 }')" >/dev/null
	for _r in $BENCH_RX_PIDS; do wait "$_r"; done
	bench_stop_relays
	echo "packets=$n delivered=$(bench_field "$(sed -n 's/^RECV //p' "$SS_TMP/rx2.out")" unique)" \
		"capturing: $(sed -n 's/^MALLOC-COUNT //p' "$SS_TMP/rel1.log")" \
		"rebroadcasting: $(sed -n 's/^MALLOC-COUNT //p' "$SS_TMP/rel2.log")"
done
