# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The state of every (VIP, real) over xlbd's control socket ($LAB_SOCK),
# for the health-check labs (tests/e2e/lib.sh: hc):
#   until STATE VIP REAL [TRIGGER]: ms from TRIGGER's appearance (or from
#     the start) until REAL of VIP is in STATE (99999: never)
#   get VIP REAL FIELD: the real's state, or a field of its health
import json, os, socket, sys, time
path = os.environ["LAB_SOCK"]

def reals(vip):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(b'{"cmd": "vip.list"}\n')
    buf = b""
    while not buf.endswith(b"\n"):
        buf += s.recv(1 << 20)
    s.close()
    for v in json.loads(buf)["vips"]:
        if v["vip"] == vip:
            return {r["address"]: r for r in v["reals"]}
    return {}

if sys.argv[1] == "get":
    vip, real, field = sys.argv[2:5]
    r = reals(vip).get(real, {})
    print(r.get("state") if field == "state" else
          r.get("health", {}).get(field))
    sys.exit(0)
want, vip, real = sys.argv[2:5]
trig = sys.argv[5] if len(sys.argv) > 5 else None
deadline = time.monotonic() + 30
while trig and not os.path.exists(trig) and time.monotonic() < deadline:
    time.sleep(0.002)
start = time.monotonic()
while time.monotonic() - start < 10:
    if reals(vip).get(real, {}).get("state") == want:
        print(int((time.monotonic() - start) * 1000))
        sys.exit(0)
    time.sleep(0.01)
print(99999)
