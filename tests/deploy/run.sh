#!/bin/bash
# tests/deploy/run.sh: vmtimesync as operators run it. Boots a real systemd
# host (tests/deploy/sdhost.sh: systemd as PID 1 of its own namespaces over
# an overlay of this machine's root; nothing of the machine changes),
# installs Debian's libvirt-daemon-system in it, builds the .deb there with
# `make deb` from a clone of the committed tree, installs it with apt and
# checks what an operator would check: the service, its hardening, the
# journal, reloads, libvirtd restarts, a TCG guest fixed after pauses,
# restores and a reboot, node_exporter serving the metrics, upgrade,
# remove and purge; then the RPM's files and scriptlets.
#
# Usage (root; `make check-deploy` builds what it needs first):
#   VTS_BUILD_DIR=build tests/deploy/run.sh
# Needs $VTS_BUILD_DIR/vts-probe and the test guest in $VTS_GUEST_DIR
# (tests/e2e/build-guest.sh). Logs go to $VTS_BUILD_DIR/deploy-logs/; apt's
# downloads are kept in $VTS_BUILD_DIR/deploy-apt-cache/ for the next run.
# SD_KEEP=1 keeps the overlay (/var/tmp/vts-deploy.*) after the run.
# Prints one line per check and "deploy: N passed, N failed" at the end;
# exits 1 when a check failed.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=tests/e2e/paths.sh
. "$REPO/tests/e2e/paths.sh"
# shellcheck source=tests/deploy/sdhost.sh
. "$REPO/tests/deploy/sdhost.sh"

LOGS=$VTS_BUILD_DIR/deploy-logs
SD_APT_CACHE=$VTS_BUILD_DIR/deploy-apt-cache
CONF=/etc/vmtimesync/vmtimesync.conf
HOOK=/etc/libvirt/hooks/qemu.d/vmtimesync
PROM_DIR=/var/lib/prometheus/node-exporter
DROPIN=/etc/systemd/system/vmtimesyncd.service.d/node-exporter.conf
SRC=/root/vmtimesync
URI=qemu:///system
FIXED_NS=$((10 * 1000000))
FIX_WAIT_S=${FIX_WAIT_S:-90}

PASSED=0
FAILED=0
T0=$(date +%s)

say() { printf 'deploy: %s\n' "$*"; }
ok() {
	PASSED=$((PASSED + 1))
	printf 'ok    %s\n' "$1"
}
nok() {
	FAILED=$((FAILED + 1))
	printf 'FAIL  %s\n' "$1"
	[ -n "${2:-}" ] && printf '%s\n' "$2" | tail -n 15 | sed 's/^/      /'
	return 0
}
# check NAME CMD...: CMD's status decides; its output is shown on failure.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$name"; else nok "$name" "$out"; fi
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# The elapsed time of a step, for the summary.
STEP_T=0
step() {
	STEP_T=$(now_ms)
	say "--- $*"
	[ "$*" = boot ] || _sd_alive "$(sd_pid)" && return 0
	nok "the systemd host is still running" "$(tail -n 5 "$SD_ROOT/boot.log" "$SD_ROOT/console")"
	say "$PASSED passed, $FAILED failed (stopped early)"
	exit 1
}
took() { say "    ($(($(now_ms) - STEP_T)) ms)"; }

# x CMD...: run CMD in the systemd host (its own network).
x() { timeout -k 5 "${X_TIMEOUT:-120}" bash -c 'sd_exec "$@"' _ "$@"; }
export -f sd_exec sd_pid _sd_env _sd_alive _sd_err
# apt_x LOG CMD...: run CMD in the host with the machine's network (apt).
apt_x() {
	local log=$1
	shift
	timeout -k 5 1800 bash -c 'sd_apt "$@"' _ "$@" >>"$LOGS/$log" 2>&1
}
export -f sd_apt

virsh_x() { x virsh -q -c "$URI" "$@"; }
journal_since() { x journalctl --no-pager -o cat --since "@$1" "${@:2}"; }
unit_prop() { x systemctl show -p "$2" --value "$1"; }

# wait_for SECONDS CMD...: until CMD succeeds (0) or time runs out (1).
wait_for() {
	local deadline=$(($(now_ms) + $1 * 1000))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(now_ms)" -ge "$deadline" ] && return 1
		sleep 0.3
	done
}

# offset DOM: the guest's offset in ns, by the independent probe.
offset() { x /vts/vts-probe -c "$URI" "$1" offset 2>/dev/null | cut -d' ' -f1; }
abs() { local v=$1; echo "${v#-}"; }
# fixed DOM: wait until the probe sees the guest within FIXED_NS; sets
# FIX_MS and FIX_OFF.
fixed() {
	local start off
	start=$(now_ms)
	while :; do
		off=$(offset "$1")
		if [ -n "$off" ] && [ "$(abs "$off")" -lt "$FIXED_NS" ]; then
			FIX_MS=$(($(now_ms) - start))
			FIX_OFF=$off
			return 0
		fi
		if [ $(($(now_ms) - start)) -gt $((FIX_WAIT_S * 1000)) ]; then
			FIX_OFF=${off:-none}
			return 1
		fi
		sleep 0.2
	done
}
# check_fixed NAME DOM: a check that the guest gets fixed.
check_fixed() {
	if fixed "$2"; then
		ok "$1 (offset $((FIX_OFF / 1000)) us, $FIX_MS ms after the action)"
	else
		nok "$1" "offset still $FIX_OFF ns after ${FIX_WAIT_S} s; journal:
$(x journalctl --no-pager -o cat -n 6 -u vmtimesyncd; x journalctl --no-pager -o cat -n 3 -t vmtimesync-hook)"
	fi
}

# journal_has SINCE ERE ARGS...: wait up to 20 s for a matching line.
journal_has() {
	local since=$1 ere=$2
	shift 2
	# shellcheck disable=SC2016
	wait_for 20 bash -c 'journal_since "$@" | grep -qE -- "$0"' "$ere" "$since" "$@"
}
export -f journal_since x virsh_x wait_for now_ms
export URI

main_pid() { unit_prop vmtimesyncd MainPID; }

# pause DOM SECONDS: what a pause does to a guest.
pause() {
	virsh_x suspend "$1" >/dev/null && sleep "$2" && virsh_x resume "$1" >/dev/null
}
# save_restore DOM SECONDS
save_restore() {
	virsh_x save "$1" "/var/lib/libvirt/qemu/save/$1.save" >/dev/null &&
		sleep "$2" &&
		virsh_x restore "/var/lib/libvirt/qemu/save/$1.save" >/dev/null &&
		x rm -f "/var/lib/libvirt/qemu/save/$1.save"
}

# ---- preparation on the machine: nothing installed or changed there but
# the logs and the apt cache under the build directory ----

[ "$(id -u)" -eq 0 ] || { say "must run as root"; exit 1; }
for f in "$VTS_BUILD_DIR/vts-probe" "$VTS_GUEST_DIR/vmlinuz" "$VTS_GUEST_DIR/initramfs.img"; do
	[ -f "$f" ] || { say "missing $f: run 'make check-deploy'"; exit 1; }
done
rm -rf "$LOGS"
mkdir -p "$LOGS" "$SD_APT_CACHE/partial"
sd_init || exit 1
# What the systemd host sees read-only at /vts: the committed tree, the
# probe and the guest.
git clone -q --bare "$REPO" "$SD_ROOT/share/vmtimesync.git" || exit 1
cp "$VTS_BUILD_DIR/vts-probe" "$VTS_GUEST_DIR/vmlinuz" "$VTS_GUEST_DIR/initramfs.img" \
	"$SD_ROOT/share/"
say "state in $SD_ROOT, logs in $LOGS"
on_exit() {
	local pid
	pid=$(sd_pid)
	if _sd_alive "$pid"; then
		sd_exec journalctl -b --no-pager >"$LOGS/journal.txt" 2>&1
	fi
	sd_cleanup
}
trap 'on_exit' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- the host ----

step "boot"
if sd_boot; then
	ok "systemd boots in its namespaces ($(($(now_ms) - STEP_T)) ms)"
	check "the system is running, no unit failed" test "$SD_STATE" = running
else
	nok "systemd boots in its namespaces"
	say "$PASSED passed, $FAILED failed"
	exit 1
fi

step "libvirt-daemon-system qemu-system-x86 (apt)"
apt_x apt.log apt-get -o DPkg::Lock::Timeout=600 update -qq
if apt_x apt.log apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends \
	libvirt-daemon-system qemu-system-x86 curl; then
	ok "apt-get install libvirt-daemon-system qemu-system-x86 ($(($(now_ms) - STEP_T)) ms)"
else
	nok "apt-get install libvirt-daemon-system qemu-system-x86" "$(tail -n 15 "$LOGS/apt.log")"
fi
check "libvirtd answers on qemu:///system" wait_for 60 virsh_x uri

step "make deb"
x git clone -q /vts/vmtimesync.git "$SRC"
apt_x make-deb.log bash -c "cd $SRC && make deb"
DEB1=$(x sh -c "ls $SRC/build/vmtimesync_*.deb" 2>/dev/null | head -n 1)
if [ -n "$DEB1" ]; then
	ok "make deb: $(basename "$DEB1") ($(($(now_ms) - STEP_T)) ms)"
else
	nok "make deb" "$(tail -n 15 "$LOGS/make-deb.log")"
fi

step "install the package"
apt_x install.log apt-get install -y -q "$DEB1"
check "apt-get install ./$(basename "$DEB1")" \
	bash -c "sd_exec dpkg-query -W -f='\${Status}' vmtimesync | grep -qx 'install ok installed'"
check "vmtimesyncd.service is enabled" x systemctl is-enabled -q vmtimesyncd
check "vmtimesyncd.service is active after installation" wait_for 30 x systemctl is-active -q vmtimesyncd
PID0=$(main_pid)
check "it connects to libvirt" journal_has 0 'connected to libvirt at qemu:///system' -u vmtimesyncd
took

step "the unit"
sec=$(x systemd-analyze security --no-pager vmtimesyncd.service 2>&1)
level=$(printf '%s\n' "$sec" | sed -n 's/.*Overall exposure level for vmtimesyncd.service: \([0-9.]*\).*/\1/p')
if [ -n "$level" ] && awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }'; then
	ok "systemd-analyze security: exposure $level <= 2.0"
else
	nok "systemd-analyze security: exposure ${level:-unknown} <= 2.0" "$sec"
fi
ver=$(x systemd-analyze verify vmtimesyncd.service 2>&1)
check "systemd-analyze verify vmtimesyncd.service: no message" test -z "$ver"
[ -n "$ver" ] && printf '%s\n' "$ver" | sed 's/^/      /'

step "configuration: reload and start"
# This machine's clock is not NTP-synchronized: the operator allows it.
x sh -c "printf '\n# check-deploy\nhost_unsynced = allow\n' >>$CONF"
t=$(date +%s)
check "systemctl reload vmtimesyncd (good file)" x systemctl reload vmtimesyncd
check "the journal says it reloaded" journal_has "$t" "reloaded $CONF" -u vmtimesyncd
check "same process after the reload" test "$(main_pid)" = "$PID0"
x sh -c "cp $CONF /root/good.conf && echo 'threshold = banana' >>$CONF"
t=$(date +%s)
x systemctl reload vmtimesyncd
check "a bad file: the journal names file:line at priority err" \
	journal_has "$t" "reload failed, keeping the running configuration: $CONF:[0-9]+" \
	-u vmtimesyncd -p err
check "a bad file: the service keeps running" x systemctl is-active -q vmtimesyncd
check "a bad file: same process" test "$(main_pid)" = "$PID0"
x systemctl restart vmtimesyncd 2>/dev/null
check "a bad file at start: restart fails" test "$(unit_prop vmtimesyncd ActiveState)" = failed
check "a bad file at start: exit status 3" test "$(unit_prop vmtimesyncd ExecMainStatus)" = 3
sleep 8 # RestartSec=5s: a restart loop would have begun.
check "a bad file at start: no restart loop (NRestarts=0, still failed)" \
	test "$(unit_prop vmtimesyncd NRestarts):$(unit_prop vmtimesyncd ActiveState)" = 0:failed
x cp /root/good.conf "$CONF"
x systemctl start vmtimesyncd
check "good file again: it starts" x systemctl is-active -q vmtimesyncd
PID0=$(main_pid)
took

# ---- a guest under that libvirtd ----

step "a TCG guest"
x mkdir -p /var/lib/libvirt/images/vts
x cp /vts/vmlinuz /vts/initramfs.img /var/lib/libvirt/images/vts/
x sh -c "cat >/root/g1.xml" <<'EOF'
<domain type='qemu'>
  <name>g1</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>/var/lib/libvirt/images/vts/vmlinuz</kernel>
    <initrd>/var/lib/libvirt/images/vts/initramfs.img</initrd>
    <cmdline>console=ttyS0 panic=-1 quiet</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <serial type='file'>
      <source path='/var/log/libvirt/qemu/g1.console.log' append='on'/>
      <target port='0'/>
    </serial>
    <channel type='unix'>
      <source mode='bind'/>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
virsh_x define /root/g1.xml >/dev/null
check "virsh start g1" virsh_x start g1
if wait_for 120 x /vts/vts-probe -c "$URI" g1 offset -n 1 -t 2; then
	ok "g1's agent answers ($(($(now_ms) - STEP_T)) ms)"
else
	nok "g1's agent answers" "$(x tail -n 15 /var/log/libvirt/qemu/g1.console.log)"
fi

step "suspend/resume and save/restore, fixed by the daemon"
t=$(date +%s)
check "virsh suspend g1, 3 s, virsh resume g1" pause g1 3
check_fixed "g1 fixed after the resume" g1
check "the journal says who fixed it" journal_has "$t" \
	'g1: offset -[0-9.]+ s -> stepped .*trigger resumed' -u vmtimesyncd
t=$(date +%s)
check "virsh save g1, 3 s, virsh restore" save_restore g1 3
check_fixed "g1 fixed after the restore" g1
check "the journal says who fixed it" journal_has "$t" \
	'g1: offset -[0-9.]+ s -> stepped .*trigger (started|resumed)/' -u vmtimesyncd
took

step "systemctl restart libvirtd"
t=$(date +%s)
check "systemctl restart libvirtd" x systemctl restart libvirtd
check "the daemon reconnects" journal_has "$t" 'connected to libvirt at' -u vmtimesyncd
check "journalctl -p warning shows the lost connection" journal_has "$t" \
	'lost the connection to libvirt' -u vmtimesyncd -p warning
check "journalctl -p warning leaves out the info lines" \
	bash -c "! journal_since $t -u vmtimesyncd -p warning | grep -q 'connected to libvirt at'"
msg=$(journal_since "$t" -u vmtimesyncd -p warning -o json | jq -r 'select(.MESSAGE | test("lost the connection")) | "\(.PRIORITY) \(.MESSAGE)"' | head -n 1)
check "the warning carries priority 4: '$msg'" test "${msg%% *}" = 4
# The journal has the time and the program's name: the message must not
# repeat them.
check "the journal's message does not repeat the time or name" \
	bash -c "[[ '${msg#* }' != [0-9][0-9]:[0-9][0-9]:* && '${msg#* }' != *vmtimesyncd\[* ]]"
t=$(date +%s)
pause g1 2
check_fixed "after the restart, a resume is fixed" g1
took

step "the hook"
check "systemctl reload libvirtd (it finds the hook)" x systemctl reload libvirtd
sleep 1
t=$(date +%s)
save_restore g1 2
check "the hook announces the restore to the daemon" journal_has "$t" \
	'g1: the libvirt hook announced restore' -u vmtimesyncd
check_fixed "g1 fixed after the restore" g1
check "systemctl stop vmtimesyncd" x systemctl stop vmtimesyncd
t=$(date +%s)
save_restore g1 3
check_fixed "daemon stopped: g1 fixed after a restore" g1
check "by the hook's waiter" journal_has "$t" 'g1: offset -[0-9.]+ s -> stepped' -t vmtimesync-hook
check "systemctl start vmtimesyncd" x systemctl start vmtimesyncd
PID0=$(main_pid)
took

step "systemctl stop libvirtd and its sockets"
LV_SOCKETS="libvirtd.socket libvirtd-ro.socket libvirtd-admin.socket"
# As an operator types it: systemctl warns that the sockets can still
# start the service, so the sockets follow.
x systemctl stop libvirtd.service 2>/dev/null
# shellcheck disable=SC2086
x systemctl stop $LV_SOCKETS
stayed=1
for _ in $(seq 20); do
	# shellcheck disable=SC2086
	if x systemctl is-active -q libvirtd.service; then stayed=0; break; fi
	sleep 0.5
done
check "libvirtd stays stopped for 10 s" test "$stayed" = 1
check "vmtimesyncd keeps running meanwhile" x systemctl is-active -q vmtimesyncd
t=$(date +%s)
# Started again: whatever socket activation started meanwhile is stopped
# first (a socket does not start beside its running service).
x systemctl stop libvirtd.service
# shellcheck disable=SC2086
x systemctl start $LV_SOCKETS libvirtd.service
check "started again, the daemon reconnects" bash -c \
	"wait_for 60 bash -c 'journal_since $t -u vmtimesyncd | grep -q \"connected to libvirt at\"'"
check "vmtimesyncd stayed active, no restart" \
	test "$(unit_prop vmtimesyncd NRestarts):$(main_pid)" = "0:$PID0"
took

# ---- node_exporter ----

step "node_exporter"
apt_x apt.log apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends \
	prometheus-node-exporter
check "prometheus-node-exporter is active" wait_for 30 x systemctl is-active -q prometheus-node-exporter
x sh -c "echo 'metrics_file = $PROM_DIR/vmtimesync.prom' >>$CONF"
# The drop-in docs/deployment.md documents.
x mkdir -p "$(dirname "$DROPIN")"
x sh -c "printf '[Service]\nReadWritePaths=$PROM_DIR\n' >$DROPIN"
x systemctl daemon-reload
x systemctl restart vmtimesyncd
PID0=$(main_pid)
pause g1 2
check_fixed "g1 fixed" g1
scrape() { x curl -sS --max-time 15 http://127.0.0.1:9100/metrics; }
metrics_ok() {
	local m
	m=$(scrape) || return 1
	grep -qx 'node_textfile_scrape_error 0' <<<"$m" &&
		grep -qx 'vmtimesync_connected 1' <<<"$m" &&
		grep -E '^vmtimesync_syncs_total\{.*\} [1-9]' <<<"$m" |
		grep 'trigger="resumed"' | grep -q 'result="stepped"'
}
if wait_for 20 metrics_ok; then
	ok "node_exporter serves vmtimesync's metrics on 127.0.0.1:9100 (node_textfile_scrape_error 0)"
else
	nok "node_exporter serves vmtimesync's metrics on 127.0.0.1:9100 (node_textfile_scrape_error 0)" \
		"$(x ls -l "$PROM_DIR"; scrape | grep -E '^(node_textfile_scrape_error|vmtimesync_connected|vmtimesync_syncs_total)')"
fi
# An alert on vmtimesync_connected == 0 must fire when the daemon is
# stopped, not go on reading its last "1".
x systemctl stop vmtimesyncd
stale() {
	local m
	m=$(scrape) && grep -qx 'node_textfile_scrape_error 0' <<<"$m" &&
		! grep -qx 'vmtimesync_connected 1' <<<"$m"
}
check "daemon stopped: node_exporter no longer reports vmtimesync_connected 1" wait_for 10 stale
x systemctl start vmtimesyncd
check "node_exporter listens in the host's own network namespace only (lo)" \
	test "$(x ls /sys/class/net)" = lo
took

# ---- a reboot ----

step "reboot with the guest autostarted"
virsh_x autostart g1 >/dev/null
# What libvirt-guests does at shutdown (ON_SHUTDOWN=suspend): save.
check "virsh managedsave g1" virsh_x managedsave g1
sd_halt
sleep 3
t=$(date +%s)
if sd_boot; then
	ok "second boot of the same overlay ($(($(now_ms) - STEP_T)) ms)"
else
	nok "second boot of the same overlay"
fi
check "g1 autostarted" wait_for 60 bash -c "virsh_x domstate g1 | grep -qx running"
check_fixed "g1 fixed after the reboot" g1
check "vmtimesyncd active after the reboot" x systemctl is-active -q vmtimesyncd
PID0=$(main_pid)
took

# ---- package lifecycle ----

step "upgrade to a second version"
conf_sum=$(x sha256sum "$CONF")
# A higher Debian revision, for this test only, in the clone.
x bash -c "cd $SRC && m=\$(sed -n 's/^ -- \(.*>\)  .*/\1/p' packaging/debian/changelog | head -n 1) &&
	v=\$(sed -n '1s/^vmtimesync (\(.*\)-[0-9]*).*/\1/p' packaging/debian/changelog) &&
	{ printf 'vmtimesync (%s-99) unstable; urgency=medium\n\n  * check-deploy: an upgrade.\n\n -- %s  %s\n\n' \
		\"\$v\" \"\$m\" \"\$(date -R)\"; cat packaging/debian/changelog; } >cl &&
	mv cl packaging/debian/changelog &&
	git -c user.name=check-deploy -c user.email=check-deploy@localhost commit -qam 'test: version 2'"
apt_x make-deb2.log bash -c "cd $SRC && make deb"
DEB2=$(x sh -c "ls $SRC/build/vmtimesync_*-99_*.deb" 2>/dev/null | head -n 1)
check "make deb: a second version" test -n "$DEB2"
apt_x install.log apt-get install -y -q "$DEB2"
check "apt-get install ./$(basename "$DEB2")" \
	bash -c "sd_exec dpkg-query -W -f='\${Version}' vmtimesync | grep -q -- '-99\$'"
check "the edited conffile is kept" test "$(x sha256sum "$CONF")" = "$conf_sum"
check "the drop-in is kept" x test -f "$DROPIN"
check "the hook is in place, as packaged" bash -c \
	"sd_exec test -x $HOOK && ! sd_exec dpkg -V vmtimesync | grep -q $HOOK"
check "vmtimesyncd is active" wait_for 30 x systemctl is-active -q vmtimesyncd
pid=$(main_pid)
# The file the process runs, against the one installed (its path, seen
# from the unit's own mount namespace, would not compare).
ran=$(x stat -L -c %d:%i "/proc/$pid/exe")
installed=$(x stat -c %d:%i /usr/sbin/vmtimesyncd)
check "it restarted on the new binary (pid $PID0 -> $pid)" \
	test "$pid" != "$PID0" -a "$ran" = "$installed"
took

step "apt-get remove"
apt_x install.log apt-get remove -y -q vmtimesync
check "apt-get remove vmtimesync" bash -c \
	"sd_exec dpkg-query -W -f='\${Status}' vmtimesync | grep -qx 'deinstall ok config-files'"
check "the service is stopped" bash -c "! sd_exec systemctl is-active -q vmtimesyncd"
check "no vmtimesyncd process is left" bash -c "! sd_exec pgrep -x vmtimesyncd"
# dpkg keeps the hook (a conffile under /etc) until purge; libvirtd runs
# only executable hooks, and postrm takes the execute bits away.
check "the hook no longer runs (not executable)" bash -c "! sd_exec test -x $HOOK"
check "the configuration stays" test "$(x sha256sum "$CONF")" = "$conf_sum"
took

step "apt-get purge"
# The operator's own drop-in goes with the operator.
x rm -rf "$(dirname "$DROPIN")"
x systemctl daemon-reload
apt_x install.log apt-get purge -y -q vmtimesync
check "apt-get purge vmtimesync" bash -c "! sd_exec dpkg-query -W -f='\${Status}' vmtimesync 2>/dev/null | grep -q ok"
# Everything named after the package, but the metrics file the operator
# pointed the daemon at, the formatted pages man-db cached when
# systemd-analyze verify read the manuals, and this run's own state.
left=$(x find /etc /usr /lib /var /run -xdev -name '*vmtimesync*' \
	-not -path "$PROM_DIR/vmtimesync.prom" -not -path '/var/cache/man/*' \
	-not -path "$SD_ROOT/*" 2>/dev/null)
check "nothing of the package is left" test -z "$left"
[ -n "$left" ] && printf '%s\n' "$left" | sed 's/^/      /'
took

# ---- the RPM, where this machine allows it ----

step "rpm"
# Debian has no systemd-rpm-macros: stand-ins for the three macros the spec
# calls, so that its scriptlets are built and can be checked.
apt_x make-rpm.log bash -c "cd $SRC && make dist >/dev/null && mkdir -p build/rpm &&
	packaging/build-rpm.sh build/vmtimesync-*.tar.gz build/rpm --nodeps \
	--define 'systemd_post() systemctl --no-reload preset %{?*} || :' \
	--define 'systemd_preun() systemctl --no-reload disable --now %{?*} || :' \
	--define 'systemd_postun_with_restart() systemctl try-restart %{?*} || :'"
RPM=$(x sh -c "ls $SRC/build/rpm/vmtimesync-*.x86_64.rpm" 2>/dev/null | head -n 1)
if [ -n "$RPM" ]; then
	ok "rpmbuild: $(basename "$RPM")"
	files=$(x rpm -qlp "$RPM" 2>/dev/null)
	for f in /usr/sbin/vmtimesync /usr/sbin/vmtimesyncd /usr/lib/systemd/system/vmtimesyncd.service \
		/etc/vmtimesync/vmtimesync.conf "$HOOK"; do
		check "rpm -qlp: $f" grep -qx "$f" <<<"$files"
	done
	scripts=$(x rpm -qp --scripts "$RPM" 2>/dev/null)
	for s in postinstall preuninstall postuninstall; do
		check "rpm -qp --scripts: $s handles vmtimesyncd.service" \
			bash -c "awk '/^$s/ { on = 1; next } /^[a-z]+ scriptlet/ { on = 0 } on' <<<\"\$0\" | grep -q vmtimesyncd.service" "$scripts"
	done
else
	nok "rpmbuild" "$(tail -n 15 "$LOGS/make-rpm.log")"
fi
took

say "run time $(($(date +%s) - T0)) s"
say "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
