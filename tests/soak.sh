#!/usr/bin/env bash
# tests/soak.sh - `make soak`: for SOAK_MINUTES (default 10), abuse a local
# cluster (t-soak, 10.213.185.0/24, 3 nodes) the way careless users and
# crashing controllers do, one of these per round, chosen from SOAK_SEED:
#   kill9   kill -9 of a run with faults at a random moment, then heal
#   sigint  Ctrl-C of a run with faults (it heals itself; exit 2)
#   down    `cluster down` during a run (must refuse, 254), then the run ends
#   vanish  the bridge deleted under a run (the run stops, 255; no packet
#           to a node address leaves the bridge), then the cluster rebuilt
# and after every round checks that nothing is left on the nodes (iptables
# rules, qdiscs, helpers, stopped processes, markers). Prints what it
# checked and what was left; exits 1 if anything was left or went wrong.
set -u
cd "$(dirname "$0")/.."
source tests/lib.sh
need_root
C=t-soak
SUB=10.213.185.0/24
MINUTES=${SOAK_MINUTES:-10}
SEED=${SOAK_SEED:-$(($(date +%s) % 100000))}
RANDOM=$SEED
D=$(mktemp -d "$TEST_OUTPUT/soak.XXXXXX")
echo "# SOAK_SEED=$SEED, $MINUTES minutes, logs in $D"
export FAULTLINE_HELPER_DIR
FAULTLINE_HELPER_DIR=$(dirname "$FAULTLINE")
up() { "$FAULTLINE" cluster up --name $C --subnet $SUB --nodes 3 >"$D/up.log" 2>&1; }
"$FAULTLINE" cluster down --name $C >/dev/null 2>&1
up || { fail "cluster up $C" "$(tail -1 "$D/up.log")"; done_testing; exit 1; }
on_exit "'$FAULTLINE' cluster down --name $C"
# The bridge's name derives from the cluster's name: the same after a rebuild.
BR=$(jq -r .bridge /run/faultline/clusters/$C/cluster.json)
iptables -w -I OUTPUT -d $SUB ! -o "$BR" -m comment --comment fl-soak-egress -j ACCEPT
on_exit "iptables -w -D OUTPUT -d $SUB ! -o '$BR' -m comment --comment fl-soak-egress -j ACCEPT"
cfg() {
	cat >"$D/cfg.json" <<JSON
{"cluster":"$C","store":"$D/store","time_limit":20,"recovery_time":1,"concurrency":"2n",
 "nemesis":["partition","packet","pause","kill","slow"],"nemesis_interval":0.8,
 "nemesis_opts":{"schedule":"mix","packet":{"delay_ms":20,"loss":0.1}}}
JSON
}
cfg
wait_running() { for _ in $(seq 100); do grep -q 'running register' "$1" 2>/dev/null && return; sleep 0.1; done; }
declare -A did=()
rounds=0 left=0 bad=0
end=$((SECONDS + MINUTES * 60))
while [ $SECONDS -lt $end ]; do
	rounds=$((rounds + 1))
	kinds=(kill9 sigint down vanish)
	k=${kinds[$((RANDOM % 4))]}
	did[$k]=$((${did[$k]:-0} + 1))
	"$FAULTLINE" run "$D/cfg.json" >"$D/r$rounds.out" 2>"$D/r$rounds.err" &
	pid=$!
	wait_running "$D/r$rounds.err"
	sleep "$((RANDOM % 6)).$((RANDOM % 10))"
	case $k in
	kill9) kill -9 $pid; wait $pid 2>/dev/null
		"$FAULTLINE" heal --cluster $C >"$D/h$rounds.out" 2>&1 || { bad=$((bad + 1)); echo "# round $rounds: heal failed"; } ;;
	sigint) kill -INT $pid; wait $pid; rc=$?
		[ $rc -eq 2 ] || { bad=$((bad + 1)); echo "# round $rounds: SIGINT exit $rc"; } ;;
	down) "$FAULTLINE" cluster down --name $C >"$D/d$rounds.out" 2>&1; rc=$?
		[ $rc -eq 254 ] || { bad=$((bad + 1)); echo "# round $rounds: cluster down during a run: exit $rc"; }
		kill -INT $pid; wait $pid ;;
	vanish) br=$(jq -r .bridge /run/faultline/clusters/$C/cluster.json)
		if ip route show | grep -q "^unreachable $SUB .*metric 4242"; then
			ip link delete "$br"; wait $pid; rc=$?
			[ $rc -eq 255 ] || { bad=$((bad + 1)); echo "# round $rounds: bridge deleted: exit $rc"; }
		else
			bad=$((bad + 1)); echo "# round $rounds: no guard route; not deleting the bridge"; kill -INT $pid; wait $pid
		fi
		"$FAULTLINE" cluster down --name $C >/dev/null 2>&1; up || { bad=$((bad + 1)); echo "# cluster up again failed"; } ;;
	esac
	L=$(cluster_leftovers $C)
	if [ -n "$L" ]; then left=$((left + 1)); echo "# round $rounds ($k) left: $(echo "$L" | leftovers_summary)"; fi
done
pkts=$(iptables -w -L OUTPUT -v -x -n | awk '/fl-soak-egress/ {print $1}')
summary="$rounds rounds (kill -9 ${did[kill9]:-0}, SIGINT ${did[sigint]:-0}, cluster down during a run ${did[down]:-0}, bridge deleted ${did[vanish]:-0})"
echo "soak: $summary; rounds that left something: $left; rounds that went wrong: $bad; packets to node addresses off the bridge: ${pkts:-?}"
if [ $left -eq 0 ] && [ $bad -eq 0 ] && [ "${pkts:-x}" = 0 ]; then pass "soak: $summary: nothing left, nothing leaked"
else fail "soak: nothing left, nothing leaked" "$left left, $bad wrong, ${pkts:-?} packets"; fi
done_testing
