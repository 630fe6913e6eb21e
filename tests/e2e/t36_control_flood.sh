#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The control socket under a flood of idle connections: 1,000 connections
# that send nothing (held, or opened again and again) do not keep root's
# lbctl out, nor the stop hook's `lbctl shutdown`; a client that has not
# sent a whole request within 3 s is closed, and so is every idle one.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_begin "$@"

FLOOD=$LAB_RUN/ctl-flood.py
cat >"$FLOOD" <<'PY'
import resource, socket, sys, time

mode, path = sys.argv[1], sys.argv[2]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s

def closed_by_server(s):
    """The daemon closed s (it may have said why first)."""
    s.setblocking(False)
    try:
        while True:
            b = s.recv(4096)
            if not b:
                return True
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True

if mode == "hold":
    # hold N READY SECONDS: open N idle connections, say so, keep them
    # SECONDS, then print how many the daemon has closed.
    n, ready, secs = int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
    socks = [connect() for _ in range(n)]
    open(ready, "w").write("%d\n" % len(socks))
    time.sleep(secs)
    print(sum(closed_by_server(s) for s in socks))
elif mode == "churn":
    # churn SECONDS: open idle connections again and again, keeping the
    # last 200; print how many were opened.
    secs = float(sys.argv[3])
    end, opened, socks = time.monotonic() + secs, 0, []
    while time.monotonic() < end:
        socks.append(connect())
        opened += 1
        if len(socks) > 200:
            socks.pop(0).close()
    print(opened)
elif mode == "slow":
    # slow: half a request, then wait; print the ms until the daemon
    # closed the connection and what it said.
    t0, buf = time.monotonic(), b""
    s = connect()
    s.sendall(b'{"cmd": "pi')
    s.settimeout(10)
    while True:
        b = s.recv(4096)
        if not b:
            break
        buf += b
    print(int((time.monotonic() - t0) * 1000), buf.decode().strip())
PY

ms_now() { echo $(($(date +%s%N) / 1000000)); }

# lbctl_timed NAME CMD...: run lbctl, record its exit code and ms.
lbctl_timed() {
	local name=$1 t0 rc=0
	shift
	t0=$(ms_now)
	timeout 10 "$LAB_BUILD/lbctl" --socket "$LAB_SOCK" "$@" \
		>"$LAB_RUN/$name.out" 2>&1 || rc=$?
	echo "$rc $(($(ms_now) - t0))"
}

# run_lbctls TAG N: N pings and vip lists; print failures and worst ms.
run_lbctls() {
	local tag=$1 n=$2 i rc ms fails=0 worst=0
	for ((i = 0; i < n; i++)); do
		for cmd in ping "vip list"; do
			# shellcheck disable=SC2086 # cmd is two words
			read -r rc ms < <(lbctl_timed "$tag" $cmd)
			((rc == 0)) || fails=$((fails + 1))
			((ms > worst)) && worst=$ms
		done
	done
	echo "$fails $worst"
}

lab_add_vip "$VIP_TCP4" maglev "100 100 100" 4

# 1,000 idle connections held: lbctl still answers, every time, at once.
ready=$LAB_RUN/hold.ready
python3 "$FLOOD" hold "$LAB_SOCK" 1000 "$ready" 5 >"$LAB_RUN/hold.count" &
hold=$!
check "1000 idle connections opened" wait_until 30 test -s "$ready"
check_eq "connections the flood holds" "$(cat "$ready")" 1000
read -r fails worst < <(run_lbctls held 10)
check_eq "lbctl ping/vip list failures beside 1000 idle connections" \
	"$fails" 0
check_range "slowest lbctl beside 1000 idle connections (ms)" "$worst" 0 1000
wait "$hold"
check_eq "idle connections the daemon closed within 5 s" \
	"$(cat "$LAB_RUN/hold.count")" 1000

# Idle connections opened without pause for 4 s.
python3 "$FLOOD" churn "$LAB_SOCK" 4 >"$LAB_RUN/churn.count" &
churn=$!
sleep 0.5
read -r fails worst < <(run_lbctls churn 10)
wait "$churn"
check_range "idle connections opened by the churn" \
	"$(cat "$LAB_RUN/churn.count")" 1000 100000000
check_eq "lbctl failures during the churn" "$fails" 0
check_range "slowest lbctl during the churn (ms)" "$worst" 0 1000

# Half a request, then nothing: closed after the 3 s timeout, told why.
read -r ms why < <(python3 "$FLOOD" slow "$LAB_SOCK")
check_range "a slow client is closed after (ms)" "$ms" 2990 4500
check_eq "what the slow client is told" "$why" \
	'{"ok":false,"error":"no whole request within 3 s"}'
check "xlbd still answers" lab_lbctl ping

# The stop hook's command beside 1,000 idle connections.
rm -f "$ready"
python3 "$FLOOD" hold "$LAB_SOCK" 1000 "$ready" 3 >/dev/null &
hold=$!
check "1000 idle connections opened again" wait_until 30 test -s "$ready"
read -r rc ms < <(lbctl_timed shutdown shutdown)
check_eq "lbctl shutdown beside 1000 idle connections" "$rc" 0
check_range "lbctl shutdown took (ms)" "$ms" 0 2000
xlbd=$(cat "$LAB_RUN/xlbd.pid")
check "xlbd exited after the shutdown" wait_until 5 \
	sh -c "! kill -0 $xlbd 2>/dev/null"
wait "$hold" || true

e2e_end
