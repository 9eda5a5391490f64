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
cmake_version=$(sed -n 's/^project(vgalloc VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
meson_version=$(sed -n "s/^  version : '\([0-9.]*\)',/\1/p" "$src/meson.build")
[[ -z $cmake_version || $cmake_version == "$meson_version" ]] ||
	fail "meson.build version $meson_version, CMakeLists.txt $cmake_version"

# 2. A consumer project with this tree as its subproject.
rm -rf "$work"
mkdir -p "$work/consumer/subprojects"
cp "$src/tests/meson/consumer/meson.build" "$work/consumer/"
cp "$src/tests/install/consumer/consumer.c" "$src/examples/venus-flow.c" "$work/consumer/"
ln -s "$src" "$work/consumer/subprojects/vgalloc"
meson setup "$work/build" "$work/consumer" --wrap-mode=nodownload
meson compile -C "$work/build"
meson test -C "$work/build" --print-errorlogs
# Both ways of linking a subproject's library: static (the default) and shared.
meson setup "$work/build-shared" "$work/consumer" --wrap-mode=nodownload \
	-Dvgalloc:default_library=shared
meson compile -C "$work/build-shared"
meson test -C "$work/build-shared" --print-errorlogs
echo "meson_subproject: OK"
