#!/bin/sh
# The peer set and the host table on real networks:
#  - Docker Swarm discovery: SERVICENAME makes the peers tasks.<service>,
#    resolved from /etc/netns/<ns>/hosts (bind-mounted over /etc/hosts by
#    `ip netns exec`), re-resolved on the refresh interval; the relay's own
#    address is dropped; a failed lookup keeps the last good set;
#  - an address added to the relay's interface after start counts (netlink);
#  - mac-self allow_local_senders relays programs on the relay's own host;
#  - with no peers the relay says so and sends nowhere, unless self_send;
#  - the original's environment variables alone configure a relay.
#
#   seg 1: cli .10 obs .20 relA .2      seg 2: srv .10 relB .2
#   seg 3: obsC .20 relC .2             seg 4: h4 .10 obs4 .20 relD .2
. "$(dirname "$0")/lib.sh"
# `ip netns exec` gives a namespace its own hosts file (Swarm discovery
# below) by bind-mounting /etc/netns/<ns>/hosts over /etc/hosts.
[ -e /etc/hosts ] || ss_skip_all "no /etc/hosts, over which ip netns exec mounts a namespace's own hosts file (a bare debootstrap has none; an installer writes one)"
ss_init
ss_plan 16

T=$SS_TMP
A=10.201.1.2 B=10.201.2.2 C=10.201.3.2 D=10.201.4.2
LISTEN=2

ss_router r
for s in 1 2 3 4; do ss_segment r $s; done
ss_host cli r 1 10
ss_host obs r 1 20
ss_host relA r 1 2
ss_host srv r 2 10
ss_host relB r 2 2
ss_host obsC r 3 20
ss_host relC r 3 2
ss_host h4 r 4 10
ss_host obs4 r 4 20
ss_host relD r 4 2
MAC_D=$(ss_mac relD)

# conf FILE OUTBOUND [MAC-SELF-SETTINGS] [PEERS-GROUP]: a configuration.
conf() {
	cat >"$1" <<EOF
version = 1;
interface = "eth0";
instances = (
  { name = "mac-self"; plugin = "mac-self"; ${3:-} },
  { name = "ip-self"; plugin = "ip-self"; },
  { name = "mesh"; plugin = "udp-mesh"; }
);
outbound = [ $2 ];
transports = [ "mesh" ];
peers = { ${4:-} };
EOF
}

# lis NAME OUT ARGS...: a listener whose pid joins LIS_PIDS; settle waits for them.
LIS_PIDS=""
lis() { ss_listen "$@" && LIS_PIDS="$LIS_PIDS $SS_LISTEN_PID"; }
settle() { for _p in $LIS_PIDS; do wait "$_p"; done; LIS_PIDS=""; }

re() { printf '%s' "$1" | sed 's/[].[*^$]/\\&/g'; }
rx() { ss_count "$1" "^RX src=$(re "$2") .*intact=yes dup=no"; }

# send NS SRC COUNT: COUNT broadcasts to 255.255.255.255:5076 from SRC.
send() { ss_in "$1" "$SS_TOOLS/ss-udp-send" --src "$2" --dest 255.255.255.255 --count "$3" --size 64 >/dev/null; }

# ---- Swarm discovery ------------------------------------------------------
hosts=/etc/netns/$(ss_nsname relA)/hosts
mkdir -p "$(dirname "$hosts")"
printf '127.0.0.1 localhost\n%s tasks.svc\n%s tasks.svc\n' "$A" "$B" >"$hosts"
conf "$T/a.conf" '"mac-self", "ip-self"' '' 'refresh = 1;'
conf "$T/bc.conf" '"mac-self", "ip-self"'
ss_bg relA "$T/relA.log" env SERVICENAME=svc "$SS_RELAY" --config "$T/a.conf" -l debug
ss_wait_for "$T/relA.log" 'relay started' 1 "$SS_START_TIMEOUT" || ss_dump "$T/relA.log"
ss_start_relay relB "$T/relB.log" --config "$T/bc.conf" -l debug --other-relays "$A" "$C" ||
	ss_dump "$T/relB.log"
ss_start_relay relC "$T/relC.log" --config "$T/bc.conf" -l debug --other-relays "$A" "$B" ||
	ss_dump "$T/relC.log"

ss_check "SERVICENAME: tasks.svc resolves and the relay's own address is dropped" \
	ss_wait_for "$T/relA.log" "peer set changed peers=$(re "$B")\$" 1 5
lis srv "$T/b1" --timeout $LISTEN --count 3
lis obsC "$T/c1" --timeout $LISTEN
send cli 10.201.1.10:46001 3
settle
ss_check "a broadcast from A reaches the discovered peer B" [ "$(rx "$T/b1" 10.201.1.10:46001)" = 3 ]
ss_check "and not C, which tasks.svc does not list yet" [ "$(ss_count "$T/c1" '^RX ')" = 0 ]

printf '127.0.0.1 localhost\n%s tasks.svc\n%s tasks.svc\n%s tasks.svc\n' "$A" "$B" "$C" >"$hosts"
ss_check "a relay added to tasks.svc joins on the next refresh" \
	ss_wait_for "$T/relA.log" "peer set changed peers=$(re "$B"),$(re "$C")\$" 1 5
printf '127.0.0.1 localhost\n' >"$hosts"
ss_check "a failed lookup is logged" ss_wait_for "$T/relA.log" 'peer name lookup failed' 1 5
lis srv "$T/b2" --timeout $LISTEN --count 2
lis obsC "$T/c2" --timeout $LISTEN --count 2
send cli 10.201.1.10:46002 2
settle
ss_check "after it, the last good set (B and C) still gets every broadcast" \
	[ "$(rx "$T/b2" 10.201.1.10:46002)" = 2 -a "$(rx "$T/c2" 10.201.1.10:46002)" = 2 ]
rm -f "$hosts"
rmdir "$(dirname "$hosts")" 2>/dev/null

# ---- host table: an address added after start ------------------------------
ip -n "$(ss_nsname srv)" addr add 10.201.2.77/24 dev eth0
lis obs "$T/a1" --timeout $LISTEN --count 1
send srv 10.201.2.77:46003 1
settle
ss_check "before relay B has 10.201.2.77, a broadcast from it is relayed" \
	[ "$(rx "$T/a1" 10.201.2.77:46003)" = 1 ]
n=$(ss_count "$T/relB.log" 'host interfaces or addresses changed')
ip -n "$(ss_nsname relB)" addr add 10.201.2.77/24 dev eth0
ss_wait_for "$T/relB.log" 'host interfaces or addresses changed' $((n + 1)) 5
lis obs "$T/a2" --timeout $LISTEN
send srv 10.201.2.77:46004 1
settle
ss_check "once relay B has it (netlink), ip-self drops that source" [ "$(ss_count "$T/a2" '^RX ')" = 0 ]

# ---- local senders on the relay's own host --------------------------------
lis obs "$T/a3" --timeout $LISTEN
send relB $B:46005 1
settle
ss_check "by default a program on relay B's host is not relayed (mac-self, ip-self)" \
	[ "$(ss_count "$T/a3" '^RX ')" = 0 ]
ss_stop "$SS_RELAY_PID" # relay C
conf "$T/c.conf" '"mac-self"' 'allow_local_senders = true;'
ss_start_relay relC "$T/relC2.log" --config "$T/c.conf" -l debug --other-relays "$A" "$B" ||
	ss_dump "$T/relC2.log"
lis obs "$T/a4" --timeout $LISTEN --count 1
send relC $C:46006 1
settle
ss_check "with allow_local_senders a program on relay C's host is relayed" \
	[ "$(rx "$T/a4" $C:46006)" = 1 ]
lis obsC "$T/c4" --timeout $LISTEN
send cli 10.201.1.10:46007 1
settle
ss_check "and relay C's own re-emissions still do not loop (seen once on C's segment)" \
	[ "$(rx "$T/c4" 10.201.1.10:46007)" = 1 -a "$(ss_count "$T/c4" '^RX ')" = 1 ]

# ---- no peers, self_send, environment only ---------------------------------
conf "$T/d.conf" '"mac-self", "ip-self"'
sed 's/^interface = .*//' "$T/d.conf" >"$T/d-noif.conf"
ss_bg relD "$T/relD0.log" env TARGET_INTERFACE=eth0 BDCAST_PORT=5077 MESH_PORT=7125 \
	"$SS_RELAY" --config "$T/d-noif.conf"
ss_check "from the environment alone: interface and broadcast port" \
	ss_wait_for "$T/relD0.log" 'relay started interface=eth0 ports=5077 ' 1 "$SS_START_TIMEOUT"
ss_check "and the mesh port (MESH_PORT): udp-mesh listens on 7125" \
	sh -c "ip netns exec $(ss_nsname relD) ss -Hlun | grep -q ':7125 '"
ss_stop "$SS_LAST_PID"
ss_start_relay relD "$T/relD.log" --config "$T/d.conf" -l debug || ss_dump "$T/relD.log"
PID_D=$SS_RELAY_PID
ss_check "with no peers the relay says so plainly" \
	ss_wait_for "$T/relD.log" 'WARNING: no peers: captured broadcasts are not sent anywhere' 1 2
lis obs4 "$T/d1" --timeout $LISTEN --capture eth0
send relD $D:46008 1 # not the relay's own traffic: a program next to it
send h4 10.201.4.10:46009 1
settle
ss_check "and does not send to itself: each broadcast is seen once on its segment" \
	[ "$(ss_count "$T/d1" "^FRAME src_mac=$MAC_D ")" = 1 -a "$(ss_count "$T/d1" '^FRAME ')" = 2 ]
ss_stop "$PID_D"
conf "$T/d2.conf" '"mac-self", "ip-self"' '' 'self_send = true;'
ss_start_relay relD "$T/relD2.log" --config "$T/d2.conf" -t eth0 -l debug || ss_dump "$T/relD2.log"
lis obs4 "$T/d2" --timeout $LISTEN --capture eth0
send h4 10.201.4.10:46010 1
settle
ss_check "self_send = true re-emits a broadcast on its own segment (the original's test mode)" \
	[ "$(ss_count "$T/d2" "^FRAME src_mac=$MAC_D .*src=10\.201\.4\.10:46010 ")" = 1 ]
exit 0
