#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# A start-up that fails part-way leaves nothing behind that should not
# be. xlbd runs alone in a namespace of its own with a veth pair and a
# `routes` section (in two runs a `cluster` section too):
#  - the control socket failing for real (a file where its directory
#    should be): no route left; over a running data plane, session sync
#    off again in its maps;
#  - every step of start-up made to fail in turn (XLB_TEST_FAIL_START,
#    user/xlbd_start.c), on a first start: exit 1, no route of protocol
#    250, no program attached, no pin, IPv4 forwarding back to 0;
#  - the same on a restart over a running data plane (an earlier xlbd
#    stopped by SIGTERM): no route, and the data plane still attached
#    and pinned, forwarding on.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
[[ $# -ge 1 ]] || lab_die "usage: $0 BUILD_DIR"
BUILD=$(realpath "$1")
NS=xlbt$$-su
RUN=${TMPDIR:-/tmp}/xlbt$$
PINS=$RUN/bpffs/xlb

cleanup() {
	local rc=$?
	lab_delete_ns "$NS"
	lab_umount_bpffs "$RUN"
	rm -rf "$RUN"
	exit "$rc"
}
trap cleanup EXIT
mkdir -p "$RUN/bpffs"
mount -t bpf bpf "$RUN/bpffs"
ip netns add "$NS"
ip -n "$NS" link add eth0 type veth peer name eth1
ip -n "$NS" link set eth0 up
ip -n "$NS" link set eth1 up
ip -n "$NS" link set lo up
ip -n "$NS" addr add 10.90.1.2/24 dev eth0
head -c 32 /dev/urandom >"$RUN/cluster.key"
chmod 600 "$RUN/cluster.key"

routes_conf() {
	cat <<CONF
interfaces: [eth0]
routes:
  watch: []
vips:
  - vip: 10.100.0.10:80/tcp
    reals: [10.98.1.2]
CONF
}

cluster_conf() {
	routes_conf
	cat <<CONF
cluster:
  node: n1
  key_file: $RUN/cluster.key
  preonline_timeout_ms: 60000
  nodes:
    - {name: n1, address: 10.90.1.2}
    - {name: n2, address: 10.90.1.3}
CONF
}

our_routes() { ip -n "$NS" route show proto 250 | tr '\n' ' '; }
attached() { ip -n "$NS" -d link show eth0 | grep -q 'prog/xdp'; }
# The SYNC flag (1 << 1) of the pinned globals, if they are there.
sync_flag() {
	[[ -e $PINS/globals ]] || { echo none; return; }
	bpftool -j map dump pinned "$PINS/globals" | python3 -c '
import json, sys
d = json.load(sys.stdin)[0]
v = d.get("formatted", {}).get("value", {})
print((v.get("flags", 0) >> 1) & 1)'
}

# run NAME CONF [ENV...]: xlbd with CONF, expected to fail at start-up.
run() {
	local name=$1 conf=$2 rc=0
	shift 2
	$conf >"$RUN/$name.yaml"
	env "$@" timeout 30 ip netns exec "$NS" "$BUILD/xlbd" --config "$RUN/$name.yaml" \
		--pin-path "$PINS" --socket "${SOCK:-$RUN/xlbd.sock}" \
		--metrics off >"$RUN/$name.log" 2>&1 || rc=$?
	check_eq "$name: xlbd exits 1" "$rc" 1
	[[ $rc == 1 ]] || sed 's/^/        /' "$RUN/$name.log"
}

# The control socket cannot be opened (its directory is a file): the
# routes announced just before are withdrawn.
touch "$RUN/file"
SOCK=$RUN/file/xlbd.sock run control-routes routes_conf
check "control-routes: said why" grep -q "control socket" "$RUN/control-routes.log"
check_eq "control-routes: no route left" "$(our_routes)" ""
# With a cluster, on a first start: nothing left at all.
SOCK=$RUN/file/xlbd.sock run control-cluster cluster_conf
check_eq "control-cluster: no pinned maps left" "$(sync_flag)" none
check_eq "control-cluster: no route left" "$(our_routes)" ""

pinned() { [[ -n $(ls -A "$PINS" 2>/dev/null) ]]; }
fwd4() { ip netns exec "$NS" sysctl -n net.ipv4.ip_forward; }

STEPS="control_cpus bpffs orphans data_plane model health sysctls state vlans
attach follow nexthops gc cluster control metrics watchdog"

# A first start failing at each step removes all it made.
for step in $STEPS; do
	run "fresh-$step" routes_conf XLB_TEST_FAIL_START="$step"
	check "fresh-$step: failed at that step" \
		grep -q "start-up step $step fails" "$RUN/fresh-$step.log"
	check_eq "fresh-$step: no route left" "$(our_routes)" ""
	check "fresh-$step: no program attached" eval '! attached'
	check "fresh-$step: no pin left" eval '! pinned'
	check_eq "fresh-$step: IPv4 forwarding as it was" "$(fwd4)" 0
done

# A running data plane, its agent stopped by SIGTERM (a restart).
routes_conf >"$RUN/good.yaml"
setsid ip netns exec "$NS" "$BUILD/xlbd" --config "$RUN/good.yaml" \
	--pin-path "$PINS" --socket "$RUN/xlbd.sock" --metrics off \
	</dev/null >"$RUN/good.log" 2>&1 &
good=$!
check "a good start answers" wait_until 10 \
	"$BUILD/lbctl" --socket "$RUN/xlbd.sock" ping
check "it announces the VIP" grep -q "blackhole 10.100.0.10" <<<"$(our_routes)"
kill -TERM "$good"
wait "$good" || true
check "after SIGTERM the program stays attached" attached
check "and pinned" pinned

for step in $STEPS; do
	run "restart-$step" routes_conf XLB_TEST_FAIL_START="$step"
	check "restart-$step: failed at that step" \
		grep -q "start-up step $step fails" "$RUN/restart-$step.log"
	check_eq "restart-$step: no route left" "$(our_routes)" ""
	check "restart-$step: the program still attached" attached
	check "restart-$step: still pinned" pinned
done

# With a cluster, over the running data plane: session sync is turned
# off again in the maps that stay.
SOCK=$RUN/file/xlbd.sock run restart-control-cluster cluster_conf
check_eq "restart-control-cluster: session sync off in the maps" \
	"$(sync_flag)" 0
check "restart-control-cluster: still attached" attached

e2e_end
