#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Data-path health checks of tunnel VIPs (docs/HEALTH.md): the checks of
# a tunnel VIP reach the real encapsulated and addressed to the VIP, so
# each of the three DSR black holes takes that real down within
# fall x interval + timeout, while a direct check of the same real (a
# second VIP whose checks say `through: direct`) still says up:
#   real1 loses the VIP on lo     (IPv4 TCP and UDP checks; IPv6 stays)
#   real2 loses its decap program (IPv4 and IPv6 checks, IPIP and GUE)
#   real3 refuses the IPv4 tunnel sources (IPv6 stays): its decap
#     program's allow-list no longer holds them. (nftables on the real
#     cannot stand in for this firewall: the decap program runs in XDP,
#     before netfilter, which sees only the inner packet.)
# Each repaired real comes back within rise x interval + timeout.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

CONF_DIR=$(mktemp -d /tmp/xlb-hdp.XXXXXX)
LAB_XLBD_CONFIG=$CONF_DIR/xlb.yaml
INTERVAL_MS=300
TIMEOUT_MS=200
RISE=2
FALL=2
TIMING="interval: ${INTERVAL_MS}ms, timeout: ${TIMEOUT_MS}ms, rise: $RISE, fall: $FALL"
R4="[10.98.1.2, 10.98.2.2, 10.98.3.2]"
R6="[\"fd00:98:1::2\", \"fd00:98:2::2\", \"fd00:98:3::2\"]"
T4="10.100.0.10:80/tcp"
U4="10.100.0.10:5353/udp"
T6="[fd00:100::10]:80/tcp"
D4="10.100.0.11:80/tcp"
G4="10.100.0.10:$LAB_PLAIN_PORT/tcp"
cat >"$LAB_XLBD_CONFIG" <<CONF
vips:
  - vip: $T4
    health: {type: tcp, $TIMING}
    reals: $R4
  - vip: $U4
    health: {type: udp, send: "ping 1", expect: "real", $TIMING}
    reals: $R4
  - vip: "$T6"
    health: {type: tcp, through: tunnel, $TIMING}
    reals: $R6
  - vip: $D4
    health: {type: http, through: direct, $TIMING}
    reals: $R4
  - vip: $G4
    encap: gue
    health: {type: tcp, $TIMING}
    reals: $R4
CONF
e2e_begin "$@"
trap 'rc=$?; rm -rf "$CONF_DIR"; (exit $rc); e2e_cleanup' EXIT

# The node announces its VIPs as xlbd does (a blackhole route) and
# filters by reverse path: to its kernel the reals' answers from the VIP
# are martians, which the probes must read anyway (docs/HEALTH.md).
lab_exec xlb ip route add blackhole "$LAB_VIP4/32"
lab_exec xlb ip route add blackhole "$LAB_VIP6/128"
lab_exec xlb sysctl -qw net.ipv4.conf.all.rp_filter=1 \
	net.ipv4.conf.r1.rp_filter=1 net.ipv4.conf.r2.rp_filter=1 \
	net.ipv4.conf.r3.rp_filter=1


DOWN_BOUND=$((FALL * INTERVAL_MS + TIMEOUT_MS + 150))
UP_BOUND=$((RISE * INTERVAL_MS + TIMEOUT_MS + 150))

for r in 10.98.1.2 10.98.2.2 10.98.3.2; do
	for v in "$T4" "$U4" "$D4" "$G4"; do
		check "$r of $v is up before the test" \
			test "$(hc until up "$v" "$r")" -lt 5000
	done
done
for r in fd00:98:1::2 fd00:98:2::2 fd00:98:3::2; do
	check "$r of $T6 is up before the test" \
		test "$(hc until up "$T6" "$r")" -lt 5000
done
downs_at_start=$(grep -c "of $D4 is down" "$LAB_RUN/xlbd.log" || true)
check_eq "the TCP VIP's checks go through the tunnel" \
	"$(hc get "$T4" 10.98.1.2 through)" tunnel
check_eq "the UDP VIP's checks go through the tunnel" \
	"$(hc get "$U4" 10.98.1.2 through)" tunnel
check_eq "the IPv6 VIP's checks go through the tunnel" \
	"$(hc get "$T6" fd00:98:1::2 through)" tunnel
check_eq "the GUE VIP's checks go through the tunnel" \
	"$(hc get "$G4" 10.98.1.2 through)" tunnel
check_eq "a tunnel check through GUE's last result" \
	"$(hc get "$G4" 10.98.1.2 last)" \
	"SYN-ACK from the VIP through the tunnel"
# The GUE VIP's probes leave the node as GUE, those of the others as IPIP.
gue_seen=$(lab_exec xlb timeout 3 tcpdump -ni r1 -c 2 -q \
	"src net 172.16.0.0/16 and udp dst port 6080" 2>&1 |
	grep -c "UDP" || true)
check_range "GUE probes seen leaving towards real1" "$gue_seen" 1 2
ipip_seen=$(lab_exec xlb timeout 3 tcpdump -ni r1 -c 2 -q \
	"src net 172.16.0.0/16 and ip proto 4" 2>&1 | grep -c "IP" || true)
check_range "IPIP probes seen leaving towards real1" "$ipip_seen" 1 2
check_eq "the direct VIP's checks go direct" \
	"$(hc get "$D4" 10.98.1.2 through)" direct
check_eq "a tunnel check's last result" \
	"$(hc get "$T4" 10.98.1.2 last)" \
	"SYN-ACK from the VIP through the tunnel"
check_eq "a tunnel UDP check's last result" \
	"$(hc get "$U4" 10.98.1.2 last)" \
	"UDP reply from the VIP through the tunnel"
check_eq "the inner source is the node's address towards the real" \
	"$(hc get "$T4" 10.98.1.2 source)" 10.98.1.1
# The node's kernel dropped the IPv4 answers it saw as martians.
rpf=$(lab_exec xlb nstat -az TcpExtIPReversePathFilter |
	awk '$1 == "TcpExtIPReversePathFilter" { print $2 }')
check_range "answers the node's reverse-path filter dropped" "${rpf:-0}" \
	1 1000000

# black_hole NAME VIP REAL BREAK...: run BREAK, measure until REAL of VIP
# is down, and print the time.
black_hole() {
	local name=$1 vip=$2 real=$3 trig ms
	shift 3
	trig=$LAB_RUN/break.$name
	hc until down "$vip" "$real" "$trig" >"$LAB_RUN/$name.ms" &
	local poller=$!
	sleep 0.3
	touch "$trig"
	"$@"
	wait "$poller"
	ms=$(cat "$LAB_RUN/$name.ms")
	echo "  ..    $name: $real of $vip down after $ms ms" \
		"(bound $DOWN_BOUND ms)"
	check_range "$name: time to mark $real of $vip down (ms)" \
		"$ms" 0 "$DOWN_BOUND"
}

# repaired NAME VIP REAL FIX...: the same for coming back up.
repaired() {
	local name=$1 vip=$2 real=$3 trig ms
	shift 3
	trig=$LAB_RUN/fix.$name
	hc until up "$vip" "$real" "$trig" >"$LAB_RUN/$name.up.ms" &
	local poller=$!
	sleep 0.3
	touch "$trig"
	"$@"
	wait "$poller"
	ms=$(cat "$LAB_RUN/$name.up.ms")
	echo "  ..    $name repaired: $real of $vip up after $ms ms" \
		"(bound $UP_BOUND ms)"
	check_range "$name: time to bring $real of $vip back (ms)" \
		"$ms" 0 "$UP_BOUND"
}

# A check of the state after one more fall x interval: the real stays
# as it is (not a flap that happened to be seen).
settle() { sleep "$(((FALL * INTERVAL_MS + TIMEOUT_MS) / 1000 + 1))"; }

# 1. real1 without the VIP on lo: the tunnel arrives, the decap program
# strips it, and the kernel has no address for the inner packet.
black_hole no_vip "$T4" 10.98.1.2 \
	ip -n "$(lab_ns real1)" addr del "$LAB_VIP4/32" dev lo
check_range "no_vip: real1 of the UDP VIP down too (ms after the TCP one)" \
	"$(hc until down "$U4" 10.98.1.2)" 0 "$DOWN_BOUND"
settle
check_eq "no_vip: real1 of the TCP VIP stays down" \
	"$(hc get "$T4" 10.98.1.2 state)" down
check_eq "no_vip: real1 of the UDP VIP is down" \
	"$(hc get "$U4" 10.98.1.2 state)" down
check "no_vip: the reason is the missing SYN-ACK" \
	grep -q "real 10.98.1.2 of $T4 is down: timeout after ${TIMEOUT_MS} ms (no SYN-ACK through the tunnel)" \
	"$LAB_RUN/xlbd.log"
check_eq "no_vip: the direct check of real1 still says up" \
	"$(hc get "$D4" 10.98.1.2 state)" up
check_eq "no_vip: real1 of the IPv6 VIP (still on lo) is up" \
	"$(hc get "$T6" fd00:98:1::2 state)" up
repaired no_vip "$T4" 10.98.1.2 \
	ip -n "$(lab_ns real1)" addr add "$LAB_VIP4/32" dev lo

# 2. real2 without its decap program: nothing strips the tunnel.
black_hole no_decap "$T4" 10.98.2.2 \
	lab_exec real2 "$LAB_BUILD/lbctl" decap detach eth0
check_range "no_decap: time to mark real2 of the IPv6 VIP down (ms)" \
	"$(hc until down "$T6" fd00:98:2::2)" 0 "$DOWN_BOUND"
check_range "no_decap: time to mark real2 of the GUE VIP down (ms)" \
	"$(hc until down "$G4" 10.98.2.2)" 0 "$DOWN_BOUND"
settle
check_eq "no_decap: real2 of the TCP VIP stays down" \
	"$(hc get "$T4" 10.98.2.2 state)" down
check_eq "no_decap: the direct check of real2 still says up" \
	"$(hc get "$D4" 10.98.2.2 state)" up
decap_flag=()
[[ $LAB_XDP_MODE == generic ]] && decap_flag=(--generic)
# shellcheck disable=SC2086 # a list of prefixes
repaired no_decap "$T4" 10.98.2.2 \
	lab_exec real2 "$LAB_BUILD/lbctl" decap attach eth0 \
	--from $LAB_TUNNEL_SOURCES "${decap_flag[@]}"

# 3. real3 refuses the balancers' IPv4 tunnel sources: its decap
# program accepts tunnels from another range only.
black_hole firewall "$T4" 10.98.3.2 \
	lab_exec real3 "$LAB_BUILD/lbctl" decap attach eth0 \
	--from 172.31.0.0/16 fc00:2::/96 "${decap_flag[@]}"
settle
check_eq "firewall: real3 of the TCP VIP stays down" \
	"$(hc get "$T4" 10.98.3.2 state)" down
check_eq "firewall: the direct check of real3 still says up" \
	"$(hc get "$D4" 10.98.3.2 state)" up
check_eq "firewall: real3 of the IPv6 VIP (other sources) is up" \
	"$(hc get "$T6" fd00:98:3::2 state)" up
check_eq "firewall: real3 of the GUE VIP (same sources) is down" \
	"$(hc get "$G4" 10.98.3.2 state)" down
# shellcheck disable=SC2086 # a list of prefixes
repaired firewall "$T4" 10.98.3.2 \
	lab_exec real3 "$LAB_BUILD/lbctl" decap attach eth0 \
	--from $LAB_TUNNEL_SOURCES "${decap_flag[@]}"

for r in 10.98.1.2 10.98.2.2 10.98.3.2; do
	for v in "$T4" "$U4" "$G4"; do
		check "$r of $v is up after the repairs" \
			test "$(hc until up "$v" "$r")" -lt "$UP_BOUND"
	done
done
check_eq "no direct check went down during the test" \
	"$(grep -c "of $D4 is down" "$LAB_RUN/xlbd.log" || true)" \
	"$downs_at_start"
e2e_end
