#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Tunnel mode: a client that reuses its source ports after `lbctl real
# drain` (or weight 0) gets none of those connections on the real that
# takes no new flows; the conntrack entry of each closed connection is
# replaced, and every connection counts as new.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_begin "$@"

lab_add_vip "$VIP_TCP4" maglev "100 100 100" 4
port_reuse "$LAB_VIP4" "$VIP_TCP4"

e2e_end
