#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# FULLNAT under load: wrk opens thousands of short HTTP connections (one
# request each) to a FULLNAT VIP on a two-armed node, whose reals know
# nothing of XLB. Every request is answered, the reals' servers see only
# XLB's local addresses, each real gets its share, and XLB counts one
# new flow per connection, replies on the way back and no drop.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
LAB_MODE=fullnat
e2e_begin "$@"

lab_add_vip "$NAT_TCP4" maglev "100 100 100" 4 --mode fullnat

wrk_run http "http://$LAB_NAT_VIP4:$LAB_TCP_PORT/" 8
check_wrk http 2000
requests=$(jget "$LAB_RUN/http.json" requests 0)

# The servers' access logs: one line per connection, with the peer.
check_peers "HTTP over FULLNAT" tcp $LAB_LADDRS4
# wrk leaves connections unfinished when time is up (one per slot, and
# one more that a slot opened just before its thread stopped was seen
# here): a few more connections than completed requests, never fewer.
check_range "connections the servers logged" "$(peer_count tcp)" \
	"$requests" $((requests + 64))
for i in 1 2 3; do
	n=$(grep -c '^peer tcp' "$LAB_RUN/echo-real$i.log" || true)
	check_range "real$i's share of the connections" "$n" \
		$((requests * 60 / 300)) $((requests * 140 / 300))
done

stats stats
S=$LAB_RUN/stats.json
# New flows count connection starts (a client's SYN, a reused client
# port included): one per connection the client opened, which is at
# least the completed requests and about the connections the servers
# logged (a SYN still on its way when wrk stopped is counted here and
# logged nowhere).
flows=$(jget "$S" "vips[vip=$NAT_TCP4].new_flows")
logged=$(peer_count tcp)
echo "  ..    $flows new flows for $requests requests, $logged connections logged"
check_range "VIP new flows (one per connection)" "$flows" \
	"$requests" $((logged + 16))
check_range "VIP packets towards the reals (4 to 10 per connection)" \
	"$(jget "$S" "vips[vip=$NAT_TCP4].packets")" \
	$((requests * 4)) $((requests * 10 + 160))
check_range "VIP reply packets back to the client (3 to 10 each)" \
	"$(jget "$S" "vips[vip=$NAT_TCP4].reply_packets" 0)" \
	$((requests * 3)) $((requests * 10 + 160))
check_no_drops "$S"
check_eq "replies passed with no session" \
	"$(reason "$S" pass_nat_no_session)" 0

e2e_end
