#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# A spoofed ACK flood (issue 13). A mixed lab with a tunnel VIP
# (10.100.0.10:80) and a FULLNAT VIP (10.100.0.20:80). While 200
# long-lived connections talk (100 to each VIP, a line every 100 ms) and
# 20 new connections a second open (10 to each), xlb-bench's live-frames
# generator sends pure TCP ACKs from random sources (65,536 addresses x
# 256 ports) to both VIPs for 10 s, as fast as one thread goes, from the
# client's namespace through the node.
#
# Asserted: no long-lived connection broken; at least 99% of the new
# connections served; the FULLNAT sessions grow by no more than the
# real connections opened meanwhile (a spoofed ACK makes none); xlbd
# still running. Printed: the generator's rate, what the node counted,
# the sessions, the clients' figures.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
LAB_MODE=mixed
e2e_begin "$@"

FLOOD_S=10
CONNS=100 # per VIP
NEW_RATE=10
BENCH=$LAB_BUILD/bench/xlb-bench
[[ -x $BENCH ]] || lab_die "$BENCH missing: make build/bench/xlb-bench"

lab_add_vip "$VIP_TCP4" maglev "100 100 100" 4
lab_add_vip "$NAT_TCP4" maglev "100 100 100" 4 --mode fullnat

# flows NAME VIP: tools/xlb-flows.py on the client until SIGTERM.
flows() {
	lab_spawn client "flows-$1" "$LAB_PYTHON" "$LAB_ROOT/tools/xlb-flows.py" \
		--vip "$2" --conns "$CONNS" --new-rate "$NEW_RATE" \
		--interval-ms 100 --reply-timeout 3 --new-timeout 3 \
		--duration 90 --ready-file "$LAB_RUN/flows-$1.ready"
}
flows tun "$LAB_VIP4"
flows nat "$LAB_NAT_VIP4"
for n in tun nat; do
	wait_until 20 test -s "$LAB_RUN/flows-$n.ready" ||
		lab_die "flows $n: not ready: $(cat "$LAB_RUN/flows-$n.log")"
done
sleep 1

# The FULLNAT sessions xlbd counts; "none" when it does not answer.
sessions() {
	local out
	out=$(lab_lbctl --json stats 2>/dev/null) || {
		echo none
		return 0
	}
	jget /dev/stdin fullnat.sessions 0 <<<"$out"
}

# Every reason counter moved, summed: every packet the node's program saw.
handled() {
	"$LAB_PYTHON" - "$@" <<'EOF'
import json, sys
b = json.load(open(sys.argv[1]))["reasons"]
a = json.load(open(sys.argv[2]))["reasons"]
print(sum(a[n] - b.get(n, 0) for n in a))
EOF
}

# stats NAME, retried: xlbd's census walks every conntrack entry and
# session, which a flood fills, on a machine the flood keeps busy.
stats_retry() {
	local tries=6
	until lab_lbctl --json stats >"$LAB_RUN/$1.json" 2>/dev/null; do
		((--tries > 0)) || lab_die "xlbd did not answer lbctl stats"
	done
}

dmac=$(lab_exec xlb cat /sys/class/net/eth0/address)
sessions0=$(sessions)
stats before
start=$SECONDS
# At the lowest priority: the node's NAPI threads, the reals and the
# clients go first, the generator takes what is left of the CPUs.
lab_exec client nice -n 19 "$BENCH" flood --ifname eth0 --dmac "$dmac" \
	--dst "$LAB_VIP4:$LAB_TCP_PORT" --dst "$LAB_NAT_VIP4:$LAB_TCP_PORT" \
	--src 10.214.0.0 --naddrs 65536 --seconds "$FLOOD_S" \
	>"$LAB_RUN/flood.json" 2>"$LAB_RUN/flood.err" &
flood=$!
max=$sessions0
samples=0
unanswered=0
while kill -0 "$flood" 2>/dev/null; do
	n=$(sessions)
	samples=$((samples + 1))
	if [[ $n == none ]]; then
		unanswered=$((unanswered + 1))
	elif ((n > max)); then
		max=$n
	fi
	# Each count is a census of every table: not too often.
	sleep 2
done
rc=0
wait "$flood" || rc=$?
took=$((SECONDS - start))
stats_retry after
check_eq "the generator's exit status" "$rc" 0
[[ -s $LAB_RUN/flood.err ]] && sed 's/^/        /' "$LAB_RUN/flood.err"
sessions1=$(jget "$LAB_RUN/after.json" fullnat.sessions 0)
((sessions1 > max)) && max=$sessions1

for n in tun nat; do
	kill -TERM "$(cat "$LAB_RUN/flows-$n.pid")"
done
for n in tun nat; do
	wait_until 10 grep -q '^{' "$LAB_RUN/flows-$n.log" || true
	grep '^{' "$LAB_RUN/flows-$n.log" | tail -n 1 >"$LAB_RUN/flows-$n.json" ||
		echo '{}' >"$LAB_RUN/flows-$n.json"
done

F=$LAB_RUN/flood.json
sent=$(jget "$F" sent 0)
B=$LAB_RUN/before.json
A=$LAB_RUN/after.json
seen=$(handled "$B" "$A")
echo "  ..    generator: $sent spoofed ACKs in $(jget "$F" seconds 0) s:" \
	"$(jget "$F" pps 0) frames/s sent"
vip_tun=$(($(jget "$A" "vips[vip=$VIP_TCP4].packets" 0) -
	$(jget "$B" "vips[vip=$VIP_TCP4].packets" 0)))
vip_nat=$(($(jget "$A" "vips[vip=$NAT_TCP4].packets" 0) -
	$(jget "$B" "vips[vip=$NAT_TCP4].packets" 0)))
# Every packet the program saw has one reason: the rate through the node.
echo "  ..    through the node: its program counted $seen packets in" \
	"${took} s (~$((seen / FLOOD_S)) /s over the flood's ${FLOOD_S} s;" \
	"what else the generator sent found the node's receive ring full);" \
	"forwarded for the VIPs: tunnel +$vip_tun, FULLNAT +$vip_nat"
echo "  ..    reasons: $("$LAB_PYTHON" -c 'import json, sys
b = json.load(open(sys.argv[1]))["reasons"]
a = json.load(open(sys.argv[2]))["reasons"]
print(" ".join(f"{n}=+{a[n] - b.get(n, 0)}" for n in a
               if a[n] != b.get(n, 0)))' "$B" "$A")"
check_range "spoofed ACKs sent" "$sent" 1 1000000000000

tun_new=0
nat_new=0
for n in tun nat; do
	J=$LAB_RUN/flows-$n.json
	echo "  ..    flows $n: $(cut -c1-400 "$J")"
	check_eq "$n: long-lived connections broken" \
		"$(jget "$J" long.broken missing)" 0
	attempted=$(jget "$J" new.attempted 0)
	failed=$(jget "$J" new.failed 0)
	echo "  ..    $n: new connections served" \
		"$((attempted - failed)) of $attempted"
	check_range "$n: new connections served (per mille)" \
		$(((attempted - failed) * 1000 / (attempted > 0 ? attempted : 1))) \
		990 1000
	check_range "$n: new connections attempted" "$attempted" \
		$((NEW_RATE * FLOOD_S)) 100000
	[[ $n == nat ]] && nat_new=$((attempted + $(jget "$J" long.opened 0) -
		CONNS))
	[[ $n == tun ]] && tun_new=$attempted
done
echo "  ..    FULLNAT sessions: $sessions0 before the flood, at most $max" \
	"during it, $sessions1 after; real connections opened meanwhile:" \
	"at most $nat_new ($tun_new to the tunnel VIP)"
echo "  ..    lbctl stats during the flood: $unanswered of $samples" \
	"unanswered (5 s timeout)"
check_range "FULLNAT sessions' growth during the flood" \
	$((max - sessions0)) 0 "$nat_new"
check "xlbd still running" kill -0 "$(cat "$LAB_RUN/xlbd.pid")"
check "xlbd answers" lab_lbctl ping

e2e_end
