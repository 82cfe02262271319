#!/bin/bash
# Installs what `make check-monitoring` needs on Debian 12, with apt, only
# when missing: promtool (Debian ships it in the `prometheus` package) and
# jq. Quiet and quick when both are there.
#
# The `prometheus` package is a server as well: its postinst starts it
# (invoke-rc.d without systemd, deb-systemd-invoke with it) and enables it
# at boot. We want only its promtool, so while apt runs, a policy-rc.d that
# denies the start of `prometheus` is put in place when the machine has
# none (a machine that has one, like a container image, already decides);
# on a systemd machine the unit is then disabled again, only when this
# script installed the package.
#
# Usage: tests/monitoring/deps.sh     (as root when something is missing)
set -euo pipefail

say() { printf 'monitoring-deps: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

PACKAGES=(prometheus jq)
POLICY=/usr/sbin/policy-rc.d

missing=()
for p in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = "installed" ] || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

[ "$(id -u)" -eq 0 ] || die "must run as root to install: ${missing[*]}"

our_policy=0
out=$(mktemp)
cleanup() {
	rm -f "$out"
	if [ "$our_policy" -eq 1 ]; then
		rm -f "$POLICY"
	fi
}
trap cleanup EXIT

if [ ! -e "$POLICY" ]; then
	# policy-rc.d(8) gets the init script's name first: 101 is "denied".
	# shellcheck disable=SC2016 # $1 is the policy script's
	printf '#!/bin/sh\n[ "$1" = prometheus ] && exit 101\nexit 0\n' >"$POLICY"
	chmod 0755 "$POLICY"
	our_policy=1
fi

say "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get -o DPkg::Lock::Timeout=600 update >"$out" 2>&1; then
	cat "$out" >&2
	die "apt-get update failed"
fi
if ! apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}" \
	>"$out" 2>&1; then
	cat "$out" >&2
	die "apt-get install failed"
fi

if [[ " ${missing[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ]; then
	systemctl disable --quiet prometheus.service 2>/dev/null || true
fi
command -v promtool >/dev/null || die "promtool not found after installing prometheus"
