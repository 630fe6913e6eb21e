#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# What a node announces, and when it stops (docs/CLUSTER.md), in a
# BGP+BFD cluster with a tunnel VIP:
#  - a VIP whose reals take no new flows on a node is withdrawn there;
#  - a data interface going down withdraws everything;
#  - SIGTERM (systemctl stop) withdraws before xlbd exits;
#  - the route state is in lbctl node status and in /metrics;
#  - zebra dying under bgpd (which keeps announcing) is detected,
#    reported and logged.
set -euo pipefail
# shellcheck source=tests/e2e/cluster_lib.sh
. "$(dirname "$0")/cluster_lib.sh"
cluster_begin "$1" tunnel bgp
VIP=$(cl_vip4)
SVC=$VIP:$LAB_TCP_PORT/tcp

# our_routes N: node N's routes of protocol 250.
our_routes() {
	ip -n "$(lab_ns "n$1")" route show proto 250 | awk '{ print $2 }' | sort | tr '\n' ' '
}

nstatus 1 st-online
check_eq "n1: online" "$(jget "$LAB_RUN/st-online.json" state)" online
check_eq "n1: the VIP is announced" \
	"$(jget "$LAB_RUN/st-online.json" "routes[address=$VIP].announced")" True
check_eq "n1: its kernel route" "$(our_routes 1)" "$VIP "
m=$(lab_exec n1 curl -fsS http://127.0.0.1:9617/metrics)
check "metrics: xlb_node_state online" grep -qx 'xlb_node_state{state="online"} 1' <<<"$m"
check "metrics: xlb_route_announced" \
	grep -qx "xlb_route_announced{address=\"$VIP\",kind=\"vip\"} 1" <<<"$m"
check "metrics: xlb_sync_peer_up" grep -qx 'xlb_sync_peer_up{peer="n2"} 1' <<<"$m"
check "metrics: xlb_routing_daemon_up" grep -qx 'xlb_routing_daemon_up{daemon="zebra"} 1' <<<"$m"

# No real takes new flows on n1: n1 alone withdraws the VIP.
for i in 1 2 3; do
	cl_lbctl 1 real drain "$SVC" "$(real_addr4 "$i")" >/dev/null
done
check "router: n1 withdrew the VIP when no real takes new flows" wait_ecmp 2 10
nstatus 1 st-noreal
check_eq "n1: the VIP's route state" \
	"$(jget "$LAB_RUN/st-noreal.json" "routes[address=$VIP].reason")" \
	"no real takes new flows"
check_eq "n1: no kernel route left" "$(our_routes 1)" ""
for i in 1 2 3; do
	cl_lbctl 1 real undrain "$SVC" "$(real_addr4 "$i")" >/dev/null
done
check "router: n1 announces again once a real is back" wait_ecmp 3 10

# The data interface goes down: everything is withdrawn, and comes back.
ip -n "$(lab_ns n1)" link set eth0 down
check "n1: the interface down withdrew its routes" \
	wait_until 5 test -z "$(our_routes 1)"
nstatus 1 st-ifdown
check_eq "n1: why" "$(jget "$LAB_RUN/st-ifdown.json" "routes[address=$VIP].reason")" \
	"a data interface is down"
ip -n "$(lab_ns n1)" link set eth0 up
ip -n "$(lab_ns n1)" route replace default via "$(cl_rt_addr4 1)"
check "n1: the interface up announces again" \
	wait_until 5 test "$(our_routes 1)" == "$VIP "
check "router: n1 back" wait_ecmp 3 20

# SIGTERM (what systemctl stop sends): routes go before xlbd exits.
pid=$(cat "$LAB_RUN/xlbd-n1.pid")
kill -TERM "$pid"
check "n1: xlbd exited" wait_until 10 sh -c "! kill -0 $pid"
check_eq "n1: no route left after the stop" "$(our_routes 1)" ""
check "router: n1 dropped after the stop" wait_ecmp 2 10
check "n1: the stop was logged with the withdrawal" \
	grep -q "routes: .* withdrawn" "$LAB_RUN/xlbd-n1.log"
cl_xlbd_start 1
check "router: n1 back after the restart" wait_ecmp 3 20

# zebra dies on n2; bgpd keeps announcing what zebra gave it.
zpid=$(cat "$LAB_RUN/frr-n2/zebra.pid")
kill -KILL "$zpid"
check "n2: zebra's death is reported" wait_until 5 sh -c \
	"'$LAB_BUILD/lbctl' --socket '$LAB_RUN/n2/xlbd.sock' --json node status | grep -q '\"routing_ok\": false'"
nstatus 2 st-zebra
check_eq "n2: zebra's state" "$(jget "$LAB_RUN/st-zebra.json" "daemons[name=zebra].state")" dead
check "n2: logged" grep -q "routing: zebra is dead" "$LAB_RUN/xlbd-n2.log"
m=$(lab_exec n2 curl -fsS http://127.0.0.1:9617/metrics)
check "n2: metrics say zebra is down" \
	grep -qx 'xlb_routing_daemon_up{daemon="zebra"} 0' <<<"$m"
check "router: bgpd on n2 still announces the VIP" \
	test "$(cl_nexthops router "$VIP/32")" == 3

e2e_end
