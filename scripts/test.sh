#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build with -Werror and run every test (cmocka tiers, header, install consumer): what CI runs.
# Usage: scripts/test.sh [extra cmake configure args...]
#   BUILD_DIR=build-asan scripts/test.sh -DVGALLOC_SANITIZE='address;undefined'
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/common.sh
source scripts/common.sh

build=${BUILD_DIR:-build}
trap print_stage_times EXIT

stage deps vgalloc_install_deps
stage configure cmake -S . -B "$build" -DVGALLOC_WERROR=ON "$@"
stage build cmake --build "$build" -j2
stage test ctest --test-dir "$build" --output-on-failure -j2
