#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# FULLNAT with a smaller MTU towards the reals than on either end: every
# link carries 1500, but the xlb node's routes to the reals say 1400 (an
# overlay on the way, say). The reals offer an MSS of 1460, so the
# client's full-size segments do not fit once translated: XLB answers
# "fragmentation needed" / "packet too big" from the VIP with 1400, the
# client learns it, and 1 MB uploads complete, as do 1 MB downloads.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
LAB_MODE=fullnat
LAB_TUNNEL_MTU=1500
e2e_begin "$@"

for ((i = 1; i <= LAB_NREALS; i++)); do
	lab_route xlb "$(real_addr4 "$i")/32" dev "r$i" mtu lock 1400
	lab_route xlb "$(real_addr6 "$i")/128" dev "r$i" mtu lock 1400
done
# XLB's errors leave by XDP_TX, which a veth delivers only to a peer
# with an XDP program.
lab_xdp_pass client eth0
lab_lbctl vip add "$NAT_TCP4" --mode fullnat >/dev/null
lab_lbctl vip add "$NAT_TCP6" --mode fullnat >/dev/null
for ((i = 1; i <= LAB_NREALS; i++)); do
	lab_lbctl real add "$NAT_TCP4" "$(real_addr4 "$i")" >/dev/null
	lab_lbctl real add "$NAT_TCP6" "$(real_addr6 "$i")" >/dev/null
done

# route_mtu NODE ADDR: the path MTU NODE has learnt towards ADDR, or none.
route_mtu() {
	lab_exec "$1" ip route get "$2" |
		awk '{ for (i = 1; i < NF; i++) if ($i == "mtu") m = $(i + 1) }
			END { print m ? m : "none" }'
}

for v in 4 6; do
	if [[ $v == 4 ]]; then
		url="http://$LAB_NAT_VIP4:$LAB_TCP_PORT" vip=$LAB_NAT_VIP4
	else
		url="http://[$LAB_NAT_VIP6]:$LAB_TCP_PORT" vip=$LAB_NAT_VIP6
	fi
	out=$(head -c 1000000 /dev/zero | lab_exec client curl -sS \
		--max-time 20 -H 'Expect:' --data-binary @- \
		-w ' %{time_total}' "$url/" 2>&1 || true)
	echo "  ..    IPv$v upload: $out s"
	check "IPv$v: 1 MB upload through a FULLNAT VIP" \
		grep -Eq '^real[0-9] 1000000$' <<<"$out"
	check_eq "IPv$v: the client learnt the VIP's MTU from XLB" \
		"$(route_mtu client "$vip")" 1400
	out=$(lab_exec client curl -sS --max-time 20 -o /dev/null \
		-w '%{size_download} %{time_total}' "$url/bytes/1000000" \
		2>&1 || true)
	echo "  ..    IPv$v download: $out s"
	check_eq "IPv$v: 1 MB download through a FULLNAT VIP" "${out%% *}" \
		1000000
done

stats stats
n=$(reason "$LAB_RUN/stats.json" forward_icmp_too_big)
echo "  ..    forward_icmp_too_big $n"
check_range "errors sent (a few per family)" "$n" 2 1000
check_eq "no error held back by the rate" \
	"$(reason "$LAB_RUN/stats.json" drop_icmp_limited)" 0
check_eq "nothing dropped as too big" \
	"$(reason "$LAB_RUN/stats.json" drop_frag_needed)" 0

e2e_end
