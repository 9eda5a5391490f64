#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The CI legs after the README's test command (which already ran every test, the VM tier and the
# fuzzers included): a clang -Werror build, ASan+UBSan, TSan on the threaded tests, valgrind
# memcheck on every unit test (heavy tests sized down by VGALLOC_TEST_SCALE), and the fuzzers'
# line coverage of the caps, params and policy code (>= 90% required). Each ctest leg runs
# `ctest -LE vm` (and leaves the fuzzers, which build themselves with clang, to the first run);
# each stage's time is printed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/common.sh
source scripts/common.sh
trap print_stage_times EXIT

stage deps vgalloc_install_deps

leg_clang() {
	CC=clang cmake -S . -B build-clang -DVGALLOC_WERROR=ON -DCMAKE_C_COMPILER=clang \
		-DCMAKE_CXX_COMPILER=clang++
	cmake --build build-clang -j2
	ctest --test-dir build-clang --output-on-failure -j2 -LE 'vm|fuzz'
}

leg_asan() {
	cmake -S . -B build-asan -DVGALLOC_WERROR=ON -DVGALLOC_SANITIZE='address;undefined'
	cmake --build build-asan -j2
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		ctest --test-dir build-asan --output-on-failure -j2 -LE 'vm|fuzz|install|bench'
}

leg_tsan() {
	cmake -S . -B build-tsan -DVGALLOC_WERROR=ON -DVGALLOC_SANITIZE=thread \
		-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
	cmake --build build-tsan -j2
	VGALLOC_TEST_SCALE=50000 TSAN_OPTIONS=halt_on_error=1 \
		ctest --test-dir build-tsan --output-on-failure -j2 -L unit
}

leg_valgrind() {
	local build=${BUILD_DIR:-build} t failed=0
	cmake --build "$build" -j2
	for t in "$build"/tests/unit/test_*; do
		[[ -x $t ]] || continue
		if ! VGALLOC_TEST_SCALE=50000 valgrind -q --error-exitcode=9 --leak-check=full \
			--errors-for-leak-kinds=definite,indirect "$t" >"$t.valgrind.log" 2>&1; then
			echo "valgrind: $(basename "$t") FAILED (log: $t.valgrind.log)"
			tail -40 "$t.valgrind.log"
			failed=1
		else
			echo "valgrind: $(basename "$t") clean"
		fi
	done
	return "$failed"
}

stage clang leg_clang
stage asan-ubsan leg_asan
stage tsan leg_tsan
stage valgrind leg_valgrind
stage fuzz-coverage bash tests/fuzz/coverage.sh 20 build-fuzz-cov
