#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Run each libFuzzer harness for SECONDS: usage tests/fuzz/run.sh BUILD_DIR SECONDS TARGET...
# (make fuzz FUZZ_SECONDS=N builds them and calls this). Each starts from its committed seeds
# (tests/fuzz/corpus/<target>/) plus what earlier runs found (BUILD_DIR/corpus/<target>/, not
# committed); crash inputs go to BUILD_DIR/artifacts/<target>/. Prints one line per target with
# the inputs tried; exits 1 if any target crashed. A crash becomes a regression test by copying
# its input to tests/fuzz/corpus/<target>/crash-<what> once the code is fixed.
set -uo pipefail
cd "$(dirname "$0")/../.."
build=$1 seconds=$2
shift 2
failed=0
for t in "$@"; do
	work="$build/corpus/$t" art="$build/artifacts/$t" log="$build/fuzz-$t.log"
	mkdir -p "$work" "$art"
	# -close_fd_mask=3: the code's own log lines (a bad option value each time) are not kept;
	# libFuzzer, the sanitizers and the harnesses' FUZZ_ASSERT still report.
	"$build/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -close_fd_mask=3 -artifact_prefix="$art/" \
		"$work" "tests/fuzz/corpus/$t" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n1)
	if [ "$rc" -ne 0 ]; then
		failed=1
		echo "FAIL fuzz/$t: exit $rc after ${execs:-?} inputs, see $log and $art/"
		grep -m1 -A12 -E '^==[0-9]+==ERROR|broken promise|runtime error' "$log" | sed 's/^/    /'
	else
		echo "PASS fuzz/$t: ${execs:-?} inputs in ${seconds} s (${cov:-cov: ?})," \
			"corpus $(find "$work" -type f | wc -l) files"
	fi
done
exit "$failed"
