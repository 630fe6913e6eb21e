#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# FULLNAT: connection counters mean connections. Under wrk with
# "Connection: close" the CPS of `lbctl stats --rate` is the client's
# connection rate within 5%; ActiveConn (sessions the real answered,
# not closing) is the client's count of open connections.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
LAB_MODE=fullnat
e2e_begin "$@"

lab_add_vip "$NAT_TCP4" maglev "100 100 100" 4 --mode fullnat
conn_counters "$LAB_NAT_VIP4" "$NAT_TCP4"

e2e_end
