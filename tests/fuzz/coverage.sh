#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Fuzzer line coverage of the code that reads untrusted host input: the capset parsers
# (lib/caps.c), the param resolution in lib/device.c (the functions listed below) and the policy
# (lib/policy.c); and of the shared-memory blob cache (lib/shmem.c, fuzz_shmem) and the virtgpu
# backend (backends/virtgpu/virtgpu.c, fuzz_virtgpu). Runs every target for SECONDS with run.sh
# (which fails on any crash) to grow the corpora (cached, see run.sh), builds the targets again
# with -fprofile-instr-generate -fcoverage-mapping, replays every corpus, seed and saved
# regression input once, merges the profiles and prints the coverage per file and per param
# function. Exits non-zero when the combined line coverage of caps + params + policy is below
# VGALLOC_FUZZ_MIN_COVERAGE (default 90) percent, or a file in file_minimums below is under its
# own minimum. The minimums hold with an empty corpus cache and 10 s a target.
#
# Usage: tests/fuzz/coverage.sh [SECONDS_EACH|-] [OUT_DIR]   (default 10 s; "-": the budgets)
# Needs llvm-profdata and llvm-cov of clang's version (Debian 12: apt-get install llvm-14).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${1:-10}
out=${2:-$root/build-fuzz-cov}
min=${VGALLOC_FUZZ_MIN_COVERAGE:-90}
cc=${CC:-clang}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# The param resolution: GETPARAM answers and supplied params, the own-mode probe, the capset
# bytes (these functions of lib/device.c), and what the device derives from them (all of
# lib/traits.c).
param_functions=(read_params last_param param_known param_or_zero probe_own capset_read_size
	read_capset check_capset derive_traits vgalloc_device_get_param vgalloc_device_read_capset)

# Line coverage (percent) each of these files must reach on its own. From an empty corpus cache
# fuzz_shmem reaches all of lib/shmem.c and fuzz_virtgpu 204 of the 206 lines of virtgpu.c (the
# two left are a size > SIZE_MAX refusal that cannot happen on 64 bits), in 3 s as in 10 s; the
# margin is for code added later, not for luck.
file_minimums=(
	"lib/shmem.c 95"
	"backends/virtgpu/virtgpu.c 95"
)

# The LLVM tools that match the compiler: llvm-cov-14 for clang 14, else the unversioned ones.
major=$("$cc" --version | sed -n 's/.*clang version \([0-9][0-9]*\).*/\1/p' | head -1)
tool() {
	local t
	for t in "$1-$major" "$1"; do
		if command -v "$t" >/dev/null; then
			echo "$t"
			return
		fi
	done
	echo "coverage.sh: $1 not found (Debian 12: apt-get install llvm-$major)" >&2
	exit 2
}
profdata=$(tool llvm-profdata)
cov=$(tool llvm-cov)

# 1. Fuzz (ASan + UBSan): grows OUT/fuzz/<target>.corpus; any crash fails here.
bash "$here/run.sh" "$secs" "$out/fuzz"

# 2. The same targets with coverage instrumentation.
VGALLOC_FUZZ_FLAGS="-fprofile-instr-generate -fcoverage-mapping" VGALLOC_FUZZ_BUILD_ONLY=1 \
	bash "$here/run.sh" 0 "$out/cov"

# 3. Replay every input once; one profile per target.
rm -f "$out"/cov/*.profraw
objects=()
for bin in "$out"/cov/fuzz_*; do
	[[ -x $bin && ! -d $bin ]] || continue
	name=$(basename "$bin")
	inputs=("$out/fuzz/$name.corpus" "$out/fuzz/$name.seeds")
	if [[ -d $here/regressions/$name ]]; then
		inputs+=("$here/regressions/$name")
	fi
	LLVM_PROFILE_FILE="$out/cov/$name.profraw" ASAN_OPTIONS=detect_leaks=0 \
		"$bin" -runs=0 "${inputs[@]}" >"$out/cov/$name.replay.log" 2>&1
	objects+=(-object "$bin")
done
"$profdata" merge -sparse "$out"/cov/*.profraw -o "$out/cov/fuzz.profdata"

report() {
	"$cov" report -instr-profile "$out/cov/fuzz.profdata" "${objects[@]:1}" "$@"
}

# 4. Per file, then per param function; "lines missed" is column 6 of -show-functions.
echo
echo "== line coverage by the fuzzers"
printf '%-28s %8s %8s %8s\n' file lines missed cover
report "$root/lib/caps.c" "$root/lib/policy.c" "$root/lib/traits.c" "$root/lib/device.c" "$root/lib/shmem.c" \
	"$root/lib/blob.c" "$root/backends/virtgpu/virtgpu.c" |
	awk '/\.c / { printf "%-28s %8s %8s %8s\n", $1, $8, $9, $10 }'
file_lines() {
	report "$1" | awk '/\.c / { print $8, $9 }'
}
read -r caps_total caps_missed <<<"$(file_lines "$root/lib/caps.c")"
read -r policy_total policy_missed <<<"$(file_lines "$root/lib/policy.c")"
read -r params_total params_missed <<<"$(file_lines "$root/lib/traits.c")"
echo
echo "== param resolution (lib/traits.c: $params_total lines, $params_missed missed; and lib/device.c)"
printf '%-32s %8s %8s\n' function lines missed
while read -r fn total missed; do
	printf '%-32s %8s %8s\n' "$fn" "$total" "$missed"
	params_total=$((params_total + total))
	params_missed=$((params_missed + missed))
done < <(report -show-functions "$root/lib/device.c" | awk -v list="${param_functions[*]}" '
	BEGIN { n = split(list, f, " "); for (i = 1; i <= n; i++) want[f[i]] = 1 }
	{ name = $1; sub(/^.*:/, "", name) }
	(name in want) && NF >= 10 { print name, $5, $6; seen[name] = 1 }
	END { for (k in want) if (!seen[k]) print "coverage.sh: no function " k > "/dev/stderr" }')

pct() {
	awk -v t="$1" -v m="$2" 'BEGIN { printf "%.2f", t ? 100 * (t - m) / t : 0 }'
}
total=$((caps_total + params_total + policy_total))
missed=$((caps_missed + params_missed + policy_missed))
echo
printf '%-10s %6s/%-6s lines  %7s%%\n' \
	caps "$((caps_total - caps_missed))" "$caps_total" "$(pct "$caps_total" "$caps_missed")" \
	params "$((params_total - params_missed))" "$params_total" \
	"$(pct "$params_total" "$params_missed")" \
	policy "$((policy_total - policy_missed))" "$policy_total" \
	"$(pct "$policy_total" "$policy_missed")" \
	combined "$((total - missed))" "$total" "$(pct "$total" "$missed")"
echo "(annotated sources: $cov show -instr-profile $out/cov/fuzz.profdata ${objects[*]:1} <file>)"
status=0
if awk -v t="$total" -v m="$missed" -v min="$min" 'BEGIN { exit !(100 * (t - m) < min * t) }'; then
	echo "coverage.sh: combined line coverage below ${min}%"
	status=1
fi

echo
echo "== files with a minimum of their own"
for entry in "${file_minimums[@]}"; do
	read -r file fmin <<<"$entry"
	read -r ftotal fmissed <<<"$(file_lines "$root/$file")"
	printf '%-28s %6s/%-6s lines  %7s%%  (minimum %s%%)\n' "$file" \
		"$((ftotal - fmissed))" "$ftotal" "$(pct "$ftotal" "$fmissed")" "$fmin"
	if awk -v t="$ftotal" -v m="$fmissed" -v min="$fmin" \
		'BEGIN { exit !(t == 0 || 100 * (t - m) < min * t) }'; then
		echo "coverage.sh: $file below ${fmin}%"
		status=1
	fi
done
exit "$status"
