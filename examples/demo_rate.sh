#!/usr/bin/env bash
# examples/demo_rate.sh - `make demo-rate`: how reliably the demo's
# serializable run finds the stale read. Runs the demo's serializable test
# (same flags as examples/demo.sh) for RUNS seeds (default 10, seeds 1..RUNS)
# on the local cluster `default` and prints how many came out invalid, plus
# the linearizable run's verdict for the same seeds when BOTH=1.
# Knobs: RUNS, DEMO_TIME (default 60), DEMO_NEMESIS, DEMO_INTERVAL, DEMO_CONCURRENCY.
set -u
cd "$(dirname "$0")/.." || exit 255
FAULTLINE=${FAULTLINE:-$PWD/faultline}
RUNS=${RUNS:-10}
TIME=${DEMO_TIME:-60}
NEMESIS=${DEMO_NEMESIS:-partition,kill}
INTERVAL=${DEMO_INTERVAL:-6}
CONCURRENCY=${DEMO_CONCURRENCY:-2n}
STORE=${DEMO_STORE:-$PWD/store-demo-rate}
CLUSTER=default
[ "$(id -u)" -eq 0 ] || { echo "demo-rate: run as root" >&2; exit 254; }
created=0
if ! "$FAULTLINE" cluster list | awk -v c=$CLUSTER '$1 == c && $2 == "up" {f=1} END {exit !f}'; then
	"$FAULTLINE" cluster up --name $CLUSTER --nodes 5 || exit 255
	created=1
fi
[ $created = 1 ] && trap '"$FAULTLINE" cluster down --name $CLUSTER >/dev/null' EXIT
invalid=0 lin_valid=0
for seed in $(seq 1 "$RUNS"); do
	"$FAULTLINE" run --cluster $CLUSTER --name demo-rate-serializable --workload register \
		--nemesis "$NEMESIS" --nemesis-interval "$INTERVAL" --concurrency "$CONCURRENCY" \
		--time-limit "$TIME" --seed "$seed" --store "$STORE" --read-mode serializable >/dev/null 2>&1
	rc=$?
	[ $rc = 1 ] && invalid=$((invalid + 1))
	line="seed $seed: serializable exit $rc"
	if [ "${BOTH:-0}" = 1 ]; then
		"$FAULTLINE" run --cluster $CLUSTER --name demo-rate-linearizable --workload register \
			--nemesis "$NEMESIS" --nemesis-interval "$INTERVAL" --concurrency "$CONCURRENCY" \
			--time-limit "$TIME" --seed "$seed" --store "$STORE" >/dev/null 2>&1
		lrc=$?
		[ $lrc = 0 ] && lin_valid=$((lin_valid + 1))
		line="$line, linearizable exit $lrc"
	fi
	echo "$line"
done
echo "BENCH demo_serializable_invalid_rate: $invalid/$RUNS runs invalid (goal >= 9/10)"
[ "${BOTH:-0}" = 1 ] && echo "BENCH demo_linearizable_valid_rate: $lin_valid/$RUNS runs valid"
exit 0
