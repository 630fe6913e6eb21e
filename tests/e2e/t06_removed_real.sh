#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Once a real is removed, no new connection reaches it, and the others
# share its part.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_begin "$@"

lab_add_vip "$VIP_TCP4" maglev "100 100 100" 4

spread before --count 150
check "before: real3 takes connections" \
	in_range "$(jget "$LAB_RUN/before.json" by_real.real3 0)" 1 150

lab_lbctl real del "$VIP_TCP4" "$(real_addr4 3)"
lab_lbctl --json vip list >"$LAB_RUN/list.json"
check "real3 no longer listed" \
	bash -c "! grep -q '\"$(real_addr4 3)\"' '$LAB_RUN/list.json'"

spread after --count 300
check_eq "after: connections that reached real3" \
	"$(jget "$LAB_RUN/after.json" by_real.real3 0)" 0
check_spread after 30 real1:100 real2:100

e2e_end
