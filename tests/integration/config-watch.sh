#!/bin/sh
# watch_config: an edit of snowsignal.conf is applied as SIGHUP applies it.
#  1. An edit in place (a peer added) is reloaded: the new peer gets the
#     next broadcast.
#  2. An editor's "write a copy, rename it over" is seen too.
#  3. A bad edit is rejected and the relay keeps relaying.
#  4. Rewriting the same text reloads nothing.
#  5. watch_config = false in an edit stops the watching.
. "$(dirname "$0")/lib.sh"
ss_init
ss_plan 11

T=$SS_TMP
ss_router r
ss_segment r 1
ss_segment r 2
ss_segment r 3
ss_host cli r 1 10
ss_host relA r 1 2
ss_host relB r 2 2
ss_host relC r 3 2
ss_host srv r 2 10
ss_host obs r 3 10
CONF=$T/a.conf

conf() { # FILE PEERS [TOP-LEVEL]: a configuration of relay A
	ss_conf "$1" eth0 "$2" "${3-watch_config = true;}" "" ""
}
reloads() { ss_count "$T/relA.log" 'configuration reloaded'; }
# gets NAME SRC-PORT: a broadcast from cli reaches NAME (segment 2 or 3).
gets() {
	ss_listen "$1" "$T/$1-$2.out" --timeout 2 --count 1
	_l=$SS_LISTEN_PID
	ss_in cli "$SS_TOOLS/ss-udp-send" --src "10.201.1.10:$2" --dest 255.255.255.255 >/dev/null
	wait "$_l"
	[ "$(ss_count "$T/$1-$2.out" "^RX src=10\\.201\\.1\\.10:$2 ")" = 1 ]
}
not_gets() { ! gets "$@"; }

conf "$CONF" "10.201.2.2"
ss_conf "$T/bc.conf" eth0 "10.201.1.2" "" "" ""
ok=yes
ss_start_relay relA "$T/relA.log" --config "$CONF" || ok=no
PID_A=$SS_RELAY_PID
ss_start_relay relB "$T/relB.log" --config "$T/bc.conf" || ok=no
ss_start_relay relC "$T/relC.log" --config "$T/bc.conf" || ok=no
ss_check "relay A (watch_config = true) and two others start, A watching its file" \
	sh -c "[ $ok = yes ] && grep -q 'watching the configuration file' '$T/relA.log'"

# ---- 1: an edit in place ----------------------------------------------------------
conf "$CONF" "10.201.2.2 10.201.3.2"
ss_check "1: an edit in place is reloaded" \
	ss_wait_for "$T/relA.log" 'configuration reloaded' 1 5
ss_check "1: the peer it adds gets the next broadcast" gets obs 46001

# ---- 2: rename over ------------------------------------------------------------------
conf "$CONF.new" "10.201.3.2"
mv "$CONF.new" "$CONF"
ss_check "2: a copy renamed over the file is reloaded too" \
	ss_wait_for "$T/relA.log" 'configuration reloaded' 2 5
ss_check "2: relay B, no longer its peer, does not get the next broadcast" not_gets srv 46002

# ---- 3: a bad edit ---------------------------------------------------------------------
printf 'version = 1;\ninterface = "eth0";\nbroadcast_ports = [ 5076 ];\nbogus = 1;\n' >"$CONF"
ss_check "3: a bad edit is rejected, naming the line" \
	ss_wait_for "$T/relA.log" 'new configuration rejected.*a\.conf:4' 1 5
ss_check "3: and the relay keeps relaying with what it had" gets obs 46003

# ---- 4: the same text again -------------------------------------------------------------
conf "$CONF" "10.201.3.2"
ss_wait_for "$T/relA.log" 'configuration reloaded' 3 5
n=$(reloads)
conf "$CONF" "10.201.3.2"
touch "$CONF"
# Nothing to wait for but the absence of a reload: 2 s, far above the
# settling time.
no_reload_after() { ! ss_wait_for "$T/relA.log" 'configuration reloaded' $(($1 + 1)) 2; }
ss_check "4: rewriting the same text (and touching it) reloads nothing in 2 s" no_reload_after "$n"

# ---- 5: watching turned off by an edit ----------------------------------------------
conf "$CONF" "10.201.3.2" "watch_config = false;"
ss_wait_for "$T/relA.log" 'configuration reloaded' $((n + 1)) 5
conf "$CONF" "10.201.2.2 10.201.3.2" "watch_config = false;"
ss_check "5: after watch_config = false, an edit is not applied (no reload in 2 s)" \
	no_reload_after $((n + 1))
ss_check "5: so relay B still gets nothing" not_gets srv 46005
ss_check "relay A exits 0 on SIGTERM" ss_stop "$PID_A"
