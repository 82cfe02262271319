#!/bin/bash
# tests/bench/check-report.sh: bench/report.sh on a fixture, against what it
# must write. tests/bench/results holds a real full run's results, trimmed
# (and one reaction run made to miss the 2 ms bound), with triggers.tsv,
# mass.tsv and watch.tsv made in bench/run.sh's formats. Into an empty
# docs directory: the full report, then --only watch (as bench/run.sh does
# them); then --only triggers and --only mass on that page. The printed
# tables and the pages must be those in tests/bench/expected. No plot
# (--no-png): gnuplot need not be installed.
#
# Usage: BENCHSTAT=build/bench/benchstat tests/bench/check-report.sh
# (make check-bench-report). UPDATE=1 writes the expected files instead.
set -uo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPORT=$HERE/../../bench/report.sh
EXP=$HERE/expected
: "${BENCHSTAT:?set BENCHSTAT to the benchstat to use}"
BENCHSTAT=$(cd "$(dirname "$BENCHSTAT")" && pwd)/$(basename "$BENCHSTAT")
export BENCHSTAT

TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT
fail=0

# run NAME ARGS...: report.sh ARGS on the fixture into $TMP/docs; its
# output in $TMP/NAME.out, the page then in $TMP/NAME.md: watch.md is
# expected/benchmarks.md, mass.md (after --only triggers and mass)
# expected/benchmarks-after-only.md.
run() {
	local name=$1
	shift
	"$REPORT" --no-png "$@" "$HERE/results" "$TMP/docs" >"$TMP/$name.out" 2>&1 || {
		echo "check-bench-report: report.sh $* failed:" >&2
		cat "$TMP/$name.out" >&2
		exit 1
	}
	cp "$TMP/docs/benchmarks.md" "$TMP/$name.md"
}

run full
run watch --only watch
run triggers --only triggers
run mass --only mass
[ ! -e "$TMP/docs/benchmarks.png" ] || {
	echo "check-bench-report: --no-png wrote a plot" >&2
	fail=1
}
for pair in full.out:full.out watch.out:watch.out watch.md:benchmarks.md \
	triggers.out:triggers.out mass.out:mass.out mass.md:benchmarks-after-only.md; do
	f=${pair%%:*} e=${pair#*:}
	if [ "${UPDATE:-0}" = 1 ]; then
		cp "$TMP/$f" "$EXP/$e"
	elif ! diff -u "$EXP/$e" "$TMP/$f" >"$TMP/diff"; then
		echo "check-bench-report: $f is not tests/bench/expected/$e:" >&2
		cat "$TMP/diff" >&2
		fail=1
	fi
done
[ "$fail" = 0 ] && echo "check-bench-report: bench/report.sh wrote what it must"
exit "$fail"
