# shellcheck shell=bash
# t_faults.sh: vmtimesyncd when things break in the middle of a sync:
# libvirtd killed, the guest destroyed, the daemon itself killed, SIGTERM
# with a hung agent or a frozen libvirtd. Each fault is injected while the
# daemon's status says the sync is under way ("syncing"); a sync is made
# long by freezing the guest agent from inside the guest for a while. The
# outcome is checked with vts-probe (independent of the daemon) and with
# the daemon's exit status and log.
#
# Guests: d1 stays healthy (the "other guests" a fault must not hurt); f1
# takes the faults and recovers; f2 is destroyed.

file_setup() {
	guests_boot "$E2E_HOST" d1 f1 f2
}

file_teardown() {
	daemon_stop "$E2E_HOST" || true
}

# The daemon of these tests: a short agent timeout (the sync a frozen
# agent holds lasts that long) and short retries (so a guest whose agent
# comes back is fixed within FIX_WAIT_S).
faults_daemon_start() {
	daemon_start "$E2E_HOST" "agent_timeout = 2s" "backoff_initial = 500ms" \
		"backoff_max = 2s" "$@"
}

# freeze_agent DOM AFTER_S [FOR_S]: inside the guest, stop qemu-ga AFTER_S
# seconds from now and, with FOR_S, let it go on FOR_S seconds (of guest
# time: a paused guest's sleep does not advance) later; without FOR_S it
# stays stopped. Returns once the guest says on its console (a file on the
# host) that the agent is stopped.
freeze_agent() {
	local tag="vts-freeze-$1-$RANDOM$RANDOM" console i
	local cmd="sleep $2; kill -STOP \$(pidof qemu-ga); echo $tag-stopped >/dev/console"
	[ -n "${3:-}" ] && cmd+="; sleep $3; kill -CONT \$(pidof qemu-ga); echo $tag-continued >/dev/console"
	console=$(th_guest_console "$E2E_HOST" "$1")
	must virsh -c "$E2E_URI" qemu-agent-command "$1" \
		"{\"execute\":\"guest-exec\",\"arguments\":{\"path\":\"/bin/sh\",\"arg\":[\"-c\",\"$cmd\"]}}"
	for i in $(seq 1 200); do
		grep -q -- "$tag-stopped" "$console" 2>/dev/null && {
			note "$1: its agent is stopped (after $i polls)"
			return 0
		}
		sleep 0.1
	done
	fail "$1: the guest did not stop its agent within 20 s"
}

# status_json: the daemon's status, or "" when it does not answer.
status_json() {
	"$VTS" --status --json --socket "$E2E_TMP/vtsd-$E2E_HOST.sock" 2>/dev/null
}

# phase_of DOM: the daemon's phase for DOM ("" when unknown).
phase_of() {
	json_get "$(status_json)" ".domains[] | select(.domain == \"$1\") | .phase"
}

# wait_phase DOM PHASE [SECONDS]: until the daemon's status shows DOM in
# PHASE; fail after SECONDS (10).
wait_phase() {
	local ph="" i
	for i in $(seq 1 $((${3:-10} * 10))); do
		ph=$(phase_of "$1")
		[ "$ph" = "$2" ] && { note "$1 is $2 (after $i polls)"; return 0; }
		sleep 0.1
	done
	fail "$1 never became $2 in the daemon's status (last: '${ph:-none}')"
}

# wait_settled DOM [SECONDS]: until the daemon has nothing under way or
# planned for DOM (idle, or forgotten); fail after SECONDS (10).
wait_settled() {
	local ph="" i
	for i in $(seq 1 $((${2:-10} * 10))); do
		ph=$(phase_of "$1")
		case "$ph" in
		syncing | queued | backoff | waiting | recheck) ;;
		*) note "$1 settled: '${ph:-gone}' (after $i polls)"; return 0 ;;
		esac
		sleep 0.1
	done
	fail "$1 still '$ph' in the daemon's status after ${2:-10} s"
}

# term_daemon PID: SIGTERM the daemon and wait (up to 20 s) for it to exit;
# TERM_MS is how long it took.
term_daemon() {
	local start
	start=$(e2e_now_ms)
	kill -TERM "$1"
	while kill -0 "$1" 2>/dev/null && [ $(($(e2e_now_ms) - start)) -lt 20000 ]; do
		sleep 0.05
	done
	TERM_MS=$(($(e2e_now_ms) - start))
}

# reap_daemon PID: fail (after SIGKILL) when the daemon still runs, else
# REAP_RC is its exit status; its pid file goes.
reap_daemon() {
	kill -0 "$1" 2>/dev/null && { kill -KILL "$1"; fail "vmtimesyncd still running 20 s after SIGTERM"; }
	wait "$1" 2>/dev/null
	REAP_RC=$?
	rm -f "$E2E_TMP/vtsd-$E2E_HOST.pid"
}

# log_since N: the daemon's log after its first N lines.
log_since() { daemon_log "$E2E_HOST" | tail -n +$(($1 + 1)); }
log_lines() { daemon_log "$E2E_HOST" | wc -l; }

# sync_under_way DOM PAUSE_S: pause DOM for PAUSE_S and resume it, so the
# daemon starts a sync that hangs on DOM's frozen agent; returns when the
# daemon's status says "syncing".
sync_under_way() {
	must virsh -c "$E2E_URI" suspend "$1"
	sleep "$2"
	must virsh -c "$E2E_URI" resume "$1"
	wait_phase "$1" syncing
}

# wait_agent DOM SECONDS: until vts-probe can read DOM's clock again.
wait_agent() {
	local deadline=$(($(e2e_now_ms) + $2 * 1000))
	while [ "$(e2e_now_ms)" -lt "$deadline" ]; do
		"$PROBE" -c "$E2E_URI" "$1" offset -n 1 -t 1 >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	fail "the agent of $1 did not come back within $2 s"
}

# log_after_loss N: the daemon's log lines after line N, from the first
# "lost the connection" on.
log_after_loss() {
	log_since "$1" | sed -n '/lost the connection/,$p'
}

test_libvirtd_killed_during_sync() {
	local before pid
	faults_daemon_start
	pid=$(daemon_pid "$E2E_HOST")
	probe_shift "$E2E_HOST" f1 0
	before=$(log_lines)
	# The agent stops for 4 s of guest time: the sync on resume hangs.
	freeze_agent f1 0.2 4
	sync_under_way f1 1
	th_host_kill "$E2E_HOST" || fail "cannot kill libvirtd"
	note "libvirtd killed while the daemon syncs f1"
	sleep 1
	kill -0 "$pid" 2>/dev/null || fail "vmtimesyncd died when libvirtd was killed"
	th_host_restart "$E2E_HOST" || fail "cannot restart libvirtd"
	wait_fixed "$E2E_HOST" f1
	kill -0 "$pid" 2>/dev/null || fail "vmtimesyncd died after libvirtd came back"
	# The probe may see f1 fixed before the daemon has logged it: wait for
	# the lines, in order, rather than read the log once.
	wait_output "lost the connection to libvirt" "daemon log" log_since "$before"
	wait_output "connected to libvirt at " "reconnect after the kill" \
		log_after_loss "$before"
	wait_output "f1: offset [-+][0-9.]+ m?s -> stepped -> residual" \
		"fix of f1 after the reconnect" log_after_loss "$before"
	# It still serves events on the new connection.
	probe_shift "$E2E_HOST" d1 0
	pause_guest "$E2E_HOST" d1 1
	wait_fixed "$E2E_HOST" d1
	daemon_stop "$E2E_HOST"
}

test_daemon_killed_during_sync_then_sweep_fixes() {
	local pid rc off before
	faults_daemon_start
	pid=$(daemon_pid "$E2E_HOST")
	probe_shift "$E2E_HOST" f1 0
	freeze_agent f1 0.2 3
	sync_under_way f1 2
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	rc=$?
	rm -f "$E2E_TMP/vtsd-$E2E_HOST.pid"
	assert_eq 137 "$rc" "status of the SIGKILLed daemon"
	note "vmtimesyncd killed while syncing f1"
	# Nobody fixed f1: it is still about 2 s behind once its agent is back.
	wait_agent f1 20
	off=$(probe_offset "$E2E_HOST" f1)
	assert_abs_gt "$off" $((1500 * NS_PER_MS)) "f1 after the daemon died"
	# Its socket is left behind; the new daemon must take it over.
	[ -S "$E2E_TMP/vtsd-$E2E_HOST.sock" ] || note "(no stale socket was left)"
	before=$(log_lines)
	faults_daemon_start
	wait_fixed "$E2E_HOST" f1
	assert_match "$(log_since "$before")" \
		"f1: offset -[0-9]+\.[0-9]+ s -> stepped .*\[trigger sweep" "sweep log line"
	daemon_stop "$E2E_HOST"
}

test_sigterm_with_hung_agent_exits_within_bound() {
	local pid ms rc before
	before=$(log_lines)
	# A bound worth measuring: the sync holds a worker for 4 s.
	faults_daemon_start "agent_timeout = 4s"
	pid=$(daemon_pid "$E2E_HOST")
	freeze_agent f1 0.2 7
	sync_under_way f1 1
	term_daemon "$pid"
	ms=$TERM_MS
	reap_daemon "$pid"
	rc=$REAP_RC
	note "vmtimesyncd exited $rc, $ms ms after SIGTERM, with a sync hung on f1's agent"
	assert_eq 0 "$rc" "exit status after SIGTERM"
	# Documented: syncs under way finish, bounded by agent_timeout + 2 s.
	assert_lt "$ms" 6500 "ms from SIGTERM to exit (bound: agent_timeout 4 s + 2 s)"
	# It let the sync under way end (by the agent timeout), then stopped.
	# (With an offset when the agent froze after the sync's first sample,
	# as when the start-up sweep finds a freshly booted f1 off.)
	assert_match "$(log_since "$before" | sed -n '/signal 15: stopping/,$p')" \
		"f1: (offset [-+][0-9.]+ m?s -> )?guest agent did not answer within 4 s" \
		"the hung sync ending after SIGTERM"
	assert_contains "$(log_since "$before")" "vmtimesyncd stopped" "daemon log"
	wait_agent f1 30
}

test_sigterm_with_libvirtd_frozen_exits_within_bound() {
	local pid lpid ms rc before
	before=$(log_lines)
	faults_daemon_start "agent_timeout = 2s"
	pid=$(daemon_pid "$E2E_HOST")
	freeze_agent f1 0.2 3
	sync_under_way f1 1
	# The worker now waits on libvirtd, which will not answer: only the
	# grace period (agent_timeout + 2 s) ends the wait.
	lpid=$(th_host_pid "$E2E_HOST") || fail "no libvirtd"
	kill -STOP "$lpid"
	term_daemon "$pid"
	ms=$TERM_MS
	kill -CONT "$lpid"
	reap_daemon "$pid"
	rc=$REAP_RC
	note "vmtimesyncd exited $rc, $ms ms after SIGTERM, with libvirtd stopped"
	assert_eq 0 "$rc" "exit status after SIGTERM"
	assert_lt "$ms" 4500 "ms from SIGTERM to exit (bound: agent_timeout 2 s + 2 s)"
	assert_contains "$(log_since "$before")" "1 syncs still running after 4000 ms; exiting anyway" "daemon log"
	assert_contains "$(log_since "$before")" "vmtimesyncd stopped" "daemon log"
	[ ! -e "$E2E_TMP/vtsd-$E2E_HOST.sock" ] || fail "control socket file left behind"
	wait_agent f1 20
}

test_guest_destroyed_during_sync() {
	local pid before n
	faults_daemon_start
	pid=$(daemon_pid "$E2E_HOST")
	before=$(log_lines)
	# f2's agent stays stopped: the guest goes away under the sync.
	freeze_agent f2 0.2
	sync_under_way f2 1
	must virsh -c "$E2E_URI" destroy f2
	note "f2 destroyed while the daemon syncs it"
	# The others are still served, at once.
	probe_shift "$E2E_HOST" d1 0
	pause_guest "$E2E_HOST" d1 2
	wait_fixed "$E2E_HOST" d1
	run "$VTS" --status --socket "$E2E_TMP/vtsd-$E2E_HOST.sock"
	assert_rc 0 "vmtimesync --status after the destroy"
	assert_lt "$DUR_MS" 1000 "ms for --status"
	# The sync of f2 ends, and nothing keeps retrying a guest that is gone.
	wait_settled f2 15
	assert_match "$(log_since "$before")" "f2: .*\[trigger resumed/unpaused" "f2's sync ending in the log"
	assert_contains "$(log_since "$before")" "f2: event stopped/" "daemon log"
	# Nothing keeps retrying a guest that is gone.
	n=$(log_since "$before" | grep -c "f2: ")
	sleep 3
	assert_eq "$n" "$(log_since "$before" | grep -c "f2: ")" "f2's log lines, 3 s after it settled"
	kill -0 "$pid" 2>/dev/null || fail "vmtimesyncd died"
	assert_match "$(log_since "$before")" "d1: offset -[0-9]+\.[0-9]+ s -> stepped" "d1 fixed meanwhile"
	daemon_stop "$E2E_HOST"
}

test_frozen_agent_holds_up_no_other_domain_in_libvirtd() {
	# libvirtd serves at most max_client_requests calls of one client at a
	# time (5 by default); this host serves 1. Were the daemon's workers
	# sharing one connection, the call to the frozen agent would hold up
	# every other domain's calls for agent_timeout (4 s here).
	local E2E_HOST=lim E2E_URI start ms
	TH_LIBVIRTD_EXTRA="max_client_requests = 1" th_host_start lim || fail "cannot start test host lim"
	E2E_URI=$(th_host_uri lim)
	guests_boot lim l1 l2
	# l2 right first, and the start-up sweep (with its re-checks) over
	# before the test begins: a sync of l2 still under way when it is
	# paused below would be the one to step it, not the resume's.
	probe_shift lim l2 0
	faults_daemon_start "agent_timeout = 4s"
	wait_output '^l2: idle' "l2 idle after the start-up sweep" \
		"$VTS" --status --socket "$E2E_TMP/vtsd-lim.sock"
	freeze_agent l1 0.2 60
	must virsh -c "$E2E_URI" suspend l2
	sleep 1
	# l1's sync now waits on its frozen agent.
	sync_under_way l1 1
	start=$(e2e_now_ms)
	must virsh -c "$E2E_URI" resume l2
	wait_fixed lim l2
	ms=$(($(e2e_now_ms) - start))
	note "l2 fixed $ms ms after its resume, while l1's agent call hangs"
	assert_lt "$ms" 3000 "ms to fix l2 while a call to l1's frozen agent is in flight (agent_timeout 4 s)"
	wait_log lim "l2: offset -[0-9.]+ s -> stepped" "l2's sync"
	daemon_stop lim
	th_host_stop lim || fail "cannot stop test host lim"
}
