#!/usr/bin/env bash
# bench/run_etcd.sh - register workload throughput through the whole stack
# (workers, etcd v3 gateway client over libcurl, history writer) on a real
# 5-node local etcd cluster: name t-bench, subnet 10.213.140.0/24, removed
# on exit. Prints "BENCH register_etcd_ops_per_s: N" (completed ops / s).
set -u
cd "$(dirname "$0")/.."
FAULTLINE=${FAULTLINE:-$PWD/faultline}
SECS=${BENCH_SECONDS:-20}
if [ "$(id -u)" -ne 0 ] || ! command -v etcd >/dev/null || ! command -v jq >/dev/null; then
	echo "BENCH register_etcd_ops_per_s: skipped (needs root, etcd and jq)"; exit 0
fi
NAME=t-bench
STORE=$(mktemp -d /tmp/faultline-bench-etcd-XXXXXX)
cleanup() { "$FAULTLINE" cluster down --name "$NAME" >/dev/null 2>&1; rm -rf "$STORE"; }
trap cleanup EXIT
"$FAULTLINE" cluster down --name "$NAME" >/dev/null 2>&1
if ! "$FAULTLINE" cluster up --nodes 5 --name "$NAME" --subnet 10.213.140.0/24 >"$STORE/up.log" 2>&1; then
	echo "BENCH register_etcd_ops_per_s: failed (cluster up: $(tail -1 "$STORE/up.log"))"; exit 1
fi
"$FAULTLINE" run --cluster "$NAME" --store "$STORE" --workload register --time-limit "$SECS" \
	--concurrency 2n --seed 1 >"$STORE/run.out" 2>"$STORE/run.err"
rc=$?
DIR=$(tail -1 "$STORE/run.out")
if [ ! -s "$DIR/history.jsonl" ]; then
	echo "BENCH register_etcd_ops_per_s: failed (exit $rc: $(tail -1 "$STORE/run.err"))"; exit 1
fi
jq -rs --argjson secs "$SECS" --arg rc "$rc" '
  map(select(.type != "invoke" and .process != "nemesis")) as $c |
  "BENCH register_etcd_ops_per_s: \(($c | length) / $secs | floor) (5 nodes, concurrency 10, linearizable reads)",
  "# \($c | length) ops: \($c | map(select(.type == "ok")) | length) ok, \($c | map(select(.type == "fail")) | length) fail, \($c | map(select(.type == "info")) | length) info; verdict exit \($rc)"' \
	"$DIR/history.jsonl"
