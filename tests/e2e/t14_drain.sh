#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Drain: `lbctl real drain` keeps the real's open connections working and
# sends it nothing new; `lbctl real undrain` gives it new flows again.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_begin "$@"

R3=$(real_addr4 3)
CONNS=4

# Long-lived connections open while real3 is the only real: all on it.
lab_lbctl vip add "$VIP_TCP4" >/dev/null
lab_lbctl real add "$VIP_TCP4" "$R3" >/dev/null
ready=$LAB_RUN/long.ready
lab_client long --conns "$CONNS" --duration 4 --interval 0.05 \
	--ready-file "$ready" >"$LAB_RUN/long.json" &
long=$!
wait_until 5 test -s "$ready" || true
lab_lbctl real add "$VIP_TCP4" "$(real_addr4 1)" >/dev/null
lab_lbctl real add "$VIP_TCP4" "$(real_addr4 2)" >/dev/null

check "lbctl real drain" lab_lbctl real drain "$VIP_TCP4" "$R3"
check_eq "real3's state" "$(lab_lbctl --json vip list | python3 -c '
import json, sys
v = json.load(sys.stdin)["vips"][0]
print([r["state"] for r in v["reals"] if r["address"] == "10.98.3.2"][0])')" \
	draining
spread drained --count 300
check_eq "new connections answered while draining" \
	"$(jget "$LAB_RUN/drained.json" ok)" 300
check_eq "new connections that reached the draining real" \
	"$(jget "$LAB_RUN/drained.json" by_real.real3 0)" 0

rc=0
wait "$long" || rc=$?
check_eq "long-lived client exit status" "$rc" 0
check_eq "errors on the draining real's open connections" \
	"$(jget "$LAB_RUN/long.json" errors)" 0
for ((i = 0; i < CONNS; i++)); do
	check_eq "connection $i stayed on" \
		"$(jget "$LAB_RUN/long.json" "by_conn[conn=$i].real")" real3
done

check "lbctl real undrain" lab_lbctl real undrain "$VIP_TCP4" "$R3"
spread undrained --count 300
check_range "new connections to real3 after undrain" \
	"$(jget "$LAB_RUN/undrained.json" by_real.real3 0)" 60 140

e2e_end
