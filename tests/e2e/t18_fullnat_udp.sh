#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# UDP through FULLNAT, IPv4 and IPv6: every datagram is translated on the
# way to the real and its answer on the way back. Each request asks the
# server which address it came from: only local addresses, and the
# servers' logs agree. A datagram with no checksum stays valid. XLB
# counts one packet each way per request.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
LAB_MODE=fullnat
e2e_begin "$@"

N=300
lab_add_vip "$NAT_UDP4" maglev "100 100 100" 4 --mode fullnat
lab_add_vip "$NAT_UDP6" maglev "100 100 100" 6 --mode fullnat

spread udp4 --vip "$LAB_NAT_VIP4" --udp --port "$LAB_UDP_PORT" --peer \
	--count "$N"
spread udp6 --vip "$LAB_NAT_VIP6" --udp --port "$LAB_UDP_PORT" --peer \
	--count "$N"
check_spread udp4 40 real1:1 real2:1 real3:1
check_spread udp6 40 real1:1 real2:1 real3:1
for f in udp4 udp6; do
	check_eq "$f: answers that say where they came from" \
		"$("$LAB_PYTHON" -c 'import json, sys
print(sum(json.load(open(sys.argv[1]))["by_peer"].values()))' \
			"$LAB_RUN/$f.json")" "$N"
done
# As the answers report, and as the servers logged.
check "IPv4: the servers saw only local addresses" "$LAB_PYTHON" -c '
import json, sys
peers = json.load(open(sys.argv[1]))["by_peer"]
sys.exit(0 if set(peers) <= set(sys.argv[2:]) else peers)' \
	"$LAB_RUN/udp4.json" $LAB_LADDRS4
check "IPv6: the servers saw only local addresses" "$LAB_PYTHON" -c '
import json, sys
peers = json.load(open(sys.argv[1]))["by_peer"]
sys.exit(0 if set(peers) <= set(sys.argv[2:]) else peers)' \
	"$LAB_RUN/udp6.json" $LAB_LADDRS6
check_peers "UDP over FULLNAT" udp $LAB_LADDRS4 $LAB_LADDRS6
check_eq "datagrams the servers logged" "$(peer_count udp)" $((2 * N))

# UDP over IPv4 with no checksum (zero) must stay valid: were it updated
# like a real checksum, the reals would count checksum errors.
spread nocsum --vip "$LAB_NAT_VIP4" --udp --port "$LAB_UDP_PORT" \
	--no-checksum --count 100
check_eq "zero-checksum requests answered" \
	"$(jget "$LAB_RUN/nocsum.json" ok)" 100
for i in 1 2 3; do
	check_eq "real$i: UDP checksum errors" "$(lab_exec "real$i" nstat -az \
		UdpInCsumErrors | awk '$1 == "UdpInCsumErrors" { print $2 }')" 0
done

stats stats
S=$LAB_RUN/stats.json
want=$((N + 100))
for vip in "$NAT_UDP4" "$NAT_UDP6"; do
	check_eq "$vip packets towards the reals" \
		"$(jget "$S" "vips[vip=$vip].packets")" "$want"
	check_eq "$vip replies back to the client" \
		"$(jget "$S" "vips[vip=$vip].reply_packets" 0)" "$want"
	want=$N
done
check_no_drops "$S"

e2e_end
