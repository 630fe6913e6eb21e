#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# A BGP+BFD cluster of three nodes with a tunnel VIP, while 200 long-lived
# connections talk and new ones open:
#  - drain: n1 withdraws, its flows move with their sessions, it reports
#    itself drained and comes back on undrain;
#  - join: n1 leaves for good and joins afresh: pre-online until it holds
#    its peers' sessions, then it announces, and the flows ECMP gives it
#    keep their reals;
#  - a real added while n1 is away (n1 returns with a different Maglev
#    ring than the flows were placed with), removed after;
#  - forged, tampered, replayed and unlisted sync messages.
# Nothing breaks, nothing fails.
set -euo pipefail
# shellcheck source=tests/e2e/cluster_lib.sh
. "$(dirname "$0")/cluster_lib.sh"
LAB_NREALS=4
CL_REALS="1 2 3"
cluster_begin "$1" tunnel bgp

drain_scenario drain "${LIMIT_MS:-400}"
join_scenario join "${LIMIT_MS:-400}"
join_scenario realchange "${LIMIT_MS:-400}" real4_added
real4_removed
sync_security

e2e_end
