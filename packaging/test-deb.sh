#!/usr/bin/env bash
# test-deb.sh: check a built vmtimesync .deb.
#
#   packaging/test-deb.sh [FILE.deb | DIR]      (default DIR: build)
#
# Reads the package's control data (dependencies, conffiles, maintainer
# scripts), unpacks it with dpkg -x into a throwaway root and checks what
# was installed: programs, unit, hook, configuration, man pages, completion
# (see test-root.sh). Touches nothing outside a temporary directory.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=packaging/test-root.sh
. "$here/test-root.sh"

arg=${1:-$here/../build}
if [ -d "$arg" ]; then
	# The newest vmtimesync_*.deb (not a -dbgsym).
	deb=$(ls -t "$arg"/vmtimesync_*.deb 2>/dev/null | head -n 1)
else
	deb=$arg
fi
if [ -z "$deb" ] || [ ! -f "$deb" ]; then
	echo "test-deb: no vmtimesync_*.deb in $arg: run 'make deb' first" >&2
	exit 1
fi
echo "test-deb: $deb"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

field() { dpkg-deb -f "$deb" "$1"; }
version=$(field Version)
upstream=${version%-*}

[ "$(field Package)" = vmtimesync ] && tr_ok || tr_fail "Package is '$(field Package)'"
depends=$(field Depends)
for lib in libvirt0 libjson-c5; do
	case $depends in *"$lib"*) tr_ok ;; *) tr_fail "Depends lacks $lib: $depends" ;; esac
done

dpkg-deb -e "$deb" "$tmp/DEBIAN"
# Everything in /etc is a conffile: the configuration, and the hook (so
# that deleting it is kept across upgrades).
for f in /etc/vmtimesync/vmtimesync.conf /etc/libvirt/hooks/qemu.d/vmtimesync; do
	tr_check "conffile $f" grep -qx "$f" "$tmp/DEBIAN/conffiles"
done
tr_check "nothing outside /etc is a conffile" test -z "$(grep -v '^/etc/' "$tmp/DEBIAN/conffiles")"
# Installed enabled and started, restarted on upgrade (dh_installsystemd).
tr_check "postinst enables vmtimesyncd.service" \
	grep -q "deb-systemd-helper enable 'vmtimesyncd.service'" "$tmp/DEBIAN/postinst"
tr_check "postinst starts or restarts vmtimesyncd.service" \
	grep -Eq "deb-systemd-invoke (restart|start|\\\$_dh_action) 'vmtimesyncd.service'" "$tmp/DEBIAN/postinst"
tr_check "postrm purges the unit's state" grep -q "deb-systemd-helper purge 'vmtimesyncd.service'" \
	"$tmp/DEBIAN/postrm"
# The hook stays (a conffile) after remove: libvirtd must no longer run it.
tr_check "postrm makes the kept hook non-executable on remove" \
	grep -q 'chmod 0644 "\$HOOK"' "$tmp/DEBIAN/postrm"
tr_check "postinst makes the hook executable again" \
	grep -q 'chmod 0755 "\$HOOK"' "$tmp/DEBIAN/postinst"

mkdir "$tmp/root"
dpkg -x "$deb" "$tmp/root"
tr_check_root "$tmp/root" /lib/systemd/system "$upstream"

tr_check "README.Debian installed" test -f "$tmp/root/usr/share/doc/vmtimesync/README.Debian"
for doc in deployment.md guests.md monitoring.md; do
	tr_check "$doc installed" sh -c "ls '$tmp/root/usr/share/doc/vmtimesync/$doc'* >/dev/null"
done

echo "test-deb: $tr_passed passed, $tr_failed failed"
[ "$tr_failed" -eq 0 ]
