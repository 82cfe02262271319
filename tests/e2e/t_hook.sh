# shellcheck shell=bash
# t_hook.sh: the libvirt hook (hook/vmtimesync-hook) installed in the test
# hosts' own /etc/libvirt/hooks/qemu.d, run by their libvirtd. With the
# daemon stopped, its detached waiter must fix migrated, restored and
# reconnected guests; with the daemon running, it must hand off so that
# exactly one sync happens; and whatever happens it must return at once.

HOOK=$VTS_BUILD_DIR/e2e/vmtimesync-hook

# hook_install HOST: the hook and its configuration (beside the hooks
# directory, as in a libvirt container), then SIGHUP so libvirtd sees it.
hook_install() {
	local dir
	dir=$(th_host_hooks_dir "$1")
	install -m 0755 "$HOOK" "$dir/vmtimesync" || fail "cannot install the hook on $1"
	cat >"$dir/../vmtimesync.conf" <<EOC
control_socket = $E2E_TMP/vtsd-$1.sock
agent_wait = 60s
host_unsynced = allow
EOC
	th_host_reload "$1" || fail "cannot reload libvirtd on $1"
}

# waiters: the pids of hook waiters (vmtimesync --hook-waiter) running now.
waiters() { pgrep -f -- "$VTS_BUILD_DIR/vmtimesync --hook-waiter" || true; }

# wait_no_waiters: the waiters all finish by themselves (bounded).
wait_no_waiters() {
	for _ in $(seq 1 100); do
		[ -z "$(waiters)" ] && return 0
		sleep 0.1
	done
	fail "hook waiters still running: $(waiters | tr '\n' ' ')"
}

# hook_time_ms XMLFILE ARGS...: run the hook as libvirtd would; its wall
# time in $HOOK_MS; fails unless it exits 0 and prints nothing on stdout.
hook_run() {
	local xml=$1 start out
	shift
	start=$(date +%s%N)
	out=$("$HOOK" "$@" <"$xml")
	RC=$?
	HOOK_MS=$((($(date +%s%N) - start) / 1000000))
	[ "$RC" -eq 0 ] || fail "hook $* exited $RC"
	[ -z "$out" ] || fail "hook $* printed on stdout: '$out'"
}

# stop_timing_waiters: the waiters the timing test left for a domain that
# does not exist (ours: started by the hook runs above).
stop_timing_waiters() {
	sleep 0.3
	pkill -f -- "hook-timing-nosuch" || true
}

# median of the numbers on stdin
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

file_setup() {
	guests_boot "$E2E_HOST" k1 k2
	e2e_host h2
	hook_install "$E2E_HOST"
	hook_install h2
}

file_teardown() {
	daemon_stop "$E2E_HOST" || true
	daemon_stop h2 || true
	for h in "$E2E_HOST" h2; do
		rm -f "$(th_host_hooks_dir "$h")/vmtimesync"
		th_host_reload "$h" || true
	done
}

test_migration_fixed_by_hook_without_daemon() {
	probe_shift "$E2E_HOST" k1 -5
	must --timeout 120 virsh -c "$E2E_URI" migrate --live --p2p --tunnelled k1 "$(th_host_uri h2)"
	wait_fixed h2 k1
	note "k1 fixed on h2 by the hook's waiter within $FIX_MS ms of the migration's end"
	# And back home, the same way.
	probe_shift h2 k1 -3
	must --timeout 120 virsh -c "$(th_host_uri h2)" migrate --live --p2p --tunnelled k1 "$E2E_URI"
	wait_fixed "$E2E_HOST" k1
	wait_no_waiters
}

test_restore_fixed_by_hook_without_daemon() {
	probe_shift "$E2E_HOST" k2 0
	must virsh -c "$E2E_URI" save k2 "$E2E_TMP/k2.save"
	sleep 3
	must virsh -c "$E2E_URI" restore "$E2E_TMP/k2.save"
	rm -f "$E2E_TMP/k2.save"
	wait_fixed "$E2E_HOST" k2
	wait_no_waiters
}

test_reconnect_after_libvirtd_restart_without_daemon() {
	# Lose time behind libvirt's back: no event, only the reconnect hook.
	probe_shift "$E2E_HOST" k2 -3
	th_host_restart "$E2E_HOST" || fail "cannot restart libvirtd"
	wait_fixed "$E2E_HOST" k2
	wait_no_waiters
}

test_with_daemon_hook_hands_off_and_one_sync_happens() {
	local steps
	daemon_start h2
	probe_shift "$E2E_HOST" k1 -4
	must --timeout 120 virsh -c "$E2E_URI" migrate --live --p2p --tunnelled k1 "$(th_host_uri h2)"
	wait_fixed h2 k1
	sleep 2
	assert_contains "$(daemon_log h2)" "k1: the libvirt hook announced migrate"
	# One sync stepped k1 from the migration's 4 s; a re-check of that
	# step (", re-check N") is part of it, not a second sync.
	steps=$(daemon_log h2 | grep "k1: offset -[3-5]\.[0-9]* s -> stepped" | grep -vc ", re-check ")
	assert_eq 1 "$steps" "syncs of k1 that stepped from the migration's offset"
	assert_eq "" "$(waiters)" "hook waiters while the daemon runs"
	daemon_stop h2
	must --timeout 120 virsh -c "$(th_host_uri h2)" migrate --live --p2p --tunnelled k1 "$E2E_URI"
	wait_fixed "$E2E_HOST" k1
	wait_no_waiters
}

# hook_copy DIR SOCKET: a copy of the hook in DIR/qemu.d with its
# configuration beside, pointing at SOCKET and at the test host (so its
# waiter, if any, never talks to a system libvirtd).
hook_copy() {
	mkdir -p "$1/qemu.d"
	install -m 0755 "$HOOK" "$1/qemu.d/vmtimesync"
	printf 'control_socket = %s\nuri = %s\nagent_wait = 5s\n' "$2" "$E2E_URI" >"$1/vmtimesync.conf"
}

# hook_median XML ARGS...: run the hook 7 times; the median in $MED.
hook_median() {
	local xml=$1 times=""
	shift
	for _ in $(seq 1 7); do
		hook_run "$xml" "$@"
		times="$times $HOOK_MS"
		# Let the waiter the run may have left load libvirt before the
		# next run: libvirtd runs one hook at a time, not seven at once.
		sleep 0.5
	done
	MED=$(echo "$times" | tr ' ' '\n' | grep . | median)
	TIMES=$times
}

# The hook's time as libvirtd sees it, process start-up included. The goal
# (under 50 ms) is reported, not asserted; the bound here says the hook
# never waits on a daemon, an agent or libvirt.
test_hook_returns_at_once() {
	local xml=$E2E_TMP/k1.xml dir=$E2E_TMP/hooks base
	virsh -c "$E2E_URI" dumpxml k1 >"$xml" || fail "dumpxml k1"

	hook_median "$xml" k1 started begin -
	note "hook, 'started begin': median $MED ms (runs:$TIMES)"
	base=$MED
	assert_lt "$MED" 250 "median time of the hook on 'started begin' (ms)"

	# Daemon stopped: no socket. The hook leaves a waiter for a domain that
	# never comes; it gives up by itself, and we stop it here anyway.
	hook_copy "$dir" "$E2E_TMP/no-daemon.sock"
	HOOK=$dir/qemu.d/vmtimesync hook_median "$xml" hook-timing-nosuch migrate begin -
	stop_timing_waiters
	note "hook, 'migrate begin', daemon stopped: median $MED ms (runs:$TIMES; 'started begin' took $base)"
	assert_lt "$MED" 250 "median time of the hook with the daemon stopped (ms)"

	# A daemon that accepts but never answers: stopped with SIGSTOP.
	daemon_start "$E2E_HOST"
	hook_copy "$dir" "$E2E_TMP/vtsd-$E2E_HOST.sock"
	kill -STOP "$(daemon_pid "$E2E_HOST")"
	HOOK=$dir/qemu.d/vmtimesync hook_median "$xml" hook-timing-nosuch migrate begin -
	kill -CONT "$(daemon_pid "$E2E_HOST")"
	stop_timing_waiters
	note "hook, 'migrate begin', daemon stuck: median $MED ms (runs:$TIMES)"
	assert_lt "$MED" 250 "median time of the hook with a stuck daemon (ms)"
	daemon_stop "$E2E_HOST"
}

test_bad_input_exits_0_quietly() {
	local xml=$E2E_TMP/k1.xml big=$E2E_TMP/big.xml before
	before=$(waiters)
	virsh -c "$E2E_URI" dumpxml k1 >"$xml" || fail "dumpxml k1"
	head -c 3000000 /dev/urandom >"$big"
	hook_run /dev/null
	hook_run "$xml" only-one-arg
	hook_run "$xml" k1 migrate begin - extra
	hook_run "$xml" "" migrate begin -
	hook_run "$xml" k1 no-such-op begin -
	hook_run /dev/null k1 migrate begin -
	hook_run "$big" k1 migrate begin -
	printf 'not <xml' >"$E2E_TMP/bad.xml"
	hook_run "$E2E_TMP/bad.xml" k1 restore begin -
	hook_run "$xml" $'we\nird "name" \xc3\xa9' started begin -
	assert_lt "$HOOK_MS" 500 "time for bad input (ms)"
	# None of these announced a guest: no waiter was left behind.
	assert_eq "$before" "$(waiters)" "hook waiters after bad input"
}

test_excluded_domain_gets_no_waiter() {
	local xml=$E2E_TMP/k1.xml dir=$E2E_TMP/hooks-exclude before
	virsh -c "$E2E_URI" dumpxml k1 >"$xml" || fail "dumpxml k1"
	# No daemon, and a name that never runs here: an announced domain gets
	# a waiter that waits for it (stopped here)...
	hook_copy "$dir" "$E2E_TMP/no-daemon.sock"
	before=$(waiters)
	HOOK=$dir/qemu.d/vmtimesync hook_run "$xml" hook-exclude-nosuch migrate begin -
	sleep 0.3
	assert_ne "$before" "$(waiters)" "hook waiters for an included domain"
	pkill -f -- "hook-exclude-nosuch" || true
	wait_no_waiters
	# ...and an excluded one gets none.
	echo "exclude = hook-exclude-*" >>"$dir/vmtimesync.conf"
	HOOK=$dir/qemu.d/vmtimesync hook_run "$xml" hook-exclude-nosuch migrate begin -
	sleep 0.3
	assert_eq "$before" "$(waiters)" "hook waiters for an excluded domain"
}
