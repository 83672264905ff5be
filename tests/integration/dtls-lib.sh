# Helpers of the dtls integration tests (POSIX sh), sourced after lib.sh:
# keys and certificates made at test time with gnutls-bin's psktool and
# certtool, relay configurations with a dtls instance, and small Python
# programs for what no tool does (a spoofed sender, a ClientHello flood).

DTLS_PORT=7125

# Skips unless gnutls-bin's tools (and python3, for the attacker) exist.
dtls_need_tools() {
	for _t in psktool certtool python3; do
		command -v "$_t" >/dev/null 2>&1 || ss_skip_all "$_t not found (Debian packages gnutls-bin, python3)"
	done
}

# dtls_psk FILE IDENTITY: a new random key in psktool's format.
dtls_psk() {
	psktool -u "$2" -p "$1" >/dev/null 2>&1
}

# dtls_ca DIR NAME: a CA key and self-signed certificate DIR/NAME.{key,pem}.
dtls_ca() {
	printf 'cn = "%s"\nca\ncert_signing_key\nexpiration_days = 30\n' "$2" >"$1/$2.tmpl"
	certtool --generate-privkey --key-type ecdsa --outfile "$1/$2.key" 2>/dev/null &&
		certtool --generate-self-signed --load-privkey "$1/$2.key" --template "$1/$2.tmpl" \
			--outfile "$1/$2.pem" >/dev/null 2>&1
}

# dtls_cert DIR CA NAME: DIR/NAME.{key,pem}, signed by CA, named NAME (CN
# and DNS subjectAltName), usable as TLS client and server.
dtls_cert() {
	printf 'cn = "%s"\ndns_name = "%s"\ntls_www_client\ntls_www_server\nsigning_key\nexpiration_days = 30\n' \
		"$3" "$3" >"$1/$3.tmpl"
	certtool --generate-privkey --key-type ecdsa --outfile "$1/$3.key" 2>/dev/null &&
		certtool --generate-certificate --load-privkey "$1/$3.key" --load-ca-certificate "$1/$2.pem" \
			--load-ca-privkey "$1/$2.key" --template "$1/$3.tmpl" --outfile "$1/$3.pem" >/dev/null 2>&1
}

# dtls_conf FILE DTLS-SETTINGS: a relay configuration whose only transport
# is a dtls instance "mesh" with DTLS-SETTINGS (libconfig text, ';' ended).
# Short timers so that failures and healing show within seconds.
dtls_conf() {
	cat >"$1" <<EOF2
version = 1;
instances = (
  { name = "mac-self"; plugin = "mac-self"; },
  { name = "ip-self"; plugin = "ip-self"; },
  { name = "mesh"; plugin = "dtls"; keepalive = ${DTLS_KEEPALIVE:-1}; handshake_timeout = ${DTLS_HANDSHAKE_TIMEOUT:-4}; $2 }
);
outbound = [ "mac-self", "ip-self" ];
inbound = [ ];
transports = [ "mesh" ];
EOF2
}

# dtls_relay NAME LOG CONF PEER...: a relay on eth0 of NAME.
dtls_relay() {
	_n=$1 _l=$2 _c=$3
	shift 3
	ss_start_relay "$_n" "$_l" --config "$_c" -t eth0 -l debug --other-relays "$@"
}

# dtls_up LOG N [SECONDS]: LOG shows N associations established.
dtls_up() { ss_wait_for "$1" 'association established' "$2" "${3:-10}"; }

# dtls_search FROM SRV OUT: a PVA search from namespace FROM answered by a
# responder in SRV (the answer goes to the client directly).
dtls_search() {
	ss_bg "$2" "$3.resp" "$SS_TOOLS/pva-responder" --channel ss:dtls:pv --timeout 4 --count 1
	_rp=$SS_LAST_PID
	ss_wait_for "$3.resp" '^READY' 1 5
	ss_in "$1" "$SS_TOOLS/pva-search" --channel ss:dtls:pv --timeout 3 >"$3"
	wait "$_rp"
	grep -q '^RESPONSE .*found=yes' "$3"
}

# dtls_pid PID: the relay process under the timeout(1) that ss_bg started
# (signals for the relay itself go there: timeout forwards only some).
dtls_pid() { pgrep -P "$1" | head -n 1; }

# dtls_kill9 PID: SIGKILL to the relay itself, as a crash would be.
dtls_kill9() {
	kill -KILL "$(dtls_pid "$1")"
	wait "$1" 2>/dev/null
	return 0
}

# dtls_counters NAME PID LOG: asks the relay for its counters (SIGUSR1) and
# prints the dtls instance's line once logged.
dtls_counters() {
	_before=$(ss_count "$3" 'instance counters.*instance=mesh')
	kill -USR1 "$(dtls_pid "$2")"
	ss_wait_for "$3" 'instance counters.*instance=mesh' $((_before + 1)) 5
	grep 'instance counters.*instance=mesh' "$3" | tail -n 1
}

# dtls_rss PID: resident set size in kB, from /proc.
dtls_rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$(dtls_pid "$1")/status"; }

# dtls_tools DIR: writes DIR/attack.py, the attacker's program:
#   attack.py spoof SRC_IP SRC_PORT DST_IP DST_PORT KIND COUNT
#     raw-socket datagrams with a forged source: KIND "ss" is a plaintext
#     udp-mesh message, "record" a DTLS application-data record of epoch 1
#     with random bytes, "hello" a ClientHello;
#   attack.py frame SRC_IP SRC_PORT
#     writes a udp-mesh message ("SS" + a broadcast frame to port 5076);
#   attack.py flood DST_IP DST_PORT SOCKETS ROUNDS
#     ClientHellos from SOCKETS source ports, each answering the cookie
#     exchange, ROUNDS times: verified half-open handshakes, as many as the
#     relay lets in.
dtls_tools() {
	cat >"$1/attack.py" <<'EOF2'
import os, socket, struct, sys

def record(ctype, epoch, seq, body, minor=0xfd):
    return struct.pack(">BBBH", ctype, 0xfe, minor, epoch) + seq.to_bytes(6, "big") + \
        struct.pack(">H", len(body)) + body

def client_hello(cookie=b"", seq=0):
    body = b"\xfe\xfd" + os.urandom(32) + b"\x00" + bytes([len(cookie)]) + cookie + \
        b"\x00\x02\x00\xa8" + b"\x01\x00"
    hs = bytes([1]) + len(body).to_bytes(3, "big") + struct.pack(">H", seq) + \
        b"\x00\x00\x00" + len(body).to_bytes(3, "big") + body
    return record(22, 0, seq, hs, 0xff)

def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff

def mesh_message(src, sport):
    eth = b"\xff" * 6 + b"\x02\x53\x53\x00\x00\x66" + b"\x08\x00"
    payload = b"ST" + b"\x00" * 6 + b"x" * 32
    udp = struct.pack("!HHHH", sport, 5076, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton("255.255.255.255"))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return b"SS" + eth + ip + udp

def spoof(src, sport, dst, dport, kind, count):
    if kind == "ss":
        data = mesh_message("10.201.1.66", 45999)
    elif kind == "record":
        data = record(23, 1, 1000, os.urandom(80))
    else:
        data = client_hello()
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for i in range(count):
        udp = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
        s.sendto(ip + udp, (dst, 0))

def flood(dst, dport, nsock, rounds):
    socks = []
    for _ in range(nsock):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.5)
        socks.append(s)
    verified = 0
    for _ in range(rounds):
        for s in socks:
            s.sendto(client_hello(), (dst, dport))
        for s in socks:
            try:
                r = s.recv(2048)
            except OSError:
                continue
            if len(r) > 28 and r[0] == 22 and r[13] == 3:
                cookie = r[28:28 + r[27]]
                s.sendto(client_hello(cookie, 1), (dst, dport))
                verified += 1
    print("FLOOD sent=%d verified=%d" % (nsock * rounds, verified))

if sys.argv[1] == "frame":
    sys.stdout.buffer.write(mesh_message(sys.argv[2], int(sys.argv[3])))
elif sys.argv[1] == "spoof":
    spoof(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), sys.argv[6], int(sys.argv[7]))
else:
    flood(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
EOF2
}
