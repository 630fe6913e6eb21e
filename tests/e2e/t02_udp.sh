#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# UDP: 300 requests, each from a new socket, are all answered and spread
# over the three reals.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_begin "$@"

lab_add_vip "$VIP_UDP4" maglev "100 100 100" 4

spread udp --udp --port "$LAB_UDP_PORT" --count 300
check_spread udp 40 real1:100 real2:100 real3:100

e2e_end
