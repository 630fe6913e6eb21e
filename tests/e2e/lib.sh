#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# What every end-to-end test shares: a fresh lab of its own (namespaces
# named xlbt<pid>-*), removed on any exit, and checks that print one line
# each and let the test go on, so one run shows every broken number.
#
#   . "$(dirname "$0")/lib.sh"
#   e2e_begin "$@"           # BUILD_DIR; builds the lab, starts xlbd
#   check "what" test ...    # any command; ok if it succeeds
#   check_range "what" VALUE LO HI
#   e2e_end                  # exit status: 1 if a check failed
#
# Variables set here are read by the tests.
# shellcheck disable=SC2034

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tools/lab/lib.sh
. "$E2E_DIR/../../tools/lab/lib.sh"

E2E_FAILED=0
SHOW="$LAB_ROOT/tools/lab/show.py"
NCPU=$(nproc)

VIP_TCP4="$LAB_VIP4:$LAB_TCP_PORT/tcp"
VIP_UDP4="$LAB_VIP4:$LAB_UDP_PORT/udp"
VIP_TCP6="[$LAB_VIP6]:$LAB_TCP_PORT/tcp"
VIP_UDP6="[$LAB_VIP6]:$LAB_UDP_PORT/udp"

e2e_cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ $rc != 0 || $E2E_FAILED != 0 ]] && [[ -f $LAB_RUN/xlbd.log ]]
	then
		echo "--- last lines of xlbd's log:"
		tail -n 20 "$LAB_RUN/xlbd.log" | sed 's/^/    /'
	fi
	lab_down
	exit "$rc"
}

# A command that fails outside a check ends the test: say which.
e2e_on_error() {
	echo "  FAIL: line $1: '$2' exited $3"
	E2E_FAILED=1
}

e2e_begin() {
	[[ $# -ge 1 ]] || lab_die "usage: $0 BUILD_DIR"
	[[ $(id -u) == 0 ]] || lab_die "needs root (namespaces, XDP)"
	lab_init "xlbt$$" "$1"
	trap e2e_cleanup EXIT
	trap 'exit 130' INT TERM
	trap 'e2e_on_error $LINENO "$BASH_COMMAND" $?' ERR
	lab_up ""
}

e2e_end() {
	exit "$E2E_FAILED"
}

# check WHAT CMD...: one line, ok or FAIL; CMD's output only on failure.
check() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		echo "  ok:   $what"
	else
		echo "  FAIL: $what"
		[[ -z $out ]] || printf '%s\n' "$out" | sed 's/^/        /'
		E2E_FAILED=1
	fi
}

in_range() {
	[[ $1 =~ ^[0-9]+$ ]] && (($1 >= $2 && $1 <= $3))
}

check_range() {
	local what=$1 value=$2 lo=$3 hi=$4
	check "$what: $value in [$lo, $hi]" in_range "$value" "$lo" "$hi"
}

check_eq() {
	local what=$1 value=$2 want=$3
	check "$what: $value == $want" test "$value" == "$want"
}

# jget FILE PATH [DEFAULT]: one value out of a JSON file.
jget() {
	"$LAB_PYTHON" "$SHOW" get "$@"
}

# jlen FILE PATH: how many items (keys) there are there.
jlen() {
	"$LAB_PYTHON" "$SHOW" len "$@"
}

# spread NAME ARGS...: run the client's spread mode, keep its JSON in
# $LAB_RUN/NAME.json. Its exit status is ignored: the checks read the
# counts.
spread() {
	local name=$1
	shift
	# A working lab answers 600 requests in about a second; a broken one
	# must not eat the suite's time budget in timeouts.
	lab_client spread --deadline 15 "$@" >"$LAB_RUN/$name.json" || true
	echo "  ..    $name: $(cut -c1-160 "$LAB_RUN/$name.json")"
}

# stats NAME: `lbctl --json stats` into $LAB_RUN/NAME.json.
stats() {
	lab_lbctl --json stats >"$LAB_RUN/$1.json"
}

# check_spread NAME PCT REAL:WEIGHT[:PCT]...: every request answered, and
# each real's count within PCT percent of its weight's share.
check_spread() {
	local name=$1 pct=$2 file=$LAB_RUN/$1.json total sum=0 spec f want n
	shift 2
	total=$(jget "$file" total)
	check_eq "$name: all answered" "$(jget "$file" ok)" "$total"
	for spec in "$@"; do
		IFS=: read -ra f <<<"$spec"
		sum=$((sum + f[1]))
	done
	for spec in "$@"; do
		IFS=: read -ra f <<<"$spec"
		f[2]=${f[2]:-$pct}
		want=$((total * f[1] / sum))
		n=$(jget "$file" "by_real.${f[0]}" 0)
		check_range "$name: ${f[0]} (weight ${f[1]}) count" "$n" \
			$((want * (100 - f[2]) / 100)) $((want * (100 + f[2]) / 100))
	done
}

# FULLNAT ------------------------------------------------------------------
# A test of FULLNAT VIPs sets LAB_MODE=fullnat before e2e_begin: the reals
# then know nothing of XLB, and the xlb node is two-armed with the local
# address pool (tools/lab/lib.sh).
NAT_TCP4="$LAB_NAT_VIP4:$LAB_TCP_PORT/tcp"
NAT_UDP4="$LAB_NAT_VIP4:$LAB_UDP_PORT/udp"
NAT_TCP6="[$LAB_NAT_VIP6]:$LAB_TCP_PORT/tcp"
NAT_UDP6="[$LAB_NAT_VIP6]:$LAB_UDP_PORT/udp"

# hc until|get ...: a real's state (or a field of its health) over
# xlbd's control socket, tests/e2e/health_state.py.
hc() { LAB_SOCK=$LAB_SOCK "$LAB_PYTHON" "$E2E_DIR/health_state.py" "$@"; }

# wrk_run NAME URL SECONDS [CONNECTIONS]: wrk on the client, one new
# TCP connection per HTTP request (Connection: close); its JSON summary
# (tests/e2e/wrk-json.lua) in $LAB_RUN/NAME.json.
wrk_run() {
	local name=$1 url=$2 secs=$3 conns=${4:-16}
	lab_exec client wrk -t 2 -c "$conns" -d "${secs}s" --timeout 2s \
		-H "Connection: close" -s "$E2E_DIR/wrk-json.lua" "$url" \
		>"$LAB_RUN/$name.out" 2>&1 || true
	grep '^{' "$LAB_RUN/$name.out" | tail -n 1 >"$LAB_RUN/$name.json" ||
		echo '{}' >"$LAB_RUN/$name.json"
	echo "  ..    $name: $(cut -c1-300 "$LAB_RUN/$name.json")"
}

# check_wrk NAME MIN_REQUESTS: at least that many requests, no error of
# any kind.
check_wrk() {
	local f=$LAB_RUN/$1.json k
	check_range "$1: requests (each a new connection)" \
		"$(jget "$f" requests 0)" "$2" 10000000
	for k in connect_errors read_errors write_errors status_errors \
		timeouts; do
		check_eq "$1: $k" "$(jget "$f" "$k" missing)" 0
	done
}

# check_peers WHAT PROTO ADDRESS...: the reals' servers logged clients
# of PROTO (tcp or udp), and every one of them was one of ADDRESS.
check_peers() {
	local what=$1 proto=$2 n addr others=""
	shift 2
	while read -r n addr; do
		[[ " $* " == *" $addr "* ]] || others+=" $addr($n)"
	done < <(lab_peers "$proto")
	echo "  ..    $what: servers saw $(lab_peers "$proto" | tr '\n' ' ')"
	check "$what: the servers saw clients" test -n "$(lab_peers "$proto")"
	check "$what: the servers saw only $*" test -z "$others"
}

# peer_count PROTO: how many connections (tcp) or datagrams (udp) the
# reals' servers logged.
peer_count() {
	lab_peers "$1" | awk '{ n += $1 } END { print n + 0 }'
}

# reason STATS_FILE NAME: one reason counter, 0 when absent.
reason() {
	jget "$1" "reasons.$2" 0
}

# check_no_drops STATS_FILE: no packet dropped for any reason.
check_no_drops() {
	local drops
	drops=$("$LAB_PYTHON" -c 'import json, sys
r = json.load(open(sys.argv[1]))["reasons"]
print(" ".join(f"{k}={v}" for k, v in r.items()
               if k.startswith("drop_") and v))' "$1")
	check "no packet dropped${drops:+ ($drops)}" test -z "$drops"
}

# Connections ----------------------------------------------------------------

# port_reuse VIP_ADDR SVC: clients reusing their source ports (as clients
# behind NAT do) after `lbctl real drain` and after weight 0: 0 of the
# reused-port connections reach the real that takes no new flows, and
# each counts as a new connection (docs/OPERATIONS.md, "Draining").
port_reuse() {
	local vip=$1 svc=$2 n=60 before after
	local args=(--vip "$vip" --port "$LAB_TCP_PORT" --count "$n"
		--sport 30000 --ports "$n" --parallel 1)

	stats before
	spread first "${args[@]}"
	check_eq "first round answered" "$(jget "$LAB_RUN/first.json" ok)" "$n"
	check_range "first round: real3's share" \
		"$(jget "$LAB_RUN/first.json" by_real.real3 0)" 5 $((n - 5))
	check "lbctl real drain real3" lab_lbctl real drain "$svc" \
		"$(real_addr4 3)"
	spread drained "${args[@]}"
	check_eq "after drain: answered" "$(jget "$LAB_RUN/drained.json" ok)" \
		"$n"
	check_eq "after drain: source ports (all reused)" \
		"$(jget "$LAB_RUN/drained.json" source_ports)" "$n"
	check_eq "after drain: reused-port connections to the drained real" \
		"$(jget "$LAB_RUN/drained.json" by_real.real3 0)" 0
	check "lbctl real undrain real3" lab_lbctl real undrain "$svc" \
		"$(real_addr4 3)"
	check "lbctl real set real2 --weight 0" lab_lbctl real set "$svc" \
		"$(real_addr4 2)" --weight 0
	spread zero "${args[@]}"
	check_eq "after weight 0: answered" "$(jget "$LAB_RUN/zero.json" ok)" \
		"$n"
	check_eq "after weight 0: reused-port connections to real2" \
		"$(jget "$LAB_RUN/zero.json" by_real.real2 0)" 0
	stats after
	before=$(jget "$LAB_RUN/before.json" "vips[vip=$svc].new_flows" 0)
	after=$(jget "$LAB_RUN/after.json" "vips[vip=$svc].new_flows" 0)
	check_eq "new connections counted (3 rounds of $n)" \
		$((after - before)) $((3 * n))
}

# conn_counters VIP_ADDR SVC: under wrk with "Connection: close", the
# VIP's connection rate from `lbctl stats --rate` is the client's within
# 5% and its new connections are the client's requests; with K
# long-lived connections open, ActiveConn is what the client's kernel
# counts as established, and 0 once they closed.
conn_counters() {
	local vip=$1 svc=$2 conns=8 wrk before after cps rate req secs n0 n1 t0 t1
	local ready=$LAB_RUN/long.ready client n active
	stats before
	wrk_run cps "http://$vip:$LAB_TCP_PORT/" 12 >"$LAB_RUN/wrk.log" &
	wrk=$!
	sleep 2
	# The connections the servers accepted over the same window as
	# lbctl's two samples (their logs are written per connection): the
	# rate is not steady over wrk's whole run, so its average is no
	# measure of this window.
	n0=$(peer_count tcp)
	t0=$(date +%s%N)
	lab_lbctl --json stats --rate --watch 8 --count 1 >"$LAB_RUN/rate.json"
	n1=$(peer_count tcp)
	t1=$(date +%s%N)
	wait "$wrk" || true
	cat "$LAB_RUN/wrk.log"
	stats after
	check_wrk cps 2000
	req=$(jget "$LAB_RUN/cps.json" requests 0)
	secs=$(jget "$LAB_RUN/cps.json" duration_us 1)
	rate=$(((n1 - n0) * 1000000000 / (t1 - t0)))
	cps=$(jget "$LAB_RUN/rate.json" "vips[vip=$svc].new_flows_per_second" 0)
	cps=${cps%.*}
	echo "  ..    client: $req connections in $((secs / 1000)) ms," \
		"$((req * 1000000 / secs))/s on average; in lbctl's window" \
		"the servers accepted $rate/s; lbctl stats --rate: $cps/s"
	check_range "CPS from lbctl stats --rate vs the connection rate $rate/s" \
		"$cps" $((rate * 95 / 100)) $((rate * 105 / 100))
	before=$(jget "$LAB_RUN/before.json" "vips[vip=$svc].new_flows" 0)
	after=$(jget "$LAB_RUN/after.json" "vips[vip=$svc].new_flows" 0)
	# wrk counts answered requests: its 16 connections in flight at the
	# end, and its own first connects, were started but not counted.
	check_range "new connections vs the client's $req requests (1%)" \
		$((after - before)) "$req" $((req + req / 100 + 16))

	lab_client long --vip "$vip" --port "$LAB_TCP_PORT" --conns "$conns" \
		--duration 4 --interval 0.1 --ready-file "$ready" \
		>"$LAB_RUN/long.json" &
	client=$!
	wait_until 5 test -s "$ready" || true
	sleep 0.5
	n=$(lab_exec client ss -Htn state established dst "$vip" | wc -l)
	check_eq "connections the client has open" "$n" "$conns"
	stats open
	active=$(jget "$LAB_RUN/open.json" "vips[vip=$svc].active_conns" 0)
	check_eq "ActiveConn vs the client's open connections" "$active" "$n"
	wait "$client" || true
	sleep 0.5
	stats closed
	check_eq "ActiveConn once they closed" \
		"$(jget "$LAB_RUN/closed.json" "vips[vip=$svc].active_conns" 0)" 0
	check_range "InActConn once they closed (closing entries)" \
		"$(jget "$LAB_RUN/closed.json" "vips[vip=$svc].inactive_conns" 0)" \
		"$conns" 10000000
	lab_lbctl status | sed 's/^/  ..    /'
}

# timed_change NAME CMD...: run CMD, writing "NAME <time just before it>"
# to $LAB_RUN/events (the next-hop tests time what follows a change).
timed_change() {
	local name=$1
	shift
	echo "$name $(date +%s.%N)" >>"$LAB_RUN/events"
	"$@"
}

# xlb_ip ARGS...: `ip` in the xlb node's namespace.
xlb_ip() { ip -n "$(lab_ns xlb)" "$@"; }

# udp_stream RATE SECONDS BASE_PORT VIP [--read]: tools/lab/udp_stream.py
# on the client, in the background, its count of datagrams sent in
# $LAB_RUN/sent; $! is its pid.
udp_stream() {
	ip netns exec "$(lab_ns client)" "$LAB_PYTHON" \
		"$LAB_ROOT/tools/lab/udp_stream.py" "$4" "$LAB_UDP_PORT" "$1" \
		"$2" "$3" "${@:5}" >"$LAB_RUN/sent" &
}
