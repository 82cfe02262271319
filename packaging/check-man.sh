#!/usr/bin/env bash
# check-man.sh: render man pages and fail on any warning.
#
#   packaging/check-man.sh PAGE...
#
# Each PAGE (roff, possibly gzipped) must render with groff's warnings all
# on (-ww) and with man-db's checks (man --warnings), both without a word on
# stderr, and must have a NAME section with a "name - summary" line.
set -euo pipefail

export LC_ALL=C.UTF-8 MANWIDTH=80
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
for page in "$@"; do
	src=$page
	case $page in *.gz) src=$tmp/page && gzip -dc "$page" >"$src" ;; esac
	warn=$(groff -man -Tutf8 -ww -z "$src" 2>&1 >/dev/null) || warn="groff failed: $warn"
	if [ -n "$warn" ]; then
		printf '%s: groff:\n%s\n' "$page" "$warn" >&2
		failed=1
		continue
	fi
	out=$(man --warnings -l "$page" 2>"$tmp/stderr") || true
	warn=$(cat "$tmp/stderr")
	if [ -n "$warn" ]; then
		printf '%s: man --warnings:\n%s\n' "$page" "$warn" >&2
		failed=1
		continue
	fi
	if ! printf '%s\n' "$out" | grep -A1 '^NAME' | grep -q ' - '; then
		printf '%s: no "NAME / name - summary" in the rendered page\n' "$page" >&2
		failed=1
		continue
	fi
	echo "$page: renders without warnings ($(printf '%s\n' "$out" | wc -l) lines)"
done
exit "$failed"
