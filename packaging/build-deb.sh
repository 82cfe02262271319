#!/usr/bin/env bash
# build-deb.sh: build the Debian packages from a `make dist` tarball.
#
#   packaging/build-deb.sh TARBALL OUTDIR
#
# Unpacks TARBALL (vmtimesync-VERSION.tar.gz) in a temporary directory,
# uses it as the .orig.tar.gz, adds packaging/debian as debian/, runs
# dpkg-buildpackage (unsigned, source and binary) and lintian, and copies
# the results (.deb, .dsc, .changes, ...) and lintian.txt into OUTDIR. The
# temporary directory is removed, or kept and named when something failed.
# DEB_BUILD_OPTIONS is passed on (nocheck skips the unit tests).
set -euo pipefail

tarball=$(realpath "$1")
out=$(realpath "$2")
name=$(basename "$tarball" .tar.gz)
version=${name#vmtimesync-}

work=$(mktemp -d "${TMPDIR:-/tmp}/vmtimesync-deb.XXXXXX")
cleanup() {
	local rc=$?
	if [ "$rc" -eq 0 ]; then rm -rf "$work"; else echo "build-deb: failed; kept $work" >&2; fi
}
trap cleanup EXIT

cp "$tarball" "$work/vmtimesync_$version.orig.tar.gz"
tar -C "$work" -xzf "$tarball"
cp -a "$work/$name/packaging/debian" "$work/$name/debian"

# Nothing from a calling make (MAKEFLAGS, BUILD=...) may reach the build.
(cd "$work/$name" &&
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES -u BUILD -u DESTDIR \
		dpkg-buildpackage -us -uc -j2)

mkdir -p "$out"
# lintian refuses to run as root without saying so; --fail-on error makes
# an error (not a warning or an info) fail the build.
lintian --fail-on error --display-info "$work"/*.changes 2>&1 |
	grep -v '^running with root privileges is not recommended!$' | tee "$out/lintian.txt"
rc=${PIPESTATUS[0]}
if [ "$rc" -ne 0 ]; then
	echo "build-deb: lintian found errors (see above)" >&2
	exit "$rc"
fi
cp "$work"/*.deb "$work"/*.dsc "$work"/*.changes "$work"/*.buildinfo \
	"$work"/*.debian.tar.* "$work"/*.orig.tar.gz "$out/"
ls -1 "$work"/*.deb | sed "s|^$work/|build-deb: $out/|"
