#!/usr/bin/env bash
# distcheck.sh: a `make dist` tarball builds and installs on its own.
#
#   packaging/distcheck.sh TARBALL
#
# Unpacks it in a temporary directory (no git there), builds the programs
# and the man pages, installs everything with PREFIX=/usr into a staging
# root, and checks the main paths. Removes the directory afterwards, or
# keeps and names it when something failed.
set -euo pipefail

tarball=$(realpath "$1")
name=$(basename "$tarball" .tar.gz)
work=$(mktemp -d "${TMPDIR:-/tmp}/vmtimesync-distcheck.XXXXXX")
cleanup() {
	local rc=$?
	if [ "$rc" -eq 0 ]; then rm -rf "$work"; else echo "distcheck: failed; kept $work" >&2; fi
}
trap cleanup EXIT

tar -C "$work" -xzf "$tarball"
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES BUILD DESTDIR
make -C "$work/$name" -j2 PREFIX=/usr all man
make -C "$work/$name" PREFIX=/usr DESTDIR="$work/root" install install-extra
for f in usr/sbin/vmtimesync usr/sbin/vmtimesyncd etc/libvirt/hooks/qemu.d/vmtimesync; do
	test -x "$work/root/$f" || { echo "distcheck: $f not installed" >&2; exit 1; }
done
for f in etc/vmtimesync/vmtimesync.conf usr/lib/systemd/system/vmtimesyncd.service \
	usr/share/man/man8/vmtimesyncd.8 usr/share/bash-completion/completions/vmtimesync; do
	test -f "$work/root/$f" || { echo "distcheck: $f not installed" >&2; exit 1; }
done
# And out again: uninstall leaves nothing but directories.
make -C "$work/$name" PREFIX=/usr DESTDIR="$work/root" uninstall uninstall-extra
left=$(find "$work/root" ! -type d)
if [ -n "$left" ]; then
	printf 'distcheck: uninstall left:\n%s\n' "$left" >&2
	exit 1
fi
echo "distcheck: $tarball builds, installs and uninstalls"
