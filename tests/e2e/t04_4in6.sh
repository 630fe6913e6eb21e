#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# An IPv4 VIP over IPv6 reals: the IPv4 packet travels in an IPv6 outer
# header (4in6), the real's decap hands it up as plain IPv4.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_begin "$@"

lab_add_vip "$VIP_TCP4" maglev "100 100 100" 6

spread tcp4in6 --count 300
check_spread tcp4in6 40 real1:100 real2:100 real3:100

e2e_end
