#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The install_consumer test: install the build to a staging prefix, then build
# tests/install/consumer/consumer.c and the consumer examples (examples/venus-flow.c, and
# examples/gfxstream-flow.cpp as C++17) against the *installed* files three ways and run each
# binary:
#   1. pkg-config vgalloc-mock, shared, with an rpath to the staged libdir;
#   2. pkg-config --static vgalloc-mock, linking the staged .a archives;
#   3. find_package(vgalloc) (tests/install/consumer/CMakeLists.txt), shared and static targets.
# Also the README's API snippet, extracted verbatim, through pkg-config.
# Any error fails the test. ctest passes the settings below; run by hand, they fall back to the
# build's CMakeCache.txt.
#
# Usage: run.sh <build dir> <source dir>
# Environment (set by ctest): VGALLOC_CMAKE, VGALLOC_CONFIG, VGALLOC_VERSION, VGALLOC_CC,
#   VGALLOC_PKG_CONFIG, VGALLOC_SANITIZE_FLAGS, and VGALLOC_STAGE_MODE with its paths:
#   prefix  (relocatable .pc files): `cmake --install --prefix <staging>`; VGALLOC_LIBDIR and
#           VGALLOC_PKGCONFIGDIR are relative to the prefix;
#   destdir (.pc files with absolute paths): `DESTDIR=<staging> cmake --install` and
#           PKG_CONFIG_SYSROOT_DIR=<staging>; VGALLOC_PREFIX, VGALLOC_LIBDIR and
#           VGALLOC_PKGCONFIGDIR are absolute.
set -euo pipefail

if [[ $# -ne 2 ]]; then
	echo "usage: $0 <build dir> <source dir>" >&2
	exit 2
fi
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)

cache_get() { # name -> value from CMakeCache.txt, or empty
	sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" | head -n1
}

cmake_cmd=${VGALLOC_CMAKE:-$(cache_get CMAKE_COMMAND)}
cmake_cmd=${cmake_cmd:-cmake}
config=${VGALLOC_CONFIG:-$(cache_get CMAKE_BUILD_TYPE)}
mode=${VGALLOC_STAGE_MODE:-prefix}
prefix=${VGALLOC_PREFIX:-$(cache_get CMAKE_INSTALL_PREFIX)}
libdir=${VGALLOC_LIBDIR:-$(cache_get CMAKE_INSTALL_LIBDIR)}
pcdir=${VGALLOC_PKGCONFIGDIR:-$(cache_get VGALLOC_INSTALL_PKGCONFIGDIR)}
version=${VGALLOC_VERSION:-}
cc=${VGALLOC_CC:-$(cache_get CMAKE_C_COMPILER)}
cc=${cc:-cc}
cxx=${VGALLOC_CXX:-$(cache_get CMAKE_CXX_COMPILER)}
cxx=${cxx:-c++}
pkg_config=${VGALLOC_PKG_CONFIG:-$(cache_get PKG_CONFIG_EXECUTABLE)}
pkg_config=${pkg_config:-pkg-config}
read -r -a san_flags <<<"${VGALLOC_SANITIZE_FLAGS:-}"

major=${version%%.*}
staging="$build/tests/install/staging"
work="$build/tests/install/work"
consumer_src="$src/tests/install/consumer"

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'install_consumer: FAIL: %s\n' "$*" >&2; exit 1; }

# The DT_NEEDED entries of a binary; expect_needed wants an exact soname, expect_not_needed
# rejects any entry containing the pattern.
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
expect_needed() {
	needed "$1" | grep -qx "$2" || fail "$1 does not need $2 (needs: $(needed "$1" | tr '\n' ' '))"
}
expect_not_needed() {
	if needed "$1" | grep -q "$2"; then
		fail "$1 must be linked statically but needs $(needed "$1" | grep "$2" | tr '\n' ' ')"
	fi
}
run_consumer() {
	echo "running $1"
	# No LD_LIBRARY_PATH: the rpath (or static linking) alone must find the library.
	env -u LD_LIBRARY_PATH "$1" >"$1.out" || fail "$1 exited with $? (output: $1.out)"
	tail -n1 "$1.out"
}

step "install to $staging ($mode)"
rm -rf "$staging" "$work"
mkdir -p "$work"
case $mode in
prefix)
	"$cmake_cmd" --install "$build" --prefix "$staging" ${config:+--config "$config"}
	root=$staging
	lib_abs=$staging/$libdir
	pc_abs=$staging/$pcdir
	;;
destdir)
	DESTDIR="$staging" "$cmake_cmd" --install "$build" ${config:+--config "$config"}
	root=$staging$prefix
	lib_abs=$staging$libdir
	pc_abs=$staging$pcdir
	export PKG_CONFIG_SYSROOT_DIR="$staging"
	;;
*) fail "unknown VGALLOC_STAGE_MODE $mode" ;;
esac

step "check the staged tree"
for f in "$lib_abs/libvgalloc.a" "$lib_abs/libvgalloc-mock.a" \
	"$lib_abs/libvgalloc.so" "$lib_abs/libvgalloc-mock.so" \
	"$pc_abs/vgalloc.pc" "$pc_abs/vgalloc-mock.pc"; do
	[[ -e $f ]] || fail "not installed: $f"
done
for f in vgalloc/vgalloc.h vgalloc/vgalloc_mock.h vgalloc/vgalloc_version.h \
	vgalloc/vgalloc_backend.h vgalloc/vgalloc_vulkan.h vgalloc/vgalloc-config.cmake vgalloc/vgalloc-config-version.cmake \
	vgalloc/vgallocTargets.cmake; do
	[[ -n $(find "$root" -path "*/$f" -print -quit) ]] || fail "not installed: $f"
done
if [[ -n $version ]]; then
	for l in vgalloc vgalloc-mock; do
		[[ -e "$lib_abs/lib$l.so.$major" ]] || fail "missing SONAME link lib$l.so.$major"
		[[ -e "$lib_abs/lib$l.so.$version" ]] || fail "missing lib$l.so.$version"
	done
fi

export PKG_CONFIG_PATH="$pc_abs"
cflags=(-std=c11 -Wall -Wextra -Werror "${san_flags[@]}")

step "pkg-config: metadata"
for m in vgalloc vgalloc-mock; do
	got=$("$pkg_config" --modversion "$m")
	echo "$m $got"
	[[ -z $version || $got == "$version" ]] || fail "$m.pc says $got, expected $version"
done
pc_libdir=$("$pkg_config" --variable=libdir vgalloc)
# A sysroot applies to -I/-L, and only with some pkg-config versions to --variable.
if [[ $mode == destdir && $pc_libdir != "$staging"/* ]]; then
	pc_libdir=$staging$pc_libdir
fi
[[ -d $pc_libdir && $(cd "$pc_libdir" && pwd -P) == $(cd "$lib_abs" && pwd -P) ]] ||
	fail "vgalloc.pc libdir $pc_libdir is not the staged $lib_abs"
read -r -a pc_cflags <<<"$("$pkg_config" --cflags vgalloc-mock)"
read -r -a pc_libs <<<"$("$pkg_config" --libs vgalloc-mock)"
read -r -a pc_static_libs <<<"$("$pkg_config" --static --libs vgalloc-mock)"
echo "cflags: ${pc_cflags[*]}"
echo "libs: ${pc_libs[*]}"
echo "static libs: ${pc_static_libs[*]}"

# The programs: name -> source. The examples are consumers too (Venus- and gfxstream-shaped).
progs=(consumer "$consumer_src/consumer.c" venus-flow "$src/examples/venus-flow.c")
if [[ -f $src/examples/gfxstream-flow.cpp ]]; then
	progs+=(gfxstream-flow "$src/examples/gfxstream-flow.cpp")
fi
compile() { # source output args...
	local source=$1 out=$2
	shift 2
	if [[ $source == *.cpp ]]; then
		"$cxx" -std=c++17 -Wall -Wextra -Werror -pedantic "${san_flags[@]}" "${pc_cflags[@]}" \
			"$source" -o "$out" "$@" "${san_flags[@]}"
	else
		"$cc" "${cflags[@]}" "${pc_cflags[@]}" "$source" -o "$out" "$@" "${san_flags[@]}"
	fi
}

step "pkg-config: shared"
for ((i = 0; i < ${#progs[@]}; i += 2)); do
	name=${progs[i]}
	compile "${progs[i + 1]}" "$work/${name}_pc_shared" "${pc_libs[@]}" -Wl,-rpath,"$pc_libdir"
	if [[ -n $major ]]; then
		expect_needed "$work/${name}_pc_shared" "libvgalloc-mock.so.$major"
		expect_needed "$work/${name}_pc_shared" "libvgalloc.so.$major"
	fi
	run_consumer "$work/${name}_pc_shared"
done

# The README's API snippet, exactly as written there: a user copies it and builds it against the
# installed package with the pkg-config line it names.
step "README: the API snippet"
sed -n '/^## The API in/,/^## /p' "$src/README.md" | sed -n '/^```c$/,/^```$/p' | sed '1d;$d' \
	>"$work/readme-api.c"
[[ -s $work/readme-api.c ]] || fail "README.md has no C snippet under '## The API in ...'"
grep -q 'pkg-config --cflags --libs vgalloc-mock' "$work/readme-api.c" ||
	fail "the README snippet does not say how to build it"
compile "$work/readme-api.c" "$work/readme-api" "${pc_libs[@]}" -Wl,-rpath,"$pc_libdir"
run_consumer "$work/readme-api"

step "pkg-config: static"
# Both libvgalloc.so and libvgalloc.a sit in libdir, where -lvgalloc picks the .so: name the
# archives explicitly, keeping pkg-config's order and its private libraries.
static_libs=()
for w in "${pc_static_libs[@]}"; do
	case $w in
	-lvgalloc | -lvgalloc-mock) static_libs+=("-l:lib${w#-l}.a") ;;
	*) static_libs+=("$w") ;;
	esac
done
for ((i = 0; i < ${#progs[@]}; i += 2)); do
	name=${progs[i]}
	compile "${progs[i + 1]}" "$work/${name}_pc_static" "${static_libs[@]}"
	expect_not_needed "$work/${name}_pc_static" "libvgalloc"
	run_consumer "$work/${name}_pc_static"
done

step "find_package(vgalloc)"
cmake_args=(
	-S "$consumer_src" -B "$work/cmake"
	-DCMAKE_PREFIX_PATH="$root"
	-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
	-DCMAKE_C_COMPILER="$cc"
	-DCMAKE_CXX_COMPILER="$cxx"
	-DVGALLOC_EXAMPLES_DIR="$src/examples"
	-DCMAKE_C_FLAGS="${san_flags[*]}"
	-DCMAKE_CXX_FLAGS="${san_flags[*]}"
	-DCMAKE_EXE_LINKER_FLAGS="${san_flags[*]}"
)
if [[ -n $version ]]; then cmake_args+=(-DVGALLOC_EXPECTED_VERSION="$version"); fi
if [[ -n $config ]]; then cmake_args+=(-DCMAKE_BUILD_TYPE="$config"); fi
"$cmake_cmd" "${cmake_args[@]}"
found_dir=$(sed -n 's/^vgalloc_DIR:PATH=//p' "$work/cmake/CMakeCache.txt")
[[ $(cd "$found_dir" && pwd -P) == $(cd "$staging" && pwd -P)/* ]] ||
	fail "find_package found vgalloc in $found_dir, not under $staging"
"$cmake_cmd" --build "$work/cmake" ${config:+--config "$config"}
for ((i = 0; i < ${#progs[@]}; i += 2)); do
	name=${progs[i]}
	bins=()
	for kind in shared static; do
		bin=$(find "$work/cmake" -type f -name "${name}_$kind" -perm -u+x | head -n1)
		[[ -n $bin ]] || fail "${name}_$kind was not built"
		bins+=("$bin")
	done
	if [[ -n $major ]]; then expect_needed "${bins[0]}" "libvgalloc-mock.so.$major"; fi
	expect_not_needed "${bins[1]}" "libvgalloc"
	for bin in "${bins[@]}"; do
		run_consumer "$bin"
	done
done

step "install_consumer: OK"
