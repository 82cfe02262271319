# shellcheck shell=bash
# lib.sh: what e2e test functions use, sourced by run.sh: running a command
# and keeping its output, assertions, measuring a guest with vts-probe.
#
# A test runs in its own subshell; an assertion that does not hold writes
# the reason to $E2E_REASON and exits that subshell with status 1.
# Durations and offsets are integers in nanoseconds (or ms where the name
# says so); bash arithmetic is 64-bit, which holds them.

NS_PER_MS=1000000
NS_PER_S=1000000000

e2e_now_ms() { echo $(($(date +%s%N) / 1000000)); }

# e2e_ms_to_s MS: "12.3"
e2e_ms_to_s() {
	local ms=$1 sign=""
	[ "$ms" -lt 0 ] && { sign=-; ms=$((-ms)); }
	printf '%s%d.%d' "$sign" $((ms / 1000)) $((ms % 1000 / 100))
}

# fmt_ns NS: "-2003456789 ns (-2.003 s)" for messages.
fmt_ns() {
	local ns=$1 a sign=""
	case "$ns" in '' | *[!0-9-]*) echo "'$ns'"; return ;; esac
	a=$ns
	[ "$a" -lt 0 ] && { sign=-; a=$((-a)); }
	if [ "$a" -ge "$NS_PER_S" ]; then
		printf '%s ns (%s%d.%03d s)' "$ns" "$sign" $((a / NS_PER_S)) $((a % NS_PER_S / NS_PER_MS))
	else
		printf '%s ns (%s%d.%03d ms)' "$ns" "$sign" $((a / NS_PER_MS)) $((a % NS_PER_MS / 1000))
	fi
}

# fail REASON...: end the current test (or file_setup) as failed.
fail() {
	local reason="$*"
	echo "FAILED: $reason" >&2
	[ -n "${E2E_REASON:-}" ] && printf '%s\n' "$reason" >"$E2E_REASON"
	exit 1
}

# note TEXT...: a line in the test's log.
note() { echo "# $(date +%T.%3N) $*" >&2; }

# run [--timeout S] CMD...: run CMD, keep stdout in $OUT, stderr in $ERR,
# status in $RC (124 on timeout) and wall time in $DUR_MS. Never fails.
# CMD may be a shell function (then in a subshell, without the timeout).
run() {
	local limit=120 o e start
	if [ "${1:-}" = "--timeout" ]; then
		limit=$2
		shift 2
	fi
	o=$(mktemp "${E2E_TMP:-/tmp}/out.XXXXXX")
	e=$(mktemp "${E2E_TMP:-/tmp}/err.XXXXXX")
	echo "\$ $*" >&2
	start=$(e2e_now_ms)
	if declare -F "$1" >/dev/null; then
		# A shell function (th_virsh...): timeout cannot run it; the th_*
		# functions bound their own waits.
		("$@") >"$o" 2>"$e"
	else
		timeout -k 5 "$limit" "$@" >"$o" 2>"$e"
	fi
	RC=$?
	DUR_MS=$(($(e2e_now_ms) - start))
	OUT=$(cat "$o")
	ERR=$(cat "$e")
	rm -f "$o" "$e"
	[ -n "$OUT" ] && printf '%s\n' "$OUT" | sed 's/^/  stdout: /' >&2
	[ -n "$ERR" ] && printf '%s\n' "$ERR" | sed 's/^/  stderr: /' >&2
	echo "  exit $RC after ${DUR_MS} ms" >&2
	return 0
}

# must CMD...: run CMD; fail the test if it fails.
must() {
	run "$@"
	[ "$RC" -eq 0 ] || fail "'$*' exited $RC: $(printf '%s' "$ERR" | tail -n1)"
}

# --- assertions ------------------------------------------------------------
# Each takes an optional last argument saying what is checked.

assert_eq() {
	[ "$1" = "$2" ] || fail "${3:-value}: expected '$1', got '$2'"
}

assert_ne() {
	[ "$1" != "$2" ] || fail "${3:-value}: expected anything but '$1'"
}

# assert_rc EXPECTED [what]: the status of the last run.
assert_rc() {
	[ "$RC" = "$1" ] ||
		fail "${2:-exit status}: expected $1, got $RC (stderr: $(printf '%s' "$ERR" | head -c 300))"
}

assert_contains() {
	case "$1" in
	*"$2"*) ;;
	*) fail "${3:-output} does not contain '$2': '$(printf '%s' "$1" | head -c 300)'" ;;
	esac
}

assert_not_contains() {
	case "$1" in
	*"$2"*) fail "${3:-output} contains '$2': '$(printf '%s' "$1" | head -c 300)'" ;;
	*) ;;
	esac
}

# assert_match TEXT ERE [what]
assert_match() {
	printf '%s' "$1" | grep -qE -- "$2" ||
		fail "${3:-output} does not match /$2/: '$(printf '%s' "$1" | head -c 300)'"
}

_assert_int() {
	case "$1" in
	'' | - | *[!0-9-]* | ?*-*) fail "${2:-value}: not an integer: '$1'" ;;
	esac
}

_abs() { local v=$1; [ "$v" -lt 0 ] && v=$((-v)); echo "$v"; }

# assert_abs_lt VALUE BOUND [what]: |VALUE| < BOUND (integers, e.g. ns)
assert_abs_lt() {
	_assert_int "$1" "${3:-}"
	[ "$(_abs "$1")" -lt "$2" ] || fail "${3:-value}: |$(fmt_ns "$1")| is not below $(fmt_ns "$2")"
}

# assert_abs_gt VALUE BOUND [what]: |VALUE| > BOUND
assert_abs_gt() {
	_assert_int "$1" "${3:-}"
	[ "$(_abs "$1")" -gt "$2" ] || fail "${3:-value}: |$(fmt_ns "$1")| is not above $(fmt_ns "$2")"
}

# assert_near VALUE EXPECTED TOLERANCE [what]: |VALUE - EXPECTED| < TOLERANCE
assert_near() {
	_assert_int "$1" "${4:-}"
	[ "$(_abs $(($1 - $2)))" -lt "$3" ] ||
		fail "${4:-value}: $(fmt_ns "$1") is not within $(fmt_ns "$3") of $(fmt_ns "$2")"
}

assert_lt() {
	_assert_int "$1" "${3:-}"
	[ "$1" -lt "$2" ] || fail "${3:-value}: $1 is not below $2"
}

assert_gt() {
	_assert_int "$1" "${3:-}"
	[ "$1" -gt "$2" ] || fail "${3:-value}: $1 is not above $2"
}

# assert_json_line LINE: LINE is one JSON object (jq parses it).
assert_json_line() {
	printf '%s' "$1" | jq -e 'type == "object"' >/dev/null 2>&1 ||
		fail "${2:-line} is not a JSON object: '$1'"
}

# json_get LINE JQ_FILTER: the raw value (jq -r); "null" for null.
json_get() {
	printf '%s' "$1" | jq -r "$2" 2>/dev/null
}

# json_line_for OUTPUT DOMAIN: the JSON line whose "domain" is DOMAIN.
json_line_for() {
	printf '%s\n' "$1" | jq -c --arg d "$2" 'select(type == "object" and .domain == $d)' 2>/dev/null | head -n1
}

# --- guests ------------------------------------------------------------------

# probe_offset HOST DOM: prints the guest's offset in ns (guest - host),
# as off=$(probe_offset h d) wants it; probe_rtt then prints the round trip
# of that measurement (kept in a file: $(...) is a subshell).
probe_offset() {
	local out off rtt
	out=$(timeout -k 5 60 "$PROBE" -c "$(th_host_uri "$1")" "$2" offset 2>&1) ||
		fail "vts-probe offset $2 failed: $out"
	read -r off rtt <<<"$out"
	_assert_int "$off" "vts-probe offset"
	echo "$rtt" >"${E2E_TMP:-/tmp}/probe-rtt"
	echo "# probe $2: offset $(fmt_ns "$off"), rtt $(fmt_ns "$rtt")" >&2
	echo "$off"
}

# probe_rtt: the round trip (ns) of the last probe_offset.
probe_rtt() { cat "${E2E_TMP:-/tmp}/probe-rtt"; }

# probe_shift HOST DOM SECONDS: put the guest SECONDS off the host.
probe_shift() {
	local out
	out=$(timeout -k 5 60 "$PROBE" -c "$(th_host_uri "$1")" "$2" shift "$3" 2>&1) ||
		fail "vts-probe shift $2 $3 failed: $out"
	echo "# probe $2: shifted by $3 s" >&2
}

# guest_exec_out HOST DOM PATH [ARG...]: run PATH in the guest through the
# agent's guest-exec (no shell) and print its standard output; fails the
# test when it cannot run or exits non-zero. For checking the test guest
# itself: it taints the domain (custom-ga-command) like any virsh
# qemu-agent-command.
guest_exec_out() {
	local host=$1 dom=$2 path=$3 args pid i
	shift 3
	# jq 1.6 has no --args: one JSON string a line, slurped into an array.
	args=$( (($# > 0)) && printf '%s\n' "$@" | jq -R . | jq -cs . || echo '[]')
	must th_virsh "$host" qemu-agent-command "$dom" \
		"{\"execute\":\"guest-exec\",\"arguments\":{\"path\":\"$path\",\"arg\":$args,\"capture-output\":true}}"
	pid=$(json_get "$OUT" '.return.pid')
	_assert_int "$pid" "guest-exec pid of $path"
	for ((i = 0; i < 100; i++)); do
		must th_virsh "$host" qemu-agent-command "$dom" \
			"{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":$pid}}"
		[ "$(json_get "$OUT" '.return.exited')" = true ] && break
		sleep 0.1
	done
	[ "$(json_get "$OUT" '.return.exited')" = true ] || fail "$dom: $path did not exit within 10 s"
	[ "$(json_get "$OUT" '.return.exitcode')" = 0 ] ||
		fail "$dom: $path exited with $(json_get "$OUT" '.return.exitcode')"
	json_get "$OUT" '.return["out-data"] // ""' | base64 -d
}

# guests_boot HOST DOM[:OPTION,OPTION] ...: start all, then wait for every
# agent (guests boot in parallel). Options are th_guest_start's without
# the dashes, e.g. "nohw:no-hwclock" or "bare:no-agent-channel". A guest
# started without a channel is not waited for.
guests_boot() {
	local host=$1 spec dom opts o args wait_for=()
	shift
	for spec in "$@"; do
		dom=${spec%%:*}
		opts=""
		[ "$spec" != "$dom" ] && opts=${spec#*:}
		args=()
		for o in ${opts//,/ }; do
			args+=("--$o")
		done
		th_guest_start "$host" "$dom" "${args[@]}" || fail "cannot start guest $dom on $host"
		case ",$opts," in
		*,no-agent-channel,*) ;;
		*) wait_for+=("$dom") ;;
		esac
	done
	for dom in "${wait_for[@]}"; do
		th_guest_wait_agent "$host" "$dom" || fail "guest $dom on $host: agent never answered"
	done
}

# e2e_host NAME: a second (third...) test host, started on first use and
# shared by later tests; stopped by the runner's cleanup.
e2e_host() {
	if ! _th_daemon_pid "$1" libvirtd >/dev/null; then
		th_host_start "$1" || fail "cannot start test host $1"
	fi
}

# e2e_kill_group PGID: stop what is left of a process group the runner
# made for a test or a test file (SIGTERM, 3 s, SIGKILL). Zombies waiting
# for init to reap them do not count.
e2e_kill_group() {
	local pg=$1 left
	case "$pg" in '' | *[!0-9]*) return 0 ;; esac
	_e2e_group_alive() {
		local p
		for p in $(pgrep -g "$pg" 2>/dev/null); do
			_th_alive "$p" && echo "$p"
		done
	}
	left=$(_e2e_group_alive)
	[ -n "$left" ] || return 0
	# shellcheck disable=SC2086 # one pid per word on purpose
	echo "# stopping processes left behind: $(printf '%s ' $left)"
	kill -TERM -- "-$pg" 2>/dev/null
	for _ in $(seq 30); do
		[ -n "$(_e2e_group_alive)" ] || return 0
		sleep 0.1
	done
	kill -KILL -- "-$pg" 2>/dev/null
	return 0
}

# --- vmtimesyncd -------------------------------------------------------------

# What a user would accept as "fixed": a correctness bound, not the
# precision target (benchmarks measure that).
FIXED_NS=$((10 * NS_PER_MS))
# How long a fix may take in a test: generous for a loaded 2-core CI box.
FIX_WAIT_S=20

VTSD=$VTS_BUILD_DIR/vmtimesyncd

# daemon_start HOST [CONF_LINE...]: start vmtimesyncd for HOST in the
# foreground with its own control socket and log; pid in $E2E_TMP.
daemon_start() {
	local host=$1 conf pid
	shift
	conf=$E2E_TMP/vtsd-$host.conf
	{
		echo "uri = $(th_host_uri "$host")"
		echo "control_socket = $E2E_TMP/vtsd-$host.sock"
		echo "log_level = debug"
		echo "agent_timeout = 2s"
		# The test host runs no NTP: its clock is not synchronized, and
		# vmtimesyncd refuses to copy such a clock into guests unless told.
		echo "host_unsynced = allow"
		for line in "$@"; do echo "$line"; done
	} >"$conf"
	echo "$_DAEMON_MARK" >>"$E2E_TMP/vtsd-$host.log"
	"$VTSD" --foreground -f "$conf" >>"$E2E_TMP/vtsd-$host.log" 2>&1 &
	pid=$!
	echo "$pid" >"$E2E_TMP/vtsd-$host.pid"
	# Ready when it has connected and its socket answers (it connects on
	# a thread of its own: the socket answers first).
	for _ in $(seq 1 100); do
		if "$VTS" --status --json --socket "$E2E_TMP/vtsd-$host.sock" 2>/dev/null |
			grep -q '"connected":true'; then
			note "vmtimesyncd for $host: pid $pid"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	fail "vmtimesyncd for $host did not come up: $(tail -n 5 "$E2E_TMP/vtsd-$host.log")"
}

# daemon_swept HOST DOM...: wait until the daemon's start-up sweep is done
# with each DOM (idle, its last sync the sweep's), so that what the test
# does to the guest next (a probe's step, a pause) does not race the
# sweep's own step of a guest it found off.
daemon_swept() {
	local host=$1 dom
	shift
	for dom in "$@"; do
		wait_output "^$dom: idle; last sync on sweep" "the start-up sweep of $dom on $host" \
			"$VTS" --status --socket "$E2E_TMP/vtsd-$host.sock"
	done
}

# daemon_stop HOST: SIGTERM and wait; fail if it does not exit 0.
daemon_stop() {
	local pidf=$E2E_TMP/vtsd-$1.pid pid rc
	[ -f "$pidf" ] || return 0
	pid=$(cat "$pidf")
	rm -f "$pidf"
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 1 150); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		fail "vmtimesyncd for $1 ignored SIGTERM for 15 s"
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	# 127: not our child (started in file_setup's shell); nothing to check.
	[ "$rc" -eq 0 ] || [ "$rc" -eq 127 ] || fail "vmtimesyncd for $1 exited $rc after SIGTERM"
}

daemon_log() { cat "$E2E_TMP/vtsd-$1.log" 2>/dev/null; }

# daemon_run_log HOST: HOST's daemon log since its latest daemon_start, so
# that a test's assertion cannot be met by an earlier test's daemon.
_DAEMON_MARK="---- e2e: daemon_start ----"
daemon_run_log() {
	daemon_log "$1" | awk -v mark="$_DAEMON_MARK" '$0 == mark { n = 0; next } { l[n++] = $0 }
		END { for (i = 0; i < n; i++) print l[i] }'
}

# wait_output ERE WHAT CMD...: wait (up to LOG_WAIT_S) for CMD's output to
# match ERE. The probe can see a guest fixed before the daemon has verified
# and written its log line and metrics, so an assertion on those after
# wait_fixed must wait for them, not read them once.
LOG_WAIT_S=${LOG_WAIT_S:-20}
wait_output() {
	local ere=$1 what=$2 start
	shift 2
	start=$(e2e_now_ms)
	until "$@" 2>/dev/null | grep -qE -- "$ere"; do
		if [ $(($(e2e_now_ms) - start)) -gt $((LOG_WAIT_S * 1000)) ]; then
			fail "$what: no line matches /$ere/ after ${LOG_WAIT_S} s; last lines:
$("$@" 2>&1 | tail -n 8)"
		fi
		sleep 0.1
	done
}

# wait_log HOST ERE [what]: wait for a line that HOST's running daemon (the
# one the latest daemon_start started) logged to match ERE.
wait_log() { wait_output "$2" "${3:-daemon log} on $1" daemon_run_log "$1"; }
daemon_pid() { cat "$E2E_TMP/vtsd-$1.pid"; }

# wait_fixed HOST DOM: wait until the guest is within FIXED_NS of the host;
# fail after FIX_WAIT_S. Leaves the time it took in $FIX_MS and the last
# offset in $FIX_OFF.
wait_fixed() {
	local start off
	start=$(e2e_now_ms)
	while :; do
		off=$("$PROBE" -c "$(th_host_uri "$1")" "$2" offset 2>/dev/null | cut -d' ' -f1)
		if [ -n "$off" ] && [ "$(_abs "$off")" -lt "$FIXED_NS" ]; then
			FIX_MS=$(($(e2e_now_ms) - start))
			FIX_OFF=$off
			note "$2 fixed within $FIX_MS ms, offset $(fmt_ns "$off")"
			return 0
		fi
		if [ $(($(e2e_now_ms) - start)) -gt $((FIX_WAIT_S * 1000)) ]; then
			fail "$2 on $1 not fixed after ${FIX_WAIT_S} s: offset $(fmt_ns "${off:-none}"); daemon log: $(daemon_log "$1" | tail -n 5)"
		fi
		sleep 0.1
	done
}

# pause_guest HOST DOM SECONDS: suspend, wait, resume; check the guest is
# behind by about that much right after (when no daemon runs).
pause_guest() {
	must virsh -c "$(th_host_uri "$1")" suspend "$2"
	sleep "$3"
	must virsh -c "$(th_host_uri "$1")" resume "$2"
}
