#!/usr/bin/env bash
# bench/ssh.sh - latency of running `true` on 5 nodes in parallel over the
# SSH layer's persistent sessions (ssh_exec_all), p50/p99 over many rounds.
#
# Nodes: a 5-node local cluster (faultline cluster up, name t-bench-ssh)
# when `faultline cluster` works, else 5 independent sessions to a test
# sshd on 127.0.0.1 (same code path: five sessions, five server processes).
# For scale it also times a one-shot OpenSSH `ssh host true`.
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
FAULTLINE=${FAULTLINE:-$PWD/faultline}
SSHX=$PWD/$BUILD/tests/tools/sshx
ROUNDS=${BENCH_SSH_ROUNDS:-200}
if [ "$(id -u)" -ne 0 ]; then echo "BENCH ssh_exec_all_true_5_nodes: skipped (needs root)"; exit 0; fi
[ -x "$SSHX" ] || { echo "bench/ssh.sh: missing $SSHX (make unit)" >&2; exit 1; }

field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" | head -1; }
fmt() { printf '%.1f' "${1:-0}"; }
D=$(mktemp -d /tmp/faultline-bench-ssh.XXXXXX)
cleanup=()
run_cleanup() { local c; for c in "${cleanup[@]}"; do eval "$c" >/dev/null 2>&1; done; rm -rf "$D"; }
trap run_cleanup EXIT

CLUSTER=t-bench-ssh
LOOP_NAME=ssh_exec_all_true_5_sessions_loopback
if "$FAULTLINE" cluster up --nodes 5 --name "$CLUSTER" --subnet 10.213.190.0/24 >"$D/up.log" 2>&1; then
	cleanup+=("'$FAULTLINE' cluster down --name $CLUSTER")
	OUT=$("$SSHX" --cluster "$CLUSTER" connect bench-all true "$ROUNDS" | tail -1)
	P50=$(field p50_ms <<<"$OUT") P99=$(field p99_ms <<<"$OUT") F=$(field failures <<<"$OUT")
	echo "BENCH ssh_exec_all_true_5_nodes: p50=$(fmt "$P50") ms p99=$(fmt "$P99") ms (goal p50 <= 20 ms) [local cluster: 5 namespaces, own sshd each; $ROUNDS rounds, failures=$F]"
	"$FAULTLINE" cluster down --name "$CLUSTER" >/dev/null 2>&1
	cleanup=()
else
	echo "# no local cluster ($(tail -1 "$D/up.log")): 5 sessions to one sshd on 127.0.0.1"
	LOOP_NAME=ssh_exec_all_true_5_nodes
fi

# Test sshd on 127.0.0.1 (see tests/integration/ssh.sh for the rationale of
# SetEnv SHLVL=1: root's ~/.bashrc here runs pyenv init on every command).
port_free() { ! ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }
PORT=2298
while ! port_free $PORT; do PORT=$((PORT + 1)); done
ssh-keygen -q -t ed25519 -N '' -f "$D/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$D/client_key"
cp "$D/client_key.pub" "$D/authorized_keys"
cat >"$D/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $PORT
HostKey $D/host_key
PidFile $D/sshd.pid
AuthorizedKeysFile $D/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
UsePAM no
StrictModes no
SetEnv SHLVL=1
EOF
echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$D/host_key.pub")" >"$D/known_hosts"
mkdir -p /run/sshd
/usr/sbin/sshd -f "$D/sshd_config" -E "$D/sshd.log" || { echo "bench/ssh.sh: sshd failed" >&2; exit 1; }
for _ in $(seq 20); do [ -s "$D/sshd.pid" ] && break; sleep 0.1; done
cleanup+=("kill \$(cat '$D/sshd.pid')")
K=(--port "$PORT" --key "$D/client_key" --known-hosts "$D/known_hosts")

OUT=$("$SSHX" --nodes 5 "${K[@]}" connect bench-all true "$ROUNDS" | tail -1)
P50=$(field p50_ms <<<"$OUT") P99=$(field p99_ms <<<"$OUT") F=$(field failures <<<"$OUT")
echo "BENCH $LOOP_NAME: p50=$(fmt "$P50") ms p99=$(fmt "$P99") ms (goal p50 <= 20 ms) [5 sessions to one sshd on 127.0.0.1, $ROUNDS rounds, failures=$F]"

OUT=$("$SSHX" --nodes 1 "${K[@]}" connect bench-all true "$ROUNDS" | tail -1)
echo "BENCH ssh_exec_true_1_node: p50=$(fmt "$(field p50_ms <<<"$OUT")") ms p99=$(fmt "$(field p99_ms <<<"$OUT")") ms"

# One-shot OpenSSH for comparison (new connection, key exchange, auth).
T=()
for _ in 1 2 3 4 5; do
	t0=$(date +%s%N)
	ssh -q -F /dev/null -i "$D/client_key" -p "$PORT" -o BatchMode=yes -o UserKnownHostsFile="$D/known_hosts" \
		-o GlobalKnownHostsFile=/dev/null root@127.0.0.1 true
	T+=($((($(date +%s%N) - t0) / 1000000)))
done
echo "BENCH openssh_one_shot_true: p50=$(printf '%s\n' "${T[@]}" | sort -n | sed -n 3p) ms (for comparison)"
echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
