#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The fresh-machine proof: run the README's two commands as root on a pristine Debian 12 (bookworm)
# minbase root, exactly as a newcomer types them, with VGALLOC_VM_REQUIRED=1.
#
# 1. A minbase root is debootstrapped once and kept as a tarball, keyed by the debootstrap version
#    and the mirror: $CACHE/bookworm-minbase-<debootstrap version>-<sha256(mirror), 12 hex>.tar
#    (delete it to take a newer bookworm point release).
# 2. Every run unpacks a new copy into a temporary directory (a root a command has run in is never
#    used again), bind-mounts it on itself (so that `unshare --propagation private`, which the VM
#    tier runs inside it, finds a mount point at its /), mounts /proc, /sys, /dev, /dev/pts and
#    /dev/shm, copies /etc/resolv.conf in (apt uses the sources.list debootstrap wrote) and
#    bind-mounts the slow tiers' keyed caches (CACHES below) at their default paths.
# 3. A clean export of the tree goes to /root/libvgalloc: `git archive HEAD`, committed content
#    only (build trees and anything else a clean clone does not hold stay out).
# 4. The commands run in a private mount namespace with a minimal environment (env -i), stdin
#    /dev/null; on any exit every process left in the root is killed, everything mounted in it is
#    unmounted and the directory is deleted (only once no mount remains under it).
#
# Usage: scripts/fresh-root.sh [demo] [test]   the README's demo and/or test command (default both,
#                                              demo first, in the same root; a failing command
#                                              does not stop the next one)
#        scripts/fresh-root.sh -c 'COMMAND'    any shell command instead (in /root/libvgalloc)
# Environment:
#   VGALLOC_CI_CACHE_ROOT          parent of every cache below (default /var/cache); an empty
#                                  directory here forces a cold run
#   VGALLOC_FRESH_ROOT_CACHE       the tarball cache
#                                  (default $VGALLOC_CI_CACHE_ROOT/vgalloc-fresh-root)
#   VGALLOC_VM_CACHE, VGALLOC_FUZZ_CACHE   the host directories behind the bind-mounted caches
#                                  (default $VGALLOC_CI_CACHE_ROOT/vgalloc-vm, .../vgalloc-fuzz)
#   VGALLOC_FRESH_ROOT_MIRROR      the Debian mirror (default http://deb.debian.org/debian)
#   VGALLOC_FRESH_ROOT_SRC         HEAD (default) or worktree: the tracked files as they are on disk
#                                  plus untracked, not ignored ones (to try uncommitted changes)
#   VGALLOC_FRESH_ROOT_TMPDIR      where the root is unpacked (default /var/tmp; ~1.5 GB at peak)
#   VGALLOC_FRESH_ROOT_LOGS        on failure, the build trees' test and VM logs are copied here
#                                  (default <repo>/build-fresh-root-logs)
# Exit: 0 every command passed; 1 a command failed; 2 the root could not be prepared.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

SUITE=bookworm
VARIANT=minbase
# The keyed caches of the slow tiers, bind-mounted from the host into the root: "ENV_VAR:path in
# the root". The host directory is $ENV_VAR, else $VGALLOC_CI_CACHE_ROOT/<basename of the path>.
# They hold what the project's own scripts build (the VM rig, the fuzz corpora), so sharing them
# hides no install step a newcomer needs.
CACHES=(
	VGALLOC_VM_CACHE:/var/cache/vgalloc-vm
	VGALLOC_FUZZ_CACHE:/var/cache/vgalloc-fuzz
	VGALLOC_VENUS_CACHE:/var/cache/vgalloc-venus
)
# Where the tree lands in the root, and the environment the commands see (a root login's).
TREE=/root/libvgalloc
ROOT_ENV=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root USER=root
	LOGNAME=root SHELL=/bin/bash VGALLOC_VM_REQUIRED=1)

cache_root=${VGALLOC_CI_CACHE_ROOT:-/var/cache}
tar_cache=${VGALLOC_FRESH_ROOT_CACHE:-$cache_root/vgalloc-fresh-root}
mirror=${VGALLOC_FRESH_ROOT_MIRROR:-http://deb.debian.org/debian}
src=${VGALLOC_FRESH_ROOT_SRC:-HEAD}
tmp_base=${VGALLOC_FRESH_ROOT_TMPDIR:-/var/tmp}
log_dir=${VGALLOC_FRESH_ROOT_LOGS:-$repo/build-fresh-root-logs}

log() {
	printf 'fresh-root: %s\n' "$*" >&2
}
die() {
	log "ERROR: $*"
	exit 2
}

now() {
	date +%s.%N
}
# since <start>: seconds elapsed, and the same in minutes, e.g. "83.2s (1.39 min)".
since() {
	awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs (%.2f min)", b - a, (b - a) / 60 }'
}

# readme_command <demo|test>: the first line of the exported README.md that is (after indentation)
# `bash scripts/<name>.sh` or `scripts/<name>.sh`, with optional arguments; `bash
# scripts/<name>.sh` when there is none.
readme_command() {
	local name=$1 cmd="" re readme
	re="^[[:space:]]*(bash[[:space:]]+)?(\\./)?scripts/$name\\.sh([[:space:]].*)?\$"
	if [[ $src == HEAD ]]; then
		readme=$(git -C "$repo" show HEAD:README.md 2>/dev/null || true)
	else
		readme=$(cat "$repo/README.md" 2>/dev/null || true)
	fi
	cmd=$(grep -m1 -E "$re" <<<"$readme" |
		sed -E 's/^[[:space:]]+//; s/[[:space:]]+$//') || true
	if [[ -z $cmd ]]; then
		log "README.md documents no scripts/$name.sh command; using the default"
		cmd="bash scripts/$name.sh"
	fi
	printf '%s\n' "$cmd"
}

# mounts_under <dir>: mount points at or below <dir> in this namespace, deepest first.
mounts_under() {
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

# umount_under <dir>: unmount everything at or below <dir>, deepest first (lazily when busy).
umount_under() {
	local m
	while read -r m; do
		[[ -n $m ]] || continue
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done < <(mounts_under "$1")
}

# remove_tree <dir>: delete <dir>, but never while anything is mounted below it (a bind mount of a
# host cache is on the same file system, so --one-file-system alone would not stop rm there).
remove_tree() {
	umount_under "$1"
	if [[ -n $(mounts_under "$1") ]]; then
		log "mounts remain under $1; not deleting it:"
		mounts_under "$1" >&2
		return 1
	fi
	rm -rf --one-file-system "$1"
}

# --- the host side: root, a private mount namespace, traps -------------------------------------

[[ $(id -u) -eq 0 ]] || die "needs root (debootstrap, chroot, mount)"

# Everything mounted from here on lives in a private mount namespace: the host never sees it, and
# a killed run leaves no mount behind. No --fork: this script keeps its PID and receives every
# signal itself; VGALLOC_FRESH_ROOT_NS=$$ marks that this very process is already inside.
if [[ ${VGALLOC_FRESH_ROOT_NS:-} != "$$" ]]; then
	command -v unshare >/dev/null || die "unshare (util-linux) is missing"
	exec unshare --mount --propagation private env VGALLOC_FRESH_ROOT_NS=$$ \
		bash "${BASH_SOURCE[0]}" "$@"
fi

command -v git >/dev/null || die "needs git to export the tree"
git -C "$repo" rev-parse --verify -q HEAD >/dev/null || die "$repo is no git checkout with a HEAD"
[[ $src == HEAD || $src == worktree ]] || die "VGALLOC_FRESH_ROOT_SRC must be HEAD or worktree"
names=() cmds=()
while (($#)); do
	case $1 in
	demo | test)
		names+=("$1")
		cmds+=("$(readme_command "$1")")
		;;
	-c)
		(($# >= 2)) || die "-c needs a command"
		cmds+=("$2")
		names+=("command${#cmds[@]}")
		shift
		;;
	*) die "usage: scripts/fresh-root.sh [demo] [test] | -c COMMAND (not '$1')" ;;
	esac
	shift
done
if ((${#cmds[@]} == 0)); then
	names=(demo test)
	cmds=("$(readme_command demo)" "$(readme_command test)")
fi

work="" root="" session="" partial=""

# run_pids: every process of this run still alive: those chrooted anywhere under the work
# directory (the root, and the VM tier's chroot nested in it) and those in the session of the
# command that is running (setsid below; GNU timeout, for one, leaves the process group).
run_pids() {
	local p pid r stat sid
	for p in /proc/[0-9]*; do
		pid=${p#/proc/}
		[[ $pid != "$$" ]] || continue
		r=$(readlink "$p/root" 2>/dev/null) || continue
		if [[ $r == "$work"/* ]]; then
			echo "$pid"
		elif [[ -n $session ]] && stat=$(cat "$p/stat" 2>/dev/null); then
			read -r _ _ _ sid _ <<<"${stat##*) }"
			[[ $sid != "$session" ]] || echo "$pid"
		fi
	done
}

kill_run() {
	local i pids
	for ((i = 0; i < 20; i++)); do
		pids=$(run_pids)
		[[ -n $pids ]] || return 0
		# shellcheck disable=SC2086 # one pid a word
		kill -KILL $pids 2>/dev/null || true
		sleep 0.5
	done
	log "processes survive in the root: $(run_pids | tr '\n' ' ')"
}

# in_session <command...>: run a command in a session of its own, so that whatever it leaves
# behind is found and killed when it returns or when this script is stopped.
in_session() {
	local rc=0
	setsid "$@" &
	session=$!
	wait "$session" || rc=$?
	kill_run
	session=""
	return "$rc"
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	[[ -z $partial ]] || rm -f "$partial"
	if [[ -n $work ]]; then
		kill_run
		remove_tree "$work" || rc=2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

t_total=$(now)
mkdir -p "$tmp_base"
work=$(mktemp -d "$tmp_base/vgalloc-fresh-root.XXXXXX")
root=$work/root
times=()

# --- the cached minbase tarball -----------------------------------------------------------------

if ! command -v debootstrap >/dev/null; then
	log "installing debootstrap on the host"
	apt-get update || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap ||
		die "apt-get install debootstrap failed"
fi
# shellcheck disable=SC2016 # ${Version} is dpkg-query's format, not the shell's
db_version=$(dpkg-query -W -f '${Version}' debootstrap 2>/dev/null) ||
	db_version=$(debootstrap --version | awk '{ print $2 }')
[[ -n $db_version ]] || die "cannot tell the debootstrap version"
mirror_hash=$(printf '%s' "$mirror" | sha256sum | cut -c1-12)
tarball=$tar_cache/$SUITE-$VARIANT-${db_version//[:\/]/_}-$mirror_hash.tar

mkdir -p "$tar_cache"
exec 8>>"$tar_cache/.lock"
built=cached
if [[ ! -f $tarball ]]; then
	flock -w 1800 8 || die "timed out waiting for $tar_cache/.lock"
	if [[ ! -f $tarball ]]; then # not built by another run while this one waited
		log "debootstrap --variant=$VARIANT $SUITE from $mirror (debootstrap $db_version)"
		t=$(now)
		boot=$work/bootstrap
		partial=$tarball.tmp
		# debootstrap mounts /proc and /sys in the target itself; in this namespace a
		# failure cannot leave them mounted on the host, and remove_tree unmounts them.
		if ! in_session debootstrap --variant="$VARIANT" "$SUITE" "$boot" "$mirror" \
			>"$work/debootstrap.log" 2>&1 </dev/null; then
			tail -n 30 "$work/debootstrap.log" >&2
			[[ ! -f $boot/debootstrap/debootstrap.log ]] ||
				tail -n 30 "$boot/debootstrap/debootstrap.log" >&2
			die "debootstrap failed"
		fi
		umount_under "$boot"
		tar --numeric-owner --xattrs --xattrs-include='*' -C "$boot" -cf "$tarball.tmp" . ||
			die "cannot write $tarball.tmp"
		printf 'suite %s\nvariant %s\ndebootstrap %s\nmirror %s\ncreated %s\n' "$SUITE" \
			"$VARIANT" "$db_version" "$mirror" "$(date -u +%FT%TZ)" >"$tarball.txt"
		mv "$tarball.tmp" "$tarball"
		partial=""
		remove_tree "$boot" || die "cannot remove $boot"
		built=built
		times+=("$(printf '%-14s %s' debootstrap "$(since "$t")")")
		log "debootstrap and tarball: $(since "$t")"
	fi
fi
flock -s -w 1800 8 || die "timed out waiting for $tar_cache/.lock"

# --- a new root from it -------------------------------------------------------------------------

t=$(now)
mkdir "$root"
tar --numeric-owner --xattrs --xattrs-include='*' -C "$root" -xpf "$tarball" ||
	die "cannot unpack $tarball"
flock -u 8
[[ -x $root/usr/bin/apt-get && -f $root/etc/debian_version ]] ||
	die "$tarball holds no Debian root"
times+=("$(printf '%-14s %s' unpack "$(since "$t")")")
log "unpacked $(basename "$tarball") ($built; Debian $(cat "$root/etc/debian_version"))" \
	"in $(since "$t")"

t=$(now)
# The root bind-mounted on itself: inside the chroot / is then a mount point, as on a machine
# (`unshare --propagation private` and `mountpoint /` need one).
mount --bind "$root" "$root"
for d in proc sys dev dev/pts dev/shm etc var/cache root; do
	[[ -d $root/$d && ! -L $root/$d ]] || die "$root/$d is not a plain directory"
done
mount -t proc proc "$root/proc"
mount --bind /sys "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
mount -t tmpfs -o nosuid,nodev,mode=1777 shm "$root/dev/shm"
cp -L --remove-destination /etc/resolv.conf "$root/etc/resolv.conf"

for entry in "${CACHES[@]}"; do
	var=${entry%%:*}
	path=${entry#*:}
	host=${!var:-$cache_root/$(basename "$path")}
	mkdir -p "$host" "$root$path"
	mount --bind "$host" "$root$path"
	log "cache $host -> $path ($(du -sh "$host" 2>/dev/null | cut -f1))"
done

# The tree: committed content only (HEAD), or for trying changes the files on disk.
mkdir -p "$root$TREE"
if [[ $src == HEAD ]]; then
	git -C "$repo" archive --format=tar HEAD | tar -C "$root$TREE" -xf - ||
		die "git archive HEAD failed"
	log "tree: git archive $(git -C "$repo" rev-parse --short HEAD)"
else
	(
		cd "$repo"
		git ls-files -z --cached --others --exclude-standard |
			while IFS= read -r -d '' f; do
				[[ ! -e $f && ! -L $f ]] || printf '%s\0' "$f"
			done |
			tar --null -T - --owner=0 --group=0 -cf -
	) | tar -C "$root$TREE" -xf - || die "cannot copy the working tree"
	log "tree: the working tree of $(git -C "$repo" rev-parse --short HEAD)" \
		"($(git -C "$repo" status --porcelain | wc -l) paths changed or untracked)"
fi
times+=("$(printf '%-14s %s' mounts+tree "$(since "$t")")")

# --- the commands -------------------------------------------------------------------------------

failed=()
for i in "${!cmds[@]}"; do
	name=${names[i]}
	cmd=${cmds[i]}
	printf '\n=== fresh-root %s: VGALLOC_VM_REQUIRED=1 %s\n' "$name" "$cmd"
	t=$(now)
	rc=0
	in_session chroot "$root" /usr/bin/env -i "${ROOT_ENV[@]}" /bin/bash -c "cd $TREE && $cmd" \
		</dev/null || rc=$?
	status=ok
	if ((rc != 0)); then
		status="FAILED (exit $rc)"
		failed+=("$name")
	fi
	times+=("$(printf '%-14s %s %s' "$name" "$(since "$t")" "$status")")
	printf '=== fresh-root %s: %s %s\n' "$name" "$(since "$t")" "$status"
done

if ((${#failed[@]})); then
	# The root is deleted on exit: keep the build trees' test and VM logs.
	rm -rf "$log_dir"
	mkdir -p "$log_dir"
	(
		cd "$root$TREE"
		find . -path ./tests -prune -o -type f \( -path '*/Testing/Temporary/*.log' \
			-o -name 'vm-*.log' -o -name 'CMake*.log' -o -name '*.valgrind.log' \) \
			-print0 | xargs -0 -r cp --parents -t "$log_dir"
	) || true
	if rmdir "$log_dir" 2>/dev/null; then
		log "no logs to keep from the failed run"
	else
		log "logs of the failed run copied to $log_dir"
	fi
fi

printf '\n=== fresh-root times (%s %s, tarball %s)\n' "$SUITE" "$VARIANT" "$built"
printf '%s\n' "${times[@]}"
printf '%-14s %s\n' total "$(since "$t_total")"
if ((${#failed[@]})); then
	log "FAILED: ${failed[*]}"
	exit 1
fi
