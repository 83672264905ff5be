#!/bin/sh
# CPU per relayed packet over the dtls transport beside udp-mesh (issue 6
# item 7), with bench/sweep.sh doing the measuring: the same topology,
# sender, receivers and CPU accounting (schedstat of each relay over each
# step), run twice, once per transport.  The dtls relays use a pre-shared
# key made here (psktool) and listen on 7124 like udp-mesh, which is the
# port sweep.sh waits for.
#
#   sudo bench/dtls-sweep.sh --build BUILD [--relays "2 8"] [--rates "1000 10000"] [--seconds 5]
#
# Prints sweep.sh's table, then per size and rate the extra CPU of dtls:
# on the capturing relay (it encrypts each packet once per peer: N-1
# records) divided by N-1, and on the busiest rebroadcasting relay (it
# decrypts one record per packet).  Target: at most 5 us per packet per
# peer above udp-mesh.
BENCH_SRC=$(cd "$(dirname "$0")/.." && pwd)
SIZES="2 8" RATES="1000 10000" SECS=5 IDLE=5 BUILD=""
while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=$2; shift 2 ;;
	--relays) SIZES=$2; shift 2 ;;
	--rates) RATES=$2; shift 2 ;;
	--seconds) SECS=$2; shift 2 ;;
	--idle) IDLE=$2; shift 2 ;;
	*) echo "usage: $0 --build DIR [--relays LIST] [--rates LIST] [--seconds S] [--idle S]" >&2; exit 2 ;;
	esac
done
[ -n "$BUILD" ] || { echo "$0: --build DIR is required" >&2; exit 2; }
BUILD=$(cd "$BUILD" && pwd)
[ -e "$BUILD/plugins/dtls.la" ] || { echo "$0: no dtls plugin in $BUILD (GnuTLS missing or --disable-dtls)" >&2; exit 77; }
command -v psktool >/dev/null 2>&1 || { echo "$0: psktool not found (Debian package gnutls-bin)" >&2; exit 77; }

DIR=$(mktemp -d "${TMPDIR:-/tmp}/dtls-sweep.XXXXXX") || exit 1
trap 'rm -rf "$DIR"' EXIT
psktool -u bench -p "$DIR/mesh.psk" >/dev/null 2>&1 || { echo "$0: psktool failed" >&2; exit 1; }
# The shipped configuration with the transport swapped; the rest (ports,
# self filters) is the same for both runs.
sed -e "s|{ name = \"mesh\"; plugin = \"udp-mesh\";[^}]*}|{ name = \"mesh\"; plugin = \"dtls\"; port = 7124; psk_file = \"$DIR/mesh.psk\"; }|" \
	"$BENCH_SRC/etc/snowsignal.conf" >"$DIR/dtls.conf"
grep -q 'plugin = "dtls"' "$DIR/dtls.conf" || { echo "$0: could not make the dtls configuration" >&2; exit 1; }

RELAY="$BUILD/snowsignal -t eth0 -l warning --config"
"$BENCH_SRC/bench/sweep.sh" --build "$BUILD" --relays "$SIZES" --rates "$RATES" --mesh-rates "$RATES" \
	--seconds "$SECS" --idle "$IDLE" \
	--relay "udp-mesh=$RELAY $BENCH_SRC/etc/snowsignal.conf" \
	--relay "dtls=$RELAY $DIR/dtls.conf" | tee "$DIR/sweep.out"

# Rows: impl N rate sent deliv% dups p50 p99 p99.9 +p50 +p99 +p99.9 cap reb rss.
echo "# dtls above udp-mesh, us per packet: capturing relay (per peer: /(N-1)), rebroadcasting relay"
awk '
$1 == "udp-mesh" || $1 == "dtls" { k = $2 " " $3; cap[$1, k] = $(NF - 2); reb[$1, k] = $(NF - 1)
                                   del[$1, k] = $5; if (!(k in seen)) { seen[k] = 1; order[++n] = k } }
END {
  printf "#  N    rate  mesh_cap  dtls_cap  +per_peer  mesh_reb  dtls_reb  +reb  deliv%%(mesh/dtls)\n"
  for (i = 1; i <= n; i++) {
    k = order[i]; split(k, f, " "); peers = f[1] - 1
    if ((("udp-mesh", k) in cap) && (("dtls", k) in cap))
      printf "# %2d %7s %9.2f %9.2f %10.2f %9.2f %9.2f %5.2f  %s/%s\n", f[1], f[2],
             cap["udp-mesh", k], cap["dtls", k], (cap["dtls", k] - cap["udp-mesh", k]) / peers,
             reb["udp-mesh", k], reb["dtls", k], reb["dtls", k] - reb["udp-mesh", k],
             del["udp-mesh", k], del["dtls", k]
  }
}' "$DIR/sweep.out"
