#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# FULLNAT: a client that reuses its source ports after `lbctl real
# drain` (or weight 0) gets none of those connections on the real that
# takes no new flows; each closed session is replaced by a new one (a
# new local port), and every connection counts as new.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
LAB_MODE=fullnat
e2e_begin "$@"

lab_add_vip "$NAT_TCP4" maglev "100 100 100" 4 --mode fullnat
port_reuse "$LAB_NAT_VIP4" "$NAT_TCP4"

e2e_end
