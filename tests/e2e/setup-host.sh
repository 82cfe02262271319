#!/bin/bash
# Installs what building vmtimesync and running the e2e test host need on a
# Debian 12 machine, and the user and group libvirtd's QEMU driver insists on.
# Idempotent: silent and quick when everything is already there.
#
# Usage: tests/e2e/setup-host.sh [-v]     (as root)
set -euo pipefail

verbose=0
[ "${1:-}" = "-v" ] && verbose=1

say() { printf 'setup-host: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# Build: compiler, pkg-config, headers. Test host: libvirtd + QEMU (TCG) +
# the guest agent and what build-guest.sh packs into the initramfs
# (util-linux-extra: the guest's hwclock, as real guests have it). Tools:
# jq checks JSON output, util-linux gives unshare/nsenter, procps gives ps.
# libvirt-l10n and locales: a test host whose libvirtd speaks Russian.
# python3: a socket that accepts and never answers (t_connect.sh).
# valgrind: the memcheck runs (tests/memcheck/). clang-format: make check-format.
# qemu-utils: qemu-img makes the qcow2 disk internal snapshots need.
PACKAGES=(
	gcc libc6-dev make pkg-config
	libvirt-dev libjson-c-dev libcmocka-dev
	libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
	qemu-system-x86 qemu-guest-agent
	busybox-static cpio gzip
	jq util-linux util-linux-extra procps
	libvirt-l10n locales python3
	valgrind clang-format
	qemu-utils
)

[ "$(id -u)" -eq 0 ] || die "must run as root (it installs packages and users)"
command -v dpkg-query >/dev/null || die "not a Debian-like system (no dpkg-query)"

missing=()
for p in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = "installed" ] || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
	say "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	out=$(mktemp)
	trap 'rm -f "$out"' EXIT
	if ! apt-get update >"$out" 2>&1; then
		cat "$out" >&2
		die "apt-get update failed"
	fi
	if ! apt-get install -y --no-install-recommends "${missing[@]}" >"$out" 2>&1; then
		cat "$out" >&2
		die "apt-get install failed"
	fi
	[ "$verbose" -eq 1 ] && cat "$out" >&2
elif [ "$verbose" -eq 1 ]; then
	say "all ${#PACKAGES[@]} packages present"
fi

# The package lists are needed later by build-guest.sh (apt-cache depends,
# apt-get download); a fresh image may have none at all.
if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
	say "no apt package lists yet: apt-get update"
	apt-get update >/dev/null 2>&1 || die "apt-get update failed"
fi

# The locale of t_locale.sh's test host: Debian 12's libvirt-l10n translates
# "QEMU guest agent is not connected" into Russian (not into German).
if ! locale -a 2>/dev/null | grep -qx 'ru_RU.utf8'; then
	localedef -i ru_RU -f UTF-8 ru_RU.UTF-8 || die "localedef ru_RU.UTF-8 failed"
	say "made the locale ru_RU.UTF-8"
fi

# libvirt's QEMU driver refuses to load without these: it resolves its
# built-in default user and group (libvirt-qemu:libvirt-qemu in Debian's
# build) even when qemu.conf says root. Debian's libvirt-daemon-system would
# create them; the test host does not need that package.
for g in kvm libvirt-qemu; do
	if ! getent group "$g" >/dev/null; then
		groupadd --system "$g"
		say "created group $g"
	fi
done
if ! getent passwd libvirt-qemu >/dev/null; then
	useradd --system --gid kvm --groups libvirt-qemu \
		--home-dir /var/lib/libvirt --no-create-home \
		--shell /usr/sbin/nologin libvirt-qemu
	say "created user libvirt-qemu"
fi
exit 0
