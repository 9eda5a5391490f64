#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The VM tier: build the rig and the guest programs, pack an initramfs, boot the Debian 13 kernel
# under QEMU (TCG) with a Venus virtio-gpu device inside the trixie chroot, and judge the results
# the guest prints on its serial console. Everything runs in a private mount namespace.
#
# Usage: tests/vm/run-vm.sh [BUILD_DIR]      (default: <repo>/build; logs land there)
# Environment:
#   VGALLOC_VM_CACHE         rig cache (default /var/cache/vgalloc-vm)
#   VGALLOC_VM_EXTRA_BINS    extra static test programs for /tests (space-separated paths)
#   VGALLOC_VM_REQUIRED=1    a tier that cannot run fails (exit 1) instead of skipping (77)
#   VGALLOC_VM_ATTEMPTS      boots to try when one hangs (default 3)
#   VGALLOC_VM_BOOT_TIMEOUT  seconds per boot (default and maximum 120)
#   VGALLOC_VM_PROG_TIMEOUT  seconds per in-guest program (default 100)
#   VGALLOC_VM_ACCEL, VGALLOC_VM_SMP  QEMU -accel and -smp (default tcg,thread=single and 2;
#                            VMRIG.md's thread=multi hangs ~10x more often, see README.md)
# Exit: 0 a boot finished and every program printed SUMMARY failures=0 and exited 0; 77 skipped;
# 1 otherwise (failures, or every attempt hung).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tests/vm/lib.sh
source "$here/lib.sh"

build=${1:-${VGALLOC_VM_BUILD:-$repo/build}}
attempts=${VGALLOC_VM_ATTEMPTS:-3}
boot_timeout=${VGALLOC_VM_BOOT_TIMEOUT:-120}
prog_timeout=${VGALLOC_VM_PROG_TIMEOUT:-100}
# Single-threaded TCG: with thread=multi a blob unmap wedged QEMU's control queue in ~0.8% of
# map/unmap cycles (half of all 100-cycle boots); with thread=single in ~0.06% (README.md).
accel=${VGALLOC_VM_ACCEL:-tcg,thread=single}
smp=${VGALLOC_VM_SMP:-2}
((boot_timeout <= 120)) || boot_timeout=120

# A tier that cannot run is a skip for developers and a failure where it is required (CI).
skip_or_fail() {
	if [[ ${VGALLOC_VM_REQUIRED:-0} == 1 ]]; then
		vm_log "FAIL: the VM tier is required (VGALLOC_VM_REQUIRED=1) but cannot run: $*"
		exit 1
	fi
	vm_skip "$*"
}

[[ $(id -u) -eq 0 ]] || skip_or_fail "needs root (chroot, mount namespaces)"
command -v "${CC:-gcc}" >/dev/null || skip_or_fail "no C compiler for the guest programs"

mkdir -p "$build"
build=$(cd "$build" && pwd)
vm_enter_namespace "$@"
vm_install_traps

t_start=$(date +%s)

# 1. The rig (cached after the first run).
rc=0
bash "$here/build-rig.sh" || rc=$?
if ((rc == VM_SKIP)); then
	skip_or_fail "the rig cannot be built here (see above)"
elif ((rc != 0)); then
	vm_die "build-rig.sh failed (exit $rc)"
fi
kver=$(cat "$VM_CACHE/stamp.kernel")
moddir=$VM_ROOT$VM_KERNEL_DIR/lib/modules/$kver
vmlinuz=$VM_KERNEL_DIR/boot/vmlinuz-$kver # as seen inside the chroot
busybox=$VM_ROOT/usr/bin/busybox
[[ -x $busybox ]] || busybox=$VM_ROOT/bin/busybox
[[ -x $busybox ]] || vm_die "busybox-static missing from the rig"

# 2. The guest programs: the UAPI probe (libc only), the library flows and vgalloc-info (static
# against this build tree's libraries).
guest_bin=$build/vm-guest
guest_lib=$build/vm-guest-lib
bash "$here/build-guest.sh" "$guest_bin"
bash "$here/build-lib-guest.sh" "$build" "$guest_lib"

# 3. The initramfs: busybox, /init, the virtio-gpu modules in load order, /tests.
stage=$build/vm-initramfs
rm -rf --one-file-system "$stage"
mkdir -p "$stage"/{bin,modules,tests,dev,proc,sys,tmp}
cp "$busybox" "$stage/bin/busybox"
cp "$here/init" "$stage/init"
chmod 755 "$stage/init"

# Load order from modules.dep: a module's dependencies are listed nearest-first, so loading them
# in reverse order, then the module, satisfies every symbol (drm, drm_kms_helper, drm_shmem_helper,
# virtio_dma_buf, virtio-gpu on 6.12).
module_order() {
	awk -v target="$1" -F': *' '
		{ dep[$1] = $2 }
		function visit(m,   n, i, parts) {
			if (m in seen) return
			seen[m] = 1
			n = split(dep[m], parts, " ")
			for (i = n; i >= 1; i--) visit(parts[i])
			print m
		}
		END {
			for (m in dep) if (m ~ ("/" target "\\.ko(\\.xz)?$")) { visit(m); found = 1 }
			if (!found) exit 1
		}' "$moddir/modules.dep"
}
order=$(module_order virtio-gpu) || vm_die "virtio-gpu not in $moddir/modules.dep"
: >"$stage/modules/order"
while read -r m; do
	base=$(basename "$m")
	cp "$moddir/$m" "$stage/modules/$base"
	echo "$base" >>"$stage/modules/order"
done <<<"$order"

cp "$guest_bin"/* "$stage/tests/"
find "$guest_lib" -maxdepth 1 -type f -perm -u+x -exec cp {} "$stage/tests/" \;
cp "$guest_lib"/bin/* "$stage/bin/"
for extra in ${VGALLOC_VM_EXTRA_BINS:-}; do
	[[ -f $extra && -x $extra ]] || vm_die "VGALLOC_VM_EXTRA_BINS: $extra is not an executable file"
	if command -v readelf >/dev/null && readelf -l "$extra" 2>/dev/null | grep -c 'INTERP' >/dev/null; then
		vm_die "VGALLOC_VM_EXTRA_BINS: $extra is dynamically linked; the guest has no loader"
	fi
	cp "$extra" "$stage/tests/"
done
programs=()
for p in "$stage"/tests/*; do
	programs+=("$(basename "$p")")
done

boot=$build/vm-boot
mkdir -p "$boot"
(cd "$stage" && find . | LC_ALL=C sort | "$busybox" cpio -o -H newc 2>/dev/null) |
	gzip -1 >"$boot/initrd.cpio.gz.tmp"
mv "$boot/initrd.cpio.gz.tmp" "$boot/initrd.cpio.gz"
vm_log "initramfs $(du -h "$boot/initrd.cpio.gz" | cut -f1): modules $(tr '\n' ' ' <"$stage/modules/order")programs ${programs[*]}"

# 4. Boot inside the chroot. The rig is only read from here on: hold the cache lock shared so a
# concurrent build-rig.sh cannot change it under a running QEMU.
exec 9>>"$VM_CACHE/.lock"
flock -s -w 600 9 || vm_die "timed out waiting for the rig lock"
vm_mount_chroot "$VM_ROOT"
vm_safe_dir "$VM_ROOT/mnt" || vm_die "$VM_ROOT/mnt is not a plain directory"
mkdir -p "$VM_ROOT/mnt/vgalloc"
vm_on_exit vm_umount_under "'$VM_ROOT/mnt/vgalloc'"
mount --bind "$boot" "$VM_ROOT/mnt/vgalloc"

# 5. The backend's ioctl structs against trixie's kernel UAPI headers, compiled in the chroot.
rm -rf --one-file-system "$boot/layout"
mkdir -p "$boot/layout"
cp "$here/layout/uapi-layout.c" "$repo/lib/vgalloc_uapi.h" "$boot/layout/"
layout=fail
if chroot "$VM_ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
	gcc -std=c11 -Wall -Wextra -Werror -I/mnt/vgalloc/layout /mnt/vgalloc/layout/uapi-layout.c \
	-o /mnt/vgalloc/layout/uapi-layout >"$build/vm-layout.log" 2>&1 &&
	chroot "$VM_ROOT" /mnt/vgalloc/layout/uapi-layout | tee -a "$build/vm-layout.log"; then
	layout=pass
else
	echo "RESULT uapi_layout_matches_kernel_headers FAIL (log: $build/vm-layout.log)"
	tail -n 30 "$build/vm-layout.log"
fi

qemu_pid=
kill_qemu() {
	if [[ -n $qemu_pid ]] && kill -0 "$qemu_pid" 2>/dev/null; then
		kill -TERM "$qemu_pid" 2>/dev/null || true
		sleep 1
		kill -KILL "$qemu_pid" 2>/dev/null || true
	fi
}
vm_on_exit kill_qemu

# judge <log>: 0 when every staged program ended with rc=0 after printing SUMMARY failures=0.
judge() {
	local log=$1 p ok=0
	for p in "${programs[@]}"; do
		if ! tr -d '\r' <"$log" | awk -v p="$p" '
			$1 == "PROGRAM-BEGIN" && $2 == p { inside = 1; summary = ""; next }
			inside && $1 == "SUMMARY" { summary = $2 }
			$1 == "PROGRAM-END" && $2 == p { inside = 0; end = $3 }
			END { exit !(end == "rc=0" && summary == "failures=0") }'; then
			vm_log "program $p: no clean end (rc=0 and SUMMARY failures=0)"
			ok=1
		fi
	done
	return "$ok"
}

echo "=== rig versions"
cat "$VM_CACHE/versions.txt"

rm -f "$build"/vm-serial-*.log "$build"/vm-qemu-*.log
hangs=0
verdict=fail
for ((n = 1; n <= attempts; n++)); do
	serial=$build/vm-serial-$n.log
	qlog=$build/vm-qemu-$n.log
	rm -f "$serial" "$qlog"
	vm_log "boot $n/$attempts (timeout ${boot_timeout}s, per program ${prog_timeout}s," \
		"-accel $accel -smp $smp)"
	t0=$(date +%s.%N)
	# setpriv twice: if this script dies, even by SIGKILL, timeout gets SIGKILL, and its death
	# kills QEMU (timeout does not do that itself); a trap-less death leaves no QEMU running.
	setpriv --pdeathsig KILL \
		chroot "$VM_ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
		SDL_VIDEODRIVER=offscreen \
		timeout -k 5 "$boot_timeout" setpriv --pdeathsig KILL qemu-system-x86_64 \
		-accel "$accel" -cpu max -smp "$smp" -m 1G -nodefaults -serial stdio -no-reboot \
		-display sdl,gl=on -device virtio-gpu-gl-pci,venus=on,blob=on,hostmem=256M \
		-kernel "$vmlinuz" -initrd /mnt/vgalloc/initrd.cpio.gz \
		-append "console=ttyS0 quiet loglevel=3 panic=-1 vgalloc.timeout=$prog_timeout" \
		</dev/null >"$serial" 2>"$qlog" &
	qemu_pid=$!
	qrc=0
	wait "$qemu_pid" || qrc=$?
	qemu_pid=
	secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

	hung=0
	# grep -c, not -q: -q stops reading at the first match, tr then dies of SIGPIPE and
	# pipefail turns the match into a miss (a hung step went unseen).
	if ! tr -d '\r' <"$serial" | grep -c '^VM-DONE' >/dev/null; then
		hung=1
		vm_log "boot $n: no VM-DONE after ${secs}s (qemu exit $qrc): counted as a hang"
	elif tr -d '\r' <"$serial" | grep -c '^PROGRAM-HANG' >/dev/null; then
		hung=1
		vm_log "boot $n: a program timed out in the guest after ${secs}s: counted as a hang"
	fi
	tr -d '\r' <"$serial" |
		grep -E '^(VM-|PROGRAM-|RESULT |MEASURE |SUMMARY |STACK |INFO )' | sed "s/^/[boot $n] /" || true
	if ((hung)); then
		hangs=$((hangs + 1))
		echo "--- boot $n: last serial lines"
		tr -d '\r' <"$serial" | tail -n 40
		echo "--- boot $n: qemu stderr"
		tail -n 15 "$qlog"
		continue
	fi
	if judge "$serial"; then
		verdict=pass
		vm_log "boot $n finished in ${secs}s: all programs passed"
	else
		vm_log "boot $n finished in ${secs}s with failures (serial log: $serial)"
		echo "--- boot $n: guest kernel log"
		tr -d '\r' <"$serial" | grep '^DMESG' | tail -n 30 || true
		echo "--- qemu stderr"
		tail -n 15 "$qlog"
	fi
	break
done

[[ $layout == pass ]] || verdict=fail
echo "VM-TIER verdict=$verdict layout=$layout attempts=$((n > attempts ? attempts : n)) hangs=$hangs" \
	"wall=$(($(date +%s) - t_start))s logs=$build/vm-serial-*.log"
[[ $verdict == pass ]]
