#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# t31 with OSPF+BFD instead of BGP: the nodes redistribute their VIP
# routes as external LSAs; a node dies silently and comes back while
# long-lived and new connections run to a tunnel VIP.
set -euo pipefail
# shellcheck source=tests/e2e/cluster_lib.sh
. "$(dirname "$0")/cluster_lib.sh"
cluster_begin "$1" tunnel ospf

SETTLE=3 failure_scenario ospf-nft nft "${LIMIT_MS:-400}"

e2e_end
