#!/bin/bash
# soak.sh: vmtimesyncd over many short pause/resume cycles of one guest on
# a private test host. Not part of run.sh's suite (a cycle takes 0.7 to
# 1.3 s on a busy 2-core box, so 1000 take 12 to 22 minutes); run it by
# hand or from a nightly job. Needs what run.sh needs: make all
# build/vts-probe.
#
# Usage: tests/e2e/soak.sh [CYCLES]       (as root; default 1000)
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
# Prints the figures (cycle time, latency after the trigger, RSS, fds,
# offsets) and ends with "soak: PASS ..." or "soak: FAIL: reason".
#
# Environment: VTS_BUILD_DIR (default build), VTS_GUEST_DIR (default
# $VTS_BUILD_DIR/guest), SOAK_PAUSE (0.2), SOAK_WARMUP (50),
# SOAK_PROBE_EVERY (50), SOAK_FIXED_MS (10), SOAK_RSS_MAX_KB (1024),
# VTS_E2E_NO_SETUP=1 (skip setup-host.sh), TH_KEEP=1 (keep the daemon's log
# and the host's logs).
set -uo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$E2E_DIR/../.." && pwd)

cycles=${1:-1000}
case "$cycles" in '' | *[!0-9]* | 0) echo "usage: $0 [CYCLES]" >&2; exit 2 ;; esac
pause=${SOAK_PAUSE:-0.2}
warmup=${SOAK_WARMUP:-50}
probe_every=${SOAK_PROBE_EVERY:-50}
rss_max_kb=${SOAK_RSS_MAX_KB:-1024}
[ "$warmup" -lt "$cycles" ] || warmup=$((cycles / 5))
fixed_ms=${SOAK_FIXED_MS:-10}

abspath() { case "$1" in /*) echo "$1" ;; *) echo "$REPO/$1" ;; esac; }
VTS_BUILD_DIR=$(abspath "${VTS_BUILD_DIR:-build}")
VTS_GUEST_DIR=$(abspath "${VTS_GUEST_DIR:-$VTS_BUILD_DIR/guest}")
VTS=$VTS_BUILD_DIR/vmtimesync
PROBE=$VTS_BUILD_DIR/vts-probe
TH_GUEST_DIR=$VTS_GUEST_DIR
export VTS_BUILD_DIR VTS_GUEST_DIR VTS PROBE TH_GUEST_DIR

# shellcheck source=tests/e2e/testhost.sh
. "$E2E_DIR/testhost.sh"
# shellcheck source=tests/e2e/lib.sh
. "$E2E_DIR/lib.sh"

say() { printf 'soak: %s\n' "$*"; }
# Replaces lib.sh's fail() (its helpers call it); the EXIT trap of th_init
# then stops the daemon (TH_PRE_CLEANUP) and the test host.
fail() { say "FAIL: $*"; exit 1; }
FIXED_NS=$((fixed_ms * NS_PER_MS))
soak_stop_daemon() {
	local pid
	pid=$(cat "$E2E_TMP/vtsd-$HOST.pid" 2>/dev/null) || return 0
	kill -KILL "$pid" 2>/dev/null
	rm -f "$E2E_TMP/vtsd-$HOST.pid"
}

[ "$(id -u)" -eq 0 ] || { say "FAIL: must run as root"; exit 1; }
for bin in "$VTS" "$VTS_BUILD_DIR/vmtimesyncd" "$PROBE"; do
	[ -x "$bin" ] || { say "FAIL: missing $bin (make all build/vts-probe)"; exit 1; }
done
if [ "${VTS_E2E_NO_SETUP:-0}" != 1 ]; then
	"$E2E_DIR/setup-host.sh" || { say "FAIL: setup-host.sh failed"; exit 1; }
fi
"$E2E_DIR/build-guest.sh" "$VTS_GUEST_DIR" >/dev/null || { say "FAIL: build-guest.sh failed"; exit 1; }

TH_PRE_CLEANUP=soak_stop_daemon
th_init || { say "FAIL: th_init failed"; exit 1; }
E2E_TMP=$TH_ROOT/e2e
mkdir -p "$E2E_TMP"
export E2E_TMP
HOST=soak
DOM=s1
th_host_start "$HOST" || fail "cannot start test host $HOST"
URI=$(th_host_uri "$HOST")
guests_boot "$HOST" "$DOM"

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
say "cycles $cycles, pause $pause s, warm-up $warmup, probe every $probe_every (bound $fixed_ms ms); daemon pid $PID, log $LOG"

# One virsh for all cycles (a virsh per command costs a process and a
# connection each, on a loaded box hundreds of ms): vsh CMD... sends one
# command and waits for the "echo" after it.
: >"$E2E_TMP/virsh.err"
coproc VSH { exec stdbuf -oL virsh -q -c "$URI" 2>>"$E2E_TMP/virsh.err"; }
vsh() {
	local line errs
	errs=$(wc -c <"$E2E_TMP/virsh.err")
	# The empty line ends the line of the echo's output (see below).
	printf '%s\necho vsh-done\n\n' "$*" >&"${VSH[1]}" || fail "virsh is gone"
	while IFS= read -r -t 30 line <&"${VSH[0]}"; do
		# Interactive virsh echoes "virsh # CMD" and leaves the next
		# prompt on the line of the echo's output.
		[[ "$line" == vsh-done* ]] || continue
		[ "$(wc -c <"$E2E_TMP/virsh.err")" -eq "$errs" ] ||
			fail "virsh $*: $(tail -c +$((errs + 1)) "$E2E_TMP/virsh.err" | head -n 2)"
		return 0
	done
	fail "virsh $*: no answer in 30 s: $(tail -n 2 "$E2E_TMP/virsh.err")"
}

# oks: the daemon's lines for resumes of DOM that ended well so far;
# retries: those that ended in "retrying with backoff" (a sync that failed,
# e.g. its verification on a loaded host, and is tried again).
oks() { grep -c -E -- "]: $DOM: .*-> (stepped -> residual|within threshold).*\[trigger resumed/" "$LOG"; }
retries() { grep -c -- "]: $DOM: .*\[trigger resumed/.*; retrying with backoff" "$LOG"; }
proc_field() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$PID/status"; }
nfds() { find "/proc/$PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
alive() { kill -0 "$PID" 2>/dev/null || fail "vmtimesyncd died at cycle $1: $(tail -n 5 "$LOG")"; }

rss0="" fds0="" thr0="" max_off=0 probes=0 reprobes=0
start_ms=$(e2e_now_ms)
for ((i = 1; i <= cycles; i++)); do
	before=$(oks)
	vsh suspend "$DOM"
	sleep "$pause"
	vsh resume "$DOM"
	deadline=$(($(e2e_now_ms) + 15000))
	while [ "$(oks)" -le "$before" ]; do
		alive "$i"
		grep -q -- "]: $DOM: .*giving up" "$LOG" &&
			fail "cycle $i: the daemon gave up: $(grep -- "]: $DOM: .*giving up" "$LOG" | tail -n 1)"
		[ "$(e2e_now_ms)" -lt "$deadline" ] ||
			fail "cycle $i: no good result from the daemon 15 s after the resume: $(tail -n 3 "$LOG")"
		sleep 0.02
	done
	[ "$(oks)" -eq $((before + 1)) ] ||
		fail "cycle $i: $(($(oks) - before)) good results for one resume"
	if [ "$i" -eq "$warmup" ]; then
		rss0=$(proc_field VmRSS) fds0=$(nfds) thr0=$(proc_field Threads)
		say "after the warm-up ($i cycles): VmRSS $rss0 kB, $fds0 fds, $thr0 threads"
	fi
	if [ $((i % probe_every)) -eq 0 ] || [ "$i" -eq "$cycles" ]; then
		# Up to 3 measurements: a guest's clock does not move by itself
		# between them, so they differ only by vts-probe's own noise on
		# a loaded host; the best one counts.
		best=""
		for try in 1 2 3; do
			off=$("$PROBE" -c "$URI" "$DOM" offset 2>/dev/null | cut -d' ' -f1)
			case "$off" in '' | *[!0-9-]*) fail "cycle $i: vts-probe failed" ;; esac
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
			fail "cycle $i: vts-probe finds $DOM off by $(fmt_ns "$off"); the daemon said: $(grep -- "]: $DOM: " "$LOG" | tail -n 1)"
		say "cycle $i: offset $(fmt_ns "$off"), VmRSS $(proc_field VmRSS) kB, $(nfds) fds, $(($(e2e_now_ms) - start_ms)) ms so far"
	fi
done
end_ms=$(e2e_now_ms)
alive "$cycles"
rss1=$(proc_field VmRSS) fds1=$(nfds) thr1=$(proc_field Threads) hwm=$(proc_field VmHWM)

total=$(oks)
nretries=$(retries)
stepped=$(grep -c -- "]: $DOM: .*-> stepped -> residual.*\[trigger resumed/" "$LOG")
within=$(grep -c -- "]: $DOM: .*-> within threshold.*\[trigger resumed/" "$LOG")
lat=$(grep -E -- "]: $DOM: .*-> (stepped -> residual|within threshold).*\[trigger resumed/" "$LOG" |
	sed -n 's/.*, \([0-9.]*\) ms after the trigger\].*/\1/p' | sort -n |
	awk '{ a[NR] = $1 } END { if (NR) printf "median %s ms, p95 %s ms, max %s ms", a[int((NR + 1) / 2)], a[int(NR * 0.95 + 0.5)], a[NR] }')
say "$cycles cycles in $(e2e_ms_to_s $((end_ms - start_ms))) s: $(((end_ms - start_ms) / cycles)) ms per cycle"
say "good results: $total ($stepped stepped, $within within threshold), after $nretries retries; time from the trigger to the good result: $lat"
say "VmRSS $rss0 -> $rss1 kB ($((rss1 - rss0)) kB over $((cycles - warmup)) cycles; VmHWM $hwm kB), fds $fds0 -> $fds1, threads $thr0 -> $thr1"
resid=$(grep -E -- "]: $DOM: .*-> stepped -> residual.*\[trigger resumed/" "$LOG" |
	sed -n 's/.*-> residual [+-]\?\([0-9.]*\) ms.*/\1/p' | sort -n |
	awk '{ a[NR] = $1 } END { if (NR) printf "median %s ms, p95 %s ms, max %s ms", a[int((NR + 1) / 2)], a[int(NR * 0.95 + 0.5)], a[NR] }')
say "|residual| the daemon reported: $resid"
say "vts-probe: $probes samples ($reprobes measurements retaken), largest |offset| $(fmt_ns "$max_off")"

[ "$total" -eq "$cycles" ] || fail "$total good results for $cycles resumes"
[ $((rss1 - rss0)) -lt "$rss_max_kb" ] || fail "VmRSS grew by $((rss1 - rss0)) kB (limit $rss_max_kb kB)"
[ "$fds1" -le "$fds0" ] || fail "file descriptors grew from $fds0 to $fds1"
[ "$thr1" -le "$thr0" ] || fail "threads grew from $thr0 to $thr1"
daemon_stop "$HOST"
say "PASS: $cycles cycles, VmRSS +$((rss1 - rss0)) kB, largest offset $(fmt_ns "$max_off")"
