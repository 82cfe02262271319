# shellcheck shell=bash
# t_cli.sh: the vmtimesync command on real test hosts, checked the way a
# user would: its exit status and output, and the guest's clock measured
# independently with vts-probe (never with vmtimesync itself).
#
# Guests: c1 c2 c3 on the shared host (--all sees exactly these), and on
# h2 "bare" (no agent channel) and "nohw" (no /sbin/hwclock in the guest,
# so guest-set-time is refused; its GNU date serves the guest-exec
# fallback).

# A user would call the guest fixed within this: a correctness bound, not
# the precision target.
FIXED_NS=$((10 * NS_PER_MS))
# How near a reported or measured offset must be to a shift we made.
NEAR_NS=$((100 * NS_PER_MS))
# A failure must come back quickly, not after a hang.
QUICK_MS=10000

file_setup() {
	local g
	e2e_host h2
	H2_URI=$(th_host_uri h2)
	th_guest_start h2 bare --no-agent-channel || fail "cannot start bare on h2"
	th_guest_start h2 nohw --no-hwclock || fail "cannot start nohw on h2"
	th_guest_start h2 rtc --rtc-catchup || fail "cannot start rtc on h2"
	guests_boot "$E2E_HOST" c1 c2 c3
	th_guest_wait_agent h2 nohw || fail "nohw on h2: agent never answered"
	th_guest_wait_agent h2 rtc || fail "rtc on h2: agent never answered"
	for g in c1 c2 c3; do
		probe_shift "$E2E_HOST" "$g" 0
	done
}

# line_for OUTPUT DOM: the first line of OUTPUT that starts with "DOM:".
line_for() {
	printf '%s\n' "$1" | awk -v p="$2:" 'index($0, p) == 1 { print; exit }'
}

# text_offset_ns LINE: the "offset -2.003 s" (or "ms") of a text line, in ns.
text_offset_ns() {
	printf '%s\n' "$1" | grep -oE 'offset [-+]?[0-9]+(\.[0-9]+)? m?s' | head -n1 |
		awk '{ v = $2; if ($3 == "ms") v /= 1000; printf "%.0f\n", v * 1e9 }'
}

# pause HOST DOM SECONDS
pause() {
	must th_virsh "$1" suspend "$2"
	sleep "$3"
	must th_virsh "$1" resume "$2"
}

# fixed HOST DOM: the probe sees DOM within FIXED_NS.
assert_fixed() {
	assert_abs_lt "$(probe_offset "$1" "$2")" "$FIXED_NS" "$2's offset after vmtimesync"
}

# a. The main job: a paused guest falls behind, vmtimesync puts it right.
test_pause_then_sync() {
	local off line
	probe_shift "$E2E_HOST" c1 0
	pause "$E2E_HOST" c1 3
	off=$(probe_offset "$E2E_HOST" c1)
	assert_abs_gt "$off" $((2500 * NS_PER_MS)) "c1 after a 3 s pause"
	assert_lt "$off" 0 "c1 is behind, not ahead"
	run "$VTS" --allow-unsynced-host -c "$E2E_URI" c1
	assert_rc 0
	line=$(line_for "$OUT" c1)
	assert_ne "" "$line" "a stdout line for c1"
	assert_contains "$line" "stepped"
	assert_near "$(text_offset_ns "$line")" "$off" "$NEAR_NS" "offset vmtimesync reported"
	assert_fixed "$E2E_HOST" c1
}

# a2. The step lands on the host's time, not one agent delay behind: over
# several pauses the median of the guest's offsets right after the sync is
# within the noise of the measurement. Without the delay compensation it
# is about one one-way delay (1-1.5 ms on the test host) behind, which a
# bound of a few ms on each sync would not see.
BIAS_SYNCS=7
BIAS_NS=$((700 * NS_PER_MS / 1000))
test_steps_land_without_bias() {
	local i off offs=() med
	for ((i = 0; i < BIAS_SYNCS; i++)); do
		pause "$E2E_HOST" c3 1
		run "$VTS" --allow-unsynced-host -c "$E2E_URI" c3
		assert_rc 0
		assert_contains "$OUT" "stepped"
		off=$(probe_offset "$E2E_HOST" c3)
		offs+=("$off")
	done
	med=$(printf '%s\n' "${offs[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	note "offsets after $BIAS_SYNCS syncs (ns): ${offs[*]}; median $med"
	assert_abs_lt "$med" "$BIAS_NS" "median offset after $BIAS_SYNCS syncs"
}

# b. --check measures and reports, and changes nothing.
test_check_changes_nothing() {
	local off line
	probe_shift "$E2E_HOST" c2 -2
	run "$VTS" --allow-unsynced-host -c "$E2E_URI" --check c2
	assert_rc 0
	line=$(line_for "$OUT" c2)
	assert_contains "$line" "checked"
	assert_not_contains "$line" "stepped"
	assert_near "$(text_offset_ns "$line")" $((-2 * NS_PER_S)) "$NEAR_NS" "offset --check reported"
	run "$VTS" --allow-unsynced-host -c "$E2E_URI" --check --json c2
	assert_rc 0
	line=$(json_line_for "$OUT" c2)
	assert_eq checked "$(json_get "$line" .action)" "JSON action"
	assert_near "$(json_get "$line" .offset_ns)" $((-2 * NS_PER_S)) "$NEAR_NS" "JSON offset_ns"
	off=$(probe_offset "$E2E_HOST" c2)
	assert_near "$off" $((-2 * NS_PER_S)) "$NEAR_NS" "c2 after two --check runs"
}

# c. --all over the three guests of the host, each off differently.
test_all_steps_every_guest() {
	local g
	probe_shift "$E2E_HOST" c1 -1.5
	probe_shift "$E2E_HOST" c2 2.5
	probe_shift "$E2E_HOST" c3 -7
	# c2 is ahead: allow stepping it back (the backward policy has its own
	# test below).
	run "$VTS" --allow-unsynced-host --max-backward 10 -c "$E2E_URI" --all
	assert_rc 0
	assert_eq 3 "$(printf '%s\n' "$OUT" | grep -c .)" "stdout lines (one per guest)"
	for g in c1 c2 c3; do
		assert_contains "$(line_for "$OUT" "$g")" "stepped" "$g's line"
	done
	for g in c1 c2 c3; do
		assert_fixed "$E2E_HOST" "$g"
	done
}

# d. --json: one object per line and domain, with the documented keys.
test_json_output() {
	local line g shift_ns
	probe_shift "$E2E_HOST" c1 -4
	probe_shift "$E2E_HOST" c2 3
	run "$VTS" --allow-unsynced-host --max-backward 10 -c "$E2E_URI" --json c1 c2
	assert_rc 0
	assert_eq 2 "$(printf '%s\n' "$OUT" | grep -c .)" "stdout lines"
	while read -r line; do
		assert_json_line "$line"
		printf '%s' "$line" | jq -e 'has("domain") and has("action") and
			has("offset_ns") and has("residual_ns") and has("rtt_ns") and
			has("error")' >/dev/null || fail "keys missing in $line"
	done <<<"$OUT"
	for g in c1 c2; do
		case $g in
		c1) shift_ns=$((-4 * NS_PER_S)) ;;
		c2) shift_ns=$((3 * NS_PER_S)) ;;
		esac
		line=$(json_line_for "$OUT" "$g")
		assert_ne "" "$line" "JSON line for $g"
		assert_eq stepped "$(json_get "$line" .action)" "$g action"
		assert_eq null "$(json_get "$line" .error)" "$g error"
		assert_eq number "$(json_get "$line" '.offset_ns | type')" "$g offset_ns type"
		assert_near "$(json_get "$line" .offset_ns)" "$shift_ns" "$NEAR_NS" "$g offset_ns"
		assert_abs_lt "$(json_get "$line" .residual_ns)" "$FIXED_NS" "$g residual_ns"
		assert_gt "$(json_get "$line" .rtt_ns)" 0 "$g rtt_ns"
		assert_fixed "$E2E_HOST" "$g"
	done
}

# Within the threshold nothing is stepped and the answer is "none".
test_within_threshold_is_left_alone() {
	local line
	probe_shift "$E2E_HOST" c3 -0.5
	run "$VTS" --allow-unsynced-host -c "$E2E_URI" --json --threshold 1 c3
	assert_rc 0
	line=$(json_line_for "$OUT" c3)
	assert_eq none "$(json_get "$line" .action)" "action within the threshold"
	assert_near "$(probe_offset "$E2E_HOST" c3)" $((-500 * NS_PER_MS)) "$NEAR_NS" "c3 left alone"
	probe_shift "$E2E_HOST" c3 0
}

# e. A domain without the agent channel: say so, and how to add one.
test_no_agent_channel() {
	local line
	run "$VTS" --allow-unsynced-host -c "$H2_URI" bare
	assert_rc 1
	assert_eq 1 "$(printf '%s\n' "$ERR" | grep -c '^vmtimesync: bare: ')" "stderr lines for bare"
	line=$(printf '%s\n' "$ERR" | grep '^vmtimesync: bare: ')
	assert_contains "$line" "no guest agent channel"
	assert_match "$line" 'org\.qemu\.guest_agent\.0|virsh edit|<channel' "how to add one"
	run "$VTS" --allow-unsynced-host -c "$H2_URI" --json bare
	assert_rc 1
	line=$(json_line_for "$OUT" bare)
	assert_eq error "$(json_get "$line" .action)" "JSON action"
	assert_eq no-agent-channel "$(json_get "$line" .error.code)" "JSON error code"
	assert_ne "" "$(json_get "$line" .error.message)" "JSON error message"
}

# f. A guest without /sbin/hwclock refuses guest-set-time: name the cure.
# nohw_to_host_time: put nohw (no hwclock: vts-probe cannot shift it) near
# the host's time with its own date through guest-exec, so that a pause
# leaves it behind by the pause whatever its clock did since it booted (a
# TCG guest that booted on a loaded host can run fast for a while).
nohw_to_host_time() {
	local off by
	off=$(probe_offset h2 nohw)
	by=$(awk -v o="$off" 'BEGIN { printf "%+.9f", -o / 1e9 }')
	guest_exec_out h2 nohw /bin/date -u -s "now $by seconds" >/dev/null
	assert_abs_lt "$(probe_offset h2 nohw)" $((100 * NS_PER_MS)) "nohw after its date"
}

test_no_hwclock_in_guest() {
	local line
	nohw_to_host_time
	pause h2 nohw 2
	run "$VTS" --allow-unsynced-host -c "$H2_URI" nohw
	assert_rc 1
	line=$(printf '%s\n' "$ERR" | grep '^vmtimesync: nohw: ')
	assert_ne "" "$line" "stderr line for nohw"
	assert_contains "$line" "/sbin/hwclock"
	assert_contains "$line" "util-linux-extra"
	run "$VTS" --allow-unsynced-host -c "$H2_URI" --json nohw
	assert_rc 1
	line=$(json_line_for "$OUT" nohw)
	assert_eq error "$(json_get "$line" .action)" "JSON action"
	assert_eq set-time-unsupported "$(json_get "$line" .error.code)" "JSON error code"
}

# f2. The same guest with the guest-exec fallback: qemu-ga still refuses
# guest-set-time, and vmtimesync steps the guest with its own GNU date
# through guest-exec instead, and says so.
test_no_hwclock_fallback_guest_exec() {
	local off line
	nohw_to_host_time
	pause h2 nohw 3
	off=$(probe_offset h2 nohw)
	assert_abs_gt "$off" $((2500 * NS_PER_MS)) "nohw after a 3 s pause"
	run "$VTS" --allow-unsynced-host -c "$H2_URI" --set-time-fallback=guest-exec -v nohw
	assert_rc 0
	line=$(line_for "$OUT" nohw)
	echo "# $line" >&2
	assert_contains "$line" "stepped via guest-exec"
	assert_fixed h2 nohw
	pause h2 nohw 2
	run "$VTS" --allow-unsynced-host -c "$H2_URI" --set-time-fallback=guest-exec --json nohw
	assert_rc 0
	line=$(json_line_for "$OUT" nohw)
	echo "# $line" >&2
	assert_eq stepped "$(json_get "$line" .action)" "JSON action"
	assert_eq guest-exec "$(json_get "$line" .via)" "JSON via"
	assert_fixed h2 nohw
}

# g. An unknown domain fails alone: the good one beside it is still synced.
test_unknown_domain_does_not_stop_others() {
	local line action
	probe_shift "$E2E_HOST" c3 -3
	run "$VTS" --allow-unsynced-host -c "$E2E_URI" no-such-guest c3
	assert_rc 1
	line=$(printf '%s\n' "$ERR" | grep '^vmtimesync: no-such-guest: ')
	assert_ne "" "$line" "stderr line naming no-such-guest"
	assert_contains "$line" "not found"
	assert_contains "$(line_for "$OUT" c3)" "stepped" "c3's line"
	assert_fixed "$E2E_HOST" c3
	run "$VTS" --allow-unsynced-host -c "$E2E_URI" --json c3 no-such-guest
	assert_rc 1
	line=$(json_line_for "$OUT" no-such-guest)
	assert_eq not-found "$(json_get "$line" .error.code)" "JSON error code"
	action=$(json_get "$(json_line_for "$OUT" c3)" .action)
	assert_match "$action" '^(stepped|none)$' "c3's action"
}

# h. A paused domain is an error, reported at once (no waiting for an agent
# that cannot answer).
test_paused_domain() {
	local line
	must th_virsh "$E2E_HOST" suspend c2
	trap 'th_virsh "$E2E_HOST" resume c2 >/dev/null 2>&1' EXIT
	run --timeout 60 "$VTS" --allow-unsynced-host -c "$E2E_URI" --json c2
	assert_rc 1
	assert_lt "$DUR_MS" "$QUICK_MS" "ms until vmtimesync returned"
	line=$(json_line_for "$OUT" c2)
	assert_eq paused "$(json_get "$line" .error.code)" "JSON error code"
	run --timeout 60 "$VTS" --allow-unsynced-host -c "$E2E_URI" c2
	assert_rc 1
	assert_lt "$DUR_MS" "$QUICK_MS" "ms until vmtimesync returned"
	assert_contains "$(printf '%s\n' "$ERR" | grep '^vmtimesync: c2: ')" "paused"
	must th_virsh "$E2E_HOST" resume c2
	trap - EXIT
}

# i. No libvirt at that URI: exit 3.
test_cannot_connect() {
	local uri='qemu+unix:///system?socket=/nonexistent/vts-e2e/libvirt-sock'
	run --timeout 60 "$VTS" --allow-unsynced-host -c "$uri" c1
	assert_rc 3
	assert_ne "" "$ERR" "stderr"
	assert_lt "$DUR_MS" "$QUICK_MS" "ms until vmtimesync returned"
	run --timeout 60 "$VTS" --allow-unsynced-host -c "$uri" --json --all
	assert_rc 3
}

# j. Usage errors: exit 2 and a message; --help and --version succeed.
test_usage_errors() {
	run "$VTS" --allow-unsynced-host -c "$E2E_URI"
	assert_rc 2 "no domain"
	assert_ne "" "$ERR" "stderr without a domain"
	run "$VTS" --allow-unsynced-host -c "$E2E_URI" --no-such-option c1
	assert_rc 2 "unknown option"
	assert_ne "" "$ERR" "stderr for an unknown option"
	run "$VTS" --allow-unsynced-host -c "$E2E_URI" c1 --threshold
	assert_rc 2 "--threshold without a value"
	run "$VTS" --help
	assert_rc 0 "--help"
	assert_match "$OUT" '[Uu]sage' "--help output"
	run "$VTS" --version
	assert_rc 0 "--version"
	assert_contains "$OUT" "vmtimesync" "--version output"
}

# k. The hook's waiter option says what it is (--hook-waiter); its old name
# --after-hook, which a hook of the previous version starts during an
# upgrade, is still taken but no longer shown.
test_hook_waiter_option_and_its_old_name() {
	run "$VTS" --help
	assert_contains "$OUT" "--hook-waiter OP" "--help output"
	assert_not_contains "$OUT" "--after-hook" "--help output"
	run "$VTS" -c "$E2E_URI" --hook-waiter migrate
	assert_rc 2 "--hook-waiter without a domain"
	assert_contains "$ERR" "--hook-waiter takes exactly one domain" "stderr"
	run "$VTS" -c "$E2E_URI" --after-hook migrate
	assert_rc 2 "--after-hook without a domain"
	assert_contains "$ERR" "--hook-waiter takes exactly one domain" "stderr"
}

# --- time safety ---------------------------------------------------------

test_unsynced_host_is_refused() {
	local off
	if [ "$("$PROBE" hostclock)" != unsynced ]; then
		note "this host's clock is synchronized: nothing to refuse here"
		return 0
	fi
	probe_shift "$E2E_HOST" c1 -2
	run "$VTS" -c "$E2E_URI" c1
	assert_rc 1 "vmtimesync on a host whose clock is not synchronized"
	assert_contains "$ERR" "c1: offset -"
	assert_contains "$ERR" "host's own clock is not synchronized"
	run "$VTS" -c "$E2E_URI" --json c1
	assert_eq "host-unsynced" "$(json_get "$OUT" .error.code)" "JSON error code"
	off=$(probe_offset "$E2E_HOST" c1)
	assert_near "$off" $((-2 * NS_PER_S)) $((100 * NS_PER_MS)) "c1 left alone"
	# --check still measures.
	run "$VTS" -c "$E2E_URI" --check c1
	assert_rc 0 "--check on an unsynchronized host"
	probe_shift "$E2E_HOST" c1 0
}

test_backward_step_policy() {
	local off
	# Ahead by 0.5 s: within the default bound (1 s), stepped back.
	probe_shift "$E2E_HOST" c3 0.5
	run "$VTS" --allow-unsynced-host -c "$E2E_URI" c3
	assert_rc 0 "a 0.5 s backward step"
	assert_abs_lt "$(probe_offset "$E2E_HOST" c3)" "$FIXED_NS" "c3 after a 0.5 s backward step"
	# Ahead by 5 s: refused, reported, left alone.
	probe_shift "$E2E_HOST" c3 5
	run "$VTS" --allow-unsynced-host -c "$E2E_URI" --json c3
	assert_rc 1 "a 5 s backward step"
	assert_eq "backward-refused" "$(json_get "$OUT" .error.code)" "JSON error code"
	off=$(probe_offset "$E2E_HOST" c3)
	assert_near "$off" $((5 * NS_PER_S)) $((100 * NS_PER_MS)) "c3 left 5 s ahead"
	# Forced.
	run "$VTS" --allow-unsynced-host --force -c "$E2E_URI" c3
	assert_rc 0 "a forced 5 s backward step"
	assert_abs_lt "$(probe_offset "$E2E_HOST" c3)" "$FIXED_NS" "c3 after the forced step"
}

test_max_step() {
	probe_shift "$E2E_HOST" c3 -5
	run "$VTS" --allow-unsynced-host --max-step 2 -c "$E2E_URI" c3
	assert_rc 1 "a 5 s step with --max-step 2"
	assert_contains "$ERR" "beyond max_step"
	assert_abs_gt "$(probe_offset "$E2E_HOST" c3)" $((4 * NS_PER_S)) "c3 left 5 s behind"
	run "$VTS" --allow-unsynced-host --max-step 2 --force -c "$E2E_URI" c3
	assert_rc 0 "forced"
	assert_abs_lt "$(probe_offset "$E2E_HOST" c3)" "$FIXED_NS" "c3 after the forced step"
}

test_rtc_catchup_reinjection_reset() {
	probe_shift h2 rtc -3
	run "$VTS" --allow-unsynced-host -v -c "$H2_URI" rtc
	assert_rc 0 "sync of a guest with an RTC catch-up tick policy"
	# QEMU accepted rtc-reset-reinjection for this guest.
	assert_contains "$ERR" "rtc: reset the RTC's catch-up ticks"
	assert_not_contains "$ERR" "could not reset"
	assert_abs_lt "$(probe_offset h2 rtc)" "$FIXED_NS" "rtc after the sync"
	# A guest without the tick policy is not sent the command.
	probe_shift "$E2E_HOST" c2 -3
	run "$VTS" --allow-unsynced-host -v -c "$E2E_URI" c2
	assert_not_contains "$ERR" "catch-up"
}
