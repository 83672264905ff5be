#!/bin/sh
# The control socket under a slow, stuck or hostile client: 20 clients
# that each send their request a byte a second, while broadcasts cross
# from segment 1 to 2.  Nothing is lost, `snowsignal status` still answers
# at once, and each slow client is answered when its request is complete.
# Then more clients than the relay serves at once (the oldest give way),
# a burst of clients that leave early, and a stop with clients still
# connected (the relay exits 0 and removes its socket; under the
# sanitizers, with nothing leaked).
#
#   segment 1: cli .10, relA .2          segment 2: srv .10, relB .2
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || ss_skip_all "python3 (the slow clients) not found"
ss_init
ss_plan 12

T=$SS_TMP
A=10.201.1.2 B=10.201.2.2
SOCK=$T/control
N=400 RATE=50 SLOW=20

# check_or_dump DESC FILE CMD...: one TAP point, FILE shown when it fails.
check_or_dump() {
	_desc=$1 _file=$2
	shift 2
	if "$@"; then ss_ok "$_desc"; else ss_fail "$_desc"; ss_dump "$_file"; fi
}

ss_two_segments
ss_start_relay relA "$T/relA.log" -t eth0 --control-socket "$SOCK" --other-relays "$B" ||
	ss_dump "$T/relA.log"
RELA=$SS_RELAY_PID
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
check_or_dump "$SLOW slow clients connect" "$T/slow.out" ss_wait_for "$T/slow.out" '^connected' 1 10

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
check_or_dump "each slow client is answered once its request is complete ($SLOW of $SLOW)" \
	"$T/slow.out" grep -q "^answered $SLOW\$" "$T/slow.out"
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

# More clients than the relay serves at once (CONTROL_MAX_CLIENTS, 32),
# each sending nothing: each one past the limit closes the oldest at once
# (long before the timeout), the newest 32 are held, and status, one more
# client, is still answered at once.
cat >"$T/many.py" <<'PY'
import select, socket, sys, time
path, n = sys.argv[1], int(sys.argv[2])
socks = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    socks.append(s)
closed, deadline = set(), time.time() + 2
while time.time() < deadline:
    r, _, _ = select.select([s for i, s in enumerate(socks) if i not in closed], [], [], 0.1)
    for s in r:
        if s.recv(1) == b"":
            closed.add(socks.index(s))
print("closed %s" % ",".join(str(i) for i in sorted(closed)), flush=True)
time.sleep(3)  # held while status is asked
PY
python3 "$T/many.py" "$SOCK" 40 >"$T/many.out" 2>&1 &
MANY=$!
ss_wait_for "$T/many.out" '^closed' 1 10
timeout 2 "$SS_RELAY" status --control-socket "$SOCK" >"$T/status-many" 2>&1
ok=$?
wait "$MANY"
check_or_dump "40 silent clients: the 8 oldest are closed at once, the newest 32 held" \
	"$T/many.out" grep -qx 'closed 0,1,2,3,4,5,6,7' "$T/many.out"
ss_check "and status is answered at once meanwhile" \
	sh -c "[ $ok -eq 0 ] && grep -q '^relay: captured=' '$T/status-many'"

# A burst of clients that leave early: 100 that connect and close, 100
# that ask and close without reading their answer.
python3 -c "
import socket, sys
for i in range(200):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    if i % 2:
        s.sendall(b'status\n')
    s.close()" "$SOCK"
timeout 2 "$SS_RELAY" status --control-socket "$SOCK" >"$T/status-burst" 2>&1
ok=$?
check_or_dump "200 clients that leave early, half before their answer: status still answers" \
	"$T/relA.log" sh -c "[ $ok -eq 0 ] && grep -q '^relay: captured=' '$T/status-burst' &&
	                     ! grep -qE 'WARNING|ERROR|CRITICAL' '$T/relA.log'"

# The relay stops with clients connected (some silent, some halfway
# through their request): it closes them, removes its socket and exits 0
# at once; under the sanitizers a leak or a use after free would say so.
cat >"$T/held.py" <<'PY'
import socket, sys
socks = []
for i in range(10):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    if i % 2:
        s.sendall(b"sta")
    socks.append(s)
print("held", flush=True)
gone = 0
for s in socks:
    s.settimeout(20)
    try:
        gone += s.recv(1) == b""
    except OSError:
        gone += 1
print("closed %d" % gone, flush=True)
PY
python3 "$T/held.py" "$SOCK" >"$T/held.out" 2>&1 &
HELD=$!
ss_wait_for "$T/held.out" '^held' 1 10
sleep 0.5 # the relay takes them
start=$(date +%s)
ss_stop "$RELA"
st=$?
took=$(($(date +%s) - start))
wait "$HELD"
ss_diag "relay A: exit status $st after ${took}s"
check_or_dump "stopped with 10 clients connected, the relay exits 0 within 2 s" "$T/relA.log" \
	sh -c "[ $st -eq 0 ] && [ $took -le 2 ] && ! grep -qE 'Sanitizer|runtime error' '$T/relA.log'"
check_or_dump "and it closed them all and removed its socket" "$T/held.out" \
	sh -c "grep -qx 'closed 10' '$T/held.out' && [ ! -e '$SOCK' ]"
exit 0
