#!/bin/bash
# demo.sh: vmtimesync's main job, shown on a built-in demo host.
#
# As root on Debian 12: installs what the demo host needs, builds a tiny
# guest, starts a private libvirtd (in its own mount namespace: the
# machine's own libvirt is not touched), boots one guest, pauses it so its
# clock falls behind, runs vmtimesync and shows the clock put right,
# measured independently with vts-probe. Everything is torn down at the end,
# also on failure or Ctrl-C. Exit status is non-zero if any step fails.
#
# Usage: scripts/demo.sh          (`make demo` builds first, then runs it)
# Environment: VTS_BUILD_DIR (default build) holds vmtimesync and
# vts-probe; the guest is built into $VTS_BUILD_DIR/guest.
#
# To show more (the daemon, a migration...), add a demo_* function and
# list it in DEMO_PARTS.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
E2E_DIR=$REPO/tests/e2e
case "${VTS_BUILD_DIR:-build}" in
/*) BUILD=${VTS_BUILD_DIR} ;;
*) BUILD=$REPO/${VTS_BUILD_DIR:-build} ;;
esac
VTS=$BUILD/vmtimesync
PROBE=$BUILD/vts-probe
HOST=demo
GUEST=web-1
PAUSE_S=5
DEMO_PARTS=(demo_pause_and_sync demo_daemon)
VTSD=$BUILD/vmtimesyncd

if [ -t 1 ]; then
	B=$'\033[1m' G=$'\033[32m' R=$'\033[31m' D=$'\033[2m' N=$'\033[0m'
else
	B="" G="" R="" D="" N=""
fi

step() { printf '\n%s==> %s%s\n' "$B" "$*" "$N"; }
info() { printf '    %s\n' "$*"; }
cmd() { printf '    %s$ %s%s\n' "$D" "$*" "$N"; }
die() {
	printf '\n%sdemo failed: %s%s\n' "$R" "$*" "$N" >&2
	exit 1
}

# human NS [+]: "-5.003 s" / "0.412 ms"; with "+" a sign always.
human() {
	awk -v ns="$1" -v f="%${2:-}.3f" 'BEGIN {
		a = ns < 0 ? -ns : ns
		if (a >= 1e9) printf f " s", ns / 1e9
		else printf f " ms", ns / 1e6
	}'
}

# show_offset LABEL: measure the guest with vts-probe; leaves it in $OFFSET.
show_offset() {
	local out rtt
	out=$("$PROBE" -c "$URI" "$GUEST" offset 2>&1) || die "vts-probe: $out"
	read -r OFFSET rtt <<<"$out"
	info "$1: guest clock is $B$(human "$OFFSET" +)$N off the host's (vts-probe, round trip $(human "$rtt"))"
}

demo_pause_and_sync() {
	local rc out

	step "How far is $GUEST's clock from the host's, right after boot?"
	cmd "vts-probe -c \$URI $GUEST offset"
	show_offset "now"

	step "Pausing $GUEST for $PAUSE_S s, as a migration, a snapshot or a saved state would"
	cmd "virsh suspend $GUEST; sleep $PAUSE_S; virsh resume $GUEST"
	th_virsh "$HOST" suspend "$GUEST" >/dev/null || die "virsh suspend failed"
	sleep "$PAUSE_S"
	th_virsh "$HOST" resume "$GUEST" >/dev/null || die "virsh resume failed"
	show_offset "after the pause"
	info "The guest did not see the time pass: its clock is behind."

	step "Running vmtimesync"
	# A step copies the host's clock into the guest, so vmtimesync refuses
	# when the host's own clock is not synchronized. This demo machine may
	# run no NTP: say so explicitly, as an operator would have to.
	if [ "$("$PROBE" hostclock)" = unsynced ]; then
		info "(this machine's clock is not NTP-synchronized, so the demo passes"
		info " --allow-unsynced-host; on a compute node running chrony it is not needed)"
		ALLOW=--allow-unsynced-host
	else
		ALLOW=""
	fi
	cmd "vmtimesync $ALLOW -c \$URI $GUEST"
	out=$("$VTS" $ALLOW -c "$URI" "$GUEST" 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed 's/^/    /'
	[ "$rc" -eq 0 ] || die "vmtimesync exited $rc"

	step "And now?"
	show_offset "after vmtimesync"
	awk -v o="$OFFSET" 'BEGIN { exit !(o < 10e6 && o > -10e6) }' ||
		die "the guest is still $(human "$OFFSET" +) off"
	info "${G}Fixed.$N"
}

# daemon_up HOST: vmtimesyncd for HOST, in the foreground, logging to a file.
daemon_up() {
	local host=$1 dir
	dir=$(th_host_dir "$host")
	cat >"$dir/vmtimesync.conf" <<EOC
uri = $(th_host_uri "$host")
control_socket = $dir/vmtimesyncd.sock
host_unsynced = $([ -n "$ALLOW" ] && echo allow || echo refuse)
EOC
	"$VTSD" --foreground -f "$dir/vmtimesync.conf" >"$dir/vmtimesyncd.log" 2>&1 &
	echo $! >"$dir/vmtimesyncd.pid"
	for _ in $(seq 1 50); do
		"$VTS" --status --socket "$dir/vmtimesyncd.sock" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	die "vmtimesyncd for $host did not start: $(tail -n 3 "$dir/vmtimesyncd.log")"
}

daemon_down() {
	local pidf pid
	pidf="$(th_host_dir "$1")/vmtimesyncd.pid"
	[ -f "$pidf" ] || return 0
	pid=$(cat "$pidf")
	rm -f "$pidf"
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	return 0
}

# Run by th_cleanup first, also when a step fails or on Ctrl-C: the daemons
# live outside the test hosts' namespaces, so th_cleanup would miss them.
demo_stop_daemons() {
	daemon_down "$HOST"
	daemon_down "${HOST}2"
}

# wait_fixed: poll with vts-probe until the guest is within 10 ms (20 s max).
wait_fixed() {
	local start out off
	start=$(date +%s%N)
	while :; do
		out=$("$PROBE" -c "$URI" "$GUEST" offset 2>/dev/null) && read -r off _ <<<"$out" &&
			awk -v o="$off" 'BEGIN { exit !(o < 10e6 && o > -10e6) }' && break
		[ $(( ($(date +%s%N) - start) / 1000000000 )) -lt 20 ] || die "$GUEST was not fixed within 20 s"
		sleep 0.05
	done
}

demo_daemon() {
	local log

	step "Now the daemon: vmtimesyncd watches libvirt's events and fixes guests by itself"
	cmd "vmtimesyncd --foreground -f vmtimesync.conf &"
	daemon_up "$HOST"
	log="$(th_host_dir "$HOST")/vmtimesyncd.log"

	step "Pausing $GUEST for $PAUSE_S s again; no manual step afterwards"
	cmd "virsh suspend $GUEST; sleep $PAUSE_S; virsh resume $GUEST"
	th_virsh "$HOST" suspend "$GUEST" >/dev/null || die "virsh suspend failed"
	sleep "$PAUSE_S"
	th_virsh "$HOST" resume "$GUEST" >/dev/null || die "virsh resume failed"
	wait_fixed
	show_offset "right after the resume"
	info "vmtimesyncd's log:"
	grep -- "$GUEST: offset" "$log" | tail -n 1 | sed 's/^/      /'

	step "Live-migrating $GUEST to a second host, where another vmtimesyncd runs"
	th_host_start "${HOST}2" || die "the second demo host did not start"
	daemon_up "${HOST}2"
	cmd "virsh migrate --live --p2p --tunnelled $GUEST \$URI2"
	th_virsh "$HOST" migrate --live --p2p --tunnelled "$GUEST" "$(th_host_uri "${HOST}2")" >/dev/null ||
		die "the migration failed"
	URI=$(th_host_uri "${HOST}2")
	wait_fixed
	show_offset "on the destination"
	info "the destination's vmtimesyncd log:"
	grep -- "$GUEST" "$(th_host_dir "${HOST}2")/vmtimesyncd.log" | grep -v "sweep" | tail -n 2 |
		sed 's/^/      /'
	info "${G}Fixed, with nobody running anything by hand.$N"
	daemon_down "$HOST"
	daemon_down "${HOST}2"
}

main() {
	local start part
	[ "$(id -u)" -eq 0 ] || die "run me as root (I start a private libvirtd and QEMU)"

	printf '%svmtimesync demo%s: a guest loses time while paused; vmtimesync puts it right.\n' "$B" "$N"

	step "Installing what the demo host needs (Debian packages; quick when present)"
	"$E2E_DIR/setup-host.sh" || die "tests/e2e/setup-host.sh failed"
	info "ok"

	step "Building the tiny guest (Debian's kernel, busybox, qemu-ga) into $BUILD/guest"
	"$E2E_DIR/build-guest.sh" "$BUILD/guest" || die "tests/e2e/build-guest.sh failed"
	info "ok"

	for bin in "$VTS" "$VTSD" "$PROBE"; do
		[ -x "$bin" ] || die "missing $bin: build first ('make demo' does, or 'make all build/vts-probe')"
	done

	TH_GUEST_DIR=$BUILD/guest
	# shellcheck source=tests/e2e/testhost.sh
	. "$E2E_DIR/testhost.sh"
	TH_PRE_CLEANUP=demo_stop_daemons
	th_init || die "cannot make a private directory"

	step "Starting a private libvirt host '$HOST'"
	info "libvirtd and virtlogd in their own mount namespace, with private"
	info "/run/libvirt, /etc/libvirt, /var/lib/libvirt: nothing of the machine's libvirt is touched."
	th_host_start "$HOST" || die "the demo host did not start"
	URI=$(th_host_uri "$HOST")
	info "URI=$URI"

	step "Booting guest '$GUEST' (QEMU TCG, 128 MiB) and waiting for its guest agent"
	start=$(date +%s%N)
	th_guest_start "$HOST" "$GUEST" || die "cannot start $GUEST"
	th_guest_wait_agent "$HOST" "$GUEST" || die "$GUEST's guest agent never answered"
	info "agent answers, $(( ($(date +%s%N) - start) / 1000000 )) ms after virsh create"

	for part in "${DEMO_PARTS[@]}"; do
		"$part"
	done

	step "Tearing down the demo host"
	th_cleanup
	info "guest destroyed, daemons stopped, private directories removed"
	printf '\n%sDemo complete.%s\n' "$G$B" "$N"
}

main "$@"
