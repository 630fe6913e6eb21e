#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Tunnel mode: connection counters mean connections. Under wrk with
# "Connection: close" the CPS of `lbctl stats --rate` is the client's
# connection rate within 5%; ActiveConn (summed over every CPU's
# conntrack) is the client's count of open connections.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# The servers log every connection: the rate check counts them.
LAB_LOG_PEERS=1
e2e_begin "$@"

lab_add_vip "$VIP_TCP4" maglev "100 100 100" 4
conn_counters "$LAB_VIP4" "$VIP_TCP4"

e2e_end
