#!/usr/bin/env bash
# tests/integration/reliability.sh - issue 13's hostile and careless uses of
# a local cluster, each of which went wrong before:
#  - one run per cluster: while a run holds t-rel, a second run, `heal` and
#    `cluster down` refuse with 254 naming the holder;
#  - no traffic off the machine: the cluster's subnet has its guard route
#    (unreachable, metric 4242); the bridge deleted under a running run
#    stops it at once (255) and not one packet to a node address leaves
#    through another interface (an iptables counter on the host's OUTPUT);
#  - replacing a running etcd: REL_RUNS (default 20) consecutive
#    --leave-db-running runs, then a normal run, all succeed;
#  - three `cluster up` at once, no --subnet: all up, on distinct subnets.
# Clusters t-rel (10.213.180.0/24) and t-relc1..3 (subnets picked by
# faultline), removed on exit.
source "$(dirname "$0")/../lib.sh"
need_root
for c in jq etcd iptables; do
	command -v "$c" >/dev/null || { skip "reliability" "$c not installed (make deps)"; done_testing; exit; }
done
C=t-rel
SUB=10.213.180.0/24
D=$TEST_OUTPUT/reliability
rm -rf "$D"; mkdir -p "$D"
"$FAULTLINE" cluster down --name $C >/dev/null 2>&1
if ! "$FAULTLINE" cluster up --name $C --subnet $SUB --nodes 3 >"$D/up.log" 2>&1; then
	fail "cluster up $C" "$(tail -2 "$D/up.log")"; done_testing; exit
fi
on_exit "'$FAULTLINE' cluster down --name $C"
BR=$(jq -r .bridge /run/faultline/clusters/$C/cluster.json)

# ---- the guard route ----
if ip route show table main | grep -q "^unreachable $SUB .*metric 4242"; then
	pass "the subnet's guard route is up: $(ip route show table main | grep "^unreachable $SUB")"
else
	fail "the subnet's guard route is up" "$(ip route show table main | grep "$SUB")"
fi

# ---- one run per cluster ----
"$FAULTLINE" run --cluster $C --time-limit 30 --store "$D/store" >"$D/run1.out" 2>"$D/run1.err" &
RUN=$!
on_exit "kill $RUN 2>/dev/null"
for _ in $(seq 100); do grep -q 'running register' "$D/run1.err" && break; sleep 0.1; done
out=$("$FAULTLINE" run --cluster $C --time-limit 2 --store "$D/store2" 2>&1); rc=$?
if [ $rc -eq 254 ] && grep -q "in use by faultline run (pid $RUN" <<<"$out"; then
	pass "a second run refuses (254): $(tail -1 <<<"$out")"
else fail "a second run refuses with 254 naming the holder" "rc=$rc $out"; fi
out=$("$FAULTLINE" heal --cluster $C 2>&1); rc=$?
if [ $rc -eq 254 ] && grep -q "in use by faultline run (pid $RUN" <<<"$out"; then
	pass "heal refuses (254) while the run holds the cluster"
else fail "heal refuses with 254 naming the holder" "rc=$rc $out"; fi
out=$("$FAULTLINE" cluster down --name $C 2>&1); rc=$?
if [ $rc -eq 254 ] && grep -q "in use by faultline run (pid $RUN" <<<"$out" && ip link show "$BR" >/dev/null 2>&1; then
	pass "cluster down refuses (254) and removes nothing"
else fail "cluster down refuses with 254 naming the holder" "rc=$rc $out"; fi

# ---- the bridge vanishes under the run ----
# Count every packet to the subnet that leaves through anything but the
# bridge (there must be none), then delete the bridge by hand, as a
# careless script would. Only with our guard route in place.
iptables -w -I OUTPUT -d $SUB ! -o "$BR" -m comment --comment fl-test-egress -j ACCEPT
on_exit "iptables -w -D OUTPUT -d $SUB ! -o '$BR' -m comment --comment fl-test-egress -j ACCEPT"
if ip route show table main | grep -q "^unreachable $SUB .*metric 4242"; then
	t0=$(date +%s%N)
	ip link delete "$BR"
	wait $RUN; rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	pkts=$(iptables -w -L OUTPUT -v -x -n | awk '/fl-test-egress/ {print $1}')
	if [ $rc -eq 255 ] && grep -q "bridge $BR is gone" "$D/run1.err"; then
		pass "the run stops at once when its bridge vanishes (exit 255 after $ms ms)"
	else fail "the run stops with 255 when its bridge vanishes" "rc=$rc after $ms ms: $(tail -2 "$D/run1.err" | tr '\n' ' ')"; fi
	if [ "${pkts:-x}" = 0 ]; then pass "no packet to a node address left through another interface"
	else fail "no packet to a node address left the bridge" "$pkts packets"; fi
else
	fail "guard route present before removing the bridge" "not removing it: nothing would stop the traffic"
	kill $RUN; wait $RUN
fi
"$FAULTLINE" cluster down --name $C >"$D/down.log" 2>&1
ok "cluster down after that" test $? -eq 0
if ip route show table main | grep -q "^unreachable $SUB"; then fail "cluster down removes the guard route"
else pass "cluster down removes the guard route"; fi

# ---- replacing a running etcd, again and again ----
"$FAULTLINE" cluster up --name $C --subnet $SUB --nodes 3 >"$D/up2.log" 2>&1 || fail "cluster up again" "$(tail -1 "$D/up2.log")"
N=${REL_RUNS:-20}
bad=0
for i in $(seq "$N"); do
	"$FAULTLINE" run --cluster $C --time-limit 0.5 --leave-db-running --concurrency 3 \
		--store "$D/leave" >"$D/leave$i.out" 2>"$D/leave$i.err"
	rc=$?
	if [ $rc -ne 0 ]; then bad=$((bad + 1)); echo "# run $i: exit $rc: $(grep -m1 -E 'ERROR|cannot' "$D/leave$i.err")"; fi
done
"$FAULTLINE" run --cluster $C --time-limit 1 --store "$D/leave" >"$D/leave-last.out" 2>"$D/leave-last.err"
rc=$?
if [ $bad -eq 0 ] && [ $rc -eq 0 ]; then pass "$N consecutive --leave-db-running runs, then a normal run: all valid"
else fail "$N consecutive --leave-db-running runs then a normal run succeed" "$bad failed; last exit $rc"; fi
# Two repetitions of one process never share an etcd cluster token.
"$FAULTLINE" run --cluster $C --time-limit 0.5 --test-count 2 --leave-db-running --store "$D/tok" >/dev/null 2>&1
tokens=$(for r in "$D"/tok/*/*/nodes/n1/etcd.log; do grep -o 'initial-cluster-token":"[^"]*' "$r" | head -1; done | sort -u | wc -l)
ok "--test-count 2 --leave-db-running: each repetition has its own cluster token" test "$tokens" -eq 2

# ---- three cluster up at once ----
for k in 1 2 3; do "$FAULTLINE" cluster down --name t-relc$k >/dev/null 2>&1; done
for k in 1 2 3; do
	on_exit "'$FAULTLINE' cluster down --name t-relc$k"
	"$FAULTLINE" cluster up --name t-relc$k --nodes 1 --db none >"$D/upc$k.log" 2>&1 &
done
wait
subs=$(for k in 1 2 3; do jq -r .subnet /run/faultline/clusters/t-relc$k/cluster.json 2>/dev/null; done | sort -u | grep -c .)
upn=$(for k in 1 2 3; do jq -r .state /run/faultline/clusters/t-relc$k/cluster.json 2>/dev/null; done | grep -c '^up$')
if [ "$upn" -eq 3 ] && [ "$subs" -eq 3 ]; then
	pass "three concurrent cluster up: all up on distinct subnets ($(for k in 1 2 3; do jq -r .subnet /run/faultline/clusters/t-relc$k/cluster.json; done | tr '\n' ' '))"
else
	fail "three concurrent cluster up on distinct subnets" "$upn up, $subs subnets: $(tail -qn1 "$D"/upc*.log | tr '\n' ' ')"
fi
for k in 1 2 3; do "$FAULTLINE" cluster down --name t-relc$k >/dev/null 2>&1; done

done_testing
