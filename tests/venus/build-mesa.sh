#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build, once and cached, Mesa's Venus driver (libvulkan_virtio.so) with the patch series in
# integrations/venus/patches, or with VGALLOC_MESA_DRIVER=gfxstream the gfxstream guest driver
# (libvulkan_gfxstream.so) with integrations/gfxstream/patches, and this tree's libvgalloc as its
# meson subproject, configured as Debian configures it, in a trixie build root derived from the
# VM rig. Below, "the driver" is the one chosen; both share the build root and the source.
#
# The build root is the rig's chroot ($VGALLOC_VM_CACHE/root, never changed here) under an
# overlayfs: lower = the rig, upper = a cached layer holding BUILD_PACKAGES, mounted in a private
# mount namespace. Each build adds a throwaway upper layer on top, so the cached layer is only
# read. Where overlayfs cannot be mounted (the cache on a file system that cannot be an upper
# layer), the build root is a copy of the rig instead, and the script says so.
#
# Cache ($VGALLOC_VENUS_CACHE, default /var/cache/vgalloc-venus):
#   build-root-<key16>/    layer/ (overlay mode) or root/ (copy mode), stamp.<mode>,
#                          versions.txt; key = BUILD_PACKAGES, the deb-src line, the rig's
#                          versions.txt
#   mesa-source-<version>/ what `apt-get source --download-only` fetched (.dsc, tarballs; apt
#                          checked them against the signed Sources index), SHA256SUMS checked on
#                          every later use
#   driver-<key16>/        the driver (stripped as dh_strip does), .debug beside it, its
#                          <icd>.vgalloc.x86_64.json, build.txt, key.txt, meson and ninja
#                          logs; key = Mesa version, the series, the library sources meson
#                          compiles, the meson options and build flags, the build root's key
#   failed-logs/           the logs of the last failed build
# A warm run (the driver's key present) needs no namespace, no lock and no network; a rebuild
# after a change of the library or the series needs no network either (build root and source
# cached).
#
# Checks (exit 1 when one fails): meson took libvgalloc from subprojects/vgalloc; the patched
# driver's exported dynamic symbols (nm -D --defined-only) equal those of Debian's stock driver
# in the rig, none of them is a vgalloc symbol, the library's symbols are in the link as local
# ones, and the NEEDED entries equal stock's.
#
# Usage: tests/venus/build-mesa.sh [--print-dir]
#   stdout: build.txt (or with --print-dir only the driver's directory); progress on stderr.
# Environment:
#   VGALLOC_MESA_DRIVER       venus (default) or gfxstream
#   VGALLOC_VENUS_CACHE       the cache above
#   VGALLOC_VM_CACHE          the VM rig (tests/vm/build-rig.sh builds it when missing)
#   VGALLOC_VENUS_BUILD_ROOT  auto (default: overlay, else copy), overlay or copy
#   VGALLOC_VENUS_JOBS        ninja -j (default 2)
#   VGALLOC_VENUS_LIB_DIR     where the library's sources (meson.build include lib backends) come
#                             from (default: this tree); tier.sh builds an earlier revision's
#                             library into the same series with it (VGALLOC_VENUS_BEFORE)
#   VGALLOC_VM_REQUIRED=1     exit 1 instead of 77 when the build cannot run here
# Exit: 0 ready, 77 cannot run here (not root, no network for a cold stage, the rig cannot be
# built), 1 anything else (including a failed symbol check).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tests/vm/lib.sh
source "$here/../vm/lib.sh"

VENUS_CACHE=${VGALLOC_VENUS_CACHE:-/var/cache/vgalloc-venus}
# Which of Mesa's drivers and which series: Venus (integrations/venus) or the gfxstream guest
# (integrations/gfxstream). Both share the build root, the source and the cache.
DRIVER=${VGALLOC_MESA_DRIVER:-venus}
case $DRIVER in
venus)
	VK_DRIVER=virtio
	TARGET=src/virtio/vulkan/libvulkan_virtio.so
	STOCK_JSON=/usr/share/vulkan/icd.d/virtio_icd.json
	ICD_NAME=virtio_icd.vgalloc.x86_64.json
	;;
gfxstream)
	VK_DRIVER=gfxstream
	TARGET=src/gfxstream/guest/vulkan/libvulkan_gfxstream.so
	STOCK_JSON=/usr/share/vulkan/icd.d/gfxstream_vk_icd.json
	ICD_NAME=gfxstream_vk_icd.vgalloc.x86_64.json
	;;
*) vm_die "VGALLOC_MESA_DRIVER: venus or gfxstream" ;;
esac
SO=${TARGET##*/}
PATCHES=$repo/integrations/$DRIVER/patches
MESA_VERSION=25.0.7-2+deb13u1
# Bump when the recipe below changes what is built; it is part of both keys.
RECIPE=1

# What the build needs beyond the rig, without LLVM (never `apt-get build-dep mesa`): dpkg-dev for
# apt-get source, dpkg-source and dpkg-buildflags; the rest is what a build matching Debian's
# links (x11 and wayland WSI, zstd).
BUILD_PACKAGES=(dpkg-dev meson ninja-build pkg-config g++ python3-mako python3-packaging
	python3-yaml libdrm-dev bison flex zlib1g-dev libexpat1-dev libxcb1-dev libx11-xcb-dev
	libxcb-randr0-dev libxcb-dri3-dev libxcb-present-dev libxcb-shm0-dev libxcb-sync-dev
	libxcb-xfixes0-dev libxshmfence-dev libxrandr-dev libwayland-dev wayland-protocols
	libzstd-dev)
SRC_LINE="deb-src $VM_MIRROR $VM_SUITE main"

# The Venus issue's options: Debian's driver set without LLVM. Debian's rules also write VERSION
# from the changelog, and dh_auto_configure adds the paths (Mesa compiles in datadir and
# sysconfdir for drirc) and --wrap-mode=nodownload (no subproject is ever fetched).
# shellcheck disable=SC2054 # x11,wayland is one meson value
MESON_OPTIONS=(-Dvulkan-drivers=$VK_DRIVER -Dgallium-drivers= -Dplatforms=x11,wayland -Dglx=disabled
	-Degl=disabled -Dgbm=disabled -Dgles1=disabled -Dgles2=disabled -Dopengl=false
	-Dllvm=disabled -Dvideo-codecs= -Dvulkan-layers= -Dtools= -Dshared-glapi=disabled
	-Dglvnd=disabled -Dlibunwind=disabled -Dvalgrind=disabled -Dzstd=enabled
	-Dlmsensors=disabled -Dbuild-tests=false -Dbuildtype=plain)
DH_MESON_ARGS=(--wrap-mode=nodownload --prefix=/usr --sysconfdir=/etc --localstatedir=/var
	--libdir=lib/x86_64-linux-gnu)
# debian/rules exports these before dpkg-buildflags (amd64: no arch-specific additions).
BUILDFLAGS_ENV=(DEB_BUILD_MAINT_OPTIONS=optimize=-lto DEB_CFLAGS_MAINT_APPEND=-Wall
	DEB_CXXFLAGS_MAINT_APPEND=-Wall)
# The library files the subproject compiles: what is hashed into the key and copied.
LIB_PATHS=(meson.build include lib backends)
libdir=${VGALLOC_VENUS_LIB_DIR:-$repo}
STOCK_SO=/usr/lib/x86_64-linux-gnu/$SO
ICD_LIBRARY=/opt/vgalloc/lib/$SO
KEEP_DRIVERS=5

jobs=${VGALLOC_VENUS_JOBS:-2}
root_mode=${VGALLOC_VENUS_BUILD_ROOT:-auto}
print_dir=0
case ${1:-} in
--print-dir) print_dir=1 ;;
"") ;;
*) vm_die "usage: tests/venus/build-mesa.sh [--print-dir]" ;;
esac
[[ $root_mode =~ ^(auto|overlay|copy)$ ]] || vm_die "VGALLOC_VENUS_BUILD_ROOT: auto, overlay or copy"
[[ $jobs =~ ^[1-9][0-9]*$ ]] || vm_die "VGALLOC_VENUS_JOBS must be a positive number"

skip_or_fail() {
	if [[ ${VGALLOC_VM_REQUIRED:-0} == 1 ]]; then
		vm_log "FAIL: the $DRIVER build is required (VGALLOC_VM_REQUIRED=1) but cannot run: $*"
		exit 1
	fi
	vm_skip "$*"
}

now() {
	date +%s.%N
}
# The namespace re-execution (below) carries the start time, the load then and the first stage.
t_start=${_VGALLOC_VENUS_T0:-$(now)}
load_start=${_VGALLOC_VENUS_LOAD:-$(cut -d' ' -f1-3 /proc/loadavg)}
stage_lines=()
[[ -z ${_VGALLOC_VENUS_STAGE0:-} ]] || stage_lines=("$_VGALLOC_VENUS_STAGE0")
t_stage=$(now)
# stage_done <name>: record the time since the previous stage ended.
stage_done() {
	local t
	t=$(now)
	stage_lines+=("$(awk -v n="$1" -v a="$t_stage" -v b="$t" 'BEGIN { printf "%-12s %7.1f s", n, b - a }')")
	t_stage=$t
}
minutes() {
	awk -v a="$t_start" -v b="$(now)" 'BEGIN { printf "%.2f", (b - a) / 60 }'
}

# --- the key ------------------------------------------------------------------------------------

# series_names <patch dir>: the series file's entries, in order.
series_names() {
	sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$1/series"
}

# driver_key_material <library dir> <patch dir> <build root key>
driver_key_material() {
	local lib=$1 patches=$2 p
	echo "recipe $RECIPE"
	echo "mesa $MESA_VERSION"
	echo "target $TARGET"
	echo "meson ${MESON_OPTIONS[*]} ${DH_MESON_ARGS[*]}"
	echo "buildflags-env ${BUILDFLAGS_ENV[*]}"
	echo "build-root $3"
	(cd "$patches" && sha256sum series) | sed 's/^/series /'
	while read -r p; do
		[[ -f $patches/$p ]] || vm_die "series names $p, which is not in $patches"
		(cd "$patches" && sha256sum "$p") | sed 's/^/patch /'
	done < <(series_names "$patches")
	(cd "$lib" && find "${LIB_PATHS[@]}" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) |
		sed 's/^/library /'
}

build_root_key() {
	{
		echo "recipe $RECIPE"
		echo "packages ${BUILD_PACKAGES[*]}"
		echo "sources $SRC_LINE"
		cat "$VM_CACHE/versions.txt"
	} | sha256sum | cut -d' ' -f1
}

sha256_of() {
	sha256sum | cut -d' ' -f1
}

# driver_ready <dir>: a finished build whose driver is the one build.txt records.
driver_ready() {
	local dir=$1 want
	[[ -f $dir/build.txt && -f $dir/$SO && -f $dir/$ICD_NAME ]] || return 1
	want=$(awk -v so="$SO" '$1 == "sha256" && $2 == so { print $3 }' "$dir/build.txt")
	[[ -n $want && $(sha256_of <"$dir/$SO") == "$want" ]]
}

finish() {
	local dir=$1 how=$2
	if ((print_dir)); then
		printf '%s\n' "$dir"
	else
		cat "$dir/build.txt"
	fi
	vm_log "$DRIVER driver $how in $dir ($how: $(minutes) min)"
	exit 0
}

# --- the warm path: no namespace, no lock, no network -------------------------------------------

[[ $(id -u) -eq 0 ]] || skip_or_fail "the $DRIVER build needs root (chroot, mount)"
[[ -f $PATCHES/series ]] || vm_die "no $PATCHES/series"

if [[ ${VGALLOC_VM_NS:-} != "$$" ]]; then
	rc=0
	bash "$here/../vm/build-rig.sh" >/dev/null || rc=$?
	((rc != VM_SKIP)) || skip_or_fail "the VM rig cannot be built here (see above)"
	((rc == 0)) || vm_die "tests/vm/build-rig.sh failed (exit $rc)"
	broot_key=$(build_root_key)
	key=$(driver_key_material "$libdir" "$PATCHES" "$broot_key" | sha256_of)
	stage_done rig+key
	if driver_ready "$VENUS_CACHE/driver-${key:0:16}"; then
		finish "$VENUS_CACHE/driver-${key:0:16}" warm
	fi
	export _VGALLOC_VENUS_T0=$t_start _VGALLOC_VENUS_LOAD=$load_start
	export _VGALLOC_VENUS_STAGE0=${stage_lines[0]}
fi

# --- cold: a private namespace, the locks -------------------------------------------------------

vm_enter_namespace "$@"
vm_install_traps
# The script's stderr, for the cleanup: a signal during `chroot_run ... >log 2>&1` runs the exit
# trap inside that redirection.
exec 7>&2

mkdir -p "$VENUS_CACHE"
exec 8>>"$VENUS_CACHE/.lock.mesa"
flock -w 3600 8 || vm_die "timed out waiting for $VENUS_CACHE/.lock.mesa"
# The rig is the lower layer (or the copy's origin): no rebuild may change it under this run.
exec 9>>"$VM_CACHE/.lock"
flock -s -w 1800 9 || vm_die "timed out waiting for the rig lock"
[[ -f $VM_CACHE/versions.txt && -x $VM_ROOT/usr/bin/apt-get ]] || vm_die "no VM rig in $VM_CACHE"
stage_done locks

scratch=$VENUS_CACHE/scratch
mnt=$scratch/mnt
logs=$scratch/build/logs

# shellcheck disable=SC2317 # the cleanup stack calls these three
# chroot_procs: processes whose root is the build root (only this run's: the lock is held).
chroot_procs() {
	local p r
	for p in /proc/[0-9]*; do
		r=$(readlink "$p/root" 2>/dev/null) || continue
		[[ $r != "$mnt" ]] || echo "${p#/proc/}"
	done
}
# shellcheck disable=SC2317
kill_chroot_procs() {
	local i pids
	for ((i = 0; i < 20; i++)); do
		pids=$(chroot_procs)
		[[ -n $pids ]] || return 0
		# shellcheck disable=SC2086 # one pid a word
		kill -KILL $pids 2>/dev/null || true
		sleep 0.5
	done
}
# remove_dir <dir>: delete a directory of this cache, never while something is mounted below it.
remove_dir() {
	[[ -e $1 ]] || return 0
	vm_umount_under "$1"
	[[ -z $(vm_mounts_under "$1") ]] || vm_die "mounts remain under $1"
	rm -rf --one-file-system "$1"
}
# On any exit: stop what runs in the build root, unmount it, keep the logs of a failure, and
# delete the scratch directory (the source tree and the build directory).
# shellcheck disable=SC2317
on_exit() {
	local rc=$1
	exec 2>&7
	kill_chroot_procs
	vm_umount_under "$scratch"
	if ((rc != 0)) && [[ -d $logs ]] && [[ -n $(ls -A "$logs") ]]; then
		rm -rf "$VENUS_CACHE/failed-logs"
		cp -a "$logs" "$VENUS_CACHE/failed-logs" &&
			vm_log "logs of the failed build: $VENUS_CACHE/failed-logs"
	fi
	[[ -n $(vm_mounts_under "$scratch") ]] || rm -rf --one-file-system "$scratch"
}
# shellcheck disable=SC2016 # $rc is vm_run_cleanup's exit status, expanded there
vm_on_exit 'on_exit "$rc"'

# In the build root, with a clean environment; in the background so that a signal reaches this
# script's traps at once (the cleanup then kills what is left in the root).
chroot_run() {
	chroot "$mnt" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive "$@" &
	wait "$!"
}

# mirror_reachable: the archive answers (curl or wget, else a TCP connection from bash itself:
# the fresh Debian 12 root has neither tool).
mirror_reachable() {
	local rest host port=80
	if command -v curl >/dev/null || command -v wget >/dev/null; then
		vm_mirror_reachable
		return
	fi
	[[ $VM_MIRROR != https://* ]] || port=443
	rest=${VM_MIRROR#*://}
	host=${rest%%/*}
	# shellcheck disable=SC2016 # the inner shell expands its arguments
	timeout 20 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$host" "$port" 2>/dev/null
}
need_network() {
	mirror_reachable || skip_or_fail "Debian archive $VM_MIRROR unreachable; cannot $*"
}

# apt_in_root <what> <apt-get args...>: apt-get in the build root, its output in apt.log; a
# failure with the archive unreachable is a skip.
apt_in_root() {
	local what=$1
	shift
	if ! chroot_run apt-get "$@" >>"$logs/apt.log" 2>&1; then
		tail -n 20 "$logs/apt.log" >&2
		mirror_reachable || skip_or_fail "Debian archive $VM_MIRROR unreachable; cannot $what"
		vm_die "apt-get $* failed ($what)"
	fi
}

# The host's resolver inside the root, bind-mounted (the rig's copy dates from its debootstrap).
bind_resolv_conf() {
	if [[ -f /etc/resolv.conf && -f $mnt/etc/resolv.conf && ! -L $mnt/etc/resolv.conf ]]; then
		mount --bind /etc/resolv.conf "$mnt/etc/resolv.conf"
	fi
}

# overlay_works: can an overlay with its upper layer in this cache be mounted here?
overlay_works() {
	local d=$scratch/probe rc=0
	mkdir -p "$d/lower" "$d/upper" "$d/work" "$d/mnt"
	mount -t overlay overlay -o "lowerdir=$d/lower,upperdir=$d/upper,workdir=$d/work" "$d/mnt" \
		2>"$scratch/probe.err" || rc=$?
	((rc != 0)) || umount "$d/mnt"
	rm -rf --one-file-system "$d"
	return "$rc"
}

remove_dir "$scratch"
mkdir -p "$scratch/build" "$mnt" "$logs"

# Stage the inputs first, and key what was staged: an edit during the build cannot make the key
# describe other sources than the ones compiled.
staged=$scratch/build/inputs
mkdir -p "$staged/vgalloc" "$staged/patches"
tar -C "$libdir" -cf - "${LIB_PATHS[@]}" | tar -C "$staged/vgalloc" -xf -
cp "$PATCHES/series" "$staged/patches/"
while read -r p; do
	cp "$PATCHES/$p" "$staged/patches/"
done < <(series_names "$PATCHES")
broot_key=$(build_root_key)
driver_key_material "$staged/vgalloc" "$staged/patches" "$broot_key" >"$staged/key.txt"
key=$(sha256_of <"$staged/key.txt")
out=$VENUS_CACHE/driver-${key:0:16}
if driver_ready "$out"; then # built by another run while this one waited
	finish "$out" warm
fi
vm_log "building the patched $DRIVER driver, key ${key:0:16} (load $load_start, $(nproc) cpus)"

# --- 1. the build root --------------------------------------------------------------------------

broot=$VENUS_CACHE/build-root-${broot_key:0:16}
want_mode=$root_mode
if [[ $want_mode != copy ]] && ! overlay_works; then
	[[ $want_mode == auto ]] ||
		vm_die "overlayfs cannot be mounted here: $(head -n1 "$scratch/probe.err")"
	vm_log "NOTE: overlayfs cannot be mounted with its upper layer in $VENUS_CACHE" \
		"($(head -n1 "$scratch/probe.err")); the build root is a copy of the rig instead"
	root_mode=copy
elif [[ $want_mode == auto ]]; then
	root_mode=overlay
fi

# mount_overlay <upper> <work> <lowers>: the root at $mnt.
mount_overlay() {
	mkdir -p "$1" "$2"
	mount -t overlay overlay -o "lowerdir=$3,upperdir=$1,workdir=$2" "$mnt"
}

# mode_dir: the cached tree of the mode: the overlay's layer or the copy's root.
mode_dir() {
	if [[ $root_mode == overlay ]]; then echo layer; else echo root; fi
}

build_root_ready() {
	[[ -f $broot/stamp.$root_mode && $(cat "$broot/stamp.$root_mode") == "$broot_key" &&
		-d $broot/$(mode_dir) ]]
}

# fall_back_to_copy <what failed>: in auto mode an overlay that cannot be mounted means a copy.
fall_back_to_copy() {
	[[ $want_mode == auto && $root_mode == overlay ]] ||
		vm_die "$1 (VGALLOC_VENUS_BUILD_ROOT=$want_mode)"
	vm_log "NOTE: $1; the build root is a copy of the rig instead"
	root_mode=copy
}

# mount_chroot: /proc, /sys, /dev in the root at $mnt; on exit, what runs there is killed first.
mount_chroot() {
	vm_mount_chroot "$mnt"
	vm_on_exit kill_chroot_procs
}

# make_build_root: the cached layer (or copy) with BUILD_PACKAGES and the deb-src line.
make_build_root() {
	local tmp=$broot.tmp d
	need_network "install the build dependencies"
	remove_dir "$tmp"
	mkdir -p "$tmp"
	if [[ $root_mode == overlay ]]; then
		vm_log "build root: overlay of $VM_ROOT, upper layer $broot/layer"
		mount_overlay "$tmp/layer" "$tmp/work" "$VM_ROOT" ||
			fall_back_to_copy "cannot mount an overlay over $VM_ROOT"
	fi
	if [[ $root_mode == copy ]]; then
		vm_log "build root: copying $VM_ROOT to $broot/root"
		mkdir -p "$tmp/root"
		cp -a --one-file-system "$VM_ROOT/." "$tmp/root/"
		rm -rf --one-file-system "$tmp/root$VM_KERNEL_DIR"
		mount --bind "$tmp/root" "$mnt"
	fi
	mount_chroot
	bind_resolv_conf
	printf '%s\n' "$SRC_LINE" >"$mnt/etc/apt/sources.list.d/vgalloc-mesa-src.list"
	vm_log "installing ${BUILD_PACKAGES[*]}"
	apt_in_root "update the build root's package lists" update
	apt_in_root "install the build dependencies" install -y --no-install-recommends \
		"${BUILD_PACKAGES[@]}"
	chroot_run apt-get clean >>"$logs/apt.log" 2>&1
	mkdir -p "$mnt/build"
	# shellcheck disable=SC2016 # ${Package} is dpkg-query's format, not the shell's
	chroot_run dpkg-query -W -f '${Package} ${Version}\n' "${BUILD_PACKAGES[@]}" binutils gcc-14 \
		mesa-vulkan-drivers | sort -u >"$tmp/versions.txt"
	vm_umount_under "$mnt"
	[[ -z $(vm_mounts_under "$mnt") ]] || vm_die "mounts remain under $mnt"
	rm -rf --one-file-system "$tmp/work"
	# Other build roots are for another rig or package list; only this run (the lock) uses them.
	for d in "$VENUS_CACHE"/build-root-*; do
		[[ -d $d && $d != "$broot" && $d != "$tmp" ]] || continue
		vm_log "removing the outdated ${d##*/}"
		remove_dir "$d"
	done
	# $broot may hold the other mode's tree for the same key: keep it, replace this mode's.
	mkdir -p "$broot"
	rm -f "$broot/stamp.$root_mode"
	remove_dir "$broot/$(mode_dir)"
	mv "$tmp/$(mode_dir)" "$tmp/versions.txt" "$broot/"
	rmdir "$tmp"
	echo "$broot_key" >"$broot/stamp.$root_mode"
}

# mount_build_root: for this build, the cached layer under a throwaway upper layer (overlay; the
# cached layer is only read), or the copy itself.
mount_build_root() {
	if [[ $root_mode == overlay ]]; then
		mount_overlay "$scratch/upper" "$scratch/work" "$broot/layer:$VM_ROOT"
	else
		mount --bind "$broot/root" "$mnt"
	fi
}

broot_how=cached
if ! build_root_ready; then
	broot_how=built
	make_build_root
fi
if ! mount_build_root; then
	fall_back_to_copy "cannot mount the build root's overlay"
	if ! build_root_ready; then
		broot_how=built
		make_build_root
	fi
	mount_build_root || vm_die "cannot mount $broot/root"
fi
mount_chroot
mkdir -p "$mnt/build"
mount --bind "$scratch/build" "$mnt/build"
vm_log "build root: $root_mode ($broot_how) ${broot##*/}"
stage_done build-root

# --- 2. the source ------------------------------------------------------------------------------

src_cache=$VENUS_CACHE/mesa-source-${MESA_VERSION//:/_}
dl=$scratch/build/dl
mkdir -p "$dl"
if [[ -f $src_cache/SHA256SUMS ]]; then
	cp "$src_cache"/* "$dl/"
	(cd "$dl" && sha256sum --quiet -c SHA256SUMS) ||
		vm_die "the cached source in $src_cache does not match its SHA256SUMS"
	src_how=cached
else
	need_network "download the Mesa source"
	bind_resolv_conf
	chroot_run chown _apt /build/dl 2>/dev/null || true
	vm_log "apt-get source --download-only mesa=$MESA_VERSION"
	fetch_source() {
		# shellcheck disable=SC2016 # the inner shell expands its arguments
		chroot_run sh -c 'cd /build/dl && exec apt-get source --download-only "$1"' _ \
			"mesa=$MESA_VERSION" >>"$logs/apt.log" 2>&1
	}
	# The lists in the build root may predate the last point release: refresh once and retry.
	if ! fetch_source; then
		apt_in_root "refresh the package lists" update
		if ! fetch_source; then
			tail -n 20 "$logs/apt.log" >&2
			mirror_reachable || skip_or_fail "Debian archive $VM_MIRROR unreachable"
			vm_die "apt-get source mesa=$MESA_VERSION failed (no longer in $VM_SUITE?)"
		fi
	fi
	dsc=mesa_${MESA_VERSION#*:}.dsc
	[[ -f $dl/$dsc ]] || vm_die "apt-get source wrote no $dsc"
	(cd "$dl" && find . -maxdepth 1 -type f -printf '%f\0' | LC_ALL=C sort -z |
		xargs -0 sha256sum) >"$scratch/build/SHA256SUMS"
	mv "$scratch/build/SHA256SUMS" "$dl/"
	remove_dir "$src_cache.tmp"
	mkdir -p "$src_cache.tmp"
	cp "$dl"/* "$src_cache.tmp/"
	for d in "$VENUS_CACHE"/mesa-source-*; do
		[[ -d $d && $d != "$src_cache.tmp" ]] || continue
		remove_dir "$d"
	done
	mv "$src_cache.tmp" "$src_cache"
	src_how=downloaded
fi
dsc=mesa_${MESA_VERSION#*:}.dsc
stage_done source

# --- 3. unpack, the series, the subproject ------------------------------------------------------

# dpkg-source checks the tarballs against the .dsc and applies Debian's own patches.
chroot_run dpkg-source -x "/build/dl/$dsc" /build/src >"$logs/dpkg-source.log" 2>&1 ||
	{
		tail -n 20 "$logs/dpkg-source.log" >&2
		vm_die "dpkg-source -x $dsc failed"
	}
src_version=$(chroot_run dpkg-parsechangelog -l /build/src/debian/changelog -S Version)
[[ $src_version == "$MESA_VERSION" ]] ||
	vm_die "the source is $src_version, not $MESA_VERSION"
# As debian/rules does before configuring: Mesa reports this string as its version.
printf '%s\n' "$src_version" >"$scratch/build/src/VERSION"
n=0
while read -r p; do
	if ! chroot_run patch -d /build/src -p1 --fuzz=0 --no-backup-if-mismatch -s \
		-i "/build/inputs/patches/$p" >>"$logs/series.log" 2>&1; then
		cat "$logs/series.log" >&2
		vm_die "patch $p does not apply"
	fi
	n=$((n + 1))
done < <(series_names "$staged/patches")
rm -rf "$scratch/build/src/subprojects/vgalloc"
cp -a "$staged/vgalloc" "$scratch/build/src/subprojects/vgalloc"
vm_log "source $src_how, $n patches applied, subprojects/vgalloc copied"
stage_done unpack

# --- 4. configure and build ---------------------------------------------------------------------

flags=()
for f in CFLAGS CXXFLAGS CPPFLAGS LDFLAGS; do
	v=$(chroot_run sh -c 'cd /build/src && exec env "$@"' _ "${BUILDFLAGS_ENV[@]}" \
		dpkg-buildflags --get "$f")
	flags+=("$f=$v")
done
if ! chroot_run sh -c 'cd /build/src && exec env "$@"' _ "${flags[@]}" \
	meson setup /build/b /build/src "${DH_MESON_ARGS[@]}" "${MESON_OPTIONS[@]}" \
	>"$logs/meson-setup.log" 2>&1; then
	tail -n 30 "$logs/meson-setup.log" >&2
	vm_die "meson setup failed"
fi
# With the feature on auto, a subproject that failed to configure would silently give the stock
# driver.
if ! grep -q '^Executing subproject vgalloc' "$logs/meson-setup.log" ||
	! grep -q 'Dependency vgalloc found: YES' "$logs/meson-setup.log"; then
	vm_die "meson setup did not take libvgalloc from subprojects/vgalloc (see meson-setup.log)"
fi
stage_done setup

vm_log "ninja -j$jobs $TARGET"
if ! chroot_run ninja -C /build/b -j"$jobs" "$TARGET" >"$logs/ninja.log" 2>&1; then
	{ grep -B2 -A12 -m5 'error' "$logs/ninja.log" || tail -n 40 "$logs/ninja.log"; } |
		head -n 100 >&2
	vm_die "ninja failed"
fi
warnings=$(grep -c 'warning:' "$logs/ninja.log" || true)
stage_done ninja

# --- 5. checks and the output -------------------------------------------------------------------

tmp_out=$out.tmp
remove_dir "$tmp_out"
mkdir -p "$tmp_out"
so=/build/out/$SO
mkdir -p "$scratch/build/out"
cp "$scratch/build/b/$TARGET" "$scratch/build/out/$SO"
# The library's symbols in the unstripped link: present (it is linked in) and all local.
local_vgalloc=$(chroot_run nm "$so" | awk '$3 ~ /^vgalloc_/ && $2 ~ /^[a-z]$/' | wc -l)
# As dh_strip: the debug info beside it, the driver stripped.
chroot_run objcopy --only-keep-debug --compress-debug-sections "$so" "$so.debug"
chroot_run strip --remove-section=.comment --remove-section=.note --strip-unneeded "$so"
chroot_run objcopy --add-gnu-debuglink="$so.debug" "$so"

dynsyms() {
	chroot_run nm -D --defined-only "$1" | awk '{ print $2, $3 }' | LC_ALL=C sort
}
needed() {
	chroot_run readelf -d "$1" | awk '/\(NEEDED\)/ { gsub(/[][]/, "", $5); print $5 }'
}
stock_syms=$(dynsyms "$STOCK_SO")
patched_syms=$(dynsyms "$so")
exported_vgalloc=$(chroot_run nm -D "$so" | grep -c vgalloc || true)
stock_needed=$(needed "$STOCK_SO" | tr '\n' ' ')
patched_needed=$(needed "$so" | tr '\n' ' ')
check=PASS
problems=()
[[ -n $stock_syms ]] || problems+=("stock $STOCK_SO exports nothing (is it in the rig?)")
[[ $patched_syms == "$stock_syms" ]] || problems+=("exported symbols differ from stock's")
((exported_vgalloc == 0)) || problems+=("$exported_vgalloc vgalloc symbols in the dynamic table")
((local_vgalloc > 0)) || problems+=("no vgalloc_ symbol in the link: the library is not in it")
[[ $patched_needed == "$stock_needed" ]] || problems+=("NEEDED differs from stock's")
((${#problems[@]} == 0)) || check="FAIL: $(printf '%s; ' "${problems[@]}")"
# Debian's configuration shows in strings stock compiled in: the version and drirc paths.
conf_strings() {
	local v=${MESA_VERSION#*:}
	v=${v%%-*}
	# A driver may compile in none of them (gfxstream reads no drirc): no match is no error.
	{ grep -aoE "/usr(/local)?/share/drirc\\.d|/etc/drirc|${v//./\\.}[-+.~a-z0-9]*" "$1" || true; } |
		LC_ALL=C sort -u | tr '\n' ' '
}
stock_strings=$(conf_strings "$mnt$STOCK_SO")
patched_strings=$(conf_strings "$mnt$so")
[[ $stock_strings == "$patched_strings" ]] ||
	vm_log "WARNING: compiled-in version/paths differ: stock [$stock_strings] patched [$patched_strings]"

api=$(sed -n 's/.*"api_version"[[:space:]]*:[[:space:]]*"\([0-9.]*\)".*/\1/p' "$mnt$STOCK_JSON")
[[ -n $api ]] || vm_die "no api_version in $STOCK_JSON"
cp "$scratch/build/out/$SO" "$scratch/build/out/$SO.debug" \
	"$tmp_out/"
printf '{\n    "ICD": {\n        "api_version": "%s",\n        "library_path": "%s"\n    },\n    "file_format_version": "1.0.0"\n}\n' \
	"$api" "$ICD_LIBRARY" >"$tmp_out/$ICD_NAME"
cp "$logs/meson-setup.log" "$logs/ninja.log" "$tmp_out/"
cp "$staged/key.txt" "$tmp_out/key.txt"
stage_done checks

# shellcheck disable=SC2016 # dpkg-query's format
tools=$(chroot_run dpkg-query -W -f '${Package} ${Version}\n' gcc-14 meson ninja-build binutils \
	dpkg-dev libdrm-dev | tr '\n' ',' | sed 's/,$//; s/,/, /g')
# shellcheck disable=SC2016 # dpkg-query's format
rig_mesa=$(chroot_run dpkg-query -W -f '${Version}' mesa-vulkan-drivers 2>/dev/null || echo '?')
[[ $rig_mesa == "$MESA_VERSION" ]] ||
	vm_log "WARNING: the rig's stock driver is $rig_mesa, the patched one Mesa $MESA_VERSION"
{
	echo "# vgalloc patched $DRIVER driver: Mesa $MESA_VERSION + ${PATCHES#"$repo"/}"
	echo "key $key"
	echo "driver-dir $out"
	echo "mesa $MESA_VERSION (source $src_how, ${src_cache##*/})"
	echo "series $n: $(series_names "$staged/patches" | tr '\n' ' ')"
	echo "library vgalloc $(awk '/^#define VGALLOC_VERSION_(MAJOR|MINOR|PATCH)[ \t]/ { v = v (v == "" ? "" : ".") $3 } END { print v }' \
		"$staged/vgalloc/include/vgalloc/vgalloc_version.h") (subproject, static)"
	echo "build-root $broot_key ($root_mode, $broot_how)"
	echo "rig $(sha256_of <"$VM_CACHE/versions.txt") (versions.txt), stock driver $rig_mesa"
	echo "tools $tools"
	echo "meson-args ${DH_MESON_ARGS[*]} ${MESON_OPTIONS[*]}"
	printf 'flags %s\n' "${flags[@]}"
	echo "meson-setup $(grep -m1 'Dependency vgalloc found' "$logs/meson-setup.log")"
	echo "warnings $warnings"
	echo "size $SO $(stat -c %s "$tmp_out/$SO") stock $(stat -c %s "$mnt$STOCK_SO")"
	echo "sha256 $SO $(sha256_of <"$tmp_out/$SO")"
	echo "icd $ICD_NAME api_version $api library_path $ICD_LIBRARY"
	echo "compiled-in stock [$stock_strings] patched [$patched_strings]"
	echo "exported-stock $(tr '\n' ',' <<<"$stock_syms" | sed 's/,$//; s/,/, /g')"
	echo "exported-patched $(tr '\n' ',' <<<"$patched_syms" | sed 's/,$//; s/,/, /g')"
	echo "needed-stock $stock_needed"
	echo "needed-patched $patched_needed"
	echo "vgalloc-symbols exported $exported_vgalloc, local $local_vgalloc"
	echo "symbol-check $check"
	echo "built $(date -u +%FT%TZ), $(nproc) cpus, ninja -j$jobs, load $load_start at start," \
		"$(cut -d' ' -f1-3 /proc/loadavg) at end"
	printf 'time %s\n' "${stage_lines[@]}"
	echo "time total $(minutes) min (cold)"
} >"$tmp_out/build.txt"

if [[ $check != PASS ]]; then
	cp "$tmp_out/build.txt" "$logs/"
	cat "$tmp_out/build.txt" >&2
	vm_die "symbol check: ${check#FAIL: }"
fi
remove_dir "$out"
mv "$tmp_out" "$out"

# Keep the newest few drivers (other trees and commits of the library have their own keys).
find "$VENUS_CACHE" -maxdepth 1 -name 'driver-*' -type d ! -name '*.tmp' -printf '%T@ %p\n' |
	sort -rn | tail -n +$((KEEP_DRIVERS + 1)) | cut -d' ' -f2- |
	while read -r d; do
		[[ $d != "$out" ]] || continue
		vm_log "removing the old ${d##*/}"
		rm -rf --one-file-system "$d"
	done
printf '%s\n' "${stage_lines[@]}" | sed "s/^/$DRIVER: time /" >&2
finish "$out" cold
