#!/usr/bin/env bash
# examples/demo-disk.sh - what `make demo-disk` runs: which settings make a
# database lose writes it acknowledged when its node loses power. Each run
# is the set workload for 20 s while the disk fault's lose-unfsynced hits
# the primary every 5 s (kill -9, then every write it had not fsynced is
# dropped, as in a power cut, then it starts again), on 3-node local
# clusters:
#
#   Redis (appendonly yes, Sentinel's failover out of the way):
#     appendfsync always    -> valid: every acknowledged add was fsynced
#     appendfsync everysec  -> acknowledged adds of the last second lost
#     appendfsync no        -> everything since the start lost
#   PostgreSQL (primary + 2 streaming replicas):
#     defaults (fsync on, synchronous_commit on) -> valid
#     synchronous_commit off -> commits of the last few hundred ms lost
#     fsync off              -> PostgreSQL does not come back (its lock file
#                               was never fsynced: "lock file is empty")
#
# Prints a table: the verdict of the set-full checker and how many
# acknowledged adds were lost, with the run directories. About 8 minutes.
# Knobs: DEMO_STORE (default ./store), KEEP_CLUSTER=1, DEMO_ONLY=redis|postgres,
# DEMO_CLUSTER_REDIS / DEMO_CLUSTER_PG (cluster names, default disk-demo-redis
# and disk-demo-pg), DEMO_SUBNET_REDIS / DEMO_SUBNET_PG (free /24s for new
# clusters; default: picked by `cluster up`).
set -u
cd "$(dirname "$0")/.." || exit 255
FAULTLINE=${FAULTLINE:-$PWD/faultline}
STORE=${DEMO_STORE:-$PWD/store}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
verdict_word() {
	case $1 in 0) echo VALID ;; 1) echo INVALID ;; 2) echo UNKNOWN ;; 254) echo "BAD CONFIG" ;; *) echo "ERROR ($1)" ;; esac
}
if [ "$(id -u)" -ne 0 ]; then
	echo "demo: the local cluster is built from network namespaces: run as root" >&2
	exit 254
fi
[ -e /dev/fuse ] || { echo "demo: no /dev/fuse (the disk fault is a FUSE filesystem)" >&2; exit 254; }
command -v jq >/dev/null || { echo "demo: jq is not installed (make deps)" >&2; exit 254; }

CREATED=()
cleanup() {
	local c
	for c in "${CREATED[@]}"; do
		if [ -z "${KEEP_CLUSTER:-}" ]; then "$FAULTLINE" cluster down --name "$c" >/dev/null
		else echo "cluster $c is still up: $FAULTLINE cluster down --name $c"; fi
	done
	rm -f "${CONFIG:-}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
CONFIG=$(mktemp)
ROWS=()

# cluster NAME DB SUBNET: bring it up unless it is
cluster() {
	if "$FAULTLINE" cluster list 2>/dev/null | awk -v c="$1" '$1 == c && $2 == "up" {f=1} END {exit !f}'; then
		return 0
	fi
	say "Bringing up a 3-node $2 cluster '$1'"
	"$FAULTLINE" cluster up --name "$1" --nodes 3 --db "$2" ${3:+--subnet "$3"} || exit 255
	CREATED+=("$1")
}
RC=${DEMO_CLUSTER_REDIS:-disk-demo-redis} PC=${DEMO_CLUSTER_PG:-disk-demo-pg}

# run CLUSTER EXAMPLE LABEL DB_OPTS
run() {
	jq --argjson o "$4" '.db_opts += $o' "examples/$2" >"$CONFIG" || exit 254
	say "$3: $(jq -c .db_opts "$CONFIG")"
	"$FAULTLINE" run "$CONFIG" --cluster "$1" --store "$STORE" >/dev/null
	local rc=$? dir lost acked
	dir=$(readlink -f "$STORE/latest")
	lost=$(jq -r '.checkers["set-full"].lost_count // "-"' "$dir/results.json" 2>/dev/null)
	acked=$(jq -r '.checkers["set-full"].acknowledged_count // "-"' "$dir/results.json" 2>/dev/null)
	ROWS+=("$(printf '%-44s %-10s %8s of %-8s %s' "$3" "$(verdict_word $rc)" "$lost" "$acked" "$dir")")
	if [ "$lost" = - ]; then
		# No verdict: say why, from the fault that could not restart it.
		ROWS+=("    it did not restart: $(jq -r 'select(.process == "nemesis" and .error != null) | .error' "$dir/history.jsonl" 2>/dev/null |
			grep -o 'FATAL:.\{0,200\}' | head -1 | sed 's/ *[0-9]\{4\}-[0-9][0-9]-[0-9][0-9] .*//; s/  */ /g')")
	fi
}

case ${DEMO_ONLY:-all} in all | redis)
	cluster "$RC" redis "${DEMO_SUBNET_REDIS:-}"
	for fs in always everysec no; do
		run "$RC" disk-redis-set.json "redis appendfsync $fs" "{\"appendfsync\": \"$fs\"}"
	done
esac
case ${DEMO_ONLY:-all} in all | postgres)
	cluster "$PC" postgres "${DEMO_SUBNET_PG:-}"
	run "$PC" disk-postgres-set.json "postgres defaults" '{"synchronous_commit": "on"}'
	run "$PC" disk-postgres-set.json "postgres synchronous_commit off" '{"synchronous_commit": "off"}'
	# Last: a postgres that cannot restart leaves faultline's kill marker
	# on its node (`faultline heal` says so).
	run "$PC" disk-postgres-set.json "postgres fsync off" '{"synchronous_commit": "on", "fsync": false}'
esac

say "kill -9 + lose-unfsynced of the primary every 5 s: acknowledged adds lost"
printf '%-44s %-10s %8s    %-8s %s\n' "settings" "verdict" "lost" "acked" "run"
printf '%s\n' "${ROWS[@]}"
