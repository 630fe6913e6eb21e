#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# FULLNAT with no neighbour entry for the reals: XLB hands the translated
# packet to the kernel (pass_no_neighbour), whose source is then one of
# the node's own local addresses. IPv4 drops such a packet as a martian
# unless accept_local is on, which xlbd must set on the interfaces it
# attaches to once it has a local pool (the lab leaves it to xlbd here:
# LAB_ACCEPT_LOCAL=0). Connections then work from the first SYN, and the
# kernel resolves the neighbours for the next ones.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
LAB_MODE=fullnat
LAB_ACCEPT_LOCAL=0
e2e_begin "$@"

for ifname in $(lab_xlb_ifaces); do
	check_eq "xlbd set accept_local on $ifname" "$(lab_exec xlb sysctl -n \
		"net.ipv4.conf.$ifname.accept_local")" 1
done

lab_add_vip "$NAT_TCP4" maglev "1 1 1" 4 --mode fullnat
lab_add_vip "$NAT_TCP6" maglev "1 1 1" 6 --mode fullnat
for i in 1 2 3; do
	lab_exec xlb ip neigh flush dev "r$i"
done

spread tcp4 --vip "$LAB_NAT_VIP4" --count 60
spread tcp6 --vip "$LAB_NAT_VIP6" --count 60
check_eq "IPv4 connections answered" "$(jget "$LAB_RUN/tcp4.json" ok)" 60
check_eq "IPv6 connections answered" "$(jget "$LAB_RUN/tcp6.json" ok)" 60
stats stats
check_range "packets XLB handed to the kernel for want of a neighbour" \
	"$(reason "$LAB_RUN/stats.json" pass_no_neighbour)" 1 1000
check_no_drops "$LAB_RUN/stats.json"

e2e_end
