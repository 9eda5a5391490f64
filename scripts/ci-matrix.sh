#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The CI legs on the host, beside the README's test command (which .ci/run runs in a fresh Debian
# 12 root, scripts/fresh-root.sh: every test there, the VM tier and the fuzzers included):
#   format         clang-format --dry-run -Werror over every C/C++ source git tracks (*.c *.h
#                  *.cpp), listing the files that differ from .clang-format
#   debug          gcc, Debug (-O0, the debug self-checks on) with -Werror, `ctest -LE 'vm|fuzz'`
#                  (the README's command builds RelWithDebInfo)
#   clang          clang, RelWithDebInfo, -Werror
#   asan-ubsan     gcc, Debug, ASan + UBSan (the self-checks on, exact stack traces)
#   tsan           clang, RelWithDebInfo, TSan on the cmocka tests (the optimised code that ships)
#   valgrind       memcheck on every cmocka test of the debug leg's build (built here if missing)
#   fuzz-coverage  the fuzzers' line coverage: caps + params + policy >= 90%, lib/shmem.c and
#                  backends/virtgpu/virtgpu.c >= 95% each
# Every ctest leg leaves out the VM tier (label vm) and the fuzzers (label fuzz): both run once, in
# the test command; the fuzzers build themselves with clang whatever the build type. The cmocka
# tests are selected by their tier labels (tests/tests.cmake), never by path. Heavy tests are sized
# down by VGALLOC_TEST_SCALE under TSan and valgrind. Each stage's time is printed, and each leg
# that runs tests prints "<leg>: ran N tests (labels ...)".
#
# Usage: scripts/ci-matrix.sh [LEG...]     (default: every leg above, in that order; the build
#                                           dependencies are installed first when missing, except
#                                           for format alone; `deps` does only that)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/common.sh
source scripts/common.sh
trap print_stage_times EXIT

LEGS=(format debug clang asan-ubsan tsan valgrind fuzz-coverage)

# The labels of the cmocka tiers (tests/tests.cmake), as a ctest label expression.
TIERS='unit|api|backend|mock|errors|stress'
TIER_LABELS="^($TIERS)\$"

# Each leg runs in `stage`'s `||` context, where set -e does not apply: every step returns itself.

# ctest_leg LEG DIR LABELS ARG...: ctest over the build DIR with the selection ARG..., then the line
# "LEG: ran N tests (labels LABELS)", N from ctest's summary (or `ctest -N` when it printed none).
# Returns ctest's status.
ctest_leg() {
	local leg=$1 dir=$2 labels=$3 log n rc
	shift 3
	log=$(mktemp) || return
	ctest --test-dir "$dir" --output-on-failure -j2 "$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	n=$(sed -n 's/.* tests failed out of \([0-9][0-9]*\)$/\1/p' "$log" | tail -n1)
	[[ -n $n ]] || n=$(ctest --test-dir "$dir" -N "$@" | sed -n 's/^Total Tests: //p')
	rm -f "$log"
	echo "$leg: ran ${n:-0} tests (labels $labels)"
	return "$rc"
}

leg_format() {
	if ! command -v clang-format >/dev/null; then
		echo "format: installing clang-format"
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
			--no-install-recommends clang-format || return
	fi
	local files=() bad=() f
	mapfile -d '' files < <(git ls-files -z -- '*.c' '*.h' '*.cpp')
	((${#files[@]})) || { echo "format: git lists no C/C++ sources" >&2; return 1; }
	for f in "${files[@]}"; do
		clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
	done
	echo "format: $(clang-format --version | head -n1), ${#files[@]} files"
	if ((${#bad[@]})); then
		echo "format: ${#bad[@]} files differ from .clang-format" \
			"(see one with: clang-format --dry-run FILE; fix: clang-format -i FILE...):"
		printf '  %s\n' "${bad[@]}"
		return 1
	fi
	echo "format: every file is formatted"
}

leg_debug() {
	cmake -S . -B build-debug -DCMAKE_BUILD_TYPE=Debug -DVGALLOC_WERROR=ON || return
	cmake --build build-debug -j2 || return
	ctest_leg debug build-debug "all but vm|fuzz" -LE 'vm|fuzz'
}

leg_clang() {
	cmake -S . -B build-clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVGALLOC_WERROR=ON \
		-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ || return
	cmake --build build-clang -j2 || return
	ctest_leg clang build-clang "all but vm|fuzz" -LE 'vm|fuzz'
}

leg_asan() {
	local skip='vm|fuzz|install|bench'
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DVGALLOC_WERROR=ON \
		-DVGALLOC_SANITIZE='address;undefined' || return
	cmake --build build-asan -j2 || return
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		ctest_leg asan-ubsan build-asan "all but $skip" -LE "$skip"
}

leg_tsan() {
	cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVGALLOC_WERROR=ON \
		-DVGALLOC_SANITIZE=thread -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ ||
		return
	cmake --build build-tsan -j2 || return
	VGALLOC_TEST_SCALE=50000 TSAN_OPTIONS=halt_on_error=1 \
		ctest_leg tsan build-tsan "$TIERS" -L "$TIER_LABELS"
}

# The debug leg's tree (configured and built here when that leg did not run; a no-op otherwise).
# The tests are the ones ctest selects by the tier labels, each run directly under memcheck.
leg_valgrind() {
	local build=build-debug t failed=0 tests=()
	cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DVGALLOC_WERROR=ON || return
	cmake --build "$build" -j2 || return
	mapfile -t tests < <(ctest --test-dir "$build" -N -V -L "$TIER_LABELS" -LE 'vm|fuzz' |
		sed -n 's/^[0-9][0-9]*: Test command: //p')
	((${#tests[@]})) || { echo "valgrind: ctest lists no test labelled $TIERS" >&2; return 1; }
	for t in "${tests[@]}"; do
		[[ -x $t && -f $t ]] || { echo "valgrind: $t is no executable" >&2; failed=1; continue; }
		if ! VGALLOC_TEST_SCALE=50000 valgrind -q --error-exitcode=9 --leak-check=full \
			--errors-for-leak-kinds=definite,indirect "$t" >"$t.valgrind.log" 2>&1; then
			echo "valgrind: $(basename "$t") FAILED (log: $t.valgrind.log)"
			tail -40 "$t.valgrind.log"
			failed=1
		else
			echo "valgrind: $(basename "$t") clean"
		fi
	done
	echo "valgrind: ran ${#tests[@]} tests (labels $TIERS)"
	return "$failed"
}

leg_fuzz_coverage() {
	bash tests/fuzz/coverage.sh 10 build-fuzz-cov
}

legs=("$@")
((${#legs[@]})) || legs=("${LEGS[@]}")
for leg in "${legs[@]}"; do
	[[ " deps ${LEGS[*]} " == *" $leg "* ]] ||
		{ echo "ci-matrix: unknown leg '$leg' (legs: deps ${LEGS[*]})" >&2; exit 2; }
done
[[ ${legs[*]} == format ]] || stage deps vgalloc_install_deps

# want <leg>: was it asked for (in LEGS order, whatever the order of the arguments)?
want() {
	[[ " ${legs[*]} " == *" $1 "* ]]
}
rc=0
want format && { stage format leg_format || rc=1; }
want debug && { stage debug leg_debug || rc=1; }
want clang && { stage clang leg_clang || rc=1; }
want asan-ubsan && { stage asan-ubsan leg_asan || rc=1; }
want tsan && { stage tsan leg_tsan || rc=1; }
want valgrind && { stage valgrind leg_valgrind || rc=1; }
want fuzz-coverage && { stage fuzz-coverage leg_fuzz_coverage || rc=1; }
((rc == 0)) # the exit status: 1 when any leg failed
