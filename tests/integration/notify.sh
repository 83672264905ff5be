#!/bin/sh
# The systemd notification protocol, without systemd: the test plays the
# service manager with a datagram socket in NOTIFY_SOCKET and checks what
# the daemon says: READY=1 once started, RELOADING=1 with MONOTONIC_USEC
# then READY=1 around a SIGHUP reload, WATCHDOG=1 when WATCHDOG_USEC asks
# for it, STOPPING=1 on SIGTERM.  A second relay is given an abstract
# socket ('@name') and a WATCHDOG_PID that is not its own: it notifies, but
# never pings the watchdog.
. "$(dirname "$0")/lib.sh"
ss_init
command -v python3 >/dev/null 2>&1 || ss_skip_all "python3 (the stand-in service manager) not found"
ss_plan 10

T=$SS_TMP
ss_ns solo
ip -n "$(ss_nsname solo)" link add d0 type veth peer name d1
ip -n "$(ss_nsname solo)" link set d0 up
ip -n "$(ss_nsname solo)" link set d1 up

# The stand-in manager: prints each notification (one datagram) on a line
# of its own, its assignments separated by spaces, and after one carrying
# MONOTONIC_USEC its own CLOCK_MONOTONIC time of receipt.  "@name" is an
# abstract socket, as for systemd.
cat >"$T/manager.py" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
name = sys.argv[1]
s.bind("\0" + name[1:] if name.startswith("@") else name)
print("LISTENING", flush=True)
s.settimeout(float(sys.argv[2]))
try:
    while True:
        note = s.recv(4096).decode()
        print(" ".join(line for line in note.split("\n") if line), flush=True)
        if "MONOTONIC_USEC=" in note:
            now = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
            print("RECEIVED_AT %d" % now, flush=True)
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
RELAY=$SS_LAST_PID
ss_wait_for "$T/relay.log" 'relay started' 1 "$SS_START_TIMEOUT" || ss_dump "$T/relay.log"
ss_check "READY=1 once the relay has started" ss_wait_for "$T/notes" '^READY=1$' 1 10
ss_check "WATCHDOG=1 pings at half of WATCHDOG_USEC" ss_wait_for "$T/notes" '^WATCHDOG=1$' 3 3
pid=$(ss_relay_pid solo)
kill -HUP "$pid"
ss_check "RELOADING=1 with MONOTONIC_USEC in one datagram on SIGHUP" \
	ss_wait_for "$T/notes" '^RELOADING=1 MONOTONIC_USEC=[0-9]+$' 1 5
ss_check "then READY=1 again" ss_wait_for "$T/notes" '^READY=1$' 2 5
ss_check "RELOADING=1 came before the second READY=1" \
	sh -c "grep -nE '^(READY|RELOADING)=1( |$)' '$T/notes' | sed -n 2p | grep -q RELOADING"
# MONOTONIC_USEC is CLOCK_MONOTONIC (the manager's clock too) when the
# reload began: before the manager received it, and not long before.
monotonic_ok() {
	sent=$(sed -n 's/^RELOADING=1 MONOTONIC_USEC=\([0-9]*\)$/\1/p' "$T/notes")
	received=$(sed -n 's/^RECEIVED_AT \([0-9]*\)$/\1/p' "$T/notes")
	if [ -n "$sent" ] && [ -n "$received" ] && [ "$sent" -le "$received" ] &&
		[ $((received - sent)) -lt 5000000 ]; then
		return 0
	fi
	ss_diag "MONOTONIC_USEC=$sent, received at $received"
	return 1
}
ss_check "MONOTONIC_USEC is the CLOCK_MONOTONIC time of the reload" monotonic_ok
kill -TERM "$pid"
ss_check "STOPPING=1 on SIGTERM" ss_wait_for "$T/notes" '^STOPPING=1$' 1 5
wait "$RELAY"

# An abstract socket's name belongs to a network namespace: this manager
# runs in the relay's.  WATCHDOG_PID=1 is another process's watchdog,
# inherited: this relay must not ping it.
ss_bg solo "$T/notes-abstract" python3 "$T/manager.py" "@$SS_RUN_ID-notify" 30
ss_wait_for "$T/notes-abstract" '^LISTENING' 1 5
cat >"$T/run-abstract.sh" <<EOF
#!/bin/sh
export NOTIFY_SOCKET='@$SS_RUN_ID-notify' WATCHDOG_USEC=200000 WATCHDOG_PID=1
exec "$SS_RELAY" -t d0 --other-relays 10.201.99.3
EOF
ss_bg solo "$T/relay-abstract.log" /bin/sh "$T/run-abstract.sh"
ss_wait_for "$T/relay-abstract.log" 'relay started' 1 "$SS_START_TIMEOUT" ||
	ss_dump "$T/relay-abstract.log"
ss_check "READY=1 over an abstract socket ('@name')" \
	ss_wait_for "$T/notes-abstract" '^READY=1$' 1 10
# Ten and more of the 100 ms ping intervals go by without a ping.
no_watchdog() { ! ss_wait_for "$T/notes-abstract" '^WATCHDOG=1$' 1 1; }
ss_check "no WATCHDOG=1 when WATCHDOG_PID is another process" no_watchdog
kill -TERM "$(ss_relay_pid solo)"
ss_check "STOPPING=1 over the abstract socket" \
	ss_wait_for "$T/notes-abstract" '^STOPPING=1$' 1 5
exit 0
