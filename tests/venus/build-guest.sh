#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build the Venus tier's guest programs inside the guest root (trixie's gcc, libvulkan-dev,
# libvkfft-dev, glslang), so they link against exactly the loader and libraries the guest runs.
#
# Usage: tests/venus/build-guest.sh OUT_DIR     (builds the guest root first if needed)
# Output: OUT_DIR/bin/{vn-info,vn-churn,vn-check,vn-align,vn-capset,vn-fft} and
# OUT_DIR/lib/libioctl-count.so; vn-fft only when VkFFT builds (its absence is reported, not fatal);
# OUT_DIR/host/libvgalloc-static-host.so, the QEMU-side preload of the guest-first tier (the guest
# root is a copy of the rig with libvirglrenderer-dev added, so it links against the rig's
# virglrenderer).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/vm/lib.sh
source "$here/../vm/lib.sh"

out=${1:?usage: build-guest.sh OUT_DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
VENUS_CACHE=${VGALLOC_VENUS_CACHE:-/var/cache/vgalloc-venus}
GUEST_ROOT=$VENUS_CACHE/guest-root

[[ $(id -u) -eq 0 ]] || vm_skip "building in the guest root needs root (chroot, mount)"
vm_enter_namespace "$@"
vm_install_traps

rc=0
bash "$here/build-guest-root.sh" || rc=$?
((rc == 0)) || exit "$rc"

# Read the root shared: a rebuild of it must wait until this compile is done.
exec 8>>"$VENUS_CACHE/.lock"
flock -s -w 1800 8 || vm_die "timed out waiting for the guest root lock"

stage=$(mktemp -d /tmp/vgalloc-venus-build.XXXXXX)
vm_on_exit rm -rf --one-file-system "'$stage'"
mkdir -p "$stage/src" "$stage/out/bin" "$stage/out/lib" "$stage/out/host"
cp "$here"/guest/*.c "$here"/guest/*.h "$here"/host/*.c "$stage/src/"

vm_safe_dir "$GUEST_ROOT/mnt/vgalloc-venus" || vm_die "$GUEST_ROOT/mnt/vgalloc-venus is missing"
vm_mount_chroot "$GUEST_ROOT"
vm_on_exit vm_umount_under "'$GUEST_ROOT/mnt/vgalloc-venus'"
mount --bind "$stage" "$GUEST_ROOT/mnt/vgalloc-venus"

in_root() {
	chroot "$GUEST_ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 HOME=/tmp \
		sh -c "cd /mnt/vgalloc-venus/src && $*"
}

warn="-Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow -Wvla -Wundef -Werror"
cflags="-std=c11 -O2 -g $warn"

in_root "gcc $cflags -fPIC -shared -fvisibility=hidden -o ../out/lib/libioctl-count.so \
	ioctl-count.c -ldl"
echo "built lib/libioctl-count.so"
for prog in vn-info vn-churn vn-check vn-align; do
	in_root "gcc $cflags -o ../out/bin/$prog $prog.c vn-common.c -lvulkan -ldl -lm -lpthread"
	echo "built bin/$prog"
done
# No Vulkan: the capset comes straight from the kernel (the guest root's linux-libc-dev uapi).
in_root "gcc $cflags -o ../out/bin/vn-capset vn-capset.c"
echo "built bin/vn-capset"
in_root "gcc $cflags -fPIC -shared -fvisibility=hidden -o ../out/host/libvgalloc-static-host.so \
	static-host.c -ldl -lpthread"
echo "built host/libvgalloc-static-host.so"

# VkFFT is a header-only C99 library whose Vulkan backend compiles GLSL through glslang's C
# interface; Debian ships glslang and SPIRV-Tools as static C++ archives, hence g++ to link.
glslang_libs="-lglslang -lMachineIndependent -lOSDependent -lGenericCodeGen \
	-lglslang-default-resource-limits -lSPIRV -lSPIRV-Tools-opt -lSPIRV-Tools"
# -Wno-maybe-uninitialized: VkFFT's own code, inlined into ours, trips it (not ours to fix).
if in_root "gcc $cflags -Wno-maybe-uninitialized -DVKFFT_BACKEND=0 -c -o ../out/vn-fft.o vn-fft.c &&
	gcc $cflags -c -o ../out/vn-common.o vn-common.c &&
	g++ -o ../out/bin/vn-fft ../out/vn-fft.o ../out/vn-common.o $glslang_libs \
		-lvulkan -ldl -lm -lpthread" >"$stage/out/vn-fft.log" 2>&1; then
	echo "built bin/vn-fft"
else
	echo "vn-fft did not build (VkFFT or glslang):"
	tail -n 20 "$stage/out/vn-fft.log"
fi
rm -f "$stage/out"/*.o

rm -rf --one-file-system "${out:?}/bin" "${out:?}/lib" "${out:?}/host"
cp -a "$stage/out/bin" "$stage/out/lib" "$stage/out/host" "$out/"
[[ -f $stage/out/vn-fft.log ]] && cp "$stage/out/vn-fft.log" "$out/"
echo "guest programs in $out"
