#!/bin/bash
# fuzz/deps.sh: install what the fuzz targets need on Debian: clang, its
# libFuzzer runtime (Debian ships libclang_rt.fuzzer in libclang-rt-N-dev,
# which clang does not pull in) and json-c's headers. Quick and silent when
# all is there; `make fuzz-deps`.
#
# Usage: fuzz/deps.sh
set -euo pipefail

say() { printf 'fuzz-deps: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]
}

apt_install() {
	local out
	[ "$(id -u)" -eq 0 ] || die "missing packages $*: run as root, or install them"
	say "installing: $*"
	out=$(mktemp)
	trap 'rm -f "$out"' RETURN
	export DEBIAN_FRONTEND=noninteractive
	# A fresh machine may have no package lists yet.
	if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
		apt-get update >"$out" 2>&1 || { cat "$out" >&2; die "apt-get update failed"; }
	fi
	if ! apt-get install -y --no-install-recommends "$@" >"$out" 2>&1; then
		# Stale lists: refresh once and try again.
		apt-get update >"$out" 2>&1 || { cat "$out" >&2; die "apt-get update failed"; }
		apt-get install -y --no-install-recommends "$@" >"$out" 2>&1 ||
			{ cat "$out" >&2; die "apt-get install failed"; }
	fi
}

command -v dpkg-query >/dev/null || die "not a Debian-like system: install clang, the clang runtime with libFuzzer, json-c's headers and pkg-config"

missing=()
for p in clang make pkg-config libc6-dev libjson-c-dev; do
	installed "$p" || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] || apt_install "${missing[@]}"

# The runtime of the clang that `clang` runs (clang-14 on Debian 12).
major=$(clang -dumpversion | cut -d. -f1)
case "$major" in
'' | *[!0-9]*) die "cannot tell clang's version ('clang -dumpversion' says '$major')" ;;
esac
installed "libclang-rt-$major-dev" || apt_install "libclang-rt-$major-dev"
exit 0
