#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The XLB cluster lab: several XLB nodes behind an upstream router that
# learns the VIPs from them over BGP (or OSPF) with BFD and spreads the
# flows over them by kernel ECMP. Sourced after tools/lab/lib.sh (whose
# links, addresses, spawn and clean-up helpers it reuses) by the cluster
# tests (tests/e2e/t3*.sh); not meant to be run.
#
#                                  10.96.N.0/24          (one-armed nodes)
#   client eth0 --- c0  router  nN --------------- eth0 nN   (N = 1..3)
#   10.99.0.2-9  10.99.0.1      rN --------------- eth0 realN
#                                  10.98.N.0/24
#
# A node receives a VIP's packets from the router and sends them back out
# of the same link with XDP_TX (encapsulated to a real in tunnel mode,
# translated in FULLNAT mode): the router forwards them on. Frames that
# XDP_TX puts into a veth are delivered only if the other end has an XDP
# program, so the router's nN links run an XDP_PASS (xdp_pass.bpf.c).
#
# Every node runs its own FRR (zebra, bgpd or ospfd, bfdd) from the
# example configs in docs/frr/, substituted by cl_frr_conf. The router
# runs FRR too. Until xlbd announces its own routes, a node's "announce"
# is a blackhole host route of protocol 250 added here (cl_announce).
#
# Names: namespaces LAB_PREFIX-c (client), -rt (router), -nN (nodes),
# -rN (reals); everything else lives under LAB_RUN. cluster_down removes
# all of it.
#
# shellcheck disable=SC2034

CL_NODES=${CL_NODES:-3}
CL_NODE_AS=65001
CL_ROUTER_AS=65000
CL_VIP_NET4=10.100.0.0/16
CL_VIP_NET6=fd00:100::/48
CL_LADDR_NET4=10.97.0.0/16
CL_LADDR_NET6=fd00:97::/32
CL_NODE_RANGE4=10.96.0.0/16
CL_NODE_RANGE6=fd00:96::/32
# The client's source addresses: ECMP hashes on them (and the ports).
CL_CLIENTS4="10.99.0.2 10.99.0.3 10.99.0.4 10.99.0.5 10.99.0.6 10.99.0.7 10.99.0.8 10.99.0.9"
CL_ROUTER_C4=10.99.0.1
CL_ROUTER_C6=fd00:99::1
CL_SYNC_PORT=7400
# The client and the servers stand for machines of their own: on the
# lab's shared CPUs they run at the same priority as the routers' and
# nodes' daemons (LAB_NICE, see lib.sh's lab_start_server). BFD does not
# wait behind them: bfdd runs at a real-time priority (CL_BFD_RTPRIO).
# (At nice 10, the measuring client itself ran late by 100 ms and more
# whenever the daemons were busy, which it then reported as pauses.)
LAB_NICE=${LAB_NICE:-0}
# The nodes' conntrack and FULLNAT session tables (the lab holds a few
# thousand flows). The kernel fills a table of the default 262,144
# entries in 50-70 ms without a break (this kernel does not preempt
# kernel code), four such tables at a node's start: on the lab's two
# shared CPUs that starved the other nodes' and the router's BFD, which
# dropped every BGP session at once (docs/FRR.md, "CPU").
CL_TABLE_SIZE=${CL_TABLE_SIZE:-65536}
# bfdd's real-time priority (SCHED_RR), as docs/FRR.md advises.
CL_BFD_RTPRIO=${CL_BFD_RTPRIO:-50}
CL_FRR_CONF=$LAB_ROOT/docs/frr
CL_FRR_BIN=${CL_FRR_BIN:-/usr/lib/frr}

cl_node_addr4() { echo "10.96.$1.2"; }
cl_node_addr6() { echo "fd00:96:$1::2"; }
cl_rt_addr4() { echo "10.96.$1.1"; }
cl_rt_addr6() { echo "fd00:96:$1::1"; }
cl_laddr4() { echo "10.97.$1.1"; }

# The cluster's namespaces, on top of lib.sh's client and realN.
lab_ns() {
	case $1 in
	client) echo "$LAB_PREFIX-c" ;;
	router) echo "$LAB_PREFIX-rt" ;;
	n[0-9]*) echo "$LAB_PREFIX-$1" ;;
	real*) echo "$LAB_PREFIX-r${1#real}" ;;
	*) lab_die "unknown node $1" ;;
	esac
}

cl_members() {
	local i
	echo client router
	for ((i = 1; i <= CL_NODES; i++)); do echo "n$i"; done
	for ((i = 1; i <= LAB_NREALS; i++)); do echo "real$i"; done
}

# cl_frr_conf TEMPLATE OUT KEY=VALUE...: the example file with its
# @KEY@ placeholders replaced; fails if one is left.
cl_frr_conf() {
	local in=$1 out=$2 kv sed_args=()
	shift 2
	for kv in "$@"; do
		sed_args+=(-e "s|@${kv%%=*}@|${kv#*=}|g")
	done
	sed "${sed_args[@]}" "$in" >"$out"
	if grep -q '@[A-Z0-9_]*@' "$out"; then
		lab_log "cluster: placeholders left in $out:" \
			"$(grep -o '@[A-Z0-9_]*@' "$out" | sort -u | tr '\n' ' ')"
		return 1
	fi
}

# cl_frr_check DAEMON FILE: DAEMON -C accepts every line of FILE. -C exits
# 0 even for unknown commands, so its messages are read too.
cl_frr_check() {
	local out pid rc=0
	"$CL_FRR_BIN/$1" -C -f "$2" >"$2.out" 2>&1 &
	pid=$!
	wait "$pid" || rc=$?
	# The crash-log directory the check made, named after its pid.
	rm -rf "/var/tmp/frr/$1.$pid"
	out=$(cat "$2.out")
	rm -f "$2.out"
	if [[ $rc != 0 ]]; then
		printf '%s\n' "$out"
		return 1
	fi
	# Not about the file: no MPLS in this kernel, and the directory of a
	# crash log that an earlier daemon with the same pid left behind.
	out=$(printf '%s\n' "$out" | grep -v -e 'Disabling MPLS support' \
		-e 'failed to mkdir "/var/tmp/frr/' \
		-e 'crashlog and per-thread log buffering unavailable' || true)
	if [[ -n $out ]]; then
		printf '%s\n' "$out"
		return 1
	fi
}

# The values of a member's placeholders.
cl_frr_values() {
	local who=$1 i
	local common=("VIP_NET4=$CL_VIP_NET4" "VIP_NET6=$CL_VIP_NET6"
		"LADDR_NET4=$CL_LADDR_NET4" "LADDR_NET6=$CL_LADDR_NET6"
		"NODE_AS=$CL_NODE_AS" "ROUTER_AS=$CL_ROUTER_AS"
		"BACKUP_METRIC=1000"
		"HOSTNAME=$who")
	if [[ $who == router ]]; then
		printf '%s\n' "${common[@]}" "ROUTER_ID=$CL_ROUTER_C4" \
			"NODE_RANGE4=$CL_NODE_RANGE4" "NODE_RANGE6=$CL_NODE_RANGE6"
	else
		i=${who#n}
		printf '%s\n' "${common[@]}" "ROUTER_ID=$(cl_node_addr4 "$i")" \
			"PEER4=$(cl_rt_addr4 "$i")" "PEER6=$(cl_rt_addr6 "$i")" \
			"IFNAME=eth0"
	fi
}

# cl_frr_daemons PROTO: the daemons of a variant.
cl_frr_daemons() {
	case $1 in
	bgp) echo zebra bfdd bgpd ;;
	ospf) echo zebra bfdd ospfd ;;
	*) lab_die "routing protocol is bgp or ospf, not $1" ;;
	esac
}

# cl_frr_write WHO PROTO [DIR]: the member's substituted and validated
# configs in DIR, by default its FRR run directory $LAB_RUN/frr-WHO
# (owned by frr).
cl_frr_write() {
	local who=$1 proto=$2 role d dir=${3:-$LAB_RUN/frr-$1} vals i
	role=node
	[[ $who == router ]] && role=router
	mkdir -p "$dir"
	mapfile -t vals < <(cl_frr_values "$who")
	for d in $(cl_frr_daemons "$proto"); do
		cl_frr_conf "$CL_FRR_CONF/$role-$proto/$d.conf" "$dir/$d.conf" \
			"${vals[@]}" || return 1
	done
	if [[ $role-$proto == router-ospf ]]; then
		for ((i = 1; i <= CL_NODES; i++)); do
			cl_frr_conf "$CL_FRR_CONF/router-ospf/ospfd-interface.conf" \
				"$dir/if.tmp" "${vals[@]}" "IFNAME=n$i" || return 1
			cat "$dir/if.tmp" >>"$dir/ospfd.conf"
		done
		rm -f "$dir/if.tmp"
	fi
	for d in $(cl_frr_daemons "$proto"); do
		cl_frr_check "$d" "$dir/$d.conf" >"$dir/$d.check" 2>&1 || {
			lab_log "cluster: $dir/$d.conf does not validate:"
			cat "$dir/$d.check" >&2
			return 1
		}
	done
	chown -R frr:frr "$dir"
	chmod 0750 "$dir"
}

# cl_frr_start WHO PROTO: FRR's daemons inside WHO's namespace, as
# ../shared lab notes found to work: own paths, no systemd, no watchfrr.
cl_frr_start() {
	local who=$1 proto=$2 d dir=$LAB_RUN/frr-$1 extra rt
	cl_frr_write "$who" "$proto" || return 1
	for d in $(cl_frr_daemons "$proto"); do
		extra=()
		[[ $d == zebra ]] && extra=(-s 90000000)
		[[ $d == bfdd ]] && extra=(--bfdctl "$dir/bfdd.sock")
		# BFD at 30 ms x 3 must answer within ~90 ms whatever else
		# runs: bfdd gets a real-time priority (docs/FRR.md, "CPU").
		rt=()
		[[ $d == bfdd ]] && rt=(chrt --rr "$CL_BFD_RTPRIO")
		lab_exec "$who" "${rt[@]}" "$CL_FRR_BIN/$d" -d \
			-F traditional -P 0 -f "$dir/$d.conf" -i "$dir/$d.pid" \
			-z "$dir/zserv.api" --vty_socket "$dir" \
			--log "file:$dir/$d.log" "${extra[@]}" \
			>>"$dir/start.log" 2>&1 ||
			lab_die "cluster: $d did not start on $who: $(tail -n 5 "$dir/$d.log" 2>/dev/null)"
		# The next daemon connects to zebra's socket.
		[[ $d == zebra ]] && wait_until 5 test -S "$dir/zserv.api"
	done
	return 0
}

# cl_vtysh WHO CMD: one vtysh command on WHO's FRR.
cl_vtysh() {
	vtysh --vty_socket "$LAB_RUN/frr-$1" -c "$2"
}

# cl_frr_pids WHO: the pids of WHO's FRR daemons.
cl_frr_pids() {
	cat "$LAB_RUN/frr-$1"/*.pid 2>/dev/null
}

cl_topology_up() {
	local who i a
	mkdir -p "$LAB_RUN"
	chmod 0711 "$LAB_RUN"
	for who in $(cl_members); do
		ip netns add "$(lab_ns "$who")"
		ip -n "$(lab_ns "$who")" link set lo up
		lab_node_sysctls "$who"
	done
	${CLANG:-clang} -O2 -target bpf -c "$LAB_ROOT/tools/lab/xdp_pass.bpf.c" \
		-o "$LAB_RUN/xdp_pass.o" || lab_die "cannot build xdp_pass.bpf.c"
	lab_exec router sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1 \
		net.ipv4.fib_multipath_hash_policy=1 \
		net.ipv6.fib_multipath_hash_policy=1 \
		net.ipv4.conf.all.ignore_routes_with_linkdown=1 \
		net.ipv6.conf.all.ignore_routes_with_linkdown=1

	# The client: several source addresses, full checksums (XDP
	# encapsulates what it gets; a veth passes half-done checksums on).
	lab_link client eth0 router c0 1500
	lab_exec client ethtool -K eth0 tx off >/dev/null
	for a in $CL_CLIENTS4; do
		lab_addr client eth0 "$a/24"
	done
	lab_addr client eth0 fd00:99::2/64
	lab_addr router c0 "$CL_ROUTER_C4/24"
	lab_addr router c0 "$CL_ROUTER_C6/64"
	lab_route client default via "$CL_ROUTER_C4"
	lab_route client default via "$CL_ROUTER_C6"

	for ((i = 1; i <= CL_NODES; i++)); do
		lab_link router "n$i" "n$i" eth0 "$LAB_TUNNEL_MTU"
		# Frames the node XDP_TXes come in here: a veth delivers them
		# only to a peer with an XDP program (see xdp_pass.bpf.c).
		lab_exec router ip link set "n$i" xdp obj "$LAB_RUN/xdp_pass.o" sec xdp
		lab_addr router "n$i" "$(cl_rt_addr4 "$i")/24"
		lab_addr router "n$i" "$(cl_rt_addr6 "$i")/64"
		lab_addr "n$i" eth0 "$(cl_node_addr4 "$i")/24"
		lab_addr "n$i" eth0 "$(cl_node_addr6 "$i")/64"
		lab_route "n$i" default via "$(cl_rt_addr4 "$i")"
		lab_route "n$i" default via "$(cl_rt_addr6 "$i")"
		# A node forwards what is not for a VIP, and bpf_fib_lookup
		# finds no route at all where forwarding is off: set it here,
		# never inherit it from the host (0 on a new machine).
		lab_exec "n$i" sysctl -qw net.ipv4.conf.eth0.accept_local=1 \
			net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	done

	for ((i = 1; i <= LAB_NREALS; i++)); do
		lab_link router "r$i" "real$i" eth0 "$LAB_TUNNEL_MTU"
		lab_addr router "r$i" "$(xlb_addr4 "$i")/24"
		lab_addr router "r$i" "$(xlb_addr6 "$i")/64"
		lab_addr "real$i" eth0 "$(real_addr4 "$i")/24"
		lab_addr "real$i" eth0 "$(real_addr6 "$i")/64"
		lab_route "real$i" default via "$(xlb_addr4 "$i")"
		lab_route "real$i" default via "$(xlb_addr6 "$i")"
		lab_exec "real$i" ethtool -K eth0 tx off >/dev/null
		if lab_tunnel; then
			lab_addr "real$i" lo "$LAB_VIP4/32"
			lab_addr "real$i" lo "$LAB_VIP6/128"
		fi
	done
}

# cl_xlbd_config N: node N's xlbd config. The routes and cluster sections
# only when this xlbd knows them (CL_XLBD_CLUSTER=1, or found out by
# xlbd --check); otherwise cl_announce stands in for the routes.
cl_xlbd_config() {
	local n=$1 dir=$LAB_RUN/n$1 i mode=${LAB_MODE} f
	f=$dir/xlbd.yaml
	{
		echo "interfaces: [eth0]"
		echo "pin_path: $dir/bpffs/xlb"
		echo "socket: $dir/xlbd.sock"
		echo "metrics: 127.0.0.1:9617"
		echo "conntrack_size: $CL_TABLE_SIZE"
		if [[ $mode == fullnat ]]; then
			echo "fullnat: {local_addresses: [$(cl_laddr4 "$n")], ports: 1024-65535, sessions: $CL_TABLE_SIZE${CL_NAT_TIMEOUTS:+, timeouts: $CL_NAT_TIMEOUTS}}"
		fi
		if [[ ${CL_XLBD_CLUSTER:-1} == 1 ]]; then
			echo "routes:"
			echo "  protocol: 250"
			echo "  metric: 0"
			echo "  backup_metric: 1000"
			echo "  frr_run_dir: $LAB_RUN/frr-n$n"
			echo "  watch: [$(cl_frr_daemons "$CL_PROTO" | sed 's/ /, /g')]"
			echo "cluster:"
			echo "  node: n$n"
			echo "  key_file: $LAB_RUN/cluster.key"
			echo "  batch_ms: 20"
			echo "  preonline_timeout_ms: 3000"
			echo "  drain_idle_ms: 2000"
			echo "  nodes:"
			for ((i = 1; i <= CL_NODES; i++)); do
				if [[ $mode == fullnat ]]; then
					echo "    - {name: n$i, address: $(cl_node_addr4 "$i"), port: $CL_SYNC_PORT, local_addresses: [$(cl_laddr4 "$i")]}"
				else
					echo "    - {name: n$i, address: $(cl_node_addr4 "$i"), port: $CL_SYNC_PORT}"
				fi
			done
		fi
		echo "vips:"
		if [[ $mode == fullnat ]]; then
			echo "  - vip: $LAB_NAT_VIP4:$LAB_TCP_PORT/tcp"
			echo "    mode: fullnat"
		else
			echo "  - vip: $LAB_VIP4:$LAB_TCP_PORT/tcp"
		fi
		echo "    reals: [$(cl_real_list)]"
	} >"$f"
	echo "$f"
}

# The reals in the VIP's configuration: CL_REALS (indexes), by default
# every real of the lab.
cl_real_list() {
	local i out=()
	for i in ${CL_REALS:-$(seq 1 "$LAB_NREALS")}; do
		out+=("$(real_addr4 "$i")")
	done
	local IFS=,
	echo "${out[*]}" | sed 's/,/, /g'
}

cl_lbctl() {
	local n=$1
	shift
	"$LAB_BUILD/lbctl" --socket "$LAB_RUN/n$n/xlbd.sock" "$@"
}

# cl_xlbd_start N: xlbd on node N with its config file, waited for.
cl_xlbd_start() {
	local n=$1 dir=$LAB_RUN/n$1 conf
	mkdir -p "$dir/bpffs"
	mountpoint -q "$dir/bpffs" || mount -t bpf bpf "$dir/bpffs"
	conf=$(cl_xlbd_config "$n")
	lab_spawn "n$n" "xlbd-n$n" "$LAB_BUILD/xlbd" --config "$conf" \
		--xdp-mode "$LAB_XDP_MODE"
	if ! wait_until 10 cl_lbctl "$n" ping; then
		lab_log "xlbd on n$n did not answer; its log:"
		cat "$LAB_RUN/xlbd-n$n.log" >&2
		return 1
	fi
}

# cl_xlbd_stop N: a full stop of node N's xlbd (detach, unpin).
cl_xlbd_stop() {
	local n=$1 pid
	cl_lbctl "$n" shutdown >/dev/null 2>&1 || true
	pid=$(cat "$LAB_RUN/xlbd-n$n.pid" 2>/dev/null) || return 0
	wait_until 5 sh -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null
	rm -f "$LAB_RUN/xlbd-n$n.pid"
}

# cl_announce N [del]: what xlbd's routes section will do, by hand: the
# VIP (and in FULLNAT mode the node's own local address with metric 0,
# the others' with metric 1000) as blackhole routes of protocol 250.
cl_announce() {
	local n=$1 op=${2:-replace} i vip=$LAB_VIP4
	[[ $LAB_MODE == fullnat ]] && vip=$LAB_NAT_VIP4
	ip -n "$(lab_ns "n$n")" route "$op" blackhole "$vip/32" proto 250 metric 0
	if [[ $LAB_MODE == fullnat ]]; then
		for ((i = 1; i <= CL_NODES; i++)); do
			ip -n "$(lab_ns "n$n")" route "$op" blackhole \
				"$(cl_laddr4 "$i")/32" proto 250 \
				metric $((i == n ? 0 : 1000))
		done
	fi
}

# cl_nexthops WHO PREFIX: how many nexthops WHO's kernel has for PREFIX.
cl_nexthops() {
	"$LAB_PYTHON" "$LAB_ROOT/tools/lab/nexthops.py" "$(lab_ns "$1")" "$2" \
		2>/dev/null || echo 0
}

# cl_vip4: the VIP address of the lab's mode.
cl_vip4() {
	if [[ $LAB_MODE == fullnat ]]; then echo "$LAB_NAT_VIP4"; else echo "$LAB_VIP4"; fi
}

# wait_ecmp N [SECONDS] [PREFIX]: the router has N nexthops for the VIP.
# (tools/lab/nexthops.py watches the routing table over netlink: polling
# with `ip` loaded the CPUs whose pauses the tests measure.)
wait_ecmp() {
	local want=$1 secs=${2:-15} prefix=${3:-$(cl_vip4)/32}
	"$LAB_PYTHON" "$LAB_ROOT/tools/lab/nexthops.py" "$(lab_ns router)" \
		"$prefix" --want "$want" --timeout "$secs" >/dev/null
}
cl_has_nexthops() {
	[[ $(cl_nexthops router "$1") == "$2" ]]
}

# cl_ms: a monotonic clock in ms.
cl_ms() {
	local up
	read -r up _ </proc/uptime
	echo $((${up/./} * 10))
}

# cl_time_ecmp N [SECONDS]: wait_ecmp, printing the ms it took (-1 and
# a failure status when it did not happen in time).
cl_time_ecmp() {
	local t0=${EPOCHREALTIME/[.,]/}
	"$LAB_PYTHON" "$LAB_ROOT/tools/lab/nexthops.py" "$(lab_ns router)" \
		"$(cl_vip4)/32" --want "$1" --timeout "${2:-15}" --start-us "$t0"
}

# node_fail N HOW: nft (silent death: the router drops everything from
# and to the node's link), link (the node's link goes down) or sigstop
# (the node's FRR and xlbd stop).
node_fail() {
	local n=$1 how=$2 pids
	case $how in
	nft)
		lab_exec router nft -f - <<EOF
table netdev fail_n$n {
	chain in { type filter hook ingress device "n$n" priority -300; policy drop; }
	chain out { type filter hook egress device "n$n" priority -300; policy drop; }
}
EOF
		;;
	link) ip -n "$(lab_ns "n$n")" link set eth0 down ;;
	sigstop)
		pids=$(cl_frr_pids "n$n"; cat "$LAB_RUN/xlbd-n$n.pid" 2>/dev/null)
		# shellcheck disable=SC2086
		kill -STOP $pids
		;;
	*) lab_die "node_fail: HOW is nft, link or sigstop, not $how" ;;
	esac
	echo "$how" >"$LAB_RUN/n$n.failed"
}

# node_recover N: undo node_fail.
node_recover() {
	local n=$1 how pids
	how=$(cat "$LAB_RUN/n$n.failed" 2>/dev/null) || return 0
	case $how in
	nft) lab_exec router nft delete table netdev "fail_n$n" ;;
	link)
		ip -n "$(lab_ns "n$n")" link set eth0 up
		# The default routes went with the link.
		ip -n "$(lab_ns "n$n")" route replace default via "$(cl_rt_addr4 "$n")"
		ip -n "$(lab_ns "n$n")" route replace default via "$(cl_rt_addr6 "$n")"
		;;
	sigstop)
		pids=$(cl_frr_pids "n$n"; cat "$LAB_RUN/xlbd-n$n.pid" 2>/dev/null)
		# shellcheck disable=SC2086
		kill -CONT $pids
		;;
	esac
	rm -f "$LAB_RUN/n$n.failed"
}


# cluster_up MODE [PROTO]: the whole cluster lab, MODE tunnel or fullnat,
# PROTO bgp (default) or ospf; returns once the router has every node's
# route for the VIP.
cluster_up() {
	local i who
	LAB_MODE=$1
	CL_PROTO=${2:-bgp}
	case $LAB_MODE in tunnel | fullnat) ;; *) lab_die "cluster mode is tunnel or fullnat" ;; esac
	[[ -x $LAB_BUILD/xlbd && -x $LAB_BUILD/lbctl ]] ||
		lab_die "$LAB_BUILD/xlbd or lbctl missing: run make first"
	cl_topology_up
	head -c 32 /dev/urandom >"$LAB_RUN/cluster.key"
	chmod 0600 "$LAB_RUN/cluster.key"
	if lab_tunnel; then
		for ((i = 1; i <= LAB_NREALS; i++)); do
			# shellcheck disable=SC2086 # a list of prefixes
			lab_exec "real$i" "$LAB_BUILD/lbctl" decap attach eth0 \
				--from $LAB_TUNNEL_SOURCES >/dev/null ||
				lab_die "decap attach failed on real$i"
		done
	fi
	# Links checked, neighbours learnt before any XDP_TX.
	for ((i = 1; i <= CL_NODES; i++)); do
		lab_exec "n$i" ping -q -c1 -W2 "$(cl_rt_addr4 "$i")" >/dev/null ||
			lab_die "n$i cannot ping the router"
	done
	for ((i = 1; i <= LAB_NREALS; i++)); do
		lab_exec "real$i" ping -q -c1 -W2 "$(xlb_addr4 "$i")" >/dev/null ||
			lab_die "real$i cannot ping the router"
	done
	lab_exec client ping -q -c1 -W2 "$CL_ROUTER_C4" >/dev/null ||
		lab_die "client cannot ping the router"
	for who in router $(for ((i = 1; i <= CL_NODES; i++)); do echo "n$i"; done); do
		cl_frr_start "$who" "$CL_PROTO" || return 1
	done
	for ((i = 1; i <= CL_NODES; i++)); do
		cl_xlbd_start "$i" || return 1
		[[ ${CL_XLBD_CLUSTER:-1} == 1 ]] || cl_announce "$i"
	done
	lab_start_servers
	wait_ecmp "$CL_NODES" 30 || {
		lab_log "cluster: the router has $(cl_nexthops router "$(cl_vip4)/32") nexthops for the VIP after 30 s"
		return 1
	}
}

# cluster_down: every process, namespace and mount of the lab. Idempotent,
# safe after a partial cluster_up.
cluster_down() {
	local who ns i f
	for ((i = 1; i <= CL_NODES; i++)); do
		# A stopped process would not see SIGTERM.
		[[ -f $LAB_RUN/n$i.failed ]] && node_recover "$i" 2>/dev/null
		ns=$(lab_ns "n$i")
		[[ -e /run/netns/$ns && -S $LAB_RUN/n$i/xlbd.sock ]] &&
			cl_lbctl "$i" shutdown >/dev/null 2>&1
	done
	for who in $(cl_members); do
		ns=$(lab_ns "$who")
		[[ -e /run/netns/$ns ]] && lab_delete_ns "$ns"
	done
	for ((i = 1; i <= CL_NODES; i++)); do
		mountpoint -q "$LAB_RUN/n$i/bpffs" 2>/dev/null &&
			umount "$LAB_RUN/n$i/bpffs"
	done
	# FRR's daemons leave a crash-log directory named after their pid.
	for f in "$LAB_RUN"/frr-*/*.pid; do
		[[ -f $f ]] || continue
		i=$(cat "$f" 2>/dev/null) || continue
		[[ $i =~ ^[0-9]+$ ]] && rm -rf "/var/tmp/frr/$(basename "$f" .pid).$i"
	done
	[[ -n ${LAB_RUN:-} && $LAB_RUN == */"$LAB_PREFIX" ]] && rm -rf "$LAB_RUN"
	return 0
}

# cl_flows_start NAME ARGS...: tools/xlb-flows.py on the client, in the
# background, towards the mode's VIP from every client address; its JSON
# goes to $LAB_RUN/NAME.json, its pid (the python process itself, for
# SIGUSR1 and SIGTERM) to $LAB_RUN/NAME.pid. Waits until every long-lived
# connection has had its first reply.
cl_flows_start() {
	local name=$1
	shift
	rm -f "$LAB_RUN/$name.ready"
	# glibc's malloc would map and unmap asyncio's 256 KiB receive
	# buffer per read (half the client's CPU, and a TLB shootdown of
	# every CPU each time): keep such blocks on the heap.
	ip netns exec "$(lab_ns client)" env MALLOC_MMAP_THRESHOLD_=4194304 \
		MALLOC_TRIM_THRESHOLD_=67108864 nice -n "$LAB_NICE" "$LAB_PYTHON" \
		"$LAB_ROOT/tools/xlb-flows.py" --vip "$(cl_vip4)" \
		--port "$LAB_TCP_PORT" --bind-addrs "${CL_CLIENTS4// /,}" \
		--ready-file "$LAB_RUN/$name.ready" --verbose "$@" \
		>"$LAB_RUN/$name.json" 2>"$LAB_RUN/$name.log" &
	echo $! >"$LAB_RUN/$name.pid"
	wait_until 15 test -s "$LAB_RUN/$name.ready" || {
		lab_log "cluster: $name: the long-lived connections did not all open"
		cat "$LAB_RUN/$name.log" >&2
		return 1
	}
}

# cl_flows_phase NAME: the flows start a new phase (SIGUSR1).
cl_flows_phase() {
	kill -USR1 "$(cat "$LAB_RUN/$1.pid")"
}

# cl_flows_stop NAME: stop the flows and wait for their JSON.
cl_flows_stop() {
	local pid
	[[ -f $LAB_RUN/$1.pid ]] || return 0 # stopped already
	pid=$(cat "$LAB_RUN/$1.pid")
	kill -TERM "$pid" 2>/dev/null || true
	wait_until 10 sh -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null
	rm -f "$LAB_RUN/$1.pid"
}
