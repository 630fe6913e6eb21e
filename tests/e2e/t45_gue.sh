#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# GUE tunnel VIPs (encap: gue) on a node with gue_port 7000 and reals
# whose decap takes GUE apart on that port (lbctl decap attach
# --gue-port 7000): IPv4 over IPv4, IPv6 over IPv6 and IPv4 over IPv6
# (UDP), every connection answered and spread over the three reals. On
# real1's link (behind two kernel routers, so that a capture sees the
# frames the decap program takes apart) the tunnel is UDP to port 7000
# from the balancer's tunnel source, with a source port of 0xc000 |
# (flow hash & 0x3fff): one per flow, so the flows to real1 show about
# as many source ports as there are flows. No IPIP crosses the link.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
GUE_PORT=7000
LAB_PMTU_ROUTERS=1
LAB_XLBD_CONFIG=$(mktemp "${TMPDIR:-/tmp}/xlbt$$-gue.XXXXXX.yaml")
printf 'gue_port: %s\n' "$GUE_PORT" >"$LAB_XLBD_CONFIG"
e2e_begin "$@"
rm -f "$LAB_XLBD_CONFIG"

# The reals as the operator sets them up for this node's gue_port.
flag=()
[[ $LAB_XDP_MODE == generic ]] && flag=(--generic)
for ((i = 1; i <= LAB_NREALS; i++)); do
	# shellcheck disable=SC2086 # a list of prefixes
	lab_exec "real$i" "$LAB_BUILD/lbctl" decap attach eth0 \
		--from $LAB_TUNNEL_SOURCES --gue-port "$GUE_PORT" "${flag[@]}"
done

lab_add_vip "$VIP_TCP4" maglev "100 100 100" 4 --encap gue
lab_add_vip "$VIP_TCP6" maglev "100 100 100" 6 --encap gue
lab_add_vip "$VIP_UDP4" maglev "100 100 100" 6 --encap gue

lab_lbctl --json vip list >"$LAB_RUN/vips.json"
for vip in "$VIP_TCP4" "$VIP_TCP6" "$VIP_UDP4"; do
	check_eq "vip list: $vip encap" \
		"$(jget "$LAB_RUN/vips.json" "vips[vip=$vip].encap")" gue
done

# real1 answers the client through the routers: tell them the way.
lab_route rtb 10.99.0.0/24 via 10.95.2.1
lab_route rtb fd00:99::/64 via fd00:95:2::1
lab_route rta 10.99.0.0/24 via 10.95.1.1
lab_route rta fd00:99::/64 via fd00:95:1::1

CAP_PID=
# capture_start NAME: tcpdump on rtb's side of real1's link, text to
# $LAB_RUN/NAME.cap.
capture_start() {
	# ip netns exec execs tcpdump: $! is tcpdump's pid.
	ip netns exec "$(lab_ns rtb)" tcpdump -i eth1 -nn -q -l -Q out \
		'udp or ip proto 4 or ip proto 41 or ip6 proto 4 or
		ip6 proto 41' >"$LAB_RUN/$1.cap" 2>"$LAB_RUN/$1.caperr" &
	CAP_PID=$!
	wait_until 5 grep -q "listening on" "$LAB_RUN/$1.caperr"
}

capture_stop() {
	sleep 0.5
	kill -INT "$CAP_PID"
	wait "$CAP_PID" || true
}

# The source port of each captured GUE packet, one per line. (Only UDP
# and IPIP are captured; an IPIP line has no port after the address.)
gue_sports() {
	awk -v p="$GUE_PORT" '$5 ~ ("\\." p ":$") {
		n = split($3, a, "."); print a[n] }' "$1"
}

# The captured packets that are not GUE to the port (blank lines aside).
other_lines() {
	awk -v p="$GUE_PORT" 'NF && $5 !~ ("\\." p ":$")' "$1"
}

# Every captured packet is GUE; the others are printed.
no_other() {
	! other_lines "$1" | grep .
}

# run_family NAME SPREAD-ARGS...: a spread with a capture around it, and
# the checks of both.
run_family() {
	local name=$1 cap real1 pkts other ports out_of_range
	shift
	capture_start "$name"
	spread "$name" --count 600 "$@"
	capture_stop
	check_spread "$name" 30 real1:100 real2:100 real3:100
	cap=$LAB_RUN/$name.cap
	real1=$(jget "$LAB_RUN/$name.json" by_real.real1 0)
	pkts=$(gue_sports "$cap" | wc -l)
	other=$(other_lines "$cap" | wc -l)
	ports=$(gue_sports "$cap" | sort -u | wc -l)
	out_of_range=$(gue_sports "$cap" | awk '$1 < 49152 || $1 > 65535' |
		wc -l)
	echo "  ..    $name: real1 $real1 flows, $pkts GUE packets to" \
		"port $GUE_PORT, $ports source ports, $other other"
	check_range "$name: GUE packets to real1 (at least one per flow)" \
		"$pkts" "$real1" 100000
	check "$name: nothing but GUE on real1's link ($other other)" \
		no_other "$cap"
	# 14 bits of hash: a few flows may share a port, none is split.
	check_range "$name: distinct source ports vs flows" "$ports" \
		$((real1 * 95 / 100)) "$real1"
	check_eq "$name: source ports outside 0xc000..0xffff" \
		"$out_of_range" 0
}

run_family gue4
run_family gue6 --v6
run_family gue4in6 --udp --port "$LAB_UDP_PORT"

e2e_end
