# shellcheck shell=bash
# sdhost.sh: a real systemd host on this machine, for tests/deploy/run.sh.
# Source it, call sd_init once, then sd_boot, sd_exec, sd_apt, sd_halt.
#
# systemd runs as PID 1 of its own namespaces (cgroup, PID, mount, network,
# UTS, IPC) in a chroot over an overlay of this machine's root: everything
# it writes goes to the overlay's upper directory, so nothing of the
# machine changes. The overlay and every other mount exist only in the
# namespace's mount namespace and vanish with it; the namespace ends when
# its PID 1 is killed. A second sd_boot over the same upper directory is a
# reboot of the same host.
#
# State ($SD_ROOT, removed by sd_cleanup unless SD_KEEP=1):
#   upper/ work/     the overlay's layers
#   share/           bind-mounted read-only at /vts inside
#   dpkg/            the package database, bound over /var/lib/dpkg
#   boot.log         the namespace's stdout and stderr (its init script)
#   console          bound over /dev/console inside
#   pid              the host PID of systemd (PID 1 inside)
#
# Functions print "sdhost: ..." on stderr and return non-zero on failure;
# they never exit the calling shell.

# The unit files a container-like boot must not start: consoles, the
# clock, kernel settings shared with the machine, udev, periodic jobs; and
# Debian's Prometheus server, which `make check-monitoring` installs on
# this machine for its promtool (enabled by its postinst, never started
# there): it is not under test, and in these namespaces it fails at once
# ("Failed to set up user namespacing"), failing the boot.
SD_MASK=(
	getty@.service serial-getty@.service console-getty.service
	systemd-timesyncd.service systemd-pstore.service
	systemd-binfmt.service proc-sys-fs-binfmt_misc.automount
	proc-sys-fs-binfmt_misc.mount systemd-sysctl.service
	systemd-modules-load.service systemd-udevd.service
	systemd-udevd-control.socket systemd-udevd-kernel.socket
	systemd-udev-trigger.service systemd-udev-settle.service
	systemd-hwdb-update.service systemd-random-seed.service
	systemd-firstboot.service prometheus.service
)
: "${SD_BOOT_TIMEOUT:=60}"

_sd_err() { printf 'sdhost: %s\n' "$*" >&2; }
_sd_now_ms() { echo $(($(date +%s%N) / 1000000)); }

_sd_alive() {
	local state
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
	state=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# sd_init: the state directory and the cleanup trap; SD_APT_CACHE, when
# set, is a directory kept between runs for apt's downloaded packages.
sd_init() {
	SD_ROOT=$(mktemp -d /var/tmp/vts-deploy.XXXXXX) || return 1
	mkdir -p "$SD_ROOT"/{upper,work,share,mnt}
	: >"$SD_ROOT/console"
	SD_TOKEN=$(basename "$SD_ROOT")
	SD_OWNER=$BASHPID
	export SD_ROOT SD_TOKEN SD_OWNER
	trap 'sd_cleanup' EXIT
	trap 'sd_cleanup; trap - EXIT; exit 130' INT
	trap 'sd_cleanup; trap - EXIT; exit 143' TERM
}

# The machine's cgroup mounts, as "TARGET FSTYPE OPTIONS" lines.
_sd_cgroup_mounts() {
	findmnt -rn -t cgroup,cgroup2 -o TARGET,FSTYPE,OPTIONS
}

# The init script: runs as PID 1 of the new namespaces, mounts the overlay
# and what systemd expects, prepares the overlay on the first boot, then
# becomes systemd.
_sd_write_init() {
	local r=$SD_ROOT/mnt u target fstype opts o keep m
	u=$(printf '%q ' "${SD_MASK[@]}")
	{
		cat <<EOF
#!/bin/bash
set -eu
R=$r
mount -t overlay overlay -o lowerdir=/,upperdir=$SD_ROOT/upper,workdir=$SD_ROOT/work \$R
if [ ! -e \$R/etc/.vts-deploy-prepared ]; then
	systemd-id128 new >\$R/etc/machine-id
	for u in $u; do ln -sfn /dev/null \$R/etc/systemd/system/\$u; done
	for t in /lib/systemd/system/*.timer /etc/systemd/system/timers.target.wants/*.timer; do
		[ -e "\$t" ] && ln -sfn /dev/null "\$R/etc/systemd/system/\$(basename "\$t")"
	done
	# This image's policy-rc.d forbids starting services on installation.
	rm -f \$R/usr/sbin/policy-rc.d
	# What a "make install" may have left on the machine would shadow the
	# package (/usr/local wins over /lib, and a conffile would be kept).
	rm -rf \$R/usr/local/lib/systemd/system/vmtimesyncd.service \\
		\$R/usr/local/sbin/vmtimesync \$R/usr/local/sbin/vmtimesyncd \\
		\$R/etc/libvirt/hooks/qemu.d/vmtimesync \$R/etc/vmtimesync \\
		\$R/etc/systemd/system/vmtimesyncd.service*
	touch \$R/etc/.vts-deploy-prepared
fi
mount -t proc proc \$R/proc
mount -t sysfs sysfs \$R/sys
mount -t tmpfs -o mode=755 tmpfs \$R/run
mount -t tmpfs -o mode=1777 tmpfs \$R/tmp
mount --rbind /dev \$R/dev
mount --bind $SD_ROOT/console \$R/dev/console
mount --bind $SD_ROOT/dpkg \$R/var/lib/dpkg
mkdir -p \$R/vts
mount --bind $SD_ROOT/share \$R/vts
mount -o remount,bind,ro \$R/vts
EOF
		if [ -n "${SD_APT_CACHE:-}" ]; then
			echo "mount --bind $SD_APT_CACHE \$R/var/cache/apt/archives"
		fi
		# Fresh cgroup mounts, as the machine has them: in the new cgroup
		# namespace their root is the cgroup sd_boot made.
		while read -r target fstype opts; do
			if [ "$fstype" = cgroup2 ]; then
				echo "mkdir -p \$R$target; mount -t cgroup2 cgroup2 \$R$target"
				continue
			fi
			keep=""
			for o in ${opts//,/ }; do
				case $o in
				rw | ro | relatime | noatime | nosuid | nodev | noexec | release_agent=*) ;;
				*) keep+=${keep:+,}$o ;;
				esac
			done
			echo "mkdir -p \$R$target; mount -t cgroup -o $keep cgroup \$R$target"
		done < <(_sd_cgroup_mounts) | {
			# A hybrid machine has a tmpfs holding the v1 hierarchies.
			if [ "$(findmnt -rn -o FSTYPE /sys/fs/cgroup)" = tmpfs ]; then
				echo "mount -t tmpfs -o mode=755 tmpfs \$R/sys/fs/cgroup"
			fi
			cat
		}
		echo "cd \$R"
		echo "exec chroot \$R /lib/systemd/systemd --system --log-target=journal"
	} >"$SD_ROOT/init.sh"
	m=$(_sd_cgroup_mounts | wc -l)
	[ "$m" -gt 0 ] || { _sd_err "no cgroup file system mounted"; return 1; }
	chmod 755 "$SD_ROOT/init.sh"
}

# Our own cgroup in every hierarchy, so that the namespace's systemd sees
# only its own processes and nothing else on the machine shares them.
_sd_enter_cgroups() {
	local target fstype opts cg f
	while read -r target fstype opts; do
		cg=$target/$SD_TOKEN
		mkdir -p "$cg" || return 1
		for f in cpuset.cpus cpuset.mems; do
			[ -e "$cg/$f" ] && [ -z "$(cat "$cg/$f")" ] && cat "$target/$f" >"$cg/$f"
		done
		echo "$BASHPID" >"$cg/cgroup.procs" || return 1
	done < <(_sd_cgroup_mounts)
}

# Remove our cgroups, deepest first, once nothing lives in them.
_sd_remove_cgroups() {
	local target fstype opts
	[ -n "${SD_TOKEN:-}" ] || return 0
	while read -r target fstype opts; do
		[ -d "$target/$SD_TOKEN" ] || continue
		find "$target/$SD_TOKEN" -depth -type d -exec rmdir {} + 2>/dev/null
		[ -d "$target/$SD_TOKEN" ] && _sd_err "could not remove $target/$SD_TOKEN"
	done < <(_sd_cgroup_mounts)
	return 0
}

# Whether a process on the machine holds dpkg's locks open (apt or dpkg
# at work): by /proc, which needs no tool.
_sd_dpkg_busy() {
	local fd
	for fd in /proc/[0-9]*/fd/*; do
		case $(readlink "$fd" 2>/dev/null) in
		/var/lib/dpkg/lock | /var/lib/dpkg/lock-frontend) return 0 ;;
		esac
	done
	return 1
}

# The machine's package database, copied while no dpkg runs on the
# machine, and bound over the overlay's: the overlay would otherwise read
# it from the machine as it changes, half-way through someone's
# installation.
_sd_snapshot_dpkg() {
	local deadline=$(($(_sd_now_ms) + 600000))
	[ -d "$SD_ROOT/dpkg" ] && return 0
	while :; do
		if ! _sd_dpkg_busy; then
			rm -rf "$SD_ROOT/dpkg"
			cp -a /var/lib/dpkg "$SD_ROOT/dpkg" &&
				[ -z "$(ls -A "$SD_ROOT/dpkg/updates" 2>/dev/null)" ] &&
				! _sd_dpkg_busy && return 0
		fi
		if [ "$(_sd_now_ms)" -ge "$deadline" ]; then
			_sd_err "dpkg has been busy on this machine for 10 min"
			return 1
		fi
		sleep 1
	done
}

# sd_boot: boot systemd over the overlay (the same upper directory as
# before, if booted before) and wait until it is running.
sd_boot() {
	local upid="" pid="" deadline state
	_sd_write_init || return 1
	_sd_snapshot_dpkg || return 1
	: >"$SD_ROOT/pid"
	(
		_sd_enter_cgroups || exit 1
		exec setsid unshare -Cpfmnui --propagation private "$SD_ROOT/init.sh" \
			</dev/null >>"$SD_ROOT/boot.log" 2>&1
	) &
	upid=$!
	deadline=$(($(_sd_now_ms) + SD_BOOT_TIMEOUT * 1000))
	# unshare -f forks PID 1 of the new namespace: its one child (before
	# the exec, the subshell's children are other commands).
	while [ -z "$pid" ]; do
		if [ "$(cat "/proc/$upid/comm" 2>/dev/null)" = unshare ]; then
			pid=$(awk '{ print $1 }' "/proc/$upid/task/$upid/children" 2>/dev/null)
		fi
		if ! _sd_alive "$upid" || [ "$(_sd_now_ms)" -ge "$deadline" ]; then
			_sd_err "the namespace did not start:"
			sed 's/^/  /' "$SD_ROOT/boot.log" >&2
			return 1
		fi
		[ -n "$pid" ] || sleep 0.05
	done
	echo "$pid" >"$SD_ROOT/pid"
	SD_UNSHARE_PID=$upid
	while :; do
		state=$(sd_exec systemctl is-system-running 2>/dev/null)
		case $state in running | degraded) break ;; esac
		if ! _sd_alive "$pid" || [ "$(_sd_now_ms)" -ge "$deadline" ]; then
			_sd_err "systemd is not running after ${SD_BOOT_TIMEOUT}s (state '${state}'):"
			tail -n 20 "$SD_ROOT/boot.log" | sed 's/^/  /' >&2
			return 1
		fi
		sleep 0.2
	done
	# For the caller: running, or degraded when a unit failed.
	# shellcheck disable=SC2034
	SD_STATE=$state
}

sd_pid() { cat "$SD_ROOT/pid" 2>/dev/null; }

# The environment of every command inside: nothing of ours leaks in.
_sd_env() {
	env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive SYSTEMD_PAGER= "$@"
}

# sd_exec CMD...: run CMD inside every namespace of the host.
sd_exec() {
	local pid
	pid=$(sd_pid)
	_sd_alive "$pid" || { _sd_err "the systemd host is not running"; return 1; }
	_sd_env nsenter -t "$pid" -a -r -w -- "$@"
}

# sd_apt CMD...: the same, but in the machine's network namespace (apt
# needs the mirror) and cgroup.
sd_apt() {
	local pid
	pid=$(sd_pid)
	_sd_alive "$pid" || { _sd_err "the systemd host is not running"; return 1; }
	_sd_env nsenter -t "$pid" -m -p -u -i -r -w -- "$@"
}

# sd_halt: end the namespace (SIGKILL of its PID 1 kills every process in
# it, QEMU included) and wait for it; its mounts go with it.
sd_halt() {
	local pid
	pid=$(sd_pid)
	if _sd_alive "$pid"; then
		kill -KILL "$pid"
		for _ in $(seq 100); do
			_sd_alive "$pid" || break
			sleep 0.1
		done
	fi
	if [ -n "${SD_UNSHARE_PID:-}" ]; then
		wait "$SD_UNSHARE_PID" 2>/dev/null
		SD_UNSHARE_PID=
	fi
	# Every process of the namespace is gone when its cgroups are empty.
	for _ in $(seq 100); do
		_sd_cgroup_procs_left || break
		sleep 0.1
	done
	_sd_remove_cgroups
	: >"$SD_ROOT/pid"
}

_sd_cgroup_procs_left() {
	local target fstype opts
	while read -r target fstype opts; do
		[ -d "$target/$SD_TOKEN" ] || continue
		find "$target/$SD_TOKEN" -name cgroup.procs -exec cat {} + 2>/dev/null | grep -q . && return 0
	done < <(_sd_cgroup_mounts)
	return 1
}

# sd_cleanup: halt and remove the state (SD_KEEP=1 keeps it). Only in the
# shell of sd_init; safe to call twice.
sd_cleanup() {
	[ -n "${SD_ROOT:-}" ] && [ -d "$SD_ROOT" ] || return 0
	[ "${SD_OWNER:-}" = "$BASHPID" ] || return 0
	sd_halt
	if [ "${SD_KEEP:-0}" = 1 ]; then
		_sd_err "SD_KEEP=1: leaving $SD_ROOT"
	else
		rm -rf "$SD_ROOT"
	fi
	SD_ROOT=
}
