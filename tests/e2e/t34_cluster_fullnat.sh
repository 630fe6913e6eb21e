#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The cluster scenarios with a FULLNAT VIP: the reals answer to the local
# address of the node that made the session. When that node fails or
# leaves, the router sends those replies to the others (the peers' pools
# are announced as backups, MED 1000), which hold the session, so the
# flows go on both ways:
#  - n1 dies silently (nft) and by link down, and comes back;
#  - n1 drains and undrains;
#  - n1 leaves and joins afresh (pre-online, bulk sync);
#  - a real added while n1 is away;
#  - n1 is cut off (nft) for 8 s while connections open, and returns:
#    pre-online until it has re-fetched the peers' tables, so the flows
#    the router brings back find their sessions (no drop_nat_not_syn,
#    pause at the return <= 150 ms);
#  - n1 dies after its long-lived flows have been idle at the peers for
#    twice the TCP idle timeout (6 s here): the peers' copies are alive
#    because n1 refreshes its live sessions every third of the timeout;
#  - at the end, with every flow stopped, no node keeps a session
#    established past 2 x the closing timeout: ends travel (each FIN and
#    RST goes to every node, the owner included).
set -euo pipefail
# shellcheck source=tests/e2e/cluster_lib.sh
. "$(dirname "$0")/cluster_lib.sh"
LAB_NREALS=4
CL_REALS="1 2 3"
# Short idle timeouts: the refresh scenario waits out two of them.
CL_NAT_TIMEOUTS="{tcp: 6, tcp_syn: 6, tcp_closing: 2, udp: 6}"
cluster_begin "$1" fullnat bgp
# See failure_scenario: sessions of a dead node's last batch.
FAIL_MAX_FAILED=2

failure_scenario nft nft "${LIMIT_MS:-400}"
failure_scenario link link "${LIMIT_MS:-400}"
# The pause at the return is held to 150 ms (docs/CLUSTER.md, "Return").
return_scenario return "${RETURN_LIMIT_MS:-150}"
drain_scenario drain "${LIMIT_MS:-400}"
join_scenario join "${LIMIT_MS:-400}"
join_scenario realchange "${LIMIT_MS:-400}" real4_added
real4_removed
FAIL_AFTER=12 failure_scenario refresh nft "${LIMIT_MS:-400}"
nstatus 2 refresh-n2
check_range "n2: live sessions refreshed at the peers" \
	"$(jget "$LAB_RUN/refresh-n2.json" sync.refreshed)" 1 10000000
# Every flow has stopped: their ends reached every copy.
ends_check ends 2

e2e_end
