# shellcheck shell=bash
# engines.sh - Docker engines in network namespaces, for tests/swarm/run.sh.
# Sourced, not run.
#
# Each engine ("node") is a dockerd with its own network namespace, its own
# mount namespace (a private tmpfs over /run/docker, so that the engines'
# sandboxes, named alike on every node, do not meet), its own data-root and
# its own API socket.  The nodes' eth0 are joined by a bridge in one more
# namespace, the "LAN"; nothing is routed to the machine's own network.
#
#   SW_PREFIX     name prefix of namespaces and state (ss-sw)
#   SW_STATE      where data-roots, sockets and logs live (/var/lib/$SW_PREFIX)
#   SW_LAN        the /24 of the LAN, first three octets (192.168.77)

SW_PREFIX=${SW_PREFIX:-ss-sw}
SW_STATE=${SW_STATE:-/var/lib/$SW_PREFIX}
SW_LAN=${SW_LAN:-192.168.77}

sw_lan_ns() { echo "$SW_PREFIX-lan"; }
sw_ns()   { echo "$SW_PREFIX-n$1"; }
sw_ip()   { echo "$SW_LAN.$((10 + $1))"; }
sw_sock() { echo "$SW_STATE/n$1/docker.sock"; }
# The Debian engine's client: the API version it speaks matches the engine.
sw_docker_bin() { if [ -x /usr/bin/docker ]; then echo /usr/bin/docker; else command -v docker; fi; }
sw_docker() { local n=$1; shift; DOCKER_BUILDKIT=0 "$(sw_docker_bin)" -H "unix://$(sw_sock "$n")" "$@"; }

# The LAN's name server at .1 answers every query "no such name" at once,
# as a site's resolver does for a Swarm-internal name.  Without one, the
# engines forward to the machine's resolvers, unreachable from here, and a
# lookup of tasks.<service> before Swarm publishes it takes glibc's whole
# timeout (10 s) to fail.
SW_NXDOMAIN_PY='
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 53))
while True:
    q, a = s.recvfrom(4096)
    if len(q) < 12:
        continue
    i = 12
    while i < len(q) and q[i]:
        i += 1 + q[i]
    i += 5                                     # the root label, QTYPE, QCLASS
    # QR, the opcode and RD as asked; RA; RCODE 3 (NXDOMAIN); one question.
    flags = bytes([0x80 | (q[2] & 0x79), 0x83])
    s.sendto(q[:2] + flags + b"\0\1" + b"\0" * 6 + q[12:i], a)
'

sw_lan_up() {
  ip netns add "$(sw_lan_ns)"
  ip -n "$(sw_lan_ns)" link add br0 type bridge
  ip -n "$(sw_lan_ns)" addr add "$SW_LAN.1/24" dev br0
  ip -n "$(sw_lan_ns)" link set br0 up
  ip -n "$(sw_lan_ns)" link set lo up
  mkdir -p "$SW_STATE"
  setsid ip netns exec "$(sw_lan_ns)" python3 -c "$SW_NXDOMAIN_PY" </dev/null >"$SW_STATE/dns.log" 2>&1 &
  echo $! >"$SW_STATE/dns.pid"
}

# sw_engine_start N: namespace, veth to the LAN, dockerd; waits for its API.
sw_engine_start() {
  local n=$1 ns dir
  ns=$(sw_ns "$n")
  dir=$SW_STATE/n$n
  mkdir -p "$dir/data"
  ip netns add "$ns"
  ip link add "$SW_PREFIX-v$n" type veth peer name eth0 netns "$ns"
  ip link set "$SW_PREFIX-v$n" netns "$(sw_lan_ns)"
  ip -n "$(sw_lan_ns)" link set "$SW_PREFIX-v$n" master br0 up
  ip -n "$ns" addr add "$(sw_ip "$n")/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
  # setsid: the engine is its own process group, stopped as one.
  # Not "ip netns exec": its fresh /sys hides the cgroup mounts dockerd
  # needs.  Here /sys is made fresh for the namespace (interfaces) and the
  # machine's cgroup tree is moved back on top of it.
  mkdir -p /run/docker
  setsid nsenter --net="/run/netns/$ns" unshare --mount --uts --propagation private sh -ec '
      hostname "$2"
      mkdir -p "$1/cg"
      mount --rbind /sys/fs/cgroup "$1/cg"
      mount -t sysfs none /sys
      mount --move "$1/cg" /sys/fs/cgroup
      mount -t tmpfs -o mode=0711 none /run/docker
      exec dockerd --data-root "$1/data" --exec-root /run/docker \
        --pidfile "$1/docker.pid" -H "unix://$1/docker.sock" \
        --storage-driver overlay2 --log-level warn --dns "$3"' sh "$dir" "n$n" "$SW_LAN.1" \
      >"$dir/dockerd.log" 2>&1 </dev/null &
  echo $! >"$dir/launcher.pid"
  for _ in $(seq 1 300); do
    sw_docker "$n" version >/dev/null 2>&1 && return 0
    kill -0 "$(cat "$dir/launcher.pid")" 2>/dev/null || break
    sleep 0.2
  done
  echo "engine n$n did not start; the end of $dir/dockerd.log:" >&2
  tail -20 "$dir/dockerd.log" >&2
  return 1
}

sw_engine_stop() {
  local n=$1 dir=$SW_STATE/n$1 pid
  [ -f "$dir/docker.pid" ] && pid=$(cat "$dir/docker.pid") && kill -TERM "$pid" 2>/dev/null &&
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  [ -f "$dir/launcher.pid" ] && kill -KILL -- "-$(cat "$dir/launcher.pid")" 2>/dev/null
  rm -f "$dir/launcher.pid"
  ip netns del "$(sw_ns "$n")" 2>/dev/null
  return 0
}

# sw_teardown N...: engines stopped, namespaces and state removed.
sw_teardown() {
  local n
  for n in "$@"; do sw_engine_stop "$n"; done
  [ -f "$SW_STATE/dns.pid" ] && kill -- "-$(cat "$SW_STATE/dns.pid")" 2>/dev/null
  ip netns del "$(sw_lan_ns)" 2>/dev/null
  # A killed engine can leave overlay mounts behind; the mount namespaces
  # died with it, so only the files remain.
  rm -rf "$SW_STATE"
}
