#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Installs the Debian packages tcpstate needs to build, run and test. Idempotent: packages
# already present are not touched, and apt-get runs only when something is missing.
set -euo pipefail

BUILD_PKGS="make gcc clang llvm pkg-config libbpf-dev libelf-dev zlib1g-dev libmicrohttpd-dev bpftool
	libjson-c-dev libcurl4-openssl-dev libncurses-dev libgnutls28-dev libyaml-dev libcrypt-dev libcap-dev"
TEST_PKGS="python3 iproute2 iptables procps prometheus libbpf-tools prometheus-node-exporter
	tmux openssl apache2-utils curl"
# make fuzz and make check SANITIZE=1: libFuzzer and the clang sanitizer runtimes of Debian 12's
# clang (14); gcc's ASan/UBSan runtimes come with gcc.
FUZZ_PKGS="libclang-rt-14-dev"

want="$BUILD_PKGS"
[ "${1:-}" = "--test" ] && want="$BUILD_PKGS $TEST_PKGS $FUZZ_PKGS"

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing (run 'make deps' as root, or apt-get install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# The Debian prometheus and node-exporter packages start services we do not want running.
for svc in prometheus prometheus-node-exporter; do
	systemctl disable --now "$svc" >/dev/null 2>&1 || true
done
