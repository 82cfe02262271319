# shellcheck shell=bash
# t_ctl.sh: vmtimesyncd's control socket under abuse. Requests no real
# client sends (oversized, partial, slow, malformed, NUL bytes), peers that
# are not root, more clients than the daemon has slots: each gets an error
# reply or is dropped, the daemon lives on, and meanwhile it still answers
# `vmtimesync --status` at once and still fixes a paused guest.
#
# Bash cannot speak AF_UNIX: tests/e2e/ctl-client.c, built here with cc,
# sends the raw bytes (see its header for the modes).

file_setup() {
	CTL=$E2E_TMP/ctl-client
	cc -O2 -Wall -Wextra -o "$CTL" "$E2E_DIR/ctl-client.c" ||
		fail "cannot build tests/e2e/ctl-client.c"
	chmod 0755 "$CTL"
	SOCK=$E2E_TMP/vtsd-$E2E_HOST.sock
	guests_boot "$E2E_HOST" c1
}

file_teardown() {
	daemon_stop "$E2E_HOST" || true
}

# ctl [OPTIONS] DATA: one raw request (ctl-client's "req" mode); the reply in
# $OUT, the client's summary in $ERR, its status in $RC.
ctl() { run --timeout 30 "$CTL" "$SOCK" req "$@"; }

# ctl_ms: the milliseconds in the last summary ("eof after 2004 ms, ...").
ctl_ms() { printf '%s\n' "$ERR" | sed -n 's/.* after \([0-9]*\) ms.*/\1/p' | tail -n1; }

# ctl_error DATA PATTERN [OPTIONS]: DATA gets a one-line JSON error reply
# matching the ERE PATTERN, and the daemon closes the connection. (When the
# daemon stops reading at an error, the client's send of the rest may fail:
# status 1; its reply was still sent.)
ctl_error() {
	local data=$1 pattern=$2
	shift 2
	ctl "$@" "$data"
	[ "$RC" = 0 ] || [ "$RC" = 1 ] || fail "ctl-client on '$data' exited $RC: $ERR"
	assert_contains "$ERR" "ctl-client: eof after" "ctl-client on '$data'"
	assert_json_line "$OUT" "reply to '$data'"
	assert_match "$(json_get "$OUT" .error)" "$pattern" "error reply to '$data'"
}

# status_ok [WHAT]: `vmtimesync --status` answers, and fast: well before a
# client that holds a connection is dropped (2 s), process start-up on a
# loaded 2-core box included.
status_ok() {
	run --timeout 10 "$VTS" --status --socket "$SOCK"
	assert_rc 0 "vmtimesync --status ${1:-}"
	assert_lt "$DUR_MS" 1500 "ms for vmtimesync --status ${1:-}"
}

daemon_alive() {
	kill -0 "$(daemon_pid "$E2E_HOST")" 2>/dev/null || fail "vmtimesyncd died: $(daemon_log "$E2E_HOST" | tail -n 3)"
}

# pad_request LEN: a valid status request of exactly LEN bytes, newline
# included (unknown keys are ignored).
pad_request() {
	local base='{"cmd":"status","pad":""}' fill
	fill=$(($1 - ${#base} - 1))
	printf '{"cmd":"status","pad":"%s"}\\n' "$(head -c "$fill" /dev/zero | tr '\0' x)"
}

test_non_root_peer_refused() {
	local as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
	daemon_start "$E2E_HOST"
	# The socket is 0600: the kernel refuses the connect itself.
	run "${as_nobody[@]}" "$CTL" "$SOCK" req '{"cmd":"status"}\n'
	assert_rc 1 "ctl-client as nobody"
	assert_contains "$ERR" "Permission denied"
	run "${as_nobody[@]}" "$VTS" --status --socket "$SOCK"
	assert_rc 3 "vmtimesync --status as nobody"
	assert_contains "$ERR" "cannot connect to vmtimesyncd at $SOCK: Permission denied"
	# With the socket opened to all by mistake, the daemon's own check
	# (SO_PEERCRED) still refuses, says why, and logs it.
	chmod 0666 "$SOCK"
	# (The daemon answers and closes without reading: the client's send
	# may fail, its reply is there all the same.)
	run "${as_nobody[@]}" "$CTL" "$SOCK" req '{"cmd":"status"}\n'
	assert_json_line "$OUT" "reply to nobody"
	assert_match "$(json_get "$OUT" .error)" "^permission denied: only root" "reply to nobody"
	run "${as_nobody[@]}" "$CTL" "$SOCK" req '{"cmd":"pending","domain":"c1","reason":"migrate"}\n'
	assert_match "$(json_get "$OUT" .error)" "^permission denied" "reply to nobody's pending"
	sleep 0.3
	assert_contains "$(daemon_log "$E2E_HOST")" "control: refused a client that is not root"
	assert_not_contains "$(daemon_log "$E2E_HOST")" "c1: the libvirt hook announced" "daemon log"
	chmod 0600 "$SOCK"
	status_ok "as root"
	daemon_stop "$E2E_HOST"
}

# The daemon refuses some clients at once ("permission denied", "busy")
# with a reply, and closes without reading their request: the kernel then
# resets the connection, and the client must still read the reply.
test_cli_shows_why_it_was_refused() {
	local bg as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
	daemon_start "$E2E_HOST"
	chmod 0666 "$SOCK"
	run "${as_nobody[@]}" "$VTS" --status --socket "$SOCK"
	chmod 0600 "$SOCK"
	assert_ne 0 "$RC" "vmtimesync --status as nobody, socket 0666"
	assert_contains "$ERR" "permission denied" "vmtimesync --status as nobody, socket 0666"
	"$CTL" "$SOCK" many 32 -t 1500 >"$E2E_TMP/many32.out" 2>&1 &
	bg=$!
	sleep 0.5
	run --timeout 10 "$VTS" --status --socket "$SOCK"
	wait "$bg"
	assert_ne 0 "$RC" "vmtimesync --status with all slots taken"
	assert_contains "$ERR" "busy" "vmtimesync --status with all slots taken"
	assert_lt "$DUR_MS" 1500 "ms for vmtimesync --status with all slots taken"
	daemon_stop "$E2E_HOST"
}

test_malformed_requests_get_an_error() {
	local i
	daemon_start "$E2E_HOST"
	ctl_error 'hello\n' '^request: not JSON'
	ctl_error '{"cmd":"reboot"}\n' 'unknown "cmd"'
	ctl_error '{"cmd":42}\n' '"cmd" must be a string'
	ctl_error '{"nocmd":1}\n' 'no "cmd"'
	ctl_error '[1,2]\n' 'not a JSON object'
	ctl_error 'null\n' 'not a JSON object'
	ctl_error '\n' 'empty'
	ctl_error '{"cmd":"status"} {"cmd":"status"}\n' 'data after the JSON object|not JSON'
	ctl_error '{"cmd":"status"\n' 'not a complete JSON object|not JSON'
	# NUL bytes: raw, and escaped inside strings.
	ctl_error '{"cmd":"sta\0tus"}\n' 'NUL byte'
	ctl_error '\0\n' 'NUL byte'
	ctl_error '{"cmd":"status\\u0000"}\n' 'unknown "cmd"'
	ctl_error '{"cmd":"pending","domain":"c\\u00001"}\n' 'NUL character'
	ctl_error '{"cmd":"pending"}\n' 'needs a "domain"'
	ctl_error '{"cmd":"pending","domain":""}\n' 'empty'
	ctl_error '{"cmd":"pending","domain":"c1","reason":"Migrate!"}\n' '"reason" must be'
	# Bytes that are not UTF-8, and a terminal escape.
	ctl_error '\xff\xfe\x1b[2J\n' 'not JSON'
	# Oversized: 4096 bytes with the newline are fine, one more is not.
	ctl "$(pad_request 4096)"
	assert_rc 0 "ctl-client, 4096-byte request"
	assert_eq "true" "$(json_get "$OUT" .connected)" "reply to a 4096-byte status request"
	ctl_error "$(pad_request 4097)" 'longer than 4096 bytes'
	ctl_error 'x' 'longer than 4096 bytes' -r 5000
	ctl_error '{"cmd":"status","pad":"' 'longer than 4096 bytes' -r 20000
	# A status request still works, and nothing above reached the log as
	# anything but a bad request.
	ctl '{"cmd":"status"}\n'
	assert_eq "true" "$(json_get "$OUT" .connected)" "status after the bad requests"
	assert_match "$(daemon_log "$E2E_HOST")" "control: bad request: request: not JSON" "daemon log"
	i=$(daemon_log "$E2E_HOST" | grep -c "control: bad request")
	assert_eq 20 "$i" "bad requests logged"
	daemon_alive
	status_ok "after the bad requests"
	daemon_stop "$E2E_HOST"
}

test_partial_and_slow_requests_are_dropped() {
	local ms
	daemon_start "$E2E_HOST"
	# Half a request, then the client says it is done.
	ctl_error '{"cmd":"sta' 'closed before the newline' -s
	ctl_error '' 'closed without sending one' -s
	# Half a request, then gone without reading: nothing to answer to.
	for _ in $(seq 1 20); do
		"$CTL" "$SOCK" req -c '{"cmd":"sta' 2>/dev/null
		"$CTL" "$SOCK" req -c '' 2>/dev/null
	done
	daemon_alive
	status_ok "after 40 clients that left"
	# Connected, silent: dropped after about 2 s, with no reply.
	ctl -t 10000 ''
	assert_rc 0 "silent client: dropped by the daemon"
	assert_eq "" "$OUT" "reply to a silent client"
	ms=$(ctl_ms)
	note "silent client dropped after $ms ms"
	assert_gt "$ms" 1800 "ms until a silent client is dropped"
	assert_lt "$ms" 3500 "ms until a silent client is dropped"
	# Half a request, then silence: the same.
	ctl -t 10000 '{"cmd":"status"'
	assert_rc 0 "half request: dropped by the daemon"
	ms=$(ctl_ms)
	assert_gt "$ms" 1800 "ms until a half request is dropped"
	assert_lt "$ms" 3500 "ms until a half request is dropped"
	# A byte every 300 ms: the limit is on the whole request, not between
	# bytes, so it is cut off after 2 s too (the next send fails).
	ctl -p 300 '{"cmd":"status"}\n'
	assert_rc 1 "drip-fed request"
	assert_match "$ERR" "send: (Broken pipe|Connection reset by peer)" "drip-fed client"
	ms=$(ctl_ms)
	assert_gt "$ms" 1800 "ms until a drip-fed client is cut off"
	assert_lt "$ms" 3500 "ms until a drip-fed client is cut off"
	assert_contains "$(daemon_log "$E2E_HOST")" "control: dropping a client that sent no request in time"
	daemon_alive
	status_ok "after the slow clients"
	daemon_stop "$E2E_HOST"
}

test_slow_clients_do_not_block_others() {
	local start pids=() p rc
	daemon_start "$E2E_HOST"
	probe_shift "$E2E_HOST" c1 0
	start=$(e2e_now_ms)
	# Three waves of 8 silent and 2 drip-fed clients: about 6 s in which
	# some always hold a connection.
	(
		for _ in 1 2 3; do
			for _ in $(seq 1 8); do
				"$CTL" "$SOCK" req -t 10000 '' >/dev/null 2>&1 &
			done
			"$CTL" "$SOCK" req -p 500 '{"cmd":"status"}\n' >/dev/null 2>&1 &
			"$CTL" "$SOCK" req -p 500 '{"cmd":"pending","domain":"c1"}\n' >/dev/null 2>&1 &
			wait
		done
	) &
	pids+=($!)
	sleep 0.3
	for _ in 1 2 3; do
		status_ok "while slow clients hold connections"
	done
	# A hook-style request is answered as well.
	ctl '{"cmd":"pending","domain":"no-such-guest","reason":"migrate"}\n'
	assert_eq "true" "$(json_get "$OUT" .ok)" "pending while slow clients hold connections"
	assert_lt "$(ctl_ms)" 1500 "ms for a pending request"
	pause_guest "$E2E_HOST" c1 2
	wait_fixed "$E2E_HOST" c1
	status_ok "after the fix"
	for p in "${pids[@]}"; do
		wait "$p"
		rc=$?
		[ "$rc" -eq 0 ] || fail "the slow clients' shell exited $rc"
	done
	note "slow clients done after $(($(e2e_now_ms) - start)) ms"
	wait_log "$E2E_HOST" "c1: offset -[0-9]+\.[0-9]+ s -> stepped .*trigger resumed/unpaused" "c1's fix"
	daemon_alive
	daemon_stop "$E2E_HOST"
}

test_more_clients_than_slots() {
	local bg
	daemon_start "$E2E_HOST"
	# 40 at once: 32 slots, 8 refused with "busy"; the 32 are real clients.
	run --timeout 30 "$CTL" "$SOCK" many 40
	assert_rc 0 "ctl-client many 40"
	assert_eq "connected=40 busy=8 closed=0 held=32 answered=32 other=0" "$OUT" "40 clients"
	daemon_alive
	status_ok "after 40 clients"
	# 300 at once: still 32 kept; the rest refused, none lost.
	run --timeout 30 "$CTL" "$SOCK" many 300
	assert_rc 0 "ctl-client many 300"
	assert_eq "connected=300 busy=268 closed=0 held=32 answered=32 other=0" "$OUT" "300 clients"
	# While every slot is taken, a client is told so at once
	# (vmtimesync's side: test_cli_shows_why_it_was_refused).
	"$CTL" "$SOCK" many 32 -t 1500 >"$E2E_TMP/many32.out" 2>&1 &
	bg=$!
	sleep 0.5
	ctl '{"cmd":"status"}\n'
	assert_match "$(json_get "$OUT" .error)" "^busy" "reply with all slots taken"
	assert_lt "$(ctl_ms)" 1500 "ms for the busy reply"
	wait "$bg"
	assert_eq "connected=32 busy=0 closed=0 held=32 answered=32 other=0" \
		"$(cat "$E2E_TMP/many32.out")" "the 32 slot holders"
	daemon_alive
	status_ok "after the floods"
	# And it still does its job.
	probe_shift "$E2E_HOST" c1 0
	pause_guest "$E2E_HOST" c1 1
	wait_fixed "$E2E_HOST" c1
	daemon_stop "$E2E_HOST"
}

# The status reply grows with every domain the daemon has heard of (hook
# announcements included): one bigger than the socket's send buffer
# (net.core.wmem_default, 208 KiB here) must still arrive whole.
test_status_reply_larger_than_socket_buffer() {
	local fill i n
	daemon_start "$E2E_HOST"
	fill=$(head -c 900 /dev/zero | tr '\0' x)
	for i in $(seq 1 400); do
		"$CTL" "$SOCK" req "{\"cmd\":\"pending\",\"domain\":\"ghost-$i-$fill\",\"reason\":\"migrate\"}\\n" \
			>/dev/null 2>&1 || fail "pending request $i failed"
	done
	# A client that reads at once races the daemon's sends; one that
	# starts reading 300 ms later (a loaded host) does not.
	ctl -w 300 '{"cmd":"status"}\n'
	note "status reply to a client slow to read: ${#OUT} bytes"
	n=$(json_get "$OUT" '.domains | length')
	assert_eq 401 "$n" "domains in the status reply to a client slow to read (${#OUT} bytes)"
	run --timeout 20 "$VTS" --status --json --socket "$SOCK"
	assert_rc 0 "vmtimesync --status --json with 401 domains"
	assert_eq 401 "$(json_get "$OUT" '.domains | length')" "domains in vmtimesync's status"
	daemon_alive
	daemon_stop "$E2E_HOST"
}
