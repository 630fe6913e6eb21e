#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# `make bench`: run every part of xlb-bench, one process each (a part that
# fails or hangs costs only its own figures), then tools/bench/report.py:
# the table on stdout, BUILD/bench/results.json, docs/plots/*.png and
# BUILD/bench/PERFORMANCE-results.md (the docs section of this run).
#
#   tools/bench/run.sh [BUILD]
#   XLB_BENCH_PARTS="datapath maglev" tools/bench/run.sh   # some parts only
#
# Needs root (BPF, namespaces). Exit status: 0 when every part ran (met
# targets or not), 1 when a part failed.
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
BIN=$BUILD/bench/xlb-bench
OUT=$BUILD/bench
PARTS=${XLB_BENCH_PARTS:-"nexthop datapath maglev sessions e2e control"}
# Runs per part: at least 5; more where a run is cheap.
# e2e: an even count, as it alternates which protocol runs first.
declare -A RUNS=([nexthop]=7 [datapath]=7 [maglev]=9 [sessions]=5 [e2e]=6
	[control]=5)
# No part should get near this; it bounds a hang (seconds).
PART_LIMIT=300

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: needs root (BPF programs, network namespaces)" >&2
	exit 2
fi
[ -x "$BIN" ] || {
	echo "bench: $BIN missing: run make bench" >&2
	exit 2
}

# Namespaces left by an xlb-bench that was killed: xbench<pid>-*, pid gone.
remove_stale() {
	local ns pid
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		[[ $ns =~ ^xbench([0-9]+)- ]] || continue
		pid=${BASH_REMATCH[1]}
		kill -0 "$pid" 2>/dev/null && continue
		echo "bench: removing stale namespace $ns" >&2
		ip netns del "$ns" 2>/dev/null
	done
}

mkdir -p "$OUT"
records=$OUT/figures.jsonl
: >"$records"
trap remove_stale EXIT
remove_stale
start=$(date +%s)
failed=()
for part in $PARTS; do
	t0=$(date +%s)
	timeout --kill-after=10 "$PART_LIMIT" "$BIN" "$part" \
		--runs "${RUNS[$part]:-5}" --out "$records" || failed+=("$part")
	echo "   ($part: $(($(date +%s) - t0)) s)"
	remove_stale
done
elapsed=$(($(date +%s) - start))

python3 tools/bench/report.py --records "$records" \
	--json "$OUT/results.json" --markdown "$OUT/PERFORMANCE-results.md" \
	--plots docs/plots --work "$OUT" --elapsed "$elapsed" || failed+=(report)

echo "bench: $elapsed s for the measurements; results in $OUT/results.json"
if ((${#failed[@]})); then
	echo "bench: failed: ${failed[*]}" >&2
	exit 1
fi
