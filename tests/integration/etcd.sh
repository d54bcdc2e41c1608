#!/usr/bin/env bash
# tests/integration/etcd.sh - the etcd db (src/db/etcd.c) driven through the
# SSH layer by build/tests/tools/dbx, against real sshd and real etcd.
#
# Nodes: the local cluster t-etcd (faultline cluster up, 3 nodes, subnet
# 10.213.102.0/24) when `faultline cluster` works; otherwise three members
# on 127.0.0.1-3 behind a test sshd of our own, with a workdir whose name
# needs shell quoting. Checks setup, a write through n1 read through n3,
# leader from the status API, kill -> new leader -> start -> rejoin with its
# data, pause/resume, logs, teardown (idempotent), and a node without etcd
# (an sshd in a private mount namespace where /usr/bin/etcd is masked).
source "$(dirname "$0")/../lib.sh"
need_root

BUILD=${BUILD:-build}
DBX=$PWD/$BUILD/tests/tools/dbx
[ -x "$DBX" ] || { fail "dbx test driver built" "missing $DBX (make unit)"; done_testing; exit 1; }
command -v etcd >/dev/null || { skip "etcd tests" "etcd-server not installed (make deps)"; done_testing; exit 0; }
command -v etcdctl >/dev/null || { skip "etcd tests" "etcd-client not installed (make deps)"; done_testing; exit 0; }

D=$(mktemp -d "$TEST_OUTPUT/etcd.XXXXXX")
chmod 755 "$D"
on_exit "rm -rf '$D'"
port_free() { ! ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }
free_port() { local p=$1; while ! port_free "$p"; do p=$((p + 1)); done; echo "$p"; }
ssh-keygen -q -t ed25519 -N '' -f "$D/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$D/client_key"
cp "$D/client_key.pub" "$D/authorized_keys"
mkdir -p /run/sshd

# sshd_config LISTEN_ADDRS... PORT (SetEnv SHLVL=1 keeps bash from sourcing
# root's ~/.bashrc on every command).
sshd_config() {
	local port=${!#} a
	for a in "${@:1:$#-1}"; do echo "ListenAddress $a"; done
	cat <<EOF
Port $port
HostKey $D/host_key
AuthorizedKeysFile $D/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
SetEnv SHLVL=1
Subsystem sftp internal-sftp
EOF
}
known_host() { echo "[$1]:$2 $(cut -d' ' -f1,2 "$D/host_key.pub")"; }

MODE=loopback
CLUSTER=t-etcd
if "$FAULTLINE" cluster up --nodes 3 --name "$CLUSTER" --subnet 10.213.102.0/24 >"$D/cluster-up.log" 2>&1; then
	MODE=cluster
	on_exit "'$FAULTLINE' cluster down --name $CLUSTER"
	O=(--cluster "$CLUSTER")
	pass "local cluster $CLUSTER up (nodes for the etcd tests)"
else
	"$FAULTLINE" cluster down --name "$CLUSTER" >/dev/null 2>&1
	echo "# faultline cluster up failed ($(tail -1 "$D/cluster-up.log")): using 127.0.0.1-3"
	PORT=$(free_port 2299)
	sshd_config 127.0.0.1 127.0.0.2 127.0.0.3 "$PORT" >"$D/sshd_config"
	echo "PidFile $D/sshd.pid" >>"$D/sshd_config"
	for h in 127.0.0.1 127.0.0.2 127.0.0.3; do known_host $h "$PORT"; done >"$D/known_hosts"
	if /usr/sbin/sshd -f "$D/sshd_config" -E "$D/sshd.log"; then
		for _ in $(seq 20); do [ -s "$D/sshd.pid" ] && break; sleep 0.1; done
		on_exit "kill \$(cat '$D/sshd.pid')"
		pass "test sshd for 127.0.0.1-3 started"
	else
		fail "test sshd started" "$(tail -3 "$D/sshd.log")"; done_testing; exit 1
	fi
	# A workdir that only survives correct shell quoting.
	WB="$D/work dir's \$HOME"
	# shellcheck disable=SC2054 # the comma list is one argument
	O=(--hosts 127.0.0.1,127.0.0.2,127.0.0.3 --port "$PORT" --key "$D/client_key"
	   --known-hosts "$D/known_hosts" --workdir-base "$WB" --name t-etcd)
	on_exit "'$DBX' ${O[*]@Q} teardown"
fi

dbx() { "$DBX" "${O[@]}" "$@" 2>>"$D/dbx.stderr"; }
url() { dbx url "$1"; }
ectl() { local ep=$1; shift; ETCDCTL_API=3 etcdctl --endpoints "$ep" --command-timeout=3s "$@"; }
# wait_for SECONDS command...: retry until it succeeds
wait_for() { local end=$((SECONDS + $1)); shift; until "$@"; do [ $SECONDS -ge $end ] && return 1; sleep 0.2; done; }
check() { local name=$1; shift; if "$@" >/dev/null; then pass "$name"; else fail "$name" "$(tail -3 "$D/dbx.stderr" | tr '\n' ' ')"; fi; }
is_etcd_pid() { [ "$(cat "/proc/$1/comm" 2>/dev/null)" = etcd ]; }
state_of() { sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$1/status" 2>/dev/null; }

t0=$SECONDS
check "setup on 3 nodes in parallel (start, wait until healthy)" dbx setup
echo "# setup took $((SECONDS - t0)) s"
check "every node healthy (/health from the controller)" \
	bash -c "'$DBX' ${O[*]@Q} healthy n1 && '$DBX' ${O[*]@Q} healthy n2 && '$DBX' ${O[*]@Q} healthy n3" 

U1=$(url n1) U2=$(url n2) U3=$(url n3)
V="value-$$-$RANDOM"
check "put through n1's address" ectl "$U1" put fl-key "$V"
check "read through n3's address" test "$(ectl "$U3" get fl-key --print-value-only 2>/dev/null)" = "$V"
if [ "$MODE" = loopback ]; then
	check "workdir with quotes and spaces holds each node's data" \
		test -d "$WB/n1/etcd.data/member" -a -d "$WB/n3/etcd.data/member"
fi

P2=$(dbx pid n2)
check "pid names a live etcd process" is_etcd_pid "${P2:-0}"

L=$(dbx primary)
check "primary names the leader (${L:-none})" test -n "$L"
case "$L" in n1) SU=$U2 ;; *) SU=$U1 ;; esac
LP=$(dbx pid "$L")
check "kill $L (the leader)" dbx kill "$L"
check "killed process is gone" bash -c "! kill -0 ${LP:-0} 2>/dev/null || [ \"\$(sed -n 's/^State:[[:space:]]*\\(.\\).*/\\1/p' /proc/${LP:-0}/status)\" = Z ]"
check "pid of a killed node is -1" test "$(dbx pid "$L")" = -1
check "killed node is unhealthy" bash -c "! '$DBX' ${O[*]@Q} healthy $L 2>/dev/null"
newleader() { local p; p=$(dbx primary) && [ -n "$p" ] && [ "$p" != "$L" ]; }
check "the survivors elect a new leader" wait_for 10 newleader
check "killing a dead node again is fine" dbx kill "$L"
OUT=$("$DBX" "${O[@]}" pause "$L" 2>&1)
check "pausing a dead node: clear error" grep -qF "$L: cannot pause etcd: etcd is not running" <<<"$OUT"
V2="after-kill-$$"
check "writes continue on the survivors" ectl "$SU" put fl-key2 "$V2"
check "start $L again" dbx start "$L"
check "$L rejoins and becomes healthy" dbx wait-healthy "$L" 20
LU=$(url "$L")
check "$L serves data written before and during its death" \
	test "$(ectl "$LU" get fl-key --print-value-only 2>/dev/null)$(ectl "$LU" get fl-key2 --print-value-only 2>/dev/null)" = "$V$V2"
NP=$(dbx pid "$L")
check "the restarted etcd has a new pid" test -n "$NP" -a "$NP" != "$LP" -a "${NP:-0}" -gt 0

P3=$(dbx pid n3)
check "pause n3 (SIGSTOP)" dbx pause n3
check "paused process is stopped" test "$(state_of "${P3:-0}")" = T
check "resume n3 (SIGCONT)" dbx resume n3
check "resumed process runs and is healthy" bash -c "[ \"\$(sed -n 's/^State:[[:space:]]*\\(.\\).*/\\1/p' /proc/${P3:-0}/status)\" != T ] && '$DBX' ${O[*]@Q} wait-healthy n3 10 >/dev/null"

mkdir -p "$D/logs/n1"
check "logs downloads etcd.log" dbx logs n1 "$D/logs/n1"
check "the log is etcd's" grep -q '"etcd-version":"3\.' "$D/logs/n1/etcd.log"

PIDS=$(for n in n1 n2 n3; do dbx pid $n; done)
check "teardown on all nodes" dbx teardown
gone() { local p; for p in $PIDS; do is_etcd_pid "$p" && [ "$(state_of "$p")" != Z ] && return 1; done; return 0; }
check "no etcd process left" gone
check "teardown is idempotent" dbx teardown
if [ "$MODE" = loopback ]; then
	check "data dirs wiped" test ! -e "$WB/n1/etcd.data" -a ! -e "$WB/n2/etcd.data"
fi
OUT=$("$DBX" "${O[@]}" start n2 2>&1)
check "start after teardown: clear error" grep -qF "n2: cannot start etcd: no etcd data" <<<"$OUT"

# A node without etcd: an sshd in a private mount namespace where
# /usr/bin/etcd is covered by a non-executable empty file.
NPORT=$(free_port 2399)
sshd_config 127.0.0.1 "$NPORT" >"$D/sshd_noetcd_config"
: >"$D/not-etcd"
chmod 644 "$D/not-etcd"
unshare -m --propagation private sh -c \
	"mount --bind '$D/not-etcd' \"\$(command -v etcd)\" && exec /usr/sbin/sshd -D -f '$D/sshd_noetcd_config' -E '$D/sshd_noetcd.log'" &
NOETCD_SSHD=$!
on_exit "kill $NOETCD_SSHD"
wait_for 5 bash -c "! ss -ltnH 'sport = :$NPORT' | grep -q . && exit 1 || exit 0"
known_host 127.0.0.1 "$NPORT" >"$D/known_hosts_noetcd"
OUT=$("$DBX" --hosts 127.0.0.1 --port "$NPORT" --key "$D/client_key" --known-hosts "$D/known_hosts_noetcd" \
	--workdir-base "$D/noetcd" setup 2>&1)
rc=$?
check "node without etcd: setup fails" test "$rc" -ne 0
check "node without etcd: error names node and package" \
	grep -qxF "n1: etcd not found (install the Debian package etcd-server)" <<<"$OUT"

done_testing
