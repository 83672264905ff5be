# Shell library of the snowsignal namespace integration tests (POSIX sh).
#
# Builds throwaway networks out of network namespaces: one "router"
# namespace holds a bridge per segment (it is the segments' switch and the
# IPv4 router between them); every host is a namespace of its own whose eth0
# is a veth port of that bridge.  Addresses are 10.201.<segment>.<host>/24
# and exist only inside these namespaces.  Every name carries a per-run id,
# so parallel or earlier runs never clash; an EXIT trap kills what was
# started and deletes the namespaces, also on failure or timeout.
#
# Scripts speak TAP: ss_plan N, then one ss_ok/ss_fail/ss_check per point.
# Usage:  . "$(dirname "$0")/lib.sh"

# Runs the whole script under timeout(1), so that nothing can hang `make check`.
if [ -z "${SS_UNDER_TIMEOUT:-}" ]; then
	SS_UNDER_TIMEOUT=1
	export SS_UNDER_TIMEOUT
	exec timeout -k 10 "${SS_SCRIPT_TIMEOUT:-300}" "${SHELL:-/bin/sh}" "$0" "$@"
fi

SS_RUN_ID="ss$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
SS_TOOLS=${SS_TOOLS:-${SS_TOP_BUILDDIR:-.}/tests/tools}
SS_TOOL_NAMES="ss-udp-send ss-udp-listen pva-search pva-responder" # ss_init wants them built
SS_RELAY=${SS_RELAY:-${SS_TOP_BUILDDIR:-.}/snowsignal}
SS_PROC_TIMEOUT=${SS_PROC_TIMEOUT:-120}   # upper bound of any one started process
SS_START_TIMEOUT=${SS_START_TIMEOUT:-10}  # seconds a relay may take to start
SS_NAMESPACES=""
SS_PIDS=""
SS_TAP_N=0
SS_TAP_FAILED=0
SS_TMP=""

# ---- TAP ------------------------------------------------------------------

ss_plan() { echo "1..$1"; }

ss_diag() { printf '%s\n' "$*" | sed 's/^/# /'; }

ss_ok() {
	SS_TAP_N=$((SS_TAP_N + 1))
	echo "ok $SS_TAP_N - $1"
}

ss_fail() {
	SS_TAP_N=$((SS_TAP_N + 1))
	SS_TAP_FAILED=$((SS_TAP_FAILED + 1))
	echo "not ok $SS_TAP_N - $1"
}

ss_skip() {
	SS_TAP_N=$((SS_TAP_N + 1))
	echo "ok $SS_TAP_N - $1 # SKIP $2"
}

# ss_check DESC CMD...: one TAP point, ok when CMD succeeds.  CMD is one
# simple command ("[ a ] && [ b ]" needs eval '...'), and ss_check's own
# status is 0 either way: "ss_check ... || ss_dump" never dumps.
ss_check() {
	_desc=$1
	shift
	if "$@"; then ss_ok "$_desc"; else ss_fail "$_desc"; fi
}

# Skips the whole script.  The automake TAP driver wants the "1..0 # SKIP"
# plan and exit 0 (it reports any other exit as an error); run by hand, the
# script exits 77 like any automake skip.  local.mk sets SS_SKIP_EXIT=0.
ss_skip_all() {
	echo "1..0 # SKIP $1"
	exit "${SS_SKIP_EXIT:-77}"
}

# ---- setup and teardown ---------------------------------------------------

ss_cleanup() {
	for _p in $SS_PIDS; do kill -TERM "$_p" 2>/dev/null; done
	for _ns in $SS_NAMESPACES; do
		# Whatever still runs inside was started by this script.
		for _p in $(ip netns pids "$_ns" 2>/dev/null); do kill -KILL "$_p" 2>/dev/null; done
		ip netns del "$_ns" 2>/dev/null
	done
	for _p in $SS_PIDS; do wait "$_p" 2>/dev/null; done
	[ -n "$SS_TMP" ] && [ -z "${SS_KEEP_TMP:-}" ] && rm -rf "$SS_TMP"
	return 0
}

# Checks that namespaces can be made (root, ip, netns support), or skips.
ss_init() {
	[ "$(id -u)" = 0 ] || ss_skip_all "needs root to create network namespaces"
	command -v ip >/dev/null 2>&1 || ss_skip_all "ip (iproute2) not found"
	for _t in $SS_TOOL_NAMES; do
		[ -x "$SS_TOOLS/$_t" ] || {
			echo "Bail out! test tool $SS_TOOLS/$_t not built (make check builds it)"
			exit 1
		}
	done
	trap 'ss_cleanup' EXIT
	trap 'exit 143' TERM
	trap 'exit 130' INT
	ip netns add "$SS_RUN_ID-probe" 2>/dev/null || ss_skip_all "cannot create network namespaces (ip netns add failed)"
	ip netns del "$SS_RUN_ID-probe"
	SS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/$SS_RUN_ID.XXXXXX") || exit 1
}

ss_nsname() { echo "$SS_RUN_ID-$1"; }

# ss_in NAME CMD...: runs CMD inside namespace NAME (bounded in time).
ss_in() {
	_ns=$(ss_nsname "$1")
	shift
	ip netns exec "$_ns" timeout -k 5 "$SS_PROC_TIMEOUT" "$@"
}

# ss_ns NAME: a namespace with lo up and IPv6 off (no DAD or RS chatter).
ss_ns() {
	_ns=$(ss_nsname "$1")
	ip netns add "$_ns" || return 1
	SS_NAMESPACES="$SS_NAMESPACES $_ns"
	ip netns exec "$_ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
	ip netns exec "$_ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
	ip -n "$_ns" link set lo up
}

# ss_router NAME: the namespace switching and routing between segments.
ss_router() {
	ss_ns "$1" || return 1
	ip netns exec "$(ss_nsname "$1")" sysctl -qw net.ipv4.ip_forward=1
}

# ss_segment ROUTER IDX: bridge brIDX in ROUTER, 10.201.IDX.1/24 on it.
ss_segment() {
	_r=$(ss_nsname "$1")
	ip -n "$_r" link add "br$2" type bridge stp_state 0 forward_delay 0 || return 1
	ip -n "$_r" addr add "10.201.$2.1/24" brd + dev "br$2"
	ip -n "$_r" link set "br$2" up
}

# ss_host NAME ROUTER IDX HOST [MTU]: namespace NAME, eth0 = 10.201.IDX.HOST/24
# plugged into brIDX, default route via the router.
ss_host() {
	ss_ns "$1" || return 1
	_h=$(ss_nsname "$1")
	_r=$(ss_nsname "$2")
	_port="v$3h$4"
	ip -n "$_r" link add "$_port" type veth peer name eth0 netns "$_h" || return 1
	ip -n "$_r" link set "$_port" master "br$3" up
	if [ -n "${5:-}" ]; then
		ip -n "$_r" link set "$_port" mtu "$5"
		ip -n "$_h" link set eth0 mtu "$5"
	fi
	ip -n "$_h" addr add "10.201.$3.$4/24" brd + dev eth0
	ip -n "$_h" link set eth0 up
	ip -n "$_h" route add default via "10.201.$3.1"
}

# ss_two_segments: the usual pair of segments behind router r:
#   segment 1: cli .10, relA .2          segment 2: srv .10, relB .2
ss_two_segments() {
	ss_router r && ss_segment r 1 && ss_segment r 2 &&
		ss_host cli r 1 10 && ss_host relA r 1 2 && ss_host srv r 2 10 && ss_host relB r 2 2
}

# ss_conf FILE INTERFACE PEERS TOP-LEVEL MESH-SETTINGS EXTRA-INSTANCES: a
# snowsignal.conf with the shipped chain (mac-self, ip-self; udp-mesh
# instance "mesh").  PEERS: addresses separated by spaces ("" for none);
# TOP-LEVEL: settings added at the top level; MESH-SETTINGS: inside the mesh
# instance; EXTRA-INSTANCES: appended to the instance list (", { ... }").
ss_conf() {
	_hosts=""
	for _h in $3; do _hosts="$_hosts${_hosts:+, }\"$_h\""; done
	{
		printf 'version = 1;\ninterface = "%s";\n%s\n' "$2" "$4"
		printf 'instances = (\n  { name = "mac-self"; plugin = "mac-self"; },\n'
		printf '  { name = "ip-self"; plugin = "ip-self"; },\n'
		printf '  { name = "mesh"; plugin = "udp-mesh"; %s}%s\n);\n' "$5" "$6"
		printf 'outbound = [ "mac-self", "ip-self" ];\ntransports = [ "mesh" ];\n'
		if [ -n "$_hosts" ]; then printf 'peers = { hosts = [ %s ]; };\n' "$_hosts"; fi
	} >"$1"
}

# ss_mac NAME [IFACE]: the interface's MAC address.
ss_mac() {
	ip -n "$(ss_nsname "$1")" -o link show "${2:-eth0}" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'
}

# ---- processes ------------------------------------------------------------

# ss_bg NAME OUTFILE CMD...: starts CMD in namespace NAME in the background,
# stdout and stderr to OUTFILE; its pid is left in SS_LAST_PID.
ss_bg() {
	_ns=$(ss_nsname "$1")
	_out=$2
	shift 2
	# --foreground: timeout(1) passes a signal to CMD only, not to its whole
	# process group, so CMD sees one SIGTERM from ss_stop, not two.
	ip netns exec "$_ns" timeout --foreground -k 5 "$SS_PROC_TIMEOUT" "$@" >"$_out" 2>&1 &
	SS_LAST_PID=$!
	SS_PIDS="$SS_PIDS $SS_LAST_PID"
}

# ss_wait_for FILE PATTERN COUNT SECONDS: until FILE has COUNT lines
# matching PATTERN (grep -E); polls, never sleeps blindly.
ss_wait_for() {
	_deadline=$(($(date +%s) + $4 + 1))
	while [ "$(date +%s)" -le "$_deadline" ]; do
		[ "$(grep -cE -- "$2" "$1" 2>/dev/null || true)" -ge "$3" ] && return 0
		sleep 0.05
	done
	return 1
}

# ss_dump FILE: a file's content as TAP diagnostics.
ss_dump() {
	ss_diag "---- $1"
	[ -f "$1" ] && sed 's/^/# /' "$1" | tail -n "${2:-60}"
	return 0
}

# ss_start_relay NAME LOGFILE ARGS...: starts snowsignal in namespace NAME
# and waits until its log says "relay started"; on timeout, dumps the log.
# Pid in SS_RELAY_PID.
ss_start_relay() {
	_name=$1
	_log=$2
	shift 2
	ss_bg "$_name" "$_log" "$SS_RELAY" "$@"
	# shellcheck disable=SC2034 # read by the calling script
	SS_RELAY_PID=$SS_LAST_PID
	if ! ss_wait_for "$_log" 'relay started' 1 "$SS_START_TIMEOUT"; then
		ss_diag "relay in $_name did not log 'relay started' within ${SS_START_TIMEOUT}s"
		ss_dump "$_log"
		return 1
	fi
}

# ss_relay_pid NAME: the pid of the snowsignal process in namespace NAME
# (SS_RELAY_PID is timeout(1)'s, which passes on only TERM and INT).
ss_relay_pid() {
	for _p in $(ip netns pids "$(ss_nsname "$1")"); do
		case "$(cat /proc/"$_p"/comm 2>/dev/null)" in *snowsignal*) echo "$_p" ;; esac
	done
}

# ss_stop PID: SIGTERM, then the exit status (124 = timeout(1) killed it).
ss_stop() {
	kill -TERM "$1" 2>/dev/null
	wait "$1"
}

# ss_listen NAME OUTFILE ARGS...: ss-udp-listen in NAME, returns once it is
# bound (its READY line); pid in SS_LISTEN_PID.
ss_listen() {
	_name=$1
	_out=$2
	shift 2
	ss_bg "$_name" "$_out" "$SS_TOOLS/ss-udp-listen" "$@"
	# shellcheck disable=SC2034 # read by the calling script
	SS_LISTEN_PID=$SS_LAST_PID
	ss_wait_for "$_out" '^READY' 1 5 || { ss_dump "$_out"; return 1; }
}

# ss_count FILE PATTERN: number of lines matching PATTERN (grep -E).
ss_count() { grep -cE -- "$2" "$1" 2>/dev/null || true; }
