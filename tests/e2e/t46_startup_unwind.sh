#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# A start-up that fails part-way leaves nothing behind: no route
# announced, session sync off, and (nothing having run before) no program
# attached and no pin. xlbd runs alone in a namespace of its own with a
# veth pair, routes and a cluster section.
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
# With a cluster: session sync is turned off again.
SOCK=$RUN/file/xlbd.sock run control-cluster cluster_conf
check_eq "control-cluster: session sync off in the maps" "$(sync_flag)" 0
check_eq "control-cluster: no route left" "$(our_routes)" ""

e2e_end
