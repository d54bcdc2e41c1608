#!/usr/bin/env bash
# examples/demo-redis.sh - what `make demo DB=redis` runs: Redis Sentinel
# losing writes it acknowledged, in about a minute and a half (setup, 45 s
# of adds, 10 s of recovery, the check).
#
#  1. brings up a 5-node local cluster (network namespaces n1..n5; reused
#     if it is already up) with redis-server and redis-sentinel on every
#     node: n1 the primary, n2..n5 its replicas, five sentinels, quorum 3;
#  2. runs the set workload (examples/redis-set.json: 10 clients adding
#     unique elements, each asking its node's sentinel for the primary
#     before every add) while a partition cuts the primary off together
#     with one replica ({n1,n2} | {n3,n4,n5}) for 20 s: the majority's
#     sentinels promote a replica, the old primary keeps acknowledging the
#     adds of the clients whose sentinel still names it, and when the
#     partition heals it is demoted and resynchronised - those adds are
#     gone;
#  3. prints the verdict of the set-full checker, how many acknowledged adds
#     were lost and when, and the report's path; tears the cluster down
#     again if the demo brought it up (KEEP_CLUSTER=1 leaves it running).
#
# Knobs (environment): DEMO_SEED, DEMO_STORE (default ./store),
# DEMO_CLUSTER (default redis-demo), DEMO_SUBNET (a free /24 for a new
# cluster; default: one picked by `cluster up`), DEMO_DB_OPTS (JSON merged
# into db_opts, e.g. '{"min_replicas_to_write": 1}' or
# '{"wait": {"replicas": 2}}' to see what a setting changes), KEEP_CLUSTER=1.
set -u
cd "$(dirname "$0")/.." || exit 255
FAULTLINE=${FAULTLINE:-$PWD/faultline}
CLUSTER=${DEMO_CLUSTER:-redis-demo}
SEED=${DEMO_SEED:-$(date +%s)}
STORE=${DEMO_STORE:-$PWD/store}
DB_OPTS=${DEMO_DB_OPTS:-'{}'}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
verdict_word() {
	case $1 in 0) echo VALID ;; 1) echo INVALID ;; 2) echo UNKNOWN ;; 254) echo "BAD CONFIG" ;; *) echo "ERROR ($1)" ;; esac
}

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: the local cluster is built from network namespaces: run as root (sudo make demo DB=redis)" >&2
	exit 254
fi
for p in redis-server redis-sentinel jq; do
	command -v $p >/dev/null || { echo "demo: $p is not installed (make deps)" >&2; exit 254; }
done

created=0
if "$FAULTLINE" cluster list 2>/dev/null | awk -v c="$CLUSTER" '$1 == c && $2 == "up" {f=1} END {exit !f}'; then
	say "Reusing the local cluster '$CLUSTER' that is already up"
else
	say "Bringing up a 5-node Redis + Sentinel cluster '$CLUSTER' (network namespaces n1..n5)"
	if ! "$FAULTLINE" cluster up --name "$CLUSTER" --nodes 5 --db redis ${DEMO_SUBNET:+--subnet "$DEMO_SUBNET"}; then
		echo "demo: cluster up failed; '$FAULTLINE cluster down --name $CLUSTER' cleans up" >&2
		exit 255
	fi
	created=1
fi
cleanup() {
	if [ "$created" -eq 1 ] && [ -z "${KEEP_CLUSTER:-}" ]; then
		say "Tearing the cluster down (KEEP_CLUSTER=1 keeps it)"
		"$FAULTLINE" cluster down --name "$CLUSTER"
	elif [ "$created" -eq 1 ]; then
		echo "The cluster is still up; remove it with: $FAULTLINE cluster down --name $CLUSTER"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

CONFIG=$(mktemp)
trap 'rm -f "$CONFIG"; cleanup' EXIT
if ! jq --argjson o "$DB_OPTS" '.db_opts += $o | .name = "demo-redis-set"' examples/redis-set.json >"$CONFIG"; then
	echo "demo: DEMO_DB_OPTS is not a JSON object: $DB_OPTS" >&2
	exit 254
fi

say "set workload, the primary and one replica cut off for 20 s (seed $SEED, db_opts $(jq -c .db_opts "$CONFIG"))"
"$FAULTLINE" run "$CONFIG" --cluster "$CLUSTER" --seed "$SEED" --store "$STORE"
rc=$?
RUN=$(readlink -f "$STORE/latest")

say "Result: $(verdict_word $rc)"
if [ -f "$RUN/results.json" ] && jq -e '.checkers["set-full"]' "$RUN/results.json" >/dev/null 2>&1; then
	jq -r --slurpfile h <(grep '"process":"nemesis"' "$RUN/history.jsonl") '
		.checkers["set-full"] as $s
		| ($h | map(select(.type != "invoke")) | map("\(.f) at \(.time / 1e8 | floor / 10) s")
		   | join(", ")) as $faults
		| "  acknowledged adds: \($s.acknowledged_count)",
		  "  lost (acknowledged or read, then missing from every later read): \($s.lost_count)",
		  "  faults: \($faults)"' "$RUN/results.json"
	# When the lost adds were acknowledged, and by which primary (set-full
	# lists at most the first 1000 lost elements; lost_count is exact).
	lost=$(jq -c '.checkers["set-full"].lost' "$RUN/results.json")
	n=$(jq '.checkers["set-full"].lost_count' "$RUN/results.json")
	grep '"f":"add"' "$RUN/history.jsonl" | grep '"type":"ok"' |
		jq -rs --argjson lost "$lost" --argjson n "$n" '
			map(select(.value as $v | $lost | index($v))) | select(length > 0)
			| (if $n > length then "the first \(length) " else "" end) as $which
			| "  \($which)lost adds were acknowledged between \(map(.time) | min / 1e8 | floor / 10) s and \(map(.time) | max / 1e8 | floor / 10) s, by \(map(.primary) | unique | join(", "))"'
fi
echo
echo "  Report: $RUN/report.html"
echo "  All runs: $STORE/index.html"
if [ "$rc" -eq 1 ]; then
	echo "  Sentinel promoted a replica on the majority side while the old primary kept"
	echo "  acknowledging adds; on heal it was demoted and resynchronised from the new"
	echo "  primary, discarding them. Redis's docs say as much: Sentinel + asynchronous"
	echo "  replication does not guarantee acknowledged writes survive a failover."
fi
[ "$rc" -le 2 ]
