#!/bin/bash
# make-base.sh - base images for the snowsignal Containerfile, built offline
# from Debian packages: debootstrap of bookworm from the Debian mirror apt
# already uses, then `docker import`.  No container registry is needed.
#
#   deploy/container/make-base.sh [--print]
#   deploy/container/make-base.sh --extra NAME "PACKAGE..."
#
# --extra makes one more slimmed base, snowsignal-base:bookworm-NAME, of
# minbase and the packages named, and prints "--build-arg BASE=<it>" (the
# Swarm test builds SnowSignal 0.1.x on a python3 base this way).
#
# Makes two images (skipped when an image with the same recipe is there):
#   snowsignal-base:bookworm-build    minbase + the build dependencies
#   snowsignal-base:bookworm-runtime  minbase + the runtime libraries, slimmed
# and prints the two --build-arg options the Containerfile takes, so that
#   docker build $(deploy/container/make-base.sh --print) -f deploy/container/Containerfile .
# builds offline.  Elsewhere, without these, the Containerfile builds FROM
# debian:bookworm-slim unchanged.
#
# Environment: DOCKER (docker), MIRROR (first deb.debian.org-style URI of
# /etc/apt/sources.list*, else http://deb.debian.org/debian), SUITE
# (bookworm), BASE_CACHE (/var/cache/snowsignal-base: the debootstrap
# tarballs, kept so that other engines import them without a download).
# Needs root, debootstrap and a running Docker engine.
set -euo pipefail

DOCKER=${DOCKER:-docker}
SUITE=${SUITE:-bookworm}
BASE_CACHE=${BASE_CACHE:-/var/cache/snowsignal-base}
print_only=false
extra_name='' extra_pkgs=''
case "${1:-}" in
  --print) print_only=true ;;
  --extra) extra_name=${2:?--extra NAME PACKAGES}; extra_pkgs=${3:?--extra NAME PACKAGES} ;;
esac

# Package lists: one place, read by the Containerfile too (it installs the
# same lists with apt-get when it starts from debian:bookworm-slim).
here=$(cd "$(dirname "$0")" && pwd)
build_pkgs=$(grep -v '^#' "$here/build-packages" | xargs)
runtime_pkgs=$(grep -v '^#' "$here/runtime-packages" | xargs)

build_tag=snowsignal-base:$SUITE-build
runtime_tag=snowsignal-base:$SUITE-runtime

log() { echo "make-base: $*" >&2; }

mirror() {
  if [ -n "${MIRROR:-}" ]; then echo "$MIRROR"; return; fi
  # deb822 "URIs:" lines and one-line "deb URI suite" entries alike.
  local m
  m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
        2>/dev/null | awk '/^URIs:/ {print $2} /^deb / {print ($2 ~ /^\[/ ? $3 : $2)}' |
        grep -E '/debian/?$' | head -1 || true)
  echo "${m:-http://deb.debian.org/debian}"
}

# The recipe's hash names the tarball and labels the image: a change of
# suite, mirror or package list makes a new base, nothing else does.
recipe_id() { printf '%s\n' "$SUITE" "$(mirror)" "$1" "$2" | sha256sum | cut -c1-12; }

slim() { # remove what a runtime image never reads
  local root=$1
  rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
         "$root"/usr/share/locale/* "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* \
         "$root"/var/cache/debconf/*-old "$root"/var/log/*.log
}

make_one() { # tag kind packages
  local tag=$1 kind=$2 pkgs=$3 id tarball root
  id=$(recipe_id "$kind" "$pkgs")
  if [ "$($DOCKER image inspect -f '{{index .Config.Labels "org.snowsignal.base-recipe"}}' "$tag" 2>/dev/null)" = "$id" ]; then
    log "$tag is up to date (recipe $id)"
    return
  fi
  tarball=$BASE_CACHE/$SUITE-$kind-$id.tar
  if [ ! -s "$tarball" ]; then
    command -v debootstrap >/dev/null || { log "debootstrap is missing: apt-get install debootstrap"; exit 1; }
    mkdir -p "$BASE_CACHE"
    root=$(mktemp -d "$BASE_CACHE/root.XXXXXX")
    log "debootstrap $SUITE ($kind) from $(mirror) into $root"
    debootstrap --variant=minbase --include="$(echo "$pkgs" | tr ' ' ,)" \
      "$SUITE" "$root" "$(mirror)" >"$root.log" 2>&1 ||
      { tail -20 "$root.log" >&2; rm -rf "$root"; exit 1; }
    # The suite's security updates too (a base image without them would be
    # stale the day it is made); same mirror host, Debian's layout.
    local sec
    sec=$(mirror | sed 's#/debian/*$#/debian-security#')
    printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s %s-security main\n' \
      "$(mirror)" "$SUITE" "$(mirror)" "$SUITE" "$sec" "$SUITE" >"$root/etc/apt/sources.list"
    if chroot "$root" apt-get -qq update >>"$root.log" 2>&1; then
      DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get -qq -y upgrade >>"$root.log" 2>&1 ||
        { tail -20 "$root.log" >&2; rm -rf "$root"; exit 1; }
    else
      log "no security updates reachable; the base has the point release only"
    fi
    chroot "$root" apt-get clean
    [ "$kind" != build ] && slim "$root"
    tar -C "$root" --numeric-owner -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$root" "$root.log"
  fi
  log "docker import $tarball as $tag"
  $DOCKER import \
    -c "LABEL org.snowsignal.base-recipe=$id" \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["/bin/bash"]' \
    "$tarball" "$tag" >/dev/null
}

if ! $print_only; then
  [ "$(id -u)" = 0 ] || { log "run as root (debootstrap, chroot)"; exit 1; }
  $DOCKER version >/dev/null 2>&1 || { log "no Docker engine answers ($DOCKER version failed)"; exit 1; }
  if [ -n "$extra_name" ]; then
    make_one "snowsignal-base:$SUITE-$extra_name" "$extra_name" "$extra_pkgs"
    echo "--build-arg BASE=snowsignal-base:$SUITE-$extra_name"
    exit 0
  fi
  make_one "$build_tag" build "$build_pkgs"
  make_one "$runtime_tag" runtime "$runtime_pkgs"
fi
echo "--build-arg BUILD_BASE=$build_tag --build-arg BASE=$runtime_tag"
