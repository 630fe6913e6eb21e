#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# FULLNAT sessions keep their real while the VIP's reals change. Six
# connections open while real1 is the only real; then real2 and real3
# come and go, which moves most of these flows' hashes elsewhere on the
# Maglev ring: only the sessions (nat_fwd / nat_rev) keep them on real1.
# Each exchanges a line every 50 ms, both ways through XLB.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
LAB_MODE=fullnat
e2e_begin "$@"

R1=$(real_addr4 1)
R2=$(real_addr4 2)
R3=$(real_addr4 3)
CONNS=6
DURATION=5

lab_lbctl vip add "$NAT_TCP4" --mode fullnat >/dev/null
lab_lbctl real add "$NAT_TCP4" "$R1" >/dev/null

ready=$LAB_RUN/long.ready
lab_client long --vip "$LAB_NAT_VIP4" --conns "$CONNS" \
	--duration "$DURATION" --interval 0.05 --ready-file "$ready" \
	>"$LAB_RUN/long.json" &
client=$!
wait_until 5 test -s "$ready" || true
check_eq "connections up, all on real1, before the changes" \
	"$(sort "$ready" | uniq -c | awk '{print $2 ":" $1}')" "real1:$CONNS"

changes=(
	"real add $NAT_TCP4 $R2"
	"real add $NAT_TCP4 $R3 --weight 200"
	"real set $NAT_TCP4 $R1 --weight 10"
	"real del $NAT_TCP4 $R2"
	"real add $NAT_TCP4 $R2 --weight 300"
	"real del $NAT_TCP4 $R3"
	"real add $NAT_TCP4 $R3"
)
for change in "${changes[@]}"; do
	sleep 0.5
	# shellcheck disable=SC2086
	check "lbctl $change" lab_lbctl $change
done

rc=0
wait "$client" || rc=$?
echo "  ..    long: $(cut -c1-300 "$LAB_RUN/long.json")"
check_eq "client exit status" "$rc" 0
check_eq "errors on the long-lived connections" \
	"$(jget "$LAB_RUN/long.json" errors)" 0
for ((i = 0; i < CONNS; i++)); do
	check_eq "connection $i served by" \
		"$(jget "$LAB_RUN/long.json" "by_conn[conn=$i].real")" real1
	check_range "connection $i lines answered" \
		"$(jget "$LAB_RUN/long.json" "by_conn[conn=$i].answered")" 60 110
	errors=$(jget "$LAB_RUN/long.json" "by_conn[conn=$i].errors")
	[[ $errors == "[]" ]] || echo "  ..    connection $i: $errors"
done
check_peers "long-lived connections" tcp $LAB_LADDRS4

# New connections follow the new ring: real1 has weight 10 of 410.
spread after --vip "$LAB_NAT_VIP4" --count 100
check_eq "new connections: all answered" \
	"$(jget "$LAB_RUN/after.json" ok)" 100
check_range "new connections that reach real1" \
	"$(jget "$LAB_RUN/after.json" by_real.real1 0)" 0 15
stats stats
check_no_drops "$LAB_RUN/stats.json"

e2e_end
