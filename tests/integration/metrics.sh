#!/bin/sh
# The Prometheus endpoint (metrics_listen), scraped with curl(1) while
# broadcasts cross two segments, and checked with `promtool check metrics`
# (Debian package prometheus; those points skip without it):
#  1. bad metrics_listen values are errors with file:line (--check-config);
#  2. relay A serves /metrics: valid exposition, build info, 404 elsewhere;
#     a flood of connections over its limit does not leave it deaf;
#  3. broadcasts A -> B and B -> A move the counters they should, by as much
#     as was sent; heartbeats give B's round trip;
#  4. a second relay asking for the same port fails to start, naming it;
#  5. a reload moves the endpoint (counters kept), also onto an address that
#     overlaps the open one; one to a port in use keeps it; "" closes it.
. "$(dirname "$0")/lib.sh"
ss_init
command -v curl >/dev/null 2>&1 || ss_skip_all "curl not found (Debian package curl)"
[ -f "${SS_TOP_BUILDDIR:-.}/daemon/metrics-http.la" ] ||
	ss_skip_all "this build has no metrics endpoint (configure found no libmicrohttpd-dev)"
ss_plan 23

T=$SS_TMP
A=10.201.1.2 B=10.201.2.2 CLI=10.201.1.10 SRV=10.201.2.10
PROMTOOL=$(command -v promtool || true)
ss_two_segments

# scrape NS PORT OUT: the exposition of the relay in NS into OUT.
scrape() { ss_in "$1" curl -sf --max-time 5 -o "$3" "http://127.0.0.1:$2/metrics"; }
# value FILE SAMPLE: the value of SAMPLE (name and labels as written), or "".
value() { awk -v s="$2" '$1 == s { print $2 }' "$1"; }
# wait_value PORT SAMPLE MIN: scrapes relay A until SAMPLE >= MIN (10 s).
wait_value() {
	_deadline=$(($(date +%s) + 10))
	while [ "$(date +%s)" -le "$_deadline" ]; do
		scrape relA "$1" "$T/wait.prom" &&
			awk -v s="$2" -v min="$3" '$1 == s && $2 >= min { f = 1 } END { exit !f }' "$T/wait.prom" &&
			return 0
		sleep 0.1
	done
	ss_diag "$2 did not reach $3 on port $1; last scrape:"
	ss_dump "$T/wait.prom" 400
	return 1
}
promtool_ok() { # FILE
	"$PROMTOOL" check metrics <"$1" >"$T/promtool.out" 2>&1 && return 0
	ss_dump "$T/promtool.out"
	return 1
}
promtool_check() { # DESCRIPTION FILE
	if [ -z "$PROMTOOL" ]; then
		ss_skip "$1" "promtool not found (Debian package prometheus)"
	else
		ss_check "$1" promtool_ok "$2"
	fi
}

MESH="heartbeat_interval = 1; "
ss_conf "$T/relA.conf" eth0 "$B" 'metrics_listen = "127.0.0.1:9464";' "$MESH" ""
ss_conf "$T/relB.conf" eth0 "$A" "" "$MESH" ""

# ---- 1: bad values -----------------------------------------------------------------
bad_value() { # VALUE
	ss_conf "$T/bad.conf" eth0 "$B" "metrics_listen = \"$1\";" "" ""
	! "$SS_RELAY" --check-config --config "$T/bad.conf" >"$T/bad.out" 2>&1 &&
		grep -qF "snowsignal: $T/bad.conf:3: metrics_listen \"$1\" is not ADDRESS:PORT" "$T/bad.out" ||
		{ ss_dump "$T/bad.out"; return 1; }
}
all_bad() {
	for v in localhost:9464 127.0.0.1 127.0.0.1:0 127.0.0.1:65536 ::1:9464 "[::1]9464" 10.1.2:80; do
		bad_value "$v" || return 1
	done
}
ss_check "1: a name, no port, port 0 or 65536, an unbracketed IPv6 address: errors with file:line" all_bad
ss_check "1: the configuration with metrics_listen passes --check-config" \
	"$SS_RELAY" --check-config --config "$T/relA.conf"

# ---- 2: the endpoint ---------------------------------------------------------------
ok=yes
ss_start_relay relA "$T/relA.log" --config "$T/relA.conf" || ok=no
PID_A=$SS_RELAY_PID
ss_start_relay relB "$T/relB.log" --config "$T/relB.conf" || ok=no
PID_B=$SS_RELAY_PID
ss_check "2: relays A (metrics_listen = 127.0.0.1:9464) and B start" [ $ok = yes ]
ss_check "2: A logs the endpoint open" grep -q 'metrics endpoint open address=127.0.0.1:9464' "$T/relA.log"
ss_check "2: curl scrapes http://127.0.0.1:9464/metrics" scrape relA 9464 "$T/m0.prom"
promtool_check "2: promtool check metrics accepts the exposition" "$T/m0.prom"
"$SS_RELAY" --version >"$T/version.out" 2>&1
version=$(sed -n '1s/^snowsignal //p' "$T/version.out")
ss_check "2: snowsignal_build_info{version=\"$version\",...} 1" \
	grep -qE "^snowsignal_build_info\{version=\"$version\",plugin_abi=\"[0-9]+\.[0-9]+\"\} 1$" "$T/m0.prom"
code=$(ss_in relA curl -s --max-time 5 -o /dev/null -w '%{http_code}' http://127.0.0.1:9464/other)
post=$(ss_in relA curl -s --max-time 5 -o /dev/null -w '%{http_code}' -d x http://127.0.0.1:9464/metrics)
ss_check "2: another path is 404 ($code), a POST 405 ($post)" eval '[ "$code" = 404 ] && [ "$post" = 405 ]'

# Over the connection limit (16) and the backlog: opened until the kernel
# holds no more, then closed, eight times; the endpoint must answer after
# each.  Without the second MHD_run() of metrics-http.c, libmicrohttpd
# 0.9.75 stopped listening for good in about half the runs of this test.
flood_then_scrape() {
	for _r in 1 2 3 4 5 6 7 8; do
		ss_in relA python3 -c '
import socket, time
ss = []
for i in range(40):
    s = socket.socket(); s.settimeout(0.3)
    try:
        s.connect(("127.0.0.1", 9464))
    except OSError:
        break
    ss.append(s)
time.sleep(0.2)
print(len(ss))' >"$T/flood.out" 2>&1
		ss_diag "round $_r: $(cat "$T/flood.out") connections"
		scrape relA 9464 "$T/flood.prom" || { ss_diag "then no answer"; return 1; }
	done
}
ss_check "2: 40 connections opened and closed, eight times: it still answers" flood_then_scrape

# ---- 3: traffic moves the counters ----------------------------------------------------
# Before: from the first scrape.  Frames sent by hand now, so each counter
# must grow by at least what was sent (heartbeats add to the peer's).
RELAYED='snowsignal_relay_relayed_total'
CAPTURED='snowsignal_relay_captured_total'
SENT="snowsignal_peer_sent_total{peer=\"$B\"}"
MACSELF='snowsignal_instance_seen_total{chain="outbound",instance="mac-self",plugin="mac-self"}'
MESHSENT='snowsignal_plugin_udp_mesh_sent_total{chain="transports",instance="mesh"}'
EMITTED='snowsignal_relay_emitted_total'
DELIVERED='snowsignal_relay_delivered_total'
for v in RELAYED CAPTURED SENT MACSELF EMITTED DELIVERED; do
	eval "s=\$$v"
	eval "${v}0=\$(value \"\$T/m0.prom\" \"\$s\")"
done
ss_diag "before: relayed=$RELAYED0 captured=$CAPTURED0 sent=$SENT0 mac-self=$MACSELF0 emitted=$EMITTED0 delivered=$DELIVERED0"
ss_in cli "$SS_TOOLS/ss-udp-send" --src $CLI:45001 --dest 255.255.255.255 --size 100 --count 5 >/dev/null
ss_check "3: 5 broadcasts on A's segment: relayed_total +5" wait_value 9464 "$RELAYED" $((RELAYED0 + 5))
scrape relA 9464 "$T/m1.prom"
ss_check "3: captured_total and mac-self's seen_total +5 at least" \
	[ "$(value "$T/m1.prom" "$CAPTURED")" -ge $((CAPTURED0 + 5)) ] &&
	[ "$(value "$T/m1.prom" "$MACSELF")" -ge $((MACSELF0 + 5)) ]
ss_check "3: peer_sent_total{peer=\"$B\"} +5 at least, and udp-mesh's own sent_total is there" \
	[ "$(value "$T/m1.prom" "$SENT")" -ge $((SENT0 + 5)) ] && [ -n "$(value "$T/m1.prom" "$MESHSENT")" ]
ss_check "3: nothing came back: emitted_total unchanged" \
	[ "$(value "$T/m1.prom" "$EMITTED")" = "$EMITTED0" ]
ss_in srv "$SS_TOOLS/ss-udp-send" --src $SRV:45002 --dest 255.255.255.255 --size 80 --count 3 >/dev/null
ss_check "3: 3 broadcasts on B's segment: A's delivered_total and emitted_total +3" \
	wait_value 9464 "$DELIVERED" $((DELIVERED0 + 3)) && wait_value 9464 "$EMITTED" $((EMITTED0 + 3))
ss_check "3: B answers heartbeats: peer_state up and a round trip" \
	wait_value 9464 "snowsignal_peer_state{peer=\"$B\",state=\"up\"}" 1 &&
	wait_value 9464 "snowsignal_peer_rtt_smoothed_seconds{peer=\"$B\"}" 0.000001
scrape relA 9464 "$T/m2.prom"
promtool_check "3: promtool check metrics accepts it under traffic, round trips included" "$T/m2.prom"

# ---- 4: a port in use -----------------------------------------------------------------
ss_bg relA "$T/second.log" "$SS_RELAY" --config "$T/relA.conf" -m 7125 --control-socket ""
second=$SS_LAST_PID
wait "$second"
rc=$?
ss_check "4: a second relay on 127.0.0.1:9464 exits 1 naming the address ($rc)" \
	[ "$rc" = 1 ] && grep -q 'cannot open the metrics endpoint on 127.0.0.1:9464 (metrics_listen, .*relA.conf:3): Address already in use' "$T/second.log"

# ---- 5: reloads ------------------------------------------------------------------------
ss_conf "$T/relA.conf" eth0 "$B" 'metrics_listen = "127.0.0.1:9465";' "$MESH" ""
kill -HUP "$(ss_relay_pid relA)"
ss_check "5: after a reload to 127.0.0.1:9465, the endpoint is there" \
	ss_wait_for "$T/relA.log" 'metrics endpoint open address=127.0.0.1:9465' 1 10
scrape relA 9465 "$T/m3.prom"
ss_check "5: it kept the counters, and 9464 is closed" \
	[ "$(value "$T/m3.prom" "$RELAYED")" -ge $((RELAYED0 + 5)) ] && ! scrape relA 9464 "$T/gone.prom"
# 0.0.0.0:9465 overlaps the open 127.0.0.1:9465: the old one gives way.
ss_conf "$T/relA.conf" eth0 "$B" 'metrics_listen = "0.0.0.0:9465";' "$MESH" ""
kill -HUP "$(ss_relay_pid relA)"
ss_check "5: a reload to 0.0.0.0:9465 (overlapping the open one) serves it on $A too" \
	ss_wait_for "$T/relA.log" 'metrics endpoint open address=0.0.0.0:9465' 1 10 &&
	ss_in relA curl -sf --max-time 5 -o /dev/null "http://$A:9465/metrics"
# A port another process holds: the reload applies, the endpoint stays.
ss_bg relA "$T/holder.out" python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 9466)); s.listen(1)
print("READY", flush=True); time.sleep(60)'
holder=$SS_LAST_PID
ss_wait_for "$T/holder.out" '^READY' 1 5
ss_conf "$T/relA.conf" eth0 "$B" 'metrics_listen = "127.0.0.1:9466";' "$MESH" ""
kill -HUP "$(ss_relay_pid relA)"
ss_check "5: a reload to a port in use says so, and the endpoint stays where it was" \
	ss_wait_for "$T/relA.log" 'the metrics endpoint did not move.*metrics=0\.0\.0\.0:9465.*cannot open the metrics endpoint on 127\.0\.0\.1:9466 .*Address already in use' 1 10 &&
	scrape relA 9465 "$T/m4.prom"
kill "$holder"
ss_conf "$T/relA.conf" eth0 "$B" 'metrics_listen = "";' "$MESH" ""
kill -HUP "$(ss_relay_pid relA)"
ss_check "5: a reload to \"\" closes it" \
	ss_wait_for "$T/relA.log" 'metrics endpoint closed' 1 10 && ! scrape relA 9465 "$T/gone.prom"

stopped=yes
ss_stop "$PID_A" || stopped=no
ss_stop "$PID_B" || stopped=no
ss_check "relays exit 0 on SIGTERM" [ $stopped = yes ]
[ "$SS_TAP_FAILED" = 0 ] || { ss_dump "$T/relA.log"; ss_dump "$T/relB.log"; }
