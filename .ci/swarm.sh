#!/bin/bash
# CI: containers (issue 12).  Installs Docker Engine and debootstrap from
# Debian, then builds the image offline and runs it on a real multi-node
# Docker Swarm (tests/swarm/run.sh, as root; a skip fails here), and checks
# the Kubernetes manifests offline (deploy/kubernetes/check/check.sh).
# Measured: 5 min 51 s to 6 min 20 s on 2 cores (the manifests take 2 s);
# the first run on a machine also debootstraps the two base images (about
# 2 minutes more, then cached in /var/cache/snowsignal-base).  The last line states the totals of both:
# "N passed, N failed, N skipped".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
fail=0
echo "=== containers: packages ($(date -u +%H:%M:%S))"
DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io debootstrap yamllint python3-yaml \
  >/tmp/snowsignal-ci-swarm-apt.log 2>&1 ||
  { tail -20 /tmp/snowsignal-ci-swarm-apt.log; fail=1; }

p=0 f=0 s=0
tally() { # the last line of a check's output
  local bp bf bs
  read -r bp _ bf _ bs _ < <(tail -1 "$1" | tr -d ',')
  p=$((p + ${bp:-0})); f=$((f + ${bf:-0})); s=$((s + ${bs:-0}))
}
echo "=== containers: image and Docker Swarm (tests/swarm/run.sh) ($(date -u +%H:%M:%S))"
SWARM_REQUIRE=1 tests/swarm/run.sh 2>&1 | tee /tmp/snowsignal-ci-swarm.log
[ "${PIPESTATUS[0]}" -eq 0 ] || fail=1
tally /tmp/snowsignal-ci-swarm.log
echo "=== containers: Kubernetes manifests (deploy/kubernetes/check/check.sh) ($(date -u +%H:%M:%S))"
deploy/kubernetes/check/check.sh 2>&1 | tee /tmp/snowsignal-ci-k8s.log
[ "${PIPESTATUS[0]}" -eq 0 ] || fail=1
tally /tmp/snowsignal-ci-k8s.log
[ "$fail" -ne 0 ] && [ "$f" -eq 0 ] && f=1
echo "$p passed, $f failed, $s skipped"
exit "$fail"
