#!/usr/bin/env bash
# examples/demo-postgres.sh - what `make demo-postgres` (or `make demo
# DB=postgres`) runs: PostgreSQL's isolation ladder in one command.
#
#  1. brings up a 3-node local cluster (network namespaces on this machine;
#     reused if it is already up): PostgreSQL 15, a primary on n1 and two
#     streaming replicas,
#  2. runs the list-append workload (transactions of appends and reads,
#     judged by the elle checker against strict serializability) three
#     times, with partitions and kills of the primary, at
#       serializable     expect VALID: no anomaly,
#       repeatable-read  expect INVALID: G2-item (write skew; PostgreSQL's
#                        repeatable read is snapshot isolation),
#       read-committed   expect INVALID: G-single, G2-item, lost-update,
#                        but never G0 or G1 (no dirty writes or reads),
#  3. prints the three verdicts, the anomalies each run showed and the report
#     paths, and tears the cluster down if the demo brought it up
#     (KEEP_CLUSTER=1 leaves it running).
#
# Knobs (environment): DEMO_TIME (seconds per run, default 30), DEMO_SEED,
# DEMO_STORE (default ./store), DEMO_CLUSTER (default demo-postgres),
# DEMO_SUBNET (a /24 for the cluster; default: the first free one),
# DEMO_NEMESIS (default partition,kill), KEEP_CLUSTER=1.
set -u
cd "$(dirname "$0")/.." || exit 255
FAULTLINE=${FAULTLINE:-$PWD/faultline}
CLUSTER=${DEMO_CLUSTER:-demo-postgres}
TIME=${DEMO_TIME:-30}
SEED=${DEMO_SEED:-$(date +%s)}
STORE=${DEMO_STORE:-$PWD/store}
NEMESIS=${DEMO_NEMESIS:-partition,kill}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
verdict_word() {
	case $1 in 0) echo VALID ;; 1) echo INVALID ;; 2) echo UNKNOWN ;; 254) echo "BAD CONFIG" ;; *) echo "ERROR ($1)" ;; esac
}

if [ "$(id -u)" -ne 0 ]; then
	echo "demo-postgres: the local cluster is built from network namespaces: run as root" >&2
	exit 254
fi
for c in jq; do
	command -v $c >/dev/null || { echo "demo-postgres: $c is missing (make deps)" >&2; exit 254; }
done

created=0
if "$FAULTLINE" cluster list 2>/dev/null | awk -v c="$CLUSTER" '$1 == c && $2 == "up" {f=1} END {exit !f}'; then
	say "Reusing the local cluster '$CLUSTER' that is already up"
else
	say "Bringing up a 3-node cluster '$CLUSTER' (network namespaces n1..n3)"
	if ! "$FAULTLINE" cluster up --name "$CLUSTER" --nodes 3 --db none ${DEMO_SUBNET:+--subnet "$DEMO_SUBNET"}; then
		echo "demo-postgres: cluster up failed; '$FAULTLINE cluster down --name $CLUSTER' cleans up" >&2
		exit 255
	fi
	created=1
fi
TMP=$(mktemp -d)
cleanup() {
	rm -rf "$TMP"
	if [ "$created" -eq 1 ] && [ -z "${KEEP_CLUSTER:-}" ]; then
		say "Tearing the cluster down (KEEP_CLUSTER=1 keeps it)"
		"$FAULTLINE" cluster down --name "$CLUSTER"
	elif [ "$created" -eq 1 ]; then
		echo "The cluster is still up; remove it with: $FAULTLINE cluster down --name $CLUSTER"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One run at one isolation level (db_opts.isolation lives in the config).
run_level() { # level
	local level=$1 cfg="$TMP/$1.json"
	cat >"$cfg" <<JSON
{"name": "demo-postgres-$level", "db": "postgres", "workload": "append",
 "cluster": "$CLUSTER", "concurrency": "2n", "time_limit": $TIME, "seed": $SEED,
 "nemesis": $(jq -cn --arg n "$NEMESIS" '$n | split(",")'), "nemesis_interval": 8,
 "nemesis_opts": {"partition": {"grudges": ["primaries"]}, "kill": {"targets": ["primaries"]}},
 "recovery_time": 5, "store": "$STORE",
 "db_opts": {"isolation": "$level"}}
JSON
	"$FAULTLINE" run "$cfg"
	local rc=$?
	LAST_RUN=$(readlink -f "$STORE/latest")
	return $rc
}

declare -A RC RUN
n=0
for level in serializable repeatable-read read-committed; do
	n=$((n + 1))
	say "Run $n/3: append at $level, partitions + kills of the primary (${TIME}s, seed $SEED)"
	run_level "$level"
	RC[$level]=$?
	RUN[$level]=$LAST_RUN
done

say "Results: the isolation ladder (checked against strict serializability)"
for level in serializable repeatable-read read-committed; do
	res="${RUN[$level]}/results.json"
	found=$(jq -r '[.checkers.elle.counts // {} | to_entries[] | "\(.key) \(.value)"] | join(", ")' "$res" 2>/dev/null)
	not=$(jq -r '.checkers.elle.not // [] | join(", ")' "$res" 2>/dev/null)
	printf '  %-16s %-9s %s\n' "$level" "$(verdict_word "${RC[$level]}")" "${RUN[$level]}/report.html"
	printf '  %-16s %-9s anomalies: %s\n' "" "" "${found:-none}"
	[ -n "$not" ] && printf '  %-16s %-9s not: %s\n' "" "" "$not"
done
echo
echo "  All runs: $STORE/index.html"
echo "  serializable should be VALID; repeatable-read (snapshot isolation) shows"
echo "  G2-item (write skew); read-committed shows G-single / G2-item / lost-update"
echo "  and never G0 or G1. Each report explains every cycle it found."
ok=1
for level in serializable repeatable-read read-committed; do [ "${RC[$level]}" -le 2 ] || ok=0; done
[ $ok -eq 1 ]
