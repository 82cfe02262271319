#!/bin/bash
# fuzz/run.sh: run the libFuzzer targets one after the other and say how
# many inputs each executed. `make fuzz` and `make fuzz-check` call it.
#
# Usage: fuzz/run.sh SECONDS TARGET... [-- LIBFUZZER_FLAG...]
#   SECONDS   how long to fuzz each target; 0 runs each target once over
#             its committed seeds and stops (a quick check that none
#             crashes)
#   TARGET    agent, ctl, domxml, conf, hook (build/fuzz/fuzz_TARGET)
# Environment: FUZZ_BUILD (build/fuzz), FUZZ_TIMEOUT (seconds per input,
# 10), FUZZ_RSS_MB (2048).
#
# Seeds come from fuzz/corpus/TARGET/ and are never written; new inputs go
# to $FUZZ_BUILD/corpus/TARGET/, crashes to $FUZZ_BUILD/crashes/, each
# target's log to $FUZZ_BUILD/logs/TARGET.log, the table to
# $FUZZ_BUILD/stats.txt. Exits 1 when a target crashed, leaked or hung.
set -uo pipefail

FUZZ_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FUZZ_BUILD=${FUZZ_BUILD:-build/fuzz}
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-10}
FUZZ_RSS_MB=${FUZZ_RSS_MB:-2048}

[ "$#" -ge 2 ] || { sed -n '3,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 2; }
seconds=$1
shift
case "$seconds" in '' | *[!0-9]*) echo "run.sh: SECONDS must be a whole number" >&2; exit 2 ;; esac
targets=()
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
	targets+=("$1")
	shift
done
[ "${1:-}" = "--" ] && shift
extra=("$@")

mkdir -p "$FUZZ_BUILD/logs" "$FUZZ_BUILD/crashes"
# Built aside and moved in at the end: a second run at the same time (make
# fuzz-check beside make fuzz) does not interleave its rows with ours.
stats=$FUZZ_BUILD/stats.txt.$$
printf '%-8s %8s %12s %10s %8s %6s  %s\n' target seconds executions exec/s corpus cov result >"$stats"
failed=0
t_all=$(date +%s)

for t in "${targets[@]}"; do
	bin=$FUZZ_BUILD/fuzz_$t
	seeds=$FUZZ_DIR/corpus/$t
	work=$FUZZ_BUILD/corpus/$t
	log=$FUZZ_BUILD/logs/$t.log
	[ -x "$bin" ] || { echo "run.sh: missing $bin (make fuzz-build)" >&2; exit 2; }
	[ -d "$seeds" ] || { echo "run.sh: missing seeds $seeds" >&2; exit 2; }
	mkdir -p "$work"
	args=(-timeout="$FUZZ_TIMEOUT" -rss_limit_mb="$FUZZ_RSS_MB" -print_final_stats=1
		-artifact_prefix="$FUZZ_BUILD/crashes/$t-")
	[ -f "$FUZZ_DIR/dict/$t.dict" ] && args+=(-dict="$FUZZ_DIR/dict/$t.dict")
	# libFuzzer stops at 4096 bytes unless a seed is longer: let requests
	# cross VTS_CTL_MAX_REQUEST (4096), and XML and configurations grow.
	case "$t" in
	ctl) args+=(-max_len=4200) ;;
	domxml | hook | conf) args+=(-max_len=16384) ;;
	esac
	if [ "$seconds" -eq 0 ]; then
		# Seeds only: every committed input once, nothing written.
		args+=(-runs=0 "$seeds")
	else
		args+=(-max_total_time="$seconds" "${extra[@]}" "$work" "$seeds")
	fi
	echo "fuzz: $t for ${seconds}s" >&2
	start=$(date +%s)
	"$bin" "${args[@]}" >"$log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
	# The last status line: "#N DONE cov: C ft: F corp: K/..." (or INITED).
	last=$(grep -a -E '^#[0-9]+[[:space:]]+(DONE|INITED|NEW|REDUCE|pulse)' "$log" | tail -n1)
	cov=$(printf '%s' "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	corp=$(printf '%s' "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
	result=ok
	if [ "$rc" -ne 0 ]; then
		result="FAILED (exit $rc): $(grep -a -m1 -E "property does not hold|runtime error|^==[0-9]+==ERROR" "$log" | cut -c1-100)"
		failed=1
	fi
	printf '%-8s %8s %12s %10s %8s %6s  %s\n' "$t" "$took" "${execs:-?}" "${rate:-?}" \
		"${corp:-?}" "${cov:-?}" "$result" >>"$stats"
	if [ "$rc" -ne 0 ]; then
		echo "fuzz: $t FAILED; log $log, input in $FUZZ_BUILD/crashes/:" >&2
		grep -a -E -A12 "^==[0-9]+==ERROR|runtime error|property does not hold" "$log" | head -n 30 >&2
	fi
done

echo "fuzz: total $(($(date +%s) - t_all)) s" >>"$stats"
mv -f "$stats" "$FUZZ_BUILD/stats.txt"
cat "$FUZZ_BUILD/stats.txt"
exit "$failed"
