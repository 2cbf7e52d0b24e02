#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The whole test suite from a fresh Debian 12 machine: installs what is missing (idempotent),
# builds, then runs unit tests, integration tests (real BPF, real sockets, as root) and the
# deployment checks. Ends with "N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh --test
exec make --no-print-directory check
