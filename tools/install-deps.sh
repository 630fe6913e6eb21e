#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Install everything XLB needs to build, test and run its lab, from
# Debian's packages. Idempotent: apt-get skips what is installed.
set -eu
PKGS="make gcc libc6-dev pkg-config clang llvm libbpf-dev libxdp-dev xdp-tools
bpftool libmnl-dev libjansson-dev libyaml-dev libelf-dev zlib1g-dev
libcriterion-dev iproute2 iputils-ping ethtool python3 clang-format git procps
linux-libc-dev gcc-multilib libmicrohttpd-dev prometheus curl
libsystemd-dev systemd man-db libclang-rt-14-dev
gnuplot-nox nftables wrk libsodium-dev frr tcpdump"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi
echo "deps: all installed"
