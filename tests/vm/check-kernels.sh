#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The integration suite under each kernel of the matrix (tests/vm/run.sh), one VM per kernel,
# after the build on the host. Prints each kernel's results, then a table and one closing line
# `N passed, N failed, N skipped` over all kernels. Exits non-zero if any test failed or a VM
# did not finish.
#
#   tests/vm/check-kernels.sh [--build DIR] [KERNEL...]     (default: 5.10 6.1 6.12)
set -uo pipefail
cd "$(dirname "$0")/../.."
build=build
if [ "${1:-}" = "--build" ]; then
	build=$2
	shift 2
fi
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(5.10 6.1 6.12)
logdir="$build/vm"
mkdir -p "$logdir"
total_p=0 total_f=0 total_s=0 bad=0
summary=""
for k in "${kernels[@]}"; do
	echo "== Linux $k (Debian) =="
	start=$(date +%s)
	tests/vm/run.sh --kernel "$k" --kernel-log "$logdir/kernel-$k.log" -- \
		python3 tests/run.py --build "$build" --integration-only | tee "$logdir/tests-$k.log"
	status=${PIPESTATUS[0]}
	secs=$(($(date +%s) - start))
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$logdir/tests-$k.log" | tail -n 1)
	if [ -z "$line" ]; then
		line="did not finish (exit $status)"
		bad=1
	else
		read -r p _ f _ s _ <<<"${line//,/}"
		total_p=$((total_p + p)) total_f=$((total_f + f)) total_s=$((total_s + ${s:-0}))
	fi
	[ "$status" -eq 0 ] || bad=1
	release=$(cat "${TCPSTATE_VM_CACHE:-/var/cache/tcpstate/kernels}/$k/release" 2>/dev/null)
	summary+=$(printf '%-6s %-26s %-40s %5ss' "$k" "$release" "$line" "$secs")$'\n'
done
echo "== kernel matrix =="
printf '%s' "$summary"
echo "$total_p passed, $total_f failed, $total_s skipped"
exit $bad
