#!/bin/sh
# The dtls transport's credentials: identities bound to peer addresses, and
# keys, certificates and CAs re-read by content on SIGHUP:
#
#   segment A 10.201.1.0/24      segment B 10.201.2.0/24     segment C 10.201.3.0/24
#   cli .10                      srv .10
#   relA .2 ───────── dtls :7125 ─ relB .2                   (C's address .2 only
#                                                             named in allowed_peers)
#
# With allowed_peers = [ "a@A", "c@C" ] on B, relay A presenting c's
# identity (it holds c's key) is refused, counted and logged; presenting
# its own it gets in.  Then, without a restart: a PSK identity removed from
# B's file (same path) closes the association at once; a rotated key works
# once both relays reloaded it, and not before; an identity taken out of
# allowed_peers is refused; and an X.509 CA rotated under the same paths.  Relay B runs with --user nobody and reads
# its key file (nobody's own, 0600) again on each reload; relay A finds its
# own under %d/, $CREDENTIALS_DIRECTORY, as under the systemd unit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dtls-lib.sh"
ss_init
dtls_need_tools
ss_plan 15

T=$SS_TMP
A=10.201.1.2 B=10.201.2.2 C=10.201.3.2
chmod 755 "$T" # relay B reloads as nobody

ss_router r
for s in 1 2 3; do ss_segment r $s; done
ss_host cli r 1 10
ss_host relA r 1 2
ss_host relB r 2 2
ss_host srv r 2 10

PHASE_FAILED=0
phase_end() {
	[ "$SS_TAP_FAILED" = "$PHASE_FAILED" ] && return 0
	PHASE_FAILED=$SS_TAP_FAILED
	for f in "$@"; do ss_dump "$f"; done
}
# reload PID LOG: SIGHUP, and the reload logged.
reload() {
	_n=$(ss_count "$2" 'configuration reloaded')
	kill -HUP "$(dtls_pid "$1")"
	ss_wait_for "$2" 'configuration reloaded' $((_n + 1)) 5
}
# settle LOG PATTERN N: LOG shows PATTERN N times (the event, not a delay).
settle() { ss_wait_for "$1" "$2" "$3" 10; }
# no_search TAG: nothing crosses (the responder would have answered).
no_search() { ! dtls_search cli srv "$T/$1"; }
# nobody_owns FILE...: the files relay B reads after dropping root.
nobody_owns() { chown nobody "$@" && chmod 600 "$@"; }

dtls_psk "$T/all.psk" a && dtls_psk "$T/all.psk" b && dtls_psk "$T/all.psk" c ||
	{ echo "Bail out! psktool could not make the keys"; exit 1; }
cp "$T/all.psk" "$T/a-side.psk" && cp "$T/all.psk" "$T/b-side.psk" && nobody_owns "$T/b-side.psk"
dtls_conf "$T/b.conf" "psk_file = \"$T/b-side.psk\"; psk_identity = \"b\"; allowed_peers = [ \"a@$A\", \"c@$C\" ];"
# Relay A reads its file as a systemd credential would be: %d/ is
# $CREDENTIALS_DIRECTORY.
CREDENTIALS_DIRECTORY=$T
export CREDENTIALS_DIRECTORY
dtls_conf "$T/a-as-c.conf" "psk_file = \"%d/a-side.psk\"; psk_identity = \"c\";"
dtls_conf "$T/a.conf" "psk_file = \"%d/a-side.psk\"; psk_identity = \"a\";"
chmod 644 "$T"/*.conf

# ---- 1-2: an identity bound to another address is refused ----------------
ss_start_relay relB "$T/relB.log" --config "$T/b.conf" -t eth0 -l debug --user nobody --other-relays $A && PID_B=$SS_RELAY_PID
dtls_relay relA "$T/relA1.log" "$T/a-as-c.conf" $B && PID_A=$SS_RELAY_PID
ss_check "B refuses identity c (bound to $C) authenticated from $A, and says so" \
	settle "$T/relB.log" "identity authenticated from an address it is not bound to.* identity=c bound_to=$C" 1
COUNTERS=$(dtls_counters relB "$PID_B" "$T/relB.log")
ss_diag "$COUNTERS"
ss_check "it is counted, and no association was established" \
	eval 'printf "%s\n" "$COUNTERS" | grep -q "identity_wrong_address=[1-9]" &&
		[ "$(ss_count "$T/relB.log" "association established")" = 0 ]'
phase_end "$T/relB.log" "$T/relA1.log"
ss_stop "$PID_A"

# ---- 3-4: its own identity, from its own address, gets in -----------------
dtls_relay relA "$T/relA.log" "$T/a.conf" $B && PID_A=$SS_RELAY_PID
ss_check "A presenting identity a from $A (bound there) establishes an association" \
	dtls_up "$T/relB.log" 1
ss_check "a search from A is answered on B" dtls_search cli srv "$T/search1"
phase_end "$T/relB.log" "$T/relA.log"

# ---- 5-6: revocation: a's line removed from B's file, same path ------------
grep -v '^a:' "$T/all.psk" >"$T/b-side.psk"
reload "$PID_B" "$T/relB.log"
ss_check "after B's reload (as nobody) the association with A is closed at once" \
	settle "$T/relB.log" "association no longer valid after a reload.*PEER=$A|association no longer valid after a reload.*peer=$A" 1
ss_check "and A does not get back in: nothing crosses" no_search search2
phase_end "$T/relB.log" "$T/relA.log"

# ---- 7-9: a rotated key takes effect when both relays have reloaded it -----
psktool -u a -p "$T/new-a.psk" >/dev/null 2>&1
{ grep -v '^a:' "$T/all.psk"; cat "$T/new-a.psk"; } >"$T/b-side.psk"
N_MISMATCH=$(ss_count "$T/relB.log" 'likely a key mismatch')
reload "$PID_B" "$T/relB.log"
N_A=$(ss_count "$T/relA.log" 'association established')
ss_check "with a's new key on B only, A (old key) cannot connect" \
	eval 'settle "$T/relB.log" "likely a key mismatch" $((N_MISMATCH + 1)) && no_search search3'
{ grep -v '^a:' "$T/all.psk"; cat "$T/new-a.psk"; } >"$T/a-side.psk"
reload "$PID_A" "$T/relA.log"
ss_check "once A reloaded the new key too, the association is back and a search crosses, no restart" \
	eval 'dtls_up "$T/relA.log" $((N_A + 1)) && dtls_search cli srv "$T/search4" &&
		kill -0 "$PID_A" && kill -0 "$PID_B"'
phase_end "$T/relB.log" "$T/relA.log" "$T/search4"
# ---- 9-10: revoked in allowed_peers: a changed setting restarts the instance -
dtls_conf "$T/b.conf" "psk_file = \"$T/b-side.psk\"; psk_identity = \"b\"; allowed_peers = [ \"c@$C\" ];"
N_UNLISTED=$(ss_count "$T/relB.log" 'unknown or unlisted PSK identity')
reload "$PID_B" "$T/relB.log"
ss_check "a removed from B's allowed_peers: A is refused and nothing crosses, no restart" \
	eval 'settle "$T/relB.log" "unknown or unlisted PSK identity.* identity=a" $((N_UNLISTED + 1)) &&
		no_search search4b && kill -0 "$PID_B"'
phase_end "$T/relB.log" "$T/relA.log"
ss_check "psk: both relays exit 0 on SIGTERM (no sanitizer report)" eval 'ss_stop "$PID_A" && ss_stop "$PID_B"'

# ---- 11-15: an X.509 CA rotated under the same paths ------------------------
dtls_ca "$T" ca1 && dtls_ca "$T" ca2 && dtls_cert "$T" ca1 relay-a && dtls_cert "$T" ca1 relay-b &&
	mkdir -p "$T/ca2" && dtls_cert "$T" ca2 relay-a2 && dtls_cert "$T" ca2 relay-b2 ||
	{ echo "Bail out! certtool could not make the test certificates"; exit 1; }
for r in a b; do
	cp "$T/ca1.pem" "$T/$r-ca.pem" && cp "$T/relay-$r.pem" "$T/$r-cert.pem" && cp "$T/relay-$r.key" "$T/$r-key.pem"
	dtls_conf "$T/x$r.conf" "mode = \"x509\"; ca_file = \"$T/$r-ca.pem\"; cert_file = \"$T/$r-cert.pem\"; key_file = \"$T/$r-key.pem\";"
done
nobody_owns "$T/b-ca.pem" "$T/b-cert.pem" "$T/b-key.pem"
ss_start_relay relB "$T/relBx.log" --config "$T/xb.conf" -t eth0 -l debug --user nobody --other-relays $A && PID_B=$SS_RELAY_PID
dtls_relay relA "$T/relAx.log" "$T/xa.conf" $B && PID_A=$SS_RELAY_PID
ss_check "x509: A and B (certificates of CA 1) establish an association" \
	eval 'dtls_up "$T/relAx.log" 1 && dtls_up "$T/relBx.log" 1'
rotate() { # SIDE: CA 2 and a certificate of CA 2 under the same paths
	cat "$T/ca2.pem" >"$T/$1-ca.pem" && cat "$T/relay-${1}2.pem" >"$T/$1-cert.pem" &&
		cat "$T/relay-${1}2.key" >"$T/$1-key.pem"
}
rotate b
reload "$PID_B" "$T/relBx.log"
ss_check "x509: B rotated to CA 2 and reloaded: A's certificate of CA 1 is no longer valid, the association is closed" \
	settle "$T/relBx.log" "association no longer valid after a reload.*ca_file" 1
ss_check "x509: and nothing crosses while A still holds CA 1" no_search search5
rotate a
N_A=$(ss_count "$T/relAx.log" 'association established')
reload "$PID_A" "$T/relAx.log"
ss_check "x509: once A rotated and reloaded too, the association is back and a search crosses" \
	eval 'dtls_up "$T/relAx.log" $((N_A + 1)) && dtls_search cli srv "$T/search6"'
phase_end "$T/relBx.log" "$T/relAx.log"
# Under --enable-sanitizers a leak or an error report makes the exit non-zero
# (credentials swapped while associations still held the old ones).
ss_check "both relays exit 0 on SIGTERM (no sanitizer report)" eval 'ss_stop "$PID_A" && ss_stop "$PID_B"'
phase_end "$T/relBx.log" "$T/relAx.log"
[ "$SS_TAP_FAILED" = 0 ]
