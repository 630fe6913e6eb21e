#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# FULLNAT replies keep their session's next hop (bpf/nexthop.h
# route_reply) and follow the kernel when it changes. A steady UDP stream
# of 32 flows (1000 datagrams/s) runs through a FULLNAT VIP, each answered
# by its real; tcpdump on the client records each reply frame's time and
# destination MAC while the xlb node's neighbour entry for the client
# changes:
#   mac      the client's MAC changes, then the xlb node's neighbour entry
#            is replaced with the new one (what a gratuitous ARP does)
#   gone     the client's MAC changes again, then the entry is deleted:
#            the kernel resolves it anew
# For each, the time from the kernel's change (just before the `ip`
# command) to the first reply to the new MAC must be under 100 ms, and no
# reply may go to the old MAC after that. Most replies must have used
# their session's kept next hop, not bpf_fib_lookup.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
LAB_MODE=fullnat
e2e_begin "$@"

RATE=1000
MAC1=02:00:00:00:99:01
MAC2=02:00:00:00:99:02
lab_add_vip "$NAT_UDP4" maglev "100 100 100" 4 --mode fullnat
old_mac=$(lab_exec client cat /sys/class/net/eth0/address)

# Reply frames reaching the client's eth0, whatever their MAC (a frame to
# another MAC is still seen here, then dropped by the client's stack).
ip netns exec "$(lab_ns client)" tcpdump -i eth0 -U -n \
	-w "$LAB_RUN/client.pcap" "udp and src port $LAB_UDP_PORT" \
	2>"$LAB_RUN/tcpdump.log" &
cap_pid=$!
for _ in $(seq 50); do
	grep -q "listening on" "$LAB_RUN/tcpdump.log" && break
	sleep 0.1
done

# The stream (tools/lab/udp_stream.py): 32 client ports in turn, RATE
# datagrams a second, 5 s, its replies read.
udp_stream "$RATE" 5 43000 "$LAB_NAT_VIP4" --read
sender=$!

sleep 1.5
lab_exec client ip link set eth0 address "$MAC1"
timed_change mac xlb_ip neigh replace "$LAB_CLIENT4" lladdr "$MAC1" \
	dev eth0 nud reachable
sleep 1.5
lab_exec client ip link set eth0 address "$MAC2"
timed_change gone xlb_ip neigh del "$LAB_CLIENT4" dev eth0
wait "$sender"
sleep 0.3
kill -TERM "$cap_pid"
wait "$cap_pid" || true
tcpdump -r "$LAB_RUN/client.pcap" -tt -e -n 2>/dev/null >"$LAB_RUN/client.txt"
stats stats

# One line per case: NAME FOLLOW_MS STALE (replies to the old MAC after
# the first to the new one); then the replies seen before the first
# change, and in all.
"$LAB_PYTHON" - "$LAB_RUN" "$old_mac" "$MAC1" "$MAC2" >"$LAB_RUN/result" <<'EOF'
import sys
run, old, mac1, mac2 = sys.argv[1:]
frames = []  # (time, dst MAC)
for line in open(f"{run}/client.txt"):
    f = line.split()
    if len(f) < 4 or not f[3].endswith(","):
        continue
    frames.append((float(f[0]), f[3].rstrip(",")))
frames.sort()
ev = dict((l.split()[0], float(l.split()[1])) for l in open(f"{run}/events"))
end = {"mac": ev["gone"], "gone": 1e18}

def case(name, new, old_mac):
    t0 = ev[name]
    win = [x for x in frames if t0 <= x[0] < end[name]]
    first = next((x[0] for x in win if x[1] == new), None)
    if first is None:
        print(name, "none", len(win))
        return
    stale = sum(1 for x in win if x[0] > first and x[1] == old_mac)
    print(name, "%.1f" % ((first - t0) * 1000), stale)

case("mac", mac1, old)
case("gone", mac2, mac1)
print("before", sum(1 for x in frames if x[0] < ev["mac"] and x[1] == old))
print("frames", len(frames))
EOF
sed 's/^/  ..    /' "$LAB_RUN/result"

res() { awk -v n="$1" -v k="$2" '$1 == n { print $k }' "$LAB_RUN/result"; }
for name in mac gone; do
	check_range "$name: ms from the kernel's change to the new MAC" \
		"$(res "$name" 2 | cut -d. -f1)" 0 99
	check_eq "$name: replies to the old MAC after that" "$(res "$name" 3)" 0
done
sent=$(cat "$LAB_RUN/sent")
check_range "replies before the first change" "$(res before 2)" \
	"$RATE" $((RATE * 16 / 10))
# Traffic kept flowing (a loaded machine loses a few to the veths).
check_range "replies seen of the $sent sent" "$(res frames 2)" \
	$((sent * 90 / 100)) "$sent"
# The sessions' kept next hops carried the replies: bpf_fib_lookup routed
# each session's first reply and its first after each new route epoch
# (32 per epoch: one per change here, one per other neighbour event of
# the node, such as a state change), and, while the neighbour was being
# resolved anew, what the kernel forwarded. A run sees ~200.
check_range "replies routed by bpf_fib_lookup" \
	"$(jget "$LAB_RUN/stats.json" nexthop_reply_lookups)" 96 $((sent / 10))
check_no_drops "$LAB_RUN/stats.json"

e2e_end
