#!/bin/sh
# Re-keying of the dtls transport under traffic, make-before-break: two
# relays in PSK mode renew their association every second while a stream
# of broadcasts crosses in each direction at 1 per ms; every datagram must
# arrive exactly once, across several re-keys.  Then a relay restarted in
# the middle of a handshake is taken back at once, not after the timeout.
#
#   segment A 10.201.1.0/24                          segment B 10.201.2.0/24
#   cli .10                                          srv .10
#   relA .2 ── :7125 delay .5 :7126 ── dtls ──────── relB .2
#
# The relays reach each other through "delay", a UDP forwarder holding
# every datagram DELAY_MS (no netem here): a path of a few milliseconds,
# like a WAN's.  relA sees its peer at 10.201.1.5 (above its own address:
# relA is the client and re-keys), relB at 10.201.1.5 (below: the server).
# Without an overlap, the server switches to the new association when its
# handshake ends while the client still sends on the old one until the
# server's Finished arrives, a round trip later: those frames were lost.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dtls-lib.sh"
ss_init
dtls_need_tools
ss_plan 9

T=$SS_TMP
A=10.201.1.2 B=10.201.2.2 D=10.201.1.5
DELAY_MS=${DTLS_REKEY_DELAY_MS:-5}
COUNT=${DTLS_REKEY_COUNT:-5000}
LISTEN=$((COUNT / 1000 + 8))

ss_two_segments
ss_host delay r 1 5

# delay.py HOST A B MS DROP: datagrams from A to HOST:7125 leave HOST:7126
# for B:7125 MS milliseconds later, and back; order is kept.  While file
# DROP holds "SIDE TYPE OFFSET VALUE", datagrams from SIDE (a or b) whose
# first record is of content TYPE and whose byte OFFSET is VALUE are lost.
cat >"$T/delay.py" <<'EOF2'
import heapq, itertools, select, socket, sys, time
host, a, b, ms = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]) / 1000
drop_file, rule, rule_at = sys.argv[5], None, 0.0

def dropped(side, data):
    global rule, rule_at
    if time.monotonic() - rule_at > 0.02:
        rule_at = time.monotonic()
        try:
            with open(drop_file) as f:
                rule = f.read().split()
        except OSError:
            rule = None
    if not rule or rule[0] != side or len(data) <= int(rule[2]):
        return False
    return data[0] == int(rule[1]) and data[int(rule[2])] == int(rule[3])

sa = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sa.bind((host, 7125))
sb = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sb.bind((host, 7126))
for s in (sa, sb):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
queue, seq = [], itertools.count()
print("READY", flush=True)
while True:
    now = time.monotonic()
    while queue and queue[0][0] <= now:
        _, _, out, data, dest = heapq.heappop(queue)
        out.sendto(data, dest)
    timeout = max(0.0, queue[0][0] - now) if queue else 1.0
    for s in select.select([sa, sb], [], [], timeout)[0]:
        data, src = s.recvfrom(65535)
        if dropped("a" if src[0] == a else "b", data):
            continue
        if s is sa and src[0] == a:
            heapq.heappush(queue, (time.monotonic() + ms, next(seq), sb, data, (b, 7125)))
        elif s is sb and src[0] == b:
            heapq.heappush(queue, (time.monotonic() + ms, next(seq), sa, data, (a, 7125)))
EOF2
ss_bg delay "$T/delay.out" python3 "$T/delay.py" $D $A $B $DELAY_MS "$T/drop"
ss_wait_for "$T/delay.out" '^READY' 1 5 || ss_dump "$T/delay.out"

dtls_psk "$T/mesh.psk" relays
dtls_conf "$T/rekey.conf" "psk_file = \"$T/mesh.psk\"; rekey_interval = 1;"

if dtls_relay relA "$T/relA.log" "$T/rekey.conf" $D:7125 && PID_A=$SS_RELAY_PID &&
	dtls_relay relB "$T/relB.log" "$T/rekey.conf" $D:7126 && PID_B=$SS_RELAY_PID &&
	dtls_up "$T/relA.log" 1 && dtls_up "$T/relB.log" 1; then
	ss_ok "relays A and B establish a PSK association with rekey_interval = 1"
else
	ss_fail "relays A and B establish a PSK association with rekey_interval = 1"
	ss_dump "$T/relA.log"
	ss_dump "$T/relB.log"
	echo "Bail out! no association; nothing else can be tested"
	exit 1
fi

# counters NAME LOG: the dtls instance's counters line, asked of the relay
# process itself (SIGUSR1).
counters() {
	_before=$(ss_count "$2" 'instance counters.*instance=mesh')
	kill -USR1 "$(ss_relay_pid "$1")"
	ss_wait_for "$2" 'instance counters.*instance=mesh' $((_before + 1)) 5
	grep 'instance counters.*instance=mesh' "$2" | tail -n 1
}
# counter LINE NAME: the value of counter NAME in LINE (0 when absent).
counter() {
	_v=$(printf '%s\n' "$1" | sed -n "s/.*[^a-z_]$2=\([0-9]*\).*/\1/p")
	echo "${_v:-0}"
}

C0_A=$(counters relA "$T/relA.log")
C0_B=$(counters relB "$T/relB.log")

# Both streams at once, each listener counting only the far side's source
# (a host also hears its own broadcasts).
ss_listen srv "$T/atob" --timeout $LISTEN
LIS_B=$SS_LISTEN_PID
ss_listen cli "$T/btoa" --timeout $LISTEN
LIS_A=$SS_LISTEN_PID
ss_bg cli "$T/send-a" "$SS_TOOLS/ss-udp-send" --src 10.201.1.10:47101 --dest 255.255.255.255 \
	--count $COUNT --interval 1 --size 200
SEND_A=$SS_LAST_PID
ss_bg srv "$T/send-b" "$SS_TOOLS/ss-udp-send" --src 10.201.2.10:47102 --dest 255.255.255.255 \
	--count $COUNT --interval 1 --size 200
SEND_B=$SS_LAST_PID
wait "$SEND_A"
wait "$SEND_B"
# The last datagrams are relayed within milliseconds; then stop listening.
ss_wait_for "$T/atob" '^RX src=10\.201\.1\.10:47101 ' $COUNT 3
ss_wait_for "$T/btoa" '^RX src=10\.201\.2\.10:47102 ' $COUNT 3
kill -TERM "$LIS_A" "$LIS_B" 2>/dev/null
wait "$LIS_A" "$LIS_B" 2>/dev/null

C1_A=$(counters relA "$T/relA.log")
C1_B=$(counters relB "$T/relB.log")
ss_diag "relA before: $C0_A" "relA after: $C1_A" "relB before: $C0_B" "relB after: $C1_B"
REKEYS_A=$(($(counter "$C1_A" rekeys) - $(counter "$C0_A" rekeys)))
REKEYS_B=$(($(counter "$C1_B" rekeys) - $(counter "$C0_B" rekeys)))
GOT_AB=$(ss_count "$T/atob" '^RX src=10\.201\.1\.10:47101 .*intact=yes dup=no')
GOT_BA=$(ss_count "$T/btoa" '^RX src=10\.201\.2\.10:47102 .*intact=yes dup=no')
ss_diag "re-keys during the stream: A=$REKEYS_A B=$REKEYS_B; A->B $GOT_AB/$COUNT, B->A $GOT_BA/$COUNT"

ss_check "at least 3 re-keys on each relay during the stream" \
	[ "$REKEYS_A" -ge 3 ] && [ "$REKEYS_B" -ge 3 ]
ss_check "every datagram from A arrived on B across the re-keys ($COUNT sent)" [ "$GOT_AB" = $COUNT ]
ss_check "every datagram from B arrived on A across the re-keys ($COUNT sent)" [ "$GOT_BA" = $COUNT ]
ss_check "none doubled or damaged" \
	[ "$(ss_count "$T/atob" 'dup=yes|intact=no')" = 0 ] && [ "$(ss_count "$T/btoa" 'dup=yes|intact=no')" = 0 ]
ss_check "no handshake failed and the peer never went down" \
	[ "$(counter "$C1_A" handshake_failures)" = 0 ] && [ "$(counter "$C1_B" handshake_failures)" = 0 ] &&
	[ "$(ss_count "$T/relA.log" 'association closed.*keepalive')" = 0 ]
if [ "$SS_TAP_FAILED" != 0 ]; then
	ss_dump "$T/relA.log" 40
	ss_dump "$T/relB.log" 40
fi

# Under --enable-sanitizers a leak or an error report makes the exit non-zero.
clean_exit() { ss_stop "$PID_A" && ss_stop "$PID_B"; }
ss_check "both relays exit 0 on SIGTERM (no sanitizer report)" clean_exit

# ---- a relay restarted in the middle of a handshake ------------------------
# A long handshake timeout (15 s): without a remedy the surviving relay
# waits that long for its half-open handshake to fail.
DTLS_HANDSHAKE_TIMEOUT=15 dtls_conf "$T/slow.conf" "psk_file = \"$T/mesh.psk\";"

# midway SIDE RULE VICTIM: relays B then A start while the forwarder loses
# the datagrams RULE matches from SIDE; once the handshake is stuck halfway
# VICTIM (relA or relB) is killed with SIGKILL and restarted without loss.
# Succeeds when the survivor establishes the association within 5 s.
midway() {
	echo "$1 $2" >"$T/drop"
	dtls_relay relB "$T/m$3-B.log" "$T/slow.conf" $D:7126 && _pb=$SS_RELAY_PID
	dtls_relay relA "$T/m$3-A.log" "$T/slow.conf" $D:7125 && _pa=$SS_RELAY_PID
	sleep 1.5 # A's ClientHello, the cookie exchange, then stuck
	if [ "$3" = relB ]; then _victim=$_pb _survivor=$T/m$3-A.log; else _victim=$_pa _survivor=$T/m$3-B.log; fi
	_before=$(ss_count "$_survivor" 'association established')
	dtls_kill9 "$_victim"
	rm -f "$T/drop"
	if [ "$3" = relB ]; then
		dtls_relay relB "$T/m$3-B2.log" "$T/slow.conf" $D:7126 && _pb=$SS_RELAY_PID
	else
		dtls_relay relA "$T/m$3-A2.log" "$T/slow.conf" $D:7125 && _pa=$SS_RELAY_PID
	fi
	ss_wait_for "$_survivor" 'association established' $((_before + 1)) 5
	_rc=$?
	ss_diag "$3 restarted mid-handshake: survivor's associations $_before -> $(ss_count "$_survivor" 'association established')"
	[ $_rc = 0 ] || for f in "$T/m$3"-*.log; do ss_dump "$f" 25; done
	ss_stop "$_pa"
	ss_stop "$_pb"
	return $_rc
}
# The server's last flight (ChangeCipherSpec first) is lost: A waits for it
# while B holds an association; then B restarts and gets A's retransmitted
# flight, with no state for it.
ss_check "server restarted mid-handshake: the client's half-open handshake is replaced within 5 s (timeout 15 s)" \
	midway b "20 0 20" relB
# The client's key exchange (handshake type 16) is lost: B waits in a
# half-open server handshake; then A restarts with a new ClientHello.
ss_check "client restarted mid-handshake: its new ClientHello replaces the server's half-open handshake within 5 s" \
	midway a "22 13 16" relA
[ "$SS_TAP_FAILED" = 0 ]
