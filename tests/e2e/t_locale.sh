# shellcheck shell=bash
# t_locale.sh: vmtimesyncd against a libvirtd that speaks Russian. With
# libvirt-l10n installed, libvirtd translates its error messages into the
# language it runs under (LANG), so the daemon must tell "the agent is not
# connected yet" from "the agent hangs" without reading English text.

LOCALE_HOST=ru

file_setup() {
	TH_LIBVIRTD_LANG=ru_RU.UTF-8 e2e_host "$LOCALE_HOST"
	guests_boot "$LOCALE_HOST" l1
}

file_teardown() {
	daemon_stop "$LOCALE_HOST" || true
	th_host_stop "$LOCALE_HOST" || true
}

# After a restore the agent connects a few ms after the resume event: the
# daemon's first try meets "not connected" (in Russian) and must wait for
# the agent-lifecycle event, not retry with backoff as if the agent hung.
test_restore_waits_for_agent_under_russian_libvirtd() {
	local uri log i
	uri=$(th_host_uri "$LOCALE_HOST")
	# The precondition: this libvirtd's errors are in Russian (undefining
	# a transient guest fails; Cyrillic is two bytes from 0xd0-0xd1).
	run virsh -c "$uri" undefine l1
	assert_rc 1 "virsh undefine of a transient guest"
	LC_ALL=C grep -q $'[\xd0\xd1]' <<<"$ERR" || fail "libvirtd's error is not in Russian: $ERR"
	daemon_start "$LOCALE_HOST"
	for i in 1 2 3; do
		# Done with l1 (a re-check of the last step included) before
		# saving it again.
		wait_output "^l1: idle" "l1 idle in the daemon's status" \
			"$VTS" --status --socket "$E2E_TMP/vtsd-$LOCALE_HOST.sock"
		probe_shift "$LOCALE_HOST" l1 0
		must virsh -c "$uri" save l1 "$E2E_TMP/l1.save"
		sleep 2
		must virsh -c "$uri" restore "$E2E_TMP/l1.save"
		rm -f "$E2E_TMP/l1.save"
		wait_fixed "$LOCALE_HOST" l1
		wait_log "$LOCALE_HOST" "l1: offset -[2-9]\.[0-9]+ s -> stepped .*trigger (started/restored|resumed/from-snapshot)" "restore $i: the daemon's sync"
	done
	log=$(daemon_run_log "$LOCALE_HOST")
	# What this file is about: a try met the agent still connecting.
	assert_match "$log" "l1: guest agent is not connected: .*; waiting for the guest agent" "daemon log"
	grep -E "retrying|timeout|giving up" <<<"$log" >&2
	assert_not_contains "$log" "retrying with backoff" "daemon log"
	assert_not_contains "$log" "agent-timeout" "daemon log"
	assert_not_contains "$log" "giving up" "daemon log"
	daemon_stop "$LOCALE_HOST"
}
