#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Maglev spreads 600 TCP connections (one client address, 600 source
# ports) over three reals in proportion to their weights, first equal,
# then with real3 at twice the weight.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_begin "$@"

lab_add_vip "$VIP_TCP4" maglev "100 100 100" 4

spread equal --count 600
check_eq "equal: distinct source ports" \
	"$(jget "$LAB_RUN/equal.json" source_ports)" 600
# Binomial(600, 1/3) has a standard deviation of 11.5: +-30% is 5 of them.
check_spread equal 30 real1:100 real2:100 real3:100

lab_lbctl real set "$VIP_TCP4" "$(real_addr4 3)" --weight 200
spread weighted --count 600
# real3 expects 300 (sd 12.2): +-20% is 5 of them.
check_spread weighted 30 real1:100 real2:100 real3:200:20

e2e_end
