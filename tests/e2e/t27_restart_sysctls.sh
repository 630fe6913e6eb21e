#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The kernel settings xlbd changes, across restarts: the node starts with
# forwarding off (as a new host has it) and accept_local off on every
# interface. xlbd turns them on for its VIPs and local addresses (traffic
# flows, v4 and v6), keeps the originals beside its pins, and after two
# `kill -9` + adopting restarts, `lbctl shutdown` gives every original
# back. Then the pins go while the program stays attached (a bpffs that
# is not persistent): xlbd refuses to replace the running program, naming
# the cause, until it is started with --replace.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
LAB_MODE=fullnat
LAB_ACCEPT_LOCAL=0
e2e_begin "$@"

IFACES=$(lab_xlb_ifaces)

# The node's settings, one "name=value" a line.
settings() {
	local names=(net.ipv4.ip_forward net.ipv6.conf.all.forwarding) i
	for i in $IFACES; do
		names+=("net.ipv4.conf.$i.accept_local")
	done
	lab_exec xlb sysctl -n "${names[@]}" | paste -sd' '
}

xlbd_pid() { cat "$LAB_RUN/xlbd.pid"; }

stop_xlbd_hard() {
	local pid
	pid=$(xlbd_pid)
	kill -9 "$pid"
	wait_until 5 bash -c "! kill -0 $pid" || true
}

# The lab's xlbd stops for good; the node gets the originals to keep.
lab_lbctl shutdown >/dev/null
wait_until 10 bash -c "! kill -0 $(xlbd_pid)" || true
sets=(net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0)
for i in $IFACES; do
	sets+=("net.ipv4.conf.$i.accept_local=0")
done
lab_exec xlb sysctl -qw "${sets[@]}"
originals=$(settings)
check_eq "originals set" "$originals" "0 0 0 0 0 0"

lab_start_xlbd
lab_add_laddrs
lab_add_vip "$NAT_TCP4" maglev "100 100 100" 4 --mode fullnat
lab_add_vip "$NAT_TCP6" maglev "100 100 100" 6 --mode fullnat
check_eq "xlbd turned everything on" "$(settings)" "1 1 1 1 1 1"
check "the log says ip_forward was 0" \
	grep -q "net.ipv4.ip_forward=1 (was 0)" "$LAB_RUN/xlbd.log"
check "the log says IPv6 forwarding was 0" \
	grep -q "net.ipv6.conf.all.forwarding=1 (was 0)" "$LAB_RUN/xlbd.log"
check "the log names the interface for accept_local" \
	grep -q "net.ipv4.conf.r2.accept_local=1 (was 0)" "$LAB_RUN/xlbd.log"
check "no literal IFACE in the log" \
	bash -c "! grep -q IFACE '$LAB_RUN/xlbd.log'"
spread tcp4 --vip "$LAB_NAT_VIP4" --count 60
check_eq "IPv4 VIP answers with forwarding turned on by xlbd" \
	"$(jget "$LAB_RUN/tcp4.json" ok 0)" 60
spread tcp6 --vip "$LAB_NAT_VIP6" --count 60
check_eq "IPv6 VIP answers with forwarding turned on by xlbd" \
	"$(jget "$LAB_RUN/tcp6.json" ok 0)" 60

lab_lbctl status >"$LAB_RUN/status.txt"
check "status shows forwarding and rp_filter" \
	grep -q "^host: ip_forward 1, ipv6 forwarding 1, rp_filter 0" \
	"$LAB_RUN/status.txt"
check "status shows accept_local per interface" \
	grep -q "; eth0: accept_local 1, rp_filter 0" "$LAB_RUN/status.txt"
lab_lbctl --json status >"$LAB_RUN/status.json"
check_eq "status --json: ip_forward" \
	"$(jget "$LAB_RUN/status.json" host.ipv4_forwarding)" 1
check_eq "status --json: settings to restore" \
	"$(jlen "$LAB_RUN/status.json" host.restore_on_shutdown)" 6

for n in 1 2; do
	stop_xlbd_hard
	check "kill -9 #$n: the program stays attached" \
		bash -c "ip -n $(lab_ns xlb) link show eth0 | grep -q xdp"
	lab_start_xlbd
	check "restart #$n adopted the data plane" \
		grep -q "adopted the running data plane" "$LAB_RUN/xlbd.log"
	check "restart #$n recorded no original of 1" \
		bash -c "! grep -q '(was 1)' '$LAB_RUN/xlbd.log'"
	lab_lbctl --json status >"$LAB_RUN/status.$n.json"
	check_eq "restart #$n still knows the 6 originals" \
		"$(jlen "$LAB_RUN/status.$n.json" host.restore_on_shutdown)" 6
	check_eq "restart #$n: ip_forward's original" \
		"$(jget "$LAB_RUN/status.$n.json" \
			'host.restore_on_shutdown[sysctl=net.ipv4.ip_forward].was')" 0
done
spread after --vip "$LAB_NAT_VIP4" --count 60
check_eq "the VIP answers after two restarts" \
	"$(jget "$LAB_RUN/after.json" ok 0)" 60

pid=$(xlbd_pid)
lab_lbctl shutdown >/dev/null
wait_until 10 bash -c "! kill -0 $pid" || true
check_eq "lbctl shutdown restored every original" "$(settings)" "$originals"
check "the log says so" \
	grep -q "net.ipv4.conf.eth0.accept_local=0 restored" "$LAB_RUN/xlbd.log"
check "no program left attached" \
	bash -c "! ip -n $(lab_ns xlb) link show eth0 | grep -q xdp"
check "no pins left" test ! -e "$LAB_BPFFS/xlb"

# ---- Pins gone under a running program --------------------------------
lab_start_xlbd
lab_add_laddrs
lab_add_vip "$NAT_TCP4" maglev "100 100 100" 4 --mode fullnat
prog=$(ip -n "$(lab_ns xlb)" -j link show eth0 |
	"$LAB_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)[0]["xdp"]["prog"]["id"])')
stop_xlbd_hard
rm -rf "$LAB_BPFFS/xlb"
ifs=()
for i in $IFACES; do
	ifs+=(--interface "$i")
done
rc=0
lab_exec xlb timeout 10 "$LAB_BUILD/xlbd" "${ifs[@]}" --socket "$LAB_SOCK" \
	--xdp-mode "$LAB_XDP_MODE" --pin-path "$LAB_BPFFS/xlb" \
	>"$LAB_RUN/refused.log" 2>&1 || rc=$?
check_eq "xlbd refuses to replace a program whose pins are gone" "$rc" 1
check "it names the cause" \
	grep -q "runs an XLB balancer but .* holds no pinned maps to adopt: the pins are gone" \
	"$LAB_RUN/refused.log"
check "it says how to go on" grep -q -- "--replace" "$LAB_RUN/refused.log"
check_eq "the running program was left alone" \
	"$(ip -n "$(lab_ns xlb)" -j link show eth0 |
		"$LAB_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)[0]["xdp"]["prog"]["id"])')" \
	"$prog"
check "the refusal left no pins" test ! -e "$LAB_BPFFS/xlb/vips"
LAB_XLBD_ARGS=--replace lab_start_xlbd
check "with --replace it starts" lab_lbctl ping
check "and its program replaced the orphan" bash -c "
	id=\$(ip -n $(lab_ns xlb) -j link show eth0 |
		$LAB_PYTHON -c 'import json,sys; print(json.load(sys.stdin)[0][\"xdp\"][\"prog\"][\"id\"])')
	[[ \$id != $prog ]]"

e2e_end
