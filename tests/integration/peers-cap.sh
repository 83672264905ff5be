#!/bin/sh
# Bounds on what a DNS answer can make a relay do: a name that resolves to
# more addresses than peers.max_per_name gives the lowest of them only, with
# a warning naming the cap; the set stays the same whatever order the
# answer comes in; under the cap every address is a peer.
. "$(dirname "$0")/lib.sh"
[ -e /etc/hosts ] || ss_skip_all "no /etc/hosts, over which ip netns exec mounts a namespace's own hosts file (a bare debootstrap has none; an installer writes one)"
ss_init
ss_plan 5

T=$SS_TMP
ss_router r
ss_segment r 1
ss_host relA r 1 2

hosts=/etc/netns/$(ss_nsname relA)/hosts
mkdir -p "$(dirname "$hosts")"
cleanup_hosts() { rm -f "$hosts"; rmdir "$(dirname "$hosts")" 2>/dev/null; }

# answer ADDR...: tasks.big resolves to these, in this order.  Written in
# place: the bind mount holds the file's inode.
answer() {
	{
		printf '127.0.0.1 localhost\n'
		for _a in "$@"; do printf '%s tasks.big\n' "$_a"; done
	} >"$hosts"
}

answer 10.202.0.9 10.202.0.3 10.202.0.7 10.202.0.1 10.202.0.5 10.202.0.2
cat >"$T/a.conf" <<EOF
version = 1;
interface = "eth0";
instances = ( { name = "mesh"; plugin = "udp-mesh"; } );
transports = [ "mesh" ];
peers = { hosts = [ "tasks.big" ]; refresh = 1; max_per_name = 4; };
EOF
ss_start_relay relA "$T/relA.log" --config "$T/a.conf" -l debug || ss_dump "$T/relA.log"
ss_check "six addresses, max_per_name = 4: the four lowest are the peers" \
	ss_wait_for "$T/relA.log" 'peer set changed peers=10\.202\.0\.1,10\.202\.0\.2,10\.202\.0\.3,10\.202\.0\.5$' 1 5
ss_check "the warning names the name, the count and the cap" \
	ss_wait_for "$T/relA.log" 'more addresses than peers.max_per_name.* name=tasks\.big addresses=6 max_per_name=4' 1 5

# The same addresses in another order: no change of the set (the log says
# nothing more), while a lookup happens every second.
before=$(ss_count "$T/relA.log" 'peer set changed')
looked=$(ss_count "$T/relA.log" 'peer name resolved')
answer 10.202.0.5 10.202.0.2 10.202.0.9 10.202.0.1 10.202.0.7 10.202.0.3
# Two lookups later the shuffled answer has surely been taken.
ss_wait_for "$T/relA.log" 'peer name resolved' $((looked + 2)) 5
answer 10.202.0.1 10.202.0.2 10.202.0.3
ss_wait_for "$T/relA.log" 'peer set changed peers=10\.202\.0\.1,10\.202\.0\.2,10\.202\.0\.3$' 1 5
# (ss_check's own status is always 0: the log is shown on a failure here.)
changes=$(ss_count "$T/relA.log" 'peer set changed')
ss_check "another order of the same answer changes nothing" [ "$changes" = $((before + 1)) ]
[ "$changes" = $((before + 1)) ] || ss_dump "$T/relA.log" 20
ss_check "an answer under the cap is taken whole, without a warning" \
	[ "$(ss_count "$T/relA.log" 'more addresses than peers.max_per_name')" = 1 ]
cleanup_hosts
ss_check "the relay exits 0 on SIGTERM" ss_stop "$SS_RELAY_PID"
