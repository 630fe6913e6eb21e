#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The cluster lab (docs/CLUSTER.md, docs/LAB.md): a client, a router
# running FRR with kernel ECMP, three XLB nodes each running FRR and xlbd
# with session sync, and reals, each in its own network namespace.
#
#   tools/lab-cluster.sh demo [tunnel|fullnat] [BUILD_DIR]
#       up; 200 long-lived connections and new ones; node n1 dies
#       silently and comes back; n1 drains and undrains; the counts and
#       interruptions are shown; down
#   tools/lab-cluster.sh down       remove a lab left behind
set -euo pipefail

# shellcheck source=tools/lab/lib.sh
. "$(dirname "$0")/lab/lib.sh"
# shellcheck source=tools/lab/cluster.sh
. "$(dirname "$0")/lab/cluster.sh"

PREFIX=xlbcl

usage() {
	sed -n '8,13s/^#//p' "$0" >&2
	exit 2
}

say() {
	printf '\n== %s\n' "$*"
}

# show_flows NAME: what the measuring client saw, phase by phase.
show_flows() {
	"$LAB_PYTHON" - "$LAB_RUN/$1.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
print(f"long-lived: {d['long']['opened']} opened, {d['long']['broken']} broken, "
      f"{d['long']['round_trips']} round trips")
print(f"new: {d['new']['attempted']} attempted, {d['new']['failed']} failed")
for p in d["phases"]:
    print(f"  phase {p['name']}: longest pause {p['interruption_ms']} ms, "
          f"slowest new connect {p.get('new_max_connect_ms', 0)} ms")
EOF
}

cmd_demo() {
	local mode=${1:-tunnel} build=${2:-$LAB_ROOT/build} t i
	[[ $(id -u) == 0 ]] || lab_die "needs root (namespaces, XDP, FRR)"
	lab_init "$PREFIX" "$build"
	cluster_down >/dev/null 2>&1 || true
	trap 'cluster_down' EXIT
	say "cluster lab, $mode VIP, BGP+BFD: client -> router -> n1 n2 n3 -> reals"
	cluster_up "$mode" bgp
	ip -n "$(lab_ns router)" route show "$(cl_vip4)/32"
	sleep 2
	for i in 1 2 3; do
		say "n$i: lbctl node status"
		cl_lbctl "$i" node status
	done
	say "200 long-lived connections (a line every 50 ms), 20 new a second"
	cl_flows_start demo --conns 200 --interval-ms 50 --new-rate 20 \
		--duration 120
	sleep 3
	say "n1 dies silently (the router's side of its link drops everything)"
	cl_flows_phase demo
	node_fail 1 nft
	t=$(cl_time_ecmp 2 10) || true
	echo "router dropped n1 after $t ms"
	sleep 3
	say "n1 comes back"
	cl_flows_phase demo
	node_recover 1
	t=$(cl_time_ecmp 3 20) || true
	echo "router took n1 back after $t ms"
	sleep 3
	say "n1 drains: lbctl node drain"
	cl_flows_phase demo
	cl_lbctl 1 node drain
	t=$(cl_time_ecmp 2 10) || true
	echo "router dropped n1 after $t ms"
	wait_until 20 sh -c "'$LAB_BUILD/lbctl' --socket '$LAB_RUN/n1/xlbd.sock' node status | grep -q drained" || true
	cl_lbctl 1 node status | head -1
	say "n1 undrains"
	cl_flows_phase demo
	cl_lbctl 1 node undrain
	t=$(cl_time_ecmp 3 20) || true
	echo "router took n1 back after $t ms"
	sleep 3
	cl_flows_stop demo
	say "what the client saw (phase 1: failure, 2: return, 3: drain, 4: undrain)"
	show_flows demo
	say "n2: lbctl node status"
	cl_lbctl 2 node status
}

case ${1:-} in
demo)
	shift
	cmd_demo "$@"
	;;
down)
	lab_init "$PREFIX" "$LAB_ROOT/build"
	cluster_down
	;;
*) usage ;;
esac
