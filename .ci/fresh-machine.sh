#!/bin/bash
# CI: the README's two commands, verbatim, on a fresh Debian 12 machine.
#
#   1. A Debian 12 (bookworm) minbase root, made by debootstrap from the
#      Debian mirror this machine's apt uses (cached as a tarball of the
#      finished root under /var/cache/snowsignal-ci, rebuilt after
#      SS_CI_CACHE_DAYS days), is unpacked into a temporary directory.
#   2. What an installer adds is written: /etc/hostname, /etc/hosts
#      (127.0.0.1 localhost and the host name), /etc/resolv.conf and an
#      apt sources.list with the security and updates suites.
#   3. The clean checkout (the tracked files, `git ls-files`) is copied to
#      /root/project, /root is mode 700: a relay running as nobody cannot
#      read anything there, as on a real machine.
#   4. In a private mount and UTS namespace (unshare), with /proc, /sys,
#      a minimal /dev and a /run tmpfs mounted in the root, each of the
#      two command lines of the README's "Two commands" section runs
#      there in a shell, as root, in /root/project; both must exit 0.
#
# Nothing is installed in the root beforehand: the commands install what
# they need with apt-get (downloaded packages are kept in the cache
# directory between runs, so a rerun does not download them again).
# Every mount lives in the private mount namespace, so it disappears with
# the namespace's last process; teardown kills what still runs in the root,
# also on failure, timeout or interrupt, then deletes the directory.
#
# Usage: .ci/fresh-machine.sh     (as root; exit 0 when both commands pass)
# Environment: SS_CI_MIRROR (the Debian mirror), SS_CI_CACHE
# (/var/cache/snowsignal-ci), SS_CI_CACHE_DAYS (7), SS_CI_KEEP=1 keeps the
# root for a look after a failure, TMPDIR (where the root is made: /var/tmp).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
suite=bookworm
cache=${SS_CI_CACHE:-/var/cache/snowsignal-ci}
say() { echo "--- $*"; }
die() { echo "fresh-machine: $*" >&2; exit 1; }

# ---- inside the private namespaces: mount, run the commands ----------------

# inside ROOT COMMAND-FILE: runs each line of COMMAND-FILE in ROOT.
inside() {
	local root=$1 commands=$2 status=0 n=0
	mount --make-rprivate /
	# The root a mount point of its own, as on a machine: `ip netns exec`
	# changes the propagation of / and fails on a plain directory.
	mount --bind "$root" "$root"
	mount -t proc proc "$root/proc"
	mount -t sysfs sysfs "$root/sys"
	# /dev: a tmpfs with the usual nodes bound from the host's, not the
	# host's /dev itself.
	mount -t tmpfs -o mode=755,nosuid devtmp "$root/dev"
	for d in null zero full random urandom tty; do
		touch "$root/dev/$d"
		mount --bind "/dev/$d" "$root/dev/$d"
	done
	mkdir -p "$root/dev/pts" "$root/dev/shm"
	mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$root/dev/pts"
	ln -s pts/ptmx "$root/dev/ptmx"
	mount -t tmpfs -o mode=1777 shm "$root/dev/shm"
	ln -s /proc/self/fd "$root/dev/fd"
	ln -s /proc/self/fd/0 "$root/dev/stdin"
	ln -s /proc/self/fd/1 "$root/dev/stdout"
	ln -s /proc/self/fd/2 "$root/dev/stderr"
	mount -t tmpfs -o mode=755,nosuid,nodev run "$root/run"
	mkdir -p "$cache/apt-archives/partial"
	mount --bind "$cache/apt-archives" "$root/var/cache/apt/archives"
	hostname "$(cat "$root/etc/hostname")"

	while IFS= read -r cmd; do
		n=$((n + 1))
		say "command $n, in /root/project: $cmd ($(date -u +%H:%M:%S))"
		local start=$SECONDS rc=0
		chroot "$root" /usr/bin/env -i HOME=/root USER=root LOGNAME=root TERM=dumb \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			/bin/sh -c "cd /root/project && $cmd" </dev/null || rc=$?
		if [ "$rc" -eq 0 ]; then
			say "command $n passed ($((SECONDS - start)) s)"
		else
			say "command $n FAILED, exit status $rc ($((SECONDS - start)) s): $cmd"
			status=1
		fi
	done <"$commands"
	return "$status"
}

if [ "${1:-}" = --inside ]; then
	inside "$2" "$3"
	exit $?
fi

# ---- on the host ---------------------------------------------------------

[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap, chroot and mounts need it)"

# The two commands, as the README gives them: the indented lines of its
# "Two commands" section.
commands=$(sed -n '/^Two commands/,/^Building by hand/{/^    [^ ]/s/^    //p}' "$top/README")
[ "$(printf '%s\n' "$commands" | grep -c .)" -eq 2 ] ||
	die "expected two indented command lines in README's \"Two commands\" section, found: $commands"

# The mirror this machine's apt uses (deb822 "URIs:" or one-line "deb").
mirror_of() { # PATH-SUFFIX: the first URI ending in it
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
		grep -v '^[[:space:]]*#' | grep -oE "(https?|file)://[^[:space:]]*$1/?([[:space:]]|\$)" |
		head -n 1 | tr -d '[:space:]' | sed 's:/$::' || true
}
mirror=${SS_CI_MIRROR:-$(mirror_of /debian)}
mirror=${mirror:-http://deb.debian.org/debian}
security=$(mirror_of /debian-security)
security=${security:-http://security.debian.org/debian-security}

command -v debootstrap >/dev/null 2>&1 || {
	say "installing debootstrap"
	{ apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; } ||
		die "cannot install debootstrap with apt-get"
}

arch=$(dpkg --print-architecture)
tarball=$cache/$suite-minbase-$arch.tar.gz
mkdir -p "$cache"
# One run at a time on a machine: they share the cache (apt locks it).
exec 9>"$cache/lock"
flock 9
work=$(mktemp -d "${TMPDIR:-/var/tmp}/snowsignal-fresh.XXXXXX")
root=$work/root
inner_pid=

# Kills whatever still runs in the root (it would keep the private mount
# namespace, and so the mounts, alive), then deletes the directory; the
# mounts are not visible here, and --one-file-system keeps rm on the root's
# own files in any case.
# shellcheck disable=SC2317 # called by the trap
teardown() {
	local status=$? pids p tries=0
	trap - EXIT INT TERM
	[ -n "$inner_pid" ] && kill -TERM "$inner_pid" 2>/dev/null
	while :; do
		pids=
		for p in /proc/[0-9]*; do
			[ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && pids="$pids ${p#/proc/}"
		done
		for p in /proc/[0-9]*; do # debootstrap's chroot, or the inner shell
			case "$(tr '\0' ' ' 2>/dev/null <"$p/cmdline")" in
			*"$work"*) [ "${p#/proc/}" != $$ ] && pids="$pids ${p#/proc/}" ;;
			esac
		done
		[ -z "$pids" ] && break
		tries=$((tries + 1))
		[ "$tries" -gt 50 ] && { echo "fresh-machine: processes left in $root:$pids" >&2; break; }
		# shellcheck disable=SC2086
		kill -"$([ "$tries" -gt 20 ] && echo KILL || echo TERM)" $pids 2>/dev/null
		sleep 0.1
	done
	if [ -n "${SS_CI_KEEP:-}" ]; then
		echo "fresh-machine: the root is kept in $root (SS_CI_KEEP)"
	else
		rm -rf --one-file-system "$work" 2>/dev/null || rm -rf --one-file-system "$work" ||
			echo "fresh-machine: could not delete $work" >&2
	fi
	exit "$status"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start=$SECONDS
if [ -f "$tarball" ] && [ -z "$(find "$tarball" -mtime +"${SS_CI_CACHE_DAYS:-7}")" ]; then
	say "unpacking the cached $suite minbase root ($tarball)"
else
	say "debootstrap --variant=minbase $suite from $mirror (cached in $tarball)"
	mkdir "${work:?}/boot"
	# In a private mount namespace: what debootstrap mounts in the target
	# cannot outlive it.
	unshare --mount --propagation private \
		debootstrap --variant=minbase --arch="$arch" "$suite" "$work/boot" "$mirror" \
		>"$work/debootstrap.log" 2>&1 || {
		tail -n 30 "$work/debootstrap.log"
		[ -f "$work/boot/debootstrap/debootstrap.log" ] && tail -n 30 "$work/boot/debootstrap/debootstrap.log"
		die "debootstrap failed"
	}
	rm -f "${work:?}/boot/var/cache/apt/archives/"*.deb
	tar -C "$work/boot" --numeric-owner --xattrs -czf "$tarball.new" . && mv "$tarball.new" "$tarball" ||
		die "cannot write $tarball"
	rm -rf --one-file-system "${work:?}/boot"
fi
mkdir "$root"
tar -C "$root" --numeric-owner --xattrs -xzf "$tarball"
say "root ready in $((SECONDS - start)) s"

# What an installer writes.
echo snowsignal-fresh >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tsnowsignal-fresh\n\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n' \
	>"$root/etc/hosts"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s %s-security main\n' \
	"$mirror" "$suite" "$mirror" "$suite" "$security" "$suite" >"$root/etc/apt/sources.list"

# The clean checkout: tracked files only, as in the working tree.
mkdir -p "$root/root/project"
chmod 700 "$root/root"
(cd "$top" && git ls-files -z | while IFS= read -r -d '' f; do
	[ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"
done | tar --null -T - -cf -) | tar -C "$root/root/project" -xf -
say "checkout: $(find "$root/root/project" -type f | wc -l) files in /root/project (/root mode $(stat -c %a "$root/root"))"

printf '%s\n' "$commands" >"$work/commands"
unshare --mount --uts --propagation private "$0" --inside "$root" "$work/commands" &
inner_pid=$!
rc=0
wait "$inner_pid" || rc=$?
inner_pid=
if [ "$rc" -eq 0 ]; then
	say "both README commands passed on a fresh $suite in $((SECONDS - start)) s"
else
	say "FAILED: a README command failed on a fresh $suite ($((SECONDS - start)) s)"
fi
exit "$rc"
