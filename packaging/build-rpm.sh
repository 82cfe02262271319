#!/usr/bin/env bash
# build-rpm.sh: build the RPM packages from a `make dist` tarball.
#
#   packaging/build-rpm.sh TARBALL OUTDIR [RPMBUILD_OPTION]...
#
# Runs rpmbuild -ba in a temporary _topdir with the spec file from inside
# the tarball, and copies the binary and source RPMs into OUTDIR. The
# temporary directory is removed, or kept and named when something failed.
set -euo pipefail

tarball=$(realpath "$1")
out=$(realpath "$2")
shift 2
name=$(basename "$tarball" .tar.gz)

top=$(mktemp -d "${TMPDIR:-/tmp}/vmtimesync-rpm.XXXXXX")
cleanup() {
	local rc=$?
	if [ "$rc" -eq 0 ]; then rm -rf "$top"; else echo "build-rpm: failed; kept $top" >&2; fi
}
trap cleanup EXIT

mkdir -p "$top/SOURCES" "$top/SPECS"
cp "$tarball" "$top/SOURCES/"
tar -xzOf "$tarball" "$name/packaging/rpm/vmtimesync.spec" >"$top/SPECS/vmtimesync.spec"

env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES -u BUILD -u DESTDIR \
	rpmbuild -ba --define "_topdir $top" --define '_smp_mflags -j2' "$@" \
	"$top/SPECS/vmtimesync.spec"

mkdir -p "$out"
cp "$top"/RPMS/*/*.rpm "$top"/SRPMS/*.src.rpm "$out/"
for f in "$top"/RPMS/*/*.rpm "$top"/SRPMS/*.src.rpm; do
	echo "build-rpm: $out/$(basename "$f")"
done
