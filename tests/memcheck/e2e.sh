#!/bin/bash
# tests/memcheck/e2e.sh: the programs under valgrind memcheck, on real test hosts.
#
# One end-to-end scenario with the e2e harness (tests/e2e/testhost.sh,
# lib.sh): `vmtimesync` by hand (a step, --json, --all, --status and error
# cases), then `vmtimesyncd` on two test hosts through a pause, a live
# migration there and back, a reload and a hook hand-off, then SIGTERM;
# and the hook given a reply without "ok":true by another listener.
# Every run of our programs is under memcheck; a memory error or a definite
# or possible leak fails it (valgrind's exit status 99), and so does a log
# without valgrind's final summary. "Still reachable" memory (libvirt's,
# gnutls's and glib's caches for the life of the process) is not counted.
# Suppressions, each explained, would go in tests/memcheck/valgrind.supp (none is
# needed today).
#
# Usage: tests/memcheck/e2e.sh [-v]      (as root; `make check-valgrind`)
# Environment: VTS_BUILD_DIR (build): vmtimesync, vmtimesyncd,
#   e2e/vmtimesync-hook, vts-probe; VTS_GUEST_DIR ($VTS_BUILD_DIR/guest);
#   VTS_VALGRIND_LOGDIR ($VTS_BUILD_DIR/valgrind): one log per process and
#   one per step; VTS_E2E_NO_SETUP=1 skips the package check; TH_KEEP=1.
#
# valgrind runs things about 20 times slower: the daemons get an agent
# timeout of 10 s and every wait here is long. The whole run takes a few
# minutes.
set -uo pipefail

MEMCHECK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$MEMCHECK_DIR/../.." && pwd)
E2E_DIR=$REPO/tests/e2e
export E2E_DIR REPO

E2E_VERBOSE=0
[ "${1:-}" = "-v" ] && E2E_VERBOSE=1

# shellcheck source=tests/e2e/paths.sh
. "$E2E_DIR/paths.sh"
VG_LOGDIR=$(abspath "${VTS_VALGRIND_LOGDIR:-$VTS_BUILD_DIR/valgrind}")
VTS=$VTS_BUILD_DIR/vmtimesync
PROBE=$VTS_BUILD_DIR/vts-probe
# The hook built to start the build tree's CLI as its waiter.
HOOK=$VTS_BUILD_DIR/e2e/vmtimesync-hook
TH_GUEST_DIR=$VTS_GUEST_DIR
export VTS_BUILD_DIR VTS_GUEST_DIR VTS PROBE TH_GUEST_DIR
[ "$E2E_VERBOSE" = 1 ] && export TH_VERBOSE=1

# shellcheck source=tests/e2e/testhost.sh
. "$E2E_DIR/testhost.sh"
# shellcheck source=tests/e2e/lib.sh
. "$E2E_DIR/lib.sh"

# Under valgrind a fix takes longer (the daemon's start, its agent calls),
# and is less precise: the time between reading the host's clock and the
# guest agent's receiving it is twenty times as long and varies as much.
# Precision is the e2e tests' and benchmarks' business; here a guest is
# fixed when it is within 200 ms, and the daemon corrects a residual only
# above 100 ms.
FIX_WAIT_S=120
FIXED_NS=$((200 * NS_PER_MS))
VG_AGENT_TIMEOUT=10s
VG_TOLERANCE=100ms
# Every CLI call steps guests on an unsynchronized test host, and may step
# one back a little (a guest's clock at boot comes from its RTC).
CLI_OPTS=(--allow-unsynced-host --max-backward 10)

VG_OPTS=(
	--tool=memcheck
	--error-exitcode=99
	--leak-check=full
	--show-leak-kinds=definite,possible
	--errors-for-leak-kinds=definite,possible
	--track-origins=yes
	--num-callers=40
	--suppressions="$MEMCHECK_DIR/valgrind.supp"
	--gen-suppressions=all
	--child-silent-after-fork=yes
)

say() { printf 'memcheck: %s\n' "$*"; }

# vg_as NAME: set VG to the valgrind command line for a process named NAME,
# its log in $VG_LOGDIR/NAME.PID.log; run it as `run "${VG[@]}" CMD...`.
vg_as() {
	VG=(valgrind "${VG_OPTS[@]}" --log-file="$VG_LOGDIR/$1.%p.log")
}

# assert_stepped DOM SECONDS_RE: the last `run` of the CLI stepped DOM from
# about SECONDS behind. Under valgrind the verification may find the step
# off by more than the 1 ms tolerance (verify-failed, exit 1): that is the
# slowness, not a fault.
assert_stepped() {
	case "$RC" in 0 | 1) ;; *) fail "vmtimesync $1 exited $RC: $ERR" ;; esac
	printf '%s\n%s\n' "$OUT" "$ERR" | grep -qE "^(vmtimesync: )?$1: offset -$2\.[0-9]+ s -> stepped" ||
		fail "vmtimesync did not step $1: $OUT $ERR"
	[ "$RC" -eq 0 ] || assert_contains "$ERR" "stepped" "vmtimesync $1's failure"
}

# assert_vg_clean: the last `run` was not failed by valgrind.
assert_vg_clean() {
	[ "$RC" != 99 ] || fail "${1:-command}: valgrind found errors (exit 99); see $VG_LOGDIR"
}

# --- the daemon under valgrind -----------------------------------------------

# vg_daemon_start HOST: like lib.sh's daemon_start, under memcheck, with
# room for valgrind's start-up (libvirt and gnutls load slowly there). The
# steps run in subshells, so the daemon is nobody's child by the time it
# stops: a wrapper keeps its exit status in vtsd-HOST.rc.
vg_daemon_start() {
	local host=$1 conf pidf=$E2E_TMP/vtsd-$1.pid pid=""
	conf=$E2E_TMP/vtsd-$host.conf
	{
		echo "uri = $(th_host_uri "$host")"
		echo "control_socket = $E2E_TMP/vtsd-$host.sock"
		echo "log_level = debug"
		echo "agent_timeout = $VG_AGENT_TIMEOUT"
		echo "host_unsynced = allow"
		echo "max_backward = 10s"
		echo "tolerance = $VG_TOLERANCE"
	} >"$conf"
	rm -f "$pidf" "$E2E_TMP/vtsd-$host.rc"
	vg_as "vmtimesyncd-$host"
	(
		sh -c 'echo $$ >"$0"; exec "$@"' "$pidf" "${VG[@]}" "$VTSD" --foreground -f "$conf" \
			>>"$E2E_TMP/vtsd-$host.log" 2>&1 </dev/null
		echo $? >"$E2E_TMP/vtsd-$host.rc"
	) &
	for _ in $(seq 1 600); do
		[ -n "$pid" ] || pid=$(cat "$pidf" 2>/dev/null)
		if "$VTS" --status --socket "$E2E_TMP/vtsd-$host.sock" >/dev/null 2>&1; then
			note "vmtimesyncd for $host under valgrind: pid $pid"
			return 0
		fi
		[ -e "$E2E_TMP/vtsd-$host.rc" ] && break
		sleep 0.1
	done
	fail "vmtimesyncd for $host did not come up under valgrind: $(tail -n 5 "$E2E_TMP/vtsd-$host.log")"
}

# vg_daemon_stop HOST: SIGTERM; it must exit 0 (99: valgrind found errors).
vg_daemon_stop() {
	local pidf=$E2E_TMP/vtsd-$1.pid rcf=$E2E_TMP/vtsd-$1.rc pid rc
	[ -f "$pidf" ] || return 0
	pid=$(cat "$pidf")
	rm -f "$pidf"
	kill -TERM "$pid" 2>/dev/null || fail "vmtimesyncd for $1 is gone before SIGTERM"
	# Syncs under way finish first (agent timeout), then the leak check.
	for _ in $(seq 1 1200); do
		[ -s "$rcf" ] && break
		sleep 0.1
	done
	if ! [ -s "$rcf" ]; then
		kill -KILL "$pid" 2>/dev/null
		fail "vmtimesyncd for $1 under valgrind ignored SIGTERM for 120 s"
	fi
	rc=$(cat "$rcf")
	[ "$rc" -ne 99 ] || fail "vmtimesyncd for $1: valgrind found errors (exit 99); see $VG_LOGDIR"
	[ "$rc" -eq 0 ] || fail "vmtimesyncd for $1 exited $rc after SIGTERM"
	note "vmtimesyncd for $1 stopped cleanly under valgrind"
}

# --- the steps -----------------------------------------------------------------

step_setup() {
	e2e_host h2
	guests_boot "$E2E_HOST" g1 g2 nohw:no-hwclock
	probe_shift "$E2E_HOST" g1 0
	probe_shift "$E2E_HOST" g2 0
}

step_cli_steps_a_paused_guest() {
	pause_guest "$E2E_HOST" g1 2
	vg_as cli-step
	run --timeout 300 "${VG[@]}" "$VTS" "${CLI_OPTS[@]}" -c "$E2E_URI" g1
	assert_vg_clean "vmtimesync g1"
	assert_stepped g1 "[1-9][0-9]*"
	assert_abs_lt "$(probe_offset "$E2E_HOST" g1)" "$FIXED_NS" "g1 after vmtimesync"
}

step_cli_json_and_verbose() {
	local line
	pause_guest "$E2E_HOST" g2 1
	vg_as cli-json
	run --timeout 300 "${VG[@]}" "$VTS" "${CLI_OPTS[@]}" -c "$E2E_URI" --json -v g1 g2
	assert_vg_clean "vmtimesync --json"
	case "$RC" in 0 | 1) ;; *) fail "vmtimesync --json g1 g2 exited $RC" ;; esac
	line=$(json_line_for "$OUT" g2)
	assert_json_line "$line" "g2's line"
	assert_gt "$(json_get "$line" .steps)" 0 "g2's steps"
	[ "$RC" -eq 0 ] || assert_eq verify-failed "$(json_get "$line" .error.code)" "g2's error"
}

step_cli_all() {
	# nohw refuses guest-set-time when it needs a step: exit 1 is fine,
	# memory errors are not.
	vg_as cli-all
	run --timeout 300 "${VG[@]}" "$VTS" "${CLI_OPTS[@]}" -c "$E2E_URI" --all
	assert_vg_clean "vmtimesync --all"
	case "$RC" in 0 | 1) ;; *) fail "vmtimesync --all exited $RC" ;; esac
	assert_match "$OUT" "^g1: " "--all's g1 line"
	assert_match "$OUT" "^g2: " "--all's g2 line"
	vg_as cli-all-check
	run --timeout 300 "${VG[@]}" "$VTS" "${CLI_OPTS[@]}" -c "$E2E_URI" --all --check --json
	assert_vg_clean "vmtimesync --all --check --json"
	assert_rc 0 "vmtimesync --all --check --json"
}

step_cli_errors() {
	# nohw cannot be shifted (no hwclock): a pause puts it behind.
	pause_guest "$E2E_HOST" nohw 2
	vg_as cli-err-nohw
	run --timeout 300 "${VG[@]}" "$VTS" "${CLI_OPTS[@]}" -c "$E2E_URI" nohw
	assert_vg_clean "vmtimesync nohw"
	assert_rc 1 "vmtimesync nohw (guest-set-time refused)"
	vg_as cli-err-nosuch
	run --timeout 300 "${VG[@]}" "$VTS" "${CLI_OPTS[@]}" -c "$E2E_URI" --json nosuch g1
	assert_vg_clean "vmtimesync nosuch g1"
	assert_rc 1 "vmtimesync nosuch g1"
	assert_eq not-found "$(json_get "$(json_line_for "$OUT" nosuch)" .error.code)" "nosuch's error"
	vg_as cli-err-connect
	run --timeout 300 "${VG[@]}" "$VTS" -c "qemu+unix:///system?socket=$E2E_TMP/nobody" g1
	assert_vg_clean "vmtimesync with no libvirtd"
	assert_rc 3 "vmtimesync with no libvirtd"
	vg_as cli-err-usage
	run --timeout 300 "${VG[@]}" "$VTS" --samples 0 g1
	assert_vg_clean "vmtimesync --samples 0"
	assert_rc 2 "vmtimesync --samples 0"
	vg_as cli-err-status
	run --timeout 300 "${VG[@]}" "$VTS" --status --socket "$E2E_TMP/nobody.sock"
	assert_vg_clean "vmtimesync --status without a daemon"
	assert_rc 3 "vmtimesync --status without a daemon"
}

step_daemons_start() {
	vg_daemon_start "$E2E_HOST"
	vg_daemon_start h2
}

step_daemon_fixes_a_pause() {
	probe_shift "$E2E_HOST" g1 0
	pause_guest "$E2E_HOST" g1 3
	wait_fixed "$E2E_HOST" g1
	# The probe can see the step land before the daemon, slower under
	# memcheck, has verified it and logged the line: wait for the line.
	wait_output "g1: offset -[1-9][0-9]*\.[0-9]+ s -> stepped.*trigger resumed/unpaused" "h1's log" daemon_log "$E2E_HOST"
}

step_daemon_fixes_a_live_migration() {
	probe_shift "$E2E_HOST" g2 -5
	must --timeout 300 virsh -c "$E2E_URI" migrate --live --p2p --tunnelled g2 "$(th_host_uri h2)"
	wait_fixed h2 g2
	wait_output "g2: offset -[1-9][0-9]*\.[0-9]+ s -> stepped.*trigger (resumed|started)/migrated" "h2's log" daemon_log h2
	# And home again, fixed by the first host's daemon.
	probe_shift h2 g2 -2
	must --timeout 300 virsh -c "$(th_host_uri h2)" migrate --live --p2p --tunnelled g2 "$E2E_URI"
	wait_fixed "$E2E_HOST" g2
}

step_daemon_reload_and_status() {
	echo "exclude = nothing-*" >>"$E2E_TMP/vtsd-$E2E_HOST.conf"
	kill -HUP "$(daemon_pid "$E2E_HOST")"
	for _ in $(seq 1 300); do
		daemon_log "$E2E_HOST" | grep -q "reloaded" && break
		sleep 0.1
	done
	assert_contains "$(daemon_log "$E2E_HOST")" "reloaded"
	vg_as cli-status
	run --timeout 300 "${VG[@]}" "$VTS" --status --socket "$E2E_TMP/vtsd-$E2E_HOST.sock"
	assert_vg_clean "vmtimesync --status"
	assert_rc 0 "vmtimesync --status"
	assert_match "$OUT" "^g1: " "--status's g1 line"
	vg_as cli-status-json
	run --timeout 300 "${VG[@]}" "$VTS" --status --json --socket "$E2E_TMP/vtsd-$E2E_HOST.sock"
	assert_vg_clean "vmtimesync --status --json"
	assert_rc 0 "vmtimesync --status --json"
	assert_eq true "$(json_get "$OUT" .connected)" "connected"
}

# The hook as libvirtd runs it ("reconnect begin", the XML on stdin), with
# its configuration beside its hooks directory pointing at h1's daemon.
# Under valgrind it may miss its 15 ms budget and leave a waiter (the CLI,
# not under valgrind) instead: either way it must exit 0, cleanly.
step_hook_hands_off() {
	local dir=$E2E_TMP/hooks
	mkdir -p "$dir/qemu.d"
	cp "$HOOK" "$dir/qemu.d/vmtimesync"
	echo "control_socket = $E2E_TMP/vtsd-$E2E_HOST.sock" >"$dir/vmtimesync.conf"
	virsh -c "$E2E_URI" dumpxml g1 >"$E2E_TMP/g1.xml" || fail "virsh dumpxml g1"
	vg_as hook
	run --timeout 300 sh -c 'exec "$@" <"$0"' "$E2E_TMP/g1.xml" \
		"${VG[@]}" "$dir/qemu.d/vmtimesync" g1 reconnect begin -
	assert_vg_clean "the hook"
	assert_rc 0 "the hook"
}

# The hook when something else answers on the control socket and does not
# say {"ok":true} (another program, another version): it must log why and
# leave a waiter, reading nothing it did not set. perl (in every Debian)
# plays that listener.
step_hook_not_ok_reply() {
	local dir=$E2E_TMP/hooks-notok sock=$E2E_TMP/notok.sock pid
	mkdir -p "$dir/qemu.d"
	cp "$HOOK" "$dir/qemu.d/vmtimesync"
	echo "control_socket = $sock" >"$dir/vmtimesync.conf"
	rm -f "$sock"
	perl -MIO::Socket::UNIX -e '
		my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $ARGV[0], Listen => 1)
			or die "listen: $!";
		alarm 120;
		my $c = $s->accept or die "accept: $!";
		my $req = <$c>;
		print $c "{\"ok\":false,\"error\":\"not now\"}\n";
		close $c;' "$sock" &
	pid=$!
	for _ in $(seq 1 100); do
		[ -S "$sock" ] && break
		sleep 0.1
	done
	[ -S "$sock" ] || fail "the perl listener did not come up"
	virsh -c "$E2E_URI" dumpxml g1 >"$E2E_TMP/g1.xml" || fail "virsh dumpxml g1"
	vg_as hook-not-ok
	run --timeout 300 sh -c 'exec "$@" <"$0"' "$E2E_TMP/g1.xml" \
		"${VG[@]}" "$dir/qemu.d/vmtimesync" g1 migrate begin -
	assert_vg_clean "the hook given a reply without \"ok\":true"
	assert_rc 0 "the hook"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

step_daemons_stop() {
	local bad=""
	# Both, whatever the first says: each one's leak check counts.
	(vg_daemon_stop "$E2E_HOST") || bad+=" $E2E_HOST"
	(vg_daemon_stop h2) || bad+=" h2"
	[ -z "$bad" ] || fail "vmtimesyncd did not stop cleanly on:$bad (see its log above and $VG_LOGDIR)"
}

STEPS=(
	step_cli_steps_a_paused_guest
	step_cli_json_and_verbose
	step_cli_all
	step_cli_errors
	step_daemons_start
	step_daemon_fixes_a_pause
	step_daemon_fixes_a_live_migration
	step_daemon_reload_and_status
	step_hook_hands_off
	step_hook_not_ok_reply
	step_daemons_stop
)

# --- running -------------------------------------------------------------------

[ "$(id -u)" -eq 0 ] || { say "must run as root (it starts libvirtd and QEMU)"; exit 1; }
command -v valgrind >/dev/null || { say "no valgrind: make deps (or apt-get install valgrind)"; exit 1; }
for bin in "$VTS" "$VTSD" "$HOOK" "$PROBE"; do
	[ -x "$bin" ] || { say "missing $bin: make all $VTS_BUILD_DIR/vts-probe $VTS_BUILD_DIR/e2e/vmtimesync-hook"; exit 1; }
done
if [ "${VTS_E2E_NO_SETUP:-0}" != 1 ]; then
	"$E2E_DIR/setup-host.sh" || { say "tests/e2e/setup-host.sh failed"; exit 1; }
fi
"$E2E_DIR/build-guest.sh" "$VTS_GUEST_DIR" || { say "tests/e2e/build-guest.sh failed"; exit 1; }

rm -rf "$VG_LOGDIR"
mkdir -p "$VG_LOGDIR"
# On the way out (also on Ctrl-C), before the hosts go: daemons a failed
# step left running.
_vg_pre_cleanup() {
	local f
	for f in "$E2E_TMP"/vtsd-*.pid; do
		[ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
	done
	return 0
}
TH_PRE_CLEANUP=_vg_pre_cleanup
th_init || { say "th_init failed"; exit 1; }
E2E_TMP=$TH_ROOT/e2e
mkdir -p "$E2E_TMP"
E2E_HOST=h1
E2E_URI=$(th_host_uri "$E2E_HOST")
export E2E_TMP E2E_HOST E2E_URI
t_all=$(e2e_now_ms)
th_host_start "$E2E_HOST" || { say "cannot start test host $E2E_HOST"; exit 1; }

# Each step in a subshell, as the e2e runner does: a failed assertion ends
# the step. The first failure skips the rest but the daemons' stop (their
# leak check is the point), and cleanup stops what is left.
passed=0
failed=0
E2E_REASON=$E2E_TMP/reason
export E2E_REASON
run_step() {
	local s=$1 log=$VG_LOGDIR/$1.log start
	: >"$E2E_REASON"
	start=$(e2e_now_ms)
	if ("$s") >"$log" 2>&1; then
		passed=$((passed + 1))
		say "PASS $s ($(e2e_ms_to_s $(($(e2e_now_ms) - start))) s)"
		[ "$E2E_VERBOSE" = 1 ] && sed 's/^/    /' "$log"
	else
		failed=$((failed + 1))
		say "FAIL $s: $(cat "$E2E_REASON" 2>/dev/null)"
		tail -n 25 "$log" | sed 's/^/    /'
	fi
}

run_step step_setup
for s in "${STEPS[@]}"; do
	if [ "$failed" -gt 0 ] && [ "$s" != step_daemons_stop ]; then
		say "skip $s"
		continue
	fi
	run_step "$s"
done

# Every process's log must end with valgrind's summary and no error in it;
# this also catches a process that valgrind found fault with but whose exit
# status nobody looked at.
bad=0
for f in "$VG_LOGDIR"/*.[0-9]*.log; do
	# Empty: a child after fork (--child-silent-after-fork) that exec'd.
	[ -s "$f" ] || continue
	if ! grep -q "ERROR SUMMARY: 0 errors" "$f"; then
		if grep -q "ERROR SUMMARY:" "$f"; then
			say "errors in $f:"
			grep -E -A25 "^==[0-9]+== (Invalid|Conditional|Use of|Syscall param|Mismatched|Source and destination|Argument|[0-9,]+ bytes in [0-9,]+ blocks are (definitely|possibly))" "$f" | head -n 60 | sed 's/^/    /'
		else
			say "no valgrind summary in $f (killed?)"
		fi
		bad=1
	fi
done
nlogs=$(find "$VG_LOGDIR" -name '*.[0-9]*.log' | wc -l)
say "$nlogs processes under memcheck; logs in $VG_LOGDIR"
[ "$bad" -eq 0 ] || failed=$((failed + 1))
say "$passed passed, $failed failed in $(e2e_ms_to_s $(($(e2e_now_ms) - t_all))) s"
th_cleanup
[ "$failed" -eq 0 ]
