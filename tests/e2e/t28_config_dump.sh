#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# `lbctl config dump` round trip: VIPs, reals, weights (0 too), a drained
# real, MSS clamps, hashes, table sizes, a GUE VIP, a FULLNAT VIP and the
# local pool
# are made with lbctl alone; the dump is a valid file (xlbd --check);
# after a full stop, xlbd started on the dump shows the same `lbctl
# --json vip list` and pool, dumps the same text, and a reload of the
# dump changes nothing. Traffic still flows, and not to the drained real;
# the GUE VIP answers too.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_begin "$@"

lab_add_vip "$VIP_TCP4" maglev "100 50 0" 4 --mss 1400
lab_lbctl real drain "$VIP_TCP4" "$(real_addr4 2)" >/dev/null
lab_add_vip "$VIP_UDP4" source-ip "1 2 3" 4 --table-size 251
lab_add_vip "$VIP_TCP6" maglev "100 100 100" 6 --encap gue
lab_lbctl laddr add 10.97.0.1 >/dev/null
lab_lbctl laddr add fd00:97::1 >/dev/null
lab_add_vip "$NAT_TCP4" maglev "100 100 100" 4 --mode fullnat

DUMP=$LAB_RUN/dump.yaml
lab_lbctl config dump >"$DUMP"
echo "  ..    dump: $(wc -l <"$DUMP") lines"
check "the dump is a valid configuration" \
	"$LAB_BUILD/xlbd" --check --config "$DUMP"
check "the dump holds the drained real" \
	grep -q "address: \"$(real_addr4 2)\", weight: 50, drain: true" "$DUMP"
# dump_vip_has VIP LINE: the dump's entry of VIP has LINE (indented).
dump_vip_has() {
	grep -A4 -F "vip: \"$1\"" "$DUMP" | grep -qx "    $2"
}
check "the dump holds the GUE VIP" dump_vip_has "$VIP_TCP6" "encap: gue"
check "the dump holds an IPIP VIP" dump_vip_has "$VIP_TCP4" "encap: ipip"
check "the dump holds the node's gue_port" grep -qx 'gue_port: 6080' "$DUMP"
check "the dump holds the local pool" \
	grep -q 'local_addresses: \["10.97.0.1", "fd00:97::1"\]' "$DUMP"
lab_lbctl --json vip list >"$LAB_RUN/before.json"
lab_lbctl --json laddr list >"$LAB_RUN/laddrs.before.json"

pid=$(cat "$LAB_RUN/xlbd.pid")
lab_lbctl shutdown >/dev/null
wait_until 10 bash -c "! kill -0 $pid" || true
check "no pins left after the full stop" test ! -e "$LAB_BPFFS/xlb"
LAB_XLBD_CONFIG=$DUMP lab_start_xlbd
lab_lbctl --json vip list >"$LAB_RUN/after.json"
lab_lbctl --json laddr list >"$LAB_RUN/laddrs.after.json"

# The same VIPs and reals, in every field vip list shows.
same_json() {
	"$LAB_PYTHON" - "$1" "$2" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
if a != b:
    print(json.dumps(a, sort_keys=True))
    print(json.dumps(b, sort_keys=True))
    sys.exit(1)
EOF
}
check_eq "VIPs after the restart on the dump" \
	"$(jlen "$LAB_RUN/after.json" vips)" 4
check "vip list is the same as before the dump" \
	same_json "$LAB_RUN/before.json" "$LAB_RUN/after.json"
check "laddr list is the same as before the dump" same_json \
	<("$LAB_PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps(sorted(a["address"] for a in d["local_addresses"])))' "$LAB_RUN/laddrs.before.json") \
	<("$LAB_PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps(sorted(a["address"] for a in d["local_addresses"])))' "$LAB_RUN/laddrs.after.json")
check_eq "the drained real is still drained" \
	"$(jget "$LAB_RUN/after.json" "vips[vip=$VIP_TCP4].reals[address=$(real_addr4 2)].state")" \
	draining
lab_lbctl config dump >"$LAB_RUN/dump2.yaml"
check "the restarted node dumps the same file" \
	cmp "$DUMP" "$LAB_RUN/dump2.yaml"
lab_lbctl --json reload >"$LAB_RUN/reload.json"
check_eq "a reload of the dump changes no real" \
	"$(jget "$LAB_RUN/reload.json" changes.reals_changed)" 0
check_eq "a reload of the dump changes no VIP" \
	"$(jget "$LAB_RUN/reload.json" changes.vips_changed)" 0

spread tcp4 --count 90
check_eq "the VIP answers" "$(jget "$LAB_RUN/tcp4.json" ok 0)" 90
check_eq "nothing to the drained real" \
	"$(jget "$LAB_RUN/tcp4.json" by_real.real2 0)" 0
check_eq "nothing to the weight-0 real" \
	"$(jget "$LAB_RUN/tcp4.json" by_real.real3 0)" 0
spread gue6 --v6 --count 90
check_eq "the GUE VIP answers" "$(jget "$LAB_RUN/gue6.json" ok 0)" 90
check_eq "the GUE VIP is still GUE" \
	"$(jget "$LAB_RUN/after.json" "vips[vip=$VIP_TCP6].encap")" gue

e2e_end
