#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Run every XLB test suite and print one closing line, "N passed, N failed".
# Called by `make test` (the README's test command and CI's). Needs root:
# the data-path and end-to-end tests load BPF programs and make namespaces.
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "run-all: the tests need root (BPF, network namespaces)" >&2
	exit 2
fi

passed=0
failed=0
summary=()

# Add a suite's counts. A suite that exits non-zero with no failure counted
# (it crashed, or could not start) counts as one failure: nothing is
# allowed to go quietly missing.
tally() {
	local name=$1 p=$2 f=$3 rc=$4
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	summary+=("$(printf '%-22s %5d passed %4d failed' "$name" "$p" "$f")")
}

# A criterion binary: read its "Synthesis" line.
criterion_suite() {
	local name=$1
	shift
	local log="$BUILD/tests/$name.log" rc line p f
	echo "== $name"
	"$@" >"$log" 2>&1
	rc=$?
	grep -E '^\[(FAIL|----)\]' "$log" | head -40
	line=$(grep 'Synthesis:' "$log" | tail -1)
	echo "$line"
	p=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$line")
	f=$(sed -n 's/.*Failing: \([0-9]*\).*/\1/p' <<<"$line")
	tally "$name" "${p:-0}" "${f:-0}" "$rc"
}

echo "== format"
if make -s check-format >"$BUILD/tests/format.log" 2>&1; then
	tally format 1 0 0
else
	head -20 "$BUILD/tests/format.log"
	tally format 0 1 1
fi

# The docs tell the truth about the tree: links, named docs, README's
# layout (tools/check-docs.py).
echo "== docs"
if python3 tools/check-docs.py >"$BUILD/tests/docs.log" 2>&1; then
	tally docs 1 0 0
else
	head -20 "$BUILD/tests/docs.log"
	tally docs 0 1 1
fi

for t in "$BUILD"/tests/unit/test_*; do
	criterion_suite "unit/$(basename "$t")" "$t" --jobs 2
done
criterion_suite datapath "$BUILD/tests/datapath/test_datapath" --jobs 2

# The fuzzers, a bounded run (docs/OPERATIONS.md): one count per harness
# from run.sh's PASS/FAIL lines; a build that fails counts once.
echo "== fuzz"
fuzz_log="$BUILD/tests/fuzz.log"
make -s BUILD="$BUILD" FUZZ_SECONDS="${FUZZ_SECONDS:-45}" fuzz 2>&1 |
	tee "$fuzz_log"
rc=${PIPESTATUS[0]}
fuzz_lines=$(grep -cE '^(PASS|FAIL) fuzz_' "$fuzz_log")
while read -r verdict name _; do
	if [ "$verdict" = PASS ]; then
		tally "fuzz/${name%:}" 1 0 0
	else
		tally "fuzz/${name%:}" 0 1 1
	fi
done < <(grep -E '^(PASS|FAIL) fuzz_' "$fuzz_log")
[ "$fuzz_lines" -gt 0 ] || tally fuzz 0 1 "$rc"

# The data-path fuzzer (tests/fuzz/datapath/), a bounded pass: one count
# from its PASS/FAIL line. FUZZ_DP_PACKETS sets its length (default
# 200000), FUZZ_DATAPATH=0 leaves it out. Its seed is fixed (SEED sets
# another, SEED=random a new one): a test run gives the same verdict
# every time; `make fuzz-datapath` is the one that explores.
if [ "${FUZZ_DATAPATH:-1}" != 0 ]; then
	echo "== fuzz_datapath"
	dp_log="$BUILD/tests/fuzz_datapath.log"
	"$BUILD/tests/fuzz_datapath" -q -n "${FUZZ_DP_PACKETS:-200000}" \
		$([ "${SEED:-}" = random ] || echo "-s ${SEED:-20261206}") \
		>"$dp_log" 2>&1
	rc=$?
	tail -30 "$dp_log"
	if [ "$rc" -eq 0 ] && grep -q '^PASS fuzz_datapath' "$dp_log"; then
		tally fuzz/fuzz_datapath 1 0 0
	else
		tally fuzz/fuzz_datapath 0 1 1
	fi
fi

echo "== e2e"
e2e_log="$BUILD/tests/e2e.log"
tests/e2e/run.sh "$BUILD" 2>&1 | tee "$e2e_log"
rc=${PIPESTATUS[0]}
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$e2e_log" | tail -1)
tally e2e "${line%% passed*}" "$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$line")" "$rc"

echo
echo "== summary"
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
