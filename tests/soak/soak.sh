#!/bin/bash
# tests/soak/soak.sh: vmtimesyncd over many short pause/resume cycles of one guest on
# a private test host. Not part of the e2e suite (tests/e2e/run.sh): `make check-soak`
# (SOAK_CYCLES, 1000) runs it, and CI does. A cycle takes about 0.3 s on a
# 2-core box (0.2 s of it the pause, 50 ms the daemon's sync), more when
# the box is busy: 1000 take about 5 minutes, plus one to set up. Needs what
# tests/e2e/run.sh needs: make all build/vts-probe.
#
# Usage: tests/soak/soak.sh [CYCLES]       (as root; default 1000)
# Every cycle suspends the guest, waits SOAK_PAUSE seconds, resumes it and
# waits for the daemon's line saying it stepped the guest (or found it
# within the threshold). Fails when:
#   - the daemon dies, or does not exit 0 on SIGTERM at the end;
#   - a resume does not end, within 15 s, in exactly one "stepped" or
#     "within threshold" line, or the daemon gives up on the guest (a
#     failed sync retried with backoff is counted and reported, not failed);
#   - vts-probe, sampled every SOAK_PROBE_EVERY cycles, finds the guest
#     SOAK_FIXED_MS (lib.sh's FIXED_NS, 10 ms) or more off the host (best of
#     up to 3 measurements);
#   - the daemon's RSS (VmRSS) grows by SOAK_RSS_MAX_KB (1024) or more from
#     the end of the warm-up (SOAK_WARMUP cycles) to the end, or it holds
#     more file descriptors or threads at the end than after the warm-up.
# Prints the figures (cycle time and its parts, latency after the trigger,
# RSS, fds, offsets) and ends with "soak: PASS ..." or "soak: FAIL: reason".
# The daemon's log, and on failure the test host's libvirtd log and the
# guest's console, are kept in $VTS_BUILD_DIR/soak-logs/. Whatever fails,
# everything the script started is stopped: the daemon, its virsh and log
# reader, the test host and its guest (by their pids, nothing else).
#
# The guest runs busybox's hwclock unless SOAK_HWCLOCK=util-linux: the soak
# measures the daemon (memory, descriptors, threads, every resume served),
# not the guest, and util-linux's hwclock (0.5-2 s a step, as on real
# guests; the e2e tests and the benchmark use it) would make 1000 cycles
# take about half an hour instead of five minutes.
#
# Environment: VTS_BUILD_DIR (default build), VTS_GUEST_DIR (default
# $VTS_BUILD_DIR/guest), SOAK_PAUSE (0.2), SOAK_WARMUP (50),
# SOAK_PROBE_EVERY (50), SOAK_FIXED_MS (10), SOAK_RSS_MAX_KB (1024),
# VTS_E2E_NO_SETUP=1 (skip setup-host.sh), TH_KEEP=1 (keep the test host's
# whole private root).
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
E2E_DIR=$REPO/tests/e2e

cycles=${1:-1000}
case "$cycles" in '' | *[!0-9]* | 0) echo "usage: $0 [CYCLES]" >&2; exit 2 ;; esac
pause=${SOAK_PAUSE:-0.2}
warmup=${SOAK_WARMUP:-50}
probe_every=${SOAK_PROBE_EVERY:-50}
rss_max_kb=${SOAK_RSS_MAX_KB:-1024}
[ "$warmup" -lt "$cycles" ] || warmup=$((cycles / 5))
fixed_ms=${SOAK_FIXED_MS:-10}

# shellcheck source=tests/e2e/paths.sh
. "$E2E_DIR/paths.sh"
VTS=$VTS_BUILD_DIR/vmtimesync
PROBE=$VTS_BUILD_DIR/vts-probe
TH_GUEST_DIR=$VTS_GUEST_DIR
KEEP_DIR=$VTS_BUILD_DIR/soak-logs
export VTS_BUILD_DIR VTS_GUEST_DIR VTS PROBE TH_GUEST_DIR

# shellcheck source=tests/e2e/testhost.sh
. "$E2E_DIR/testhost.sh"
# shellcheck source=tests/e2e/lib.sh
. "$E2E_DIR/lib.sh"

say() { printf 'soak: %s\n' "$*"; }
# Replaces lib.sh's fail() (its helpers call it); the EXIT trap of th_init
# then runs soak_cleanup (TH_PRE_CLEANUP) and stops the test host.
FAILED=0
fail() {
	FAILED=1
	say "FAIL: $*"
	exit 1
}
FIXED_NS=$((fixed_ms * NS_PER_MS))
# Without a fork (the loop runs thousands of times): milliseconds in $NOW.
now() { NOW=$((${EPOCHREALTIME//[!0-9]/} / 1000)); }

HOST=soak
DOM=s1
PID="" TAIL_PID=""

# Keep the logs worth reading, then stop what this script started.
soak_cleanup() {
	local d
	if [ -n "${E2E_TMP:-}" ]; then
		cp "$E2E_TMP/vtsd-$HOST.log" "$KEEP_DIR/vmtimesyncd.log" 2>/dev/null
		if [ "$FAILED" = 1 ]; then
			d=$(th_host_dir "$HOST")
			cp "$d/log/libvirtd.log" "$KEEP_DIR/libvirtd.log" 2>/dev/null
			cp "$(th_guest_console "$HOST" "$DOM")" "$KEEP_DIR/$DOM.console.log" 2>/dev/null
			say "logs kept in $KEEP_DIR (TH_KEEP=1 keeps the test host's whole root)"
		fi
		if [ -f "$E2E_TMP/vtsd-$HOST.pid" ]; then
			kill -KILL "$(cat "$E2E_TMP/vtsd-$HOST.pid")" 2>/dev/null
			rm -f "$E2E_TMP/vtsd-$HOST.pid"
		fi
	fi
	# Bash forgets a coproc's pid once it has ended.
	[ -n "${VSH_PID:-}" ] && kill "$VSH_PID" 2>/dev/null
	[ -n "$TAIL_PID" ] && kill "$TAIL_PID" 2>/dev/null
	return 0
}

[ "$(id -u)" -eq 0 ] || { say "FAIL: must run as root"; exit 1; }
for bin in "$VTS" "$VTS_BUILD_DIR/vmtimesyncd" "$PROBE"; do
	[ -x "$bin" ] || { say "FAIL: missing $bin (make all build/vts-probe)"; exit 1; }
done
if [ "${VTS_E2E_NO_SETUP:-0}" != 1 ]; then
	"$E2E_DIR/setup-host.sh" || { say "FAIL: setup-host.sh failed"; exit 1; }
fi
"$E2E_DIR/build-guest.sh" "$VTS_GUEST_DIR" >/dev/null || { say "FAIL: build-guest.sh failed"; exit 1; }
rm -rf "$KEEP_DIR"
mkdir -p "$KEEP_DIR" || { say "FAIL: cannot create $KEEP_DIR"; exit 1; }

TH_PRE_CLEANUP=soak_cleanup
th_init || { say "FAIL: th_init failed"; exit 1; }
E2E_TMP=$TH_ROOT/e2e
mkdir -p "$E2E_TMP"
export E2E_TMP
th_host_start "$HOST" || fail "cannot start test host $HOST (its logs are above)"
URI=$(th_host_uri "$HOST")
case "${SOAK_HWCLOCK:-busybox}" in
busybox) guests_boot "$HOST" "$DOM:busybox-hwclock" ;;
util-linux) guests_boot "$HOST" "$DOM" ;;
*) fail "SOAK_HWCLOCK must be busybox or util-linux, not '$SOAK_HWCLOCK'" ;;
esac

# Info level: one line per sync, as in production.
daemon_start "$HOST" "log_level = info"
PID=$(daemon_pid "$HOST")
LOG=$E2E_TMP/vtsd-$HOST.log
# Let the start-up sweep finish: a resume during a sync makes the daemon
# sync again, and that line names the first trigger.
for _ in $(seq 1 150); do
	st=$("$VTS" --status --json --socket "$E2E_TMP/vtsd-$HOST.sock" 2>/dev/null)
	[ "$(json_get "$st" ".domains[] | select(.domain == \"$DOM\") | .phase")" = idle ] && break
	sleep 0.1
done
say "cycles $cycles, pause $pause s, warm-up $warmup, probe every $probe_every (bound $fixed_ms ms); daemon pid $PID, log $LOG (kept in $KEEP_DIR)"

# One virsh for all cycles (a virsh per command costs a process and a
# connection each, on a loaded box hundreds of ms): vsh CMD... sends one
# command and waits for the "echo" after it. Its stderr comes through the
# same pipe, ahead of the echo: an "error:" line before it is the command's.
coproc VSH { exec stdbuf -oL virsh -q -c "$URI" 2>&1; }
vsh() {
	local line errs=""
	# The empty line ends the line of the echo's output (see below).
	printf '%s\necho vsh-done\n\n' "$*" >&"${VSH[1]}" || fail "virsh is gone (during: virsh $*)"
	while IFS= read -r -t 30 line <&"${VSH[0]}"; do
		case "$line" in
		error:*) errs+=" ${line#error: }" ;;
		# Interactive virsh echoes "virsh # CMD" and leaves the next
		# prompt on the line of the echo's output.
		vsh-done*)
			[ -z "$errs" ] || fail "virsh $* failed:$errs"
			return 0
			;;
		esac
	done
	fail "virsh $*: no answer in 30 s (libvirtd of test host $HOST hung?)"
}

# The daemon's log as it grows, one line at a time, with no polling and no
# process per look: a good result is seen the moment it is written.
exec {LOGFD}< <(exec tail -n +1 -F "$LOG" 2>/dev/null)
TAIL_PID=$!
good=0 retries=0 rechecks=0 partial=""
# Lines about DOM after a resume: a good end ("stepped -> residual" or
# "within threshold"), a failure retried with backoff, giving up. A
# re-check of a sync that left more than the tolerance (", re-check N, "
# in the brackets) is neither: it follows a good end, maybe a cycle later.
RE_RECHECK="]: $DOM: .*\[trigger resumed/[^]]*, re-check [0-9]+, "
RE_GOOD="]: $DOM: .*-> (stepped -> residual|within threshold).*\[trigger resumed/"
RE_RETRY="]: $DOM: .*\[trigger resumed/.*; retrying with backoff"
RE_GIVE_UP="]: $DOM: .*giving up"

# read_log TIMEOUT: count the next line of the log into good/retries, or
# return 1 when none is complete within TIMEOUT seconds.
read_log() {
	local line rc
	IFS= read -r -t "$1" -u "$LOGFD" line
	rc=$?
	if [ "$rc" -ne 0 ]; then
		# A timeout keeps what it read of a line: the rest follows.
		partial+=$line
		[ "$rc" -gt 128 ] && return 1
		fail "the reader of $LOG (tail -F) ended"
	fi
	line=$partial$line
	partial=""
	if [[ "$line" =~ $RE_RECHECK ]]; then
		rechecks=$((rechecks + 1))
	elif [[ "$line" =~ $RE_GOOD ]]; then
		good=$((good + 1))
	elif [[ "$line" =~ $RE_RETRY ]]; then
		retries=$((retries + 1))
	elif [[ "$line" =~ $RE_GIVE_UP ]]; then
		fail "cycle $i: the daemon gave up on $DOM: $line"
	fi
	return 0
}

# The good results' lines, re-checks left out.
good_lines() { grep -E -- "$RE_GOOD" "$LOG" | grep -E -v -- "$RE_RECHECK"; }

proc_field() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$PID/status"; }
nfds() { find "/proc/$PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
fd_targets() { find "/proc/$PID/fd" -mindepth 1 -maxdepth 1 -printf '%l\n' | sort; }
alive() {
	local rc how
	kill -0 "$PID" 2>/dev/null && return 0
	# Our child (daemon_start ran it in this shell): its status says how.
	wait "$PID" 2>/dev/null
	rc=$?
	how="exited with status $rc"
	[ "$rc" -gt 128 ] && how="killed by SIG$(kill -l $((rc - 128)) 2>/dev/null) (status $rc)"
	rm -f "$E2E_TMP/vtsd-$HOST.pid"
	fail "vmtimesyncd (pid $PID) died at cycle $1: $how; its last lines: $(tail -n 5 "$LOG")"
}

# no_result CYCLE: why a resume had no good result, for the failure.
no_result() {
	local st state
	if st=$("$VTS" --status --json --socket "$E2E_TMP/vtsd-$HOST.sock" 2>&1); then
		st=$(printf '%s' "$st" | jq -c --arg d "$DOM" '.domains[] | select(.domain == $d)' 2>&1)
	fi
	state=$(timeout 10 virsh -q -c "$URI" domstate --reason "$DOM" 2>&1)
	fail "cycle $1: no good result from the daemon 15 s after the resume ($good so far). Guest: ${state:-?}. Daemon: process state $(awk '$1 == "State:" { print $2, $3 }' "/proc/$PID/status"), --status for $DOM: ${st:-none}. Its last lines about $DOM: $(grep -- "]: $DOM: " "$LOG" | tail -n 3)"
}

# pct UNIT: "median M, p95 P, max X" of the numbers on stdin, one a line.
pct() {
	sort -n | awk -v u="$1" '{ a[NR] = $1 } END { if (NR) printf "median %s%s, p95 %s%s, max %s%s", a[int((NR + 1) / 2)], u, a[int(NR * 0.95 + 0.5)], u, a[NR], u }'
}

rss0="" fds0="" thr0="" fdlist0="" rss_series="" max_off=0 probes=0 reprobes=0
t_suspend=() t_resume=() t_wait=()
now
start_ms=$NOW
for ((i = 1; i <= cycles; i++)); do
	# What the last resume's sync wrote after it was counted (a second
	# good line for one resume) is read before this cycle begins.
	while read_log 0.001; do :; done
	[ "$good" -eq $((i - 1)) ] ||
		fail "cycle $((i - 1)): $((good - i + 2)) good results for one resume: $(good_lines | tail -n 2)"
	now
	t0=$NOW
	vsh suspend "$DOM"
	now
	t_suspend+=($((NOW - t0)))
	sleep "$pause"
	now
	t0=$NOW
	vsh resume "$DOM"
	now
	t_resume+=($((NOW - t0)))
	t0=$NOW
	deadline=$((NOW + 15000))
	while [ "$good" -lt "$i" ]; do
		read_log 0.1 && continue
		alive "$i"
		now
		[ "$NOW" -lt "$deadline" ] || no_result "$i"
	done
	now
	t_wait+=($((NOW - t0)))
	alive "$i"
	if [ "$i" -eq "$warmup" ]; then
		rss0=$(proc_field VmRSS) fds0=$(nfds) thr0=$(proc_field Threads) fdlist0=$(fd_targets)
		say "after the warm-up ($i cycles): VmRSS $rss0 kB, $fds0 fds, $thr0 threads"
	fi
	if [ $((i % probe_every)) -eq 0 ] || [ "$i" -eq "$cycles" ]; then
		# Up to 3 measurements: a guest's clock does not move by itself
		# between them, so they differ only by vts-probe's own noise on
		# a loaded host; the best one counts.
		best=""
		for try in 1 2 3; do
			out=$("$PROBE" -c "$URI" "$DOM" offset 2>&1)
			off=${out%% *}
			case "$off" in '' | *[!0-9-]*) fail "cycle $i: vts-probe $DOM offset failed: $out" ;; esac
			a=${off#-}
			{ [ -z "$best" ] || [ "$a" -lt "${best#-}" ]; } && best=$off
			[ "$a" -lt "$FIXED_NS" ] && break
			reprobes=$((reprobes + 1))
			say "cycle $i: vts-probe measured $(fmt_ns "$off") (try $try)"
			sleep 0.3
		done
		off=$best
		a=${off#-}
		[ "$a" -gt "$max_off" ] && max_off=$a
		probes=$((probes + 1))
		[ "$a" -lt "$FIXED_NS" ] ||
			fail "cycle $i: vts-probe finds $DOM off by $(fmt_ns "$off") (bound $fixed_ms ms) although the daemon said: $(grep -- "]: $DOM: " "$LOG" | tail -n 1)"
		rss=$(proc_field VmRSS)
		rss_series+=" $i:$rss"
		now
		say "cycle $i: offset $(fmt_ns "$off"), VmRSS $rss kB, $(nfds) fds, $((NOW - start_ms)) ms so far"
	fi
done
now
end_ms=$NOW
alive "$cycles"
rss1=$(proc_field VmRSS) fds1=$(nfds) thr1=$(proc_field Threads) hwm=$(proc_field VmHWM)

total=$(good_lines | grep -c .)
stepped=$(good_lines | grep -c -- "-> stepped -> residual")
within=$(good_lines | grep -c -- "-> within threshold")
lat=$(good_lines |
	sed -n 's/.*, \([0-9.]*\) ms after the trigger\].*/\1/p' | pct " ms")
say "$cycles cycles in $(e2e_ms_to_s $((end_ms - start_ms))) s: $(((end_ms - start_ms) / cycles)) ms per cycle"
say "per cycle: virsh suspend $(printf '%s\n' "${t_suspend[@]}" | pct " ms"); virsh resume $(printf '%s\n' "${t_resume[@]}" | pct " ms"); resume to the daemon's good line $(printf '%s\n' "${t_wait[@]}" | pct " ms"); pause $pause s"
say "good results: $total ($stepped stepped, $within within threshold), after $retries retries; $rechecks re-checks; time from the trigger to the good result: $lat"
say "VmRSS $rss0 -> $rss1 kB ($((rss1 - rss0)) kB over $((cycles - warmup)) cycles; VmHWM $hwm kB), fds $fds0 -> $fds1, threads $thr0 -> $thr1"
resid=$(good_lines | grep -- "-> stepped -> residual" |
	sed -n 's/.*-> residual [+-]\?\([0-9.]*\) ms.*/\1/p' | pct " ms")
say "|residual| the daemon reported: $resid"
say "vts-probe: $probes samples ($reprobes measurements retaken), largest |offset| $(fmt_ns "$max_off")"

[ "$total" -eq "$cycles" ] || fail "$total good results for $cycles resumes (see $KEEP_DIR/vmtimesyncd.log)"
[ $((rss1 - rss0)) -lt "$rss_max_kb" ] ||
	fail "VmRSS grew by $((rss1 - rss0)) kB (limit $rss_max_kb kB); VmRSS by cycle (kB):$rss_series. A steady rise per cycle is a leak per sync: make check-valgrind shows where"
[ "$fds1" -le "$fds0" ] ||
	fail "file descriptors grew from $fds0 to $fds1; new ones: $(comm -13 <(echo "$fdlist0") <(fd_targets) | tr '\n' ' ')"
[ "$thr1" -le "$thr0" ] || fail "threads grew from $thr0 to $thr1"
daemon_stop "$HOST"
say "PASS: $cycles cycles, VmRSS +$((rss1 - rss0)) kB, largest offset $(fmt_ns "$max_off")"
