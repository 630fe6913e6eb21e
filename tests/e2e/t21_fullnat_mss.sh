#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# FULLNAT and segment sizes. A VIP with `--mss 1200` clamps the MSS of
# the client's SYN and the real's SYN-ACK: the server's socket then
# sends segments of at most 1200 bytes (TCP_MAXSEG, less 12 for the
# timestamp option), while a VIP without the clamp keeps the link's
# 1448. Large responses (1 MB, full-size segments both ways) arrive
# whole through both, over IPv4 and IPv6.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
LAB_MODE=fullnat
e2e_begin "$@"

CLAMPED="$LAB_NAT_VIP4:$LAB_TCP_PORT/tcp"
PLAIN="$LAB_NAT_VIP4:$LAB_PLAIN_PORT/tcp"
PLAIN6="[$LAB_NAT_VIP6]:$LAB_PLAIN_PORT/tcp"
lab_add_vip "$CLAMPED" maglev "1 1 1" 4 --mode fullnat --mss 1200
lab_add_vip "$PLAIN" maglev "1 1 1" 4 --mode fullnat
lab_add_vip "$PLAIN6" maglev "1 1 1" 6 --mode fullnat

# curl URL: the body, or FAIL and curl's error.
get() {
	lab_exec client curl -sS --max-time 5 "$1" 2>&1 || echo "FAIL"
}

mss=$(get "http://$LAB_NAT_VIP4:$LAB_TCP_PORT/mss" | awk '{ print $2 }')
check_range "server's MSS behind --mss 1200" "$mss" 1100 1200
mss=$(get "http://$LAB_NAT_VIP4:$LAB_PLAIN_PORT/mss" | awk '{ print $2 }')
check_range "server's MSS without a clamp" "$mss" 1400 1460

# Full-size segments: the response is sent as fast as it goes, many
# segments in flight, all translated on the way back.
for url in "http://$LAB_NAT_VIP4:$LAB_TCP_PORT/bytes/1000000" \
	"http://$LAB_NAT_VIP4:$LAB_PLAIN_PORT/bytes/1000000" \
	"http://[$LAB_NAT_VIP6]:$LAB_PLAIN_PORT/bytes/1000000"; do
	size=$(lab_exec client curl -sS --max-time 10 -o /dev/null \
		-w '%{size_download}' "$url" 2>&1 || true)
	check_eq "1 MB from $url" "$size" 1000000
done
check_peers "large responses" tcp $LAB_LADDRS4 $LAB_LADDRS6

stats stats
check_no_drops "$LAB_RUN/stats.json"

e2e_end
