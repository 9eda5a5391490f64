# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# Shared by the VM tier's scripts: the cache layout, the private mount namespace every script
# runs in, the chroot's bind mounts and the cleanup stack that undoes them on any exit. Source it;
# it defines variables and functions only.

# shellcheck disable=SC2034 # the variables are used by the scripts that source this file
VM_CACHE=${VGALLOC_VM_CACHE:-/var/cache/vgalloc-vm}
VM_ROOT=$VM_CACHE/root
VM_MIRROR=${VGALLOC_VM_MIRROR:-http://deb.debian.org/debian}
VM_SUITE=trixie
# The unpacked guest kernel lives inside the chroot so that QEMU, which runs there, can read it.
VM_KERNEL_DIR=/opt/vgalloc-kernel
# Exit code ctest reads as "skipped" (SKIP_RETURN_CODE).
VM_SKIP=77

vm_log() {
	printf 'vm: %s\n' "$*" >&2
}

# vm_skip <reason>: the tier cannot run for a reason outside the project's control.
vm_skip() {
	vm_log "SKIP: $*"
	exit "$VM_SKIP"
}

vm_die() {
	vm_log "ERROR: $*"
	exit 1
}

# vm_enter_namespace "$@": re-execute the calling script in a new mount namespace with private
# propagation, so nothing it mounts is ever seen by the host: if the run is killed, the binds die
# with the namespace instead of leaving the host's /dev mounted inside a folder someone deletes.
# No --fork: the script keeps its PID and receives every signal itself (an unshare parent would
# ignore SIGTERM), and VGALLOC_VM_NS=$$ marks that this very process is already inside.
vm_enter_namespace() {
	if [[ ${VGALLOC_VM_NS:-} == "$$" ]]; then
		return 0
	fi
	command -v unshare >/dev/null || vm_skip "unshare (util-linux) is missing"
	exec unshare --mount --propagation private env VGALLOC_VM_NS=$$ bash "$0" "$@"
}

# Cleanup stack: commands run in reverse order on any exit, each allowed to fail.
VM_CLEANUP=()
vm_on_exit() {
	VM_CLEANUP+=("$*")
}
vm_run_cleanup() {
	local rc=$? i
	trap - EXIT INT TERM HUP
	for ((i = ${#VM_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${VM_CLEANUP[i]}" || true
	done
	VM_CLEANUP=()
	exit "$rc"
}
vm_install_traps() {
	trap vm_run_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

# vm_mounts_under <dir>: mount points at or below <dir> in this namespace, deepest first.
vm_mounts_under() {
	local dir=$1
	awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
		sort -r
}

# vm_umount_under <dir>: unmount everything at or below <dir> (deepest first).
vm_umount_under() {
	local m
	while read -r m; do
		[[ -n $m ]] || continue
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done < <(vm_mounts_under "$1")
}

# vm_safe_dir <path>: a real directory, not a symlink a chroot could aim at a host path.
vm_safe_dir() {
	[[ -d $1 && ! -L $1 ]]
}

# vm_mount_chroot <root>: /proc, /sys, /dev, /dev/pts (and /dev/shm) for the chroot, unmounted
# again on exit. Must run inside vm_enter_namespace.
vm_mount_chroot() {
	local root=$1 d
	[[ ${VGALLOC_VM_NS:-} == "$$" ]] || vm_die "vm_mount_chroot outside the private namespace"
	for d in proc sys dev; do
		vm_safe_dir "$root/$d" || vm_die "$root/$d is not a plain directory"
	done
	vm_on_exit vm_umount_under "'$root/proc'"
	vm_on_exit vm_umount_under "'$root/sys'"
	vm_on_exit vm_umount_under "'$root/dev'"
	mount -t proc proc "$root/proc"
	mount --bind /sys "$root/sys"
	mount --bind /dev "$root/dev"
	vm_safe_dir "$root/dev/pts" && mount --bind /dev/pts "$root/dev/pts"
	if mountpoint -q /dev/shm && vm_safe_dir "$root/dev/shm"; then
		mount --bind /dev/shm "$root/dev/shm"
	fi
	return 0
}

# vm_mirror_reachable: can the Debian archive be reached (for the first build only)?
vm_mirror_reachable() {
	local url=$VM_MIRROR/dists/$VM_SUITE/InRelease
	if command -v curl >/dev/null; then
		curl -fsS --max-time 30 -o /dev/null "$url"
	elif command -v wget >/dev/null; then
		wget -q -T 30 -O /dev/null "$url"
	else
		return 0 # cannot tell; let the download itself decide
	fi
}
