# shellcheck shell=bash
# testhost.sh: private libvirt test hosts and tiny TCG guests for the e2e
# tests. Source it, call th_init once, then th_host_start/th_guest_start.
#
# Every test host is a virtlogd + libvirtd pair in its own mount namespace
# (unshare -m --propagation private) with private directories bind-mounted
# over /run/libvirt, /var/lib/libvirt, /etc/libvirt, /var/log/libvirt and
# /var/cache/libvirt, so a system libvirtd is never touched and several test
# hosts can run at once (each with its own host_uuid, so they can migrate to
# each other). Its mounts exist only inside that namespace and vanish with
# its last process.
#
# All state lives in files under $TH_ROOT, not in shell variables, so the
# functions work from subshells (the runner runs each test in one) and
# th_cleanup in the shell that called th_init sees everything started.
#
# Layout of $TH_ROOT/hosts/NAME/:
#   run/ lib/ etc/ log/ cache/   bind-mounted over the libvirt directories
#   libvirtd.pid virtlogd.pid    from the daemons' -p
#   mntns                        the namespace (readlink /proc/PID/ns/mnt)
#   guests/DOM.xml, guests/DOM.console.log
# $TH_ROOT/domains lists "HOST DOM" for every guest started.
#
# Functions return non-zero after printing "testhost: ..." to stderr; they
# never exit the calling shell.

TH_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# TH_LIBVIRTD_EXTRA, when set for th_host_start, is appended to that host's
# libvirtd.conf (e.g. "max_client_requests = 1").
# TH_LIBVIRTD_LANG, when set for th_host_start, is the locale that host's
# libvirtd runs under (e.g. ru_RU.UTF-8: with libvirt-l10n its error
# messages are translated); kept for th_host_restart.
# Where build-guest.sh put vmlinuz and initramfs.img.
: "${TH_GUEST_DIR:=$(cd "$TH_LIBDIR/../.." && pwd)/build/guest}"
# Bounded waits, in seconds.
: "${TH_DAEMON_TIMEOUT:=60}"
: "${TH_AGENT_TIMEOUT:=60}"
export TH_GUEST_DIR TH_DAEMON_TIMEOUT TH_AGENT_TIMEOUT

# The directories each test host gets privately, as "name-under-host-dir
# mount-point" pairs.
_TH_BINDS=(
	"run /run/libvirt"
	"lib /var/lib/libvirt"
	"etc /etc/libvirt"
	"log /var/log/libvirt"
	"cache /var/cache/libvirt"
)

# Machine-wide lock, shared by every run of this harness (the e2e runner,
# the demo, a developer's second terminal). It guards the mount points:
# removing a directory that is a mount point in another namespace silently
# unmounts it there (the kernel detaches mounts on a deleted dentry), which
# would pull /var/lib/libvirt from under another run's libvirtd. The file
# also lists the mount points a harness created, so the last run to finish
# removes them.
_TH_LOCK=/run/lock/vts-e2e-testhost
[ -d /run/lock ] || _TH_LOCK=/tmp/vts-e2e-testhost.lock

_th_err() { printf 'testhost: %s\n' "$*" >&2; }
_th_log() { [ "${TH_VERBOSE:-0}" = 1 ] && printf 'testhost: %s\n' "$*" >&2; return 0; }

_th_now_ms() { echo $(($(date +%s%N) / 1000000)); }

_th_check_name() {
	case "$1" in
	'' | *[!A-Za-z0-9_.-]*)
		_th_err "bad name '$1' (letters, digits, _ . - only)"
		return 1
		;;
	esac
}

_th_hostdir() { echo "$TH_ROOT/hosts/$1"; }

_th_need_init() {
	if [ -z "${TH_ROOT:-}" ] || [ ! -d "$TH_ROOT" ]; then
		_th_err "th_init has not been called"
		return 1
	fi
}

# Alive and not a zombie.
_th_alive() {
	local pid=$1 state
	[ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
	state=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

_th_read_pid() {
	local f=$1 pid=""
	[ -r "$f" ] || return 1
	# libvirtd writes no trailing newline: read fails at EOF but sets pid.
	read -r pid <"$f" 2>/dev/null || [ -n "$pid" ] || return 1
	case "$pid" in '' | *[!0-9]*) return 1 ;; esac
	echo "$pid"
}

# PID of a host daemon (libvirtd or virtlogd) if it is alive and still in
# that host's namespace: guards against a recycled pid.
_th_daemon_pid() {
	local d pid ns
	d=$(_th_hostdir "$1")
	pid=$(_th_read_pid "$d/$2.pid") || return 1
	_th_alive "$pid" || return 1
	ns=$(cat "$d/mntns" 2>/dev/null) || return 1
	[ "$(readlink "/proc/$pid/ns/mnt" 2>/dev/null)" = "$ns" ] || return 1
	echo "$pid"
}

# Every process in a host's mount namespace: all of them were started by
# this harness (the namespace is ours), so all may be killed.
_th_ns_pids() {
	local d ns
	d=$(_th_hostdir "$1")
	ns=$(cat "$d/mntns" 2>/dev/null) || return 0
	[ -n "$ns" ] || return 0
	# One stat for all processes: a readlink per process costs seconds.
	stat -c '%N' /proc/[0-9]*/ns/mnt 2>/dev/null | awk -v ns="$ns" '
		{ gsub(/[\047"]/, "") }
		$3 == ns { split($1, f, "/"); print f[3] }'
	return 0
}

# Any live process inside the host's namespace, to nsenter through.
_th_ns_anchor() {
	local pid
	pid=$(_th_daemon_pid "$1" libvirtd) && { echo "$pid"; return 0; }
	pid=$(_th_daemon_pid "$1" virtlogd) && { echo "$pid"; return 0; }
	for pid in $(_th_ns_pids "$1"); do
		_th_alive "$pid" && { echo "$pid"; return 0; }
	done
	return 1
}

# _th_wait_gone TIMEOUT_S PID...: 0 once none is alive.
_th_wait_gone() {
	local timeout=$1 deadline pid any
	shift
	deadline=$(($(_th_now_ms) + timeout * 1000))
	while :; do
		any=0
		for pid in "$@"; do
			_th_alive "$pid" && any=1
		done
		[ "$any" = 0 ] && return 0
		[ "$(_th_now_ms)" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

# _th_stop_pids TERM_WAIT_S PID...: SIGTERM, wait, then SIGKILL.
_th_stop_pids() {
	local wait_s=$1 pid
	shift
	[ "$#" -gt 0 ] || return 0
	for pid in "$@"; do
		_th_alive "$pid" && kill -TERM "$pid" 2>/dev/null
	done
	_th_wait_gone "$wait_s" "$@" && return 0
	for pid in "$@"; do
		_th_alive "$pid" && kill -KILL "$pid" 2>/dev/null
	done
	_th_wait_gone 10 "$@"
}

# _th_locked CMD...: run CMD holding the lock on fd 9. Whatever CMD
# starts that outlives it must not inherit fd 9 (it would hold the lock).
_th_locked() {
	local rc
	while :; do
		exec 9>>"$_TH_LOCK" || return 1
		if ! flock -w 120 9; then
			exec 9>&-
			_th_err "cannot take the lock $_TH_LOCK in 120 s"
			return 1
		fi
		# The last run may have removed the file while we waited.
		[ "$(stat -c %d:%i "$_TH_LOCK" 2>/dev/null)" = \
			"$(stat -L -c %d:%i /dev/fd/9 2>/dev/null)" ] && break
		exec 9>&-
	done
	"$@"
	rc=$?
	exec 9>&-
	return "$rc"
}

# Under the lock: create the missing mount points and note them.
_th_make_mountpoints() {
	local m mp
	for m in "${_TH_BINDS[@]}"; do
		mp=${m#* }
		if [ ! -d "$mp" ]; then
			mkdir -p "$mp" || return 1
			echo "$mp" >>"$_TH_LOCK"
		fi
	done
}

# Under the lock: remove the noted mount points that are empty and are a
# mount point in no process's namespace (a test host of another run).
_th_remove_mountpoints() {
	local mp keep=() used
	[ -s "$_TH_LOCK" ] || { rm -f "$_TH_LOCK"; return 0; }
	used=$(cat /proc/[0-9]*/mountinfo 2>/dev/null | awk '{ print $5 }' | sort -u)
	while read -r mp; do
		[ -n "$mp" ] || continue
		if [ -d "$mp" ] && ! grep -qxF -- "$mp" <<<"$used" &&
			rmdir "$mp" 2>/dev/null; then
			continue
		fi
		[ -d "$mp" ] && keep+=("$mp")
	done < <(sort -u -r "$_TH_LOCK")
	if [ "${#keep[@]}" -eq 0 ]; then
		rm -f "$_TH_LOCK"
	else
		printf '%s\n' "${keep[@]}" >"$_TH_LOCK"
	fi
}

# th_init: private root directory and the cleanup trap. Call once, in the
# shell that should clean up.
th_init() {
	if [ -n "${TH_ROOT:-}" ] && [ -d "$TH_ROOT" ]; then
		return 0
	fi
	TH_ROOT=$(mktemp -d /tmp/vts-e2e.XXXXXX) || {
		_th_err "mktemp failed"
		return 1
	}
	chmod 755 "$TH_ROOT"
	mkdir -p "$TH_ROOT/hosts"
	: >"$TH_ROOT/domains"
	TH_OWNER_PID=$BASHPID
	export TH_ROOT TH_OWNER_PID
	trap 'th_cleanup' EXIT
	trap '_th_on_signal INT 130' INT
	trap '_th_on_signal TERM 143' TERM
	_th_log "root $TH_ROOT"
}

_th_on_signal() {
	_th_err "caught SIG$1, cleaning up"
	th_cleanup
	trap - EXIT INT TERM
	exit "$2"
}

_th_write_configs() {
	local d=$1 uuid
	uuid=$(cat /proc/sys/kernel/random/uuid)
	cat >"$d/etc/libvirtd.conf" <<EOF
# e2e test host $(basename "$d")
host_uuid = "$uuid"
unix_sock_group = "root"
unix_sock_ro_perms = "0777"
unix_sock_rw_perms = "0770"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
${TH_LIBVIRTD_EXTRA:-}
EOF
	# root/root: no need for the libvirt-qemu user to read the guest files.
	# No cgroups (they are not namespaced: two hosts would share them) and
	# no per-guest mount namespace (so QEMU stays in the host's namespace,
	# where cleanup finds it).
	cat >"$d/etc/qemu.conf" <<'EOF'
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
EOF
	cat >"$d/etc/virtlogd.conf" <<'EOF'
log_outputs = "3:file:/var/log/libvirt/virtlogd.log"
EOF
}

# th_host_start NAME: start a private test host and wait until it answers.
th_host_start() {
	local name=$1 d m sub mp script
	_th_need_init || return 1
	_th_check_name "$name" || return 1
	d=$(_th_hostdir "$name")
	if _th_daemon_pid "$name" libvirtd >/dev/null; then
		_th_err "host $name is already running"
		return 1
	fi
	[ -d "$d" ] && _th_host_teardown "$name"
	rm -rf "$d"
	mkdir -p "$d"/{run,lib,etc,log,cache,guests} "$d/etc/hooks/qemu.d"
	_th_write_configs "$d"

	# The shell inside records its namespace first, so cleanup can find
	# every process in it even if a daemon fails to start.
	script="set -e; readlink /proc/self/ns/mnt >'$d/mntns'"
	for m in "${_TH_BINDS[@]}"; do
		sub=${m%% *}
		mp=${m#* }
		script+="; mount --bind '$d/$sub' '$mp'"
	done
	script+="; cd /"
	script+="; virtlogd -d -f /etc/libvirt/virtlogd.conf -p '$d/virtlogd.pid'"
	printf '%s\n' "${TH_LIBVIRTD_LANG:-}" >"$d/libvirtd.lang"
	script+="; $(_th_libvirtd_cmd "$d")"
	_th_log "starting host $name"
	# Mount points exist and are bound before anyone may remove them.
	if ! _th_locked _th_start_ns "$d" "$script"; then
		_th_err "host $name: starting the daemons failed:"
		sed 's/^/  /' "$d/start.log" >&2
		_th_host_teardown "$name"
		return 1
	fi
	if ! _th_host_wait_ready "$name"; then
		_th_host_teardown "$name"
		return 1
	fi
	_th_log "host $name up: $(th_host_uri "$name")"
}

# The command starting the libvirtd of the host in directory $1, under the
# locale th_host_start was given (libvirtd reads LANG from its environment;
# LC_ALL, if the caller has one, would win over it).
_th_libvirtd_cmd() {
	local lang
	lang=$(cat "$1/libvirtd.lang" 2>/dev/null)
	[ -n "$lang" ] && printf "env LANG='%s' LC_ALL='%s' LANGUAGE= " "$lang" "$lang"
	printf "libvirtd -d -f /etc/libvirt/libvirtd.conf -p '%s/libvirtd.pid'" "$1"
}

_th_start_ns() {
	_th_make_mountpoints || return 1
	unshare -m --propagation private -- sh -c "$2" \
		</dev/null >"$1/start.log" 2>&1 9>&-
}

# Wait until the host's socket answers; print its log on failure.
_th_host_wait_ready() {
	local name=$1 d uri deadline err pid="" start
	d=$(_th_hostdir "$name")
	uri=$(th_host_uri "$name")
	start=$(_th_now_ms)
	deadline=$((start + TH_DAEMON_TIMEOUT * 1000))
	while :; do
		if err=$(timeout 10 virsh -q -c "$uri" uri 2>&1 >/dev/null); then
			return 0
		fi
		# The daemon writes its pidfile a little after its parent returns,
		# and removes it when it exits.
		if [ -z "$pid" ]; then
			pid=$(_th_read_pid "$d/libvirtd.pid") || pid=""
			if [ -z "$pid" ] && [ "$(_th_now_ms)" -ge $((start + 15000)) ]; then
				_th_err "host $name: libvirtd wrote no pidfile in 15s"
				break
			fi
		elif ! _th_alive "$pid"; then
			_th_err "host $name: libvirtd died while starting"
			break
		fi
		if [ "$(_th_now_ms)" -ge "$deadline" ]; then
			_th_err "host $name: no answer on $uri after ${TH_DAEMON_TIMEOUT}s: $err"
			break
		fi
		sleep 0.2
	done
	_th_dump_host_logs "$name"
	return 1
}

_th_dump_host_logs() {
	local d f
	d=$(_th_hostdir "$1")
	for f in "$d/start.log" "$d/log/libvirtd.log" "$d/log/virtlogd.log"; do
		[ -s "$f" ] || continue
		_th_err "--- $f (last 30 lines)"
		tail -n 30 "$f" | sed 's/^/  /' >&2
	done
}

# th_host_uri NAME: the URI reaching that host from outside its namespace.
th_host_uri() {
	echo "qemu+unix:///system?socket=$(_th_hostdir "$1")/run/libvirt-sock"
}

# th_host_dir NAME: the host's state directory (logs, guests, etc/hooks).
th_host_dir() { _th_hostdir "$1"; }

# th_host_hooks_dir NAME: where its /etc/libvirt/hooks/qemu.d lives, seen
# from outside. libvirtd looks at it when it starts or on SIGHUP
# (th_host_reload).
th_host_hooks_dir() { echo "$(_th_hostdir "$1")/etc/hooks/qemu.d"; }

# th_host_pid NAME [libvirtd|virtlogd]
th_host_pid() { _th_daemon_pid "$1" "${2:-libvirtd}"; }

# th_host_exec NAME CMD...: run CMD inside the host's mount namespace,
# where plain qemu:///system reaches that host.
th_host_exec() {
	local name=$1 pid
	shift
	pid=$(_th_ns_anchor "$name") || {
		_th_err "host $name: no process left in its namespace"
		return 1
	}
	nsenter -t "$pid" -m -- "$@"
}

# th_virsh HOST ARGS...: virsh -c URI ARGS (killed after $TH_VIRSH_TIMEOUT s)
th_virsh() {
	local name=$1
	shift
	timeout -k 5 "${TH_VIRSH_TIMEOUT:-120}" virsh -c "$(th_host_uri "$name")" "$@"
}

# th_host_reload NAME: SIGHUP libvirtd (it rescans the hooks directory).
th_host_reload() {
	local pid
	pid=$(_th_daemon_pid "$1" libvirtd) || {
		_th_err "host $1: libvirtd is not running"
		return 1
	}
	kill -HUP "$pid"
}

# th_host_kill NAME: SIGKILL libvirtd only; guests and virtlogd live on.
th_host_kill() {
	local pid
	pid=$(_th_daemon_pid "$1" libvirtd) || {
		_th_err "host $1: libvirtd is not running"
		return 1
	}
	kill -KILL "$pid"
	_th_wait_gone 10 "$pid"
}

# th_host_restart NAME: stop libvirtd (if running) and start a new one in
# the same namespace with the same state, so it reconnects to the guests.
th_host_restart() {
	local name=$1 d pid anchor
	d=$(_th_hostdir "$name")
	if pid=$(_th_daemon_pid "$name" libvirtd); then
		_th_stop_pids 30 "$pid" || {
			_th_err "host $name: libvirtd $pid does not stop"
			return 1
		}
	fi
	anchor=$(_th_ns_anchor "$name") || {
		_th_err "host $name: its namespace is gone; use th_host_start"
		return 1
	}
	if ! nsenter -t "$anchor" -m -- sh -c \
		"cd / && $(_th_libvirtd_cmd "$d")" \
		</dev/null >>"$d/start.log" 2>&1; then
		_th_err "host $name: restarting libvirtd failed"
		_th_dump_host_logs "$name"
		return 1
	fi
	_th_host_wait_ready "$name"
}

# Destroy the guests, stop the daemons, kill whatever is left in the
# namespace (which ends it and its mounts). Never fails.
_th_host_teardown() {
	local name=$1 d uri dom pid pids f
	d=$(_th_hostdir "$name")
	[ -d "$d" ] || return 0
	uri=$(th_host_uri "$name")
	if _th_daemon_pid "$name" libvirtd >/dev/null; then
		for dom in $(timeout 10 virsh -q -c "$uri" list --name 2>/dev/null); do
			timeout 20 virsh -q -c "$uri" destroy "$dom" >/dev/null 2>&1
		done
		pid=$(_th_daemon_pid "$name" libvirtd) && _th_stop_pids 15 "$pid"
	fi
	# QEMU left behind by a killed libvirtd: its pidfile, checked by name.
	for f in "$d"/run/qemu/*.pid; do
		[ -r "$f" ] || continue
		pid=$(_th_read_pid "$f") || continue
		dom=$(basename "$f" .pid)
		if _th_alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
			grep -q -- "-name guest=$dom,"; then
			_th_stop_pids 5 "$pid"
		fi
	done
	pid=$(_th_daemon_pid "$name" virtlogd) && _th_stop_pids 5 "$pid"
	mapfile -t pids < <(_th_ns_pids "$name")
	[ "${#pids[@]}" -gt 0 ] && _th_stop_pids 5 "${pids[@]}"
	mapfile -t pids < <(_th_ns_pids "$name")
	if [ "${#pids[@]}" -gt 0 ]; then
		_th_err "host $name: processes left in its namespace: ${pids[*]}"
	fi
	rm -f "$d/libvirtd.pid" "$d/virtlogd.pid"
	return 0
}

# th_host_stop NAME: destroy its guests and stop its daemons.
th_host_stop() {
	_th_need_init || return 1
	_th_host_teardown "$1"
}

# th_guest_start HOST DOM [--no-agent-channel] [--no-hwclock]
#                [--busybox-hwclock] [--mem MiB] [--cmdline ARGS] [--rtc-catchup]
#                [--disk-qcow2] [--pm-s3]
#                [--disk-file PATH] [--persistent]
# The guest runs util-linux's hwclock, as real guests do (each
# guest-set-time then takes 0.5-2 s); --busybox-hwclock swaps in busybox's,
# which returns at once (the benchmark's comparison, the soak).
# --rtc-catchup gives the guest <timer name='rtc' tickpolicy='catchup'/>, as
# Windows guests usually have.
# --disk-qcow2 gives it an empty 16 MiB qcow2 disk (guests/DOM.qcow2): QEMU
# keeps an internal snapshot's memory in a qcow2 image, so snapshots with
# memory need one. --pm-s3 enables ACPI S3 (<suspend-to-mem/>), which
# virsh dompmsuspend DOM mem needs.
# --disk-file PATH: PATH (an existing raw file, seen from inside the host's
# namespace) is the guest's /dev/vda, with error_policy='stop': a write the
# host cannot complete pauses the guest with reason I/O error.
# --persistent: define the domain, then start it (managedsave needs a
# persistent domain); th_guest_destroy undefines it again.
# The two disk options give /dev/vda: one of them at most.
# Creates a TCG guest (transient unless --persistent) and returns at once;
# see th_guest_wait_agent.
th_guest_start() {
	local host=$1 dom=$2 mem=128 agent=1 extra="" d xml log clock="<clock offset='utc'/>"
	local qcow2=0 pm="" qerr disk="" persistent=0
	shift 2 || { _th_err "usage: th_guest_start HOST DOM [options]"; return 1; }
	_th_need_init || return 1
	_th_check_name "$dom" || return 1
	while [ "$#" -gt 0 ]; do
		case "$1" in
		--no-agent-channel) agent=0 ;;
		--no-hwclock) extra+=" vts.nohwclock" ;;
		--busybox-hwclock) extra+=" vts.busyboxhwclock" ;;
		--mem) mem=$2; shift ;;
		--cmdline) extra+=" $2"; shift ;;
		--rtc-catchup) clock="<clock offset='utc'><timer name='rtc' tickpolicy='catchup'/></clock>" ;;
		--disk-qcow2) qcow2=1 ;;
		--pm-s3) pm="<pm><suspend-to-mem enabled='yes'/></pm>" ;;
		--disk-file) disk=$2; shift ;;
		--persistent) persistent=1 ;;
		*) _th_err "th_guest_start: unknown option $1"; return 1 ;;
		esac
		shift
	done
	if [ "$qcow2" = 1 ] && [ -n "$disk" ]; then
		_th_err "th_guest_start: --disk-qcow2 and --disk-file both give /dev/vda: use one"
		return 1
	fi
	if [ ! -f "$TH_GUEST_DIR/vmlinuz" ] || [ ! -f "$TH_GUEST_DIR/initramfs.img" ]; then
		_th_err "no guest in $TH_GUEST_DIR: run tests/e2e/build-guest.sh"
		return 1
	fi
	d=$(_th_hostdir "$host")
	_th_daemon_pid "$host" libvirtd >/dev/null || {
		_th_err "host $host is not running"
		return 1
	}
	xml="$d/guests/$dom.xml"
	log="$d/guests/$dom.console.log"
	if [ "$qcow2" = 1 ] && ! qerr=$(qemu-img create -q -f qcow2 "$d/guests/$dom.qcow2" 16M 2>&1); then
		_th_err "host $host: qemu-img create for $dom failed: $qerr"
		return 1
	fi
	{
		cat <<EOF
<domain type='qemu'>
  <name>$dom</name>
  <memory unit='MiB'>$mem</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$TH_GUEST_DIR/vmlinuz</kernel>
    <initrd>$TH_GUEST_DIR/initramfs.img</initrd>
    <cmdline>console=ttyS0 panic=-1 quiet$extra</cmdline>
  </os>
  <features><acpi/><apic/></features>
  $clock
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  $pm
  <devices>
    <serial type='file'>
      <source path='$log' append='on'/>
      <target port='0'/>
    </serial>
EOF
		if [ "$qcow2" = 1 ]; then
			cat <<EOF
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$d/guests/$dom.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
EOF
		fi
		if [ -n "$disk" ]; then
			cat <<EOF
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' error_policy='stop' rerror_policy='stop'/>
      <source file='$disk'/>
      <target dev='vda' bus='virtio'/>
    </disk>
EOF
		fi
		if [ "$agent" = 1 ]; then
			cat <<EOF
    <channel type='unix'>
      <source mode='bind'/>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
EOF
		fi
		cat <<EOF
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
	} >"$xml"
	local out uri
	uri=$(th_host_uri "$host")
	if [ "$persistent" = 1 ]; then
		if ! out=$(timeout 60 virsh -q -c "$uri" define "$xml" 2>&1) ||
			! out=$(timeout 60 virsh -q -c "$uri" start "$dom" 2>&1); then
			_th_err "host $host: virsh define/start $dom failed: $out"
			timeout 30 virsh -q -c "$uri" undefine --managed-save "$dom" >/dev/null 2>&1
			return 1
		fi
	elif ! out=$(timeout 60 virsh -q -c "$uri" create "$xml" 2>&1); then
		_th_err "host $host: virsh create $dom failed: $out"
		return 1
	fi
	echo "$host $dom" >>"$TH_ROOT/domains"
	_th_log "guest $dom started on $host"
}

# th_guest_console HOST DOM: path of the guest's serial console log.
th_guest_console() { echo "$(_th_hostdir "$1")/guests/$2.console.log"; }

# th_guest_wait_agent HOST DOM [TIMEOUT_S]: wait until guest-ping answers.
th_guest_wait_agent() {
	local host=$1 dom=$2 timeout=${3:-$TH_AGENT_TIMEOUT} uri deadline err state
	uri=$(th_host_uri "$host")
	deadline=$(($(_th_now_ms) + timeout * 1000))
	while :; do
		if err=$(timeout 15 virsh -q -c "$uri" qemu-agent-command "$dom" \
			--timeout 5 '{"execute":"guest-ping"}' 2>&1 >/dev/null); then
			return 0
		fi
		state=$(timeout 10 virsh -q -c "$uri" domstate "$dom" 2>/dev/null)
		if [ "$state" != "running" ]; then
			_th_err "guest $dom on $host is ${state:-gone}, not running: $err"
			break
		fi
		if [ "$(_th_now_ms)" -ge "$deadline" ]; then
			_th_err "guest $dom on $host: no agent after ${timeout}s: $err"
			break
		fi
		sleep 0.25
	done
	_th_err "--- console of $dom (last 15 lines)"
	tail -n 15 "$(th_guest_console "$host" "$dom")" 2>/dev/null | sed 's/^/  /' >&2
	return 1
}

# th_guest_destroy HOST DOM: and undefine it (with its managed save image)
# if it is persistent.
th_guest_destroy() {
	local rc
	timeout 30 virsh -q -c "$(th_host_uri "$1")" destroy "$2" >/dev/null
	rc=$?
	timeout 30 virsh -q -c "$(th_host_uri "$1")" undefine --managed-save "$2" >/dev/null 2>&1
	return "$rc"
}

# th_cleanup: destroy every guest, stop every daemon started here, let the
# namespaces (and their mounts) go, remove created mount points and the
# private root. Safe to call twice; a no-op outside the shell of th_init.
# Runs the function named by $TH_PRE_CLEANUP first, if set. TH_KEEP=1
# keeps the root directory (logs) after stopping everything.
th_cleanup() {
	local h
	[ -n "${TH_ROOT:-}" ] && [ -d "$TH_ROOT" ] || return 0
	[ "${TH_OWNER_PID:-}" = "$BASHPID" ] || return 0
	trap '' INT TERM
	# A caller's hook runs first (the runner stops a running test there).
	if [ -n "${TH_PRE_CLEANUP:-}" ]; then
		"$TH_PRE_CLEANUP" || true
	fi
	for h in "$TH_ROOT"/hosts/*; do
		[ -d "$h" ] && _th_host_teardown "$(basename "$h")"
	done
	_th_locked _th_remove_mountpoints
	if [ "${TH_KEEP:-0}" = 1 ]; then
		_th_err "TH_KEEP=1: leaving $TH_ROOT"
	else
		rm -rf "$TH_ROOT"
		_th_log "cleaned up $TH_ROOT"
	fi
	TH_ROOT=
	trap - INT TERM
	return 0
}
