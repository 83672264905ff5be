#!/bin/sh
# What one sender can make a relay carry.
#  1. Defaults (source_rate_limit 10,000/s): a host on segment 1 floods
#     50,000 broadcasts a second for 2 s while another sends 10 a second;
#     every one of the quiet host's crosses, the flood is cut to about
#     10,000 a second, and the drops are counted.
#  2. peer_rate_limit on relay B: what relay A sends beyond it is dropped
#     and counted.
. "$(dirname "$0")/lib.sh"
ss_init
ss_plan 8

T=$SS_TMP
FLOOD_RATE=${SS_FLOOD_RATE:-50000}
FLOOD_S=2
ss_two_segments
ss_host flood r 1 11

start() { # NAME PEER TOP-LEVEL
	ss_conf "$T/$1.conf" eth0 "$2" "$3" "" ""
	ss_start_relay "$1" "$T/$1.log" --config "$T/$1.conf" -l info || return 1
	eval "PID_$1=\$SS_RELAY_PID"
}
between() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; } # N LOW HIGH
counter() { # RELAY FIELD: from the counters logged at shutdown
	sed -n "s/.*relay counters.* $2=\([0-9]*\).*/\1/p" "$T/$1.log" | tail -n 1
}

# ---- 1: per source --------------------------------------------------------------
# The flood goes to port 5077, the quiet host's broadcasts to 5076, so that
# the listener that counts the quiet ones is not itself flooded (both ports
# are relayed; the limit is per IP source, whatever the port).
ok=yes
PORTS="broadcast_ports = [ 5076, 5077 ];"
start relA 10.201.2.2 "$PORTS" || ok=no
start relB 10.201.1.2 "$PORTS" || ok=no
ss_check "1: two relays with the default limits start" [ $ok = yes ]
ss_listen srv "$T/one.out" --timeout $((FLOOD_S + 6)) --count $((10 * FLOOD_S))
l=$SS_LISTEN_PID
ss_listen srv "$T/flood-rx.out" --port 5077 --timeout $((FLOOD_S + 6))
lf=$SS_LISTEN_PID
ss_in flood "$SS_TOOLS/ss-udp-send" --src 10.201.1.11:46050 --dest 255.255.255.255 --port 5077 \
	--count $((FLOOD_RATE * FLOOD_S)) --rate "$FLOOD_RATE" --size 32 >"$T/flood.out" &
f=$!
ss_in cli "$SS_TOOLS/ss-udp-send" --src 10.201.1.10:46001 --dest 255.255.255.255 \
	--count $((10 * FLOOD_S)) --rate 10 >/dev/null
wait $f
wait $l
wait $lf
stats() { kill -USR1 "$(ss_relay_pid "$1")" && ss_wait_for "$T/$1.log" 'relay counters' "$2" 5; }
stats relA 1
stats relB 1
quiet=$(ss_count "$T/one.out" '^RX src=10\.201\.1\.10:46001 .*intact=yes dup=no')
# What the kernel dropped before a relay could see it (a starved CPU; both
# counted) is no rate limit's doing: none of the quiet host's may be
# missing beyond that.
kernel=$(($(counter relA capture_dropped) + $(counter relB capture_dropped)))
kernel=$((kernel + $(sed -n 's/.*receive_dropped=\([0-9]*\).*/\1/p' "$T/relB.log" | tail -n 1 | grep . || echo 0)))
[ "$kernel" = 0 ] || ss_diag "the kernel dropped $kernel frames before the relays saw them"
quiet_ok() { [ "$quiet" = $((10 * FLOOD_S)) ] || { [ "$kernel" -gt 0 ] && [ $((quiet + kernel)) -ge $((10 * FLOOD_S)) ]; }; }
ss_check "1: all $((10 * FLOOD_S)) of the quiet host's broadcasts cross during the flood ($quiet)" quiet_ok
flooded=$(ss_count "$T/flood-rx.out" '^RX src=10\.201\.1\.11:46050 ')
# The sender may fall behind its rate on a busy machine: the bound is
# taken from how long it really sent (whole seconds, rounded up).
ms=$(sed -n 's/^SENT .* ms=\([0-9]*\).*/\1/p' "$T/flood.out")
secs=$(((${ms:-0} + 999) / 1000))
ss_diag "flood: $(cat "$T/flood.out"); $flooded crossed"
# A full bucket (one second's worth) and 10,000 a second after it.
ss_check "1: the flood is cut to 10,000 a second ($flooded crossed of $((FLOOD_RATE * FLOOD_S)) in ${ms}ms)" \
	between "$flooded" 10000 $((10000 * (secs + 1) + 2000))
stopped=yes
ss_stop "$PID_relA" || stopped=no
ss_stop "$PID_relB" || stopped=no
ss_check "1: relays exit 0 on SIGTERM" [ $stopped = yes ]
limited=$(counter relA source_rate_limited)
ss_check "1: relay A counts what it dropped ($limited)" \
	[ "${limited:-0}" -ge $((FLOOD_RATE * FLOOD_S - 10000 * (secs + 1) - 2000)) ]
ss_check "1: and says which host it was" \
	grep -q 'more broadcasts than source_rate_limit.* source=10\.201\.1\.11' "$T/relA.log"

# ---- 2: per peer ---------------------------------------------------------------------
start relA 10.201.2.2 "source_rate_limit = 0;"
start relB 10.201.1.2 "peer_rate_limit = 200;"
ss_listen srv "$T/two.out" --timeout 4
l=$SS_LISTEN_PID
ss_in flood "$SS_TOOLS/ss-udp-send" --src 10.201.1.11:46051 --dest 255.255.255.255 \
	--count 2000 --rate 2000 --size 32 >/dev/null
wait $l
ss_stop "$PID_relA"
ss_stop "$PID_relB"
crossed=$(ss_count "$T/two.out" '^RX src=10\.201\.1\.11:46051 ')
limited=$(counter relB peer_rate_limited)
ss_check "2: peer_rate_limit = 200 lets about 400 of 2,000 in a second through ($crossed)" \
	between "$crossed" 200 600
ss_check "2: relay B counts the rest ($limited)" [ "$((crossed + ${limited:-0}))" = 2000 ]
