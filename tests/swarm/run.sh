#!/bin/bash
# shellcheck disable=SC2317 # the check functions are called through wait_for
# tests/swarm/run.sh - the container image and the Swarm stack, end to end,
# on a real multi-node Docker Swarm made on this machine (as root).
#
#   tests/swarm/run.sh            last line: "N passed, N failed, N skipped"
#
# Four Docker engines, each in its own network, mount and UTS namespace
# (tests/swarm/engines.sh), joined by a bridge in a namespace of their own:
# nothing leaves the machine, nothing touches its own network.  The image is
# built offline on node 1 (deploy/container/build-image.sh) and copied to the
# others with docker save/load.  Then:
#   - the image alone: runs as uid 999 with CAP_NET_RAW only, healthy through
#     `snowsignal status`, logs on stderr, stops cleanly on SIGTERM, takes a
#     mounted configuration file;
#   - a swarm of three nodes and an attachable overlay network "epics";
#     PVA responders on every node, a PVA search client on node 1: a search
#     is answered on its own node and NOT from another node;
#   - deploy/swarm/snowsignal.yml deployed: every relay lists every other as
#     a peer, and searches from node 1 are answered from node 2, each one
#     seen exactly once on every segment (no loss, no duplicate, no loop);
#   - then, in turn, `docker service update --force` (stop-first, then
#     start-first with searches sent meanwhile: none seen twice), node 3
#     drained (and made active again), node 4 added, a migration from
#     SnowSignal 0.1.x (with SS_ORIGINAL_DIR), the DTLS overlay: after each,
#     the mesh re-converges within the refresh interval of tasks.<service>
#     listing every relay (Swarm lists a task only once it is healthy; one
#     more interval when a lookup lands while Swarm updates the name), and a
#     batch of searches is answered with each seen once per segment.
# It skips, saying why, where Docker cannot run (no dockerd, not root, a
# kernel without overlay or VXLAN, no Debian mirror for the base images).
# SWARM_REQUIRE=1 (CI) turns such a skip into a failure.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/swarm/engines.sh"

STACK=pva
SERVICE=${STACK}_snowsignal
NET=epics
IMAGE=snowsignal:swarm-test
TOOLS=snowsignal-pva-tools:swarm-test
REFRESH=10           # peers.refresh of the shipped configuration
# A relay re-resolves every REFRESH s; a lookup that lands while Swarm is
# still publishing the name fails (EAI_AGAIN, seen once in five runs 0.3 s
# before every node listed every relay) and the next is REFRESH s later.
CONVERGE_MAX=$((2 * REFRESH + 3))
BATCH=${SWARM_BATCH:-20}
SEARCH_TIMEOUT=2

pass=0 failed=0 skipped=0
ok()   { pass=$((pass + 1)); echo "ok: $*"; }
bad()  { failed=$((failed + 1)); echo "FAIL: $*"; }
note() { echo "  $*"; }
finish() {
  echo "$pass passed, $failed failed, $skipped skipped"
  [ "$failed" -eq 0 ]
  exit $?
}
skip_all() {
  echo "SKIP: $*"
  if [ "${SWARM_REQUIRE:-0}" = 1 ]; then
    bad "SWARM_REQUIRE=1 and the Swarm test cannot run: $*"
  else
    skipped=$((skipped + 1))
  fi
  finish
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# wait_for SECONDS COMMAND...: polls COMMAND until it succeeds, at most
# SECONDS after the first try; WAIT_HIT_MS is when the successful try began
# (a try can take a second or two: docker exec on a busy machine).
wait_for() {
  local limit=$1 t0 t
  shift
  t0=$(now_ms)
  while :; do
    t=$(now_ms)
    [ $((t - t0)) -gt $((limit * 1000)) ] && return 1
    "$@" >/dev/null 2>&1 && { WAIT_HIT_MS=$t; return 0; }
    sleep 0.5
  done
}

# --- can Docker run here? -----------------------------------------------
[ "$(id -u)" = 0 ] || skip_all "needs root (network namespaces, dockerd)"
for c in dockerd containerd runc ip nsenter unshare python3; do
  command -v "$c" >/dev/null || skip_all "$c is missing (apt-get install docker.io iproute2 util-linux python3)"
done
[ -x "$(sw_docker_bin)" ] || skip_all "no docker client"
grep -qw overlay /proc/filesystems || skip_all "the kernel has no overlay filesystem"
ip link add ss-sw-probe type vxlan id 42 dstport 4789 2>/dev/null ||
  skip_all "the kernel cannot make VXLAN interfaces (Swarm overlay networks need them)"
ip link del ss-sw-probe

# One run at a time: a second would tear the first one's engines down.
mkdir -p /run/lock
exec 9>"/run/lock/$SW_PREFIX.lock"
flock -n 9 || { echo "another tests/swarm/run.sh is running"; bad "not run: another run holds /run/lock/$SW_PREFIX.lock"; finish; }

NODES="1 2 3 4"
# The engines' state goes with them: no `swarm leave` needed.  SWARM_KEEP=1
# leaves the swarm running for a look (tests/swarm/engines.sh, sw_docker).
cleanup() { [ "${SWARM_KEEP:-0}" = 1 ] || sw_teardown $NODES; }
cleanup   # what an interrupted run left
trap cleanup EXIT
trap 'exit 130' INT TERM

sw_lan_up || skip_all "cannot make network namespaces"
sw_engine_start 1 || skip_all "dockerd does not start here (see above)"
echo "engine n1 up: $(sw_docker 1 version -f '{{.Server.Version}}'), $(sw_docker 1 info -f '{{.Driver}}')"

# --- the image, offline ----------------------------------------------------
export DOCKER_BUILDKIT=0
D1="$(sw_docker_bin) -H unix://$(sw_sock 1)"
mirror_ok() {
  ls "${BASE_CACHE:-/var/cache/snowsignal-base}"/*-runtime-*.tar >/dev/null 2>&1 && return 0
  local m host
  m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
        awk '/^URIs:/ {print $2} /^deb / {print ($2 ~ /^\[/ ? $3 : $2)}' | grep -E '/debian/?$' | head -1)
  host=$(echo "${MIRROR:-${m:-http://deb.debian.org/debian}}" | sed -E 's#^[a-z]+://([^/:]+).*#\1#')
  timeout 10 bash -c "exec 3<>/dev/tcp/$host/80" 2>/dev/null
}
mirror_ok || skip_all "no Debian mirror reachable and no cached base tarballs: the base images cannot be made"
command -v debootstrap >/dev/null ||
  ls /var/cache/snowsignal-base/*-runtime-*.tar >/dev/null 2>&1 ||
  skip_all "debootstrap is missing (apt-get install debootstrap)"

# SWARM_SOURCE=head builds the image from the last commit (git archive)
# rather than the working tree, which others may be editing.
src=$top
if [ "${SWARM_SOURCE:-tree}" = head ]; then
  src=$SW_STATE/src
  mkdir -p "$src" && git -C "$top" archive HEAD | tar -x -C "$src" ||
    { bad "git archive HEAD failed"; finish; }
  note "image source: $(git -C "$top" log -1 --format='%h %s' | cut -c1-70)"
fi
t0=$(date +%s)
if bargs=$(DOCKER="$D1" "$src/deploy/container/make-base.sh"); then
  ok "base images from Debian packages ($(( $(date +%s) - t0 )) s)"
else
  bad "make-base.sh failed"; finish
fi
t0=$(date +%s)
# shellcheck disable=SC2086
if DOCKER="$D1" "$src/deploy/container/build-image.sh" "$IMAGE" >"$SW_STATE/build.log" 2>&1 &&
   $D1 build -q $bargs --target pva-tools -t "$TOOLS" -f "$src/deploy/container/Containerfile" \
     "$src" >>"$SW_STATE/build.log" 2>&1; then
  size=$(sw_docker 1 image inspect -f '{{.Size}}' "$IMAGE")
  ok "image $IMAGE built offline in $(( $(date +%s) - t0 )) s: $((size / 1000000)) MB"
else
  tail -30 "$SW_STATE/build.log"
  bad "the image did not build"; finish
fi

plugins=$(sw_docker 1 run --rm "$IMAGE" --list-plugins 2>&1)
if echo "$plugins" | grep -q udp-mesh && echo "$plugins" | grep -q dtls; then
  ok "the image has the plugins (udp-mesh, dtls, ...)"
else
  bad "plugins missing: $plugins"
fi

# --- the image alone --------------------------------------------------------
CAPS=(--cap-drop ALL --cap-add NET_RAW --cap-add SETUID --cap-add SETGID --cap-add SETPCAP --cap-add CHOWN)
sw_docker 1 run -d --name solo "${CAPS[@]}" --health-interval 1s --health-start-period 5s \
  -e LOGLEVEL=info "$IMAGE" >/dev/null
healthy() { [ "$(sw_docker 1 inspect -f '{{.State.Health.Status}}' solo)" = healthy ]; }
if wait_for 20 healthy; then ok "healthy through 'snowsignal status' (cap_drop ALL + 5 caps)"
else bad "never healthy: $(sw_docker 1 inspect -f '{{json .State.Health}}' solo)"; fi
st=$(sw_docker 1 exec solo cat /proc/1/status)
uid=$(echo "$st" | awk '/^Uid:/ {print $2 $3 $4 $5}')
capeff=$(echo "$st" | awk '/^CapEff:/ {print $2}')
rss=$(echo "$st" | awk '/^VmRSS:/ {print $2}')
if [ "$uid" = 999999999999 ] && [ "$capeff" = 0000000000002000 ]; then
  ok "the relay runs as uid 999 with CAP_NET_RAW only (CapEff $capeff); RSS ${rss} kB"
else
  bad "the relay runs as uid '$uid' with CapEff '$capeff'"
fi
if sw_docker 1 logs solo 2>&1 | grep -q "NOTICE: relay started interface=eth0"; then
  ok "logs on stderr, as docker logs shows them"
else bad "no 'relay started' in docker logs"; fi
t0=$(now_ms)
sw_docker 1 stop solo >/dev/null
stop_ms=$(( $(now_ms) - t0 ))
code=$(sw_docker 1 inspect -f '{{.State.ExitCode}}' solo)
# (docker logs may lag the container's exit by a moment: polled.)
stopped_cleanly() { sw_docker 1 logs solo 2>&1 | grep -q "stopping on signal"; }
if [ "$code" = 0 ] && wait_for 5 stopped_cleanly; then
  ok "SIGTERM: a clean stop in $stop_ms ms (exit 0, Docker's grace period is 10 s)"
else bad "docker stop: exit $code after $stop_ms ms"; fi
sw_docker 1 rm solo >/dev/null

# A configuration file mounted over the shipped one (a Swarm config or a
# ConfigMap does the same): a bad one is refused with its line, a good one used.
conf=$SW_STATE/snowsignal.conf
sed 's/name = "mesh"; plugin = "udp-mesh"/name = "swarm-mesh"; plugin = "udp-mesh"/; s/"mesh" \]/"swarm-mesh" ]/' \
  "$top/etc/snowsignal.conf" >"$conf"
if out=$(sw_docker 1 run --rm -v "$conf:/etc/snowsignal/snowsignal.conf:ro" "$IMAGE" --check-config 2>&1) &&
   sw_docker 1 run -d --name conf "${CAPS[@]}" -v "$conf:/etc/snowsignal/snowsignal.conf:ro" "$IMAGE" >/dev/null &&
   wait_for 10 sh -c "$D1 exec conf snowsignal status | grep -q swarm-mesh"; then
  ok "a mounted configuration file is read"
else
  bad "mounted configuration: $out"
fi
sw_docker 1 rm -f conf >/dev/null 2>&1
echo 'version = 1; instances = ( { name = "x"; plugin = "udp-mesh"; porrt = 1; } );' >"$conf.bad"
out=$(sw_docker 1 run --rm -v "$conf.bad:/etc/snowsignal/snowsignal.conf:ro" "$IMAGE" --check-config 2>&1)
if [ $? -ne 0 ] && echo "$out" | grep -q "snowsignal.conf:1"; then
  ok "a bad mounted configuration is refused with file:line"
else bad "bad configuration: $out"; fi

# The Kubernetes DaemonSets' container settings (deploy/kubernetes), with
# docker run: read-only root, a tmpfs for the control socket, no new
# privileges (allowPrivilegeEscalation: false), user 0:999, five caps.
sw_docker 1 run -d --name ro --read-only --tmpfs /run/snowsignal:size=1m \
  --security-opt no-new-privileges "${CAPS[@]}" --health-interval 1s "$IMAGE" >/dev/null
ro_healthy() { [ "$(sw_docker 1 inspect -f '{{.State.Health.Status}}' ro)" = healthy ]; }
if wait_for 20 ro_healthy &&
   [ "$(sw_docker 1 exec ro awk '/^(Uid|CapEff|NoNewPrivs):/ {printf "%s ", $2}' /proc/1/status)" = \
     "999 0000000000002000 1 " ]; then
  ok "the DaemonSets' settings (read-only root, no-new-privileges): healthy, uid 999, CAP_NET_RAW only"
else
  bad "the DaemonSets' settings: $(sw_docker 1 ps -a -f name=ro --format '{{.Status}}'); $(sw_docker 1 logs ro 2>&1 | tail -2)"
fi
sw_docker 1 rm -f ro >/dev/null 2>&1

# --- the swarm --------------------------------------------------------------
distribute() { # node: the engine, the images
  sw_engine_start "$1" || return 1
  $D1 save "$IMAGE" "$TOOLS" | sw_docker "$1" load -q >/dev/null
}
for n in 2 3; do distribute "$n" || { bad "engine n$n"; finish; }; done
sw_docker 1 swarm init --advertise-addr "$(sw_ip 1)" >/dev/null
token=$(sw_docker 1 swarm join-token -q worker)
for n in 2 3; do sw_docker "$n" swarm join --token "$token" "$(sw_ip 1):2377" >/dev/null; done
ready_nodes() { [ "$(sw_docker 1 node ls --format '{{.Status}}' | grep -c Ready)" -eq "$1" ]; }
if wait_for 60 ready_nodes 3; then ok "swarm of 3 engines ready"
else bad "swarm: $(sw_docker 1 node ls)"; finish; fi
node_id() { sw_docker "$1" info -f '{{.Swarm.NodeID}}'; }

sw_docker 1 network create -d overlay --attachable "$NET" >/dev/null || { bad "overlay network"; finish; }

# A responder on every node answers its own channel ss:nN:pv and logs every
# search it sees; the client on node 1 searches.
responder() {
  sw_docker "$1" run -d --name "srv$1" --network "$NET" "$TOOLS" \
    pva-responder -n "ss:n$1:pv" -t 86400 >/dev/null &&
    wait_for 30 sh -c "$(sw_docker_bin) -H unix://$(sw_sock "$1") logs srv$1 | grep -q READY"
}
for n in 1 2 3; do responder "$n" || bad "responder on n$n"; done
sw_docker 1 run -d --name cli --network "$NET" "$TOOLS" sleep infinity >/dev/null
# The search goes to the overlay's broadcast address, as PVA clients send
# to each interface's (EPICS_PVA_AUTO_ADDR_LIST): 255.255.255.255 would
# leave by the default route, docker_gwbridge, not the overlay.
bcast=$(sw_docker 1 network inspect -f '{{(index .IPAM.Config 0).Subnet}}' "$NET" |
          python3 -c 'import ipaddress,sys; print(ipaddress.ip_network(sys.stdin.read().strip()).broadcast_address)')
note "overlay $NET: broadcast address $bcast"
seq_next=1
search() { # node channel: one search from the client on node; 0 = answered
  local s=$seq_next
  seq_next=$((seq_next + 1))
  sw_docker "$1" exec cli pva-search -d "$bcast" -n "$2" --seq "$s" -t "$SEARCH_TIMEOUT" >/dev/null 2>&1
}
seen() { # node seq: how many times the responder on node saw search seq
  sw_docker "$1" logs "srv$1" 2>/dev/null | grep -c "^REQUEST .* seq=$2 "
}

if search 1 ss:n1:pv; then ok "without relays: a search is answered on its own node"
else bad "without relays: a same-node search went unanswered (the test tools do not work)"; fi
s=$seq_next
if search 1 ss:n2:pv; then bad "without relays: a search from node 1 was answered from node 2"
elif [ "$(seen 2 "$s")" = 0 ]; then ok "without relays: no answer from another node (the overlay stops broadcasts)"
else bad "without relays: node 2 saw the search"; fi

# --- the stack --------------------------------------------------------------
relay_ctr() { sw_docker "$1" ps -q -f "label=com.docker.swarm.service.name=$SERVICE" -f status=running | head -1; }
relay_ip() {
  local c
  c=$(relay_ctr "$1") && [ -n "$c" ] &&
    sw_docker "$1" inspect -f "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" "$c"
}
relay_peers() { # node: the peer addresses its relay lists, sorted
  local c
  c=$(relay_ctr "$1") && [ -n "$c" ] &&
    sw_docker "$1" exec "$c" snowsignal status --json |
      python3 -c 'import json,sys; print(" ".join(sorted(p["address"].rsplit(":",1)[0] if p["address"].count(":")==1 else p["address"] for p in json.load(sys.stdin)["peers"])))' 2>/dev/null
}
# converged NODE...: every relay on these nodes lists exactly the others.
converged() {
  local n m want ips=()
  for n in "$@"; do ips[$n]=$(relay_ip "$n") && [ -n "${ips[$n]}" ] || return 1; done
  for n in "$@"; do
    want=$(for m in "$@"; do [ "$m" != "$n" ] && echo "${ips[$m]}"; done | sort | xargs)
    [ "$(relay_peers "$n")" = "$want" ] || return 1
  done
}
relays_running() { local n; for n in "$@"; do [ -n "$(relay_ctr "$n")" ] || return 1; done; }
# peers_up NODE...: every relay on these nodes has each of its peers in
# state "up" (dtls: its association established; a frame for a peer whose
# handshake is still under way is not sent).
peers_up() {
  local n c
  for n in "$@"; do
    c=$(relay_ctr "$n") && [ -n "$c" ] || return 1
    sw_docker "$n" exec "$c" snowsignal status --json |
      python3 -c 'import json,sys; p=json.load(sys.stdin)["peers"]; sys.exit(0 if p and all(x["state"] == "up" for x in p) else 1)' ||
      return 1
  done
}
relays_healthy() {
  local n c
  for n in "$@"; do
    c=$(relay_ctr "$n") && [ -n "$c" ] &&
      [ "$(sw_docker "$n" inspect -f '{{.State.Health.Status}}' "$c")" = healthy ] || return 1
  done
}
# dns_lists NODE...: tasks.<service>, asked on every one of these nodes,
# gives exactly their relays.  Swarm publishes a task there once it is
# healthy, and other nodes learn it by gossip, a few seconds later.
dns_lists() {
  local n m c want got
  want=$(for m in "$@"; do relay_ip "$m"; done | sort | xargs)
  for n in "$@"; do
    c=$(relay_ctr "$n") && [ -n "$c" ] || return 1
    got=$(sw_docker "$n" exec "$c" getent ahostsv4 "tasks.$SERVICE" | awk '{print $1}' | sort -u | xargs)
    [ "$got" = "$want" ] || return 1
  done
}
# check_converged WHAT NODE...: relays running and healthy on NODE..., their
# names published, then the mesh: every relay must list the others within
# one refresh interval of tasks.<service> listing them (+3 s: the lookup
# and this poll).  The times are printed from the tasks' start too.
check_converged() {
  local what=$1 t0 t1 t2
  shift
  t0=$(now_ms)
  if ! wait_for 120 relays_running "$@"; then
    bad "$what: relay tasks not running on nodes $*"; return 1
  fi
  if ! wait_for 30 relays_healthy "$@"; then
    bad "$what: relay tasks not healthy on nodes $*"; return 1
  fi
  t1=$(now_ms)
  if ! wait_for 60 dns_lists "$@"; then
    bad "$what: tasks.$SERVICE does not list the relays of nodes $* on every node"; return 1
  fi
  t2=$(now_ms)
  if wait_for "$CONVERGE_MAX" converged "$@"; then
    ok "$what: mesh of nodes $* converged $(( WAIT_HIT_MS - t2 )) ms after tasks.$SERVICE listed" \
       "every relay (limit ${CONVERGE_MAX} s); healthy +$(( t1 - t0 )) ms, listed +$(( t2 - t1 )) ms," \
       "$(( WAIT_HIT_MS - t0 )) ms in all"
  else
    bad "$what: mesh not converged in ${CONVERGE_MAX} s:"
    for n in "$@"; do
      note "n$n relay $(relay_ip "$n") peers: $(relay_peers "$n")"
      sw_docker "$n" ps -a -f "label=com.docker.swarm.service.name=$SERVICE" --format '{{.ID}} {{.Status}}' |
        while read -r c st; do
          note "  $c $st"
          sw_docker "$n" logs -t "$c" 2>&1 | grep -v 'receive buffer' | tail -5 | cut -c1-200 | sed 's/^/      /'
        done
    done
    return 1
  fi
}
# check_batch WHAT FROM CHANNEL EXPECT: BATCH searches from node FROM for
# CHANNEL all answered; EXPECT lists node:count, the times each search must
# be seen on that node's segment (1: relayed once; 0: not relayed there).
check_batch() {
  local what=$1 from=$2 channel=$3 expect=$4 first=$seq_next i lost=0 n c spec wrong=""
  for i in $(seq 1 "$BATCH"); do search "$from" "$channel" || lost=$((lost + 1)); done
  for spec in $expect; do
    n=${spec%%:*} c=${spec#*:}
    counted() { local s; for s in $(seq "$first" $((seq_next - 1))); do [ "$(seen "$1" "$s")" -ge "$2" ] || return 1; done; }
    [ "$c" -gt 0 ] && wait_for 10 counted "$n" "$c"
    for i in $(seq "$first" $((seq_next - 1))); do
      [ "$(seen "$n" "$i")" = "$c" ] || wrong="$wrong n$n:seq=$i:$(seen "$n" "$i")x"
    done
  done
  if [ "$lost" = 0 ] && [ -z "$wrong" ]; then
    ok "$what: $BATCH/$BATCH searches from n$from for $channel answered; each seen once per relayed segment"
  else
    bad "$what: $lost of $BATCH unanswered; seen wrongly (node:seq:times):$(echo "$wrong" | cut -d' ' -f1-8)"
  fi
}

t0=$(date +%s)
if SNOWSIGNAL_IMAGE=$IMAGE PVA_NETWORK=$NET sw_docker 1 stack deploy --resolve-image never \
     -c "$top/deploy/swarm/snowsignal.yml" "$STACK" >"$SW_STATE/deploy.log" 2>&1; then
  ok "deploy/swarm/snowsignal.yml deployed"
else
  cat "$SW_STATE/deploy.log"; bad "stack deploy failed"; finish
fi
check_converged "deployed" 1 2 3
c=$(relay_ctr 2)
capeff=$(sw_docker 2 exec "$c" awk '/^CapEff:/ {print $2}' /proc/1/status)
[ "$capeff" = 0000000000002000 ] && ok "the Swarm task runs with CAP_NET_RAW only" ||
  bad "Swarm task CapEff $capeff"
check_batch "deployed" 1 ss:n2:pv "1:1 2:1 3:1"

# A restart of every relay (the stack's update_config: stop-first, one node
# at a time, 15 s apart).
update_done() { [ "$(sw_docker 1 service inspect -f '{{.UpdateStatus.State}}' "$SERVICE")" = completed ]; }
# force_update WHAT [OPTION...]: `docker service update --force`, waited for
# (the client's own wait returns after the first node of a global service).
force_update() {
  local what=$1 old new c moved=0 t0
  shift
  old="$(relay_ctr 1) $(relay_ctr 2) $(relay_ctr 3)"
  t0=$(date +%s)
  if ! sw_docker 1 service update --force --detach=true --no-resolve-image "$@" "$SERVICE" >/dev/null 2>&1 ||
     ! wait_for 300 update_done; then
    bad "$what: the update did not complete: $(sw_docker 1 service inspect -f '{{json .UpdateStatus}}' "$SERVICE")"
    return 1
  fi
  new="$(relay_ctr 1) $(relay_ctr 2) $(relay_ctr 3)"
  for c in $new; do case " $old " in *" $c "*) ;; *) moved=$((moved + 1)) ;; esac; done
  if [ "$moved" = 3 ]; then ok "$what: 3 new relay tasks, update completed in $(( $(date +%s) - t0 )) s"
  else bad "$what: $moved of 3 relay tasks replaced"; fi
}
force_update "update --force (stop-first)"
check_converged "after update --force" 1 2 3
check_batch "after update --force" 1 ss:n2:pv "1:1 2:1 3:1"

# The same, start-first: for a moment two relays on each node's segment.
# Duplicate suppression and the one-emitter election must keep every search
# seen once on every segment, searches sent meanwhile included.
sw_docker 1 exec -d cli sh -c 'i=0; while [ $i -lt 400 ]; do pva-search -d '"$bcast"' -n ss:n2:pv --seq $((100000 + i)) -t 0.2 >/dev/null 2>&1; i=$((i + 1)); done'
force_update "update --force --update-order start-first" --update-order start-first --update-delay 5s --update-monitor 5s
check_converged "after the start-first update" 1 2 3
dups=0
for n in 1 2 3; do
  d=$(sw_docker "$n" logs "srv$n" 2>/dev/null | awk '/^REQUEST .* seq=1[0-9][0-9][0-9][0-9][0-9] / {for (i = 1; i <= NF; i++) if ($i ~ /^seq=/) print $i}' |
        sort | uniq -d | wc -l)
  dups=$((dups + d))
done
during=$(sw_docker 2 logs srv2 2>/dev/null | grep -c '^REQUEST .* seq=1[0-9][0-9][0-9][0-9][0-9] ')
if [ "$dups" = 0 ] && [ "$during" -gt 0 ]; then
  ok "start-first: of $during searches node 2 saw during the update, none twice on any segment"
else bad "start-first: $dups searches seen twice on a segment (two relays on one node relayed both)"; fi
check_batch "after the start-first update" 1 ss:n2:pv "1:1 2:1 3:1"
# Back to the stack's own order for what follows.
sw_docker 1 service update --detach=true --update-order stop-first --update-delay 15s --update-monitor 15s "$SERVICE" >/dev/null

# Node 3 drained: its relay goes, the others drop it; then active again.
sw_docker 1 node update --availability drain "$(node_id 3)" >/dev/null
gone() { [ -z "$(relay_ctr 3)" ]; }
wait_for 60 gone && ok "node 3 drained: its relay stopped" || bad "node 3 drained: its relay still runs"
check_converged "node 3 drained" 1 2
check_batch "node 3 drained" 1 ss:n2:pv "1:1 2:1 3:0"
sw_docker 1 node update --availability active "$(node_id 3)" >/dev/null
check_converged "node 3 active again" 1 2 3
check_batch "node 3 active again" 1 ss:n3:pv "1:1 2:1 3:1"

# Node 4 joins: the global service gives it a relay.
if distribute 4 && sw_docker 4 swarm join --token "$token" "$(sw_ip 1):2377" >/dev/null &&
   wait_for 60 ready_nodes 4; then
  ok "node 4 joined"
  responder 4 || bad "responder on n4"
  check_converged "node 4 added" 1 2 3 4
  check_batch "node 4 added" 1 ss:n4:pv "1:1 2:1 3:1 4:1"
else
  bad "node 4 did not join"
fi

# Migrating from SnowSignal 0.1.x, as deploy/swarm/README.md says: the
# stack runs the original, then its image is swapped for snowsignal node by
# node, and while both kinds are in tasks.<service> searches must cross in
# both directions.  Needs SS_ORIGINAL_DIR (the directory holding the
# original's package folder snowsignal/, as tests/integration/interop-
# original.sh takes it); its code is never kept in this tree.
ORIGINAL=snowsignal-original:swarm-test
migration() {
  local obargs n s o
  if ! obargs=$(DOCKER="$D1" "$src/deploy/container/make-base.sh" --extra python3-original \
                  "python3 python3-configargparse python3-psutil python3-cachetools") ||
     ! $D1 build -q $obargs -t "$ORIGINAL" -f "$top/tests/swarm/original.Containerfile" \
         "$SS_ORIGINAL_DIR" >>"$SW_STATE/build.log" 2>&1; then
    bad "migration: the original's image did not build (see make-base.sh, $SW_STATE/build.log)"; return
  fi
  for n in 2 3 4; do $D1 save "$ORIGINAL" | sw_docker "$n" load -q >/dev/null; done
  for n in 2 3 4; do sw_docker "$n" run -d --name cli --network "$NET" "$TOOLS" sleep infinity >/dev/null; done
  # Every node on the original, as before a migration.
  if ! sw_docker 1 service update --detach=true --no-resolve-image --image "$ORIGINAL" --update-parallelism 0 \
         --update-delay 0s --update-monitor 2s "$SERVICE" >/dev/null || ! wait_for 180 update_done; then
    bad "migration: the stack did not switch to the original"; return
  fi
  wait_for 60 dns_lists 1 2 3 4 || { bad "migration: tasks.$SERVICE does not list the originals"; return; }

  # The originals re-resolve every 10 s too: wait until node 1's reaches all.
  originals_reach() { search 1 ss:n2:pv && search 1 ss:n3:pv && search 1 ss:n4:pv; }
  if ! wait_for $((2 * REFRESH + 3)) originals_reach; then
    skipped=$((skipped + 1))
    echo "SKIP: migration: a mesh of SnowSignal 0.1.x relays alone does not carry searches from n1 to n2, n3, n4 here;"
    echo "      the mixed mesh is not checked (the original's logs: docker service logs $SERVICE)"
    return
  fi
  check_batch "SnowSignal 0.1.x alone (before the migration)" 1 ss:n2:pv "1:1 2:1 3:1 4:1"
  # The swap, stopped after its first node by a long delay: a mixed mesh.
  sw_docker 1 service update --detach=true --no-resolve-image --image "$IMAGE" --update-parallelism 1 \
    --update-delay 600s --update-monitor 2s --update-order stop-first "$SERVICE" >/dev/null
  ours() { # the nodes whose relay runs snowsignal, healthy
    local n c
    for n in 1 2 3 4; do
      c=$(relay_ctr "$n") && [ -n "$c" ] &&
        [ "$(sw_docker "$n" inspect -f '{{.Config.Image}} {{.State.Health.Status}}' "$c")" = "$IMAGE healthy" ] &&
        echo "$n"
    done
  }
  one_swapped() { [ "$(ours | wc -l)" = 1 ] && relays_running 1 2 3 4; }
  if ! wait_for 120 one_swapped; then bad "migration: no node switched to snowsignal"; return; fi
  s=$(ours)
  o=$(( s % 4 + 1 ))
  note "mixed mesh: snowsignal on n$s, SnowSignal 0.1.x on the others"
  # snowsignal lists the originals; the originals reach it once they re-resolve.
  mixed_converged() {
    local m want
    want=$(for m in 1 2 3 4; do [ "$m" != "$s" ] && relay_ip "$m"; done | sort | xargs)
    [ "$(relay_peers "$s")" = "$want" ] && dns_lists 1 2 3 4
  }
  wait_for $((2 * REFRESH + 3)) mixed_converged && ok "mixed mesh: snowsignal on n$s lists the 3 originals" ||
    bad "mixed mesh: snowsignal on n$s lists '$(relay_peers "$s")'"
  wait_for $((2 * REFRESH + 3)) search "$o" "ss:n$s:pv"
  check_batch "mixed mesh, SnowSignal 0.1.x -> snowsignal" "$o" "ss:n$s:pv" "1:1 2:1 3:1 4:1"
  check_batch "mixed mesh, snowsignal -> SnowSignal 0.1.x" "$s" "ss:n$o:pv" "1:1 2:1 3:1 4:1"
  # The rest of the swap, quickly.
  if sw_docker 1 service update --detach=true --no-resolve-image --force --image "$IMAGE" --update-parallelism 0 \
       --update-delay 0s --update-monitor 2s "$SERVICE" >/dev/null && wait_for 180 update_done; then
    ok "migration: every node on snowsignal"
  else
    bad "migration: the swap did not complete"
  fi
  check_converged "after the migration" 1 2 3 4
  check_batch "after the migration" 1 ss:n2:pv "1:1 2:1 3:1 4:1"
}
if [ -z "${SS_ORIGINAL_DIR:-}" ]; then
  skipped=$((skipped + 1))
  echo "SKIP: migration from SnowSignal 0.1.x: SS_ORIGINAL_DIR names no copy of the original (see tests/integration/interop-original.sh)"
elif [ ! -f "$SS_ORIGINAL_DIR/snowsignal/__main__.py" ]; then
  bad "SS_ORIGINAL_DIR=$SS_ORIGINAL_DIR holds no snowsignal/__main__.py"
else
  migration
fi

# The DTLS overlay of the guide: a Swarm secret (the pre-shared key, in
# psktool's format) and deploy/swarm/dtls.yml over the stack.  Deployed
# afresh (stack rm first) rather than rolled: a rolling switch is two
# meshes until every node has switched, and takes 4 x 30 s here.
dtls_nodes="1 2 3 4"
stack_gone() { [ -z "$(sw_docker 1 service ls -q -f "name=$SERVICE")" ] && ! relays_running_any; }
relays_running_any() { local n; for n in $dtls_nodes; do [ -n "$(relay_ctr "$n")" ] && return 0; done; return 1; }
printf 'mesh:%s\n' "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" >"$SW_STATE/mesh.psk"
if sw_docker 1 secret create snowsignal_mesh_psk "$SW_STATE/mesh.psk" >/dev/null &&
   sw_docker 1 stack rm "$STACK" >/dev/null && wait_for 60 stack_gone &&
   SNOWSIGNAL_IMAGE=$IMAGE PVA_NETWORK=$NET sw_docker 1 stack deploy --resolve-image never \
     -c "$top/deploy/swarm/snowsignal.yml" -c "$top/deploy/swarm/dtls.yml" "$STACK" >"$SW_STATE/deploy.log" 2>&1; then
  ok "dtls.yml deployed over the stack with a Swarm secret"
  # shellcheck disable=SC2086
  check_converged "DTLS mesh" $dtls_nodes
  # Listed is not yet associated: the batch below waits for the handshakes.
  # shellcheck disable=SC2086
  if wait_for 60 peers_up $dtls_nodes; then
    ok "DTLS mesh: every relay's associations with its peers are up"
  else
    bad "DTLS mesh: associations not all up in 60 s:"
    for n in $dtls_nodes; do
      c=$(relay_ctr "$n") && [ -n "$c" ] && sw_docker "$n" exec "$c" snowsignal status | sed "s/^/  n$n: /" | grep -E "peers|state=" 
    done
  fi
  c=$(relay_ctr 2)
  if sw_docker 2 exec "$c" snowsignal status | grep -Eq '^  mesh +dtls ' &&
     sw_docker 2 exec "$c" sh -c 'stat -c "%u %g %a" /run/secrets/mesh.psk' | grep -qx "0 999 440"; then
    ok "DTLS: the relay's transport is dtls, its key a secret of root:999, mode 0440"
  else
    bad "DTLS: $(sw_docker 2 exec "$c" snowsignal status | grep -A2 '^transports')"
  fi
  check_batch "DTLS mesh" 1 ss:n4:pv "1:1 2:1 3:1 4:1"
else
  cat "$SW_STATE/deploy.log"; bad "dtls.yml: the DTLS stack was not deployed"
fi

for n in 1 2 3 4; do
  c=$(relay_ctr "$n")
  [ -n "$c" ] && note "n$n relay: $(sw_docker "$n" exec "$c" snowsignal status | sed -n 2p)"
done
finish
