#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Host packages the VM harness needs; apt-get runs only when one is missing.
set -euo pipefail
missing=""
for p in qemu-system-x86 busybox-static cpio kmod xz-utils zstd; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "vm: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
