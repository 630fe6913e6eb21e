#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# ICMP errors through FULLNAT, both ways, IPv4 and IPv6.
# - From the real's side: a UDP VIP whose port nothing listens on at the
#   reals. Each real answers the local address with a port unreachable;
#   XLB finds the session by the quoted packet and sends the error on to
#   the client from the VIP, so the client's connected socket gets
#   "connection refused" at once instead of a timeout.
# - From the client's side: the client sends a request and closes its
#   socket before the answer; its kernel then answers the VIP with a port
#   unreachable, which XLB sends on to the real that answered.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
LAB_MODE=fullnat
e2e_begin "$@"

CLOSED=9999
# A real's kernel sends a burst of 6 errors to one destination, then one
# a second: stay within the burst.
N=4
lab_add_vip "$LAB_NAT_VIP4:$CLOSED/udp" maglev "1 1 1" 4 --mode fullnat
lab_add_vip "[$LAB_NAT_VIP6]:$CLOSED/udp" maglev "1 1 1" 6 --mode fullnat
lab_add_vip "$NAT_UDP4" maglev "1 1 1" 4 --mode fullnat
lab_add_vip "$NAT_UDP6" maglev "1 1 1" 6 --mode fullnat

for v in 4 6; do
	vip=$LAB_NAT_VIP4
	[[ $v == 6 ]] && vip=$LAB_NAT_VIP6
	spread "closed$v" --vip "$vip" --udp --port "$CLOSED" --count "$N" \
		--parallel 1
	check_eq "IPv$v: requests to a closed port refused (ICMP from the real)" \
		"$(jget "$LAB_RUN/closed$v.json" "errors.ConnectionRefusedError(111)" 0)" "$N"
done

# nstat COUNTER...: the sum of those counters on the three reals.
reals_nstat() {
	local i
	for i in 1 2 3; do
		lab_exec "real$i" nstat -az "$@"
	done | awk 'NR > 0 && $1 !~ /^#/ { n += $2 } END { print n + 0 }'
}
before4=$(reals_nstat IcmpInDestUnreachs)
before6=$(reals_nstat Icmp6InDestUnreachs)
for vip in "$LAB_NAT_VIP4" "$LAB_NAT_VIP6"; do
	lab_exec client "$LAB_PYTHON" -c '
import socket, sys, time
vip, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fam = socket.AF_INET6 if ":" in vip else socket.AF_INET
for _ in range(n):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.connect((vip, port))
    s.send(b"late\n")  # answered 0.3 s later
    s.close()  # so the answer finds no socket: the kernel says so
    time.sleep(0.05)' "$vip" "$LAB_UDP_PORT" "$N"
done
sleep 1
check_eq "IPv4: port unreachables from the client reached the reals" \
	$(($(reals_nstat IcmpInDestUnreachs) - before4)) "$N"
check_eq "IPv6: port unreachables from the client reached the reals" \
	$(($(reals_nstat Icmp6InDestUnreachs) - before6)) "$N"

stats stats
S=$LAB_RUN/stats.json
check_eq "ICMP errors with no session" \
	"$(reason "$S" drop_icmp_unmatched)" 0
check_no_drops "$S"

e2e_end
