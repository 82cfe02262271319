#!/usr/bin/env bash
# test-sandbox.sh: run vmtimesyncd in the sandbox its systemd unit sets up,
# against a real libvirtd, without systemd.
#
#   packaging/test-sandbox.sh [BUILD_DIR]        (default: build; as root)
#
# Machines that build the project do not run systemd as PID 1, so the unit
# cannot be started. This rebuilds its sandbox from the same parts and runs
# build/vmtimesyncd in it:
#   - no capabilities at all (CapabilityBoundingSet=, NoNewPrivileges=yes),
#     uid 0: setpriv
#   - the unit's system call filter, read from its SystemCallFilter= lines
#     in order (an allow list, then removals and additions), the groups
#     expanded by systemd-analyze, EPERM for the rest, ProtectClock= if set,
#     and socket() for AF_UNIX only (RestrictAddressFamilies=): libseccomp
#     through python3-seccomp
#   - PrivateNetwork=yes: a new network namespace
#   - ProtectSystem=strict, ProtectHome=yes: every mount read-only but the
#     runtime directory, /root and /home empty
#   - ProtectProc=invisible, ProcSubset=pid: /proc remounted so in a new PID
#     namespace
# Then a guest on a private test host (tests/e2e/testhost.sh) is paused and
# resumed, and the sandboxed daemon must step its clock. Finally it shows
# that a libvirt socket not owned by root is what would need
# CAP_DAC_OVERRIDE: with the socket given to nobody:nogroup the same
# sandbox cannot connect, and adding only that capability fixes it.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
build=$(realpath "${1:-$top/build}")
PY=/usr/bin/python3 # the distribution's, which has python3-seccomp

for t in "$build/vmtimesyncd" "$build/vmtimesync" "$build/vts-probe"; do
	[ -x "$t" ] || { echo "test-sandbox: $t missing: make all $build/vts-probe" >&2; exit 1; }
done
$PY -c 'import seccomp' 2>/dev/null ||
	{ echo "test-sandbox: needs python3-seccomp (make packaging-deps)" >&2; exit 1; }

# shellcheck source=tests/e2e/testhost.sh
. "$top/tests/e2e/testhost.sh"
th_init || exit 1

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }

rt=$(mktemp -d /run/vts-sandbox.XXXXXX)
daemon_pid=
finish() {
	[ -n "$daemon_pid" ] && kill -TERM "$daemon_pid" 2>/dev/null
	rm -rf "$rt"
}
trap 'finish; th_cleanup' EXIT

# The seccomp launcher: build the unit's filter, load it, exec the program.
cat >"$rt/seccomp-exec.py" <<'EOF'
import errno, os, socket, subprocess, sys

import seccomp


def expand(group, seen):
    out = set()
    text = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager", group],
                          check=True, capture_output=True, text=True).stdout
    lines = text.splitlines()
    # The first line names the group; its members follow, indented.
    for line in lines[1:]:
        name = line.strip()
        if not name or name.startswith("#"):
            continue
        if not line.startswith(" "):
            break
        if name.startswith("@"):
            if name not in seen:
                seen.add(name)
                out |= expand(name, seen)
        else:
            out.add(name)
    return out


def names(words):
    out = set()
    for w in words:
        out |= expand(w, set()) if w.startswith("@") else {w}
    return out


# systemd: the first SystemCallFilter= decides allow or deny list; later
# ones add to it or, with ~, remove from it.
allowed = None
protect_clock = False
with open(os.environ["VTS_UNIT"]) as unit:
    for line in unit:
        line = line.strip()
        if line.startswith("ProtectClock=") and line.split("=", 1)[1] in ("yes", "true", "1"):
            protect_clock = True
        if not line.startswith("SystemCallFilter="):
            continue
        value = line.split("=", 1)[1]
        deny = value.startswith("~")
        words = value.lstrip("~").split()
        if allowed is None:
            if deny:
                sys.exit("test-sandbox: only allow-list filters are emulated")
            allowed = names(words)
        elif deny:
            allowed -= names(words)
        else:
            allowed |= names(words)
if protect_clock:
    allowed -= expand("@clock", set())
f = seccomp.SyscallFilter(defaction=seccomp.ERRNO(errno.EPERM))
for name in sorted(allowed - {"socket"}):
    try:
        f.add_rule(seccomp.ALLOW, name)
    except (RuntimeError, ValueError):
        pass  # not a syscall on this architecture
f.add_rule(seccomp.ALLOW, "socket", seccomp.Arg(0, seccomp.EQ, socket.AF_UNIX))
f.load()
os.execv(sys.argv[1], sys.argv[1:])
EOF

export VTS_UNIT=$top/packaging/systemd/vmtimesyncd.service.in

# sandbox [CAPS] -- CMD...: run CMD in the sandbox (CAPS: setpriv's
# --bounding-set list, default -all).
sandbox() {
	local caps=-all
	[ "$1" != -- ] && { caps=$1; shift; }
	shift
	unshare --mount --net --pid --fork --propagation private -- bash -c '
		set -e
		rt=$1; caps=$2; shift 2
		mount -t proc -o hidepid=invisible,subset=pid proc /proc
		mount --bind "$rt" "$rt"
		awk "{print \$5}" /proc/self/mountinfo | sort -u | while read -r mp; do
			case $mp in /proc | /proc/* | /dev | /dev/* | "$rt") continue ;; esac
			mount -o remount,bind,ro "$mp" 2>/dev/null || true
		done
		mount -t tmpfs -o mode=000,ro tmpfs /root
		mount -t tmpfs -o mode=000,ro tmpfs /home
		exec setpriv --no-new-privs --bounding-set="$caps" --inh-caps=-all \
			--ambient-caps=-all -- '"$PY"' "$rt/seccomp-exec.py" "$@"
	' sandbox "$rt" "$caps" "$@"
}

# The sandbox is what it claims.
out=$(sandbox -- /bin/sh -c 'grep ^CapEff /proc/self/status; touch /etc/x 2>&1; ls /root 2>&1' 2>&1)
case $out in *"CapEff:	0000000000000000"*"Read-only file system"*) ok "sandbox: no capabilities, read-only /etc" ;;
*) fail "sandbox is not what it should be: $out" ;; esac

th_host_start sb || exit 1
uri=$(th_host_uri sb)
sock=$(th_host_dir sb)/run/libvirt-sock
echo "test host socket: $(stat -c '%U:%G %a' "$sock") $sock"
th_guest_start sb g1 && th_guest_wait_agent sb g1 || exit 1

cat >"$rt/vmtimesync.conf" <<EOF
uri = $uri
control_socket = $rt/control.sock
log_level = debug
# Build and CI machines run no NTP: their clock is "unsynchronized".
host_unsynced = allow
EOF

# The daemon in the sandbox.
sandbox -- "$build/vmtimesyncd" --foreground -f "$rt/vmtimesync.conf" 2>"$rt/daemon.log" &
unshare_pid=$!
for ((i = 0; i < 100; i++)); do
	grep -q 'sweep:' "$rt/daemon.log" 2>/dev/null && break
	sleep 0.1
done
daemon_pid=$(pgrep -f -- "^$build/vmtimesyncd --foreground -f $rt/vmtimesync.conf" | head -n 1)
if grep -q "connected to libvirt at $uri" "$rt/daemon.log"; then
	ok "sandboxed daemon connected to libvirtd"
else
	fail "sandboxed daemon did not connect: $(cat "$rt/daemon.log")"
fi

# Let the start-up sweep finish with g1, then pause 2 s and resume: the
# sandboxed daemon must step the guest (guest-set-time went through: a
# verify failure on a loaded machine counts too, an EPERM does not).
for ((i = 0; i < 300; i++)); do
	grep -q 'g1: .*\[trigger sweep' "$rt/daemon.log" && break
	sleep 0.1
done
th_virsh sb suspend g1 >/dev/null && sleep 2 && th_virsh sb resume g1 >/dev/null
stepped='g1: offset .* -> stepped.*\[trigger resumed/unpaused'
for ((i = 0; i < 300; i++)); do
	grep -q "$stepped" "$rt/daemon.log" && break
	sleep 0.1
done
if line=$(grep -m 1 "$stepped" "$rt/daemon.log"); then
	ok "sandboxed daemon stepped the guest: ${line#*: }"
else
	fail "no step after the resume: $(grep -v debug "$rt/daemon.log" | tail -n 10)"
fi
read -r off _ < <("$build/vts-probe" -c "$uri" g1 offset 2>/dev/null)
# Within 50 ms: the point is that the sandbox lets the step through, not
# its precision on a machine busy with other tests.
if [[ ${off:-x} =~ ^-?[0-9]+$ ]] && [ "${off#-}" -lt 50000000 ]; then
	ok "the guest is right afterwards (offset $off ns by an independent probe)"
else
	fail "the guest is still off: '$off' ns"
fi

# The control socket, from outside the sandbox.
if out=$("$build/vmtimesync" --status --socket "$rt/control.sock" 2>&1) &&
	[[ $out == *"g1: "*"resumed/unpaused"* ]]; then
	ok "vmtimesync --status from outside: $(echo "$out" | grep 'g1:')"
else
	fail "vmtimesync --status: $out"
fi

kill -TERM "$daemon_pid" 2>/dev/null
timeout 30 tail --pid="$daemon_pid" -f /dev/null
wait "$unshare_pid"
rc=$?
daemon_pid=
[ "$rc" = 0 ] && ok "SIGTERM: exit status 0" || fail "exit status $rc after SIGTERM"
if grep -q -i 'operation not permitted\|permission denied' "$rt/daemon.log"; then
	fail "EPERM/EACCES in the daemon's log: $(grep -i 'not permitted\|denied' "$rt/daemon.log")"
else
	ok "no EPERM or EACCES in the daemon's log"
fi

# The one case that needs a capability: a socket not owned by root.
chown nobody:nogroup "$sock"
out=$(sandbox -- "$build/vmtimesync" -c "$uri" --check g1 2>&1)
rc=$?
if [ "$rc" = 3 ] && [[ $out == *"Permission denied"* ]]; then
	ok "socket owned by nobody: no capabilities, no access (exit 3)"
else
	fail "socket owned by nobody, no capabilities: rc $rc: $out"
fi
out=$(sandbox -all,+dac_override -- "$build/vmtimesync" -c "$uri" --check g1 2>&1)
rc=$?
if [ "$rc" = 0 ]; then
	ok "socket owned by nobody: CAP_DAC_OVERRIDE alone is enough"
else
	fail "socket owned by nobody, CAP_DAC_OVERRIDE: rc $rc: $out"
fi
chown root:root "$sock"

echo "sandbox: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
