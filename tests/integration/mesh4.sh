#!/bin/sh
# Four segments 10.201.{1..4}.0/24 behind one router, a relay (.2) and a host
# (.10) on each, the relays in a full mesh.  Every host broadcasts; every
# other segment must see each datagram exactly once (no loss, no echo, no
# storm), re-emitted by its own relay.
. "$(dirname "$0")/lib.sh"
ss_init
ss_plan 6

T=$SS_TMP
SEGS="1 2 3 4"
PER_HOST=3
CONF_ARGS=""
[ -f "${SS_TOP_SRCDIR:-.}/etc/snowsignal.conf" ] && CONF_ARGS="--config ${SS_TOP_SRCDIR:-.}/etc/snowsignal.conf"

ss_router r
for i in $SEGS; do
	ss_segment r "$i"
	ss_host "r$i" r "$i" 2
	ss_host "h$i" r "$i" 10
done

# ---- 1: start, each relay with the three others as peers ---------------------
started=yes
for i in $SEGS; do
	peers=""
	for j in $SEGS; do [ "$j" = "$i" ] || peers="$peers 10.201.$j.2"; done
	# shellcheck disable=SC2086 # word lists on purpose
	if ss_start_relay "r$i" "$T/r$i.log" $CONF_ARGS -t eth0 -l debug --other-relays $peers; then
		eval "PID_R$i=\$SS_RELAY_PID"
	else
		started=no
	fi
done
if [ $started = yes ]; then
	ss_ok "four relays in a full mesh start"
else
	ss_fail "four relays in a full mesh start"
	echo "Bail out! relays did not start"
	exit 1
fi

# ---- 2-5: every broadcast once on every segment --------------------------------
LISTEN_PIDS=""
for i in $SEGS; do
	ss_listen "h$i" "$T/h$i.out" --timeout 3 --capture eth0
	LISTEN_PIDS="$LISTEN_PIDS $SS_LISTEN_PID"
done
for i in $SEGS; do
	ss_in "h$i" "$SS_TOOLS/ss-udp-send" --src "10.201.$i.10:4600$i" --dest 255.255.255.255 \
		--count $PER_HOST >/dev/null
done
# shellcheck disable=SC2086
wait $LISTEN_PIDS

# seen_once I: host I got each other host's datagrams exactly once, as frames
# from its own relay with valid checksums, plus its own (local delivery).
seen_once() {
	_f="$T/h$1.out"
	_mac=$(ss_mac "r$1")
	for j in $SEGS; do
		_src="10\.201\.$j\.10:4600$j"
		[ "$(ss_count "$_f" "^RX src=$_src .*intact=yes dup=no")" = $PER_HOST ] || return 1
		[ "$j" = "$1" ] && continue
		[ "$(ss_count "$_f" "^FRAME src_mac=$_mac dst_mac=ff:ff:ff:ff:ff:ff src=$_src .*ipcsum=ok udpcsum=ok")" \
			= $PER_HOST ] || return 1
	done
	# Nothing else: no echo of a segment's own broadcast, no extra copies.
	[ "$(ss_count "$_f" '^RX ')" = $((PER_HOST * 4)) ] || return 1
	[ "$(ss_count "$_f" '^FRAME ')" = $((PER_HOST * 3)) ]
}
for i in $SEGS; do
	if seen_once "$i"; then
		ss_ok "segment $i sees every other segment's broadcasts exactly once, and nothing else"
	else
		ss_fail "segment $i sees every other segment's broadcasts exactly once, and nothing else"
		ss_dump "$T/h$i.out"
		ss_dump "$T/r$i.log" 30
	fi
done

# ---- 6: orderly stop -------------------------------------------------------------
stopped=yes
for i in $SEGS; do
	eval "ss_stop \$PID_R$i" || { ss_diag "relay r$i exit status $?"; stopped=no; }
done
ss_check "all relays exit 0 on SIGTERM" [ $stopped = yes ]
