#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Hostile input through a real node (issue 13). A mixed lab: tunnel VIPs
# (10.100.0.10, fd00:100::10) and FULLNAT VIPs (10.100.0.20,
# fd00:100::20), TCP and UDP each. The client sends 1,000 frames of each
# kind of bad input, crafted by tools/xlb-hostile.py on a raw socket, one
# kind at a time: lengths that disagree with trailers after the packet,
# martian sources, our own addresses as source, source port 0, IPv6
# routing headers with segments left, forged ICMP errors (about another
# address's flow or a flow never seen), 802.1Q and QinQ frames, spoofed
# pure ACKs to the FULLNAT VIPs, IPIP to the reals from a foreign outer
# source. tcpdump on every real captures what reaches it.
#
# Asserted: nothing captured on a real during a kind's window (plus a
# grace), and outside the windows only the normal traffic's flows
# (tunnel: the client's own packets to the VIPs; FULLNAT: flows from the
# local addresses that began with a SYN); every kind counted under its
# reason in `lbctl --json stats` (IPIP: by the reals' decap program) with
# no forward; no FULLNAT session made; xlbd still running; and right
# after, two connections held open through it all still answer and
# every new request to every VIP is answered.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
LAB_MODE=mixed
e2e_begin "$@"

PER_KIND=1000
HOSTILE=("$LAB_PYTHON" "$LAB_ROOT/tools/xlb-hostile.py")
# Each kind and the reasons its frames must be counted under (the names
# of include/xlb_abi.h).
KINDS=(trunc martian ours port0 rthdr icmp vlan qinq ack ipip)
declare -A WANT=(
	[trunc]="drop_truncated drop_bad_header"
	[martian]="drop_src_martian"
	[ours]="drop_src_ours"
	[port0]="drop_src_port_zero"
	[rthdr]="drop_ipv6_routing"
	[icmp]="drop_icmp_mismatch drop_icmp_unmatched"
	[vlan]="pass_vlan_other"
	[qinq]="pass_vlan_other"
	[ack]="drop_nat_not_syn"
	# Not for a VIP: the node's kernel routes it to the real, whose
	# decap program must refuse it (decap_reason below).
	[ipip]="pass_not_vip"
)

for v in "$VIP_TCP4" "$VIP_UDP4"; do
	lab_add_vip "$v" maglev "100 100 100" 4
done
for v in "$VIP_TCP6" "$VIP_UDP6"; do
	lab_add_vip "$v" maglev "100 100 100" 6
done
for v in "$NAT_TCP4" "$NAT_UDP4"; do
	lab_add_vip "$v" maglev "100 100 100" 4 --mode fullnat
done
for v in "$NAT_TCP6" "$NAT_UDP6"; do
	lab_add_vip "$v" maglev "100 100 100" 6 --mode fullnat
done

# What reaches each real, after its decap program: inbound only.
for i in 1 2 3; do
	lab_spawn "real$i" "tcpdump-real$i" tcpdump -i eth0 -Q in -n -U \
		-s 256 -w "$LAB_RUN/real$i.pcap"
done
for i in 1 2 3; do
	wait_until 10 grep -q "listening on" "$LAB_RUN/tcpdump-real$i.log" ||
		lab_die "tcpdump on real$i: $(cat "$LAB_RUN/tcpdump-real$i.log")"
done

# Two connections held open (idle) through the bad input: their flows
# are the ones the forged ICMP errors quote to the wrong address.
held=$LAB_RUN/held.txt
lab_exec client "${HOSTILE[@]}" hold --vip "$LAB_VIP4" \
	--vip "$LAB_NAT_VIP4" --ready-file "$held" --go-file "$LAB_RUN/held.go" \
	>"$LAB_RUN/hold.json" &
hold_pid=$!
wait_until 10 test -s "$held" || lab_die "the held connections did not open"
echo "  ..    held: $(tr '\n' ' ' <"$held")"
sleep 0.5

smac=$(lab_exec client cat /sys/class/net/eth0/address)
dmac=$(lab_exec xlb cat /sys/class/net/eth0/address)
SENDOPTS=(--ifname eth0 --smac "$smac" --dmac "$dmac" --held "$held"
	--count "$PER_KIND")

# delta BEFORE AFTER NAME...: how much the named reasons moved together.
delta() {
	"$LAB_PYTHON" - "$@" <<'EOF'
import json, sys
b = json.load(open(sys.argv[1])).get("reasons", {})
a = json.load(open(sys.argv[2])).get("reasons", {})
print(sum(a.get(n, 0) - b.get(n, 0) for n in sys.argv[3:]))
EOF
}

# moved BEFORE AFTER: every reason that moved, "name=+n ...".
moved() {
	"$LAB_PYTHON" - "$@" <<'EOF'
import json, sys
b = json.load(open(sys.argv[1])).get("reasons", {})
a = json.load(open(sys.argv[2])).get("reasons", {})
print(" ".join(f"{n}=+{a[n] - b.get(n, 0)}" for n in a
               if a[n] != b.get(n, 0)))
EOF
}

# decap_reason NAME: the reals' decap programs' counter NAME, summed.
decap_reason() {
	local i n sum=0
	for i in 1 2 3; do
		n=$(lab_exec "real$i" "${HOSTILE[@]}" decap-stats \
			--abi "$LAB_ROOT/include/xlb_abi.h" --dev eth0 |
			jget /dev/stdin "$1" 0)
		sum=$((sum + n))
	done
	echo "$sum"
}

sessions() {
	lab_lbctl --json stats | jget /dev/stdin fullnat.sessions 0
}

windows=$LAB_RUN/windows.jsonl
: >"$windows"
sessions0=$(sessions)
for kind in "${KINDS[@]}"; do
	stats "before-$kind"
	if [[ $kind == ipip ]]; then
		decap0=$(decap_reason drop_source_not_allowed)
	fi
	lab_exec client "${HOSTILE[@]}" send "$kind" "${SENDOPTS[@]}" \
		>"$LAB_RUN/send-$kind.json"
	cat "$LAB_RUN/send-$kind.json" >>"$windows"
	# The window's grace: what was sent is through the node by then.
	sleep 0.5
	stats "after-$kind"
	sent=$(jget "$LAB_RUN/send-$kind.json" sent 0)
	b=$LAB_RUN/before-$kind.json
	a=$LAB_RUN/after-$kind.json
	echo "  ..    $kind: sent $sent; reasons $(moved "$b" "$a")"
	check_range "$kind: frames sent" "$sent" "$PER_KIND" 1000000
	# shellcheck disable=SC2086 # a list of names
	check_range "$kind: counted under ${WANT[$kind]}" \
		"$(delta "$b" "$a" ${WANT[$kind]})" "$sent" $((sent + 50))
	check_eq "$kind: forwarded by XDP" \
		"$(delta "$b" "$a" forward_tx forward_redirect)" 0
	if [[ $kind == ipip ]]; then
		n=$(($(decap_reason drop_source_not_allowed) - decap0))
		check_eq "ipip: the reals' decap counted drop_source_not_allowed" \
			"$n" "$sent"
	fi
	sleep 0.5
done
check_eq "FULLNAT sessions made by the bad input" \
	"$(($(sessions) - sessions0))" 0

# Normal traffic right after: the held connections and new ones.
check "xlbd still running" kill -0 "$(cat "$LAB_RUN/xlbd.pid")"
check "xlbd answers" lab_lbctl ping
touch "$LAB_RUN/held.go"
rc=0
wait "$hold_pid" || rc=$?
echo "  ..    held after: $(cut -c1-300 "$LAB_RUN/hold.json")"
check_eq "held connections: still answered by their real" \
	"$(jget "$LAB_RUN/hold.json" ok 0)" 2
spread tun-tcp4 --vip "$LAB_VIP4" --count 100
spread tun-udp4 --vip "$LAB_VIP4" --port "$LAB_UDP_PORT" --udp --count 100
spread tun-tcp6 --vip "$LAB_VIP6" --count 100
spread nat-tcp4 --vip "$LAB_NAT_VIP4" --count 100
spread nat-udp4 --vip "$LAB_NAT_VIP4" --port "$LAB_UDP_PORT" --udp \
	--count 100
spread nat-tcp6 --vip "$LAB_NAT_VIP6" --count 100
for n in tun-tcp4 tun-udp4 tun-tcp6 nat-tcp4 nat-udp4 nat-tcp6; do
	check_eq "$n: all answered" "$(jget "$LAB_RUN/$n.json" ok 0)" 100
done

tcpdump_gone() {
	! kill -0 "$1" 2>/dev/null
}

# What the reals received, judged. tcpdump may lag behind its socket on
# a busy machine, and packets it has not read when it is stopped are in
# no file and counted nowhere: stop it only once its files have stopped
# growing.
pcaps_size() {
	stat -c %s "$LAB_RUN"/real[123].pcap | awk '{ n += $1 } END { print n }'
}
pcaps_settled() {
	local a
	a=$(pcaps_size)
	sleep 0.5
	[[ $(pcaps_size) == "$a" ]]
}
wait_until 20 pcaps_settled || true
for i in 1 2 3; do
	kill -INT "$(cat "$LAB_RUN/tcpdump-real$i.pid")"
done
for i in 1 2 3; do
	wait_until 10 grep -q "packets captured" \
		"$LAB_RUN/tcpdump-real$i.log" || true
	# Its statistics come before its file is closed: read the file
	# only once tcpdump is gone.
	wait_until 10 tcpdump_gone "$(cat "$LAB_RUN/tcpdump-real$i.pid")" ||
		true
	dropped=$(awk '/dropped by kernel/ { print $1 }' \
		"$LAB_RUN/tcpdump-real$i.log")
	check_eq "real$i: capture complete (dropped by kernel)" \
		"${dropped:-missing}" 0
done
"${HOSTILE[@]}" judge --windows "$windows" "$LAB_RUN"/real[123].pcap \
	>"$LAB_RUN/judge.json"
J=$LAB_RUN/judge.json
echo "  ..    judged: $(jget "$J" legit) legitimate packets" \
	"($(jget "$J" legit_tunnel) tunnel, $(jget "$J" legit_fullnat)" \
	"FULLNAT), $(jget "$J" ignored) ARP/ND"
for kind in "${KINDS[@]}"; do
	n=$(jget "$J" "kinds.$kind.reached")
	check_eq "$kind: packets that reached a real" "$n" 0
	((n == 0)) || "$LAB_PYTHON" -c 'import json, sys
for s in json.load(open(sys.argv[1]))["kinds"][sys.argv[2]]["samples"]:
    print("        e.g.", s)' "$J" "$kind"
done
n=$(jget "$J" other.reached)
check_eq "outside the windows: packets not of a normal flow" "$n" 0
((n == 0)) || "$LAB_PYTHON" -c 'import json, sys
for s in json.load(open(sys.argv[1]))["other"]["samples"]:
    print("        e.g.", s)' "$J"
check_range "the captures saw the normal traffic (tunnel)" \
	"$(jget "$J" legit_tunnel)" 500 1000000
check_range "the captures saw the normal traffic (FULLNAT)" \
	"$(jget "$J" legit_fullnat)" 500 1000000

e2e_end
