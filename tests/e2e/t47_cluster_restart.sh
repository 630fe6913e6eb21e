#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# A FULLNAT cluster node restarts: n1 stops for good (its maps unpinned)
# while flows run and starts afresh, taking its peers' sessions (among
# them its own of before) in bulk; a real is deleted; 200 connections
# opened at once through the VIP are all set up within 1 s. Then n1 is
# cut off for 8 s and returns: when the router's BFD session for it is
# back (the time is measured), it protects n1 again (a second silent
# death is seen within 400 ms, not by the BGP hold timer's 3 s).
set -euo pipefail
# shellcheck source=tests/e2e/cluster_lib.sh
. "$(dirname "$0")/cluster_lib.sh"
LAB_NREALS=3
cluster_begin "$1" fullnat bgp

restart_scenario restart "${RESTART_LIMIT_MS:-1000}"
bfd_return_scenario bfd "${LIMIT_MS:-400}"

e2e_end
