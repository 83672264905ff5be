#!/bin/sh
# The control socket under a slow, stuck or hostile client: 20 clients
# that each send their request a byte a second, while broadcasts cross
# from segment 1 to 2.  Nothing is lost, `snowsignal status` still answers
# at once, and each slow client is answered when its request is complete.
#
#   segment 1: cli .10, relA .2          segment 2: srv .10, relB .2
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || ss_skip_all "python3 (the slow clients) not found"
ss_init
ss_plan 7

T=$SS_TMP
A=10.201.1.2 B=10.201.2.2
SOCK=$T/control
N=400 RATE=50 SLOW=20

ss_two_segments
ss_start_relay relA "$T/relA.log" -t eth0 --control-socket "$SOCK" --other-relays "$B" ||
	ss_dump "$T/relA.log"
ss_start_relay relB "$T/relB.log" -t eth0 --other-relays "$A" || ss_dump "$T/relB.log"

# Each client connects, then sends "status\n" one byte a second, then
# reads its answer; "connected" once all are, the count answered at the end.
cat >"$T/slow.py" <<'PY'
import socket, sys, time
path, n = sys.argv[1], int(sys.argv[2])
socks = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)  # blocking: waits while the listen backlog is full
    s.settimeout(15)
    socks.append(s)
print("connected", flush=True)
sent = 0
try:
    for b in b"status\n":
        for s in socks:
            s.sendall(bytes([b]))
        sent += 1
        time.sleep(1)  # the client's pace, the point of the test
except OSError as e:
    print("send failed after %d bytes: %s" % (sent, e), flush=True)
answered = 0
for s in socks:
    try:
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        answered += data.startswith(b"snowsignal ")
    except OSError as e:
        print("recv failed: %s" % e, flush=True)
print("answered %d" % answered, flush=True)
PY
python3 "$T/slow.py" "$SOCK" "$SLOW" >"$T/slow.out" 2>&1 &
SLOW_PID=$!
ss_check "$SLOW slow clients connect" ss_wait_for "$T/slow.out" '^connected' 1 10 ||
	ss_dump "$T/slow.out"

ss_listen srv "$T/b1" --timeout 20 --count "$N"
LIS=$SS_LISTEN_PID
ss_bg cli "$T/send.out" "$SS_TOOLS/ss-udp-send" --src 10.201.1.10:48100 --dest 255.255.255.255 \
	--count "$N" --rate "$RATE"
SEND=$SS_LAST_PID

# While the slow clients hold their connections (7 s) and the broadcasts
# flow (8 s): each status query answers within 2 s, a relay that served
# clients one at a time would not.
ok=0
for i in 1 2 3; do
	timeout 2 "$SS_RELAY" status --control-socket "$SOCK" >"$T/status$i" 2>&1 &&
		grep -q '^relay: captured=' "$T/status$i" && ok=$((ok + 1))
done
still=no
grep -q '^answered\|failed\|Error' "$T/slow.out" || still=yes
ss_check "status answers at once while $SLOW clients send a byte a second (3 of 3)" [ "$ok" = 3 ]
ss_check "and the slow clients were still sending meanwhile" [ "$still" = yes ]

wait "$SEND"
wait "$LIS"
ss_check "all $N broadcasts crossed meanwhile, none lost" \
	[ "$(ss_count "$T/b1" '^RX src=10\.201\.1\.10:48100 .*intact=yes dup=no')" = "$N" ]
wait "$SLOW_PID"
ss_check "each slow client is answered once its request is complete ($SLOW of $SLOW)" \
	grep -q "^answered $SLOW\$" "$T/slow.out" || ss_dump "$T/slow.out"
"$SS_RELAY" status --control-socket "$SOCK" >"$T/status" 2>&1
ss_check "and the relay counted every one of them" grep -q "^relay: captured=$N relayed=$N " "$T/status"

# A client that connects and sends nothing is let go: the relay keeps no
# more than its limit of clients, and frees each after its timeout.
python3 -c "
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(20)
s.connect(sys.argv[1])
sys.exit(0 if s.recv(1) == b'' else 1)" "$SOCK"
ss_check "a client that sends nothing is closed after the timeout" [ $? -eq 0 ]
exit 0
