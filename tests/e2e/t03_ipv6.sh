#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# An IPv6 VIP over IPv6 reals (IP6IP6): TCP and UDP are answered and
# spread.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_begin "$@"

lab_add_vip "$VIP_TCP6" maglev "100 100 100" 6
lab_add_vip "$VIP_UDP6" maglev "100 100 100" 6

spread tcp6 --v6 --count 300
check_spread tcp6 40 real1:100 real2:100 real3:100
spread udp6 --v6 --udp --port "$LAB_UDP_PORT" --count 300
check_spread udp6 40 real1:100 real2:100 real3:100

e2e_end
