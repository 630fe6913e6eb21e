#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Reload: xlbd runs from a configuration file. A broken file is rejected
# whole, by `lbctl reload` (with file, line and reason) and by SIGHUP, and
# the running state is exactly as before. A good file is applied as its
# difference only, while long-lived connections keep talking.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# The file must exist before the lab starts xlbd with it.
CONF_DIR=$(mktemp -d /tmp/xlb-reload.XXXXXX)
CONF=$CONF_DIR/xlb.yaml
LAB_XLBD_CONFIG=$CONF
write_conf() { cat >"$CONF"; }
# Config A: one VIP, only real1, so the long-lived connections are there.
write_conf <<CONF
vips:
  - vip: 10.100.0.10:80/tcp
    reals:
      - address: 10.98.1.2
        weight: 100
CONF
e2e_begin "$@"
trap 'rc=$?; rm -rf "$CONF_DIR"; (exit $rc); e2e_cleanup' EXIT

state() { lab_lbctl --json vip list | python3 -c \
	'import json,sys; v=json.load(sys.stdin)["vips"]; print(json.dumps(v, sort_keys=True))'; }

check "xlbd applied the file" grep -q "configured: VIPs +1" "$LAB_RUN/xlbd.log"
CONNS=6
ready=$LAB_RUN/long.ready
lab_client long --conns "$CONNS" --duration 5 --interval 0.05 \
	--ready-file "$ready" >"$LAB_RUN/long.json" &
long=$!
wait_until 5 test -s "$ready" || true
before=$(state)

# A broken file: a weight out of range on line 6.
write_conf <<CONF
vips:
  - vip: 10.100.0.10:80/tcp
    reals:
      - address: 10.98.1.2
      - address: 10.98.2.2
        weight: 70000
CONF
rc=0
out=$(lab_lbctl reload 2>&1) || rc=$?
echo "  ..    lbctl reload: $out"
check_eq "lbctl reload of a broken file exits" "$rc" 1
check "the refusal names file and line" \
	grep -q "$CONF:6: " <<<"$out"
check_eq "state after the refused reload" "$(state)" "$before"

kill -HUP "$(cat "$LAB_RUN/xlbd.pid")"
check "SIGHUP with the broken file is refused too" \
	wait_until 5 grep -q "reload rejected, nothing changed: $CONF:6:" \
	"$LAB_RUN/xlbd.log"
check_eq "state after the refused SIGHUP" "$(state)" "$before"

# A setting that needs a restart is refused as well.
write_conf <<CONF
conntrack_size: 4096
vips:
  - vip: 10.100.0.10:80/tcp
    reals:
      - address: 10.98.1.2
CONF
rc=0
out=$(lab_lbctl reload 2>&1) || rc=$?
check_eq "a restart-only change is refused" "$rc" 1
check "and says which setting" grep -q "conntrack_size" <<<"$out"
check_eq "state after it" "$(state)" "$before"

# Config B: real1's weight changes, real2 and real3 join, a UDP VIP is new.
write_conf <<CONF
vips:
  - vip: 10.100.0.10:80/tcp
    reals:
      - address: 10.98.1.2
        weight: 50
      - 10.98.2.2
      - 10.98.3.2
  - vip: 10.100.0.10:5353/udp
    reals: [10.98.1.2, 10.98.2.2, 10.98.3.2]
CONF
out=$(lab_lbctl --json reload)
echo "  ..    lbctl reload: $(tr -d ' \n' <<<"$out")"
changes() { python3 -c "import json,sys; print(json.load(sys.stdin)['changes']['$1'])" <<<"$out"; }
check_eq "VIPs added" "$(changes vips_added)" 1
check_eq "VIPs removed" "$(changes vips_removed)" 0
check_eq "reals added" "$(changes reals_added)" 5
check_eq "reals changed" "$(changes reals_changed)" 1
check_eq "reals removed" "$(changes reals_removed)" 0
after=$(state)
check "the TCP VIP kept its id and real1 its id" python3 -c "
import json, sys
b = {v['vip']: v for v in json.loads(sys.argv[1])}
a = {v['vip']: v for v in json.loads(sys.argv[2])}
tcp = '10.100.0.10:80/tcp'
assert a[tcp]['id'] == b[tcp]['id']
r1b = [r for r in b[tcp]['reals'] if r['address'] == '10.98.1.2'][0]
r1a = [r for r in a[tcp]['reals'] if r['address'] == '10.98.1.2'][0]
assert r1a['id'] == r1b['id'] and r1a['weight'] == 50
assert len(a[tcp]['reals']) == 3 and len(a) == 2
" "$before" "$after"

rc=0
wait "$long" || rc=$?
check_eq "long-lived client exit status" "$rc" 0
check_eq "errors on the long-lived connections" \
	"$(jget "$LAB_RUN/long.json" errors)" 0
for ((i = 0; i < CONNS; i++)); do
	check_eq "connection $i stayed on" \
		"$(jget "$LAB_RUN/long.json" "by_conn[conn=$i].real")" real1
done
spread udp --udp --port 5353 --count 90
check_range "the new UDP VIP answers on every real (real3)" \
	"$(jget "$LAB_RUN/udp.json" by_real.real3 0)" 10 90

# VLANs are applied by a reload. The ids each interface balances, from the
# pinned vlans map: "IFINDEX:VID,VID ..." sorted, "" when empty.
vlan_map() {
	bpftool -j map dump pinned "$LAB_BPFFS/xlb/vlans" | python3 -c '
import json, sys
out = []
for e in json.load(sys.stdin):
    if "formatted" in e:
        key, words = e["formatted"]["key"], e["formatted"]["value"]["vids"]
    else:
        kb = bytes(int(b, 16) for b in e["key"])
        vb = bytes(int(b, 16) for b in e["value"])
        key = int.from_bytes(kb, "little")
        words = [int.from_bytes(vb[i:i + 8], "little") for i in range(0, 512, 8)]
    vids = [w * 64 + b for w, x in enumerate(words) for b in range(64) if x >> b & 1]
    out.append("%d:%s" % (key, ",".join(map(str, vids))))
print(" ".join(sorted(out)))'
}
eth0=$(ip netns exec "$(lab_ns xlb)" cat /sys/class/net/eth0/ifindex)
check_eq "no VLAN balanced before" "$(vlan_map)" ""
vips_before=$(state)
# B with VLANs by interface, one of them an interface xlbd is not on.
b_vips=$(sed -n '/^vips:/,$p' "$CONF")
write_conf <<CONF
interfaces: [eth0]
vlans:
  eth0: [100, 4000]
  eth9: [7]
$b_vips
CONF
rc=0
out=$(lab_lbctl reload 2>&1) || rc=$?
check_eq "vlans of an interface xlbd is not on: refused" "$rc" 1
check "with its line and reason" grep -q \
	"$CONF:4: vlans: 'eth9' is not one of the interfaces" <<<"$out"
check_eq "VLANs after the refusal" "$(vlan_map)" ""
write_conf <<CONF
interfaces: [eth0]
vlans:
  eth0: [100, 4000]
$b_vips
CONF
rc=0
out=$(lab_lbctl reload 2>&1) || rc=$?
check_eq "vlans by interface: reloaded" "$rc" 0
check_eq "eth0 balances VLANs 100 and 4000" "$(vlan_map)" "$eth0:100,4000"
write_conf <<CONF
vlans: [7]
$b_vips
CONF
rc=0
out=$(lab_lbctl reload 2>&1) || rc=$?
check_eq "vlans for every interface: reloaded" "$rc" 0
check_eq "eth0 balances VLAN 7 only" "$(vlan_map)" "$eth0:7"
check_eq "VIPs unchanged by the VLAN reloads" "$(state)" "$vips_before"

e2e_end
