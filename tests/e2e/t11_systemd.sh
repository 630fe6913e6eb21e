#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# xlbd as systemd runs it (docs/OPERATIONS.md):
#  1. `make install DESTDIR=... PREFIX=...` puts every file in its place,
#     writes the unit with PREFIX's paths and never overwrites a config.
#  2. `systemd-analyze verify` accepts the installed unit without a single
#     warning, and refuses broken copies of it; `systemd-analyze security`
#     rates its exposure.
#  3. A real systemd service manager runs the installed unit, with a
#     drop-in that only points it at a test namespace, file and socket:
#     readiness (Type=notify), the capability set and sandbox, watchdog
#     pings, reload, restart and crash (the data plane keeps forwarding
#     throughout), an operator's `lbctl shutdown`, and `systemctl stop`
#     (the data plane is removed). A stand-in daemon then shows the stop
#     hook keeping the data plane when a start is queued behind a stop.
# The manager is a `systemd --user` instance in private mount and cgroup
# namespaces: it works whether PID 1 is systemd or not, and its cgroup
# namespace keeps it from touching any process it did not start.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

[[ $# -ge 1 ]] || lab_die "usage: $0 BUILD_DIR"
[[ $(id -u) == 0 ]] || lab_die "needs root (namespaces, cgroups, XDP)"
BUILD=$(realpath "$1")

ID=xlbt$$
T=$(mktemp -d "/tmp/$ID.XXXXXX")
ROOT=$T/root   # DESTDIR of the install under test
SDR=/run/$ID   # the manager's XDG_RUNTIME_DIR: outside /tmp (PrivateTmp)
NS=$ID-sd
# systemd (PID 1) mounts bpffs at /sys/fs/bpf at boot; the manager below
# does the same in its own mount namespace, so the pins live there: the
# checks look at them from inside it (in_mgr), whatever the host has.
PINS=/sys/fs/bpf/$ID
# libxdp makes /sys/fs/bpf/xdp (its lock directory) when xlbd attaches on
# the host's bpffs; remove it afterwards if this test made it.
XDP_LOCKDIR=/sys/fs/bpf/xdp
XDP_LOCKDIR_WAS=$([[ -d $XDP_LOCKDIR ]] && echo 1 || echo 0)
CG=$ID-systemd
CG_DIRS=()
MGR_PID=
WATCHER=

cleanup() {
	local rc=$? d
	trap - EXIT INT TERM
	if [[ -n $WATCHER ]]; then
		touch "$T/watch.stop"
		kill "$WATCHER" 2>/dev/null || true
		wait "$WATCHER" 2>/dev/null || true
	fi
	if [[ -n $MGR_PID ]]; then
		if [[ $rc != 0 || $E2E_FAILED != 0 ]]; then
			echo "--- last lines of the unit's log:"
			tail -n 25 "$SDR/xlbd.log" 2>/dev/null | sed 's/^/    /'
		fi
		# A full stop if xlbd still runs: the hook unpins.
		timeout 30 env XDG_RUNTIME_DIR="$SDR" systemctl --user \
			stop xlbd.service >/dev/null 2>&1 || true
		in_mgr rm -rf "$PINS" 2>/dev/null || true
		cgroup_kill
	fi
	for d in "${CG_DIRS[@]}"; do
		[[ -d $d ]] && find "$d" -depth -type d -exec rmdir {} + \
			2>/dev/null
	done
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$PINS" 2>/dev/null || true
	if [[ $XDP_LOCKDIR_WAS == 0 ]]; then
		rmdir "$XDP_LOCKDIR" 2>/dev/null || true
	fi
	rm -rf "$T" "$SDR"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'echo "  FAIL: line $LINENO: $BASH_COMMAND"; E2E_FAILED=1' ERR

# ---- 1. make install -----------------------------------------------------

echo "make install"
install_to() {
	make -s -C "$LAB_ROOT" BUILD="$BUILD" DESTDIR="$1" PREFIX="$2" install
}
mode_is() {
	[[ -f $2 && $(stat -c %a "$2") == "$1" ]]
}
install_to "$ROOT" /usr/local >"$T/install.log"
L=$ROOT/usr/local
for f in xlbd lbctl xlb-stop-hook; do
	check "sbin/$f, mode 0755" mode_is 755 "$L/sbin/$f"
done
for f in xlb decap; do
	check "lib/xlb/$f.bpf.o, mode 0644" mode_is 644 "$L/lib/xlb/$f.bpf.o"
done
UNIT=$L/lib/systemd/system/xlbd.service
check "the unit, mode 0644" mode_is 644 "$UNIT"
check "man8/xlbd.8" mode_is 644 "$L/share/man/man8/xlbd.8"
check "man8/lbctl.8" mode_is 644 "$L/share/man/man8/lbctl.8"
check "man5/xlb.yaml.5" mode_is 644 "$L/share/man/man5/xlb.yaml.5"
check "/etc/xlb/xlb.yaml, mode 0640" mode_is 640 "$ROOT/etc/xlb/xlb.yaml"
if [[ -f $LAB_ROOT/tools/completion/lbctl.bash ]]; then
	check "bash completion" cmp "$LAB_ROOT/tools/completion/lbctl.bash" \
		"$L/share/bash-completion/completions/lbctl"
else
	check "no completion script to install" \
		test ! -e "$L/share/bash-completion/completions/lbctl"
fi
check "ExecStart has PREFIX's path" \
	grep -qx 'ExecStart=/usr/local/sbin/xlbd --config /etc/xlb/xlb.yaml' \
	"$UNIT"
check "ExecStop is the stop hook" \
	grep -qx 'ExecStop=/usr/local/sbin/xlb-stop-hook %n' "$UNIT"
check "no placeholder left in the unit" \
	bash -c "! grep -nE '@[A-Z_]+@' '$UNIT'"
check "the installed config is valid" \
	"$L/sbin/xlbd" --check --config "$ROOT/etc/xlb/xlb.yaml"
# Every setting commented out in it, the fullnat block and its example
# VIPs, uncommented.
sed -e 's/^#\([a-z_]*:\)/\1/' -e '/^fullnat:/,/^$/ s/^#//' \
	-e '/^vips:/,$ s/^#//' \
	"$ROOT/etc/xlb/xlb.yaml" >"$T/all.yaml"
check "its commented settings and VIPs are valid too" \
	bash -c "'$L/sbin/xlbd' --check --config '$T/all.yaml' | grep -q '(3 VIPs)'"
check "... all of them were uncommented" \
	bash -c "! grep -qE '^#[a-z_]+:' '$T/all.yaml' &&
		grep -q '^control_cpus:' '$T/all.yaml'"
echo "# edited by the operator" >>"$ROOT/etc/xlb/xlb.yaml"
install_to "$ROOT" /usr/local >"$T/install2.log"
check "a second install keeps the config" \
	grep -qx "# edited by the operator" "$ROOT/etc/xlb/xlb.yaml"
install_to "$T/usr" /usr >"$T/install3.log"
check "PREFIX=/usr: unit in /usr/lib/systemd/system, /usr/sbin paths" \
	grep -qx 'ExecStart=/usr/sbin/xlbd --config /etc/xlb/xlb.yaml' \
	"$T/usr/usr/lib/systemd/system/xlbd.service"
for page in man8/xlbd.8 man8/lbctl.8 man5/xlb.yaml.5; do
	check "$page: no groff warning" \
		bash -c "[[ -z \$(groff -man -ww -z '$L/share/man/$page' 2>&1) ]]"
	check "$page: man -l renders it" \
		bash -c "MANWIDTH=80 man -l '$L/share/man/$page' 2>/dev/null | grep -q '^NAME'"
done

# ---- 2. systemd-analyze --------------------------------------------------

echo "systemd-analyze"
# analyze ARGS...: run systemd-analyze with the install seen at /usr/local
# (a private mount namespace), so that verify finds the unit's binaries
# and man pages where the unit names them. Prints what it printed.
analyze() {
	unshare --mount sh -c 'mount --bind "$0" /usr/local &&
		exec systemd-analyze "$@"' "$L" "$@" 2>&1
}
# verify_clean UNIT: verify passes and says nothing (it exits 0 on mere
# warnings, such as an unknown key or a value it cannot parse).
verify_clean() {
	local out
	out=$(analyze verify "$1") || {
		echo "$out"
		return 1
	}
	[[ -z $out ]] || {
		echo "$out"
		return 1
	}
}
verify_refuses() {
	! verify_clean "$1" >/dev/null
}
check "verify: the installed unit, not a single warning" \
	verify_clean /usr/local/lib/systemd/system/xlbd.service
mkdir "$T/broken"
while IFS='|' read -r what expr; do
	sed -e "$expr" "$UNIT" >"$T/broken/xlbd.service"
	check "verify refuses a broken copy: $what" \
		verify_refuses "$T/broken/xlbd.service"
done <<'EOF'
misspelt key|s/^Type=notify/Typ=notify/
bad value|s/^WatchdogSec=10/WatchdogSec=ten/
missing binary|s|^ExecStart=/usr/local/sbin/xlbd|ExecStart=/usr/local/sbin/xlbdd|
EOF
exposure=$(analyze security --offline=yes \
	/usr/local/lib/systemd/system/xlbd.service |
	sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
check "security: exposure '$exposure' is at most 3.0 ('OK')" \
	awk -v e="$exposure" 'BEGIN { exit !(e != "" && e + 0 <= 3.0) }'

# ---- 3. Under a systemd service manager ----------------------------------

echo "systemd $(systemctl --version | awk 'NR == 1 { print $2 }') manager"
sctl() {
	XDG_RUNTIME_DIR=$SDR systemctl --user --no-pager "$@"
}
prop() {
	sctl show -P "$1" "${2:-xlbd.service}"
}
cgroup_kill() {
	local d tries=50
	for d in "${CG_DIRS[@]}"; do
		[[ -e $d/cgroup.kill ]] && echo 1 >"$d/cgroup.kill"
	done
	while ((tries-- > 0)); do
		[[ -z $(cat "${CG_DIRS[0]}/cgroup.procs" 2>/dev/null) ]] &&
			[[ -z $(find "${CG_DIRS[0]}" -mindepth 2 -name cgroup.procs \
				-exec cat {} + 2>/dev/null) ]] && return 0
		sleep 0.1
	done
}

mkdir -m 0700 "$SDR"
mkdir "$SDR/units"

# The cgroup the manager may use, and how it sees the hierarchy inside
# its namespaces.
if [[ $(stat -fc %T /sys/fs/cgroup) == cgroup2fs ]]; then
	CG_DIRS=("/sys/fs/cgroup/$CG")
	CG_MOUNT='mount -t cgroup2 cgroup2 /sys/fs/cgroup'
elif [[ -d /sys/fs/cgroup/unified && -d /sys/fs/cgroup/systemd ]]; then
	CG_DIRS=("/sys/fs/cgroup/unified/$CG" "/sys/fs/cgroup/systemd/$CG")
	CG_MOUNT='mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup &&
		mkdir /sys/fs/cgroup/unified /sys/fs/cgroup/systemd &&
		mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified &&
		mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd'
else
	lab_die "no cgroup v2 hierarchy for the service manager"
fi
mkdir "${CG_DIRS[@]}"

# The units: ours only (SYSTEMD_UNIT_PATH), and the few targets a user
# manager needs to come up.
printf '[Unit]\nDescription=%s\n' "t11 manager" >"$SDR/units/xlbt.target"
printf '[Unit]\nDescription=basic\n' >"$SDR/units/basic.target"
printf '[Unit]\nDescription=shutdown\nDefaultDependencies=no\n' \
	>"$SDR/units/shutdown.target"
cp "$UNIT" "$SDR/units/xlbd.service"
mkdir "$SDR/units/xlbd.service.d"
cat >"$SDR/units/xlbd.service.d/test.conf" <<EOF
# Only where things are: the test's namespace, file, socket and log; a
# short watchdog so that a missing ping shows within the test.
[Service]
NetworkNamespacePath=/run/netns/$NS
ExecStart=
ExecStart=/usr/local/sbin/xlbd --config $SDR/xlb.yaml
ExecStop=
ExecStop=/usr/local/sbin/xlb-stop-hook %n --socket $SDR/xlb/xlbd.sock
WatchdogSec=2
TimeoutStartSec=20
TimeoutStopSec=20
StandardOutput=append:$SDR/xlbd.log
StandardError=append:$SDR/xlbd.log
EOF

write_config() {
	cat >"$SDR/xlb.yaml" <<EOF
interfaces: [veth0]
xdp_mode: native
socket: $SDR/xlb/xlbd.sock
pin_path: $PINS
conntrack_size: 1024
max_vips: 8
max_reals: 16
vips:
  - vip: 10.0.0.10:80/tcp
    reals: [10.1.0.2, 10.1.0.3]
EOF
	[[ ${1:-} != more ]] || cat >>"$SDR/xlb.yaml" <<EOF
  - vip: 10.0.0.11:53/udp
    reals: [10.1.0.4]
EOF
}
write_config

ip netns add "$NS"
ip -n "$NS" link add veth0 type veth peer name veth1
ip -n "$NS" link set veth0 up
ip -n "$NS" link set veth1 up

cat >"$SDR/manager.sh" <<EOF
#!/bin/sh
# Inside new mount and cgroup namespaces: see only our cgroup, look like
# a systemd-booted host, and have the install at /usr/local.
set -e
mount --make-rprivate /
$CG_MOUNT
# What PID 1 mounts at boot, if the host has not.
mountpoint -q /sys/fs/bpf || mount -t bpf -o mode=0700 bpf /sys/fs/bpf
# /run is a mount point on a systemd host; were it not, the sandbox
# (MountAPIVFS=, implied by ProtectKernelTunables=) would put an empty
# tmpfs there.
mountpoint -q /run || mount --rbind /run /run
mount -t tmpfs -o mode=755 tmpfs /run/systemd
mkdir /run/systemd/system
# What PID 1 makes at boot and the sandboxing options mount over paths.
mkdir -m 0755 /run/systemd/inaccessible
mkdir -m 0000 /run/systemd/inaccessible/dir
install -m 0000 /dev/null /run/systemd/inaccessible/reg
mkfifo -m 0000 /run/systemd/inaccessible/fifo
mknod -m 0000 /run/systemd/inaccessible/chr c 0 0
mknod -m 0000 /run/systemd/inaccessible/blk b 0 0
mount --bind $L /usr/local
exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	XDG_RUNTIME_DIR=$SDR HOME=$SDR SYSTEMD_UNIT_PATH=$SDR/units \
	/lib/systemd/systemd --user --unit=xlbt.target --log-target=console
EOF
chmod +x "$SDR/manager.sh"
# Enter the cgroup first: the namespace's root is where we stand.
setsid bash -c 'for d in "$@"; do echo $$ >"$d/cgroup.procs"; done
	exec unshare --mount --cgroup "$0"' "$SDR/manager.sh" "${CG_DIRS[@]}" \
	</dev/null >"$SDR/manager.log" 2>&1 &
MGR_PID=$!
disown
if ! wait_until 15 sctl show -P Version; then
	cat "$SDR/manager.log"
	lab_die "the service manager did not come up"
fi

# in_mgr CMD...: run CMD in the manager's mount namespace, where xlbd's
# bpffs is.
in_mgr() {
	nsenter -t "$MGR_PID" -m -- "$@"
}
pinned() {
	in_mgr test -e "$PINS/vips"
}
unpinned() {
	in_mgr test ! -e "$PINS/vips"
}
xdp_on() {
	ip -n "$NS" link show veth0 | grep -q 'prog/xdp'
}
has_vip() {
	lbctl_sd vip list | grep -q "$1"
}
xdp_off() {
	! xdp_on
}
lbctl_sd() {
	"$L/sbin/lbctl" --socket "$SDR/xlb/xlbd.sock" "$@"
}
# Watch the attachment every 20 ms while something happens; the gaps
# seen are counted in $T/gaps.
watch_xdp_start() {
	rm -f "$T/watch.stop"
	: >"$T/gaps"
	(while [[ ! -e $T/watch.stop ]]; do
		xdp_on || echo gap >>"$T/gaps"
		sleep 0.02
	done) &
	WATCHER=$!
}
watch_xdp_stop() {
	touch "$T/watch.stop"
	wait "$WATCHER" || true
	WATCHER=
}
# A running xlbd that is not process $1.
replaced() {
	local pid
	pid=$(prop MainPID)
	[[ $pid != 0 && $pid != "$1" && $(prop ActiveState) == active ]]
}
state_is() {
	[[ $(prop ActiveState) == "$1" ]]
}
hook_said() {
	grep -c "xlb-stop-hook: .*$1" "$SDR/xlbd.log" || true
}

echo "start"
check "systemctl start returns once xlbd is ready (Type=notify)" \
	sctl start xlbd.service
check_eq "state" "$(prop ActiveState)/$(prop SubState)" active/running
PID=$(prop MainPID)
check "lbctl reaches xlbd on the RuntimeDirectory socket" lbctl_sd ping
check "the program is attached" xdp_on
check "the maps are pinned" pinned
check_eq "capability bounding set: CAP_NET_ADMIN and CAP_SYS_ADMIN" \
	"$(awk '/^CapBnd/ { print $2 }' "/proc/$PID/status")" 0000000000201000
check_eq "effective capabilities" \
	"$(awk '/^CapEff/ { print $2 }' "/proc/$PID/status")" 0000000000201000
check_eq "no new privileges" \
	"$(awk '/^NoNewPrivs/ { print $2 }' "/proc/$PID/status")" 1
check_eq "seccomp filter" \
	"$(awk '/^Seccomp:/ { print $2 }' "/proc/$PID/status")" 2
check "the file system is read-only to xlbd (ProtectSystem=strict)" \
	bash -c "! nsenter -t $PID -m touch /usr/local/probe 2>/dev/null"
check "/tmp is its own (PrivateTmp)" \
	bash -c "touch '$T/probe'; ! nsenter -t $PID -m test -e '$T/probe'"
check_eq "WATCHDOG_USEC given to xlbd" \
	"$(tr '\0' '\n' <"/proc/$PID/environ" | sed -n 's/^WATCHDOG_USEC=//p')" \
	2000000
sleep 4.5
check_eq "still the same xlbd after 2 watchdog periods (pings arrive)" \
	"$(prop MainPID)/$(prop NRestarts)/$(prop ActiveState)" "$PID/0/active"

echo "reload"
write_config more
check "systemctl reload" sctl reload xlbd.service
# systemd 252 returns once SIGHUP is sent (waiting for READY=1 is
# Type=notify-reload, 253+): give xlbd a moment.
check "the new VIP is there" wait_until 5 has_vip 10.0.0.11:53/udp
echo "vips: [ {vip: 10.0.0.12:80/tcp, weight: 1} ]" >"$SDR/xlb.yaml"
check "systemctl reload with a bad file" sctl reload xlbd.service
check "it is refused" wait_until 5 grep -q "unknown key 'weight'" \
	"$SDR/xlbd.log"
check "the VIPs stay" has_vip 10.0.0.11:53/udp
check_eq "after two reloads, the same xlbd, active" \
	"$(prop MainPID)/$(prop ActiveState)" "$PID/active"
write_config more

echo "restart"
watch_xdp_start
check "systemctl restart" sctl restart xlbd.service
watch_xdp_stop
check_eq "the program stayed attached throughout (gaps seen)" \
	"$(wc -l <"$T/gaps")" 0
check "a new xlbd" test "$(prop MainPID)" != "$PID"
check_eq "state" "$(prop ActiveState)" active
check_eq "the hook saw a restart" "$(hook_said 'is restarting')" 1
check_eq "and did not shut down" "$(hook_said 'stopping for good')" 0
check "the new xlbd has both VIPs" has_vip 10.0.0.11:53/udp
check_eq "it adopted the pinned data plane" \
	"$(grep -c 'adopted the running data plane' "$SDR/xlbd.log")" 1

echo "crash"
PID=$(prop MainPID)
# Never `kill 0`: with no main process this would be our process group.
[[ $PID -gt 1 ]] || lab_die "no xlbd to crash"
hooks=$(grep -c xlb-stop-hook "$SDR/xlbd.log" || true)
watch_xdp_start
kill -9 "$PID"
check "Restart=on-failure brings a new xlbd" wait_until 10 replaced "$PID"
watch_xdp_stop
check_eq "the program stayed attached throughout (gaps seen)" \
	"$(wc -l <"$T/gaps")" 0
check_eq "restarts counted" "$(prop NRestarts)" 1
check_eq "the new xlbd adopted the pinned data plane" \
	"$(grep -c 'adopted the running data plane' "$SDR/xlbd.log")" 2
check_eq "no stop hook for a crash" \
	"$(grep -c xlb-stop-hook "$SDR/xlbd.log" || true)" "$hooks"

echo "lbctl shutdown by the operator"
check "lbctl shutdown" lbctl_sd shutdown
check "the unit stops" wait_until 10 state_is inactive
# xlbd said STOPPING=1, so systemd runs no ExecStop; had it run, the hook
# would have found no main process. Either way it shuts nothing down.
check_eq "the hook did not shut down again" \
	"$(hook_said 'stopping for good')" 0
check "the program is detached" xdp_off
check "the pins are gone" unpinned

echo "stop"
check "start again" sctl start xlbd.service
check "attached again" xdp_on
check "systemctl stop" sctl stop xlbd.service
check_eq "state" "$(prop ActiveState)" inactive
check_eq "the hook shut xlbd down" "$(hook_said 'has shut down')" 1
check "the program is detached" xdp_off
check "the pins are gone" unpinned

echo "stop hook, with a stand-in daemon"
cat >"$SDR/fake-lbctl" <<EOF
#!/bin/sh
echo "\$*" >>$SDR/fake-lbctl.calls
kill "\$MAINPID"
EOF
chmod +x "$SDR/fake-lbctl"
: >"$SDR/fake-lbctl.calls"
cat >"$SDR/units/xlbt-hook.service" <<EOF
[Service]
ExecStart=/bin/sleep infinity
# A slow stop, so that a start can be queued while it runs.
ExecStop=/bin/sh -c 'sleep 1; exec /usr/local/sbin/xlb-stop-hook %n'
Environment=XLB_LBCTL=$SDR/fake-lbctl
StandardError=append:$SDR/hook.log
EOF
sctl daemon-reload
sctl start xlbt-hook.service
PID=$(prop MainPID xlbt-hook.service)
sctl stop --no-block xlbt-hook.service
sleep 0.3
check "a start queued behind the stop" sctl start xlbt-hook.service
check_eq "the hook kept the data plane" \
	"$(grep -c 'is restarting' "$SDR/hook.log" || true)" 1
check_eq "lbctl not called" "$(wc -l <"$SDR/fake-lbctl.calls")" 0
check "a new daemon" test "$(prop MainPID xlbt-hook.service)" != "$PID"
check "a plain stop" sctl stop xlbt-hook.service
check_eq "lbctl called once, for shutdown" \
	"$(cat "$SDR/fake-lbctl.calls")" shutdown

e2e_end
