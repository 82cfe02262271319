#!/bin/bash
# run.sh: the end-to-end test runner. It prepares this machine
# (setup-host.sh), builds the tiny guest (build-guest.sh), starts a private
# libvirt test host and runs every tests/e2e/t_*.sh against the built
# vmtimesync, measuring with build/vts-probe.
#
# Usage: tests/e2e/run.sh [-l] [-v] [PATTERN]     (as root)
#   PATTERN   extended regex matched against "t_file.test_name"
#   -l        list the tests and exit
#   -v        verbose: the harness says what it does, tests' logs shown
# Environment:
#   VTS_BUILD_DIR      vmtimesync and vts-probe (default build; a relative
#                      path is taken from the repository root)
#   VTS_GUEST_DIR      the built guest (default $VTS_BUILD_DIR/guest)
#   VTS_E2E_LOGDIR     test logs (default $VTS_BUILD_DIR/e2e-logs)
#   VTS_E2E_NO_SETUP=1 skip setup-host.sh (no package checks)
#   TH_KEEP=1          keep the private root (daemon logs) after the run
#
# A test file t_NAME.sh defines functions test_*; they run in file order,
# each in its own subshell, so one failure does not stop the others. An
# optional file_setup runs first (in the file's subshell: the variables it
# sets are seen by the tests; if it fails, every test of the file fails),
# and an optional file_teardown last. Guests a file starts are destroyed
# after it. Ends with exactly one line "e2e: N passed, N failed"; the exit
# status is 1 if anything failed.
set -uo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$E2E_DIR/../.." && pwd)
export E2E_DIR REPO

list_only=0
E2E_VERBOSE=0
pattern=""
while [ "$#" -gt 0 ]; do
	case "$1" in
	-l) list_only=1 ;;
	-v) E2E_VERBOSE=1 ;;
	-h | --help)
		sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
		exit 0
		;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) pattern=$1 ;;
	esac
	shift
done
export E2E_VERBOSE
# Job control: every test file and every test runs in a process group of
# its own, so whatever a test leaves running (a daemon started with &) is
# found and stopped when it ends, and nothing else is.
set -m

# shellcheck source=tests/e2e/paths.sh
. "$E2E_DIR/paths.sh"
E2E_LOGDIR=$(abspath "${VTS_E2E_LOGDIR:-$VTS_BUILD_DIR/e2e-logs}")
VTS=$VTS_BUILD_DIR/vmtimesync
PROBE=$VTS_BUILD_DIR/vts-probe
TH_GUEST_DIR=$VTS_GUEST_DIR
export VTS_BUILD_DIR VTS_GUEST_DIR E2E_LOGDIR VTS PROBE TH_GUEST_DIR
[ "$E2E_VERBOSE" = 1 ] && export TH_VERBOSE=1

# shellcheck source=tests/e2e/testhost.sh
. "$E2E_DIR/testhost.sh"
# shellcheck source=tests/e2e/lib.sh
. "$E2E_DIR/lib.sh"

# --- which tests -----------------------------------------------------------
# Test functions in file order: "test_x() {..." or "function test_x ...".
tests_in_file() {
	sed -n -E \
		-e 's/^(function[[:space:]]+)?(test_[A-Za-z0-9_]+)[[:space:]]*\(\).*$/\2/p' \
		-e 's/^function[[:space:]]+(test_[A-Za-z0-9_]+)([[:space:]].*)?$/\1/p' "$1" |
		awk '!seen[$0]++'
}

declare -a FILES=()
declare -A SELECTED=()
for f in "$E2E_DIR"/t_*.sh; do
	[ -f "$f" ] || continue
	base=$(basename "$f" .sh)
	sel=()
	while read -r t; do
		[ -n "$t" ] || continue
		if [ -z "$pattern" ] || [[ "$base.$t" =~ $pattern ]]; then
			sel+=("$t")
		fi
	done < <(tests_in_file "$f")
	[ "${#sel[@]}" -gt 0 ] || continue
	FILES+=("$f")
	SELECTED[$f]="${sel[*]}"
done

if [ "$list_only" = 1 ]; then
	for f in "${FILES[@]}"; do
		for t in ${SELECTED[$f]}; do
			echo "$(basename "$f" .sh).$t"
		done
	done
	exit 0
fi

say() { printf 'e2e: %s\n' "$*"; }
RESULTS=""
harness_fail() {
	# Before any test ran: report it the same way, then stop.
	echo "FAIL harness: $*"
	echo "e2e: 0 passed, 1 failed"
	exit 1
}

if [ "${#FILES[@]}" -eq 0 ]; then
	say "no test matches '${pattern}'"
	echo "e2e: 0 passed, 0 failed"
	exit 1
fi

[ "$(id -u)" -eq 0 ] || harness_fail "must run as root (it starts libvirtd and QEMU)"

for bin in "$VTS" "$PROBE"; do
	if [ ! -x "$bin" ]; then
		harness_fail "missing $bin: build it first ('make check-e2e' builds and runs the e2e tests; 'make all build/vts-probe' only builds), or point VTS_BUILD_DIR at the binaries"
	fi
done

# --- the machine and the guest ---------------------------------------------
t0=$(e2e_now_ms)
if [ "${VTS_E2E_NO_SETUP:-0}" != 1 ]; then
	"$E2E_DIR/setup-host.sh" || harness_fail "tests/e2e/setup-host.sh failed"
fi
t1=$(e2e_now_ms)
"$E2E_DIR/build-guest.sh" "$VTS_GUEST_DIR" || harness_fail "tests/e2e/build-guest.sh failed"
t2=$(e2e_now_ms)
say "host packages checked in $(e2e_ms_to_s $((t1 - t0))) s, guest ready in $(e2e_ms_to_s $((t2 - t1))) s"

# --- the shared test host ---------------------------------------------------
mkdir -p "$E2E_LOGDIR"
rm -f "$E2E_LOGDIR"/*.log
RESULTS=$(mktemp "${TMPDIR:-/tmp}/vts-e2e-results.XXXXXX")
E2E_CHILD=""
_e2e_pre_cleanup() {
	local pg
	set +m # no "Terminated" notices for the jobs stopped here
	# The file's shell first, so it does not report its test as failed.
	pg=$(cat "$E2E_TMP/test.pgid" 2>/dev/null)
	if [ -n "$E2E_CHILD" ]; then
		e2e_kill_group "$E2E_CHILD" >/dev/null
		E2E_CHILD=""
	fi
	[ -n "$pg" ] && e2e_kill_group "$pg" >/dev/null
	rm -f "$RESULTS"
}
TH_PRE_CLEANUP=_e2e_pre_cleanup
th_init || harness_fail "th_init failed"
E2E_TMP="$TH_ROOT/e2e"
mkdir -p "$E2E_TMP"
export E2E_TMP RESULTS

E2E_HOST=h1
t0=$(e2e_now_ms)
th_host_start "$E2E_HOST" || harness_fail "cannot start test host $E2E_HOST"
E2E_URI=$(th_host_uri "$E2E_HOST")
export E2E_HOST E2E_URI
say "test host $E2E_HOST up in $(e2e_ms_to_s $(($(e2e_now_ms) - t0))) s; root $TH_ROOT"

# --- running a file ---------------------------------------------------------
# In the file's subshell. Writes "PASS name" / "FAIL name: reason" lines to
# $RESULTS and to stdout.
_e2e_run_file() {
	local f=$1 base t log reason start rc
	shift
	base=$(basename "$f" .sh)
	E2E_FILE=$base
	export E2E_FILE
	set -m # a subshell starts without job control; tests get own groups
	_e2e_pending=("$@")
	_e2e_setup_reason=""
	# The runner's stdout, for reports made while a log is redirected.
	exec 3>&1
	# If file_setup exits (fail), every selected test fails with its reason.
	# Stopped by the runner (Ctrl-C): report nothing, just go.
	trap '_e2e_file_aborted' EXIT
	trap 'set +m; trap - EXIT; exit 143' TERM INT HUP
	# shellcheck disable=SC1090
	. "$f"
	if declare -F file_setup >/dev/null; then
		E2E_REASON="$E2E_TMP/$base.setup.reason"
		: >"$E2E_REASON"
		export E2E_REASON
		log="$E2E_LOGDIR/$base.file_setup.log"
		start=$(e2e_now_ms)
		file_setup >"$log" 2>&1
		rc=$?
		[ "$E2E_VERBOSE" = 1 ] && sed 's/^/    /' "$log"
		if [ "$rc" -ne 0 ]; then
			_e2e_setup_reason="file_setup returned $rc"
			[ -s "$E2E_REASON" ] && _e2e_setup_reason=$(cat "$E2E_REASON")
			exit 1
		fi
		echo "$base.file_setup $(($(e2e_now_ms) - start))" >>"$E2E_TMP/timings"
	fi
	for t in "$@"; do
		E2E_TEST=$t
		E2E_REASON="$E2E_TMP/$base.$t.reason"
		log="$E2E_LOGDIR/$base.$t.log"
		: >"$E2E_REASON"
		export E2E_TEST E2E_REASON
		start=$(e2e_now_ms)
		("$t") </dev/null >"$log" 2>&1 &
		echo "$!" >"$E2E_TMP/test.pgid"
		wait "$!"
		rc=$?
		e2e_kill_group "$(cat "$E2E_TMP/test.pgid")" >>"$log" 2>&1
		rm -f "$E2E_TMP/test.pgid"
		echo "$base.$t $(($(e2e_now_ms) - start))" >>"$E2E_TMP/timings"
		_e2e_pending=("${_e2e_pending[@]:1}")
		if [ "$rc" -eq 0 ]; then
			echo "PASS $base.$t" | tee -a "$RESULTS"
			[ "$E2E_VERBOSE" = 1 ] && sed 's/^/    /' "$log"
		else
			reason=$(cat "$E2E_REASON")
			if [ -z "$reason" ]; then
				reason="exited $rc"
				[ -s "$log" ] && reason+=": $(tail -n1 "$log")"
			fi
			echo "FAIL $base.$t: $reason" | tee -a "$RESULTS"
			echo "    --- $log (last 25 lines)"
			tail -n 25 "$log" | sed 's/^/    /'
		fi
	done
	if declare -F file_teardown >/dev/null; then
		(file_teardown) >"$E2E_LOGDIR/$base.file_teardown.log" 2>&1 ||
			echo "    (file_teardown of $base failed; see $E2E_LOGDIR/$base.file_teardown.log)"
	fi
	trap - EXIT
}

_e2e_file_aborted() {
	local t reason=$_e2e_setup_reason
	[ -z "$reason" ] && [ -s "${E2E_REASON:-}" ] && reason=$(cat "$E2E_REASON")
	[ -n "$reason" ] || reason="the test file's shell exited"
	{
		for t in "${_e2e_pending[@]}"; do
			echo "FAIL $E2E_FILE.$t: setup failed: $reason" | tee -a "$RESULTS"
		done
		echo "    --- $E2E_LOGDIR/$E2E_FILE.file_setup.log (last 25 lines)"
		tail -n 25 "$E2E_LOGDIR/$E2E_FILE.file_setup.log" 2>/dev/null | sed 's/^/    /'
	} >&3
}

for f in "${FILES[@]}"; do
	ndom=$(wc -l <"$TH_ROOT/domains")
	# shellcheck disable=SC2086
	(_e2e_run_file "$f" ${SELECTED[$f]}) </dev/null &
	E2E_CHILD=$!
	wait "$E2E_CHILD"
	# What file_setup left running (a shared daemon...) ends with the file.
	e2e_kill_group "$E2E_CHILD"
	E2E_CHILD=""
	# Guests the file started go, so the next file sees a clean host.
	tail -n +$((ndom + 1)) "$TH_ROOT/domains" | while read -r h d; do
		if _th_daemon_pid "$h" libvirtd >/dev/null; then
			th_guest_destroy "$h" "$d" 2>/dev/null
		fi
	done
done

passed=$(grep -c '^PASS ' "$RESULTS")
failed=$(grep -c '^FAIL ' "$RESULTS")
if [ -s "$E2E_TMP/timings" ]; then
	sort -k2 -n -r "$E2E_TMP/timings" |
		awk '{ printf "%8.1f s  %s\n", $2 / 1000, $1 }' >"$E2E_LOGDIR/timings.txt"
fi
rm -f "$RESULTS"
th_cleanup
echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
