#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build, once and cached, the root file system the Venus tier's guest boots over 9p: a copy of the
# VM rig's trixie chroot (which already holds the Vulkan loader, Mesa's stock libvulkan_virtio.so
# and vulkan-validationlayers) plus what the guest programs are compiled against and need at run
# time. The rig itself is never changed here; this root is keyed by its package list and the rig's
# versions, so a rebuilt rig or a changed list makes a new copy.
#
# Usage: tests/venus/build-guest-root.sh     (cache: $VGALLOC_VENUS_CACHE, default
#        /var/cache/vgalloc-venus; the root is $CACHE/guest-root)
# Exit: 0 ready, 77 cannot be built here (the rig cannot), 1 anything else.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/vm/lib.sh
source "$here/../vm/lib.sh"

VENUS_CACHE=${VGALLOC_VENUS_CACHE:-/var/cache/vgalloc-venus}
GUEST_ROOT=$VENUS_CACHE/guest-root

# libvulkan-dev: headers and libvulkan.so for compiling the guest programs in this root;
# libvkfft-dev (header only) with glslang-dev and spirv-tools: vn-fft, which compiles its shaders
# at run time through glslang (Debian ships static C++ archives: g++ links them); vulkan-tools:
# vulkaninfo, printed once per run beside vn-info.
# libvirglrenderer-dev: the header of the rig's virglrenderer, for host/static-host.c (built here,
# run in the rig's QEMU).
GUEST_PACKAGES=(libvulkan-dev libvkfft-dev glslang-dev spirv-tools g++ vulkan-tools
	libvirglrenderer-dev)

[[ $(id -u) -eq 0 ]] || vm_skip "the guest root needs root (chroot, mount)"

t_start=$(date +%s)
minutes() {
	awk -v s="$(($(date +%s) - t_start))" 'BEGIN { printf "%.1f", s / 60 }'
}

# The rig first: its own fast path prints its versions.
rc=0
bash "$here/../vm/build-rig.sh" >/dev/null || rc=$?
((rc == 0)) || exit "$rc"

key() {
	{
		echo "packages ${GUEST_PACKAGES[*]}"
		cat "$VM_CACHE/versions.txt"
	} | sha256sum | cut -d' ' -f1
}
stamp=$VENUS_CACHE/stamp.guest-root
root_complete() {
	[[ -f $stamp && $(cat "$stamp") == "$(key)" && -x $GUEST_ROOT/usr/bin/gcc ]]
}

if root_complete; then
	vm_log "guest root cached in $GUEST_ROOT (warm: $(minutes) min)"
	exit 0
fi

vm_enter_namespace "$@"
vm_install_traps

mkdir -p "$VENUS_CACHE"
exec 8>"$VENUS_CACHE/.lock"
flock -w 1800 8 || vm_die "timed out waiting for $VENUS_CACHE/.lock"
if root_complete; then
	vm_log "guest root cached in $GUEST_ROOT (warm: $(minutes) min)"
	exit 0
fi

# Copy the rig while holding its lock shared, so no rig rebuild changes it under the copy.
exec 9>>"$VM_CACHE/.lock"
flock -s -w 1800 9 || vm_die "timed out waiting for the rig lock"
rm -f "$stamp"
tmp=$VENUS_CACHE/guest-root.tmp
for d in "$tmp" "$GUEST_ROOT"; do
	if [[ -e $d ]]; then
		vm_umount_under "$d"
		[[ -z $(vm_mounts_under "$d") ]] || vm_die "mounts remain under $d"
		rm -rf --one-file-system "$d"
	fi
done
vm_log "copying the rig's root to $tmp"
cp -a --one-file-system "$VM_ROOT/." "$tmp/"
flock -u 9
# The guest boots the unpacked kernel from the rig, not from here.
rm -rf --one-file-system "$tmp$VM_KERNEL_DIR" "$tmp/mnt/vgalloc"

vm_mount_chroot "$tmp"
chroot_run() {
	chroot "$tmp" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive "$@"
}
vm_log "installing ${GUEST_PACKAGES[*]}"
if ! { chroot_run apt-get update && chroot_run apt-get install -y --no-install-recommends \
	"${GUEST_PACKAGES[@]}"; }; then
	vm_mirror_reachable || vm_skip "Debian archive $VM_MIRROR unreachable"
	vm_die "apt-get install in the guest root failed"
fi
chroot_run apt-get clean
# Mount points the guest's /init uses: the tests share and a private tmpfs.
mkdir -p "$tmp/mnt/vgalloc-venus"
vm_umount_under "$tmp"
[[ -z $(vm_mounts_under "$tmp") ]] || vm_die "mounts remain under $tmp"
mv "$tmp" "$GUEST_ROOT"
key >"$stamp"
# shellcheck disable=SC2016 # ${Package} is dpkg-query's format
chroot "$GUEST_ROOT" dpkg-query -W -f '${Package} ${Version}\n' "${GUEST_PACKAGES[@]}" \
	libvulkan1 mesa-vulkan-drivers vulkan-validationlayers >"$VENUS_CACHE/guest-versions.txt"
cat "$VENUS_CACHE/guest-versions.txt"
vm_log "guest root ready in $GUEST_ROOT: $(du -sh --one-file-system "$GUEST_ROOT" | cut -f1)," \
	"cold: $(minutes) min"
