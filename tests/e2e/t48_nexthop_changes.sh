#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# xlbd's resolved next hops (user/nexthop.c) follow the kernel. One real,
# 10.96.0.2, is held by real1 and real2 (on lo, their decap accepting
# it), so that the xlb node's route to it can move between r1 and r2. A
# steady UDP stream of 32 flows (2000 packets/s) runs through a tunnel
# VIP while the kernel's tables change, and tcpdump on both reals records
# each frame's time and destination MAC:
#   move     the route moves from r1 to r2
#   ecmp     it becomes two next hops (r1, r2): the flows spread over
#            both, each flow on one of them only
#   single   back to r1 alone
#   mac      real1's MAC changes, then the xlb node's neighbour entry is
#            replaced with the new one (what a gratuitous ARP does)
#   gone     real1's MAC changes again, then the neighbour entry is
#            deleted: the kernel resolves it anew
# For each, the time from the kernel's change (just before the `ip`
# command) to the first frame on the new path must be under 100 ms, and
# no frame may take the old path (old interface, old MAC) after that.
# Most frames must have used the resolved next hops, not bpf_fib_lookup.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_begin "$@"

REAL=10.96.0.2
RATE=2000
MAC1=02:00:00:00:96:01
MAC2=02:00:00:00:96:02
for i in 1 2; do
	lab_addr "real$i" lo "$REAL/32"
	# Attached again: the program learns the reals' addresses then.
	# shellcheck disable=SC2086 # a list of prefixes
	lab_exec "real$i" "$LAB_BUILD/lbctl" decap attach eth0 \
		--from $LAB_TUNNEL_SOURCES >/dev/null
done
lab_route xlb "$REAL/32" via "$(real_addr4 1)" dev r1
lab_lbctl vip add "$VIP_UDP4" --hash maglev >/dev/null
lab_lbctl real add "$VIP_UDP4" "$REAL" --weight 100 >/dev/null
old_mac=$(lab_exec real1 cat /sys/class/net/eth0/address)

# Frames reaching each real's eth0 (after its decap, which keeps the
# Ethernet header), written as they come.
declare -A cap_pid
for i in 1 2; do
	# Not through lab_exec: $! must be tcpdump's (ip netns exec execs).
	ip netns exec "$(lab_ns "real$i")" tcpdump -i eth0 -U -n \
		-w "$LAB_RUN/real$i.pcap" "udp and dst port $LAB_UDP_PORT" \
		2>"$LAB_RUN/tcpdump$i.log" &
	cap_pid[$i]=$!
done
for i in 1 2; do
	for _ in $(seq 50); do
		grep -q "listening on" "$LAB_RUN/tcpdump$i.log" && break
		sleep 0.1
	done
done

# The stream (tools/lab/udp_stream.py): 32 client ports in turn, RATE
# datagrams a second, 8 s.
udp_stream "$RATE" 8 42000 "$LAB_VIP4"
sender=$!

sleep 1
timed_change move xlb_ip route replace "$REAL/32" \
	via "$(real_addr4 2)" dev r2
sleep 1
timed_change ecmp xlb_ip route replace "$REAL/32" \
	nexthop via "$(real_addr4 1)" dev r1 \
	nexthop via "$(real_addr4 2)" dev r2
sleep 1.5
timed_change single xlb_ip route replace "$REAL/32" \
	via "$(real_addr4 1)" dev r1
sleep 1
lab_exec real1 ip link set eth0 address "$MAC1"
timed_change mac xlb_ip neigh replace "$(real_addr4 1)" lladdr "$MAC1" \
	dev r1 nud reachable
sleep 1
lab_exec real1 ip link set eth0 address "$MAC2"
timed_change gone xlb_ip neigh del "$(real_addr4 1)" dev r1
wait "$sender"
sleep 0.3
for i in 1 2; do
	kill -TERM "${cap_pid[$i]}"
	wait "${cap_pid[$i]}" || true
	tcpdump -r "$LAB_RUN/real$i.pcap" -tt -e -n 2>/dev/null \
		>"$LAB_RUN/real$i.txt"
done
stats stats

# One line per case: NAME FOLLOW_MS STALE (frames on the old path after
# the first on the new one), and "ecmp" lines with the flows' spread.
"$LAB_PYTHON" - "$LAB_RUN" "$old_mac" "$MAC1" "$MAC2" >"$LAB_RUN/result" <<'EOF'
import sys
run, old, mac1, mac2 = sys.argv[1:]
frames = []  # (time, real, dst MAC, client port)
for r in (1, 2):
    for line in open(f"{run}/real{r}.txt"):
        f = line.split()
        if len(f) < 9 or not f[3].endswith(","):
            continue
        frames.append((float(f[0]), r, f[3].rstrip(","), f[9].rsplit(".", 1)[1]))
frames.sort()
ev = dict((l.split()[0], float(l.split()[1])) for l in open(f"{run}/events"))
order = ["move", "ecmp", "single", "mac", "gone"]
end = {n: (ev[order[i + 1]] if i + 1 < len(order) else 1e18)
       for i, n in enumerate(order)}

def case(name, new, old_path):
    t0 = ev[name]
    win = [x for x in frames if t0 <= x[0] < end[name]]
    first = next((x[0] for x in win if new(x)), None)
    if first is None:
        print(name, "none", len(win))
        return
    stale = sum(1 for x in win if x[0] > first and old_path(x))
    print(name, "%.1f" % ((first - t0) * 1000), stale)

case("move", lambda x: x[1] == 2, lambda x: x[1] == 1)
case("ecmp", lambda x: x[1] == 1, lambda x: False)
case("mac", lambda x: x[1] == 1 and x[2] == mac1, lambda x: x[2] == old)
case("gone", lambda x: x[1] == 1 and x[2] == mac2, lambda x: x[2] == mac1)
# Back to one path, r1, which had flows already: the time until r2's
# last frame, and r2's frames after 100 ms.
t0 = ev["single"]
win = [x for x in frames if t0 <= x[0] < end["single"]]
last = max([x[0] for x in win if x[1] == 2] or [t0])
print("single", "%.1f" % ((last - t0) * 1000),
      sum(1 for x in win if x[1] == 2 and x[0] > t0 + 0.1))
# ECMP, once settled: flows on each leg, flows seen on both.
t0 = ev["ecmp"] + 0.1
win = [x for x in frames if t0 <= x[0] < end["ecmp"]]
legs = {1: set(), 2: set()}
for x in win:
    legs[x[1]].add(x[3])
print("spread", len(legs[1]), len(legs[2]), len(legs[1] & legs[2]))
print("frames", len(frames))
EOF
cat "$LAB_RUN/result" | sed 's/^/  ..    /'

res() { awk -v n="$1" -v k="$2" '$1 == n { print $k }' "$LAB_RUN/result"; }
for name in move ecmp single mac gone; do
	check_range "$name: ms from the kernel's change to the new path" \
		"$(res "$name" 2 | cut -d. -f1)" 0 99
	check_eq "$name: frames on the old path after that" "$(res "$name" 3)" 0
done
check_range "ecmp: flows on r1" "$(res spread 2)" 4 28
check_range "ecmp: flows on r2" "$(res spread 3)" 4 28
check_eq "ecmp: flows on both legs" "$(res spread 4)" 0
sent=$(cat "$LAB_RUN/sent")
# Traffic kept flowing (a loaded machine loses a few to the veths).
check_range "frames received of the $sent sent" "$(res frames 2)" \
	$((sent * 90 / 100)) "$sent"
# The resolved next hops carried the stream: bpf_fib_lookup routed only
# what arrived while an entry was being re-resolved, or unresolved.
check_range "frames routed by bpf_fib_lookup" \
	"$(jget "$LAB_RUN/stats.json" nexthop_fallbacks)" 0 $((sent / 20))
check_no_drops "$LAB_RUN/stats.json"

e2e_end
