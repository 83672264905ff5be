#!/bin/sh
# The systemd notification protocol, without systemd: the test plays the
# service manager with a datagram socket in NOTIFY_SOCKET and checks what
# the daemon says: READY=1 once started, RELOADING=1 then READY=1 around a
# SIGHUP reload, WATCHDOG=1 when WATCHDOG_USEC asks for it, STOPPING=1 on
# SIGTERM.  Skips when the daemon was built without libsystemd.
. "$(dirname "$0")/lib.sh"
ss_init
grep -q '^#define HAVE_SYSTEMD 1' "$SS_TOP_BUILDDIR/config.h" 2>/dev/null ||
	ss_skip_all "built without libsystemd"
command -v python3 >/dev/null 2>&1 || ss_skip_all "python3 (the stand-in service manager) not found"
ss_plan 6

T=$SS_TMP
ss_ns solo
ip -n "$(ss_nsname solo)" link add d0 type veth peer name d1
ip -n "$(ss_nsname solo)" link set d0 up
ip -n "$(ss_nsname solo)" link set d1 up

# The stand-in manager: prints each notification on a line of its own.
cat >"$T/manager.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("LISTENING", flush=True)
s.settimeout(float(sys.argv[2]))
try:
    while True:
        for line in s.recv(4096).decode().split("\n"):
            if line:
                print(line, flush=True)
except socket.timeout:
    pass
EOF
python3 "$T/manager.py" "$T/notify" 30 >"$T/notes" 2>&1 &
MANAGER=$!
SS_PIDS="$SS_PIDS $MANAGER"
ss_wait_for "$T/notes" '^LISTENING' 1 5

# WATCHDOG_PID must name the daemon itself: a wrapper script runs it with
# exec so that $$ is the daemon's pid.
cat >"$T/run.sh" <<EOF
#!/bin/sh
export NOTIFY_SOCKET='$T/notify' WATCHDOG_USEC=200000 WATCHDOG_PID=\$\$
exec "$SS_RELAY" -t d0 --other-relays 10.201.99.3
EOF
chmod +x "$T/run.sh"
ss_bg solo "$T/relay.log" /bin/sh "$T/run.sh"
ss_wait_for "$T/relay.log" 'relay started' 1 "$SS_START_TIMEOUT" || ss_dump "$T/relay.log"
ss_check "READY=1 once the relay has started" ss_wait_for "$T/notes" '^READY=1$' 1 10
ss_check "WATCHDOG=1 pings at half of WATCHDOG_USEC" ss_wait_for "$T/notes" '^WATCHDOG=1$' 3 3
pid=$(ss_relay_pid solo)
kill -HUP "$pid"
ss_check "RELOADING=1 on SIGHUP" ss_wait_for "$T/notes" '^RELOADING=1$' 1 5
ss_check "then READY=1 again" ss_wait_for "$T/notes" '^READY=1$' 2 5
ss_check "RELOADING=1 came before the second READY=1" \
	sh -c "grep -nE '^(READY|RELOADING)=1$' '$T/notes' | sed -n 2p | grep -q RELOADING"
kill -TERM "$pid"
ss_check "STOPPING=1 on SIGTERM" ss_wait_for "$T/notes" '^STOPPING=1$' 1 5
exit 0
