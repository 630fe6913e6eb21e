#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The XLB lab: one client, one XLB node and three reals, each in its own
# network namespace on this host. See docs/LAB.md.
#
#   tools/lab.sh up [--kernel] [BUILD_DIR]   build the lab and leave it up
#   tools/lab.sh down                        remove it (and any leftovers)
#   tools/lab.sh demo [--kernel] [BUILD_DIR] up, show traffic balanced, down
#   tools/lab.sh status                      namespaces, processes, VIPs
#   tools/lab.sh exec NODE CMD...            run CMD in client|xlb|realN
#   tools/lab.sh lbctl ARGS...               lbctl on the lab's xlbd
set -euo pipefail

# shellcheck source=tools/lab/lib.sh
. "$(dirname "$0")/lab/lib.sh"

PREFIX=xlblab
# The lab's reals serve tunnel and FULLNAT VIPs alike unless LAB_MODE
# says otherwise (tunnel or fullnat, see tools/lab/lib.sh).
LAB_MODE=${LAB_MODE:-mixed}
# What `up` and `demo` configure: three tunnel VIPs and three FULLNAT
# VIPs over the three reals.
WEIGHTS=${LAB_WEIGHTS:-100 100 200}
VIP_TCP4="$LAB_VIP4:$LAB_TCP_PORT/tcp"
VIP_UDP4="$LAB_VIP4:$LAB_UDP_PORT/udp"
VIP_TCP6="[$LAB_VIP6]:$LAB_TCP_PORT/tcp"
NAT_TCP4="$LAB_NAT_VIP4:$LAB_TCP_PORT/tcp"
NAT_UDP4="$LAB_NAT_VIP4:$LAB_UDP_PORT/udp"
NAT_TCP6="[$LAB_NAT_VIP6]:$LAB_TCP_PORT/tcp"
SHOW="$LAB_ROOT/tools/lab/show.py"

usage() {
	sed -n '7,13s/^#//p' "$0" >&2
	exit 2
}

need_root() {
	[[ $(id -u) == 0 ]] || lab_die "needs root (namespaces, XDP)"
}

# The state `up` leaves for the later commands: which build, which mode.
load_state() {
	lab_init "$PREFIX" "$LAB_ROOT/build" kernel
	if [[ -f $LAB_RUN/state ]]; then
		# shellcheck disable=SC1091
		. "$LAB_RUN/state"
		LAB_MODE=$STATE_MODE
		LAB_PMTU_ROUTERS=$STATE_PMTU_ROUTERS
		lab_init "$PREFIX" "$STATE_BUILD" "$STATE_FORWARDER"
	fi
}

cmd_up() {
	local forwarder=xlb build=$LAB_ROOT/build
	if [[ ${1:-} == --kernel ]]; then
		forwarder=kernel
		shift
	fi
	[[ $# -le 1 ]] || usage
	build=${1:-$build}
	need_root
	lab_init "$PREFIX" "$build" "$forwarder"
	if ip netns list | grep -q "^$PREFIX-"; then
		lab_log "a lab is already up: removing it first"
		lab_clean_stale lab
	fi
	rm -rf "$LAB_RUN"
	# A half-built lab is worse than none.
	trap 'lab_log "lab: up failed, cleaning up"; lab_down' ERR
	lab_up "$WEIGHTS"
	printf 'STATE_BUILD=%q\nSTATE_FORWARDER=%q\nSTATE_MODE=%q\n' \
		"$LAB_BUILD" "$LAB_FORWARDER" "$LAB_MODE" >"$LAB_RUN/state"
	printf 'STATE_PMTU_ROUTERS=%q\n' "${LAB_PMTU_ROUTERS:-0}" \
		>>"$LAB_RUN/state"
	if [[ $LAB_FORWARDER == xlb ]] && lab_tunnel; then
		lab_add_vip "$VIP_TCP4" maglev "$WEIGHTS" 4
		lab_add_vip "$VIP_UDP4" maglev "$WEIGHTS" 4
		lab_add_vip "$VIP_TCP6" maglev "$WEIGHTS" 6
	fi
	if [[ $LAB_FORWARDER == xlb ]] && lab_fullnat; then
		lab_add_vip "$NAT_TCP4" maglev "$WEIGHTS" 4 --mode fullnat
		lab_add_vip "$NAT_UDP4" maglev "$WEIGHTS" 4 --mode fullnat
		lab_add_vip "$NAT_TCP6" maglev "$WEIGHTS" 6 --mode fullnat
	fi
	trap - ERR
}

cmd_down() {
	need_root
	load_state
	lab_down
	# Anything else a crashed lab or test run left behind.
	lab_clean_stale lab
	lab_clean_stale test
}

cmd_status() {
	load_state
	echo "namespaces:"
	ip netns list | grep -E "^($PREFIX|xlbt[0-9]+)-" | sed 's/^/  /' ||
		echo "  (none)"
	[[ -f $LAB_RUN/state ]] || return 0
	echo "forwarder: $LAB_FORWARDER, mode: $LAB_MODE, build: $LAB_BUILD," \
		"run dir: $LAB_RUN"
	if [[ $LAB_FORWARDER == xlb ]]; then
		lab_lbctl vip list
	fi
}

# Run one batch of client requests and draw who answered.
demo_batch() {
	local title=$1 out=$LAB_RUN/demo-$2.json
	shift 2
	printf '\n-- %s\n' "$title"
	lab_client spread "$@" >"$out" || true
	"$LAB_PYTHON" "$SHOW" bars "$out" "$WEIGHTS"
}

cmd_demo() {
	local w
	read -ra w <<<"$WEIGHTS"
	[[ $# -le 2 ]] || usage
	need_root
	cat <<EOF
== XLB demo ==================================================================
One client, one XLB node and three reals, each in a network namespace:

                                    +---- real1  weight ${w[0]}
   client ----------- xlb ----------+---- real2  weight ${w[1]}
   $LAB_CLIENT4          $LAB_XLB4     +---- real3  weight ${w[2]}

xlbd runs XDP on the xlb node's links. For each new flow it picks a real
(Maglev hashing, in proportion to the weights). A tunnel VIP ($LAB_VIP4)
tunnels the packet to it (IPIP, or IP6IP6 for IPv6): the real's XDP decap
program unwraps it, and the real answers the client directly from the VIP
on its loopback (direct server return). A FULLNAT VIP ($LAB_NAT_VIP4)
rewrites both addresses instead: the real gets a packet from one of XLB's
local addresses ($LAB_LADDRS4) to its own address, and
answers XLB, which translates the reply back to VIP -> client. Every
server answers with its own name, so the client can count who served it.
EOF
	printf '\n-- Building the lab (namespaces %s-*) ...\n' "$PREFIX"
	trap 'printf "\n-- Removing the lab\n"; lab_down' EXIT
	cmd_up "$@"
	if [[ $LAB_FORWARDER == xlb ]]; then
		printf '   xlbd is on xlb/eth0 (%s XDP), decap on real1..real%d\n' \
			"$LAB_XDP_MODE" "$LAB_NREALS"
		printf '\n-- The VIPs (lbctl vip list)\n'
		lab_lbctl vip list | sed 's/^/    /'
	else
		printf '   (--kernel: an ECMP route stands in for XLB)\n'
	fi

	demo_batch "300 TCP connections to $VIP_TCP4, each from a new port" \
		tcp4 --port "$LAB_TCP_PORT" --count 300
	demo_batch "300 UDP requests to $VIP_UDP4, each from a new port" \
		udp4 --udp --port "$LAB_UDP_PORT" --count 300
	demo_batch "300 TCP connections over IPv6 to $VIP_TCP6" \
		tcp6 --v6 --port "$LAB_TCP_PORT" --count 300
	if lab_fullnat; then
		demo_batch "300 TCP connections to the FULLNAT VIP $NAT_TCP4" \
			nat-tcp4 --vip "$LAB_NAT_VIP4" --port "$LAB_TCP_PORT" \
			--peer --count 300
		demo_batch "300 UDP requests to the FULLNAT VIP $NAT_UDP4" \
			nat-udp4 --vip "$LAB_NAT_VIP4" --udp \
			--port "$LAB_UDP_PORT" --peer --count 300
		demo_batch "300 TCP connections over IPv6 to the FULLNAT VIP $NAT_TCP6" \
			nat-tcp6 --vip "$LAB_NAT_VIP6" --port "$LAB_TCP_PORT" \
			--peer --count 300
	fi
	[[ $LAB_FORWARDER == xlb ]] || return 0

	if lab_fullnat; then
		printf '\n-- FULLNAT sessions, a few of them (lbctl sessions --vip %s)\n' \
			"$NAT_TCP4"
		# Through a file: head must not cut lbctl's output off mid-way.
		lab_lbctl sessions --vip "$NAT_TCP4" >"$LAB_RUN/sessions.txt"
		head -n 6 "$LAB_RUN/sessions.txt" | sed 's/^/    /'
		printf '    ... %d lines\n' "$(wc -l <"$LAB_RUN/sessions.txt")"
	fi
	printf '\n-- What XLB counted (lbctl stats)\n'
	lab_lbctl stats | sed 's/^/    /'
	cat <<EOF

Each real got about its weight's share of new flows. For a tunnel VIP,
XLB sees only the client's side of each flow, as the replies go from the
real straight back to the client: about 6 packets per TCP connection
(SYN, ACK, request, ACKs and FIN) and 1 per UDP request. A FULLNAT VIP
sees both sides, and its servers saw only XLB's local addresses, never
the client. forward_redirect counts the packets sent on to a real or back
to the client; pass_not_ip and pass_not_vip count what XLB handed to the
kernel untouched (ARP, neighbour discovery, the tunnel reals' replies on
their way through the node, ...).

To keep the lab up and try it yourself (docs/LAB.md):
    tools/lab.sh up
    tools/lab.sh exec client python3 tools/xlb-client.py spread --count 100
    tools/lab.sh exec client curl -s http://$LAB_NAT_VIP4/peer
    tools/lab.sh lbctl sessions --vip $NAT_TCP4
    tools/lab.sh lbctl real set $VIP_TCP4 $(real_addr4 1) --weight 0
    tools/lab.sh down
EOF
}

cmd_exec() {
	[[ $# -ge 2 ]] || usage
	load_state
	lab_exec "$@"
}

cmd_lbctl() {
	load_state
	lab_lbctl "$@"
}

main() {
	local cmd=${1:-}
	[[ -n $cmd ]] || usage
	shift
	case $cmd in
	up)
		cmd_up "$@"
		echo "lab is up: tools/lab.sh status | exec NODE CMD | lbctl ... | down"
		;;
	down) cmd_down "$@" ;;
	demo) cmd_demo "$@" ;;
	status) cmd_status "$@" ;;
	exec) cmd_exec "$@" ;;
	lbctl) cmd_lbctl "$@" ;;
	*) usage ;;
	esac
}

main "$@"
