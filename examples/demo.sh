#!/usr/bin/env bash
# examples/demo.sh - what `make demo` runs: shows in a few minutes what
# faultline is for.
#
#  1. brings up a 5-node local etcd cluster named `default` (network
#     namespaces on this machine; reused if it is already up),
#  2. runs a register test with network partitions and process kills
#     (about a minute) with etcd's default linearizable reads: expect VALID,
#  3. runs the same test with --read-mode serializable, where etcd answers
#     reads from its local state even when the node is cut off from the
#     majority: expect INVALID, a stale read drawn in the report,
#  4. prints both verdicts and report paths, and tears the cluster down
#     again if the demo brought it up (KEEP_CLUSTER=1 leaves it running).
#
# Knobs (environment): DEMO_TIME (seconds per run, default 60), DEMO_SEED,
# DEMO_STORE (default ./store), KEEP_CLUSTER=1.
set -u
cd "$(dirname "$0")/.." || exit 255
FAULTLINE=${FAULTLINE:-$PWD/faultline}
CLUSTER=default
TIME=${DEMO_TIME:-60}
SEED=${DEMO_SEED:-$(date +%s)}
STORE=${DEMO_STORE:-$PWD/store}
# Partitions and kills every few seconds, so a one-minute run sees several
# of each; one worker per node (5n would be 5 per node), reads routed to
# every node, so a node on the minority side keeps serving reads.
NEMESIS=${DEMO_NEMESIS:-partition,kill}
INTERVAL=${DEMO_INTERVAL:-6}
CONCURRENCY=${DEMO_CONCURRENCY:-2n}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
verdict_word() {
	case $1 in 0) echo VALID ;; 1) echo INVALID ;; 2) echo UNKNOWN ;; 254) echo "BAD CONFIG" ;; *) echo "ERROR ($1)" ;; esac
}

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: the local cluster is built from network namespaces: run as root (sudo make demo)" >&2
	exit 254
fi
if ! "$FAULTLINE" cluster --help >/dev/null 2>&1; then
	echo "demo: this build has no 'faultline cluster' yet (see faultline --help)" >&2
	exit 255
fi

created=0
# Reuse a cluster that is up (its etcd may be stopped: every run sets it up).
if "$FAULTLINE" cluster list 2>/dev/null | awk -v c="$CLUSTER" '$1 == c && $2 == "up" {f=1} END {exit !f}'; then
	say "Reusing the local cluster '$CLUSTER' that is already up"
	"$FAULTLINE" cluster status --name "$CLUSTER"
else
	say "Bringing up a 5-node etcd cluster '$CLUSTER' (network namespaces n1..n5)"
	if ! "$FAULTLINE" cluster up --name "$CLUSTER" --nodes 5 --db etcd; then
		echo "demo: cluster up failed; '$FAULTLINE cluster down --name $CLUSTER' cleans up" >&2
		exit 255
	fi
	created=1
fi
cleanup() {
	if [ "$created" -eq 1 ] && [ -z "${KEEP_CLUSTER:-}" ]; then
		say "Tearing the cluster down (KEEP_CLUSTER=1 make demo keeps it)"
		"$FAULTLINE" cluster down --name "$CLUSTER"
	elif [ "$created" -eq 1 ]; then
		echo "The cluster is still up; remove it with: $FAULTLINE cluster down --name $CLUSTER"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! "$FAULTLINE" run --help >/dev/null 2>&1; then
	echo "demo: this build has no 'faultline run' yet; the cluster part works:" >&2
	"$FAULTLINE" cluster status --name "$CLUSTER"
	exit 255
fi

run_test() { # name, extra flags...
	local name=$1; shift
	"$FAULTLINE" run --cluster "$CLUSTER" --name "$name" --workload register \
		--nemesis "$NEMESIS" --nemesis-interval "$INTERVAL" --concurrency "$CONCURRENCY" \
		--time-limit "$TIME" --seed "$SEED" --store "$STORE" "$@"
	local rc=$?
	LAST_RUN=$(readlink -f "$STORE/latest")
	return $rc
}

say "Run 1/2: register, partitions + kills, linearizable reads (${TIME}s, seed $SEED)"
run_test demo-linearizable
rc1=$?
run1=$LAST_RUN
say "Run 2/2: the same with --read-mode serializable (${TIME}s, seed $SEED)"
run_test demo-serializable --read-mode serializable
rc2=$?
run2=$LAST_RUN

say "Results"
printf '  %-22s %-9s %s\n' "linearizable reads" "$(verdict_word $rc1)" "$run1/report.html"
printf '  %-22s %-9s %s\n' "serializable reads" "$(verdict_word $rc2)" "$run2/report.html"
echo
echo "  All runs: $STORE/index.html"
if [ "$rc2" -eq 1 ]; then
	echo "  The serializable run is invalid: a node cut off from the majority answered"
	echo "  a read with a value the cluster had already overwritten (a stale read)."
	echo "  Its report draws the ops that cannot be linearized under 'Why it is invalid'."
elif [ "$rc2" -eq 0 ]; then
	echo "  The serializable run happened to stay valid this time (no read hit a node"
	echo "  during a partition); run again or raise DEMO_TIME."
fi
echo "  Open a report in a browser, e.g.: xdg-open $run2/report.html"
# The demo succeeded if both runs ran and were judged.
[ "$rc1" -le 2 ] && [ "$rc2" -le 2 ]
