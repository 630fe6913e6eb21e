#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The XLB lab: network namespaces, veths, addresses, routes, xlbd, the
# reals' decap programs and test servers. Sourced by tools/lab.sh and by
# the end-to-end tests (tests/e2e/); not meant to be run.
#
#   client (eth0) ---- (eth0) xlb (r1) ---- (eth0) real1
#                             xlb (r2) ---- (eth0) real2
#                             xlb (r3) ---- (eth0) real3
#
# LAB_MODE says what the reals and the xlb node are made for:
#   tunnel   (default) reals hold the VIPs on lo and run XLB's decap
#            program; xlbd runs on the client-facing eth0 only.
#   fullnat  reals know nothing of XLB (no VIP, no decap, no route to the
#            clients), only a route to XLB's local addresses; the xlb node
#            is two-armed: xlbd runs on eth0 and on r1..rN, which the
#            reals' replies come back through.
#   mixed    both at once, for the demo: tunnel reals, and a two-armed
#            node with a local address pool for FULLNAT VIPs.
#
# Every name a run creates starts with LAB_PREFIX (namespaces, run
# directory), so that parallel runs do not collide and leftovers of a
# crashed run can be found again. Call lab_init first.
#
# Variables set here are read by the scripts that source this file.
# shellcheck disable=SC2034

LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Addressing plan. Everything lives inside the lab's namespaces.
LAB_VIP4=10.100.0.10
LAB_VIP6=fd00:100::10
LAB_CLIENT4=10.99.0.2
LAB_CLIENT6=fd00:99::2
LAB_XLB4=10.99.0.1
LAB_XLB6=fd00:99::1
LAB_TCP_PORT=80
LAB_UDP_PORT=5353
# Servers also listen here on every address: a port XLB has no VIP for.
LAB_PLAIN_PORT=8080
LAB_NREALS=3
# The encapsulated packet is 20 (IPIP) or 40 (IP6IP6, 4in6) bytes longer
# than what the client sent: the xlb<->real links carry a larger MTU,
# like a data-centre underlay, so that full-size client frames still fit.
# XDP on veth refuses MTUs above 3506.
LAB_TUNNEL_MTU=${LAB_TUNNEL_MTU:-1600}
# The outer sources of the balancers' tunnels: xlbd's default
# tunnel_source. The reals' decap accepts tunnels from these only.
LAB_TUNNEL_SOURCES="172.16.0.0/16 fc00:2::/96"
# Receive queues of the xlb node's client-facing link, one per CPU (at
# most 4), each served on a CPU of its own: see lab_pin_napi.
LAB_QUEUES=$(nproc)
((LAB_QUEUES <= 4)) || LAB_QUEUES=4
# FULLNAT: the VIPs the lab uses in fullnat mode (not held by any real),
# and the xlb node's local address pool, on its lo. The reals route the
# pool to the xlb node, and see nothing else of the clients' side.
LAB_NAT_VIP4=10.100.0.20
LAB_NAT_VIP6=fd00:100::20
LAB_LADDRS4="10.97.0.1 10.97.0.2"
LAB_LADDRS6="fd00:97::1"
LAB_LADDR_NET4=10.97.0.0/24
LAB_LADDR_NET6=fd00:97::/64
# LAB_PMTU_ROUTERS=1: real1 sits behind two routers, rta and rtb, whose
# link between them has a smaller MTU than every other link on the way,
# so that neither end knows the path's MTU: the routers' "fragmentation
# needed" / "packet too big" errors are what path MTU discovery learns
# from (see lab_pmtu_path).
LAB_PMTU_MTU=1400

real_addr4() { echo "10.98.$1.2"; }
real_addr6() { echo "fd00:98:$1::2"; }
xlb_addr4() { echo "10.98.$1.1"; }
xlb_addr6() { echo "fd00:98:$1::1"; }

# The system's Python when there is one: the helpers need only the
# standard library, and a version manager's shim can cost a second or two
# per call, which adds up over hundreds of calls.
if [[ -x /usr/bin/python3 ]]; then
	LAB_PYTHON=${LAB_PYTHON:-/usr/bin/python3}
else
	LAB_PYTHON=${LAB_PYTHON:-python3}
fi

lab_log() { printf '%s\n' "$*" >&2; }
lab_die() {
	lab_log "lab: $*"
	exit 1
}

# lab_init PREFIX BUILD_DIR [FORWARDER]
# FORWARDER is "xlb" (default) or "kernel": the latter replaces xlbd by
# an ECMP route in the xlb namespace, to check the lab itself without XLB.
lab_init() {
	LAB_PREFIX=$1
	# Absolute, since commands run from other directories; it need not
	# exist for `down`.
	LAB_BUILD=$(realpath -m "$2")
	LAB_FORWARDER=${3:-xlb}
	LAB_RUN=${TMPDIR:-/tmp}/$LAB_PREFIX
	LAB_SOCK=$LAB_RUN/xlbd.sock
	# Pins go to a bpffs mounted here, in the host's mount namespace: one
	# mounted by xlbd inside `ip netns exec` would vanish with xlbd, and
	# a restarted xlbd could not adopt the running data plane.
	LAB_BPFFS=$LAB_RUN/bpffs
	LAB_XDP_MODE=${LAB_XDP_MODE:-native}
	LAB_MODE=${LAB_MODE:-tunnel}
	case $LAB_MODE in
	tunnel | fullnat | mixed) ;;
	*) lab_die "LAB_MODE is tunnel, fullnat or mixed, not $LAB_MODE" ;;
	esac
}

# True when the lab has FULLNAT reals, local addresses and a two-armed node.
lab_fullnat() { [[ $LAB_MODE != tunnel ]]; }
# True when the reals are set up for tunnel VIPs (VIPs on lo, decap).
lab_tunnel() { [[ $LAB_MODE != fullnat ]]; }

# The interfaces xlbd attaches to: the client side, and in FULLNAT modes
# the real side too, where the replies come back.
lab_xlb_ifaces() {
	local i
	echo eth0
	if lab_fullnat; then
		for ((i = 1; i <= LAB_NREALS; i++)); do
			echo "r$i"
		done
	fi
}

# Namespace of a lab node: client, xlb, real1..realN.
lab_ns() {
	case $1 in
	client) echo "$LAB_PREFIX-c" ;;
	xlb) echo "$LAB_PREFIX-lb" ;;
	real*) echo "$LAB_PREFIX-r${1#real}" ;;
	rta | rtb) echo "$LAB_PREFIX-$1" ;;
	*) lab_die "unknown node $1" ;;
	esac
}

# lab_exec NODE CMD...: run CMD inside NODE's namespace.
lab_exec() {
	local ns
	ns=$(lab_ns "$1")
	shift
	ip netns exec "$ns" "$@"
}

lab_lbctl() {
	"$LAB_BUILD/lbctl" --socket "$LAB_SOCK" "$@"
}

lab_client() {
	lab_exec client "$LAB_PYTHON" "$LAB_ROOT/tools/xlb-client.py" "$@"
}

# lab_spawn NODE NAME CMD...: start CMD in the background inside NODE, in
# a session of its own (so that it outlives `lab.sh up` and a terminal's
# ^C does not reach it), logging to $LAB_RUN/NAME.log.
lab_spawn() {
	local node=$1 name=$2 ns
	shift 2
	ns=$(lab_ns "$node")
	# lab_down stops whatever runs in the lab's namespaces; the pid file
	# is for tests that stop one process (ip netns exec execs it).
	setsid ip netns exec "$ns" "$@" </dev/null \
		>"$LAB_RUN/$name.log" 2>&1 &
	echo $! >"$LAB_RUN/$name.pid"
}

# pid_gone PID: the process has exited. A killed child of the calling
# shell stays a zombie until the shell reaps it, and kill -0 still
# reaches a zombie, so a zombie counts as gone.
pid_gone() {
	local state
	kill -0 "$1" 2>/dev/null || return 0
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 0
	[[ -z $state || $state == Z || $state == X ]]
}

# wait_until SECONDS CMD...: poll CMD every 0.1 s, bounded.
wait_until() {
	local tries=$(($1 * 10))
	shift
	while ((tries-- > 0)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# Settings every node gets: answer at once on new addresses (no DAD), and
# no reverse-path filter, since with DSR the reals see packets whose
# source is only reachable through the xlb node.
lab_node_sysctls() {
	local node=$1
	lab_exec "$node" sysctl -qw \
		net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 \
		net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.keep_addr_on_down=1
}

lab_if_sysctls() {
	local node=$1 ifname=$2
	lab_exec "$node" sysctl -qw \
		"net.ipv4.conf.$ifname.rp_filter=0" \
		"net.ipv6.conf.$ifname.accept_dad=0"
}

# lab_link NODE_A IF_A NODE_B IF_B MTU [QUEUES]: a veth pair between two
# nodes. It is created inside NODE_A's namespace so the short interface
# names never meet the host's.
lab_link() {
	local a=$1 ifa=$2 b=$3 ifb=$4 mtu=$5 q=${6:-1}
	ip -n "$(lab_ns "$a")" link add "$ifa" mtu "$mtu" \
		numtxqueues "$q" numrxqueues "$q" type veth \
		peer name "$ifb" mtu "$mtu" numtxqueues "$q" numrxqueues "$q" \
		netns "$(lab_ns "$b")"
	lab_if_sysctls "$a" "$ifa"
	lab_if_sysctls "$b" "$ifb"
	ip -n "$(lab_ns "$a")" link set "$ifa" up
	ip -n "$(lab_ns "$b")" link set "$ifb" up
}

lab_addr() {
	local node=$1 ifname=$2 addr=$3 opt=()
	# Belt and braces with accept_dad=0: usable at once, never tentative.
	[[ $addr == *:* ]] && opt=(nodad)
	ip -n "$(lab_ns "$node")" addr add "$addr" dev "$ifname" "${opt[@]}"
}

lab_route() {
	local node=$1
	shift
	ip -n "$(lab_ns "$node")" route add "$@"
}

lab_nodes() {
	local i
	echo client xlb
	for ((i = 1; i <= LAB_NREALS; i++)); do
		echo "real$i"
	done
	if [[ ${LAB_PMTU_ROUTERS:-0} == 1 ]]; then
		echo rta rtb
	fi
}

lab_topology_up() {
	local node i
	mkdir -p "$LAB_RUN"
	chmod 0700 "$LAB_RUN"
	for node in $(lab_nodes); do
		ip netns add "$(lab_ns "$node")"
		ip -n "$(lab_ns "$node")" link set lo up
		lab_node_sysctls "$node"
	done

	lab_link client eth0 xlb eth0 1500 "$LAB_QUEUES"
	# The client computes its own checksums, as a host behind a NIC would
	# be seen to: a veth otherwise passes half-done checksums, which XDP's
	# encapsulation then carries to the real unfinished (docs/LAB.md).
	lab_exec client ethtool -K eth0 tx off >/dev/null
	# FULLNAT replies reach the client redirected by XDP on the xlb node:
	# a veth delivers a redirected frame only to a peer with XDP or GRO.
	if lab_fullnat; then
		lab_exec client ethtool -K eth0 gro on >/dev/null
	fi
	lab_addr client eth0 "$LAB_CLIENT4/24"
	lab_addr client eth0 "$LAB_CLIENT6/64"
	lab_addr xlb eth0 "$LAB_XLB4/24"
	lab_addr xlb eth0 "$LAB_XLB6/64"
	# The client reaches the VIPs and the reals' own addresses (for the
	# non-VIP checks) through the xlb node, nothing else.
	lab_route client 10.100.0.0/24 via "$LAB_XLB4"
	lab_route client 10.98.0.0/16 via "$LAB_XLB4"
	lab_route client fd00:100::/64 via "$LAB_XLB6"
	lab_route client fd00:98::/32 via "$LAB_XLB6"

	# The xlb node routes the reals' replies back to the client (DSR).
	lab_exec xlb sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1
	if lab_fullnat; then
		lab_local_pool
	fi

	for ((i = 1; i <= LAB_NREALS; i++)); do
		if ((i == 1)) && [[ ${LAB_PMTU_ROUTERS:-0} == 1 ]]; then
			lab_pmtu_path
		else
			lab_link xlb "r$i" "real$i" eth0 "$LAB_TUNNEL_MTU"
			lab_addr xlb "r$i" "$(xlb_addr4 "$i")/24"
			lab_addr xlb "r$i" "$(xlb_addr6 "$i")/64"
		fi
		lab_addr "real$i" eth0 "$(real_addr4 "$i")/24"
		lab_addr "real$i" eth0 "$(real_addr6 "$i")/64"
		if lab_tunnel; then
			# The VIPs are local on every real; it answers from them.
			lab_addr "real$i" lo "$LAB_VIP4/32"
			lab_addr "real$i" lo "$LAB_VIP6/128"
			lab_route "real$i" 10.99.0.0/24 via "$(xlb_addr4 "$i")"
			lab_route "real$i" fd00:99::/64 via "$(xlb_addr6 "$i")"
		fi
		if lab_fullnat; then
			lab_fullnat_real "$i"
		fi
		if ((i == 1)) && [[ ${LAB_PMTU_ROUTERS:-0} == 1 ]]; then
			lab_route real1 10.95.0.0/16 via "$(xlb_addr4 1)"
			lab_route real1 fd00:95::/32 via "$(xlb_addr6 1)"
		fi
	done
	if lab_fullnat; then
		lab_accept_local
	fi
}

# real1 behind two routers (LAB_PMTU_ROUTERS=1):
#
#   xlb r1 ---- eth0 rta eth1 ---- eth0 rtb eth1 ---- eth0 real1
#   10.95.1.1   10.95.1.2  10.95.2.1  10.95.2.2  10.98.1.1  10.98.1.2
#   fd00:95:1::1/2         fd00:95:2::1/2        fd00:98:1::1/2
#        MTU 1600                1400                 1600
#
# real1 keeps its address and its next hop (10.98.1.1, now rtb). The
# ends of the path see 1600 or 1500 bytes on their own links; only the
# routers' errors tell them about the 1400 in the middle. rta's eth0
# gets frames XDP redirects from the xlb node, so GRO is on there.
lab_pmtu_path() {
	local r
	lab_link xlb r1 rta eth0 "$LAB_TUNNEL_MTU"
	lab_link rta eth1 rtb eth0 "$LAB_PMTU_MTU"
	lab_link rtb eth1 real1 eth0 "$LAB_TUNNEL_MTU"
	lab_exec rta ethtool -K eth0 gro on >/dev/null
	lab_addr xlb r1 10.95.1.1/24
	lab_addr xlb r1 fd00:95:1::1/64
	lab_addr rta eth0 10.95.1.2/24
	lab_addr rta eth0 fd00:95:1::2/64
	lab_addr rta eth1 10.95.2.1/24
	lab_addr rta eth1 fd00:95:2::1/64
	lab_addr rtb eth0 10.95.2.2/24
	lab_addr rtb eth0 fd00:95:2::2/64
	lab_addr rtb eth1 "$(xlb_addr4 1)/24"
	lab_addr rtb eth1 "$(xlb_addr6 1)/64"
	for r in rta rtb; do
		lab_exec "$r" sysctl -qw net.ipv4.ip_forward=1 \
			net.ipv6.conf.all.forwarding=1
	done
	lab_route xlb 10.98.1.0/24 via 10.95.1.2
	lab_route xlb fd00:98:1::/64 via fd00:95:1::2
	lab_route rta 10.98.1.0/24 via 10.95.2.2
	lab_route rta fd00:98:1::/64 via fd00:95:2::2
	lab_route rta "$LAB_LADDR_NET4" via 10.95.1.1
	lab_route rta "$LAB_LADDR_NET6" via fd00:95:1::1
	lab_route rtb "$LAB_LADDR_NET4" via 10.95.2.1
	lab_route rtb "$LAB_LADDR_NET6" via fd00:95:2::1
	# The routers' own links, so that the xlb node's pings reach real1.
	lab_route rtb 10.95.1.0/24 via 10.95.2.1
	lab_route rtb fd00:95:1::/64 via fd00:95:2::1
}

# The xlb node's local addresses (its SNAT pool), on lo like VIPs.
lab_local_pool() {
	local a
	for a in $LAB_LADDRS4; do
		lab_addr xlb lo "$a/32"
	done
	for a in $LAB_LADDRS6; do
		lab_addr xlb lo "$a/128"
	done
}

# lab_fullnat_real I: what a real needs for FULLNAT VIPs, which is only a
# route back to the local addresses. XDP on the xlb node translates the
# real's replies and sends them on as they are, so the real computes its
# own checksums (as the client does). A real with no XDP program of its
# own (fullnat mode) turns GRO on, to accept the frames XDP redirects to
# it.
lab_fullnat_real() {
	local i=$1
	lab_route "real$i" "$LAB_LADDR_NET4" via "$(xlb_addr4 "$i")"
	lab_route "real$i" "$LAB_LADDR_NET6" via "$(xlb_addr6 "$i")"
	lab_exec "real$i" ethtool -K eth0 tx off >/dev/null
	if ! lab_tunnel; then
		lab_exec "real$i" ethtool -K eth0 gro on >/dev/null
	fi
}

# A packet XLB translated but hands to the kernel (no neighbour entry for
# the next hop yet) has a local address of this node as its source;
# Linux drops such a packet as a martian unless accept_local is on for the
# interface it came in on. xlbd sets it too (docs/FULLNAT.md);
# LAB_ACCEPT_LOCAL=0 leaves it to xlbd.
lab_accept_local() {
	local ifname sets=()
	[[ ${LAB_ACCEPT_LOCAL:-1} == 1 ]] || return 0
	for ifname in $(lab_xlb_ifaces); do
		sets+=("net.ipv4.conf.$ifname.accept_local=1")
	done
	lab_exec xlb sysctl -qw "${sets[@]}"
}

# The kernel stand-in for xlbd: an L4-hashed ECMP route per VIP address,
# weighted like the reals. The reals then see the plain client packet.
lab_kernel_forwarder() {
	local weights i hops4=() hops6=()
	read -ra weights <<<"$1"
	lab_exec xlb sysctl -qw net.ipv4.fib_multipath_hash_policy=1 \
		net.ipv6.fib_multipath_hash_policy=1
	for ((i = 1; i <= LAB_NREALS; i++)); do
		hops4+=(nexthop via "$(real_addr4 "$i")" weight "${weights[i - 1]}")
		hops6+=(nexthop via "$(real_addr6 "$i")" weight "${weights[i - 1]}")
	done
	# Tunnel VIPs only where the reals hold them.
	if lab_tunnel; then
		lab_route xlb "$LAB_VIP4/32" "${hops4[@]}"
		lab_route xlb "$LAB_VIP6/128" "${hops6[@]}"
	fi
	if lab_fullnat; then
		lab_kernel_fullnat "${weights[@]}"
	fi
}

# The kernel stand-in for FULLNAT VIPs: nftables DNAT to a real picked at
# random by weight, and SNAT to the local addresses, so the reals see
# what they see behind XLB.
lab_kernel_fullnat() {
	local w=("$@") i lo=0 map4=() map6=() laddrs4 laddr6
	for ((i = 1; i <= LAB_NREALS; i++)); do
		map4+=("$lo-$((lo + w[i - 1] - 1)) : $(real_addr4 "$i")")
		map6+=("$lo-$((lo + w[i - 1] - 1)) : $(real_addr6 "$i")")
		lo=$((lo + w[i - 1]))
	done
	laddrs4=${LAB_LADDRS4// /-}
	laddr6=${LAB_LADDRS6%% *}
	lab_exec xlb nft -f - <<EOF
table inet lab_fullnat {
	chain pre {
		type nat hook prerouting priority dstnat
		ip daddr $LAB_NAT_VIP4 dnat ip to numgen random mod $lo map { $(
		IFS=,
		echo "${map4[*]}"
	) }
		ip6 daddr $LAB_NAT_VIP6 dnat ip6 to numgen random mod $lo map { $(
		IFS=,
		echo "${map6[*]}"
	) }
	}
	chain post {
		type nat hook postrouting priority srcnat
		ct status dnat meta nfproto ipv4 snat ip to $laddrs4
		ct status dnat meta nfproto ipv6 snat ip6 to $laddr6
	}
}
EOF
}

# Both ends learn each other's MAC before traffic starts: XLB takes its
# next hop from the neighbour table and passes a packet to the kernel
# (which has no route for the VIP) while the entry does not exist yet.
# This also checks every link, with the decap programs in place.
lab_warm_neighbours() {
	local i
	lab_exec client ping -q -c1 -W2 "$LAB_XLB4" >/dev/null ||
		lab_die "client cannot ping the xlb node"
	lab_exec client ping -q -c1 -W2 "$LAB_XLB6" >/dev/null ||
		lab_die "client cannot ping6 the xlb node"
	for ((i = 1; i <= LAB_NREALS; i++)); do
		lab_exec xlb ping -q -c1 -W2 "$(real_addr4 "$i")" >/dev/null ||
			lab_die "xlb cannot ping real$i"
		lab_exec xlb ping -q -c1 -W2 "$(real_addr6 "$i")" >/dev/null ||
			lab_die "xlb cannot ping6 real$i"
	done
}

# lab_start_server I: the echo server of real I (started, not awaited).
# It listens on the VIPs where the real holds them (tunnel), and on the
# real's own addresses, which FULLNAT VIPs reach it at; with FULLNAT (or
# LAB_LOG_PEERS=1) it logs every client it sees (lab_peers).
lab_start_server() {
	local i=$1 opt=()
	if lab_tunnel; then
		opt+=(--addr "$LAB_VIP4" --addr "$LAB_VIP6")
	fi
	if lab_fullnat || [[ ${LAB_LOG_PEERS:-0} == 1 ]]; then
		opt+=(--log-peers)
	fi
	# LAB_NICE: the servers stand for other machines; a lab that shares
	# its CPUs with routing daemons runs them at a lower priority.
	lab_spawn "real$i" "echo-real$i" nice -n "${LAB_NICE:-0}" "$LAB_PYTHON" \
		"$LAB_ROOT/tools/xlb-echo.py" --name "real$i" "${opt[@]}" \
		--addr "$(real_addr4 "$i")" --addr "$(real_addr6 "$i")" \
		--tcp-port "$LAB_TCP_PORT" --tcp-port "$LAB_PLAIN_PORT" \
		--udp-port "$LAB_UDP_PORT"
}

# lab_peers [tcp|udp]: "COUNT ADDRESS" for every client address the
# reals' servers logged, most frequent first.
lab_peers() {
	local i
	for ((i = 1; i <= LAB_NREALS; i++)); do
		awk -v p="${1:-}" '$1 == "peer" && (p == "" || $2 == p) {
			print $3 }' "$LAB_RUN/echo-real$i.log"
	done | sort | uniq -c | sort -rn | awk '{ print $1, $2 }'
}

# lab_wait_server I: until real I's server says it is serving.
lab_wait_server() {
	wait_until 10 grep -q serving "$LAB_RUN/echo-real$1.log" ||
		lab_die "server on real$1 did not start:" \
			"$(cat "$LAB_RUN/echo-real$1.log")"
}

lab_start_servers() {
	local i
	for ((i = 1; i <= LAB_NREALS; i++)); do
		lab_start_server "$i"
	done
	for ((i = 1; i <= LAB_NREALS; i++)); do
		lab_wait_server "$i"
	done
}

lab_start_xlbd() {
	[[ -x $LAB_BUILD/xlbd && -x $LAB_BUILD/lbctl ]] ||
		lab_die "$LAB_BUILD/xlbd or lbctl missing: run make first"
	if ! mountpoint -q "$LAB_BPFFS"; then
		mkdir -p "$LAB_BPFFS"
		mount -t bpf bpf "$LAB_BPFFS"
	fi
	local ifname ifs=()
	for ifname in $(lab_xlb_ifaces); do
		ifs+=(--interface "$ifname")
	done
	# shellcheck disable=SC2086 # LAB_XLBD_ARGS is a list of words
	lab_spawn xlb xlbd "$LAB_BUILD/xlbd" "${ifs[@]}" \
		--socket "$LAB_SOCK" --xdp-mode "$LAB_XDP_MODE" \
		--pin-path "$LAB_BPFFS/xlb" \
		${LAB_XLBD_CONFIG:+--config "$LAB_XLBD_CONFIG"} ${LAB_XLBD_ARGS:-}
	if ! wait_until 10 lab_lbctl ping; then
		lab_log "xlbd did not answer on $LAB_SOCK; its log:"
		cat "$LAB_RUN/xlbd.log" >&2
		return 1
	fi
}

# Pin the xlb link's receive queues to CPUs, like a NIC's RSS does.
#
# XLB's connection tracking is per CPU, which is sound on a NIC: RSS
# hashes a flow to one queue and the queue's interrupt to one CPU, so a
# flow's packets always meet the same table. A veth has no such thing:
# XDP runs on whichever CPU the sender was on, so one connection's packets
# land on both CPUs, and after a change of reals a packet that finds no
# entry on its CPU is balanced anew, to another real (which resets the
# connection). Threaded NAPI gives each queue a kernel thread that we pin
# to a CPU; the sender picks the queue from the flow hash. Set
# LAB_PIN_NAPI=0 to see the raw veth behaviour.
# LAB_PINNED tells the tests whether it worked. Generic XDP runs before
# any NAPI of the veth's own, so there is nothing to pin.
lab_pin_napi() {
	local node=$1 ifname=$2 before after pid cpu=0 ncpu
	LAB_PINNED=0
	[[ ${LAB_PIN_NAPI:-1} == 1 && $LAB_XDP_MODE == native ]] || return 0
	ncpu=$(nproc)
	napi_threads() {
		ps -eo pid=,comm= | awk -v n="napi/$ifname-" \
			'index($2, n) == 1 { print $1 }' | sort
	}
	# The threads are told apart from other labs' by appearing between
	# the two listings: one lab at a time in between.
	exec 9>"${TMPDIR:-/tmp}/xlb-lab-napi.lock"
	flock 9
	before=$(napi_threads)
	lab_exec "$node" sh -c "echo 1 > /sys/class/net/$ifname/threaded" ||
		lab_log "lab: no threaded NAPI on $node/$ifname; flows may" \
			"meet more than one CPU"
	after=$(napi_threads)
	flock -u 9
	exec 9>&-
	for pid in $(comm -13 <(echo "$before") <(echo "$after")); do
		taskset -pc $((cpu++ % ncpu)) "$pid" >/dev/null
	done
	if ((cpu == LAB_QUEUES)); then
		LAB_PINNED=1
	else
		lab_log "lab: pinned $cpu NAPI threads on $node/$ifname," \
			"expected $LAB_QUEUES"
	fi
}

lab_decap_attach() {
	local i flag=()
	[[ $LAB_XDP_MODE == generic ]] && flag=(--generic)
	for ((i = 1; i <= LAB_NREALS; i++)); do
		# shellcheck disable=SC2086 # a list of prefixes
		lab_exec "real$i" "$LAB_BUILD/lbctl" decap attach eth0 \
			--from $LAB_TUNNEL_SOURCES "${flag[@]}" >/dev/null ||
			lab_die "decap attach failed on real$i"
	done
}

# lab_up [WEIGHTS]: the whole lab, with no VIP configured (xlb mode) or
# with the ECMP stand-in weighted by WEIGHTS (kernel mode).
lab_up() {
	lab_topology_up
	if [[ $LAB_FORWARDER == kernel ]]; then
		lab_kernel_forwarder "${1:-100 100 100}"
	else
		if lab_tunnel; then
			lab_decap_attach
		fi
		lab_start_xlbd
		# xlbd's program brings the veth's NAPI instances to life.
		lab_pin_napi xlb eth0
		if lab_fullnat; then
			lab_add_laddrs
		fi
	fi
	lab_warm_neighbours
	lab_start_servers
}

# lab_xdp_pass NODE IFNAME: an XDP_PASS program on the interface. Frames
# the xlb node sends back out of the port they came in by (XDP_TX: its
# ICMP "fragmentation needed" / "packet too big") reach a veth peer only
# when it has an XDP program (xdp_pass.bpf.c), where a NIC just receives.
lab_xdp_pass() {
	if [[ ! -f $LAB_RUN/xdp_pass.o ]]; then
		${CLANG:-clang} -O2 -target bpf -c \
			"$LAB_ROOT/tools/lab/xdp_pass.bpf.c" \
			-o "$LAB_RUN/xdp_pass.o" ||
			lab_die "cannot build xdp_pass.bpf.c"
	fi
	lab_exec "$1" ip link set "$2" xdp obj "$LAB_RUN/xdp_pass.o" sec xdp
}

# lab_add_laddrs: the local address pool, through lbctl.
lab_add_laddrs() {
	local a
	for a in $LAB_LADDRS4 $LAB_LADDRS6; do
		lab_lbctl laddr add "$a" >/dev/null
	done
}

# lab_add_vip VIP HASH WEIGHTS FAMILY [VIP-ADD-OPTION...]: a VIP and all
# reals, through lbctl. FAMILY (4 or 6) chooses the reals' addresses, so
# "10.100.0.10:80/tcp" with 6 is 4in6. The options go to `lbctl vip add`,
# e.g. --mode fullnat --mss 1400.
lab_add_vip() {
	local vip=$1 hash=$2 weights family=$4 i addr
	read -ra weights <<<"$3"
	shift 4
	lab_lbctl vip add "$vip" --hash "$hash" "$@" >/dev/null
	for ((i = 1; i <= LAB_NREALS; i++)); do
		addr=$(real_addr"$family" "$i")
		lab_lbctl real add "$vip" "$addr" --weight "${weights[i - 1]}" \
			>/dev/null
	done
}

# Stop every process in a namespace, politely first: xlbd detaches its
# program on SIGTERM. Only lab namespaces are ever passed here, and only
# lab processes run in them.
lab_kill_ns_pids() {
	local ns=$1 pids tries=50
	mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
	((${#pids[@]} > 0)) || return 0
	kill -TERM "${pids[@]}" 2>/dev/null || true
	while ((tries-- > 0)); do
		mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
		((${#pids[@]} > 0)) || return 0
		sleep 0.1
	done
	kill -KILL "${pids[@]}" 2>/dev/null || true
	sleep 0.2
}

lab_delete_ns() {
	local ns=$1
	lab_kill_ns_pids "$ns"
	ip netns del "$ns" 2>/dev/null || true
}

# lab_down: stop xlbd first (so it detaches while its links exist), then
# everything else, then the namespaces. Idempotent.
lab_down() {
	local node ns
	ns=$(lab_ns xlb)
	if [[ -e /run/netns/$ns ]]; then
		# A full stop: xlbd detaches and unpins (SIGTERM alone leaves
		# the data plane running, as a restart wants).
		if [[ -S $LAB_SOCK ]]; then
			lab_lbctl shutdown >/dev/null 2>&1 || true
		fi
		lab_kill_ns_pids "$ns"
	fi
	for node in $(lab_nodes); do
		ns=$(lab_ns "$node")
		[[ -e /run/netns/$ns ]] && lab_delete_ns "$ns"
	done
	lab_umount_bpffs "$LAB_RUN"
	rm -rf "$LAB_RUN"
}

# Unmount the lab's bpffs under a run directory, if mounted.
lab_umount_bpffs() {
	mountpoint -q "$1/bpffs" 2>/dev/null && umount "$1/bpffs"
	return 0
}

# lab_clean_stale PATTERN: remove leftovers of runs that are gone.
#   lab_clean_stale lab   every "xlblab-*" namespace
#   lab_clean_stale test  "xlbt<pid>-*" of test processes no longer alive
lab_clean_stale() {
	local ns owner
	for ns in $(ip netns list | awk '{print $1}'); do
		case $1:$ns in
		lab:xlblab-*) ;;
		test:xlbt[0-9]*-*)
			owner=${ns%%-*}
			owner=${owner#xlbt}
			kill -0 "$owner" 2>/dev/null && continue
			lab_umount_bpffs "${TMPDIR:-/tmp}/xlbt$owner"
			rm -rf "${TMPDIR:-/tmp}/xlbt$owner"
			;;
		*) continue ;;
		esac
		lab_log "removing stale namespace $ns"
		lab_delete_ns "$ns"
	done
}
