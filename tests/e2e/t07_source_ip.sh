#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# A source-ip hashed VIP sends every connection of one client address to
# one real, whatever its source port, while different client addresses
# still spread over all reals.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_begin "$@"

# Thirty more client addresses; the reals route the whole /24 back.
srcs=()
for ((i = 100; i < 130; i++)); do
	lab_addr client eth0 "10.99.0.$i/24"
	srcs+=("10.99.0.$i")
done
src_list=$(IFS=,; echo "${srcs[*]}")

lab_lbctl vip add "$VIP_TCP4" --hash source-ip >/dev/null
for i in 1 2 3; do
	lab_lbctl real add "$VIP_TCP4" "$(real_addr4 "$i")" >/dev/null
done

spread one --count 200
check_eq "one address: reals used" "$(jlen "$LAB_RUN/one.json" by_real)" 1
check_eq "one address: all answered" "$(jget "$LAB_RUN/one.json" ok)" 200
check_range "one address: distinct source ports" \
	"$(jget "$LAB_RUN/one.json" source_ports)" 190 200

spread many --count 300 --src "$src_list"
check_eq "30 addresses: all answered" "$(jget "$LAB_RUN/many.json" ok)" 300
# Each address sticks to one real ...
moved=0
for src in "${srcs[@]}"; do
	(($(jlen "$LAB_RUN/many.json" "by_src[$src]") == 1)) || moved=$((moved + 1))
done
check_eq "30 addresses: addresses seen on more than one real" "$moved" 0
# ... and the addresses use every real (all on two of three: p < 1e-4).
check_eq "30 addresses: reals used" "$(jlen "$LAB_RUN/many.json" by_real)" 3

e2e_end
