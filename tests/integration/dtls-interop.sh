#!/bin/sh
# The dtls transport against other DTLS 1.2 implementations:
#
#   segment A 10.201.1.0/24                  segment B 10.201.2.0/24
#   relA .2   obsA .20   gsrv .40            osl .30 (openssl s_client)
#
# openssl s_client (PSK, then X.509) handshakes with relay A and sends a
# udp-mesh message through the association, which A emits on segment A;
# relay A, as the client (lower address), handshakes with gnutls-serv --udp.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dtls-lib.sh"
ss_init
dtls_need_tools
command -v openssl >/dev/null 2>&1 || ss_skip_all "openssl not found (Debian package openssl)"
command -v gnutls-serv >/dev/null 2>&1 || ss_skip_all "gnutls-serv not found (Debian package gnutls-bin)"
ss_plan 5

T=$SS_TMP
A=10.201.1.2 OSL=10.201.2.30 GSRV=10.201.1.40

ss_router r
ss_segment r 1
ss_segment r 2
ss_host relA r 1 2
ss_host obsA r 1 20
ss_host gsrv r 1 40
ss_host osl r 2 30
dtls_tools "$T"
python3 "$T/attack.py" frame $OSL 45100 >"$T/frame"

dtls_psk "$T/mesh.psk" relays
PSK_HEX=$(sed -n 's/^relays://p' "$T/mesh.psk")
dtls_ca "$T" mesh-ca && dtls_cert "$T" mesh-ca relay-a && dtls_cert "$T" mesh-ca client-o ||
	{ echo "Bail out! certtool could not make the test certificates"; exit 1; }
# keepalive 5: openssl sends none, and must not be dropped as silent mid-test.
DTLS_KEEPALIVE=5
dtls_conf "$T/psk.conf" "psk_file = \"$T/mesh.psk\";"
dtls_conf "$T/x509.conf" "mode = \"x509\"; ca_file = \"$T/mesh-ca.pem\"; cert_file = \"$T/relay-a.pem\"; key_file = \"$T/relay-a.key\";"

PHASE_FAILED=0
phase_end() {
	[ "$SS_TAP_FAILED" = "$PHASE_FAILED" ] && return 0
	PHASE_FAILED=$SS_TAP_FAILED
	for f in "$@"; do ss_dump "$f"; done
}

# s_client TAG ARGS...: openssl s_client -dtls1_2 in osl, its standard input
# a fifo; once its handshake is done, the udp-mesh message is written to it.
# Points: the handshake, and the frame seen on segment A.
s_client() {
	_tag=$1
	shift
	mkfifo "$T/$_tag.in"
	ss_listen obsA "$T/$_tag.rx" --timeout 6
	_lp=$SS_LISTEN_PID
	ss_bg osl "$T/$_tag.out" sh -c "exec openssl s_client -dtls1_2 -connect $A:$DTLS_PORT -ign_eof $* <'$T/$_tag.in'"
	_cp=$SS_LAST_PID
	exec 3>"$T/$_tag.in"
	if ss_wait_for "$T/$_tag.out" 'Cipher is [A-Z]' 1 8 && dtls_up "$T/relA-$_tag.log" 1 5; then
		ss_ok "openssl s_client -dtls1_2 ($_tag) handshakes with the relay"
	else
		ss_fail "openssl s_client -dtls1_2 ($_tag) handshakes with the relay"
	fi
	cat "$T/frame" >&3
	ss_wait_for "$T/$_tag.rx" "^RX src=10\.201\.2\.30:45100 " 1 5
	ss_check "a frame openssl ($_tag) sends through the association is emitted on segment A" \
		[ "$(ss_count "$T/$_tag.rx" '^RX src=10\.201\.2\.30:45100 ')" = 1 ]
	exec 3>&-
	kill "$_cp" 2>/dev/null
	wait "$_lp" "$_cp" 2>/dev/null
	phase_end "$T/$_tag.out" "$T/$_tag.rx" "$T/relA-$_tag.log"
}

# ---- 1-2: openssl, PSK --------------------------------------------------------
dtls_relay relA "$T/relA-psk.log" "$T/psk.conf" $OSL && PID_A=$SS_RELAY_PID
s_client psk -psk "$PSK_HEX" -psk_identity relays -cipher PSK-AES128-GCM-SHA256
ss_stop "$PID_A"

# ---- 3-4: openssl, X.509 ------------------------------------------------------
dtls_relay relA "$T/relA-x509.log" "$T/x509.conf" $OSL && PID_A=$SS_RELAY_PID
s_client x509 -cert "$T/client-o.pem" -key "$T/client-o.key" -CAfile "$T/mesh-ca.pem"
ss_stop "$PID_A"

# ---- 5: gnutls-serv as the server -----------------------------------------------
ss_bg gsrv "$T/gsrv.out" gnutls-serv --udp -p $DTLS_PORT --pskpasswd "$T/mesh.psk" \
	--priority "NORMAL:-VERS-ALL:+VERS-DTLS1.2:+PSK"
PID_G=$SS_LAST_PID
ss_wait_for "$T/gsrv.out" 'ready' 1 5
dtls_relay relA "$T/relA-gnutls.log" "$T/psk.conf" $GSRV && PID_A=$SS_RELAY_PID
ss_check "the relay as client handshakes with gnutls-serv --udp (PSK)" \
	ss_wait_for "$T/relA-gnutls.log" "association established peer=10\.201\.1\.40:$DTLS_PORT" 1 8
phase_end "$T/gsrv.out" "$T/relA-gnutls.log"
ss_stop "$PID_A"
kill "$PID_G" 2>/dev/null
wait "$PID_G" 2>/dev/null
[ "$SS_TAP_FAILED" = 0 ]
