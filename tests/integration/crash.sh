#!/usr/bin/env bash
# tests/integration/crash.sh - kill -9 of the controller at random moments.
# On a local cluster (t-crash, 10.213.160.0/24, 3 nodes), CRASH_LOOPS times
# (default 4): start `faultline run` with overlapping faults (partition,
# packet loss/delay through NFQUEUE + faultline-packetd, pause, kill, slow
# node; schedule "mix", a toggle every 0.7 s), kill -9 it at a random
# moment (the first time: just after a fault was applied; then anywhere
# from connecting to the end of the workload), and check:
#  - history.jsonl, if the run got that far, parses up to its last complete
#    line (indexes 0..n-1), anything after that is one torn line, and
#    `faultline check` gives a verdict on it (exit 0, 1 or 2);
#  - `faultline heal --cluster t-crash` exits 0 and leaves no faultline
#    iptables chain or NFQUEUE rule, no qdisc of ours, no helper daemon,
#    no stopped process, no pid file or kill marker on any node;
#  - a run started on top of what the killed one left refuses (254) and
#    says to run `faultline heal` (issue 13, item 10); with --heal-first it
#    heals them and runs (checked once, when a kill left faults);
#  - the next iteration's run copes with whatever the killed one left.
# CRASH_SEED makes the moments reproducible (printed either way).
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"
need_root
for c in jq etcd iptables tc; do
	command -v "$c" >/dev/null || { skip "crash" "$c not installed (make deps)"; done_testing; exit; }
done
if ! "$FAULTLINE" heal --help >/dev/null 2>&1 || "$FAULTLINE" heal --help 2>&1 | grep -q "not implemented"; then
	skip "kill -9 loop" "faultline heal is not implemented in this build"
	done_testing; exit
fi

C=t-crash
LOOPS=${CRASH_LOOPS:-4}
SEED=${CRASH_SEED:-$(($(date +%s) % 100000))}
RANDOM=$SEED
echo "# CRASH_SEED=$SEED"
D=$(mktemp -d "$TEST_OUTPUT/crash.XXXXXX")
[ -n "${KEEP:-}" ] || on_exit "rm -rf '$D'"
"$FAULTLINE" cluster down --name $C >/dev/null 2>&1
if ! "$FAULTLINE" cluster up --name $C --subnet 10.213.160.0/24 --nodes 3 >"$D/up.log" 2>&1; then
	fail "cluster $C up" "$(tail -3 "$D/up.log" | tr '\n' ' ')"; done_testing; exit 1
fi
on_exit "'$FAULTLINE' cluster down --name $C"
pass "cluster $C up (3 nodes)"
ST=/run/faultline/clusters/$C

leftovers() { cluster_leftovers $C; }
summary() { leftovers_summary; }
# A fault was applied: a nemesis start completed (info) in the history.
fault_applied() { grep -q '"type":"info","process":"nemesis","f":"start-' "$1" 2>/dev/null; }

cat >"$D/cfg.json" <<EOF
{"cluster":"$C","store":"$D/store","time_limit":30,"recovery_time":0,"concurrency":"2n",
 "nemesis":["partition","packet","pause","kill","slow"],"nemesis_interval":0.7,
 "nemesis_opts":{"schedule":"mix","packet":{"delay_ms":30,"loss":0.2}}}
EOF
INDEXES='[.[].index] == [range(length)]'
had_faults=0
for it in $(seq 1 "$LOOPS"); do
	rm -rf "$D/store"
	"$FAULTLINE" run "$D/cfg.json" >"$D/run$it.out" 2>"$D/run$it.err" &
	pid=$!
	if [ "$it" -eq 1 ]; then
		# Just after a fault was applied (then 0-0.5 s more).
		end=$((SECONDS + 40))
		until fault_applied "$D"/store/*/*/history.jsonl || [ $SECONDS -ge $end ] || ! kill -0 $pid 2>/dev/null; do
			sleep 0.1
		done
		at="after the first fault + $((RANDOM % 500)) ms"
		sleep "0.$(printf '%03d' $((RANDOM % 500)))"
	else
		# Anywhere from connecting to well inside the workload.
		ms=$((300 + RANDOM % 14000))
		at="at $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s"
		sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
	fi
	if ! kill -0 $pid 2>/dev/null; then
		wait $pid; fail "iteration $it: faultline run still running to be killed" "exited $? early: $(tail -3 "$D/run$it.err" | tr '\n' ' ')"
		continue
	fi
	kill -9 $pid
	wait $pid 2>/dev/null
	H=$(find "$D/store" -name history.jsonl 2>/dev/null | head -1)
	leftovers >"$D/left$it"
	before=$(summary <"$D/left$it")
	[ -s "$D/left$it" ] && had_faults=$((had_faults + 1))
	if [ -z "$H" ]; then
		pass "iteration $it: kill -9 $at, before any history was written (left on the nodes: $before)"
	else
		lines=$(wc -l <"$H")
		torn=$(($(stat -c %s "$H") - $(head -n "$lines" "$H" | wc -c)))
		if head -n "$lines" "$H" | jq -es "$INDEXES" >/dev/null 2>&1; then
			pass "iteration $it: kill -9 $at: the $lines complete lines of history.jsonl parse, indexes 0..$((lines - 1)) ($torn bytes of torn line; left on the nodes: $before)"
		else
			fail "iteration $it: kill -9 $at: complete lines parse" "$(head -n "$lines" "$H" | jq -es "$INDEXES" 2>&1 | tail -2)"
		fi
		if [ "$torn" -gt 0 ] && tail -c "$torn" "$H" | grep -q .; then
			tail -c "$torn" "$H" | jq -e . >/dev/null 2>&1 && fail "iteration $it: the torn tail is cut short" "it parses: a complete op without its newline"
		fi
		"$FAULTLINE" check "$H" >"$D/check$it.out" 2>&1
		crc=$?
		if [ "$crc" -le 2 ]; then
			pass "iteration $it: faultline check gives a verdict: $(tail -1 "$D/check$it.out" | sed 's/^.*: //') (exit $crc)"
		else
			fail "iteration $it: faultline check gives a verdict" "exit $crc: $(tail -2 "$D/check$it.out" | tr '\n' ' ')"
		fi
	fi
	if [ -s "$D/left$it" ] && [ "${refused_once:-0}" -eq 0 ]; then
		refused_once=1
		"$FAULTLINE" run --cluster $C --time-limit 2 --store "$D/store-refused" >"$D/refused$it.out" 2>&1
		rrc=$?
		if [ $rrc -eq 254 ] && grep -q 'faultline heal' "$D/refused$it.out"; then
			pass "iteration $it: a run on top of the leftovers refuses (254): $(grep -o 'carry faults of an earlier run ([^)]*' "$D/refused$it.out" | head -c 150)"
		else
			fail "iteration $it: a run on top of the leftovers refuses with 254 and names faultline heal" "exit $rrc: $(tail -2 "$D/refused$it.out" | tr '\n' ' ')"
		fi
		"$FAULTLINE" run --cluster $C --time-limit 2 --heal-first --store "$D/store-healfirst" >"$D/healfirst$it.out" 2>"$D/healfirst$it.err"
		rrc=$?
		if [ $rrc -le 2 ] && grep -q 'healing what an earlier run left' "$D/healfirst$it.err"; then
			pass "iteration $it: --heal-first heals the leftovers and runs (exit $rrc)"
		else
			fail "iteration $it: --heal-first heals the leftovers and runs" "exit $rrc: $(tail -2 "$D/healfirst$it.err" | tr '\n' ' ')"
		fi
	fi
	"$FAULTLINE" heal --cluster $C >"$D/heal$it.out" 2>&1
	hrc=$?
	L=$(leftovers)
	if [ "$hrc" -eq 0 ] && [ -z "$L" ]; then
		pass "iteration $it: faultline heal exits 0 and leaves no chain, rule, qdisc, helper, stopped process or marker"
	else
		fail "iteration $it: faultline heal leaves nothing" "exit $hrc: $(tail -2 "$D/heal$it.out" | tr '\n' ' ') | $(echo "$L" | head -4 | tr '\n' ' ')"
	fi
done
if [ "$had_faults" -ge 1 ]; then
	pass "$had_faults of $LOOPS kills left faults on the nodes for heal to remove"
else
	fail "some kill left faults behind" "no iteration had anything for heal to do: the test proved nothing"
fi
# After all that, a normal run on the same cluster works and is judged.
"$FAULTLINE" run --cluster $C --time-limit 3 --store "$D/store-after" >"$D/after.out" 2>"$D/after.err"
rc=$?
ok "a run after the crashes: valid (exit $rc)" test "$rc" -eq 0
ok "and leaves nothing behind" test -z "$(leftovers)"

done_testing
