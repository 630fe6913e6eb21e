#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# IPv6 TCP through FULLNAT: an IPv6 VIP over the reals' IPv6 addresses.
# Short connections of the lab's client (each asks the server who it
# thinks the client is), then wrk's HTTP connections: all answered,
# spread by weight, and the servers see only the IPv6 local address.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
LAB_MODE=fullnat
e2e_begin "$@"

lab_add_vip "$NAT_TCP6" maglev "100 100 200" 6 --mode fullnat

spread tcp6 --vip "$LAB_NAT_VIP6" --peer --count 400
check_spread tcp6 30 real1:100 real2:100 real3:200
check_eq "every answer names the local address as the client" \
	"$(jget "$LAB_RUN/tcp6.json" "by_peer[$LAB_LADDRS6]" 0)" 400

wrk_run http6 "http://[$LAB_NAT_VIP6]:$LAB_TCP_PORT/" 4
check_wrk http6 1000
check_peers "IPv6 over FULLNAT" tcp $LAB_LADDRS6

stats stats
S=$LAB_RUN/stats.json
requests=$(jget "$LAB_RUN/http6.json" requests 0)
# One new flow per connection the client opened (see t16): the 400
# connections of spread and wrk's, which the servers logged.
check_range "VIP new flows (one per connection)" \
	"$(jget "$S" "vips[vip=$NAT_TCP6].new_flows")" \
	$((requests + 400)) $(($(peer_count tcp) + 16))
check_no_drops "$S"

e2e_end
