#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Health checks: stop one real's server and it is marked down within
# fall x interval + timeout; new connections avoid it; the other reals'
# long-lived connections are untouched. Start it again and it is back
# after rise successes, taking new connections.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

CONF_DIR=$(mktemp -d /tmp/xlb-health.XXXXXX)
LAB_XLBD_CONFIG=$CONF_DIR/xlb.yaml
INTERVAL_MS=300
TIMEOUT_MS=200
RISE=2
FALL=2
cat >"$LAB_XLBD_CONFIG" <<CONF
vips:
  - vip: 10.100.0.10:80/tcp
    health: {type: tcp, interval: ${INTERVAL_MS}ms, timeout: ${TIMEOUT_MS}ms, rise: $RISE, fall: $FALL}
    reals: [10.98.1.2, 10.98.2.2, 10.98.3.2]
CONF
e2e_begin "$@"
trap 'rc=$?; rm -rf "$CONF_DIR"; (exit $rc); e2e_cleanup' EXIT

# ms_until STATE REAL [FILE [TEXT]]: ask xlbd every 10 ms over its socket
# (one process, so the measure is not the cost of starting lbctl) until
# REAL is in STATE; print the milliseconds from the moment FILE exists (and
# holds TEXT), or from the start.
ms_until() {
	python3 - "$LAB_SOCK" "$@" <<'PY'
import json, os, socket, sys, time
path, want, real = sys.argv[1:4]
trig = sys.argv[4] if len(sys.argv) > 4 else None
text = sys.argv[5] if len(sys.argv) > 5 else None

def triggered():
    if not trig or not os.path.exists(trig):
        return not trig
    return not text or text in open(trig, errors="replace").read()

def state():
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(b'{"cmd": "vip.list"}\n')
    buf = b""
    while not buf.endswith(b"\n"):
        buf += s.recv(65536)
    s.close()
    v = json.loads(buf)["vips"][0]
    return [r["state"] for r in v["reals"] if r["address"] == real]

deadline = time.monotonic() + 20
while not triggered() and time.monotonic() < deadline:
    time.sleep(0.002)
start = time.monotonic()
while time.monotonic() - start < 10:
    if state() == [want]:
        print(int((time.monotonic() - start) * 1000))
        sys.exit(0)
    time.sleep(0.01)
print(99999)
PY
}

# The checks start with xlbd, before the servers may answer: wait for all.
for r in 10.98.1.2 10.98.2.2 10.98.3.2; do
	check "$r is up before the test" test "$(ms_until up "$r")" -lt 5000
done
downs_at_start=$(grep -c " is down: " "$LAB_RUN/xlbd.log" || true)
CONNS=12
ready=$LAB_RUN/long.ready
lab_client long --conns "$CONNS" --duration 5 --interval 0.05 \
	--ready-file "$ready" >"$LAB_RUN/long.json" &
long=$!
wait_until 5 test -s "$ready" || true
sleep 0.5

check_eq "no real went down before the kill (after start-up)" \
	"$(grep -c " is down: " "$LAB_RUN/xlbd.log" || true)" "$downs_at_start"
ms_until down 10.98.2.2 "$LAB_RUN/killed" >"$LAB_RUN/down.ms" &
poller=$!
sleep 0.5
touch "$LAB_RUN/killed"
kill "$(cat "$LAB_RUN/echo-real2.pid")"
wait "$poller"
down_ms=$(cat "$LAB_RUN/down.ms")
bound=$((FALL * INTERVAL_MS + TIMEOUT_MS + 150))
echo "  ..    real2 marked down after $down_ms ms (bound $bound ms)"
check_range "time to mark real2 down (ms)" "$down_ms" 0 "$bound"
check "the transition was logged with its reason" \
	grep -q "real 10.98.2.2 of 10.100.0.10:80/tcp is down: " \
	"$LAB_RUN/xlbd.log"
spread avoid --count 300
check_eq "new connections answered while real2 is down" \
	"$(jget "$LAB_RUN/avoid.json" ok)" 300
check_eq "new connections that reached real2" \
	"$(jget "$LAB_RUN/avoid.json" by_real.real2 0)" 0

rc=0
wait "$long" || rc=$?
python3 - "$LAB_RUN/long.json" "$ready" <<'PY' >"$LAB_RUN/long.check"
import json, sys
res = json.load(open(sys.argv[1]))
others = [c for c in res["by_conn"] if c["real"] != "real2"]
print(len(others), sum(len(c["errors"]) for c in others))
PY
read -r others others_errors <"$LAB_RUN/long.check"
echo "  ..    $others long-lived connections on real1/real3"
check_range "long-lived connections on the other reals" "$others" 1 "$CONNS"
check_eq "errors on the other reals' long-lived connections" \
	"$others_errors" 0

rm -f "$LAB_RUN/echo-real2.log"
ms_until up 10.98.2.2 "$LAB_RUN/echo-real2.log" serving >"$LAB_RUN/up.ms" &
poller=$!
sleep 0.5
lab_start_server 2
lab_wait_server 2
wait "$poller"
up_ms=$(cat "$LAB_RUN/up.ms")
bound=$((RISE * INTERVAL_MS + TIMEOUT_MS + 150))
echo "  ..    real2 back up after $up_ms ms (bound $bound ms)"
check_range "time to bring real2 back (ms)" "$up_ms" 0 "$bound"
spread back --count 300
check_range "new connections to real2 once it is back" \
	"$(jget "$LAB_RUN/back.json" by_real.real2 0)" 50 150

e2e_end
