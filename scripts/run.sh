#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Install what is missing (idempotent), build, and run tcpstate's main job with defaults:
# the exporter on http://127.0.0.1:9976/metrics. Extra arguments go to `tcpstate serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
make --no-print-directory all
exec ./build/tcpstate serve "$@"
