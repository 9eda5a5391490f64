#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build and run the demo (examples/vgalloc-demo.c on the mock backend).
# Usage: scripts/demo.sh [demo args...]     (BUILD_DIR defaults to build/)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/common.sh
source scripts/common.sh

build=${BUILD_DIR:-build}
trap print_stage_times EXIT

stage deps vgalloc_install_deps
stage configure cmake -S . -B "$build" -DVGALLOC_WERROR=ON -DVGALLOC_BUILD_EXAMPLES=ON
stage build cmake --build "$build" -j2 --target vgalloc-demo
stage demo "$build/examples/vgalloc-demo" "$@"
