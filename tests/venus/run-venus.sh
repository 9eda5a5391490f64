#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The Venus tier: boot the VM rig's QEMU (TCG) with a Venus virtio-gpu device and a real trixie
# userspace over 9p (tests/venus/build-guest-root.sh), run our Vulkan programs on a chosen Venus
# driver, and judge them from the serial console. Stock Mesa's libvulkan_virtio.so always; a
# patched one ("patched") when it exists, through its own ICD json.
#
# Usage: tests/venus/run-venus.sh [BUILD_DIR]      (default <repo>/build; logs in BUILD_DIR/venus,
#                                                   BUILD_DIR/venus-guest-first for that tier)
# Environment:
#   VGALLOC_VENUS_TIER            inject (default): QEMU as packaged, a host that injects host memory
#                                 (host-first); guest-first: the emulated static-mapping host
#                                 (host/static-host.c preloaded into QEMU), stock and patched each
#                                 guest-first and, with the preload passing through, host-first
#   VGALLOC_VENUS_HOSTS           hosts to boot, in order (inject; static = the preload making the
#                                 host guest-first; static-pass = the preload passing through);
#                                 default: the tier's
#   VGALLOC_VENUS_DRIVERS         drivers to run, in order (default "stock patched patched-off"; a missing
#                                 patched driver is skipped with a note)
#   VGALLOC_VENUS_PATCHED_SO      host path of a patched libvulkan_virtio.so (copied into the
#                                 share), e.g. from tests/venus/build-mesa.sh --print-dir; default:
#                                 the guest root's /opt/vgalloc/lib/libvulkan_virtio.so or
#                                 /opt/vgalloc/libvulkan_virtio.so
#   VGALLOC_VENUS_BEFORE_SO       host path of the same series built with an earlier library
#                                 (tier.sh's VGALLOC_VENUS_BEFORE): driver "patched-before", churn
#                                 boots only, interleaved with the others (inject tier)
#   VGALLOC_VENUS_PATCHED_ENV     extra VAR=value words for the patched driver's programs
#   VGALLOC_VENUS_PATCHED_OFF_ENV the words that switch the library off inside the patched driver;
#                                 with them, driver "patched-off" runs the patched binary so, with
#                                 stock's (blob-limited) arguments
#   VGALLOC_VENUS_CHECK_BOOTS     correctness boots per driver (default 1)
#   VGALLOC_VENUS_CHURN_BOOTS     benchmark boots per driver, interleaved (default 2)
#   VGALLOC_VENUS_CHURN_STOCK     vn-churn arguments on stock (default below: <= 100 mapped blobs)
#   VGALLOC_VENUS_CHURN_PATCHED   vn-churn arguments on patched
#   VGALLOC_VENUS_CHECK_STOCK, VGALLOC_VENUS_CHECK_PATCHED   vn-check arguments
#   VGALLOC_VENUS_HOST_VALIDATE   check|all|none: boots with VKR_DEBUG=validate (default check)
#   VGALLOC_VM_ATTEMPTS           attempts per boot while it hangs (default 4)
#   VGALLOC_VENUS_BOOT_TIMEOUT    seconds per boot (default and maximum 240)
#   VGALLOC_VENUS_PROG_TIMEOUT    seconds per step in the guest (default 150)
#   VGALLOC_VENUS_APPEND          more words for the guest kernel's command line (after the
#                                 default drm_kms_helper.fbdev_emulation=0; a later word wins)
#   VGALLOC_VENUS_VTEST=0         leave out the inject tier's vtest boots (stock and patched Venus
#                                 over virgl_test_server inside the guest)
#   VGALLOC_VENUS_GF_FFT=1        also run vn-fft in the guest-first tier's check boots (it hangs
#                                 there on both drivers: README)
#   VGALLOC_VM_REQUIRED=1         a tier that cannot run fails (exit 1) instead of skipping (77)
# Exit: 0 every boot finished (within its attempts) and every judged step printed SUMMARY
# failures=0 and exited 0; 77 skipped; 1 otherwise.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tests/vm/lib.sh
source "$here/../vm/lib.sh"

build=${1:-${VGALLOC_VM_BUILD:-$repo/build}}
VENUS_CACHE=${VGALLOC_VENUS_CACHE:-/var/cache/vgalloc-venus}
GUEST_ROOT=$VENUS_CACHE/guest-root
tier=${VGALLOC_VENUS_TIER:-inject}
case $tier in
inject)
	drivers=${VGALLOC_VENUS_DRIVERS:-stock patched patched-off}
	hosts=${VGALLOC_VENUS_HOSTS:-inject}
	outname=venus
	;;
guest-first)
	drivers=${VGALLOC_VENUS_DRIVERS:-stock patched}
	hosts=${VGALLOC_VENUS_HOSTS:-static static-pass}
	outname=venus-guest-first
	;;
*)
	echo "run-venus.sh: VGALLOC_VENUS_TIER must be inject or guest-first" >&2
	exit 1
	;;
esac
check_boots=${VGALLOC_VENUS_CHECK_BOOTS:-1}
churn_boots=${VGALLOC_VENUS_CHURN_BOOTS:-2}
host_validate=${VGALLOC_VENUS_HOST_VALIDATE:-check}
attempts=${VGALLOC_VM_ATTEMPTS:-4}
boot_timeout=${VGALLOC_VENUS_BOOT_TIMEOUT:-240}
prog_timeout=${VGALLOC_VENUS_PROG_TIMEOUT:-150}
((boot_timeout <= 240)) || boot_timeout=240
# Same QEMU as tests/vm (README.md there: thread=single hangs far less often than thread=multi).
accel=${VGALLOC_VM_ACCEL:-tcg,thread=single}
smp=${VGALLOC_VM_SMP:-2}

# Stock Venus makes a blob per mapped allocation, and the rig's TCG hang grows with blob unmaps:
# (12 cycles + 12 live + 1 settling cycle) x 3 sizes = 75 mapped blobs a boot. The patched driver
# carries the 1000-cycle small-object phase.
# Never-mapped memory makes no blob, so stock runs as many of those cycles as the patched driver:
# the two are compared phase for phase.
churn_stock_default="--sizes 4k,64k,1m --cycles 12 --live 12 --unmapped 50"
# Guest-first stock Venus makes a blob for every host-visible allocation, mapped or not (the kernel
# maps a mappable HOST3D blob when it creates it): 20 fresh + (8 + 8 + 1) x 2 + 50 mm = 104 blobs.
[[ $tier == guest-first ]] && churn_stock_default="--sizes 4k,64k --cycles 8 --live 8 --unmapped 0"
churn_stock=${VGALLOC_VENUS_CHURN_STOCK:-$churn_stock_default}
churn_patched=${VGALLOC_VENUS_CHURN_PATCHED:---sizes 4k,64k,1m --cycles 50 --live 50 \
--unmapped 50 --long 1000}
check_stock=${VGALLOC_VENUS_CHECK_STOCK:---thread-iters 6 --thread-maps 2}
check_patched=${VGALLOC_VENUS_CHECK_PATCHED:---thread-iters 40 --thread-maps 20}
# The guest-first tier's churn boot also runs, each in a fresh process: 20 never-mapped 64 KiB
# alloc+free (the first allocations of the process pay for everything a first allocation makes),
# and 50 live 4 KiB objects with the host-visible window read from debugfs.
fresh_args="--sizes 64k --cycles 0 --live 0 --unmapped 20 --tag fresh"
mm_args="--sizes 4k --cycles 0 --live 0 --unmapped 0 --mm 50 --tag mm"

skip_or_fail() {
	if [[ ${VGALLOC_VM_REQUIRED:-0} == 1 ]]; then
		vm_log "FAIL: the Venus tier is required (VGALLOC_VM_REQUIRED=1) but cannot run: $*"
		exit 1
	fi
	vm_skip "$*"
}

[[ $(id -u) -eq 0 ]] || skip_or_fail "needs root (chroot, mount namespaces)"
mkdir -p "$build/$outname"
out=$(cd "$build/$outname" && pwd)
vm_enter_namespace "$@"
vm_install_traps
t_start=$(date +%s)

# 1. Rig, guest root and programs (each cached or quick when nothing changed).
rc=0
bash "$here/build-guest.sh" "$out/guest" || rc=$?
if ((rc == VM_SKIP)); then
	skip_or_fail "the rig or the guest root cannot be built here (see above)"
elif ((rc != 0)); then
	vm_die "build-guest.sh failed (exit $rc)"
fi
kver=$(cat "$VM_CACHE/stamp.kernel")
moddir=$VM_ROOT$VM_KERNEL_DIR/lib/modules/$kver
vmlinuz=$VM_KERNEL_DIR/boot/vmlinuz-$kver # as seen inside the rig chroot
busybox=$VM_ROOT/usr/bin/busybox
[[ -x $busybox ]] || busybox=$VM_ROOT/bin/busybox
[[ -x $busybox ]] || vm_die "busybox-static missing from the rig"

# 2. Which drivers can run. The patched one is optional until it is built.
share=$out/share
rm -rf --one-file-system "$share"
mkdir -p "$share/bin" "$share/lib" "$share/icd" "$share/steps" "$share/driver"
cp -a "$out/guest/bin/." "$share/bin/"
cp -a "$out/guest/lib/." "$share/lib/"
static_host_so=/mnt/vgalloc-venus/share/host/libvgalloc-static-host.so # inside the rig chroot
if [[ " $hosts " == *" static"* ]]; then
	[[ -f $out/guest/host/libvgalloc-static-host.so ]] ||
		vm_die "the static host emulation did not build (build-guest.sh)"
	mkdir -p "$share/host"
	cp -a "$out/guest/host/." "$share/host/"
fi
for h in $hosts; do
	case $h in
	inject | static | static-pass) ;;
	*) vm_die "unknown host '$h' (inject, static, static-pass)" ;;
	esac
done
# Each tier's targets name its hosts: inject alone, or static (its check boots) and static-pass.
if [[ $tier == inject && $hosts != inject ]] ||
	[[ $tier == guest-first && $(awk '{ print $1 }' <<<"$hosts") != static ]]; then
	vm_die "hosts '$hosts' do not fit the $tier tier (inject: inject; guest-first: static" \
		"first, then static-pass)"
fi
stock_json=/usr/share/vulkan/icd.d/virtio_icd.json
[[ -f $GUEST_ROOT$stock_json ]] || vm_die "the guest root has no $stock_json"
api=$(sed -n 's/.*"api_version": *"\([^"]*\)".*/\1/p' "$GUEST_ROOT$stock_json")
patched_lib=
if [[ -n ${VGALLOC_VENUS_PATCHED_SO:-} ]]; then
	[[ -f $VGALLOC_VENUS_PATCHED_SO ]] || vm_die "VGALLOC_VENUS_PATCHED_SO: no such file"
	cp "$VGALLOC_VENUS_PATCHED_SO" "$share/driver/libvulkan_virtio.so"
	patched_lib=/mnt/vgalloc-venus/driver/libvulkan_virtio.so
else
	for candidate in /opt/vgalloc/lib/libvulkan_virtio.so /opt/vgalloc/libvulkan_virtio.so; do
		if [[ -f $GUEST_ROOT$candidate ]]; then
			patched_lib=$candidate
			break
		fi
	done
fi
# write_icd <name> <library path in the guest>
write_icd() {
	printf '{\n    "ICD": {\n        "api_version": "%s",\n        "library_path": "%s"\n    },\n' \
		"${api:-1.3.0}" "$2" >"$share/icd/$1.json"
	printf '    "file_format_version": "1.0.0"\n}\n' >>"$share/icd/$1.json"
}
[[ -z $patched_lib ]] || write_icd patched "$patched_lib"
before_lib=
if [[ -n ${VGALLOC_VENUS_BEFORE_SO:-} && $tier == inject ]]; then
	[[ -f $VGALLOC_VENUS_BEFORE_SO ]] || vm_die "VGALLOC_VENUS_BEFORE_SO: no such file"
	mkdir -p "$share/driver-before"
	cp "$VGALLOC_VENUS_BEFORE_SO" "$share/driver-before/libvulkan_virtio.so"
	before_lib=/mnt/vgalloc-venus/driver-before/libvulkan_virtio.so
	write_icd patched-before "$before_lib"
	[[ " $drivers " == *" patched-before "* ]] || drivers+=" patched-before"
fi
run_drivers=()
for d in $drivers; do
	case $d in
	stock) run_drivers+=(stock) ;;
	patched)
		if [[ -n $patched_lib ]]; then
			run_drivers+=(patched)
		else
			vm_log "NOTE: no patched driver (neither VGALLOC_VENUS_PATCHED_SO nor" \
				"$GUEST_ROOT/opt/vgalloc/[lib/]libvulkan_virtio.so): skipping it"
		fi
		;;
	patched-off)
		if [[ -n $patched_lib && -n ${VGALLOC_VENUS_PATCHED_OFF_ENV-VN_PERF=no_vgalloc} ]]; then
			run_drivers+=(patched-off)
		else
			vm_log "NOTE: patched-off needs the patched driver and VGALLOC_VENUS_PATCHED_OFF_ENV:" \
				"skipped"
		fi
		;;
	patched-before)
		if [[ -n $before_lib ]]; then
			run_drivers+=(patched-before)
		else
			vm_log "NOTE: patched-before needs VGALLOC_VENUS_BEFORE_SO (inject tier): skipped"
		fi
		;;
	*) vm_die "unknown driver '$d' (stock, patched, patched-off, patched-before)" ;;
	esac
done
((${#run_drivers[@]})) || skip_or_fail "no driver to run"

# 3. The initramfs: busybox, /init, virtio-gpu and 9p modules in dependency order.
stage=$out/initramfs
rm -rf --one-file-system "$stage"
mkdir -p "$stage"/{bin,modules,dev,proc,sys,tmp,newroot}
cp "$busybox" "$stage/bin/busybox"
cp "$here/init" "$stage/init"
chmod 755 "$stage/init"
# modules.dep lists a module's dependencies nearest first: load them in reverse, then the module.
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
: >"$stage/modules/order"
for target in virtio-gpu 9pnet_virtio 9p; do
	order=$(module_order "$target") || vm_die "$target not in $moddir/modules.dep"
	while read -r m; do
		base=$(basename "$m")
		grep -qx "$base" "$stage/modules/order" && continue
		cp "$moddir/$m" "$stage/modules/$base"
		echo "$base" >>"$stage/modules/order"
	done <<<"$order"
done
(cd "$stage" && find . | LC_ALL=C sort | "$busybox" cpio -o -H newc 2>/dev/null) |
	gzip -1 >"$share/initrd.cpio.gz"
vm_log "initramfs $(du -h "$share/initrd.cpio.gz" | cut -f1): modules" \
	"$(tr '\n' ' ' <"$stage/modules/order")"

# 4. Mounts: the rig chroot (QEMU), with the guest root and the share inside it.
exec 9>>"$VM_CACHE/.lock"
flock -s -w 600 9 || vm_die "timed out waiting for the rig lock"
exec 8>>"$VENUS_CACHE/.lock"
flock -s -w 600 8 || vm_die "timed out waiting for the guest root lock"
vm_mount_chroot "$VM_ROOT"
vm_safe_dir "$VM_ROOT/mnt" || vm_die "$VM_ROOT/mnt is not a plain directory"
mnt=$VM_ROOT/mnt/vgalloc-venus
mkdir -p "$mnt/root" "$mnt/share"
vm_on_exit vm_umount_under "'$mnt'"
mount --bind "$GUEST_ROOT" "$mnt/root"
mount --bind "$share" "$mnt/share"

# 5. Steps: one shell script per program run, executed in order by /init inside the guest root.
# write_step <n> <name> <driver> <layer:0|1> <program> [args...]
write_step() {
	local n=$1 name=$2 driver=$3 layer=$4 prog=$5
	shift 5
	local json=$stock_json extra=
	if [[ $driver == patched ]]; then
		json=/mnt/vgalloc-venus/icd/patched.json
		extra=${VGALLOC_VENUS_PATCHED_ENV:-}
	elif [[ $driver == patched-off ]]; then
		json=/mnt/vgalloc-venus/icd/patched.json
		extra="${VGALLOC_VENUS_PATCHED_ENV:-} ${VGALLOC_VENUS_PATCHED_OFF_ENV-VN_PERF=no_vgalloc}"
	elif [[ $driver == patched-before ]]; then
		json=/mnt/vgalloc-venus/icd/patched-before.json
		extra=${VGALLOC_VENUS_PATCHED_ENV:-}
	fi
	local layer_env=
	((layer)) && layer_env="VK_INSTANCE_LAYERS=VK_LAYER_KHRONOS_validation"
	extra+=" $step_env"
	local preload=LD_PRELOAD=/mnt/vgalloc-venus/lib/libioctl-count.so
	[[ $prog == /* ]] && preload=
	[[ $prog == /* ]] || prog=/mnt/vgalloc-venus/bin/$prog
	{
		echo "#!/bin/sh"
		echo "echo 'STEP $name driver=$driver icd=$json layer=$layer program=${prog##*/} args=$*'"
		echo "cd /tmp && mkdir -p /tmp/cache"
		# Both loader variables: VK_DRIVER_FILES is the current name, VK_ICD_FILENAMES the old
		# one; either keeps the guest's lavapipe ICD out of the device list.
		echo "exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp XDG_CACHE_HOME=/tmp/cache" \
			"LC_ALL=C.UTF-8 VK_DRIVER_FILES=$json VK_ICD_FILENAMES=$json $layer_env $preload" \
			"$extra $prog $*"
	} >"$share/steps/$(printf '%02d' "$n")-$name.sh"
}

# The vtest boots (inject tier): Venus's socket renderer, as Mesa's CI runs it, inside the guest.
# virgl_test_server runs in the guest over lavapipe (its own loader sees lavapipe alone, or it
# would find the guest's Venus ICD too) with the renderer's validation on, and the drivers connect
# with VN_DEBUG=vtest. The guest kernel has udmabuf, which host-visible blobs need there (the host
# kernel has none: REAL-STACK section 4). No virtio-gpu blob is involved.
vtest_sock=/tmp/vtest.sock
lvp_json=/usr/share/vulkan/icd.d/lvp_icd.json
write_vtest_server() {
	local f
	f=$share/steps/$(printf '%02d' "$1")-vtest-server.sh
	cat >"$f" <<-SCRIPT
		#!/bin/sh
		echo 'STEP vtest-server program=virgl_test_server args=--no-virgl --venus'
		mkdir -p /tmp/cache
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp XDG_CACHE_HOME=/tmp/cache \
			LC_ALL=C.UTF-8 VK_DRIVER_FILES=$lvp_json VK_ICD_FILENAMES=$lvp_json \
			VKR_DEBUG=validate virgl_test_server --no-virgl --venus \
			--socket-path $vtest_sock >/tmp/vtest-server.log 2>&1 &
		echo \$! >/tmp/vtest-server.pid
		i=0
		while [ ! -S $vtest_sock ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
		udmabuf=no
		[ -e /dev/udmabuf ] && udmabuf=yes
		if [ -S $vtest_sock ]; then
			echo "RESULT vtest_server PASS socket after \$((i * 100)) ms, udmabuf=\$udmabuf"
			exit 0
		fi
		echo "RESULT vtest_server FAIL no socket after 10 s, udmabuf=\$udmabuf"
		sed 's/^/INFO vtest-server: /' /tmp/vtest-server.log | tail -n 20
		exit 1
	SCRIPT
}
# The server's validation messages, counted as the host's are (host_messages, host_vuids).
write_vtest_stop() {
	local f
	f=$share/steps/$(printf '%02d' "$1")-vtest-server-stop.sh
	cat >"$f" <<-'SCRIPT'
		#!/bin/sh
		echo 'STEP vtest-server-stop'
		kill "$(cat /tmp/vtest-server.pid)" 2>/dev/null
		sleep 0.5
		log=/tmp/vtest-server.log
		m=$(grep -c -E 'VUID-|Validation Error' $log)
		v=$(grep -o -E 'VUID-[A-Za-z0-9_-]+' $log | sort | uniq -c | sort -rn |
			awk '{ printf "%s%s=%s", s, $2, $1; s = " " }')
		echo "VALIDATION-VTEST messages=$m $v"
		grep -v -E 'VUID-|Validation Error|The Vulkan spec states' $log | tail -n 5 |
			sed 's/^/INFO vtest-server: /'
		exit 0
	SCRIPT
}

# plan_boot <kind> <driver> <host>: the steps of one boot.
step_env=
plan_boot() {
	local kind=$1 d=$2 host=$3 n=0 churn check gv=0
	rm -f "$share/steps"/*.sh
	churn=$churn_stock check=$check_stock
	if [[ $d == patched || $d == patched-before ]]; then
		churn=$churn_patched check=$check_patched
	fi
	[[ $host == static ]] && gv=1
	# On the emulated hosts, every boot first reads the capset back: use_guest_vram says which
	# order the drivers take.
	[[ $host != inject ]] && write_step $((++n)) "$d-vn-capset" "$d" 0 vn-capset \
		--expect-guest-vram "$gv"
	if [[ $kind == vtest ]]; then
		write_vtest_server $((++n))
		# VN_DEBUG=init: the patched driver logs the library's backend and its counters.
		step_env="VN_DEBUG=vtest VTEST_SOCKET_NAME=$vtest_sock"
		[[ $d == patched ]] && step_env="VN_DEBUG=vtest,init VTEST_SOCKET_NAME=$vtest_sock"
		# shellcheck disable=SC2086 # argument lists on purpose
		write_step $((++n)) "$d-vtest-vn-check" "$d" 1 vn-check $check_stock
		write_step $((++n)) "$d-vtest-vn-churn" "$d" 0 vn-churn --sizes 4k,64k --cycles 8 \
			--live 8 --unmapped 8 --tag vtest
		step_env=
		write_vtest_stop $((++n))
	elif [[ $kind == check ]]; then
		write_step $((++n)) "$d-vn-info" "$d" 0 vn-info
		[[ $d == stock ]] && write_step $((++n)) "$d-vulkaninfo" "$d" 0 /usr/bin/vulkaninfo \
			--summary
		# shellcheck disable=SC2086 # argument lists on purpose
		write_step $((++n)) "$d-vn-check" "$d" 1 vn-check $check
		# Every buffer usage and image format and tiling bound where the driver places it;
		# host-side validation judges the offsets (the host-validation target).
		write_step $((++n)) "$d-vn-align" "$d" 1 vn-align
		write_step $((++n)) "$d-vn-churn-validated" "$d" 1 vn-churn --sizes 4k,64k \
			--cycles 3 --live 3 --unmapped 3 --tag churnval
		# VkFFT hangs on the emulated static host with stock Venus as with the patched one
		# (README: "Guest-first tier"), so that tier runs it only when asked.
		if [[ -x $share/bin/vn-fft && ($tier == inject || ${VGALLOC_VENUS_GF_FFT:-0} == 1) ]]; then
			write_step $((++n)) "$d-vn-fft" "$d" 0 vn-fft
		fi
		if [[ $host_validate != none ]]; then
			write_step $((++n)) "$d-canary" "$d" 0 vn-check --canary
		fi
	else
		if [[ $tier == guest-first ]]; then
			# shellcheck disable=SC2086
			write_step $((++n)) "$d-vn-churn-fresh" "$d" 0 vn-churn $fresh_args
		fi
		# shellcheck disable=SC2086
		write_step $((++n)) "$d-vn-churn" "$d" 0 vn-churn $churn
		if [[ $tier == guest-first ]]; then
			# VN_DEBUG=init: the patched driver logs the library's mode and, at vkDestroyDevice,
			# its counters (blocks made in guest-first mode are guest-first blocks).
			[[ $d == patched ]] && step_env="VN_DEBUG=init"
			# shellcheck disable=SC2086
			write_step $((++n)) "$d-vn-churn-mm" "$d" 0 vn-churn $mm_args
			step_env=
		fi
	fi
}

qemu_pid=
kill_qemu() {
	if [[ -n $qemu_pid ]] && kill -0 "$qemu_pid" 2>/dev/null; then
		kill -TERM "$qemu_pid" 2>/dev/null || true
		sleep 1
		kill -KILL "$qemu_pid" 2>/dev/null || true
	fi
}
vm_on_exit kill_qemu

# judge <serial>: every step ended rc=0; vn-* steps also printed SUMMARY failures=0.
judge() {
	tr -d '\r' <"$1" | awk '
		$1 == "PROGRAM-BEGIN" { step = $2; summary[step] = "none"; ended[step] = "" ; n++ }
		$1 == "SUMMARY" && step != "" { summary[step] = $2 }
		$1 == "PROGRAM-END" { ended[$2] = $3; step = "" }
		END {
			bad = 0
			for (s in summary) {
				need = (s ~ /-vn-|-canary$/)
				if (ended[s] != "rc=0" || (need && summary[s] != "failures=0")) {
					printf "vm: step %s: %s %s\n", s, ended[s] == "" ? "no end" : ended[s],
						need ? summary[s] : "" > "/dev/stderr"
					bad = 1
				}
			}
			exit bad || n == 0
		}'
}

# Host validation messages in QEMU's log: virglrenderer's Venus renderer logs each error
# message of VK_LAYER_KHRONOS_validation (the render server prints through syslog's LOG_PERROR).
host_messages() {
	grep -c -E 'VUID-|Validation Error' "$1" 2>/dev/null || true
}
# "VUID=count ..." over the log: which rules the host saw broken, most frequent first.
host_vuids() {
	grep -o -E 'VUID-[A-Za-z0-9_-]+' "$1" 2>/dev/null | sort | uniq -c | sort -rn |
		awk '{ printf "%s%s=%s", sep, $2, $1; sep = " " }'
}
# virglrenderer 1.1 forces an export handle type onto every host-visible allocation so it can
# hand the memory out as a blob, and binds that memory to non-external buffers and images
# ("We still violate the spec", vkr_device_memory.c): the layer reports each such bind whatever
# the guest driver does. Counted apart from the rest.
host_forced_export_messages() {
	grep -c -E 'VUID-VkBindBufferMemoryInfo-memory-02726|VUID-VkBindImageMemoryInfo-memory-02728' \
		"$1" 2>/dev/null || true
}
# On the emulated static host the renderer imports every guest-first blob as a dma-buf and binds
# it to the guest's buffers and images, which were not created as external: the same class of
# message, stock and patched alike.
host_import_messages() {
	grep -c -E 'VUID-VkBindBufferMemoryInfo-memory-02985|VUID-VkBindImageMemoryInfo-memory-02989' \
		"$1" 2>/dev/null || true
}
host_canary_messages() {
	grep -c -e 'VUID-VkBindBufferMemoryInfo-memoryOffset-01036' \
		-e 'VUID-vkBindBufferMemory-memoryOffset-01036' "$1" 2>/dev/null || true
}

echo "=== rig versions"
cat "$VM_CACHE/versions.txt"
echo "=== guest root"
cat "$VENUS_CACHE/guest-versions.txt" 2>/dev/null || true

results=$out/results.txt
: >"$results"
# Every hang and failure in a few lines, printed again just before the verdict: the end of the
# output is what a CI log keeps.
digest=$out/failures.txt
: >"$digest"
rm -f "$out"/serial-*.log "$out"/qemu-*.log
hangs=0
failed=0
boots=0

# boot <kind> <driver> <index> <host>: up to $attempts attempts while they hang. Results are
# tagged with the driver, and with driver@host on the emulated hosts.
boot() {
	local kind=$1 d=$2 idx=$3 host=$4 a serial qlog qrc secs hung validate=0 t0 label=$2
	# The preload goes to QEMU alone (it takes LD_PRELOAD out of its own environment, so that
	# QEMU's render server child does not load it).
	local henv=()
	case $host in
	static) henv=(LD_PRELOAD=$static_host_so VGALLOC_STATIC_HOST=guest-first) ;;
	static-pass) henv=(LD_PRELOAD=$static_host_so VGALLOC_STATIC_HOST=pass-through) ;;
	esac
	[[ $host == inject ]] || label=$d@$host
	case $host_validate in
	all) validate=1 ;;
	check) [[ $kind == check ]] && validate=1 ;;
	esac
	plan_boot "$kind" "$d" "$host"
	for ((a = 1; a <= attempts; a++)); do
		serial=$out/serial-$label-$kind$idx-$a.log
		qlog=$out/qemu-$label-$kind$idx-$a.log
		vm_log "boot $label $kind $idx attempt $a/$attempts (timeout ${boot_timeout}s," \
			"host validation $( ((validate)) && echo on || echo off))"
		t0=$(date +%s.%N)
		local venv=() append
		# No fbdev console on virtio-gpu: with it, 5 of 17 stock churn boots hung (its plane
		# updates share QEMU's control queue with the blob unmaps; one hang showed the console
		# worker blocked in virtio_gpu_queue_fenced_ctrl_buffer); without it, 0 of 21 (README).
		append="console=ttyS0 quiet loglevel=3 panic=-1 vgalloc.timeout=$prog_timeout"
		append+=" drm_kms_helper.fbdev_emulation=0 ${VGALLOC_VENUS_APPEND:-}"
		((validate)) && venv=(VKR_DEBUG=validate)
		# setpriv twice, as in tests/vm/run-vm.sh: a dying script takes timeout and QEMU along.
		setpriv --pdeathsig KILL \
			chroot "$VM_ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			LC_ALL=C.UTF-8 SDL_VIDEODRIVER=offscreen "${venv[@]}" \
			timeout -k 5 "$boot_timeout" setpriv --pdeathsig KILL env "${henv[@]}" \
			qemu-system-x86_64 \
			-accel "$accel" -cpu max -smp "$smp" -m 1G -nodefaults -serial stdio -no-reboot \
			-display sdl,gl=on -device virtio-gpu-gl-pci,venus=on,blob=on,hostmem=256M \
			-fsdev local,id=vgroot,path=/mnt/vgalloc-venus/root,security_model=none,readonly=on \
			-device virtio-9p-pci,fsdev=vgroot,mount_tag=vgroot \
			-fsdev local,id=vgshare,path=/mnt/vgalloc-venus/share,security_model=none,readonly=on \
			-device virtio-9p-pci,fsdev=vgshare,mount_tag=vgshare \
			-kernel "$vmlinuz" -initrd /mnt/vgalloc-venus/share/initrd.cpio.gz \
			-append "$append" \
			</dev/null >"$serial" 2>"$qlog" &
		qemu_pid=$!
		qrc=0
		wait "$qemu_pid" || qrc=$?
		qemu_pid=
		boots=$((boots + 1))
		secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
		hung=0
		# grep -c, not -q: -q stops reading at the first match, tr then dies of SIGPIPE and
		# pipefail turns the match into a miss (a hung step went unseen).
		if ! tr -d '\r' <"$serial" | grep -c '^VM-DONE' >/dev/null; then
			hung=1
			vm_log "boot $label $kind $idx: no VM-DONE after ${secs}s (qemu exit $qrc): a hang"
		elif tr -d '\r' <"$serial" | grep -c '^PROGRAM-HANG' >/dev/null; then
			hung=1
			vm_log "boot $label $kind $idx: a step timed out in the guest after ${secs}s: a hang"
		fi
		local tag="$label $kind$idx.$a"
		tr -d '\r' <"$serial" |
			grep -E -e '^(VM-|PROGRAM-|STEP |RESULT |MEASURE |COUNT |SUMMARY )' \
				-e '^(VALIDATION|FFT-HASH |CANARY |INFO |CAPSET |MM )' |
			sed "s/^/[$tag] /" | tee -a "$results" || true
		# The patched driver's library lines (VN_DEBUG=init) and the emulation's counters.
		tr -d '\r' <"$serial" | grep -o -E 'vgalloc: (stats|device ready).*' |
			sed -e 's/^vgalloc: stats/VGALLOC-STATS/' -e 's/^vgalloc: device ready:/VGALLOC-READY/' \
				-e "s/^/[$tag] /" | tee -a "$results" || true
		grep -E '^STATIC-HOST ' "$qlog" | sed "s/^/[$tag] /" | tee -a "$results" || true
		if ((validate)); then
			local hm hc hf hi
			hm=$(host_messages "$qlog")
			hc=$(host_canary_messages "$qlog")
			hf=$(host_forced_export_messages "$qlog")
			hi=$(host_import_messages "$qlog")
			echo "[$tag] HOST-VALIDATION messages=$hm canary=$hc renderer-forced-export=$hf" \
				"rest=$((hm - hc - hf - hi)) renderer-import=$hi" \
				"$(host_vuids "$qlog")" | tee -a "$results"
		fi
		if ((hung)); then
			hangs=$((hangs + 1))
			echo "[$tag] HANG secs=$secs" >>"$results"
			{
				echo "[$tag] hang after ${secs}s (qemu exit $qrc):"
				tr -d '\r' <"$serial" |
					grep -E '^(PROGRAM-HANG|PROGRAM-STUCK|RESULT .* FAIL)' | head -n 4 || true
				tr -d '\r' <"$serial" | grep -E '^(PROGRAM-|VM-)' | tail -n 2 || true
			} >>"$digest"
			echo "--- last serial lines"
			tr -d '\r' <"$serial" | tail -n 40
			echo "--- qemu stderr"
			tail -n 15 "$qlog"
			continue
		fi
		if judge "$serial"; then
			vm_log "boot $label $kind $idx finished in ${secs}s: every step passed"
			echo "[$tag] BOOT pass secs=$secs" >>"$results"
		else
			vm_log "boot $label $kind $idx finished in ${secs}s with failures ($serial)"
			echo "[$tag] BOOT fail secs=$secs" >>"$results"
			{
				echo "[$tag] failed after ${secs}s:"
				# judge fails here by definition: under set -e and pipefail, say so with || true.
				judge "$serial" 2>&1 >/dev/null | sed 's/^/  /' || true
				tr -d '\r' <"$serial" | grep -E '^(RESULT .* FAIL|PROGRAM-HANG)' | head -n 8 ||
					true
			} >>"$digest"
			echo "--- guest kernel log"
			tr -d '\r' <"$serial" | grep '^DMESG' | tail -n 30 || true
			echo "--- qemu stderr"
			tail -n 15 "$qlog"
			failed=$((failed + 1))
		fi
		return 0
	done
	vm_log "boot $label $kind $idx: every attempt hung"
	echo "[$label $kind$idx] every attempt hung" >>"$digest"
	failed=$((failed + 1))
}

# Check boots on the first host only (the guest-first tier's: the emulated static host; its
# pass-through host-first baseline is the inject tier's correctness run on the same QEMU).
read -r first_host _ <<<"$hosts"
# patched-before only measures: its churn boots, beside patched's.
for ((i = 1; i <= check_boots; i++)); do
	for d in "${run_drivers[@]}"; do
		[[ $d == patched-before ]] || boot check "$d" "$i" "$first_host"
	done
done
for ((i = 1; i <= churn_boots; i++)); do
	for h in $hosts; do
		for d in "${run_drivers[@]}"; do
			boot churn "$d" "$i" "$h"
		done
	done
done
# The inject tier's vtest boots: stock and patched Venus over the guest's own vtest server.
if [[ $tier == inject && ${VGALLOC_VENUS_VTEST:-1} == 1 ]]; then
	for d in "${run_drivers[@]}"; do
		[[ $d == patched-off || $d == patched-before ]] || boot vtest "$d" 1 inject
	done
fi

# 6. The figures per driver, as ranges over the boots that finished (µs; counts per phase).
echo "=== summary per driver: min-max over boots (µs; ioctl counts per phase)"
awk '
	function add(key, v) {
		if (!(key in n)) { lo[key] = v; hi[key] = v; order[++k] = key }
		if (v + 0 < lo[key] + 0) lo[key] = v
		if (v + 0 > hi[key] + 0) hi[key] = v
		n[key]++
	}
	# First pass: the boots that finished; a hung attempt'"'"'s partial figures are left out.
	NR == FNR { if ($3 == "BOOT") { finished[$1 " " $2] = 1 } next }
	!(($1 " " $2) in finished) { next }
	{ drv = substr($1, 2) }
	$3 == "MEASURE" && $4 ~ /^(churn|fresh|vtest)\.[^.]+\.(cycle|long|unmapped)\.cycle$/ {
		split($5, p, "="); add(drv " " $4 " p50", p[2])
	}
	$3 == "MEASURE" && $4 ~ /^churn\.[^.]+\.live\.free_all_/ {
		split($5, p, "="); add(drv " " $4, p[2])
	}
	$3 == "COUNT" && ($4 ~ /^[^.]+\.[^.]+\.(cycle|long|live\.free|unmapped)$/ ||
	                  $4 ~ /^[^.]+\.mm\.(alloc|map|free)$/) {
		for (i = 5; i <= 9; i++) { split($i, p, "="); add(drv " " $4 " " p[1], p[2]) }
	}
	$3 == "VALIDATION-SUMMARY" && $6 == "layer=on" {
		split($4, p, "="); add(drv " guest-validation errors", p[2])
		split($5, p, "="); add(drv " guest-validation warnings", p[2])
	}
	$3 == "HOST-VALIDATION" {
		for (i = 4; i <= 8; i++) { split($i, p, "="); add(drv " host-validation " p[1], p[2]) }
	}
	$3 == "RESULT" && $5 == "FAIL" { add(drv " failed " $4, 1) }
	$3 == "FFT-HASH" { add(drv " fft-hash " $4, $5) }
	END {
		for (i = 1; i <= k; i++) {
			key = order[i]
			printf "%-48s %s%s  (n=%d)\n", key, lo[key],
				lo[key] == hi[key] ? "" : " - " hi[key], n[key]
		}
	}' "$results" "$results"

# 7. The issue's targets, from the churn boots that finished (each printed; a miss fails the tier):
#   patched 4 KiB / 64 KiB mapped cycle p50 <= stock's p50 / 5000 (slowest patched boot against the
#   fastest stock boot); patched 50 live frees + vkDeviceWaitIdle <= 30 ms; the patched 1000-cycle
#   phase <= 2 CREATE_BLOB and 0 GEM_CLOSE; host validation on patched <= stock's messages (the
#   renderer's own forced-export binds are in both); VkFFT's output bit-identical to stock's;
#   patched-off: every blob count equal to stock's
#   in every phase (execbuffer and times are printed beside stock's range, not gated: they vary
#   from boot to boot).
echo "=== targets"
gate_failed=0
if [[ $tier == guest-first ]]; then
	awk -f "$here/gates-guest-first.awk" "$results" "$results" >"$out/targets.txt" ||
		gate_failed=1
else
	awk -v have_off="$([[ " ${run_drivers[*]} " == *" patched-off "* ]] && echo 1 || echo 0)" \
		-v have_patched="$([[ " ${run_drivers[*]} " == *" patched "* ]] && echo 1 || echo 0)" \
		-v have_before="$([[ " ${run_drivers[*]} " == *" patched-before "* ]] && echo 1 || echo 0)" \
		-v have_vtest="$([[ ${VGALLOC_VENUS_VTEST:-1} == 1 && " ${run_drivers[*]} " == *" patched "* &&
			" ${run_drivers[*]} " == *" stock "* ]] && echo 1 || echo 0)" \
		-f "$here/gates-inject.awk" "$results" "$results" >"$out/targets.txt" || gate_failed=1
fi
cat "$out/targets.txt"

verdict=pass
((failed == 0 && gate_failed == 0)) || verdict=fail
if [[ -s $digest ]]; then
	echo "=== hangs and failures (also above)"
	cat "$digest"
fi
if ((gate_failed)); then
	echo "=== targets missed (also above)"
	grep -v -E '^TARGET (PASS|INFO)' "$out/targets.txt" || true
fi
echo "VENUS-TIER tier=$tier verdict=$verdict drivers=${run_drivers[*]} hosts=$hosts boots=$boots hangs=$hangs" \
	"failed=$failed wall=$(($(date +%s) - t_start))s results=$results"
[[ $verdict == pass ]]
