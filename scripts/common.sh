# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# Shared by scripts/test.sh and scripts/demo.sh: install the build dependencies when any is
# missing, and time each stage. Source it; it defines functions only.

# libclang-rt-14-dev holds clang's sanitizer, libFuzzer and profile runtimes and llvm-14 its
# llvm-profdata/llvm-cov (both only Recommends of clang on Debian 12, and recommends are not
# installed here).
# make is only a Recommends of cmake: without it a minbase root cannot configure the default
# (Unix Makefiles) generator, which the install and meson consumer tests use too.
VGALLOC_APT_PACKAGES=(cmake make gcc g++ pkg-config libcmocka-dev libdrm-dev libvulkan-dev meson
	ninja-build valgrind clang libclang-rt-14-dev llvm-14)

# Install the packages above, but only when one of them is missing (dpkg -s), so a provisioned
# machine never touches the network.
vgalloc_install_deps() {
	local missing=() p
	for p in "${VGALLOC_APT_PACKAGES[@]}"; do
		dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
	done
	if [[ ${#missing[@]} -eq 0 ]]; then
		echo "dependencies: all installed"
		return 0
	fi
	echo "dependencies: missing ${missing[*]}"
	local sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null || { echo "need root or sudo for apt-get" >&2; return 1; }
		sudo=(sudo)
	fi
	"${sudo[@]}" apt-get update || return
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends \
		"${VGALLOC_APT_PACKAGES[@]}"
}

# stage <name> <command...>: run a command and print how long it took.
VGALLOC_STAGE_TIMES=()
stage() {
	local name=$1 start end rc=0
	shift
	printf '\n=== %s\n' "$name"
	start=$(date +%s.%N)
	"$@" || rc=$?
	end=$(date +%s.%N)
	local secs
	secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
	printf '=== %s: %ss%s\n' "$name" "$secs" "$([[ $rc -eq 0 ]] || echo " (FAILED, exit $rc)")"
	VGALLOC_STAGE_TIMES+=("$(printf '%-12s %8ss' "$name" "$secs")")
	return "$rc"
}

print_stage_times() {
	printf '\n=== stage times\n'
	printf '%s\n' "${VGALLOC_STAGE_TIMES[@]}"
}
