#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Data-path health checks of FULLNAT VIPs (docs/HEALTH.md): the checks
# leave from a local address of the pool, as the data plane's packets
# do, so a real that lost its route back to the local pool goes down
# within fall x interval + timeout, while a direct check of the same real
# (from the node's own address, a second VIP with `through: direct`)
# still says up. IPv4 (TCP check) on real1, IPv6 (HTTP check) on real2.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
LAB_MODE=fullnat

CONF_DIR=$(mktemp -d /tmp/xlb-hdpn.XXXXXX)
LAB_XLBD_CONFIG=$CONF_DIR/xlb.yaml
INTERVAL_MS=300
TIMEOUT_MS=200
RISE=2
FALL=2
TIMING="interval: ${INTERVAL_MS}ms, timeout: ${TIMEOUT_MS}ms, rise: $RISE, fall: $FALL"
R4="[10.98.1.2, 10.98.2.2, 10.98.3.2]"
R6="[\"fd00:98:1::2\", \"fd00:98:2::2\", \"fd00:98:3::2\"]"
N4="$LAB_NAT_VIP4:80/tcp"
N6="[$LAB_NAT_VIP6]:80/tcp"
D4="10.100.0.21:80/tcp"
cat >"$LAB_XLBD_CONFIG" <<CONF
fullnat:
  local_addresses: [${LAB_LADDRS4// /, }, "$LAB_LADDRS6"]
vips:
  - vip: $N4
    mode: fullnat
    health: {type: tcp, $TIMING}
    reals: $R4
  - vip: "$N6"
    mode: fullnat
    health: {type: http, through: datapath, $TIMING}
    reals: $R6
  - vip: $D4
    mode: fullnat
    health: {type: tcp, through: direct, $TIMING}
    reals: $R4
CONF
# The pool comes from the configuration, not from lbctl.
lab_add_laddrs() { :; }
e2e_begin "$@"
trap 'rc=$?; rm -rf "$CONF_DIR"; (exit $rc); e2e_cleanup' EXIT


DOWN_BOUND=$((FALL * INTERVAL_MS + TIMEOUT_MS + 150))
UP_BOUND=$((RISE * INTERVAL_MS + TIMEOUT_MS + 150))

for r in 10.98.1.2 10.98.2.2 10.98.3.2; do
	for v in "$N4" "$D4"; do
		check "$r of $v is up before the test" \
			test "$(hc until up "$v" "$r")" -lt 5000
	done
done
for r in fd00:98:1::2 fd00:98:2::2 fd00:98:3::2; do
	check "$r of $N6 is up before the test" \
		test "$(hc until up "$N6" "$r")" -lt 5000
done
downs_at_start=$(grep -c "of $D4 is down" "$LAB_RUN/xlbd.log" || true)
first4=${LAB_LADDRS4%% *}
check_eq "the FULLNAT VIP's checks leave from a local address" \
	"$(hc get "$N4" 10.98.1.2 through) $(hc get "$N4" 10.98.1.2 source)" \
	"local $first4"
check_eq "the IPv6 FULLNAT VIP's checks too" \
	"$(hc get "$N6" fd00:98:1::2 through) $(hc get "$N6" fd00:98:1::2 source)" \
	"local $LAB_LADDRS6"
check_eq "the direct VIP's checks go direct" \
	"$(hc get "$D4" 10.98.1.2 through)" direct
check_eq "the IPv6 HTTP check's last result" \
	"$(hc get "$N6" fd00:98:1::2 last)" "HTTP status 200"

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

# 1. real1 loses its IPv4 route to the local pool.
black_hole no_route4 "$N4" 10.98.1.2 \
	ip -n "$(lab_ns real1)" route del "$LAB_LADDR_NET4"
settle
check_eq "no_route4: real1 of the FULLNAT VIP stays down" \
	"$(hc get "$N4" 10.98.1.2 state)" down
check "no_route4: the reason is the connect timeout" \
	grep -q "real 10.98.1.2 of $N4 is down: timeout after ${TIMEOUT_MS} ms (connect)" \
	"$LAB_RUN/xlbd.log"
check_eq "no_route4: the direct check of real1 still says up" \
	"$(hc get "$D4" 10.98.1.2 state)" up
check_eq "no_route4: real1 of the IPv6 VIP (its route kept) is up" \
	"$(hc get "$N6" fd00:98:1::2 state)" up
repaired no_route4 "$N4" 10.98.1.2 \
	ip -n "$(lab_ns real1)" route add "$LAB_LADDR_NET4" via "$(xlb_addr4 1)"

# 2. real2 loses its IPv6 route to the local pool.
black_hole no_route6 "$N6" fd00:98:2::2 \
	ip -n "$(lab_ns real2)" route del "$LAB_LADDR_NET6"
settle
check_eq "no_route6: real2 of the IPv6 FULLNAT VIP stays down" \
	"$(hc get "$N6" fd00:98:2::2 state)" down
check_eq "no_route6: real2 of the IPv4 VIPs is up" \
	"$(hc get "$N4" 10.98.2.2 state) $(hc get "$D4" 10.98.2.2 state)" \
	"up up"
repaired no_route6 "$N6" fd00:98:2::2 \
	ip -n "$(lab_ns real2)" route add "$LAB_LADDR_NET6" via "$(xlb_addr6 2)"

check_eq "no direct check went down during the test" \
	"$(grep -c "of $D4 is down" "$LAB_RUN/xlbd.log" || true)" \
	"$downs_at_start"
e2e_end
