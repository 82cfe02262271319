#!/usr/bin/env bash
# test-rpm.sh: check a built vmtimesync .rpm.
#
#   packaging/test-rpm.sh [FILE.rpm | DIR]      (default DIR: build)
#
# Reads the package's metadata (config files, scriptlets), unpacks it with
# rpm2cpio into a throwaway root and checks what was installed (see
# test-root.sh). Touches nothing outside a temporary directory.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=packaging/test-root.sh
. "$here/test-root.sh"

arg=${1:-$here/../build}
if [ -d "$arg" ]; then
	rpmfile=$(ls -t "$arg"/vmtimesync-[0-9]*.rpm 2>/dev/null | grep -v '\.src\.rpm$' | head -n 1)
else
	rpmfile=$arg
fi
if [ -z "$rpmfile" ] || [ ! -f "$rpmfile" ]; then
	echo "test-rpm: no vmtimesync-*.rpm in $arg: run 'make rpm' first" >&2
	exit 1
fi
echo "test-rpm: $rpmfile"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

version=$(rpm -qp --qf '%{VERSION}' "$rpmfile" 2>/dev/null)
tr_check "config file /etc/vmtimesync/vmtimesync.conf" \
	sh -c "rpm -qpc '$rpmfile' 2>/dev/null | grep -qx /etc/vmtimesync/vmtimesync.conf"
tr_check "the hook is not a config file" \
	sh -c "! rpm -qpc '$rpmfile' 2>/dev/null | grep -q /etc/libvirt/hooks"
tr_check "owns /etc/libvirt/hooks/qemu.d" \
	sh -c "rpm -qpl '$rpmfile' 2>/dev/null | grep -qx /etc/libvirt/hooks/qemu.d"
# The scriptlets come from systemd-rpm-macros, present on RHEL and Fedora
# build machines; a build elsewhere has none.
if rpm --eval '%{?systemd_post:yes}' | grep -q yes; then
	tr_check "scriptlets handle vmtimesyncd.service" \
		sh -c "rpm -qp --scripts '$rpmfile' 2>/dev/null | grep -q vmtimesyncd.service"
else
	echo "test-rpm: no systemd-rpm-macros here: scriptlets not checked"
fi

mkdir "$tmp/root"
(cd "$tmp/root" && rpm2cpio "$rpmfile" | cpio -idm --quiet)
tr_check_root "$tmp/root" /usr/lib/systemd/system "$version"

echo "test-rpm: $tr_passed passed, $tr_failed failed"
[ "$tr_failed" -eq 0 ]
