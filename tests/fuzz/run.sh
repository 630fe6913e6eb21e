#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Run every libFuzzer harness for a bounded time: tests/fuzz/run.sh BUILD
# [SECONDS] (default 45 per harness). `make fuzz` builds them first.
#
# Each harness starts from its committed corpus (tests/fuzz/corpus/NAME/,
# never modified) plus what earlier runs found (BUILD/fuzz/corpus/NAME/,
# kept between runs), with its dictionary, ASan, UBSan and leak detection.
# A crash, a leak, undefined behaviour, a timeout or running out of memory
# fails the harness and leaves the reproducer in BUILD/fuzz/artifacts/NAME/;
# replay it with `BUILD/fuzz/fuzz_NAME FILE`. One line per harness,
# PASS or FAIL with executions and coverage, then "N passed, N failed".
set -uo pipefail

BUILD=${1:?usage: $0 BUILD_DIR [SECONDS]}
SECONDS_EACH=${2:-45}
cd "$(dirname "$0")/../.." || exit 2
FUZZ=$BUILD/fuzz
passed=0
failed=0

# The last libFuzzer status line's value of FIELD ("cov", "ft", "corp").
stat_of() {
	grep -E '^#[0-9]+' "$1" | tail -1 |
		sed -n "s/.* $2: \\([0-9]*\\).*/\\1/p"
}

for src in tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	short=${name#fuzz_}
	bin=$FUZZ/$name
	seeds=tests/fuzz/corpus/$short
	work=$FUZZ/corpus/$short
	art=$FUZZ/artifacts/$short
	log=$FUZZ/$name.log
	if [[ ! -x $bin ]]; then
		echo "FAIL $name: $bin is not built (make fuzz-build)"
		failed=$((failed + 1))
		continue
	fi
	if [[ ! -d $seeds ]] || [[ -z $(ls -A "$seeds") ]]; then
		echo "FAIL $name: no committed corpus in $seeds"
		failed=$((failed + 1))
		continue
	fi
	mkdir -p "$work" "$art"
	rm -f "$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-*
	dict=()
	[[ -f tests/fuzz/$short.dict ]] && dict=(-dict="tests/fuzz/$short.dict")
	# New inputs go to the first directory only: the seeds stay as
	# committed.
	start=$SECONDS
	ASAN_OPTIONS=detect_leaks=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$bin" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 \
		-malloc_limit_mb=1024 -timeout=10 -detect_leaks=1 \
		-max_len=65536 -print_final_stats=1 "${dict[@]}" \
		-artifact_prefix="$art/" "$work" "$seeds" >"$log" 2>&1
	rc=$?
	took=$((SECONDS - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
	summary="${execs:-0} execs in ${took}s, cov $(stat_of "$log" cov)"
	summary+=", ft $(stat_of "$log" ft), corpus $(stat_of "$log" corp)"
	summary+=", peak RSS ${rss:-?} MB"
	found=$(find "$art" -type f | head -1)
	if [[ $rc == 0 && -z $found ]]; then
		echo "PASS $name: $summary"
		passed=$((passed + 1))
	else
		echo "FAIL $name (exit $rc): $summary"
		grep -E '^(contract broken|==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" |
			head -5 | sed 's/^/    /'
		echo "    reproducer: ${found:-none written}; log: $log"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
