#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# lbctl shows FULLNAT sessions: with long-lived connections open, `lbctl
# sessions --vip` lists each one's translation (the client's address and
# port, the local address and port it leaves with, the real), and
# `lbctl stats` counts them as active sessions.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
LAB_MODE=fullnat
e2e_begin "$@"

CONNS=4
lab_add_vip "$NAT_TCP4" maglev "100 100 100" 4 --mode fullnat
lab_add_vip "$NAT_TCP6" maglev "100 100 100" 6 --mode fullnat

ready=$LAB_RUN/long.ready
lab_client long --vip "$LAB_NAT_VIP4" --conns "$CONNS" --duration 4 \
	--interval 0.1 --ready-file "$ready" >"$LAB_RUN/long.json" &
client=$!
wait_until 5 test -s "$ready" || true

# The client's side of each connection, as its kernel has it.
mapfile -t cports < <(lab_exec client ss -Htn state established \
	dst "$LAB_NAT_VIP4" | awk '{ n = split($3, a, ":"); print a[n] }')
check_eq "connections the client has open" "${#cports[@]}" "$CONNS"
# The servers' side: the local address and port each one sees.
mapfile -t speers < <(for i in 1 2 3; do
	lab_exec "real$i" ss -Htn state established sport = :"$LAB_TCP_PORT" |
		awk -v r="$(real_addr4 "$i")" '{ print $4, r }'
done)
check_eq "connections the reals have open" "${#speers[@]}" "$CONNS"

lab_lbctl sessions --vip "$NAT_TCP4" >"$LAB_RUN/sessions.txt"
lab_lbctl --json sessions --vip "$NAT_TCP4" >"$LAB_RUN/sessions.json"
sed 's/^/  ..    /' "$LAB_RUN/sessions.txt"
for port in "${cports[@]}"; do
	check "a session for $LAB_CLIENT4:$port" \
		grep -qE "(^|[^0-9.])$LAB_CLIENT4:$port([^0-9]|$)" \
		"$LAB_RUN/sessions.txt"
done
# Each (local address:port, real) the servers see is one session's
# translation.
for peer in "${speers[@]}"; do
	read -r laddr real <<<"$peer"
	check "a session translated to $laddr -> $real" \
		grep -qE "(^|[^0-9.])$laddr([^0-9]|$).*(^|[^0-9.])$real([^0-9]|$)" \
		"$LAB_RUN/sessions.txt"
done

stats stats
check_range "active sessions in lbctl stats" \
	"$(jget "$LAB_RUN/stats.json" fullnat.sessions 0)" "$CONNS" \
	$((CONNS + 2))
# The IPv6 VIP has no session.
check_eq "sessions of the IPv6 VIP" \
	"$(lab_lbctl --json sessions --vip "$NAT_TCP6" | "$LAB_PYTHON" -c '
import json, sys
print(len(json.load(sys.stdin)["sessions"]))')" 0

rc=0
wait "$client" || rc=$?
check_eq "the long-lived connections: client exit status" "$rc" 0

e2e_end
