#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Run the end-to-end tests: tests/e2e/run.sh BUILD_DIR [NAME...]
# Each tests/e2e/t*.sh builds its own lab in network namespaces, drives
# real clients through xlbd and removes everything on exit. A test's
# output is shown when it fails (or always with E2E_VERBOSE=1). The last
# line is "N passed, N failed", which CI reads; the exit status is 1 if
# any test failed.
set -euo pipefail

E2E_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/lab/lib.sh
. "$E2E_DIR/../../tools/lab/lib.sh"

# A test that hangs is killed after this many seconds (its traps still
# clean up on SIGTERM).
TEST_TIMEOUT=${E2E_TIMEOUT:-240}

main() {
	local build=${1:-}
	[[ -n $build ]] || lab_die "usage: $0 BUILD_DIR [TEST_NAME...]"
	shift
	[[ $(id -u) == 0 ]] || lab_die "the e2e tests need root"
	for bin in xlbd lbctl; do
		[[ -x $build/$bin ]] || lab_die "$build/$bin missing: run make"
	done
	build=$(cd "$build" && pwd)

	local tests=() t name rc start passed=0 failed=0
	if [[ $# -gt 0 ]]; then
		for name in "$@"; do
			tests+=("$E2E_DIR/${name%.sh}.sh")
		done
	else
		tests=("$E2E_DIR"/t[0-9]*.sh)
	fi

	# Leftovers of test runs that were killed hard, so names cannot clash.
	lab_clean_stale test
	LOG=$(mktemp)
	trap 'rm -f "$LOG"' EXIT
	for t in "${tests[@]}"; do
		name=$(basename "$t" .sh)
		start=$SECONDS
		rc=0
		timeout -k 10 "$TEST_TIMEOUT" bash "$t" "$build" >"$LOG" 2>&1 ||
			rc=$?
		# A test killed by the timeout leaves its lab: its processes
		# would load the machine under the next tests.
		lab_clean_stale test >>"$LOG" 2>&1
		if [[ $rc == 0 ]]; then
			passed=$((passed + 1))
			echo "PASS $name ($((SECONDS - start))s)"
			[[ ${E2E_VERBOSE:-0} == 1 ]] && sed 's/^/    /' "$LOG"
		else
			failed=$((failed + 1))
			[[ $rc == 124 ]] && echo "    (timed out after ${TEST_TIMEOUT}s)" >>"$LOG"
			echo "FAIL $name ($((SECONDS - start))s, exit $rc)"
			sed 's/^/    /' "$LOG"
		fi
	done
	echo "$passed passed, $failed failed"
	[[ $failed == 0 ]]
}

main "$@"
