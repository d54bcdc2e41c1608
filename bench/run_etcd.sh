#!/usr/bin/env bash
# bench/run_etcd.sh - register workload throughput through the whole stack
# (workers, etcd v3 gateway client over libcurl, history writer) on a real
# 5-node etcd cluster: the local cluster t-bench (subnet 10.213.140.0/24,
# removed on exit), or, in a build without `faultline cluster`, five
# sshd+etcd nodes on 127.0.0.1-5. Prints "BENCH register_etcd_ops_per_s: N"
# (completed ops per second of the main phase).
set -u
cd "$(dirname "$0")/.." || exit 1
FAULTLINE=${FAULTLINE:-$PWD/faultline}
SECS=${BENCH_SECONDS:-20}
if [ "$(id -u)" -ne 0 ] || ! command -v etcd >/dev/null || ! command -v jq >/dev/null; then
	echo "BENCH register_etcd_ops_per_s: skipped (needs root, etcd and jq)"; exit 0
fi
NAME=t-bench
D=$(mktemp -d /tmp/faultline-bench-etcd-XXXXXX)
chmod 755 "$D"
cleanup() {
	"$FAULTLINE" cluster down --name "$NAME" >/dev/null 2>&1
	[ -s "$D/sshd.pid" ] && kill "$(cat "$D/sshd.pid")"
	rm -rf "$D"
}
trap cleanup EXIT
"$FAULTLINE" cluster down --name "$NAME" >/dev/null 2>&1
if "$FAULTLINE" cluster up --nodes 5 --name "$NAME" --subnet 10.213.140.0/24 >"$D/up.log" 2>&1; then
	TARGET=(--cluster "$NAME") WHERE="local cluster $NAME"
else
	ssh-keygen -q -t ed25519 -N '' -f "$D/host_key"; ssh-keygen -q -t ed25519 -N '' -f "$D/client_key"
	cp "$D/client_key.pub" "$D/authorized_keys"; mkdir -p /run/sshd
	PORT=2439; while ss -ltnH "sport = :$PORT" | grep -q .; do PORT=$((PORT + 1)); done
	{ for i in 1 2 3 4 5; do echo "ListenAddress 127.0.0.$i"; done
	  printf '%s\n' "Port $PORT" "HostKey $D/host_key" "AuthorizedKeysFile $D/authorized_keys" \
		"PermitRootLogin prohibit-password" "PasswordAuthentication no" "KbdInteractiveAuthentication no" \
		"UsePAM no" "StrictModes no" "SetEnv SHLVL=1" "Subsystem sftp internal-sftp" "PidFile $D/sshd.pid"
	} >"$D/sshd_config"
	for i in 1 2 3 4 5; do echo "[127.0.0.$i]:$PORT $(cut -d' ' -f1,2 "$D/host_key.pub")"; done >"$D/known_hosts"
	/usr/sbin/sshd -f "$D/sshd_config" -E "$D/sshd.log" || { echo "BENCH register_etcd_ops_per_s: failed (sshd)"; exit 1; }
	for _ in $(seq 20); do [ -s "$D/sshd.pid" ] && break; sleep 0.1; done
	jq -n --arg d "$D" --argjson port "$PORT" '{nodes: [range(1; 6) | {name: "n\(.)",
		host: "127.0.0.\(.)", ssh_port: $port, workdir: "\($d)/w/n\(.)"}],
		ssh_private_key: "\($d)/client_key", known_hosts: "\($d)/known_hosts"}' >"$D/nodes.json"
	TARGET=("$D/nodes.json") WHERE="127.0.0.1-5, no local cluster in this build"
fi
"$FAULTLINE" run "${TARGET[@]}" --store "$D/store" --workload register --time-limit "$SECS" \
	--concurrency 2n --seed 1 >"$D/run.out" 2>"$D/run.err"
rc=$?
DIR=$(tail -1 "$D/run.out")
if [ ! -s "$DIR/history.jsonl" ]; then
	echo "BENCH register_etcd_ops_per_s: failed (exit $rc: $(tail -1 "$D/run.err"))"; exit 1
fi
jq -rs --argjson secs "$SECS" --arg rc "$rc" --arg where "$WHERE" '
  map(select(.type != "invoke" and .process != "nemesis")) as $c |
  "BENCH register_etcd_ops_per_s: \(($c | length) / $secs | floor) (5 nodes: \($where); concurrency 10, linearizable reads)",
  "# \($c | length) ops: \($c | map(select(.type == "ok")) | length) ok, \($c | map(select(.type == "fail")) | length) fail, \($c | map(select(.type == "info")) | length) info; verdict exit \($rc)"' \
	"$DIR/history.jsonl"
