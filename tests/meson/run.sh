#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The meson_subproject test: check that meson.build compiles the same sources as CMakeLists.txt,
# then configure, build and test tests/meson/consumer with this tree as its subprojects/vgalloc.
# Usage: tests/meson/run.sh <source dir> <work dir>
set -euo pipefail

src=$(cd "${1:?usage: run.sh SRC WORK}" && pwd)
work=${2:?usage: run.sh SRC WORK}

fail() { echo "meson_subproject: FAIL: $*" >&2; exit 1; }
command -v meson >/dev/null || fail "meson is not installed (Debian: meson ninja-build)"

# 1. One source list: every .c CMake builds into the libraries is in meson.build and back.
cmake_srcs=$(sed -n '/^set(VGALLOC_SOURCES/,/^)/p' "$src/CMakeLists.txt" | grep -o '[a-z/_]*\.c' |
	sort)
mock_srcs=$(cd "$src" && ls backends/mock/*.c | sort)
meson_srcs=$(grep -o "'[a-z/_]*\.c'" "$src/meson.build" | tr -d "'" | sort)
want=$(printf '%s\n%s\n' "$cmake_srcs" "$mock_srcs" | sort)
[[ $want == "$meson_srcs" ]] ||
	fail "meson.build sources differ from CMakeLists.txt: $(diff <(echo "$want") <(echo "$meson_srcs") | tr '\n' ' ')"
# The version: both builds read it from the one header. Read it here too, and fail when it cannot
# be read (a check that cannot fail proves nothing).
header=$src/include/vgalloc/vgalloc_version.h
header_version=""
for part in MAJOR MINOR PATCH; do
	n=$(sed -n "s/^#define VGALLOC_VERSION_${part}[[:space:]]\{1,\}\([0-9]\{1,\}\).*/\1/p" "$header")
	[[ $n =~ ^[0-9]+$ ]] || fail "cannot read VGALLOC_VERSION_$part from $header"
	header_version+=${header_version:+.}$n
done
grep -q "^project(vgalloc\b" "$src/CMakeLists.txt" || fail "CMakeLists.txt: no project(vgalloc ...)"
grep -q 'VERSION ${_vgalloc_version_MAJOR}.${_vgalloc_version_MINOR}.${_vgalloc_version_PATCH}' \
	"$src/CMakeLists.txt" || fail "CMakeLists.txt does not take its version from $header"
grep -q "^  version : '" "$src/meson.build" && fail "meson.build hard-codes its version"

# meson_project_version <tree> <build dir>: the version meson configured for the tree's project.
meson_project_version() {
	meson setup "$2" "$1" --wrap-mode=nodownload >"$2.log" 2>&1 ||
		{ cat "$2.log" >&2; fail "meson setup of $1 failed"; }
	meson introspect --projectinfo "$2" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])'
}
rm -rf "$work"
mkdir -p "$work"
v=$(meson_project_version "$src" "$work/self")
[[ $v == "$header_version" ]] || fail "meson.build says version '$v', $header says $header_version"
# A bumped header must move meson's version with it: copy the build inputs, change the header.
mkdir -p "$work/bumped"
cp -r "$src/meson.build" "$src/include" "$src/lib" "$src/backends" "$work/bumped/"
sed -i -E 's/^(#define VGALLOC_VERSION_MAJOR[[:space:]]+)[0-9]+/\197/' \
	"$work/bumped/include/vgalloc/vgalloc_version.h"
v=$(meson_project_version "$work/bumped" "$work/bumped-build")
[[ $v == "97.${header_version#*.}" ]] || fail "meson.build ignored a bumped header (read '$v')"
echo "meson_subproject: version $header_version read from $header by meson.build"

# 2. A consumer project with this tree as its subproject.
mkdir -p "$work/consumer/subprojects"
cp "$src/tests/meson/consumer/meson.build" "$work/consumer/"
cp "$src/tests/install/consumer/consumer.c" "$src/examples/venus-flow.c" "$work/consumer/"
ln -s "$src" "$work/consumer/subprojects/vgalloc"
meson setup "$work/build" "$work/consumer" --wrap-mode=nodownload
meson compile -C "$work/build"
meson test -C "$work/build" --print-errorlogs
# The static archive's entry points are hidden (vgalloc.h): a driver's shared object that links it
# cannot re-export them. Count both kinds, so that a check that finds nothing cannot pass.
for archive in "$work"/build/subprojects/vgalloc/libvgalloc{,-mock}.a; do
	[[ -f $archive ]] || fail "no static archive at $archive"
	entry_points() { readelf -sW "$archive" | awk -v vis="$1" '$5 == "GLOBAL" &&
		$6 == vis && $7 != "UND" && $8 ~ /^vgalloc_[a-z]/' | wc -l; }
	[[ $(entry_points DEFAULT) == 0 ]] ||
		fail "$(entry_points DEFAULT) entry points of $archive are visible"
	[[ $(entry_points HIDDEN) -gt 0 ]] || fail "no hidden entry point found in $archive"
	echo "meson_subproject: $(entry_points HIDDEN) entry points of $(basename "$archive") are hidden"
done
# Both ways of linking a subproject's library: static (the default) and shared.
meson setup "$work/build-shared" "$work/consumer" --wrap-mode=nodownload \
	-Dvgalloc:default_library=shared
meson compile -C "$work/build-shared"
meson test -C "$work/build-shared" --print-errorlogs
echo "meson_subproject: OK"
