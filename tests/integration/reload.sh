#!/bin/sh
# Reload on SIGHUP, under traffic: a good new configuration is taken
# without losing or doubling a datagram; a broken one is refused with
# file:line and the relay goes on with the old one.
#
#   segment 1: cli .10, relA .2          segment 2: srv .10, relB .2
. "$(dirname "$0")/lib.sh"
ss_init
ss_plan 13

T=$SS_TMP
A=10.201.1.2 B=10.201.2.2
COUNT=1500

ss_two_segments

# conf FILE EXTRA-INSTANCE LOG-LEVEL [MESH-SETTINGS]
conf() { ss_conf "$1" eth0 "$B" "log_level = \"$3\";" "${4:-}" "$2"; }
# five_relayed SRC-PORT OUT: 5 broadcasts from cli all arrive on srv.
five_relayed() {
	ss_listen srv "$T/$2" --timeout 3 --count 5 || return 1
	_lis=$SS_LISTEN_PID
	ss_in cli "$SS_TOOLS/ss-udp-send" --src "10.201.1.10:$1" --dest 255.255.255.255 --count 5 >/dev/null
	wait "$_lis"
	[ "$(ss_count "$T/$2" '^RX .*intact=yes dup=no')" = 5 ]
}

conf "$T/a.conf" "" info
ss_start_relay relA "$T/relA.log" --config "$T/a.conf" || ss_dump "$T/relA.log"
ss_start_relay relB "$T/relB.log" -t eth0 --other-relays "$A" || ss_dump "$T/relB.log"
relA_pid=$(ss_relay_pid relA)

# Good reload in the middle of a stream of COUNT datagrams, 1 per ms.
ss_listen srv "$T/b1" --timeout 15 --count $COUNT
LIS=$SS_LISTEN_PID
ss_bg cli "$T/send1" "$SS_TOOLS/ss-udp-send" --src 10.201.1.10:47001 --dest 255.255.255.255 \
	--count $COUNT --interval 1 --size 200
SEND=$SS_LAST_PID
conf "$T/a.conf" ',
  { name = "extra"; plugin = "ip-self"; }' debug
ss_wait_for "$T/b1" '^RX ' 100 10 # the stream is flowing
kill -HUP "$relA_pid"
ss_check "a good reload is logged, with the unchanged instances kept" \
	ss_wait_for "$T/relA.log" 'configuration reloaded .*kept_instances=3' 1 5
wait "$SEND"
wait "$LIS"
ss_check "no datagram lost across the reload ($COUNT sent)" \
	[ "$(ss_count "$T/b1" '^RX .*intact=yes dup=no')" = $COUNT ]
ss_check "and none doubled" [ "$(ss_count "$T/b1" 'dup=yes')" = 0 ]
ss_check "the relay's counters carry on across the reload: all $COUNT relayed" \
	sh -c "kill -USR1 $relA_pid; i=0; while [ \$i -lt 50 ]; do grep -q 'relay counters.* relayed=$COUNT ' '$T/relA.log' && exit 0; sleep 0.1; i=\$((i+1)); done; exit 1"
ss_check "and so do the peer's: all $COUNT sent to B" \
	grep -qE "peer counters peer=$B .*sent=$COUNT " "$T/relA.log"
ss_check "the new log level applies" ss_wait_for "$T/relA.log" 'DEBUG: instance kept across the reload' 1 2
ss_check "the new instance exists: the stats on SIGUSR1 list it" \
	sh -c "kill -USR1 $relA_pid; i=0; while [ \$i -lt 50 ]; do grep -q 'instance=extra' '$T/relA.log' && exit 0; sleep 0.1; i=\$((i+1)); done; exit 1"

# Broken reload: the relay keeps going with what it had.
printf 'version = 1;\ninterface = "eth0";\ninstances = (\n  { name = "m"; plugin = "udp-mesh"; prot = 1; }\n);\n' >"$T/a.conf"
kill -HUP "$relA_pid"
ss_check "a broken configuration is refused, naming file:line" \
	ss_wait_for "$T/relA.log" "new configuration rejected.*$T/a.conf:4" 1 5
ss_check "and the relay still relays with the previous configuration" five_relayed 47002 b2
ss_check "the relay is still the same process" kill -0 "$relA_pid"

# A valid configuration that cannot start here (its mesh port is taken by
# another program): the relay goes back to the configuration it ran.
ss_listen relA "$T/squatter" --port 7300 --timeout 30 --count 1000000
conf "$T/a.conf" "" info "port = 7300; "
kill -HUP "$relA_pid"
ss_check "a configuration that fails to start is refused, saying why" \
	ss_wait_for "$T/relA.log" "new configuration rejected.*7300.*Address already in use" 1 5
ss_check "and the previous configuration runs again" \
	ss_wait_for "$T/relA.log" "the previous one is running again" 1 2
ss_check "the same process relays with it" eval 'kill -0 "$relA_pid" && five_relayed 47003 b3'
exit 0
