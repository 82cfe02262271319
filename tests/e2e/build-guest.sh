#!/bin/bash
# Builds the tiny guest the e2e tests boot under TCG: Debian's own kernel
# (downloaded, unpacked, never installed) and an initramfs holding static
# busybox, the host's qemu-ga, util-linux's hwclock and GNU date (coreutils)
# with their libraries, the virtio modules and an /init that starts qemu-ga
# on the org.qemu.guest_agent.0 port.
#
# The guest behaves like a real Debian/Ubuntu/RHEL guest where it matters to
# vmtimesync: qemu-ga runs util-linux's /sbin/hwclock -w after every
# guest-set-time and answers only when it exits, which takes 0.5-2 s (it
# waits for the RTC's second boundary); the domain has ACPI, so the kernel
# runs on the tsc clocksource, not on jiffies.
#
# Usage: tests/e2e/build-guest.sh [OUTDIR]      (default build/guest)
# Produces OUTDIR/vmlinuz and OUTDIR/initramfs.img. Does nothing when they
# are up to date: same script, same kernel package, same busybox/qemu-ga and
# libraries. The unpacked kernel is cached in OUTDIR/kernel/ by version.
#
# Kernel command line switches the guest's /init honours (see sw_* below):
#   vts.nohwclock   remove /sbin/hwclock before qemu-ga starts, so every
#                   guest-set-time is refused as unsupported.
#   vts.busyboxhwclock  use busybox's hwclock (returns at once) instead of
#                   util-linux's: no real guest has it; only the benchmark
#                   uses it, to show the difference, and the soak, which
#                   measures the daemon's memory, not the guest.
#   vts.diskwriter  write 4 KiB to a new place on /dev/vda (O_DIRECT) every
#                   0.1 s, for ever: with error_policy='stop' a full or
#                   failing backing store pauses the guest (t_mass.sh).
set -euo pipefail

OUTDIR=${1:-build/guest}
SELF=$(readlink -f "${BASH_SOURCE[0]}")
QEMU_GA=/usr/sbin/qemu-ga
BUSYBOX=/bin/busybox
# util-linux's hwclock, as every real Linux guest has it (Debian 12:
# util-linux-extra).
HWCLOCK=/sbin/hwclock
# GNU date, as a Debian guest has it: "date -s @S.N" sets the nanoseconds
# too (busybox's date sets whole seconds), which vmtimesync's guest-exec
# fallback relies on.
GNU_DATE=/bin/date
# Load order matters: plain insmod, no modules.dep in the guest.
MODULES=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev
	virtio_pci virtio_console virtio_blk)

say() { printf 'build-guest: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

for tool in apt-cache apt-get dpkg-deb cpio gzip ldd sha256sum; do
	command -v "$tool" >/dev/null || die "missing $tool (run tests/e2e/setup-host.sh)"
done
[ -x "$QEMU_GA" ] || die "missing $QEMU_GA (apt-get install qemu-guest-agent)"
if [ ! -x "$BUSYBOX" ] || ! "$BUSYBOX" --list >/dev/null 2>&1; then
	die "missing $BUSYBOX (apt-get install busybox-static)"
fi
case $("$GNU_DATE" --version 2>/dev/null) in
*"GNU coreutils"*) ;;
*) die "$GNU_DATE is not GNU date (apt-get install coreutils)" ;;
esac
case $("$HWCLOCK" --version 2>/dev/null) in
*util-linux*) ;;
*) die "$HWCLOCK is not util-linux's hwclock (apt-get install util-linux-extra)" ;;
esac
file_is_static() { ! ldd "$1" >/dev/null 2>&1; }
file_is_static "$BUSYBOX" || die "$BUSYBOX is not static (apt-get install busybox-static)"

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)

# --- which kernel --------------------------------------------------------
# linux-image-amd64 depends on exactly one versioned image package, pinned
# with "(= VERSION)": one apt-cache call gives both name and version.
kernel_package() {
	apt-cache show --no-all-versions linux-image-amd64 2>/dev/null | awk '
		$1 == "Depends:" {
			for (i = 2; i <= NF; i++) if ($i ~ /^linux-image-/) {
				name = $i; sub(/,$/, "", name)
				ver = $(i + 2); sub(/\)?,?$/, "", ver)
				if ($(i + 1) != "(=") ver = ""
				print name, ver; exit
			}
		}'
}
read -r kpkg kver < <(kernel_package) || true
if [ -z "${kpkg:-}" ]; then
	say "apt lists do not know linux-image-amd64: apt-get update"
	apt-get update >/dev/null 2>&1 || true
	read -r kpkg kver < <(kernel_package) || true
fi
[ -n "${kpkg:-}" ] || die "cannot resolve the package linux-image-amd64 depends on"
if [ -z "${kver:-}" ]; then
	kver=$(apt-cache show --no-all-versions "$kpkg" 2>/dev/null |
		awk '$1 == "Version:" { print $2; exit }')
fi
[ -n "$kver" ] || die "no version known for $kpkg"

# Libraries qemu-ga, date and hwclock need, as ldd resolves them here.
mapfile -t LIBS < <({ ldd "$QEMU_GA"; ldd "$GNU_DATE"; ldd "$HWCLOCK"; } | awk '
	$2 == "=>" && $3 ~ /^\// { print $3 }
	$1 ~ /^\// { print $1 }' | sort -u)
[ "${#LIBS[@]}" -gt 0 ] || die "ldd found no libraries for $QEMU_GA"

# --- up to date? -----------------------------------------------------------
stamp=$({
	echo "kernel $kpkg $kver"
	sha256sum "$SELF" "$BUSYBOX" "$QEMU_GA" "$GNU_DATE" "$HWCLOCK" "${LIBS[@]}"
} | sha256sum | cut -d' ' -f1)
if [ -f "$OUTDIR/vmlinuz" ] && [ -f "$OUTDIR/initramfs.img" ] &&
	[ "$(cat "$OUTDIR/stamp" 2>/dev/null)" = "$stamp" ]; then
	exit 0
fi
say "building the guest in $OUTDIR ($kpkg $kver)"

work=$(mktemp -d "${TMPDIR:-/tmp}/vts-guest.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- kernel: download and unpack once per version -------------------------
kdir="$OUTDIR/kernel/$kpkg-$kver"
# A module added to MODULES since the cache was made: unpack again.
for m in "${MODULES[@]}"; do
	[ -f "$kdir/modules/$m.ko" ] || rm -f "$kdir/done"
done
if [ ! -f "$kdir/done" ]; then
	rm -rf "$OUTDIR/kernel"
	mkdir -p "$work/deb" "$kdir/modules"
	# apt's _apt user cannot write to a root-owned mktemp dir; let it.
	chown _apt "$work/deb" 2>/dev/null || true
	(cd "$work/deb" && apt-get download "$kpkg=$kver" >"$work/apt.log" 2>&1) || {
		cat "$work/apt.log" >&2
		die "apt-get download $kpkg failed"
	}
	dpkg-deb -x "$work"/deb/*.deb "$work/root"
	vmlinuz=$(find "$work/root/boot" -maxdepth 1 -name 'vmlinuz-*' 2>/dev/null | head -n1)
	[ -n "$vmlinuz" ] || die "no boot/vmlinuz-* in $kpkg"
	cp "$vmlinuz" "$kdir/vmlinuz"
	for m in "${MODULES[@]}"; do
		ko=$(find "$work"/root/lib/modules -name "$m.ko*" | head -n1)
		[ -n "$ko" ] || die "module $m not in $kpkg"
		case "$ko" in
		*.ko) cp "$ko" "$kdir/modules/$m.ko" ;;
		*.ko.xz) xz -dc "$ko" >"$kdir/modules/$m.ko" ;;
		*.ko.zst) zstd -qdc "$ko" >"$kdir/modules/$m.ko" ;;
		*) die "unknown module compression: $ko" ;;
		esac
	done
	rm -rf "$work/root" "$work/deb"
	touch "$kdir/done"
fi

# --- initramfs -------------------------------------------------------------
root="$work/initramfs"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib/modules,proc,sys,dev,run,tmp} \
	"$root"/{etc,root,var/run,var/lib}
cp "$BUSYBOX" "$root/bin/busybox"
"$BUSYBOX" --list-full | while read -r applet; do
	[ -e "$root/$applet" ] || [ -L "$root/$applet" ] ||
		ln -s /bin/busybox "$root/$applet"
done
# qemu-ga checks for exactly this path before it sets any time, then runs
# it. util-linux's, as real guests have; busybox's applet stays reachable
# for vts.busyboxhwclock.
rm -f "$root/sbin/hwclock"
cp -L "$HWCLOCK" "$root/sbin/hwclock"
cp "$QEMU_GA" "$root/usr/sbin/qemu-ga"
# GNU date in place of busybox's applet, where a Debian guest has it.
rm -f "$root/bin/date"
cp -L "$GNU_DATE" "$root/bin/date"
for lib in "${LIBS[@]}"; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
cp "$kdir"/modules/*.ko "$root/lib/modules/"
printf '%s\n' "${MODULES[@]}" >"$root/lib/modules/load-order"
echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"
# The kernel opens /dev/console before /init runs; devtmpfs comes later.
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true

cat >"$root/init" <<'EOF'
#!/bin/sh
# PID 1 of the vmtimesync e2e guest: start qemu-ga, then keep running.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /run /tmp
exec </dev/console >/dev/console 2>&1

log() { echo "vts-guest: $*"; }

# Switches from the kernel command line: vts.NAME[=VALUE] calls sw_NAME
# VALUE just before the agent starts. Add a switch by adding a function.
sw_nohwclock() {
	rm -f /sbin/hwclock
	log "removed /sbin/hwclock: guest-set-time will be refused"
}

sw_busyboxhwclock() {
	ln -sf /bin/busybox /sbin/hwclock
	log "busybox's hwclock in place of util-linux's"
}

# Keep writing to the disk, each write to a block not written before, so
# that a backing file on a full filesystem fails it (ENOSPC).
sw_diskwriter() {
	(
		i=0
		while :; do
			[ -b /dev/vda ] &&
				dd if=/dev/zero of=/dev/vda bs=4k count=1 seek=$i \
					oflag=direct 2>/dev/null && i=$((i + 1))
			sleep 0.1
		done
	) &
	log "writing to /dev/vda every 0.1 s"
}

for m in $(cat /lib/modules/load-order); do
	insmod "/lib/modules/$m.ko" || log "insmod $m failed"
done

for arg in $(cat /proc/cmdline); do
	case "$arg" in
	vts.*)
		name=${arg#vts.}
		value=
		case "$name" in *=*) value=${name#*=}; name=${name%%=*} ;; esac
		if command -v "sw_$name" >/dev/null 2>&1; then
			"sw_$name" "$value"
		else
			log "unknown switch $arg ignored"
		fi
		;;
	esac
done

# The agent's port is the vport named org.qemu.guest_agent.0; the device
# node may show up a little after the sysfs entry.
port=
tries=0
while [ -z "$port" ] && [ "$tries" -lt 50 ]; do
	for f in /sys/class/virtio-ports/*/name; do
		[ -r "$f" ] || continue
		if [ "$(cat "$f")" = "org.qemu.guest_agent.0" ]; then
			dev=/dev/${f#/sys/class/virtio-ports/}
			dev=${dev%/name}
			[ -c "$dev" ] && port=$dev
		fi
	done
	[ -n "$port" ] || { sleep 0.1; tries=$((tries + 1)); }
done

if [ -z "$port" ]; then
	log "no org.qemu.guest_agent.0 port: running without an agent"
else
	log "qemu-ga on $port"
	while :; do
		qemu-ga -m virtio-serial -p "$port" -t /run -f /run/qemu-ga.pid
		log "qemu-ga exited ($?), restarting"
		sleep 1
	done &
fi
# The clocksource decides whether the guest keeps time while its vCPU is
# starved (jiffies loses it): the test host's own tests check it is a
# real one.
log "clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)"
log "ready"
while :; do
	sleep 3600
done
EOF
chmod 755 "$root/init"

(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) |
	gzip -6 >"$work/initramfs.img"
cp "$kdir/vmlinuz" "$OUTDIR/vmlinuz.new"
mv "$OUTDIR/vmlinuz.new" "$OUTDIR/vmlinuz"
mv "$work/initramfs.img" "$OUTDIR/initramfs.img"
echo "$stamp" >"$OUTDIR/stamp"
say "done: $OUTDIR/vmlinuz, $OUTDIR/initramfs.img ($(du -k "$OUTDIR/initramfs.img" | cut -f1) KiB)"
