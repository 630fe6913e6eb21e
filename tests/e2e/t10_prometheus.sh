#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# A real Prometheus server (Debian's package) scrapes xlbd's /metrics in
# the xlb namespace every second; after traffic, its HTTP API returns a
# per-real packet counter for every real, each above zero, adding up to
# the VIP's and equal to what lbctl reports. promtool accepts a live
# scrape. Then lbctl's own views of the same node: status, stats --rate
# during traffic, stats --watch.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# xlbd's default metrics address (XLB_DEFAULT_METRICS), inside the xlb
# namespace; Prometheus listens next to it.
METRICS=127.0.0.1:9617
PROM=127.0.0.1:9090
# Prometheus is stopped by this test, and killed with everything else in
# the lab's namespaces by lab_down should the test end early; timeout
# bounds it even then.
PROM_LIFETIME=100

for tool in prometheus promtool curl; do
	command -v "$tool" >/dev/null ||
		lab_die "$tool missing: run make deps (Debian's prometheus, curl)"
done
e2e_begin "$@"

# in_xlb CMD...: CMD inside the xlb node's namespace.
in_xlb() {
	lab_exec xlb "$@"
}

# prom_query EXPR: one "LABEL=VALUE... VALUE" line per series of an
# instant query through Prometheus's HTTP API, sorted.
prom_query() {
	in_xlb curl -sfG --max-time 5 --data-urlencode "query=$1" \
		"http://$PROM/api/v1/query" | "$LAB_PYTHON" -c '
import json, sys
r = json.load(sys.stdin)
assert r["status"] == "success", r
for s in sorted(r["data"]["result"], key=lambda s: sorted(s["metric"].items())):
    labels = ",".join(f"{k}={v}" for k, v in sorted(s["metric"].items())
                      if k not in ("job", "instance"))
    print(labels, s["value"][1])'
}

# prom_value EXPR: the value of a query with one series ("" if none).
prom_value() {
	prom_query "$1" | awk 'NR == 1 { print $NF }'
}

lab_add_vip "$VIP_TCP4" maglev "100 100 100" 4

# ---- xlbd's endpoint, checked directly --------------------------------

if ! wait_until 10 in_xlb curl -sf -o /dev/null "http://$METRICS/metrics"
then
	# Nothing below can work without it.
	echo "  FAIL: xlbd serves no /metrics on $METRICS"
	exit 1
fi
echo "  ok:   xlbd serves /metrics on $METRICS"
headers=$(in_xlb curl -s -D - -o /dev/null "http://$METRICS/metrics" || true)
check "content type is the text format 0.0.4" \
	grep -qi '^content-type: text/plain; version=0.0.4' <<<"$headers"
check_eq "another path is 404" \
	"$(in_xlb curl -s -o /dev/null -w '%{http_code}' "http://$METRICS/x" || true)" 404

# ---- Prometheus -------------------------------------------------------

mkdir -p "$LAB_RUN/prometheus/data"
cat >"$LAB_RUN/prometheus/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: xlb
    static_configs:
      - targets: ['$METRICS']
EOF
check "promtool accepts the Prometheus configuration" \
	promtool check config "$LAB_RUN/prometheus/prometheus.yml"
in_xlb timeout "$PROM_LIFETIME" prometheus \
	--config.file="$LAB_RUN/prometheus/prometheus.yml" \
	--storage.tsdb.path="$LAB_RUN/prometheus/data" \
	--web.listen-address="$PROM" --log.level=warn \
	>"$LAB_RUN/prometheus.log" 2>&1 &
PROM_PID=$!
if ! wait_until 30 in_xlb curl -sf "http://$PROM/-/ready"; then
	echo "  FAIL: Prometheus did not become ready; its log:"
	sed 's/^/        /' "$LAB_RUN/prometheus.log"
	exit 1
fi
echo "  ok:   Prometheus ready on $PROM in the xlb namespace"

# The target is up once a scrape has succeeded.
# shellcheck disable=SC2317 # called through wait_until
up_ok() { [[ $(prom_value 'up{job="xlb"}') == 1 ]]; }
check "Prometheus scrapes xlbd (up == 1)" wait_until 15 up_ok

spread tcp --count 300
check_eq "TCP: all answered" "$(jget "$LAB_RUN/tcp.json" ok)" 300
stats stats
S=$LAB_RUN/stats.json
vip_packets=$(jget "$S" "vips[vip=$VIP_TCP4].packets")
check_range "lbctl: VIP packets" "$vip_packets" 1200 3000

# Wait for a scrape taken after the traffic: the sum over the reals as
# Prometheus stored it equals lbctl's VIP count.
# shellcheck disable=SC2317 # called through wait_until
settled() {
	local sum
	sum=$(prom_value "sum(xlb_real_packets_total{vip=\"$VIP_TCP4\"})")
	[[ $sum == "$vip_packets" ]]
}
check "Prometheus caught up with lbctl within 15 s" wait_until 15 settled

prom_query "xlb_real_packets_total{vip=\"$VIP_TCP4\"}" >"$LAB_RUN/reals.txt"
echo "  ..    xlb_real_packets_total: $(tr '\n' ';' <"$LAB_RUN/reals.txt")"
check_eq "a series per real" "$(wc -l <"$LAB_RUN/reals.txt")" 3
sum=0
for i in 1 2 3; do
	addr=$(real_addr4 "$i")
	got=$(awk -v r="real=$addr," 'index($1 ",", r) { print $2 }' \
		"$LAB_RUN/reals.txt")
	want=$(jget "$S" "vips[vip=$VIP_TCP4].reals[address=$addr].packets")
	check_range "real$i ($addr) packets in Prometheus" "${got:-none}" 1 "$want"
	check_eq "real$i packets: Prometheus == lbctl" "${got:-none}" "$want"
	sum=$((sum + ${got:-0}))
done
check_eq "the reals' packets add up to the VIP's" "$sum" \
	"$(prom_value "xlb_vip_packets_total{vip=\"$VIP_TCP4\"}")"
check_eq "new flows: Prometheus == lbctl" \
	"$(prom_value "sum(xlb_real_new_flows_total{vip=\"$VIP_TCP4\"})")" \
	"$(jget "$S" "vips[vip=$VIP_TCP4].new_flows")"
check_eq "forwarded packets by reason" \
	"$(prom_value 'xlb_packets_total{reason="forward_redirect"}')" \
	"$(jget "$S" reasons.forward_redirect)"
check_eq "every real up" \
	"$(prom_value "sum(xlb_real_up{vip=\"$VIP_TCP4\"})")" 3
check_eq "agent info" \
	"$(prom_value "xlb_agent_info{version=\"$("$LAB_BUILD/lbctl" --version | awk '{print $2}')\"}")" 1
check_eq "one VIP" "$(prom_value xlb_vips)" 1

# ---- promtool on a live scrape ----------------------------------------

in_xlb curl -sf "http://$METRICS/metrics" >"$LAB_RUN/scrape.txt" || true
check "promtool check metrics passes on a live scrape" \
	promtool check metrics <"$LAB_RUN/scrape.txt"
check "the live scrape has every real" \
	test "$(grep -c "^xlb_real_packets_total{vip=\"$VIP_TCP4\"" \
		"$LAB_RUN/scrape.txt")" == 3

kill "$PROM_PID"
check "Prometheus stops on SIGTERM" wait_until 10 bash -c "! kill -0 $PROM_PID"
wait "$PROM_PID" 2>/dev/null || true

# ---- lbctl's views of the node ----------------------------------------

lab_lbctl status >"$LAB_RUN/status.txt"
echo "  ..    status: $(head -1 "$LAB_RUN/status.txt")"
check "status: 1 VIP, 3 reals all up" \
	grep -q ': 1 VIP, 3 reals (3 up, 0 down, 0 draining)$' "$LAB_RUN/status.txt"
check "status: the VIP with 3/3 up" \
	grep -qE "^${VIP_TCP4//./\\.} +3/3 up" "$LAB_RUN/status.txt"

# Rates while traffic flows: 6 connections sending a line every 50 ms.
lab_client long --conns 6 --duration 6 --interval 0.05 \
	--ready-file "$LAB_RUN/long.ready" >"$LAB_RUN/long.json" &
LONG_PID=$!
check "long-lived connections up" wait_until 10 test -s "$LAB_RUN/long.ready"
lab_lbctl --json stats --rate >"$LAB_RUN/rate.json"
pps=$(jget "$LAB_RUN/rate.json" "vips[vip=$VIP_TCP4].packets_per_second")
echo "  ..    rate: $pps packets/s"
# 6 connections x 20 lines/s, each line one packet at least.
check "stats --rate: 60 to 1000 packets/s" \
	"$LAB_PYTHON" -c "import sys; sys.exit(not 60 <= $pps <= 1000)"
lab_lbctl stats --watch 1 --count 2 >"$LAB_RUN/watch.txt"
check_eq "stats --watch 1 --count 2: two prints" \
	"$(grep -c '^Every 1s: lbctl stats' "$LAB_RUN/watch.txt")" 2
lab_lbctl --json stats --watch 1 --count 2 --rate >"$LAB_RUN/watch.json"
check_eq "stats --json --watch --rate: one JSON line each" \
	"$("$LAB_PYTHON" -c '
import json, sys
print(sum(1 for l in open(sys.argv[1]) if "packets_per_second" in json.loads(l)["vips"][0]))' \
		"$LAB_RUN/watch.json")" 2
wait "$LONG_PID" || true
check_eq "errors on the long-lived connections" \
	"$(jget "$LAB_RUN/long.json" errors)" 0

e2e_end
