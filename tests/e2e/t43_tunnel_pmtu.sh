#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Path MTU through tunnel VIPs with the same MTU (1500) on the client's
# and the reals' links, the normal case with no larger underlay: every
# full-size client segment is 20 (IPIP) or 40 (IP6IP6) bytes too big once
# encapsulated. XLB answers "fragmentation needed" / "packet too big" from
# the VIP with 1480 / 1460; the client learns it, and 1 MB uploads
# complete, as do 1 MB downloads (the reals answer the client directly).
# Then the same over GUE (8 bytes more: 1472 / 1452).
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
LAB_TUNNEL_MTU=1500
e2e_begin "$@"

lab_add_vip "$VIP_TCP4" maglev "100 100 100" 4
lab_add_vip "$VIP_TCP6" maglev "100 100 100" 6
# XLB's errors leave by XDP_TX, which a veth delivers only to a peer
# with an XDP program.
lab_xdp_pass client eth0

# route_mtu NODE ADDR: the path MTU NODE has learnt towards ADDR, or none.
route_mtu() {
	lab_exec "$1" ip route get "$2" |
		awk '{ for (i = 1; i < NF; i++) if ($i == "mtu") m = $(i + 1) }
			END { print m ? m : "none" }'
}

# roundtrip ENCAP: 1 MB up and down through both VIPs, the client
# learning the MTU XLB tells it for that encapsulation.
roundtrip() {
	local encap=$1 v url vip want out
	for v in 4 6; do
		if [[ $v == 4 ]]; then
			url="http://$LAB_VIP4:$LAB_TCP_PORT" vip=$LAB_VIP4 want=1480
		else
			url="http://[$LAB_VIP6]:$LAB_TCP_PORT" vip=$LAB_VIP6 want=1460
		fi
		# GUE adds a UDP header.
		[[ $encap == gue ]] && want=$((want - 8))
		check_eq "$encap IPv$v: no path MTU known before" \
			"$(route_mtu client "$vip")" none
		out=$(head -c 1000000 /dev/zero | lab_exec client curl -sS \
			--max-time 20 -H 'Expect:' --data-binary @- \
			-w ' %{time_total}' "$url/" 2>&1 || true)
		echo "  ..    $encap IPv$v upload: $out s"
		check "$encap IPv$v: 1 MB upload through a tunnel VIP" \
			grep -Eq '^real[0-9] 1000000$' <<<"$out"
		check_eq "$encap IPv$v: the client learnt the VIP's MTU from XLB" \
			"$(route_mtu client "$vip")" "$want"
		out=$(lab_exec client curl -sS --max-time 20 -o /dev/null \
			-w '%{size_download} %{time_total}' \
			"$url/bytes/1000000" 2>&1 || true)
		echo "  ..    $encap IPv$v download: $out s"
		check_eq "$encap IPv$v: 1 MB download through a tunnel VIP" \
			"${out%% *}" 1000000
	done
}

roundtrip ipip
# The same VIPs over GUE (the reals' decap takes it on its default
# port), the client's learnt MTUs forgotten first.
lab_lbctl vip set "$VIP_TCP4" --encap gue
lab_lbctl vip set "$VIP_TCP6" --encap gue
lab_exec client ip route flush cache
lab_exec client ip -6 route flush cache
roundtrip gue

stats stats
n=$(reason "$LAB_RUN/stats.json" forward_icmp_too_big)
echo "  ..    forward_icmp_too_big $n"
check_range "errors sent (a few per family)" "$n" 2 1000
check_eq "no error held back by the rate" \
	"$(reason "$LAB_RUN/stats.json" drop_icmp_limited)" 0
check_eq "nothing dropped as too big" \
	"$(reason "$LAB_RUN/stats.json" drop_frag_needed)" 0

e2e_end
