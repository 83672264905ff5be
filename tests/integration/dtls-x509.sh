#!/bin/sh
# The dtls transport with X.509 certificates made at test time (certtool):
#
#   segment A 10.201.1.0/24      segment B 10.201.2.0/24     segment C 10.201.3.0/24
#   cli .10                      srv .10                     srvC .10
#   relA .2 ───────── dtls :7125 ─ relB .2 ─────────────────── relC .2
#
# Mutual authentication with a CA and a list of allowed names or pins, bound
# to addresses; a certificate from a foreign CA, from the right CA under a
# name not listed, or a listed one presented from another relay's address,
# is refused and nothing crosses.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dtls-lib.sh"
ss_init
dtls_need_tools
ss_plan 8

T=$SS_TMP
A=10.201.1.2 B=10.201.2.2 C=10.201.3.2

ss_router r
for s in 1 2 3; do ss_segment r $s; done
ss_host cli r 1 10
ss_host relA r 1 2
ss_host relB r 2 2
ss_host srv r 2 10
ss_host relC r 3 2
ss_host srvC r 3 10

dtls_ca "$T" mesh-ca && dtls_ca "$T" foreign-ca &&
	dtls_cert "$T" mesh-ca relay-a && dtls_cert "$T" mesh-ca relay-b && dtls_cert "$T" mesh-ca relay-c &&
	dtls_cert "$T" mesh-ca relay-x && dtls_cert "$T" foreign-ca relay-f ||
	{ echo "Bail out! certtool could not make the test certificates"; exit 1; }
# The SPKI pin of relay-c, as certtool prints it.
PIN_C=$(certtool --certificate-info --infile "$T/relay-c.pem" | sed -n 's/^[[:space:]]*\(pin-sha256:[A-Za-z0-9+/=]*\).*/\1/p' | head -n 1)
# Each bound to its relay's address (relay-b by a bare name: any address).
ALLOWED="allowed_peers = [ \"relay-a@$A\", \"relay-b\", \"$PIN_C@$C\" ];"
conf() { # NAME CA CERT
	dtls_conf "$T/$1.conf" "mode = \"x509\"; ca_file = \"$T/$2.pem\"; cert_file = \"$T/$3.pem\"; key_file = \"$T/$3.key\"; $ALLOWED"
}
conf a mesh-ca relay-a
conf b mesh-ca relay-b
conf c mesh-ca relay-c
conf foreign foreign-ca relay-f
conf unlisted mesh-ca relay-x
conf c-as-a mesh-ca relay-a

PHASE_FAILED=0
phase_end() {
	[ "$SS_TAP_FAILED" = "$PHASE_FAILED" ] && return 0
	PHASE_FAILED=$SS_TAP_FAILED
	for f in "$@"; do ss_dump "$f"; done
}

# ---- 1-2: two relays --------------------------------------------------------
up2() {
	dtls_relay relA "$T/relA.log" "$T/a.conf" $B && PID_A=$SS_RELAY_PID &&
		dtls_relay relB "$T/relB.log" "$T/b.conf" $A && PID_B=$SS_RELAY_PID &&
		dtls_up "$T/relA.log" 1 && dtls_up "$T/relB.log" 1
}
ss_check "relays A and B authenticate each other's certificates and establish an association" up2
ss_check "a PVA search from A is answered on B" dtls_search cli srv "$T/search1"
phase_end "$T/relA.log" "$T/relB.log" "$T/search1"

# ---- 3-4: a foreign CA ---------------------------------------------------------
ss_stop "$PID_B"
dtls_relay relB "$T/relB2.log" "$T/foreign.conf" $A && PID_B=$SS_RELAY_PID
refused() { # LOG: a refusal logged, no association
	ss_wait_for "$1" 'peer certificate refused|handshake failed' 1 10 &&
		[ "$(ss_count "$1" 'association established')" = 0 ]
}
ss_check "a relay with a certificate from a foreign CA is refused (A logs the refusal)" \
	eval 'ss_wait_for "$T/relA.log" "peer certificate refused" 1 10 && refused "$T/relB2.log"'
ss_check "nothing crosses to the relay with the foreign CA" eval '! dtls_search cli srv "$T/search2"'
phase_end "$T/relA.log" "$T/relB2.log"

# ---- 5: the right CA, a name not listed ----------------------------------------------
ss_stop "$PID_B"
BEFORE=$(ss_count "$T/relA.log" 'not in allowed_peers')
dtls_relay relB "$T/relB3.log" "$T/unlisted.conf" $A && PID_B=$SS_RELAY_PID
ss_check "a certificate of the mesh CA under a name not in allowed_peers is refused" \
	eval 'ss_wait_for "$T/relA.log" "not in allowed_peers" $((BEFORE + 1)) 10 && [ "$(ss_count "$T/relB3.log" "association established")" = 0 ]'
phase_end "$T/relA.log" "$T/relB3.log"

# ---- 6: relay-a's certificate (and key) used from C's address -------------------------
ss_stop "$PID_B"
dtls_relay relB "$T/relB5.log" "$T/b.conf" $A $C && PID_B=$SS_RELAY_PID
dtls_relay relC "$T/relC0.log" "$T/c-as-a.conf" $B && PID_C=$SS_RELAY_PID
ss_check "relay-a's certificate presented from $C, where allowed_peers does not bind it, is refused" \
	eval 'ss_wait_for "$T/relB5.log" "identity authenticated from an address it is not bound to.*bound_to=$A" 1 10 &&
		[ "$(ss_count "$T/relC0.log" "association established")" = 0 ]'
phase_end "$T/relB5.log" "$T/relC0.log"
ss_stop "$PID_C"
ss_stop "$PID_B"

# ---- 7-8: three relays, C allowed by its SPKI pin --------------------------------------
ss_stop "$PID_A"
dtls_relay relA "$T/relA4.log" "$T/a.conf" $B $C && PID_A=$SS_RELAY_PID
dtls_relay relB "$T/relB4.log" "$T/b.conf" $A $C && PID_B=$SS_RELAY_PID
dtls_relay relC "$T/relC4.log" "$T/c.conf" $A $B && PID_C=$SS_RELAY_PID
three_up() { dtls_up "$T/relA4.log" 2 && dtls_up "$T/relB4.log" 2 && dtls_up "$T/relC4.log" 2; }
ss_check "three relays (C allowed by its SPKI pin ${PIN_C:-none}) establish two associations each" three_up
ss_check "three relays: a search from C is answered on B" dtls_search srvC srv "$T/search3"
phase_end "$T/relA4.log" "$T/relB4.log" "$T/relC4.log"

ss_stop "$PID_A"; ss_stop "$PID_B"; ss_stop "$PID_C"
[ "$SS_TAP_FAILED" = 0 ]
