#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Traffic that is not for a VIP goes through the xlb node untouched:
# pings to the node and through it, TCP and UDP to a real's own address
# (same port as the VIP, and another), over IPv4 and IPv6. XLB must count
# it as passed, and nothing against the VIP.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_begin "$@"

lab_add_vip "$VIP_TCP4" maglev "100 100 100" 4
lab_add_vip "$VIP_TCP6" maglev "100 100 100" 6

check "ping the xlb node" lab_exec client ping -q -c3 -i0.2 -W2 "$LAB_XLB4"
check "ping6 the xlb node" lab_exec client ping -q -c3 -i0.2 -W2 "$LAB_XLB6"
check "ping real2 through the xlb node" \
	lab_exec client ping -q -c3 -i0.2 -W2 "$(real_addr4 2)"
check "ping6 real2 through the xlb node" \
	lab_exec client ping -q -c3 -i0.2 -W2 "$(real_addr6 2)"

spread own4 --vip "$(real_addr4 2)" --port "$LAB_TCP_PORT" --count 20
check_eq "TCP to real2's own address, VIP port" \
	"$(jget "$LAB_RUN/own4.json" by_real.real2 0)" 20
spread other4 --vip "$(real_addr4 1)" --port "$LAB_PLAIN_PORT" --count 20
check_eq "TCP to real1's own address, port $LAB_PLAIN_PORT" \
	"$(jget "$LAB_RUN/other4.json" by_real.real1 0)" 20
spread own6 --vip "$(real_addr6 3)" --port "$LAB_TCP_PORT" --count 20
check_eq "TCP over IPv6 to real3's own address, VIP port" \
	"$(jget "$LAB_RUN/own6.json" by_real.real3 0)" 20
spread udp4 --udp --vip "$(real_addr4 3)" --port "$LAB_UDP_PORT" --count 20
check_eq "UDP to real3's own address" \
	"$(jget "$LAB_RUN/udp4.json" by_real.real3 0)" 20

stats stats
check_eq "packets XLB counted for the IPv4 VIP" \
	"$(jget "$LAB_RUN/stats.json" "vips[vip=$VIP_TCP4].packets")" 0
check_eq "packets XLB counted for the IPv6 VIP" \
	"$(jget "$LAB_RUN/stats.json" "vips[vip=$VIP_TCP6].packets")" 0
# 4 x 3 pings and 80 requests of several packets each, at least.
check_range "packets XLB passed as not for a VIP" \
	"$(jget "$LAB_RUN/stats.json" reasons.pass_not_vip)" 200 100000

e2e_end
