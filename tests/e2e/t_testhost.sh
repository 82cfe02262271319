# shellcheck shell=bash
# t_testhost.sh: the test host itself, so that a failure elsewhere can be
# trusted to be vmtimesync's: two hosts at once, namespaces, hooks, a
# libvirtd restart that reconnects, the guest's switches, and vts-probe.
# Needs no vmtimesync.

file_setup() {
	e2e_host h2
	# One guest per host; "hwless" has no /sbin/hwclock.
	th_guest_start h2 th2 || fail "cannot start th2 on h2"
	guests_boot "$E2E_HOST" th1 hwless:no-hwclock
	th_guest_wait_agent h2 th2 || fail "th2 on h2: agent never answered"
}

test_probe_shift() {
	local off
	probe_shift "$E2E_HOST" th1 5.5
	off=$(probe_offset "$E2E_HOST" th1)
	assert_near "$off" $((5500 * NS_PER_MS)) $((50 * NS_PER_MS)) "offset after shift 5.5"
	probe_shift "$E2E_HOST" th1 -1.25
	off=$(probe_offset "$E2E_HOST" th1)
	assert_near "$off" $((-1250 * NS_PER_MS)) $((50 * NS_PER_MS)) "offset after shift -1.25"
	probe_shift "$E2E_HOST" th1 0
	off=$(probe_offset "$E2E_HOST" th1)
	assert_abs_lt "$off" $((10 * NS_PER_MS)) "offset after shift 0"
}

test_probe_sees_pause() {
	local off t0 t1
	probe_shift "$E2E_HOST" th1 0
	t0=$(date +%s%N)
	must th_virsh "$E2E_HOST" suspend th1
	sleep 3
	must th_virsh "$E2E_HOST" resume th1
	t1=$(date +%s%N)
	off=$(probe_offset "$E2E_HOST" th1)
	# The vCPUs stopped for at least the 3 s slept and at most the whole
	# suspend-to-resume wall time (virsh is slow on a loaded host).
	assert_lt "$off" $((-3 * NS_PER_S + 100 * NS_PER_MS)) "offset after a 3 s pause"
	assert_gt "$off" $((-(t1 - t0) - 100 * NS_PER_MS)) "offset after a 3 s pause (wall $(((t1 - t0) / NS_PER_MS)) ms)"
	assert_lt "$(probe_rtt)" $((100 * NS_PER_MS)) "probe round trip"
}

test_probe_errors() {
	run "$PROBE" -c "$E2E_URI" no-such-guest offset
	assert_rc 1 "probe of a missing domain"
	assert_contains "$ERR" "no-such-guest"
	run "$PROBE" -c "$E2E_URI" th1 offset -n 0
	assert_rc 2 "probe with -n 0"
	run "$PROBE" -c "$E2E_URI" th1 shift
	assert_rc 2 "shift without seconds"
}

test_nohwclock_switch() {
	run "$PROBE" -c "$E2E_URI" hwless shift 0
	assert_rc 1 "guest-set-time without /sbin/hwclock"
	assert_contains "$ERR" "not currently supported"
	assert_contains "$(cat "$(th_guest_console "$E2E_HOST" hwless)")" "removed /sbin/hwclock"
	# Reading still works.
	probe_offset "$E2E_HOST" hwless >/dev/null
}

# The test guest keeps time like a real one: a real clocksource (jiffies
# loses time whenever the vCPU is starved, so steps would land tens of ms
# off), and util-linux's hwclock behind guest-set-time, as every Debian,
# Ubuntu, RHEL and Fedora guest has (each guest-set-time then lasts until
# hwclock -w has met the RTC's second boundary).
test_guest_is_like_a_real_one() {
	local cs ver
	cs=$(guest_exec_out "$E2E_HOST" th1 /bin/cat \
		/sys/devices/system/clocksource/clocksource0/current_clocksource)
	assert_match "$cs" '^(tsc|hpet|acpi_pm|kvm-clock)$' "th1's clocksource"
	ver=$(guest_exec_out "$E2E_HOST" th1 /sbin/hwclock --version)
	assert_contains "$ver" "util-linux" "th1's /sbin/hwclock"
	# The switch for busybox's, which only the benchmark and the soak use.
	th_guest_start "$E2E_HOST" bbhw --busybox-hwclock || fail "cannot start bbhw"
	th_guest_wait_agent "$E2E_HOST" bbhw || fail "bbhw: agent never answered"
	assert_eq /bin/busybox "$(guest_exec_out "$E2E_HOST" bbhw /bin/readlink /sbin/hwclock)" \
		"bbhw's /sbin/hwclock"
	assert_contains "$(cat "$(th_guest_console "$E2E_HOST" bbhw)")" "busybox's hwclock"
	probe_shift "$E2E_HOST" bbhw 0
	must th_virsh "$E2E_HOST" destroy bbhw
}

test_guest_exec_works() {
	local pid out
	must th_virsh "$E2E_HOST" qemu-agent-command th1 \
		'{"execute":"guest-exec","arguments":{"path":"/bin/echo","arg":["hello"],"capture-output":true}}'
	pid=$(json_get "$OUT" '.return.pid')
	assert_match "$pid" '^[0-9]+$' "guest-exec pid"
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		must th_virsh "$E2E_HOST" qemu-agent-command th1 \
			"{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":$pid}}"
		[ "$(json_get "$OUT" '.return.exited')" = true ] && break
		sleep 0.2
	done
	out=$(json_get "$OUT" '.return["out-data"]' | base64 -d)
	assert_eq "hello" "$out" "guest-exec output"
}

test_two_hosts_are_separate() {
	local u1 u2
	assert_ne "$E2E_URI" "$(th_host_uri h2)" "host URIs"
	must th_virsh "$E2E_HOST" list --name
	assert_contains "$OUT" th1
	assert_not_contains "$OUT" th2
	# Inside h2's namespace the plain system URI is h2.
	must th_host_exec h2 virsh -c qemu:///system list --name
	assert_contains "$OUT" th2
	assert_not_contains "$OUT" th1
	must th_virsh "$E2E_HOST" capabilities
	u1=$(printf '%s' "$OUT" | sed -n 's:.*<uuid>\(.*\)</uuid>.*:\1:p' | head -n1)
	must th_virsh h2 capabilities
	u2=$(printf '%s' "$OUT" | sed -n 's:.*<uuid>\(.*\)</uuid>.*:\1:p' | head -n1)
	assert_ne "$u1" "$u2" "host uuids"
	# The machine's own libvirt directories are untouched: the private
	# ones are visible only inside a namespace.
	[ ! -e /run/libvirt/qemu/th1.xml ] || fail "th1's state is in the machine's /run/libvirt"
	[ -e "$(th_host_dir "$E2E_HOST")/run/qemu/th1.xml" ] || fail "th1's state is not in h1's run dir"
}

test_hook_and_restart_reconnect() {
	local hooks log
	hooks=$(th_host_hooks_dir h2)
	log="$E2E_TMP/hook-h2.log"
	: >"$log"
	[ -d "$hooks" ] || fail "no hooks dir $hooks"
	must th_host_exec h2 test -d /etc/libvirt/hooks/qemu.d
	cat >"$hooks/record" <<EOF
#!/bin/sh
echo "\$*" >>"$log"
EOF
	chmod +x "$hooks/record"
	must th_host_restart h2
	must th_virsh h2 domstate th2
	assert_eq running "$OUT" "th2 after libvirtd restart"
	probe_offset h2 th2 >/dev/null
	assert_contains "$(cat "$log")" "th2 reconnect begin" "hook log"
	rm -f "$hooks/record"
}

test_kill_then_restart() {
	local d qpid
	d=$(th_host_dir h2)
	qpid=$(cat "$d/run/qemu/th2.pid")
	must th_host_kill h2
	run th_virsh h2 uri
	assert_ne 0 "$RC" "virsh to a killed libvirtd"
	kill -0 "$qpid" || fail "QEMU of th2 died with libvirtd"
	must th_host_restart h2
	must th_virsh h2 domstate th2
	assert_eq running "$OUT" "th2 after kill and restart"
	probe_offset h2 th2 >/dev/null
}

test_host_stop_leaves_nothing() {
	local d ns qpid left
	th_host_start h3 || fail "cannot start h3"
	d=$(th_host_dir h3)
	ns=$(cat "$d/mntns")
	note "h3 started"
	th_guest_start h3 brief || fail "cannot start a guest on h3"
	qpid=$(cat "$d/run/qemu/brief.pid")
	note "guest started"
	th_host_stop h3
	note "h3 stopped"
	left=$(for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$ns" ] && echo "${p#/proc/}"
	done)
	assert_eq "" "$left" "processes left in h3's namespace"
	! _th_alive "$qpid" || fail "QEMU $qpid of h3 still runs"
	assert_not_contains "$(cat /proc/self/mountinfo)" "$d" "host mount table"
}
