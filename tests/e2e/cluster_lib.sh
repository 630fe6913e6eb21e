#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# What the cluster tests (t3*.sh) share: tests/e2e/lib.sh's checks, with
# the cluster lab (tools/lab/cluster.sh) instead of the one-node lab.
#
#   . "$(dirname "$0")/cluster_lib.sh"
#   cluster_begin BUILD_DIR MODE PROTO   # the lab, the router on ECMP
#   failure_scenario NAME HOW LIMIT_MS   # flows, fail n1, recover, check
#   e2e_end
# shellcheck disable=SC2034

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tools/lab/cluster.sh
. "$LAB_ROOT/tools/lab/cluster.sh"

cluster_cleanup() {
	local rc=$? i
	trap - EXIT INT TERM
	if [[ $rc != 0 || $E2E_FAILED != 0 ]]; then
		for i in router n1 n2 n3; do
			for f in "$LAB_RUN/frr-$i"/*.log; do
				[[ -f $f ]] || continue
				echo "--- last lines of $f:"
				tail -n 5 "$f" | sed 's/^/    /'
			done
		done
	fi
	cluster_down
	exit "$rc"
}

cluster_begin() {
	[[ $# -ge 2 ]] || lab_die "usage: cluster_begin BUILD_DIR MODE [PROTO]"
	[[ $(id -u) == 0 ]] || lab_die "needs root (namespaces, XDP)"
	[[ -x /usr/lib/frr/zebra ]] || lab_die "FRR is not installed"
	lab_init "xlbt$$" "$1"
	trap cluster_cleanup EXIT
	trap 'exit 130' INT TERM
	trap 'e2e_on_error $LINENO "$BASH_COMMAND" $?' ERR
	local t0=$SECONDS
	cluster_up "$2" "${3:-bgp}"
	echo "  ..    cluster up, router on ECMP over $CL_NODES nodes," \
		"in $((SECONDS - t0)) s"
}

# flows NAME: one value of the flows' JSON.
fget() {
	jget "$LAB_RUN/$1.json" "$2"
}

# failure_scenario NAME HOW LIMIT_MS: long-lived and new connections run
# while node n1 fails (HOW: nft, link, sigstop) and recovers. Nothing
# breaks or fails, and no long-lived connection waits more than LIMIT_MS
# beyond its interval, at the failure or at the recovery.
failure_scenario() {
	local name=$1 how=$2 limit=$3 t_fail t_back
	# BFD comes up some 2 s after BGP; the route must be stable.
	sleep "${SETTLE:-2}"
	cl_flows_start "$name" --conns "${CONNS:-200}" --interval-ms "${INTERVAL_MS:-50}" \
		--new-rate 20 --duration 60
	sleep 2
	cl_flows_phase "$name"
	node_fail 1 "$how"
	t_fail=$(cl_time_ecmp 2 10) || true
	sleep 3
	cl_flows_phase "$name"
	node_recover 1
	t_back=$(cl_time_ecmp 3 20) || true
	sleep 3
	cl_flows_stop "$name"
	echo "  ..    $name: router down to 2 nexthops in $t_fail ms," \
		"back to 3 in $t_back ms"
	echo "  ..    $name: $(cut -c1-400 "$LAB_RUN/$name.json")"
	check_range "$name: router dropped n1 (ms)" "$t_fail" 0 10000
	check_range "$name: router took n1 back (ms)" "$t_back" 0 20000
	check_eq "$name: long-lived connections all opened once" \
		"$(fget "$name" long.opened)" "${CONNS:-200}"
	check_eq "$name: long-lived connections broken" \
		"$(fget "$name" long.broken)" 0
	check_range "$name: new connections attempted" \
		"$(fget "$name" new.attempted)" 100 100000
	check_eq "$name: new connections failed" "$(fget "$name" new.failed)" 0
	local fail_ms back_ms
	fail_ms=$(fget "$name" "phases[name=1].interruption_ms")
	back_ms=$(fget "$name" "phases[name=2].interruption_ms")
	echo "  ..    $name: interruption at failure ${fail_ms} ms, at" \
		"recovery ${back_ms} ms; slowest new connect" \
		"$(fget "$name" "phases[name=1].new_max_connect_ms") ms /" \
		"$(fget "$name" "phases[name=2].new_max_connect_ms") ms"
	check_range "$name: interruption at the failure (ms)" "${fail_ms%.*}" 0 "$limit"
	check_range "$name: interruption at the recovery (ms)" "${back_ms%.*}" 0 "$limit"
}
