#!/bin/bash
# build-image.sh - builds the snowsignal image from this source tree, offline.
#
#   deploy/container/build-image.sh [TAG]        (make image: TAG=snowsignal:VERSION)
#
# Makes (or reuses) the Debian-package base images with make-base.sh, then
# builds deploy/container/Containerfile on them and tags the result TAG and
# snowsignal:latest.  With ONLINE=1 the bases are debian:bookworm-slim from
# a registry instead.  DOCKER names the client (default docker); the legacy
# builder is used, as BuildKit would look for the bases in a registry.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
DOCKER=${DOCKER:-docker}
tag=${1:-snowsignal:latest}
if [ "${ONLINE:-0}" = 1 ]; then
  args=()
else
  read -r -a args < <(DOCKER="$DOCKER" "$top/deploy/container/make-base.sh")
fi
start=$(date +%s)
DOCKER_BUILDKIT=0 $DOCKER build "${args[@]}" -f "$top/deploy/container/Containerfile" \
  -t "$tag" -t snowsignal:latest "$top"
echo "build-image: $tag built in $(( $(date +%s) - start )) s;" \
     "$($DOCKER image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.1f MB", $1/1e6}')"
