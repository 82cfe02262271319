# shellcheck shell=bash
# t_watch.sh: vmtimesyncd's watch mode on a real test host. Guests' clocks
# are moved with no event at all (vts-probe shift, as a broken NTP or a
# missed event would): the daemon must see it within one interval, export
# it in the metrics file and --status, fix it beyond watch_fix_above and
# leave it alone below; a hung agent must not delay the others.

# The interval the tests run the daemon with, and what "within one
# interval" may take on a loaded 2-core box: the interval, its jitter (a
# tenth), and 2.7 s for the measurement and the polling.
WATCH_S=3
WATCH_SEEN_MS=6000

file_setup() {
	guests_boot "$E2E_HOST" w1 w2 w3
}

file_teardown() {
	daemon_stop "$E2E_HOST" || true
}

# watch_gauge PROM DOM: DOM's vmtimesync_guest_offset_seconds in PROM.
watch_gauge() {
	sed -n "s/^vmtimesync_guest_offset_seconds{domain=\"$2\"} //p" "$1"
}

# watch_stamp PROM DOM: DOM's vmtimesync_guest_offset_timestamp_seconds.
watch_stamp() {
	sed -n "s/^vmtimesync_guest_offset_timestamp_seconds{domain=\"$2\"} //p" "$1"
}

# stamp_changed PROM DOM OLD: "changed" once DOM's measurement time is not OLD.
stamp_changed() {
	[ "$(watch_stamp "$1" "$2")" != "$3" ] && echo changed
}

# gauge_near PROM DOM NS TOL: "near" once DOM's exported offset is within
# TOL ns of NS (the guest's real offset, as vts-probe measured it).
gauge_near() {
	local g
	g=$(watch_gauge "$1" "$2")
	[ -n "$g" ] || return 0
	g=$(awk '{ printf "%d", $1 * 1e9 }' <<<"$g")
	local d=$((g - $3))
	if [ "${d#-}" -lt "$4" ]; then
		echo near
	else
		echo "exported $g ns: $d ns from the probe's"
	fi
}

# move_and_see PROM DOM SECONDS: start the daemon on PROM, wait until DOM
# is watched, move DOM's clock to SECONDS off with no event, and wait until
# the metrics file shows where the move landed (vts-probe measures it: the
# probe's step is not compensated for the agent's delay, which a loaded
# host makes several ms). Sets MOVED, that offset in ns.
move_and_see() {
	local prom=$1 dom=$2 s=$3 nominal
	daemon_start "$E2E_HOST" "metrics_file = $prom" "watch_interval = ${WATCH_S}s"
	wait_output "vmtimesync_guest_offset_seconds\\{domain=\"$dom\"\\} " "$dom watched" cat "$prom"
	probe_shift "$E2E_HOST" "$dom" "$s"
	nominal=$(awk '{ printf "%d", $1 * 1e9 }' <<<"$s")
	MOVED=$(probe_offset "$E2E_HOST" "$dom")
	assert_near "$MOVED" "$nominal" $((20 * NS_PER_MS)) "$dom moved"
	wait_output "^near$" "$dom's $((MOVED / NS_PER_MS)) ms in the metrics file" \
		gauge_near "$prom" "$dom" "$MOVED" $((5 * NS_PER_MS))
}

# watch_count PROM RESULT: vmtimesync_watch_measurements_total{result}.
watch_count() {
	sed -n "s/^vmtimesync_watch_measurements_total{result=\"$2\"} //p" "$1"
}

# A guest moved 3 s without an event is seen within one interval, exported,
# and fixed by a sync with trigger watch; moved again right after, it is
# reported once and not stepped again (no fighting the guest's NTP).
# watched_offset DOM: DOM's last watched offset in the daemon's --status
# --json ("null" before its first measurement).
watched_offset() {
	"$VTS" --status --json --socket "$E2E_TMP/vtsd-$E2E_HOST.sock" |
		jq -r --arg d "$1" '.domains[] | select(.domain == $d) | .watch.offset_ns'
}

test_watch_fixes_a_guest_moved_without_event() {
	local prom=$E2E_TMP/watch-fix.prom start seen_ms off
	daemon_start "$E2E_HOST" "metrics_file = $prom" "watch_interval = ${WATCH_S}s" \
		"watch_fix_above = 1s"
	# Watching: every guest has its offset exported.
	wait_output 'vmtimesync_guest_offset_seconds\{domain="w1"\} ' "w1 watched" cat "$prom"
	probe_shift "$E2E_HOST" w1 -3
	start=$(e2e_now_ms)
	wait_log "$E2E_HOST" "w1: watch: offset -[23]\.[0-9]+ s, beyond watch_fix_above \(1\.000 s\): syncing" "the watch seeing w1"
	seen_ms=$(($(e2e_now_ms) - start))
	note "w1's 3 s move seen by the watch $seen_ms ms after it (interval ${WATCH_S} s)"
	assert_lt "$seen_ms" "$WATCH_SEEN_MS" "ms from the move to the watch seeing it"
	# Exported: the gauge holds the measurement until the next one.
	wait_output 'vmtimesync_guest_offset_seconds\{domain="w1"\} -[23]\.[0-9]{9}$' "w1's offset in the metrics file" cat "$prom"
	assert_match "$(cat "$prom")" 'vmtimesync_guest_offset_timestamp_seconds\{domain="w1"\} [0-9]{10}\.[0-9]{3}' "metrics: measurement time"
	# Fixed by a normal sync whose trigger is the watch.
	wait_fixed "$E2E_HOST" w1
	wait_log "$E2E_HOST" "w1: offset -[23]\.[0-9]+ s -> stepped .*\[trigger watch," "w1's sync"
	wait_output 'vmtimesync_syncs_total\{trigger="watch",result="stepped"\} 1$' "metrics: the watch's sync" cat "$prom"
	wait_output 'vmtimesync_watch_measurements_total\{result="fixed"\} 1$' "metrics: fixed" cat "$prom"
	# --status: the last watched offset and its age. On a loaded host the
	# step can land over the tolerance: then a re-check follows, and the
	# status shows its result once idle.
	wait_output "^w1: idle; last sync on watch, [0-9]+ s ago: (stepped, offset -[23]\.[0-9]+ s, residual|none, offset [-+][0-9.]+ ms|stepped, offset [-+][0-9.]+ ms, residual).*; watched offset [-+][0-9.]+ m?s, [0-9]+ s ago$" \
		"w1's status line" "$VTS" --status --socket "$E2E_TMP/vtsd-$E2E_HOST.sock"
	# w2's first measurement need not have come yet (its interval is
	# skipped while its start-up sweep runs): wait for it, then check.
	wait_output '^-?[0-9]+$' "w2 watched, in --json" watched_offset w2
	run "$VTS" --status --json --socket "$E2E_TMP/vtsd-$E2E_HOST.sock"
	assert_rc 0 "vmtimesync --status --json"
	_assert_int "$(json_get "$OUT" '.domains[] | select(.domain=="w2") | .watch.offset_ns')" "w2's watched offset in --json"
	_assert_int "$(json_get "$OUT" '.domains[] | select(.domain=="w2") | .watch.age_s')" "w2's watched age in --json"
	note "metrics file excerpt:"
	grep -E '^vmtimesync_(guest_offset|watch_measurements|syncs_total\{trigger="watch")' "$prom" >&2
	# Moved again with no event: reported once, left alone.
	probe_shift "$E2E_HOST" w1 -3
	wait_log "$E2E_HOST" "w1: watch: clock moved -[23][0-9]{3} ms since last step without an event" "the no-fighting report"
	wait_output 'vmtimesync_watch_measurements_total\{result="held"\} [2-9]$' "metrics: held twice" cat "$prom"
	off=$(probe_offset "$E2E_HOST" w1)
	assert_abs_gt "$off" $((2 * NS_PER_S)) "w1 not stepped again"
	[ "$(daemon_run_log "$E2E_HOST" | grep -c "w1: watch: clock moved")" = 1 ] ||
		fail "the no-fighting report was not logged exactly once"
	[ "$(daemon_run_log "$E2E_HOST" | grep "trigger watch," | grep -vc "re-check")" = 1 ] ||
		fail "the watch synced w1 more than once"
	daemon_stop "$E2E_HOST"
	# Put w1 right for the next tests.
	must "$VTS" --allow-unsynced-host -c "$E2E_URI" w1
}

# A 50 ms move is exported and left alone (below watch_fix_above).
test_watch_leaves_a_small_move_alone() {
	local prom=$E2E_TMP/watch-small.prom stamp off moved
	move_and_see "$prom" w2 -0.05
	moved=$MOVED
	# One more interval: measured again, still not touched.
	stamp=$(watch_stamp "$prom" w2)
	wait_output "^changed$" "w2 measured again" stamp_changed "$prom" w2 "$stamp"
	off=$(probe_offset "$E2E_HOST" w2)
	assert_near "$off" "$moved" $((10 * NS_PER_MS)) "w2 left alone"
	assert_not_contains "$(daemon_run_log "$E2E_HOST")" "trigger watch" "daemon log"
	assert_gt "$(watch_count "$prom" ok)" 1 "measurements counted ok"
	assert_eq 0 "$(watch_count "$prom" fixed)" "measurements counted fixed"
	daemon_stop "$E2E_HOST"
	must "$VTS" --allow-unsynced-host -c "$E2E_URI" w2
}

# vmtimesync --check --all stays the one-shot equivalent, for scripts: it
# reports every guest, and the same offset the watch exports.
test_check_all_is_the_one_shot_watch() {
	local prom=$E2E_TMP/watch-check.prom gauge_ns line dom
	# After the start-up sweep (which would fix it): measured once.
	move_and_see "$prom" w2 -0.2
	gauge_ns=$(awk '{ printf "%d", $1 * 1e9 }' <<<"$(watch_gauge "$prom" w2)")
	run "$VTS" --allow-unsynced-host -c "$E2E_URI" --check --all --json
	assert_rc 0 "vmtimesync --check --all --json"
	for dom in w1 w2 w3; do
		line=$(json_line_for "$OUT" "$dom")
		assert_eq checked "$(json_get "$line" .action)" "$dom's action"
	done
	line=$(json_line_for "$OUT" w2)
	assert_near "$(json_get "$line" .offset_ns)" "$gauge_ns" $((10 * NS_PER_MS)) "w2: --check --all against the watch's gauge"
	daemon_stop "$E2E_HOST"
	must "$VTS" --allow-unsynced-host -c "$E2E_URI" w2
}

# watch_interval and watch_fix_above follow a reload; a bad value is
# refused with file:line and the running configuration kept.
test_watch_reload() {
	local conf=$E2E_TMP/vtsd-$E2E_HOST.conf prom=$E2E_TMP/watch-reload.prom line
	daemon_start "$E2E_HOST" "metrics_file = $prom" "watch_interval = off"
	wait_output "^vmtimesync_connected 1" "metrics file" cat "$prom"
	sleep 2
	assert_not_contains "$(cat "$prom")" "vmtimesync_guest_offset_seconds{" "metrics with the watch off"
	echo "watch_interval = 1s" >>"$conf"
	kill -HUP "$(daemon_pid "$E2E_HOST")"
	wait_log "$E2E_HOST" "reloaded $conf"
	wait_output 'vmtimesync_guest_offset_seconds\{domain="w1"\} ' "w1 watched after the reload" cat "$prom"
	echo "watch_fix_above = -1s" >>"$conf"
	line=$(wc -l <"$conf")
	kill -HUP "$(daemon_pid "$E2E_HOST")"
	wait_log "$E2E_HOST" "reload failed, keeping the running configuration: $conf:$line: watch_fix_above: '-1s' is negative" "the refused reload"
	daemon_stop "$E2E_HOST"
}

# A guest whose agent is hung does not delay the others' measurements: with
# two workers (one measurement at a time, plus one of an agent that last
# timed out) and a 5 s agent timeout, w1 and w2 are measured every interval
# while the measurements of w3 wait out their timeout.
test_watch_hung_agent_does_not_delay_others() {
	local prom=$E2E_TMP/watch-hung.prom end dom s gap max=0
	local -A last=() gaps=()
	daemon_start "$E2E_HOST" "metrics_file = $prom" "watch_interval = 2s" "workers = 2" \
		"agent_timeout = 5s"
	wait_output 'vmtimesync_guest_offset_seconds\{domain="w3"\} ' "w3 watched" cat "$prom"
	# Freeze w3's agent from inside the guest (it stays frozen: w3 is the
	# last test's, destroyed after this file).
	# shellcheck disable=SC2016 # $(pidof) runs in the guest
	must virsh -c "$E2E_URI" qemu-agent-command w3 \
		'{"execute":"guest-exec","arguments":{"path":"/bin/sh","arg":["-c","sleep 0.2; kill -STOP $(pidof qemu-ga)"]}}'
	# Its first measurement after that waits out the 5 s: one interval's
	# measurements of the others wait behind it (two workers: one
	# measurement at a time). From then on w3 is known unresponsive.
	wait_log "$E2E_HOST" "w3: watch: measuring failed: " "w3's measurement failing"
	# Then 12 s: each healthy guest's measurements at most 2 s + jitter
	# apart (with the hung agent in their way: 5 s and more).
	end=$(($(e2e_now_ms) + 12000))
	while [ "$(e2e_now_ms)" -lt "$end" ]; do
		for dom in w1 w2; do
			s=$(watch_stamp "$prom" "$dom")
			if [ -z "$s" ] || [ "$s" = "${last[$dom]:-}" ]; then
				continue
			fi
			if [ -n "${last[$dom]:-}" ]; then
				gap=$(awk -v a="$s" -v b="${last[$dom]}" 'BEGIN { printf "%d", (a - b) * 1000 }')
				[ "$gap" -gt "$max" ] && max=$gap
				gaps[$dom]=$((${gaps[$dom]:-0} + 1))
			fi
			last[$dom]=$s
		done
		sleep 0.1
	done
	note "longest gap between two measurements of w1 or w2: $max ms (interval 2 s); gaps seen: w1 ${gaps[w1]:-0}, w2 ${gaps[w2]:-0}"
	assert_gt "${gaps[w1]:-0}" 3 "w1's measurements in 12 s, less one"
	assert_gt "${gaps[w2]:-0}" 3 "w2's measurements in 12 s, less one"
	assert_lt "$max" 3500 "ms between two measurements of a healthy guest"
	assert_gt "$(watch_count "$prom" failed)" 0 "failed measurements (w3)"
	daemon_stop "$E2E_HOST"
}
