#!/usr/bin/env bash
# bench/nemesis.sh - how fast faults go on and come off: p50/p99 time to
# apply and to heal a majority partition on 5 nodes (iptables-restore batch
# per node, all nodes in parallel over the persistent SSH sessions), plus
# the userspace packet fault (NFQUEUE rules + packetd start/stop) and a
# full heal of every kind, on a 5-node local cluster t-nbench
# (10.213.121.0/24). Times are measured in-process by the nemx driver around
# the nemesis calls, from the first command sent to the last node's answer.
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
FAULTLINE=${FAULTLINE:-$PWD/faultline}
NEMX=$PWD/$BUILD/tests/tools/nemx
ROUNDS=${BENCH_NEMESIS_ROUNDS:-100}
if [ "$(id -u)" -ne 0 ]; then echo "BENCH nemesis_partition_majority_5_nodes: skipped (needs root)"; exit 0; fi
[ -x "$NEMX" ] || { echo "bench/nemesis.sh: missing $NEMX (make unit)" >&2; exit 1; }
export FAULTLINE_HELPER_DIR
FAULTLINE_HELPER_DIR=$(dirname "$FAULTLINE")
C=t-nbench
D=$(mktemp -d /tmp/faultline-bench-nemesis.XXXXXX)
trap '"$FAULTLINE" cluster down --name $C >/dev/null 2>&1; rm -rf "$D"' EXIT
"$FAULTLINE" cluster down --name $C >/dev/null 2>&1
if ! "$FAULTLINE" cluster up --nodes 5 --name $C --subnet 10.213.121.0/24 --db none >"$D/up.log" 2>&1; then
	echo "BENCH nemesis_partition_majority_5_nodes: skipped (cluster up failed: $(tail -1 "$D/up.log"))"
	exit 0
fi
field() { sed -n "s/.*$1 \([0-9.]*\).*/\1/p"; }

OUT=$("$NEMX" --cluster $C bench partition '{"grudge":"majority"}' "$ROUNDS" 2>"$D/err")
if [ -z "$OUT" ]; then echo "bench/nemesis.sh: partition bench failed: $(tail -2 "$D/err")" >&2; exit 1; fi
echo "BENCH nemesis_partition_majority_5_nodes_apply: p50=$(field start_p50 <<<"$OUT") ms p99=$(field start_p99 <<<"$OUT") ms (goal p50 <= 50 ms) [$ROUNDS rounds]"
echo "BENCH nemesis_partition_majority_5_nodes_heal: p50=$(field stop_p50 <<<"$OUT") ms p99=$(field stop_p99 <<<"$OUT") ms (goal p50 <= 50 ms) [$ROUNDS rounds]"

PR=$((ROUNDS / 5 > 5 ? ROUNDS / 5 : 5))
OUT=$("$NEMX" --cluster $C bench packet '{"delay_ms":50,"loss":0.1,"targets":"all"}' "$PR" 2>"$D/err")
if [ -n "$OUT" ]; then
	echo "BENCH nemesis_packet_nfqueue_5_nodes_apply: p50=$(field start_p50 <<<"$OUT") ms p99=$(field start_p99 <<<"$OUT") ms (goal none; packetd start + rules) [$PR rounds]"
	echo "BENCH nemesis_packet_nfqueue_5_nodes_heal: p50=$(field stop_p50 <<<"$OUT") ms p99=$(field stop_p99 <<<"$OUT") ms (goal none; packetd stop + flush) [$PR rounds]"
fi

# A full heal (every kind, then the chain layout) on a cluster with nothing
# to heal: what `faultline heal` costs at the least.
for i in $(seq 10); do
	s=$(date +%s%N); "$FAULTLINE" heal --cluster $C >/dev/null 2>&1; e=$(date +%s%N)
	echo $(((e - s) / 1000000))
done | sort -n >"$D/heal"
echo "BENCH nemesis_heal_all_5_nodes: p50=$(sed -n 5p "$D/heal") ms max=$(tail -1 "$D/heal") ms (goal none; whole faultline heal incl. SSH connect) [10 runs]"
