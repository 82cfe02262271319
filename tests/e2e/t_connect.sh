# shellcheck shell=bash
# t_connect.sh: vmtimesyncd while libvirtd does not answer. libvirt's
# virConnectOpen has no timeout: a libvirtd that accepts the connection and
# then says nothing (hung, or stopped in a debugger) must not stop the
# daemon's event loop, its control socket or its exit on SIGTERM. No guest
# is needed: a UNIX socket that accepts and never answers stands in for
# that libvirtd.

# silent_socket PATH: listen on PATH, accept every connection, never answer
# (in the background, in the test's process group).
silent_socket() {
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(64)
held = []
while True:
    held.append(s.accept()[0])
' "$1" &
	for _ in $(seq 50); do
		[ -S "$1" ] && return 0
		sleep 0.1
	done
	fail "the silent socket $1 did not appear"
}

test_silent_libvirtd_does_not_block_the_loop() {
	local sock=$E2E_TMP/silent-libvirt.sock ctl=$E2E_TMP/vtsd-silent.sock
	local conf=$E2E_TMP/vtsd-silent.conf log=$E2E_TMP/vtsd-silent.log pid rc start
	silent_socket "$sock"
	{
		echo "uri = qemu+unix:///system?socket=$sock"
		echo "control_socket = $ctl"
		echo "log_level = debug"
		echo "host_unsynced = allow"
	} >"$conf"
	"$VTSD" --foreground -f "$conf" >"$log" 2>&1 &
	pid=$!
	# The control socket answers, and says the daemon is not connected.
	wait_output '"connected":false' "vmtimesync --status while libvirtd is silent" \
		timeout 3 "$VTS" --status --json --socket "$ctl"
	# The operator learns why.
	wait_output "connecting to libvirt at .*silent-libvirt.sock.*no answer for [0-9]+ s" \
		"the daemon's log" cat "$log"
	run timeout 3 "$VTS" --status --json --socket "$ctl"
	assert_rc 0 "vmtimesync --status after the warning"
	assert_eq "false" "$(json_get "$OUT" '.connected')" "connected"
	# SIGTERM is read at once and the daemon exits cleanly.
	start=$(e2e_now_ms)
	kill -TERM "$pid"
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && fail "vmtimesyncd still runs 5 s after SIGTERM: $(tail -n 5 "$log")"
	wait "$pid"
	rc=$?
	note "exited $rc, $(($(e2e_now_ms) - start)) ms after SIGTERM"
	assert_eq 0 "$rc" "vmtimesyncd's exit status after SIGTERM"
	assert_lt $(($(e2e_now_ms) - start)) 3000 "ms from SIGTERM to exit"
}
