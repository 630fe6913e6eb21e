#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# A node of a BGP+BFD cluster dies while 200 long-lived connections talk
# (a line every 30 ms) and new ones open (20 a second) to a tunnel VIP:
# silently (the router's side of its link drops everything), then by its
# link going down. The router moves its flows to the other nodes, which
# pick the same reals (the same Maglev ring everywhere), so no connection
# breaks or fails; the longest pause is what BFD and TCP's retransmission
# make of it. The node comes back each time, which moves flows again.
# Last, it is cut off for 8 s while connections open, and returns
# pre-online until it has re-fetched its peers' tables: the pause at the
# return stays within 150 ms.
set -euo pipefail
# shellcheck source=tests/e2e/cluster_lib.sh
. "$(dirname "$0")/cluster_lib.sh"
cluster_begin "$1" tunnel bgp

failure_scenario nft nft "${LIMIT_MS:-400}"
failure_scenario link link "${LIMIT_MS:-400}"
# The pause at the return is held to 150 ms (docs/CLUSTER.md, "Return").
return_scenario return "${RETURN_LIMIT_MS:-150}"

e2e_end
