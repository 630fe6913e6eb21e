#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Path MTU discovery through FULLNAT. real1 sits behind two routers whose
# link has an MTU of 1400 while every other link carries 1500 or more
# (LAB_PMTU_ROUTERS=1), so neither end can know the path's MTU.
# - Download: real1 sends full-size segments; the router next to it
#   answers "fragmentation needed" / "packet too big" to real1 directly.
#   The 1 MB response arrives, and real1 has learnt the path's MTU.
# - Upload: the client sends full-size segments to the VIP; the router
#   next to XLB answers XLB's local address, and XLB must send that error
#   on to the client, from the VIP, quoting client -> VIP. The 1 MB
#   request arrives whole, and the client has learnt 1400 for the VIP.
# IPv4 and IPv6 (where routers never fragment, only say so).
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
LAB_MODE=fullnat
LAB_PMTU_ROUTERS=1
e2e_begin "$@"

lab_lbctl vip add "$NAT_TCP4" --mode fullnat >/dev/null
lab_lbctl real add "$NAT_TCP4" "$(real_addr4 1)" >/dev/null
lab_lbctl vip add "$NAT_TCP6" --mode fullnat >/dev/null
lab_lbctl real add "$NAT_TCP6" "$(real_addr6 1)" >/dev/null

# route_mtu NODE ADDR: the path MTU NODE has learnt towards ADDR, or none.
route_mtu() {
	lab_exec "$1" ip route get "$2" |
		awk '{ for (i = 1; i < NF; i++) if ($i == "mtu") m = $(i + 1) }
			END { print m ? m : "none" }'
}

for v in 4 6; do
	if [[ $v == 4 ]]; then
		url="http://$LAB_NAT_VIP4:$LAB_TCP_PORT"
		vip=$LAB_NAT_VIP4 laddrs=$LAB_LADDRS4
	else
		url="http://[$LAB_NAT_VIP6]:$LAB_TCP_PORT"
		vip=$LAB_NAT_VIP6 laddrs=$LAB_LADDRS6
	fi
	size=$(lab_exec client curl -sS --max-time 10 -o /dev/null \
		-w '%{size_download}' "$url/bytes/1000000" 2>&1 || true)
	check_eq "IPv$v: 1 MB download through a 1400-byte link" "$size" 1000000
	learnt=""
	for a in $laddrs; do
		learnt+=" $(route_mtu real1 "$a")"
	done
	check "IPv$v: real1 learnt 1400 towards a local address:$learnt" \
		grep -qw 1400 <<<"$learnt"
	# Forget it, so that real1 offers a full-size MSS again and the
	# client's segments are the ones too large.
	lab_exec real1 ip -"$v" route flush cache
	body=$(head -c 1000000 /dev/zero | lab_exec client curl -sS \
		--max-time 10 -H 'Expect:' --data-binary @- "$url/" 2>&1 || true)
	check_eq "IPv$v: 1 MB upload through a 1400-byte link" "$body" \
		"real1 1000000"
	check_eq "IPv$v: the client learnt the path's MTU towards the VIP" \
		"$(route_mtu client "$vip")" 1400
done

stats stats
check_eq "ICMP errors with no session" \
	"$(reason "$LAB_RUN/stats.json" drop_icmp_unmatched)" 0

e2e_end
