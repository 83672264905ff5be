#!/bin/sh
# What each stage of the packet paths costs, in user-space instructions per
# packet (valgrind --tool=callgrind: repeatable, unlike timings on a shared
# machine; system calls count as nothing here, so the kernel's share is
# measured apart, with perf).  As root:
#
#   bench/stages.sh --build DIR [--packets N] [--rate PPS] [--config FILE] [--relays R]
#
# R segments (2), one relay each under callgrind; N stamped searches from
# segment 1 at PPS.  Prints, for the capturing relay and for one
# rebroadcasting relay, the inclusive instructions per packet of each
# stage's function.
. "$(dirname "$0")/lib.sh"

PACKETS=10000 RATE=2000 CONF=$BENCH_SRC/etc/snowsignal.conf RELAYS=2
while [ $# -gt 0 ]; do
	case $1 in
	--build) BENCH_BUILD=$2; shift 2 ;;
	--packets) PACKETS=$2; shift 2 ;;
	--rate) RATE=$2; shift 2 ;;
	--config) CONF=$2; shift 2 ;;
	--relays) RELAYS=$2; shift 2 ;;
	*) echo "usage: $0 --build DIR [--packets N] [--rate PPS] [--config FILE] [--relays R]" >&2; exit 2 ;;
	esac
done
BENCH_TOOLS=${BENCH_BUILD:?--build DIR is required}/bench
BENCH_RUN=$$
command -v valgrind >/dev/null || { echo "bench: valgrind not found" >&2; exit 77; }
bench_init
SNOWSIGNAL_PLUGIN_PATH=$BENCH_BUILD/plugins LD_LIBRARY_PATH=$BENCH_BUILD/.libs
export SNOWSIGNAL_PLUGIN_PATH LD_LIBRARY_PATH
# Valgrind slows everything: more time to learn the peers once listening.
BENCH_RELAY_SETTLE=3
bench_topology "$RELAYS" || exit 1
bench_start_relays "$RELAYS" "valgrind --tool=callgrind --callgrind-out-file=$SS_TMP/cg.%p $BENCH_BUILD/.libs/snowsignal -t eth0 -l warning --config $CONF" || exit 1
PIDS=$(echo $BENCH_PIDS | cut -d' ' -f1-2)
BENCH_RX_PIDS=""
bench_recv rx2 "$SS_TMP/rx2.out" "$PACKETS" 120 || exit 1
bench_send "$RATE" "$(echo "$PACKETS $RATE" | awk '{ print $1 / $2 }')"
for _r in $BENCH_RX_PIDS; do wait "$_r"; done
sed -n 's/^RECV /# receiver: /p' "$SS_TMP/rx2.out"
bench_stop_relays

# Whole loop: g_main_loop_run (GLib dispatch included, per packet).
# Capture: capture_dispatch/on_capture (ring walk, parse, chain, queueing, flush).
# Chain: ss_chain_run (mac-self, ip-self, ...).  Send: udp_mesh_send (queue)
# and udp_mesh_flush (sendmmsg).  Receive: on_readable (recvmmsg, peer
# check) around ss_relay_deliver: checks, inbound chain, rewrite, emit.
STAGES="g_main_loop_run capture_dispatch on_capture capture_one ss_packet_parse ss_chain_run udp_mesh_send udp_mesh_flush on_readable handle_datagram ss_relay_deliver ss_frame_rewrite_for_segment ss_frame_fragment emit_one"
i=1
for p in $PIDS; do
	echo "# relay $i (pid $p): inclusive instructions per packet"
	callgrind_annotate --inclusive=yes --threshold=100 "$SS_TMP/cg.$p" 2>/dev/null |
		awk -v n="$PACKETS" -v stages="$STAGES" '
		BEGIN { split(stages, s, " "); for (k in s) want[s[k]] = 1 }
		/^ *[0-9,]+ / { ir = $1; gsub(",", "", ir); f = $0; sub(/.*:/, "", f); sub(/ .*/, "", f)
		                if (f in want && !(f in seen)) { seen[f] = 1; order[++m] = f; cost[f] = ir } }
		END { for (k = 1; k <= m; k++) printf "  %-30s %8.0f\n", order[k], cost[order[k]] / n }'
	i=$((i + 1))
done
