#!/usr/bin/env bash
# tests/integration/disk.sh - disk faults for real.
#
# faultline-diskd on a directory of its own (no cluster): a write without
# fsync is read back, then gone after lose-unfsynced, with fsync (or
# O_DSYNC) it survives; a new file never fsynced survives empty; a truncate
# without fsync comes back; a rename without a directory fsync is undone,
# with one it stays; a store into a shared mapping survives with msync and
# is lost without; io-errors make writes and reads fail with EIO, disk-full
# makes appends and new files fail with ENOSPC while overwrites work;
# slow-io delays an fsync; unmounting flushes what was cached and the
# daemon exits.
#
# On the local cluster h-disk1 (3 nodes, 10.213.240.0/24): a bad option is
# refused (254) with nothing mounted; an etcd register run under kill -9 +
# lose-unfsynced of all nodes is valid, every node restarted, and nothing
# is left afterwards (no mount, no daemon, no marker); a run kill -9'd
# under slow-io leaves a fault the next run refuses to start on, heal
# removes it (the mount of a database still running stays, writing
# through, and etcd still answers), and once etcd is gone heal leaves no
# mount and no daemon.
source "$(dirname "$0")/../lib.sh"
need_root
command -v python3 >/dev/null || { skip "disk" "python3 not installed"; done_testing; exit; }
[ -e /dev/fuse ] || { skip "disk" "no /dev/fuse"; done_testing; exit; }
DISKD=$(dirname "$FAULTLINE")/faultline-diskd
[ -x "$DISKD" ] || { fail "faultline-diskd built" "missing $DISKD (make)"; done_testing; exit 1; }
D=$(mktemp -d "$TEST_OUTPUT/disk.XXXXXX")
on_exit "rm -rf '$D'"
M=$D/data S=$D/sock
mkdir -p "$M"
on_exit "'$DISKD' --unmount --lazy '$M'; [ -s '$D/pid' ] && kill \$(cat '$D/pid')"

# File operations, from a program of their own (each exits on return, so
# nothing stays open across a lose).
cat >"$D/f.py" <<'EOF'
import errno, mmap, os, sys, time
def wr(path, data, flags=0, sync=False):
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | flags, 0o644)
    os.write(fd, data.encode())
    if sync:
        os.fsync(fd)
    os.close(fd)
def do(op, a):
    if op == "write": wr(a[0], a[1], os.O_TRUNC)
    elif op == "write-fsync": wr(a[0], a[1], os.O_TRUNC, True)
    elif op == "write-dsync": wr(a[0], a[1], os.O_TRUNC | os.O_DSYNC)
    elif op == "append": wr(a[0], a[1], os.O_APPEND)
    elif op == "overwrite": wr(a[0], a[1])
    elif op == "read": print(open(a[0]).read())
    elif op == "truncate": os.truncate(a[0], int(a[1]))
    elif op == "rename": os.rename(a[0], a[1])
    elif op == "fsyncdir":
        fd = os.open(a[0], os.O_RDONLY | os.O_DIRECTORY); os.fsync(fd); os.close(fd)
    elif op == "mmap-store":  # PATH OFFSET CHAR [msync]
        fd = os.open(a[0], os.O_RDWR)
        m = mmap.mmap(fd, 0)
        m[int(a[1])] = ord(a[2])
        if len(a) > 3: m.flush()
        m.close(); os.close(fd)
    elif op == "fsync-ms":  # how long one fsync of PATH takes
        fd = os.open(a[0], os.O_WRONLY); t = time.monotonic(); os.fsync(fd)
        print(int((time.monotonic() - t) * 1000)); os.close(fd)
    else: sys.exit("unknown op " + op)
if sys.argv[1] == "errno":  # NAME OP ARGS...: OP must fail with errno NAME
    try:
        do(sys.argv[3], sys.argv[4:])
    except OSError as e:
        sys.exit(0 if e.errno == getattr(errno, sys.argv[2]) else "errno %d" % e.errno)
    sys.exit("no error")
do(sys.argv[1], sys.argv[2:])
EOF
f() { python3 "$D/f.py" "$@"; }
ctl() { "$DISKD" --ctl "$S" "$@"; }
content() { [ "$(cat "$1" 2>&1)" = "$2" ]; }

echo old >"$M/a"
printf 'a%.0s' $(seq 4096) >"$M/m"
mkdir "$M/dir" && echo x-old >"$M/dir/x" && sync
if "$DISKD" --daemon --pidfile "$D/pid" --log "$D/log" --socket "$S" "$M" &&
	"$DISKD" --is-mounted "$M" && [ "$(findmnt -n -o FSTYPE "$M")" = fuse.faultline-diskd ]; then
	pass "faultline-diskd mounted over its own directory"
else fail "faultline-diskd mounts" "$(tail -3 "$D/log" 2>/dev/null)"; done_testing; exit 1; fi

# ---- lose-unfsynced ----
f write "$M/a" new
ok "a write without fsync is read back" content "$M/a" new
f write-fsync "$M/b" synced
f write "$M/c" unsynced
f write-dsync "$M/e" dsync
f truncate "$M/m" 10
f write-fsync "$M/dir/tmp2" y; f rename "$M/dir/tmp2" "$M/dir/y"; f fsyncdir "$M/dir"
f write-fsync "$M/dir/tmp" x-new; f rename "$M/dir/tmp" "$M/dir/x"
f write-fsync "$M/dir/tmp3" z; f rename "$M/dir/tmp3" "$M/dir/z"
ok "the rename replaced dir/x before the lose" content "$M/dir/x" x-new
R=$(ctl lose-unfsynced)
if jq -e '.lost_files >= 3 and .renames_undone == 2' <<<"${R#ok }" >/dev/null; then
	pass "lose-unfsynced: $R"
else fail "lose-unfsynced reply" "$R"; fi
ok "the unsynced write is gone: a reads old again" content "$M/a" old
ok "a write with fsync survives" content "$M/b" synced
ok "a new file never fsynced survives, empty" bash -c "[ -f '$M/c' ] && [ ! -s '$M/c' ]"
ok "a write through O_DSYNC survives" content "$M/e" dsync
ok "an unsynced truncate comes back (4096 bytes)" test "$(stat -c %s "$M/m")" = 4096
ok "a rename without a directory fsync is undone: dir/x is the old file" content "$M/dir/x" x-old
ok "... and dir/tmp is back" content "$M/dir/tmp" x-new
ok "a rename into a directory fsynced afterwards stays" bash -c "[ \"\$(cat '$M/dir/y')\" = y ] && [ ! -e '$M/dir/tmp2' ]"
ok "a new name never made durable is undone too: dir/tmp3 is back" bash -c "[ ! -e '$M/dir/z' ] && [ \"\$(cat '$M/dir/tmp3')\" = z ]"
ok "the trash of replaced files is hidden" bash -c "! ls -A '$M' | grep -q faultline"

# ---- mmap ----
f mmap-store "$M/m" 0 B msync
f mmap-store "$M/m" 1 C
sync -f "$M" # what disk.c does before a lose: dirty mapped pages reach the daemon
ctl lose-unfsynced >/dev/null
ok "a store into a shared mapping with msync survives" test "$(head -c1 "$M/m")" = B
ok "a store into a shared mapping without msync is lost" test "$(head -c2 "$M/m" | tail -c1)" = a
C=$(ctl counters)
ok "counters: two loses, bytes lost, reads and writes counted" \
	jq -e '.loses == 2 and .lost_bytes > 0 and .writes > 5 and .reads > 5 and .dirty_bytes == 0' <<<"${C#ok }"

# ---- io-errors, disk-full, slow-io ----
ctl errors ops=write p=1 errno=EIO >/dev/null
ok "io-errors (write, p=1): a write fails with EIO" f errno EIO write "$M/a" x
ctl errors ops=read p=1 >/dev/null
ok "io-errors (read, p=1): a read fails with EIO" f errno EIO read "$M/b"
ctl clear >/dev/null
ok "after clear the write and the read work" bash -c "python3 '$D/f.py' write '$M/a' ok && [ \"\$(cat '$M/a')\" = ok ]"
ctl full on >/dev/null
ok "disk-full: an append fails with ENOSPC" f errno ENOSPC append "$M/b" more
ok "disk-full: a new file fails with ENOSPC" f errno ENOSPC write "$M/new" x
ok "disk-full: an overwrite in place works" bash -c "python3 '$D/f.py' overwrite '$M/b' SY && [ \"\$(cat '$M/b')\" = SYnced ]"
ok "disk-full: df shows no space" test "$(df --output=avail "$M" | tail -1 | tr -d ' ')" = 0
ctl clear >/dev/null
ctl delay ops=fsync ms=300 dist=constant >/dev/null
MS=$(f fsync-ms "$M/b")
if [ "${MS:-0}" -ge 290 ]; then pass "slow-io (fsync 300 ms): one fsync took $MS ms"
else fail "slow-io delays an fsync" "took ${MS:-?} ms"; fi
ST=$(ctl status)
ok "status names the fault: $ST" grep -q "slow I/O (constant 300 ms: fsync)" <<<"$ST"
ctl clear >/dev/null
ok_not "an unknown command is refused" ctl nonsense

# ---- unmount ----
f write "$M/last" cached
P=$(cat "$D/pid")
ok "unmount" "$DISKD" --unmount "$M"
# Another mount namespace may hold a copy of the mount (it would keep the
# daemon's connection alive): then SIGTERM, as heal does.
for _ in $(seq 50); do [ -d "/proc/$P" ] || break; sleep 0.02; done
[ -d "/proc/$P" ] && kill "$P"
for _ in $(seq 150); do [ -d "/proc/$P" ] || break; sleep 0.02; done
ok "the daemon exited, its pid file gone" bash -c "[ ! -d /proc/$P ] && [ ! -e '$D/pid' ]"
ok "what was cached reached the directory below" content "$M/last" cached
ok "nothing mounted, the trash directory removed" bash -c "! '$DISKD' --is-mounted '$M' && [ ! -e '$M/.faultline-diskd' ]"

# ---- the disk fault on a local cluster ----
command -v etcd >/dev/null || { skip "cluster part" "etcd not installed (make deps)"; done_testing; exit; }
C=h-disk1
CL=/run/faultline/clusters/$C
"$FAULTLINE" cluster down --name $C >/dev/null 2>&1
if ! "$FAULTLINE" cluster up --name $C --subnet 10.213.240.0/24 --nodes 3 >"$D/up.log" 2>&1; then
	fail "cluster $C up" "$(tail -3 "$D/up.log" | tr '\n' ' ')"; done_testing; exit 1
fi
on_exit "'$FAULTLINE' cluster down --name $C"
pass "cluster $C up (3 nodes)"
mounts() { findmnt -rn -t fuse.faultline-diskd -o TARGET | grep -F "$CL/" ; }
daemons() {
	local p
	for p in /proc/[0-9]*; do
		case "$(readlink "$p/exe" 2>/dev/null)" in */faultline-diskd*)
			tr '\0' ' ' <"$p/cmdline" | grep -qF "$CL/" && echo "${p#/proc/}" ;;
		esac
	done
	return 0
}
nothing_left() {
	local left
	left="$(mounts)$(daemons)$(cluster_leftovers $C)$(ls "$CL"/nodes/*/faultline-diskd.{pid,mnt,sock} 2>/dev/null)"
	[ -z "$left" ] || { echo "left: $left"; return 1; }
}
run() { "$FAULTLINE" run "$@" --cluster $C --workload register --store "$D/store" --recovery-time 3; }

jq -n '{nemesis: ["disk"], nemesis_opts: {disk: {modes: ["bogus"]}}}' >"$D/bad.json"
OUT=$(run "$D/bad.json" --time-limit 5 2>&1)
rc=$?
if [ $rc -eq 254 ] && [ "$(wc -l <<<"$OUT")" -eq 1 ] && grep -q "nemesis_opts.disk.modes" <<<"$OUT" && [ -z "$(mounts)" ]; then
	pass "a bad option: exit 254, one line naming nemesis_opts.disk.modes, nothing mounted"
else fail "bad option refused" "rc=$rc $OUT"; fi

jq -n '{nemesis: ["disk"], nemesis_interval: 3,
	nemesis_opts: {disk: {modes: ["lose-unfsynced"], targets: "all"}}}' >"$D/lose.json"
run "$D/lose.json" --time-limit 12 >"$D/lose.out" 2>"$D/lose.err"
rc=$?
H=$(tail -1 "$D/lose.out")/history.jsonl
if [ $rc -eq 0 ]; then pass "etcd under kill -9 + lose-unfsynced of every node: valid"
else fail "etcd lose-unfsynced run valid" "rc=$rc $(tail -3 "$D/lose.err" | tr '\n' ' ')"; fi
N=$(jq -c 'select(.process == "nemesis" and .f == "start-disk" and .type == "info")
	| select([.value.nodes[] | select(.killed and .restarted and (.lost_bytes | type) == "number")] | length == 3)' "$H" 2>/dev/null | wc -l)
if [ "$N" -ge 1 ]; then pass "history: $N lose-unfsynced faults, each killed, dropped and restarted all 3 nodes"
else fail "history shows lose-unfsynced on all nodes" "$(grep start-disk "$H" | tail -2)"; fi
ok "grep -q 'mounted through faultline-diskd' in the run's log" grep -q "mounted through faultline-diskd" "$D/lose.err"
ok "after the run: no mount, no daemon, no marker" nothing_left

jq -n '{nemesis: ["disk"], nemesis_interval: 1,
	nemesis_opts: {disk: {modes: ["slow-io"], targets: "all", delay_ms: 2}}}' >"$D/slow.json"
"$FAULTLINE" run "$D/slow.json" --cluster $C --workload register --store "$D/store" \
	--time-limit 60 >"$D/crash.out" 2>"$D/crash.err" &
RP=$!
for _ in $(seq 300); do grep -q "start-disk" "$D/crash.err" && break; sleep 0.1; done
kill -9 $RP; wait $RP 2>/dev/null
OUT=$(run "$D/slow.json" --time-limit 5 2>&1)
rc=$?
if [ $rc -eq 254 ] && grep -q "faultline-diskd on etcd.data: slow I/O" <<<"$OUT"; then
	pass "after a kill -9 of the run, the next run refuses: it names faultline-diskd's slow I/O"
else fail "leftover disk fault refused" "rc=$rc $OUT"; fi
ok "faultline heal" "$FAULTLINE" heal --cluster $C
ok "heal left no fault: the daemons write through, nothing active" bash -c "
	for n in n1 n2 n3; do [ \"\$('$CL/nodes/'\$n/bin/faultline-diskd --ctl '$CL/nodes/'\$n/faultline-diskd.sock status)\" = ok ] || exit 1; done"
ok "etcd, still running on its mounted data dir, answers" \
	curl -s -m 3 "http://$(jq -r '.nodes[0].host' "$CL/cluster.json"):2379/health"
PS=()
for n in n1 n2 n3; do p=$(cat "$CL/nodes/$n/etcd.pid" 2>/dev/null) && kill -9 "$p" 2>/dev/null && PS+=("$p"); done
# Until their files are closed the mounts are in use (heal would leave them).
for p in "${PS[@]}"; do for _ in $(seq 100); do [ -d "/proc/$p" ] || break; sleep 0.1; done; done
ok "faultline heal, etcd gone" "$FAULTLINE" heal --cluster $C
ok "heal left no mount, no daemon, no marker" nothing_left
done_testing
