# shellcheck shell=bash
# test-root.sh: checks on a root into which a package was unpacked; sourced
# by test-deb.sh and test-rpm.sh.
#
#   tr_check_root ROOT UNITDIR VERSION
#
# Counts into $tr_passed and $tr_failed and prints one line per failure.
# Needs: systemd-analyze, groff, man, bash; the programs run against
# libvirt's built-in test driver (test:///default), so no libvirtd is
# needed, and every socket is in a temporary directory.

tr_passed=0
tr_failed=0
TR_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

tr_ok() { tr_passed=$((tr_passed + 1)); }
tr_fail() {
	tr_failed=$((tr_failed + 1))
	printf 'FAIL %s\n' "$*" >&2
}
tr_check() { # DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then tr_ok; else tr_fail "$what"; fi
}

# FILE MODE [elf|text]
tr_file() {
	local f=$1 mode=$2 kind=${3:-} got
	if [ ! -f "$f" ]; then
		tr_fail "missing: ${f#"$TR_ROOT"}"
		return
	fi
	got=$(stat -c %a "$f")
	if [ "$got" != "$mode" ]; then
		tr_fail "${f#"$TR_ROOT"}: mode $got, want $mode"
		return
	fi
	if [ "$kind" = elf ] && [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" != '177ELF' ]; then
		tr_fail "${f#"$TR_ROOT"}: not an ELF program"
		return
	fi
	tr_ok
}

# The man page NAME.SECTION, gzipped or not; prints its path.
tr_man() {
	local name=$1 sec=${1##*.} p
	for p in "$TR_ROOT/usr/share/man/man$sec/$name.gz" "$TR_ROOT/usr/share/man/man$sec/$name"; do
		[ -f "$p" ] && { echo "$p"; return 0; }
	done
	return 1
}

tr_check_root() {
	TR_ROOT=$1
	local unitdir=$2 version=$3 tmp pages=() p unit conf pid i out rc hook

	tmp=$(mktemp -d)
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp'" RETURN

	# Files and modes.
	tr_file "$TR_ROOT/usr/sbin/vmtimesync" 755 elf
	tr_file "$TR_ROOT/usr/sbin/vmtimesyncd" 755 elf
	tr_file "$TR_ROOT/etc/libvirt/hooks/qemu.d/vmtimesync" 755 elf
	tr_file "$TR_ROOT/etc/vmtimesync/vmtimesync.conf" 644
	tr_file "$TR_ROOT$unitdir/vmtimesyncd.service" 644
	tr_file "$TR_ROOT/usr/share/bash-completion/completions/vmtimesync" 644
	# For the operator's Prometheus and Grafana (docs/monitoring.md).
	tr_file "$TR_ROOT/usr/share/vmtimesync/vmtimesync-rules.yml" 644
	tr_file "$TR_ROOT/usr/share/vmtimesync/vmtimesync-dashboard.json" 644
	for p in vmtimesync.8 vmtimesyncd.8 vmtimesync.conf.5; do
		if p=$(tr_man "$p"); then
			pages+=("$p")
			tr_ok
		else
			tr_fail "missing man page $p"
		fi
	done

	# The programs run and are this version.
	out=$("$TR_ROOT/usr/sbin/vmtimesync" --version 2>&1) || true
	[ "$out" = "vmtimesync $version" ] && tr_ok || tr_fail "vmtimesync --version: '$out'"
	out=$("$TR_ROOT/usr/sbin/vmtimesyncd" --version 2>&1) || true
	[ "$out" = "vmtimesyncd $version" ] && tr_ok || tr_fail "vmtimesyncd --version: '$out'"

	# The hook runs the installed CLI for its waiter (PREFIX at build time).
	hook=$TR_ROOT/etc/libvirt/hooks/qemu.d/vmtimesync
	if grep -q -a -F '/usr/sbin/vmtimesync' "$hook" &&
		! grep -q -a -F '/usr/local/sbin/vmtimesync' "$hook"; then
		tr_ok
	else
		tr_fail "the hook does not run /usr/sbin/vmtimesync (built without PREFIX=/usr?)"
	fi
	# The hook ignores what is not for it, prints nothing, exits 0.
	out=$(printf '<domain type="kvm"><name>d</name><devices/></domain>' |
		"$hook" d migrate begin - 2>&1)
	rc=$?
	[ "$rc" = 0 ] && [ -z "$out" ] && tr_ok || tr_fail "hook on a domain without agent: rc $rc, output '$out'"
	out=$("$hook" </dev/null 2>&1)
	rc=$?
	[ "$rc" = 0 ] && [ -z "$out" ] && tr_ok || tr_fail "hook without arguments: rc $rc, output '$out'"

	# The unit: the installed ExecStart, and systemd-analyze verify with the
	# paths mapped into the root (verify checks binaries and man pages).
	unit=$TR_ROOT$unitdir/vmtimesyncd.service
	tr_check "unit ExecStart is /usr/sbin/vmtimesyncd --foreground" \
		grep -qx 'ExecStart=/usr/sbin/vmtimesyncd --foreground' "$unit"
	tr_check "unit Type=notify" grep -qx 'Type=notify' "$unit"
	tr_check "unit CapabilityBoundingSet= empty" grep -qx 'CapabilityBoundingSet=' "$unit"
	sed "s|^ExecStart=/usr/sbin/|ExecStart=$TR_ROOT/usr/sbin/|" "$unit" >"$tmp/vmtimesyncd.service"
	if out=$(MANPATH="$TR_ROOT/usr/share/man" systemd-analyze verify "$tmp/vmtimesyncd.service" 2>&1) &&
		[ -z "$out" ]; then
		tr_ok
	else
		tr_fail "systemd-analyze verify: $out"
	fi

	# Man pages render without warnings.
	if out=$("$TR_HERE/check-man.sh" "${pages[@]}" 2>&1); then tr_ok; else tr_fail "man pages: $out"; fi

	# Completion: the installed file passes the completion tests.
	if out=$("$TR_HERE/test-completion.sh" "$TR_ROOT/usr/share/bash-completion/completions/vmtimesync" 2>&1); then
		tr_ok
	else
		tr_fail "completion: $out"
	fi

	# The default configuration: every setting commented out, and with
	# all of them uncommented (the control socket moved here) the daemon
	# accepts it, answers --status and stops cleanly on SIGTERM.
	conf=$TR_ROOT/etc/vmtimesync/vmtimesync.conf
	tr_check "default configuration sets nothing" \
		test -z "$(grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$conf")"
	sed -e 's/^#\([a-z_]* = \)/\1/' -e "s|^control_socket = .*|control_socket = $tmp/control.sock|" \
		-e "s|^metrics_file = .*|metrics_file = $tmp/metrics.prom|" "$conf" >"$tmp/all.conf"
	tr_check "uncommented configuration has every key" \
		test "$(grep -c '^[a-z_]* = ' "$tmp/all.conf")" -ge 18
	"$TR_ROOT/usr/sbin/vmtimesyncd" --foreground -f "$tmp/all.conf" -c test:///default \
		2>"$tmp/daemon.log" &
	pid=$!
	for ((i = 0; i < 50; i++)); do
		[ -S "$tmp/control.sock" ] && break
		sleep 0.1
	done
	out=$("$TR_ROOT/usr/sbin/vmtimesync" --status --socket "$tmp/control.sock" 2>&1)
	rc=$?
	[ "$rc" = 0 ] && [[ $out == "vmtimesyncd: test:///default,"* ]] && tr_ok ||
		tr_fail "vmtimesync --status against the packaged daemon: rc $rc, '$out'"
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	[ "$rc" = 0 ] && tr_ok || tr_fail "vmtimesyncd exit status $rc after SIGTERM: $(cat "$tmp/daemon.log")"
	tr_check "daemon logged its start" grep -q 'vmtimesyncd starting: uri test:///default' "$tmp/daemon.log"
	tr_check "daemon removed its socket" test ! -e "$tmp/control.sock"
}
