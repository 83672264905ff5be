#!/bin/sh
# Does a frame sent with PACKET_QDISC_BYPASS reach the host's other packet
# sockets (tcpdump, another relay's capture) on the same interface?  As
# root; makes two namespaces joined by a veth pair and deletes them.
# Prints, for bypass off and on, how many of 5 frames a local tap saw.
# (python3: a socket option test needs no build.)
set -e
ID=ssbp$$
A=$ID-a B=$ID-b
trap 'ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null' EXIT
ip netns add $A
ip netns add $B
ip -n $A link add veth0 type veth peer name veth1 netns $B
ip -n $A link set veth0 up
ip -n $B link set veth1 up
for bypass in 0 1; do
	ip netns exec $A timeout 10 python3 - "$bypass" <<'PY'
import select, socket, sys
SOL_PACKET, PACKET_QDISC_BYPASS, ETH_P_ALL = 263, 20, 3
bypass = int(sys.argv[1])
tap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
tap.bind(("veth0", 0))
out = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
if bypass:
    out.setsockopt(SOL_PACKET, PACKET_QDISC_BYPASS, 1)
out.bind(("veth0", 0))
mark = b"BYPASSTEST"
# Broadcast, a locally administered source, the IEEE local-experimental ethertype.
frame = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + b"\x88\xb5" + mark + bytes(40)
for _ in range(5):
    out.send(frame)
seen = 0
while select.select([tap], [], [], 0.2)[0]:
    seen += mark in tap.recv(2048)
print("PACKET_QDISC_BYPASS=%d: a local tap saw %d of 5 frames" % (bypass, seen))
PY
done
