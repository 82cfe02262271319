#!/usr/bin/env bash
# test-completion.sh: check completion/vmtimesync against a fake virsh.
#
#   packaging/test-completion.sh [COMPLETION_FILE]
#
# The fake virsh records the URI it was asked for and lists three domains,
# one with a blank in its name. Runs without bash-completion installed (the
# script falls back to COMP_WORDS) and with it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
comp=${1:-$here/../completion/vmtimesync}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/virsh" <<'EOF'
#!/bin/sh
# fake virsh: -q -c URI list --name
printf '%s\n' "$3" >"$FAKE_VIRSH_LOG"
printf 'web-1\nweb-2\ndb 1\n\n'
EOF
chmod 755 "$tmp/virsh"

passed=0
failed=0

# complete LINE: COMPREPLY for the last word of LINE, one per line.
complete_line() {
	PATH="$tmp:$PATH" FAKE_VIRSH_LOG="$tmp/uri" LIBVIRT_DEFAULT_URI="${URI_ENV:-}" \
		bash -c '
		[ -n "${WITH_BC:-}" ] && [ -r /usr/share/bash-completion/bash_completion ] &&
			. /usr/share/bash-completion/bash_completion
		. "$1"
		read -ra COMP_WORDS <<<"$2"
		case $2 in *" ") COMP_WORDS+=("") ;; esac
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE=$2
		COMP_POINT=${#COMP_LINE}
		_vmtimesync vmtimesync
		[ "${#COMPREPLY[@]}" -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}"
		' _ "$comp" "$1"
}

expect() {
	local what=$1 line=$2 want=$3 got
	got=$(complete_line "$line" | sort | tr '\n' ' ')
	if [ "$got" = "$want" ]; then
		passed=$((passed + 1))
	else
		printf 'FAIL %s: "%s" gave [%s], want [%s]\n' "$what" "$line" "$got" "$want" >&2
		failed=$((failed + 1))
	fi
}

expect_uri() {
	local what=$1 want=$2 got
	got=$(cat "$tmp/uri" 2>/dev/null || true)
	if [ "$got" = "$want" ]; then
		passed=$((passed + 1))
	else
		printf 'FAIL %s: virsh got URI [%s], want [%s]\n' "$what" "$got" "$want" >&2
		failed=$((failed + 1))
	fi
	rm -f "$tmp/uri"
}

for WITH_BC in "" 1; do
	export WITH_BC
	mode=${WITH_BC:+bash-completion}
	mode=${mode:-plain}

	expect "$mode options" "vmtimesync --st" "--status "
	expect "$mode options" "vmtimesync --ch" "--check "
	expect "$mode domains" "vmtimesync " 'db\ 1 web-1 web-2 '
	expect_uri "$mode default uri" "qemu:///system"
	expect "$mode prefix" "vmtimesync we" "web-1 web-2 "
	expect "$mode no repeat" "vmtimesync web-1 " 'db\ 1 web-2 '
	expect "$mode -c" "vmtimesync -c qemu+ssh://n7/system w" "web-1 web-2 "
	expect_uri "$mode -c uri" "qemu+ssh://n7/system"
	expect "$mode --connect=" "vmtimesync --connect=test:///default w" "web-1 web-2 "
	expect_uri "$mode --connect= uri" "test:///default"
	URI_ENV=qemu:///session expect "$mode env uri" "vmtimesync w" "web-1 web-2 "
	expect_uri "$mode env uri" "qemu:///session"
	expect "$mode --all" "vmtimesync --all " ""
	expect "$mode --hook-waiter" "vmtimesync --hook-waiter m" "migrate "
	expect "$mode --timeout" "vmtimesync --timeout " ""
	expect "$mode --max-step" "vmtimesync --max-step " ""
	expect "$mode --max" "vmtimesync --max-" "--max-backward --max-step "
	expect "$mode --allow" "vmtimesync --allow" "--allow-unsynced-host "
	expect "$mode --set-time" "vmtimesync --set-time" "--set-time-fallback "
	expect "$mode --set-time-fallback" "vmtimesync --set-time-fallback g" "guest-exec "
	expect "$mode --set-time-fallback=" "vmtimesync --set-time-fallback=g" "guest-exec "
done

echo "completion: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
