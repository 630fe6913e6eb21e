#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# lbctl stats agrees with what the clients sent: UDP exactly (one packet
# and one new flow per request), TCP one new flow per connection and
# 4 to 10 packets each.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_begin "$@"

lab_add_vip "$VIP_TCP4" maglev "100 100 200" 4
lab_add_vip "$VIP_UDP4" maglev "100 100 200" 4

spread tcp --count 300
spread udp --udp --port "$LAB_UDP_PORT" --count 300
check_eq "TCP: all answered" "$(jget "$LAB_RUN/tcp.json" ok)" 300
check_eq "UDP: all answered" "$(jget "$LAB_RUN/udp.json" ok)" 300
stats stats
S=$LAB_RUN/stats.json

# TCP: a connection sends at least SYN, ACK, the request and FIN.
tcp=$(jget "$S" "vips[vip=$VIP_TCP4].packets")
check_range "TCP VIP packets" "$tcp" 1200 3000
# With the lab's queues pinned to CPUs (lab_pin_napi) a connection stays
# on one CPU, bar a rare retransmission timeout that rehashes it; without,
# it may be new once on every CPU.
slack() {
	if [[ $LAB_PINNED == 1 ]]; then
		echo $(($1 + $1 / 20))
	else
		echo $(($1 * NCPU))
	fi
}
check_range "TCP VIP new flows" \
	"$(jget "$S" "vips[vip=$VIP_TCP4].new_flows")" 300 "$(slack 300)"
sum=0
for i in 1 2 3; do
	real="vips[vip=$VIP_TCP4].reals[address=$(real_addr4 "$i")]"
	conns=$(jget "$LAB_RUN/tcp.json" "by_real.real$i" 0)
	check_range "TCP real$i new flows ($conns connections)" \
		"$(jget "$S" "$real.new_flows")" "$conns" "$(slack "$conns")"
	check_range "TCP real$i packets" "$(jget "$S" "$real.packets")" \
		$((conns * 4)) $((conns * 10))
	sum=$((sum + $(jget "$S" "$real.packets")))
done
check_eq "TCP: the reals' packets add up to the VIP's" "$sum" "$tcp"

# UDP: one datagram per request; a source port the kernel hands out
# twice is one flow, so new flows lie between the distinct ports and the
# requests.
udp=$(jget "$S" "vips[vip=$VIP_UDP4].packets")
check_eq "UDP VIP packets" "$udp" 300
check_range "UDP VIP new flows" \
	"$(jget "$S" "vips[vip=$VIP_UDP4].new_flows")" \
	"$(jget "$LAB_RUN/udp.json" source_ports)" 300
for i in 1 2 3; do
	real="vips[vip=$VIP_UDP4].reals[address=$(real_addr4 "$i")]"
	check_eq "UDP real$i packets == requests it answered" \
		"$(jget "$S" "$real.packets")" \
		"$(jget "$LAB_RUN/udp.json" "by_real.real$i" 0)"
done

# Every VIP packet was sent on, and nothing was dropped.
fwd=$(($(jget "$S" reasons.forward_tx 0) + $(jget "$S" reasons.forward_redirect 0)))
check_eq "packets forwarded" "$fwd" $((tcp + udp))
drops=$("$LAB_PYTHON" -c 'import json,sys
r = json.load(open(sys.argv[1]))["reasons"]
print(sum(v for k, v in r.items() if k.startswith("drop_")))' "$S")
check_eq "packets dropped" "$drops" 0
check_eq "packets passed for want of a neighbour entry" \
	"$(jget "$S" reasons.pass_no_neighbour 0)" 0

e2e_end
