#!/usr/bin/env bash
# tests/integration/etcd_workloads.sh - every etcd workload client against
# a real 3-node local etcd cluster (name h-etcd-it, subnet 10.213.201.0/24,
# removed on exit), in short runs with faults, asserting what the checkers
# found in the real histories:
#  - set under partitions, linearizable reads (checker_opts linearizable):
#    valid, no lost element, the final reads saw every acknowledged add;
#  - bank under partitions and kills: valid, every ok read totals the
#    opening 100 over all five accounts, transfers happened;
#  - counter under kills: valid, final reads within the final bounds;
#  - lock: acquire/write/release ops, tokens that grow, a verdict;
#  - append (when the elle checker is built in): strict-serializable;
#  - the same real histories, doctored (money destroyed in one read, an
#    acknowledged element dropped from the final reads), judged invalid
#    by `faultline check`.
source "$(dirname "$0")/../lib.sh"
need_root
command -v etcd >/dev/null || { skip "etcd workloads" "etcd not installed (make deps)"; done_testing; exit; }
command -v jq >/dev/null || { skip "etcd workloads" "jq not installed (make deps)"; done_testing; exit; }

NAME=h-etcd-it
SUBNET=10.213.201.0/24
OUT=$TEST_OUTPUT/etcd_workloads
STORE=$OUT/store
rm -rf "$OUT"; mkdir -p "$OUT"
"$FAULTLINE" cluster down --name "$NAME" >/dev/null 2>&1
if ! "$FAULTLINE" cluster up --nodes 3 --name "$NAME" --subnet "$SUBNET" >"$OUT/up.log" 2>&1; then
	fail "cluster up ($NAME)" "$(tail -2 "$OUT/up.log")"; done_testing; exit
fi
on_exit "\"$FAULTLINE\" cluster down --name $NAME"
pass "cluster up ($NAME, 3 nodes)"

# run NAME [args...]: a short run; sets RUN (its directory) and RC.
run() {
	local name=$1; shift
	"$FAULTLINE" run --cluster "$NAME" --store "$STORE" --time-limit 5 --recovery-time 2 \
		--nemesis-interval 2 --seed 42 "$@" >"$OUT/$name.out" 2>"$OUT/$name.log"
	RC=$?
	RUN=$(tail -1 "$OUT/$name.out")
	[ -f "$RUN/results.json" ] || RUN=""
}
# q FILTER: jq over the last run's results.json
q() { jq -r "$1" "$RUN/results.json"; }
# h FILTER: jq -s over the last run's history
h() { jq -rs "$1" "$RUN/history.jsonl"; }

# ---- set ----
echo '{"checker_opts": {"set-full": {"linearizable": true}}}' >"$OUT/set.json"
run set "$OUT/set.json" --workload set --nemesis partition
if [ -n "$RUN" ] && [ "$RC" -eq 0 ] && [ "$(q '.checkers["set-full"].valid')" = true ]; then
	pass "set under partitions: valid"
else
	fail "set under partitions: valid" "rc=$RC $(tail -3 "$OUT/set.log" | tr '\n' ' ')"
fi
if [ -n "$RUN" ]; then
	acked=$(q '.checkers["set-full"].acknowledged_count')
	lost=$(q '.checkers["set-full"].lost_count') stable=$(q '.checkers["set-full"].stable_count')
	[ "$lost" = 0 ] && [ "$acked" -gt 50 ] && [ "$stable" -ge "$acked" ] &&
		pass "set: $acked acknowledged adds, none lost, all stable" ||
		fail "set: no lost element" "acked=$acked lost=$lost stable=$stable"
	# The final reads (one per node, after the faults) hold every ok add.
	missing=$(h '([.[] | select(.f=="add" and .type=="ok") | .value] | unique) as $ok |
		[.[] | select(.f=="read" and .type=="ok")] | .[-3:] | map($ok - .value | length) | add' 2>&1)
	[ "$missing" = 0 ] && pass "set: the final reads contain every acknowledged element" ||
		fail "set: final reads complete" "missing=$missing (run $RUN)"
	nem=$(h '[.[] | select(.process=="nemesis" and .f=="start-partition" and .type=="info")] | length')
	[ "$nem" -ge 1 ] && pass "set: partitions were applied ($nem)" || fail "set: partitions applied" "$nem"
	# Doctored: drop one acknowledged element from every read -> lost.
	mkdir -p "$OUT/set-bad"; cp "$RUN/test.json" "$OUT/set-bad/"
	victim=$(h '[.[] | select(.f=="add" and .type=="ok") | .value][0]')
	jq -c --argjson v "$victim" 'if .f=="read" and .type=="ok" then .value -= [$v] else . end' \
		"$RUN/history.jsonl" >"$OUT/set-bad/history.jsonl"
	"$FAULTLINE" check --json "$OUT/set-bad" >"$OUT/set-bad.json" 2>/dev/null; rc=$?
	[ $rc -eq 1 ] && [ "$(jq -r '(.checkers["set-full"] // .).failures[0].kind' "$OUT/set-bad.json")" = lost ] &&
		[ "$(jq -r '(.checkers["set-full"] // .).failures[0].element' "$OUT/set-bad.json")" = "$victim" ] &&
		pass "set: a doctored history losing element $victim is invalid (lost)" ||
		fail "set: doctored history invalid" "rc=$rc"
fi

# ---- bank ----
run bank --workload bank --nemesis partition,kill
[ -n "$RUN" ] && [ "$RC" -eq 0 ] && [ "$(q .checkers.bank.valid)" = true ] &&
	pass "bank under partitions and kills: valid" ||
	fail "bank: valid" "rc=$RC $(tail -3 "$OUT/bank.log" | tr '\n' ' ')"
if [ -n "$RUN" ]; then
	bad=$(h '[.[] | select(.f=="read" and .type=="ok") | .value |
		select((to_entries | map(.value) | add) != 100 or length != 5)] | length')
	reads=$(h '[.[] | select(.f=="read" and .type=="ok")] | length')
	moved=$(h '[.[] | select(.f=="transfer" and .type=="ok")] | length')
	[ "$bad" = 0 ] && [ "$reads" -gt 10 ] && [ "$moved" -gt 10 ] &&
		pass "bank: $reads reads all total 100 over 5 accounts, $moved transfers" ||
		fail "bank: totals conserved" "bad=$bad reads=$reads transfers=$moved"
	[ "$(q '.checkers.bank.totals.points | length')" -gt 0 ] &&
		pass "bank: totals over time in results.json" || fail "bank: totals series"
	mkdir -p "$OUT/bank-bad"; cp "$RUN/test.json" "$OUT/bank-bad/"
	# the first ok read after index 40 (a run may have none between 40 and 60)
	victim=$(h '[.[] | select(.f=="read" and .type=="ok" and .index > 40) | .index][0]')
	jq -c --argjson v "$victim" 'if .index == $v then .value.a1 -= 1 else . end' \
		"$RUN/history.jsonl" >"$OUT/bank-bad/history.jsonl"
	"$FAULTLINE" check --json "$OUT/bank-bad" >"$OUT/bank-bad.json" 2>/dev/null; rc=$?
	[ $rc -eq 1 ] && [ "$(jq -r '(.checkers.bank // .).failures[0].kind' "$OUT/bank-bad.json")" = wrong-total ] &&
		pass "bank: a doctored read destroying money is invalid (wrong-total)" ||
		fail "bank: doctored history invalid" "rc=$rc"
fi

# ---- counter ----
run counter --workload counter --nemesis kill
[ -n "$RUN" ] && [ "$RC" -eq 0 ] && [ "$(q .checkers.counter.valid)" = true ] &&
	[ "$(q .checkers.counter.read_count)" -gt 5 ] && [ "$(q .checkers.counter.add_ok_count)" -gt 10 ] &&
	pass "counter under kills: valid ($(q .checkers.counter.add_ok_count) adds, $(q .checkers.counter.read_count) reads)" ||
	fail "counter: valid" "rc=$RC $(tail -3 "$OUT/counter.log" | tr '\n' ' ')"

# ---- lock ----
echo '{"workload_opts": {"lease_ttl": 2}}' >"$OUT/lock.json"
run lock "$OUT/lock.json" --workload lock --nemesis pause
if [ -n "$RUN" ]; then
	pass "lock: a verdict ($(q .checkers.lock.valid), exit $RC)"
	n=$(h '[.[] | select(.type=="ok") | .f] | group_by(.) | map("\(.[0])=\(length)") | join(" ")')
	acq=$(h '[.[] | select(.f=="acquire" and .type=="ok")] | length')
	wr=$(h '[.[] | select(.f=="write" and .type=="ok")] | length')
	rel=$(h '[.[] | select(.f=="release" and .type=="ok")] | length')
	[ "$acq" -gt 5 ] && [ "$wr" -gt 5 ] && [ "$rel" -gt 5 ] && pass "lock: ok ops $n" ||
		fail "lock: acquire/write/release ops" "$n"
	# A token is the lock key's create revision: an acquire that began
	# after another completed has a larger one (the checker's acquire-order).
	toks=$(h '[.[] | select(.f=="acquire" and .type=="ok" and (.value | type) == "number")] | length')
	down=$(q '.checkers.lock.fencing_backwards["acquire-order"]')
	[ "$toks" -gt 5 ] && [ "$down" = 0 ] && pass "lock: $toks tokens, none going backwards" ||
		fail "lock: tokens grow" "tokens=$toks backwards=$down"
	wshape=$(h '[.[] | select(.f=="write" and .type=="ok") | select((.value | length) != 2 or (.value[0] | type) != "number")] | length')
	[ "$wshape" = 0 ] && pass "lock: writes report [token, previous]" || fail "lock: write shape" "$wshape"
else
	fail "lock: a verdict" "$(tail -3 "$OUT/lock.log" | tr '\n' ' ')"
fi

# ---- append (needs the elle checker) ----
if "$FAULTLINE" check --help 2>&1 | grep -q 'elle'; then
	run append --workload append --nemesis partition
	[ -n "$RUN" ] && [ "$RC" -eq 0 ] && [ "$(q .checkers.elle.valid)" = true ] &&
		pass "append under partitions: strict-serializable" ||
		fail "append: valid" "rc=$RC $(tail -3 "$OUT/append.log" | tr '\n' ' ')"
else
	skip "append under partitions" "the elle checker is not in this build"
fi

done_testing
