#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The FRR example configs (docs/frr/, docs/FRR.md) and the cluster lab.
# Every shipped file, substituted as the lab does it, passes its daemon's
# -C check with no complaint; the BGP cluster comes up and the router
# spreads the VIP over the three nodes (IPv4 and IPv6); and the MED rule
# FULLNAT failover relies on holds: a node's own local address (metric 0)
# wins over its peers' backups (metric 1000), which become ECMP once the
# owner withdraws it.
set -euo pipefail
# shellcheck source=tests/e2e/cluster_lib.sh
. "$(dirname "$0")/cluster_lib.sh"

lab_init "xlbt$$" "$1"
mkdir -p "$LAB_RUN"
used=()
for proto in bgp ospf; do
	for who in router n1; do
		dir=$LAB_RUN/check-$proto-$who
		mkdir -p "$dir"
		check "docs/frr: $who $proto configs substitute and validate" \
			cl_frr_write "$who" "$proto" "$dir"
		role=node
		[[ $who == router ]] && role=router
		for d in $(cl_frr_daemons "$proto"); do
			used+=("$role-$proto/$d.conf")
		done
		[[ $role-$proto == router-ospf ]] &&
			used+=(router-ospf/ospfd-interface.conf)
	done
done
for f in "$CL_FRR_CONF"/*/*.conf; do
	rel=${f#"$CL_FRR_CONF"/}
	check "docs/frr/$rel is checked" test -n "$(printf '%s\n' "${used[@]}" | grep -Fx "$rel")"
done
rm -rf "$LAB_RUN"

# A FULLNAT cluster: xlbd announces the VIP, its own local address
# (metric 0) and its peers' (backups, metric 1000).
cluster_begin "$1" fullnat bgp
VIP=$(cl_vip4)
check_eq "router: nexthops for the VIP" "$(cl_nexthops router "$VIP/32")" 3
out=$(cl_vtysh router "show ip bgp $VIP/32")
check_eq "router: BGP paths for the VIP, all multipath" \
	"$(grep -c multipath <<<"$out")" 3

# IPv6: a tunnel VIP added on every node is announced as a /128 over the
# IPv6 sessions.
for i in 1 2 3; do
	cl_lbctl "$i" vip add "[$LAB_VIP6]:$LAB_TCP_PORT/tcp" >/dev/null
	cl_lbctl "$i" real add "[$LAB_VIP6]:$LAB_TCP_PORT/tcp" "$(real_addr6 1)" >/dev/null
done
check "router: IPv6 VIP over 3 nodes" wait_ecmp 3 10 "$LAB_VIP6/128"

# FULLNAT failover routes: n1 owns 10.97.1.1 (metric 0), n2 and n3 hold
# it as a backup (metric 1000), which bgpd sends as the MED.
LA=$(cl_laddr4 1)
wait_until 10 test "$(cl_vtysh router "show ip bgp $LA/32" | grep -c 'metric')" -ge 3 || true
out=$(cl_vtysh router "show ip bgp $LA/32")
echo "  ..    $(grep -E 'from|metric' <<<"$out" | tr -s ' ' | tr '\n' ' ')"
check "router: the owner's path carries MED 0" \
	grep -q "metric 0, valid, external, best" <<<"$out"
check_eq "router: paths with MED 1000 (the backups)" \
	"$(grep -c 'metric 1000' <<<"$out")" 2
check "router: the owner's route alone, via n1" \
	wait_until 5 test "$(ip -n "$(lab_ns router)" route show "$LA/32")" == \
	"$LA via $(cl_node_addr4 1) dev n1 proto bgp metric 20 "
t0=$(date +%s%N)
# xlbd withdraws the owner's route (with everything else) on a drain.
cl_lbctl 1 node drain >/dev/null
check "router: the owner gone, the backups are ECMP" wait_ecmp 2 10 "$LA/32"
echo "  ..    backups took over in $((($(date +%s%N) - t0) / 1000000)) ms"
ip -n "$(lab_ns router)" route show "$LA/32" | sed 's/^/  ..    /'

e2e_end
