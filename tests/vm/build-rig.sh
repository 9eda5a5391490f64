#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build, once and cached, the host side of the VM tier: a Debian 13 (trixie) chroot holding QEMU,
# virglrenderer (Venus), virgl-server and lavapipe, plus the unpacked trixie kernel whose
# virtio-gpu modules the guest loads. Only debootstrap is ever installed on the host itself.
#
# Usage: tests/vm/build-rig.sh        (cache: $VGALLOC_VM_CACHE, default /var/cache/vgalloc-vm)
# Exit: 0 ready (versions in $CACHE/versions.txt), 77 cannot be built here (not root, no network
# to the Debian archive), 1 anything else.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/vm/lib.sh
source "$here/lib.sh"

# What VMRIG.md found necessary: QEMU 10 with the OpenGL and SDL modules, virglrenderer with Venus,
# virgl-server (holds virgl_render_server; without it every Venus blob fails on the host), Mesa's
# lavapipe and EGL/GL for the offscreen SDL display, busybox-static for the guest, kmod for depmod;
# gcc, libc6-dev and linux-libc-dev compile the struct-layout check against trixie's UAPI headers;
# vulkan-validationlayers lets virglrenderer's Venus renderer run VK_LAYER_KHRONOS_validation on
# what guests send (VKR_DEBUG=validate in QEMU's environment, tests/venus/run-venus.sh).
VM_PACKAGES=(qemu-system-x86 qemu-system-modules-opengl qemu-system-gui libvirglrenderer1
	virgl-server mesa-vulkan-drivers libegl1 libegl-mesa0 libgl1-mesa-dri busybox-static kmod
	gcc libc6-dev linux-libc-dev vulkan-validationlayers)

stamp_debootstrap=$VM_CACHE/stamp.debootstrap
stamp_packages=$VM_CACHE/stamp.packages
stamp_kernel=$VM_CACHE/stamp.kernel
versions=$VM_CACHE/versions.txt

rig_complete() {
	[[ -f $stamp_debootstrap && -f $stamp_packages && -f $stamp_kernel && -f $versions ]] &&
		[[ $(cat "$stamp_packages") == "${VM_PACKAGES[*]}" ]] &&
		[[ -f $VM_ROOT$VM_KERNEL_DIR/boot/vmlinuz-$(cat "$stamp_kernel") ]]
}

[[ $(id -u) -eq 0 ]] || vm_skip "the VM rig needs root (debootstrap, chroot, mount)"

# The fast path needs no namespace and no network.
if rig_complete; then
	vm_log "rig cached in $VM_CACHE"
	cat "$versions"
	exit 0
fi

vm_enter_namespace "$@"
vm_install_traps

mkdir -p "$VM_CACHE"
exec 9>"$VM_CACHE/.lock"
flock -w 1800 9 || vm_die "timed out waiting for $VM_CACHE/.lock"
if rig_complete; then # another run finished it while we waited
	cat "$versions"
	exit 0
fi

chroot_run() {
	chroot "$VM_ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive "$@"
}

# 1. debootstrap, from bookworm, on the host (the only host package this tier installs).
if ! command -v debootstrap >/dev/null; then
	vm_log "installing debootstrap on the host"
	if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
		--no-install-recommends debootstrap; }; then
		vm_mirror_reachable || vm_skip "cannot install debootstrap: Debian archive unreachable"
		vm_die "apt-get install debootstrap failed"
	fi
fi

vm_mirror_reachable || vm_skip "Debian archive $VM_MIRROR unreachable; cannot build the rig"

# A stamp without its tree (someone removed root/) means starting over.
if [[ -f $stamp_debootstrap && ! -x $VM_ROOT/usr/bin/apt-get ]]; then
	rm -f "$stamp_debootstrap"
fi

# 2. A minbase trixie root; the stamp is written only after debootstrap succeeded, so an
# interrupted one is thrown away and redone.
if [[ ! -f $stamp_debootstrap ]]; then
	if [[ -e $VM_ROOT ]]; then
		vm_log "removing incomplete $VM_ROOT"
		vm_umount_under "$VM_ROOT"
		[[ -z $(vm_mounts_under "$VM_ROOT") ]] || vm_die "mounts remain under $VM_ROOT"
		rm -rf --one-file-system "$VM_ROOT"
	fi
	rm -f "$stamp_packages" "$stamp_kernel" "$versions"
	vm_log "debootstrap $VM_SUITE into $VM_ROOT"
	# debootstrap mounts /proc and /sys in the target itself; in this namespace a failure cannot
	# leave them mounted on the host.
	vm_on_exit vm_umount_under "'$VM_ROOT'"
	debootstrap --variant=minbase "$VM_SUITE" "$VM_ROOT" "$VM_MIRROR" ||
		vm_die "debootstrap failed"
	vm_umount_under "$VM_ROOT"
	debootstrap --version 2>/dev/null | head -n1 >"$stamp_debootstrap" || true
	[[ -s $stamp_debootstrap ]] || echo "done" >"$stamp_debootstrap"
fi

vm_mount_chroot "$VM_ROOT"
# Nothing in the chroot may start services.
printf '#!/bin/sh\nexit 101\n' >"$VM_ROOT/usr/sbin/policy-rc.d"
chmod 755 "$VM_ROOT/usr/sbin/policy-rc.d"

# 3. The packages, without recommends.
if [[ ! -f $stamp_packages || $(cat "$stamp_packages") != "${VM_PACKAGES[*]}" ]]; then
	vm_log "installing ${VM_PACKAGES[*]}"
	chroot_run apt-get update || vm_die "apt-get update in the chroot failed"
	chroot_run apt-get install -y --no-install-recommends "${VM_PACKAGES[@]}" ||
		vm_die "apt-get install in the chroot failed"
	chroot_run apt-get clean
	echo "${VM_PACKAGES[*]}" >"$stamp_packages"
	rm -f "$stamp_kernel"
fi

# 4. The guest kernel: the 6.12 image the linux-image-amd64 metapackage points at, unpacked (no
# postinst) and depmod'ed, since the deb ships no modules.dep.
if [[ ! -f $stamp_kernel ]]; then
	kpkg=$(chroot_run apt-cache depends linux-image-amd64 |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-6\.12\./ { print $2; exit }')
	[[ -n $kpkg ]] || vm_die "no linux-image-6.12.* package behind linux-image-amd64"
	vm_log "unpacking $kpkg"
	rm -rf --one-file-system "$VM_ROOT$VM_KERNEL_DIR" "$VM_ROOT/var/tmp/vgalloc-kernel"
	mkdir -p "$VM_ROOT$VM_KERNEL_DIR" "$VM_ROOT/var/tmp/vgalloc-kernel"
	chroot_run sh -c "cd /var/tmp/vgalloc-kernel && apt-get download '$kpkg'" ||
		vm_die "apt-get download $kpkg failed"
	deb=$(find "$VM_ROOT/var/tmp/vgalloc-kernel" -name "${kpkg}_*.deb" | head -n1)
	[[ -n $deb ]] || vm_die "downloaded $kpkg not found"
	chroot_run dpkg-deb -x "${deb#"$VM_ROOT"}" "$VM_KERNEL_DIR"
	kver=$(find "$VM_ROOT$VM_KERNEL_DIR/boot" -name 'vmlinuz-*' -printf '%f\n' | head -n1)
	kver=${kver#vmlinuz-}
	# trixie ships modules under usr/lib/modules (merged /usr); a lib -> usr/lib link lets depmod
	# -b and the initramfs packer find them whichever directory kmod was built for.
	if [[ ! -e $VM_ROOT$VM_KERNEL_DIR/lib && -d $VM_ROOT$VM_KERNEL_DIR/usr/lib/modules ]]; then
		ln -s usr/lib "$VM_ROOT$VM_KERNEL_DIR/lib"
	fi
	[[ -n $kver && -d $VM_ROOT$VM_KERNEL_DIR/lib/modules/$kver ]] ||
		vm_die "unexpected layout in $kpkg"
	chroot_run depmod -b "$VM_KERNEL_DIR" "$kver"
	[[ -s $VM_ROOT$VM_KERNEL_DIR/lib/modules/$kver/modules.dep ]] ||
		vm_die "depmod wrote no modules.dep"
	echo "$kpkg $(basename "$deb" .deb | cut -d_ -f2)" >"$VM_CACHE/kernel-package.txt"
	rm -rf --one-file-system "$VM_ROOT/var/tmp/vgalloc-kernel"
	echo "$kver" >"$stamp_kernel"
fi

# 5. What the rig is made of, printed by every run.
{
	echo "# vgalloc VM rig ($VM_SUITE chroot in $VM_ROOT)"
	echo "debian_version $(cat "$VM_ROOT/etc/debian_version")"
	echo "host-debootstrap $(dpkg-query -W -f '${Version}' debootstrap 2>/dev/null || echo '?')"
	# shellcheck disable=SC2016 # ${Package} is dpkg-query's format, not the shell's
	{ chroot_run dpkg-query -W -f '${Package} ${Version}\n' "${VM_PACKAGES[@]}" \
		qemu-system-data libsdl2-2.0-0 libepoxy0 mesa-libgallium 2>/dev/null || true; } |
		sort -u
	echo "guest-kernel $(cat "$VM_CACHE/kernel-package.txt") ($(cat "$stamp_kernel"))"
} >"$versions.tmp"
mv "$versions.tmp" "$versions"
cat "$versions"
vm_log "rig ready in $VM_CACHE"
