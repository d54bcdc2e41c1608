#!/usr/bin/env bash
# bench/adapter.sh - the register workload on the same 3-node local etcd
# cluster (h-ad9, subnet 10.213.239.0/24, removed on exit), through the
# built-in client and through examples/adapters/etcd_register.py (Python),
# same seed and concurrency, no faults: prints both throughputs. The
# difference is mostly the Python adapter's own time; what the adapter path
# costs faultline itself is bench_adapter's adapter_cost_us_per_op.
set -u
cd "$(dirname "$0")/.." || exit 1
FAULTLINE=${FAULTLINE:-$PWD/faultline}
SECS=${BENCH_SECONDS:-10}
NAME=h-ad9
if [ "$(id -u)" -ne 0 ] || ! command -v etcd >/dev/null || ! command -v jq >/dev/null ||
	! [ -x /usr/bin/python3 ]; then
	echo "BENCH adapter_etcd_ops_per_s: skipped (needs root, etcd, jq and python3)"; exit 0
fi
D=$(mktemp -d /tmp/faultline-bench-adapter-XXXXXX)
cleanup() { "$FAULTLINE" cluster down --name "$NAME" >/dev/null 2>&1; rm -rf "$D"; }
trap cleanup EXIT
"$FAULTLINE" cluster down --name "$NAME" >/dev/null 2>&1
if ! "$FAULTLINE" cluster up --nodes 3 --name "$NAME" --subnet 10.213.239.0/24 --db none >"$D/up.log" 2>&1; then
	echo "BENCH adapter_etcd_ops_per_s: failed (cluster up: $(tail -1 "$D/up.log"))"; exit 1
fi
# ops_per_s NAME ARGS...: completed client ops per second of the main phase.
ops_per_s() {
	local n=$1; shift
	"$FAULTLINE" run --cluster "$NAME" --store "$D/store" --name "$n" --db etcd --workload register \
		--time-limit "$SECS" --concurrency 2n --seed 1 "$@" >"$D/$n.out" 2>"$D/$n.err"
	local dir; dir=$(tail -1 "$D/$n.out")
	[ -s "$dir/history.jsonl" ] || { echo "failed: $(tail -1 "$D/$n.err")"; return; }
	jq -rs --argjson secs "$SECS" '[.[] | select(.type != "invoke" and .process != "nemesis")]
		| length / $secs | floor' "$dir/history.jsonl"
}
native=$(ops_per_s native)
adapter=$(ops_per_s adapter --client-exec "/usr/bin/python3 examples/adapters/etcd_register.py")
echo "BENCH adapter_etcd_ops_per_s: $adapter (Python adapter; built-in client: $native; 3 nodes, concurrency 6, same seed)"
