#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Hot restart: `kill -9` of xlbd under load, then a new xlbd. The data
# plane forwards on from its pinned maps while no agent runs, and the new
# agent adopts the maps and replaces the running program atomically.
# Counts failed connections (a steady stream of new ones) and broken
# flows (long-lived connections exchanging a line every 50 ms): both must
# be zero, and every long-lived connection must keep its real.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_begin "$@"

CONNS=20
DURATION=7

lab_lbctl vip add "$VIP_TCP4" >/dev/null
for i in 1 2 3; do
	lab_lbctl real add "$VIP_TCP4" "$(real_addr4 "$i")" >/dev/null
done

ready=$LAB_RUN/long.ready
lab_client long --conns "$CONNS" --duration "$DURATION" --interval 0.05 \
	--ready-file "$ready" >"$LAB_RUN/long.json" &
long=$!
wait_until 5 test -s "$ready" || true
cp "$ready" "$LAB_RUN/long.before"

# New connections all along: batches of short connections until told.
stream() {
	local n=0
	while [[ ! -e $LAB_RUN/stream.stop ]]; do
		lab_client spread --count 40 >"$LAB_RUN/stream.$n.json" || true
		n=$((n + 1))
	done
}
stream &
streamer=$!

sleep 1.5
xlbd_pid=$(cat "$LAB_RUN/xlbd.pid")
kill -9 "$xlbd_pid"
# The exit of a process holding the maps takes a moment after SIGKILL.
check "xlbd is gone" wait_until 5 pid_gone "$xlbd_pid"
sleep 1.5
check "the program is still attached with no agent" \
	bash -c "ip netns exec $(lab_ns xlb) ip link show eth0 | grep -q xdp"
check "pins are still there" test -e "$LAB_BPFFS/xlb/vips"
lab_start_xlbd
check "the new xlbd adopted the running data plane" \
	grep -q "adopted the running data plane" "$LAB_RUN/xlbd.log"
check_eq "the adopted VIP keeps its reals" \
	"$(lab_lbctl --json vip list | python3 -c \
		'import json,sys; print(len(json.load(sys.stdin)["vips"][0]["reals"]))')" 3
sleep 1

touch "$LAB_RUN/stream.stop"
wait "$streamer" || true
rc=0
wait "$long" || rc=$?

total=0
failed=0
for f in "$LAB_RUN"/stream.*.json; do
	total=$((total + $(jget "$f" total 0)))
	failed=$((failed + $(jget "$f" failed 0)))
done
echo "  ..    stream: $total connections, $failed failed"
check_range "new connections made across the restart" "$total" 100 100000
check_eq "failed new connections" "$failed" 0
check_eq "long-lived client exit status" "$rc" 0
check_eq "errors on the long-lived connections" \
	"$(jget "$LAB_RUN/long.json" errors)" 0
for ((i = 0; i < CONNS; i++)); do
	before=$(sed -n "$((i + 1))p" "$LAB_RUN/long.before")
	check_eq "connection $i kept its real" \
		"$(jget "$LAB_RUN/long.json" "by_conn[conn=$i].real")" "$before"
done

e2e_end
