#!/usr/bin/env bash
# tests/integration/nemesis.sh - every fault for real, on the local cluster
# t-nem (5 nodes, 10.213.120.0/24), applied through the nemesis code (the
# nemx driver for exact targets, `faultline run` for the schedule), with
# real outcomes measured from the nodes' own namespaces:
#   partition: isolated side cannot connect to the other side, same-side
#     peers can, the controller reaches every node throughout, all connect
#     after heal;
#   packet (userspace NFQUEUE path; this kernel has no netem): +100 ms
#     delay on connect latency, 50 % loss measured, back to baseline after;
#     the netem path refused cleanly here;
#   kill, pause, slow node (latency up, still a member), clock refused as
#     unsupported on local nodes;
#   kill -9 of a `faultline run` with a partition, a packet fault and a
#   pause active, then `faultline heal`: no chain, rule, qdisc, daemon or
#   stopped process left; SIGTERM of a run heals by itself.
source "$(dirname "$0")/../lib.sh"
need_root
BUILD=${BUILD:-build}
NEMX=$PWD/$BUILD/tests/tools/nemx
[ -x "$NEMX" ] || { fail "nemx test driver built" "missing $NEMX (make unit)"; done_testing; exit 1; }
# The helpers (faultline-packetd, -slowd, -clockd) sit next to faultline.
export FAULTLINE_HELPER_DIR
FAULTLINE_HELPER_DIR=$(dirname "$FAULTLINE")
C=t-nem
D=$(mktemp -d "$TEST_OUTPUT/nemesis.XXXXXX")
on_exit "rm -rf '$D'"
"$FAULTLINE" cluster down --name $C >/dev/null 2>&1
if ! "$FAULTLINE" cluster up --name $C --subnet 10.213.120.0/24 --nodes 5 >"$D/up.log" 2>&1; then
	fail "cluster $C up" "$(tail -3 "$D/up.log" | tr '\n' ' ')"; done_testing; exit 1
fi
on_exit "'$FAULTLINE' cluster down --name $C"
pass "cluster $C up (5 nodes)"
ST=/run/faultline/clusters/$C
declare -A IP
for i in 1 2 3 4 5; do IP[n$i]=$(jq -r ".nodes[$((i - 1))].host" "$ST/cluster.json"); done

nemx() { "$NEMX" --cluster $C "$@" 2>>"$D/nemx.err"; }
wait_for() { local end=$((SECONDS + $1)); shift; until "$@"; do [ $SECONDS -ge $end ] && return 1; sleep 0.2; done; }
ns() { local n=$1; shift; ip netns exec "fl-$C-$n" "$@"; }
# TCP connect from node $1's namespace to node $2's etcd port.
conn() { ns "$1" timeout 1.5 bash -c "exec 3<>/dev/tcp/${IP[$2]}/2379" 2>/dev/null; }
# From the controller (the host) to node $1: etcd and SSH.
ctl_reaches() { timeout 1.5 bash -c "exec 3<>/dev/tcp/${IP[$1]}/2379 && exec 4<>/dev/tcp/${IP[$1]}/22" 2>/dev/null; }
# Median TCP connect time, ms, from node $1 to node $2 (5 samples).
rtt() {
	local i
	for i in 1 2 3 4 5; do
		ns "$1" curl -s -o /dev/null --connect-timeout 3 -w '%{time_connect}\n' "http://${IP[$2]}:2379/version"
	done | sort -n | awk '{v[NR]=$1} END {printf "%.1f\n", v[3]*1000}'
}
# Mean request latency from the controller to node $1, ms (20 requests,
# 7 ms apart so they do not all fall into one running slice of a duty cycle).
lat() {
	local i
	for i in $(seq 20); do
		curl -s -o /dev/null -m 3 -w '%{time_total}\n' "http://${IP[$1]}:2379/version"
		sleep 0.007
	done | awk '{s+=$1} END {printf "%.1f\n", s*1000/NR}'
}
state_of() { sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$1/status" 2>/dev/null; }
alive() { [ -d "/proc/$1" ] && [ "$(state_of "$1")" != Z ]; }
dbpid() { cat "$ST/nodes/$1/etcd.pid" 2>/dev/null; }
healthy() { curl -s -m 2 "http://${IP[$1]}:2379/health" | grep -q '"health":"true"'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN {exit !(a >= b)}'; }
# Everything faultline could leave on the cluster's nodes; empty = clean.
leftovers() {
	local n p
	for n in n1 n2 n3 n4 n5; do
		ns $n iptables -S 2>/dev/null | grep -E 'FAULTLINE|NFQUEUE' | sed "s/^/$n: /"
		ns $n tc qdisc show 2>/dev/null | grep -E 'fa17|netem' | sed "s/^/$n: /"
		for p in $(ip netns pids "fl-$C-$n"); do
			case "$(readlink "/proc/$p/exe" 2>/dev/null)" in
			*/faultline-packetd* | */faultline-slowd*) echo "$n: helper pid $p $(readlink "/proc/$p/exe")" ;;
			esac
			[ "$(state_of "$p")" = T ] && echo "$n: stopped pid $p ($(cat "/proc/$p/comm"))"
		done
		ls "$ST/nodes/$n"/faultline-*.pid "$ST/nodes/$n/faultline-killed" 2>/dev/null
	done
	return 0
}
clean() { [ -z "$(leftovers)" ]; }
# After a stop, faultline's (empty) chain layout stays until heal; what
# must be gone is the fault itself.
no_fault() { ! leftovers | grep -qE -- '-A FAULTLINE-[A-Z]+-[A-Z]+ |NFQUEUE|fa17|netem|helper pid|stopped pid|\.pid|killed'; }

# ---- partition ----
A=$(nemx start partition '{"grudge":"groups","groups":[["n1","n2"],["n3","n4","n5"]]}')
if [ "$(jq -c '.n1' <<<"$A")" = '["n3","n4","n5"]' ] && [ "$(jq -c '.n3' <<<"$A")" = '["n1","n2"]' ]; then
	pass "start-partition n1,n2 | n3,n4,n5 reports the exact cut"
else fail "start-partition value" "$A $(tail -2 "$D/nemx.err")"; fi
ok_not "partition: n1 cannot connect to n3 (other side)" conn n1 n3
ok_not "partition: n4 cannot connect to n2 (other side)" conn n4 n2
ok "partition: n1 connects to n2 (same side)" conn n1 n2
ok "partition: n3 connects to n5 (same side)" conn n3 n5
ok "partition: the controller reaches every node (etcd and SSH)" \
	bash -c "$(declare -f ctl_reaches); $(declare -p IP); for n in n1 n2 n3 n4 n5; do ctl_reaches \$n || exit 1; done"
ok "partition rules only in faultline's chains" \
	bash -c "ip netns exec fl-$C-n1 iptables -S | grep -- '-j DROP' | grep -qv FAULTLINE-PART && exit 1; exit 0"
ok "stop-partition" nemx stop partition "$A"
all_connect() { local a b; for a in n1 n2 n3 n4 n5; do for b in n1 n2 n3 n4 n5; do [ $a = $b ] || conn $a $b || return 1; done; done; }
ok "after heal every node connects to every other" all_connect
ok "the controller reached every node after heal too" \
	bash -c "$(declare -f ctl_reaches); $(declare -p IP); for n in n1 n2 n3 n4 n5; do ctl_reaches \$n || exit 1; done"

# ---- packet: delay ----
B12=$(rtt n1 n2) B13=$(rtt n1 n3)
A=$(nemx start packet '{"delay_ms":100,"nodes":["n1"]}')
if [ "$(jq -r '.nodes.n1' <<<"$A")" = nfqueue ] && jq -e '.delay_ms == 100' <<<"$A" >/dev/null; then
	pass "start-packet delay 100 ms on n1: userspace path (nfqueue) recorded"
else fail "start-packet value" "$A $(tail -2 "$D/nemx.err")"; fi
D12=$(rtt n1 n2) D13=$(rtt n1 n3) D23=$(rtt n2 n3)
if ge "$D12" "$(awk -v b="$B12" 'BEGIN {print b + 90}')" && ge "$D13" "$(awk -v b="$B13" 'BEGIN {print b + 90}')"; then
	pass "delay: n1->n2 connect ${B12} -> ${D12} ms, n1->n3 ${B13} -> ${D13} ms (>= +90)"
else fail "delay raises n1's latency by >= 90 ms" "n1->n2 $B12 -> $D12, n1->n3 $B13 -> $D13"; fi
if ge 20 "$D23"; then pass "delay: n2->n3 untouched (${D23} ms)"; else fail "n2->n3 untouched" "$D23 ms"; fi
CTL=$(curl -s -o /dev/null -w '%{time_connect}' "http://${IP[n1]}:2379/version" | awk '{printf "%.1f", $1*1000}')
if ge 20 "$CTL"; then pass "delay: the controller's traffic to n1 untouched (${CTL} ms)"; else fail "controller traffic untouched" "$CTL ms"; fi
ok "packetd runs on n1 only" bash -c "[ -s '$ST/nodes/n1/faultline-packetd.pid' ] && [ ! -e '$ST/nodes/n2/faultline-packetd.pid' ]"
ok "stop-packet" nemx stop packet "$A"
A12=$(rtt n1 n2)
if ge 20 "$A12"; then pass "after heal n1->n2 back to baseline (${A12} ms)"; else fail "back to baseline" "$A12 ms"; fi
ok "packetd and its queue rules gone after stop" no_fault

# ---- packet: loss ----
losses() { # connects from n1 to n2 that fail out of $1, 0.5 s each, in parallel
	local i f=0 pids=()
	for i in $(seq "$1"); do conn1 & pids+=($!); done
	for i in "${pids[@]}"; do wait "$i" || f=$((f + 1)); done
	echo $f
}
conn1() { ns n1 timeout 0.5 bash -c "exec 3<>/dev/tcp/${IP[n2]}/2379" 2>/dev/null; }
A=$(nemx start packet '{"loss":0.5,"nodes":["n1"]}')
L=$(losses 60)
if [ "$L" -ge 15 ] && [ "$L" -le 45 ]; then pass "loss 50%: $L of 60 connects from n1 lost their SYN"
else fail "loss 50% measurable" "$L of 60 failed"; fi
ok "stop-packet (loss)" nemx stop packet "$A"
L=$(losses 30)
if [ "$L" -eq 0 ]; then pass "after heal no connect fails (0 of 30)"; else fail "no loss after heal" "$L of 30"; fi

# ---- packet: the netem path ----
if OUT=$("$NEMX" --cluster $C start packet '{"delay_ms":10,"path":"netem","nodes":["n1"]}' 2>&1); then
	pass "netem path applied (this kernel has netem)"
	A=$(head -1 <<<"$OUT")
	ok "netem: fa17: prio qdisc in place" bash -c "ip netns exec fl-$C-n1 tc qdisc show | grep -q 'prio fa17:'"
	ok "stop-packet (netem)" nemx stop packet "$A"
else
	if grep -q "kernel has no netem" <<<"$OUT" && no_fault; then
		pass "netem path refused with a clear error on this kernel, nothing applied"
	else fail "netem refusal" "$OUT"; fi
	skip "netem path run for real" "this kernel has no netem (its tc commands are unit-tested)"
fi

# ---- kill ----
P=$(dbpid n2)
A=$(nemx start kill '{"nodes":["n2"]}')
if [ "$A" = '{"n2":"killed"}' ]; then pass "start-kill n2 -> $A"; else fail "start-kill" "$A $(tail -2 "$D/nemx.err")"; fi
ok_not "killed etcd pid $P is gone" alive "$P"
ok "kill marker left for heal" test -e "$ST/nodes/n2/faultline-killed"
A2=$(nemx stop kill "$A")
if [ "$A2" = '{"n2":"started"}' ]; then pass "stop-kill restarts n2"; else fail "stop-kill" "$A2"; fi
NP=$(dbpid n2)
ok "restarted with a new pid ($P -> $NP)" bash -c "[ -n '$NP' ] && [ '$NP' != '$P' ] && [ -d /proc/$NP ]"
ok "restarted n2 becomes healthy" wait_for 20 healthy n2
ok "kill marker removed" test ! -e "$ST/nodes/n2/faultline-killed"

# ---- pause ----
P=$(dbpid n3)
A=$(nemx start pause '{"nodes":["n3"]}')
if [ "$A" = '{"n3":"paused"}' ]; then pass "start-pause n3"; else fail "start-pause" "$A"; fi
ok "paused etcd is stopped (T)" test "$(state_of "$P")" = T
ok_not "requests to paused n3 time out" curl -s -m 1 "http://${IP[n3]}:2379/version"
ok "stop-pause" nemx stop pause "$A"
ok "resumed n3 answers" curl -s -m 2 "http://${IP[n3]}:2379/version"

# ---- slow node ----
BL=$(lat n4)
A=$(nemx start slow '{"nodes":["n4"],"stop_ms":80,"period_ms":100}')
ok "start-slow n4 records the pid it duty-cycles" test "$(jq -r '.nodes.n4.pid' <<<"$A")" = "$(dbpid n4)"
SL=$(lat n4)
if ge "$SL" 10 && ge "$SL" "$(awk -v b="$BL" 'BEGIN {print b * 5}')"; then
	pass "slow n4: mean latency ${BL} -> ${SL} ms"
else fail "slow node latency rises" "$BL -> $SL ms"; fi
ok "slow n4 stays a member and answers" bash -c "ETCDCTL_API=3 etcdctl --endpoints http://${IP[n1]}:2379 member list | grep -q 'started, n4,' && curl -s -m 3 http://${IP[n4]}:2379/health | grep -q true"
ok "stop-slow" nemx stop slow "$A"
AL=$(lat n4)
# Back near the baseline (a loaded machine adds a few ms of its own).
if ge "$(awk -v b="$BL" -v s="$SL" 'BEGIN {m = b * 2 + 5; if (s / 3 < m) m = s / 3; print m}')" "$AL"; then
	pass "after stop n4 latency back (${AL} ms; baseline ${BL}, slowed ${SL})"
else fail "slow healed" "baseline $BL, slowed $SL, after $AL ms"; fi
ok "no slowd and no stopped process after stop-slow" no_fault

# ---- clock: local nodes share the host's clock ----
OUT=$("$NEMX" --cluster $C start clock '{"mode":"bump","offset_ms":5000,"nodes":["n1"]}' 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -q "unsupported on this node" <<<"$OUT"; then
	pass "clock on a local node: refused, 'unsupported on this node'"
else fail "clock refused" "rc=$rc $OUT"; fi

# faultline-clockd itself, without CAP_SYS_TIME (its error path; the
# success path would move this machine's clock, so it is not run here).
# The capability is checked to be gone first, so the test can never set
# the clock.
CLK=$(dirname "$FAULTLINE")/faultline-clockd
nocap() { setpriv --bounding-set -sys_time --inh-caps -sys_time "$@"; }
capeff=$(nocap sh -c 'sed -n "s/^CapEff:[[:space:]]*//p" /proc/self/status' 2>/dev/null)
if [ -n "$capeff" ] && [ $(((16#$capeff >> 25) & 1)) -eq 0 ]; then
	OUT=$(nocap "$CLK" bump --ms 5000 --state "$D/clock.offset" 2>&1); rc=$?
	if [ $rc -eq 1 ] && grep -q "needs CAP_SYS_TIME" <<<"$OUT" && [ ! -e "$D/clock.offset" ]; then
		pass "faultline-clockd without CAP_SYS_TIME: clear error, no offset recorded"
	else fail "clockd without CAP_SYS_TIME" "rc=$rc $OUT"; fi
else skip "clockd without CAP_SYS_TIME" "cannot drop CAP_SYS_TIME here (setpriv)"; fi

# ---- nodes in the controller's own network namespace: refused ----
# Two "nodes" behind a test sshd on 127.0.0.1/127.0.0.2 live in this very
# namespace: rules there would cut the controller's own traffic.
L=$D/loop
mkdir -p "$L" /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$L/host_key" && ssh-keygen -q -t ed25519 -N '' -f "$L/key" && cp "$L/key.pub" "$L/authorized_keys"
LPORT=2290
while ss -ltnH "sport = :$LPORT" | grep -q .; do LPORT=$((LPORT + 1)); done
cat >"$L/sshd_config" <<EOF
ListenAddress 127.0.0.1
ListenAddress 127.0.0.2
Port $LPORT
HostKey $L/host_key
AuthorizedKeysFile $L/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
SetEnv SHLVL=1
PidFile $L/sshd.pid
Subsystem sftp internal-sftp
EOF
for h in 127.0.0.1 127.0.0.2; do echo "[$h]:$LPORT $(cut -d' ' -f1,2 "$L/host_key.pub")"; done >"$L/known_hosts"
if /usr/sbin/sshd -f "$L/sshd_config" -E "$L/sshd.log" && wait_for 5 test -s "$L/sshd.pid"; then
	on_exit "kill \$(cat '$L/sshd.pid')"
	LO=(--nodes "127.0.0.1:$LPORT,127.0.0.2:$LPORT" --ssh-private-key "$L/key" --known-hosts "$L/known_hosts")
	BEFORE=$(iptables -S; tc qdisc show)
	OUT=$("$NEMX" "${LO[@]}" start partition '{"grudge":"one"}' 2>&1); rc=$?
	if [ $rc -eq 1 ] && grep -q "controller's own network namespace" <<<"$OUT" && [ "$(iptables -S; tc qdisc show)" = "$BEFORE" ]; then
		pass "partition of nodes in the controller's namespace: refused, this machine's rules untouched"
	else fail "partition refused in the controller's namespace" "rc=$rc $OUT"; fi
	OUT=$("$NEMX" "${LO[@]}" start packet '{"loss":0.5,"nodes":["n2"]}' 2>&1); rc=$?
	if [ $rc -eq 1 ] && grep -q "unsupported on this node" <<<"$OUT" && [ "$(iptables -S; tc qdisc show)" = "$BEFORE" ]; then
		pass "packet fault on a node in the controller's namespace: refused"
	else fail "packet refused in the controller's namespace" "rc=$rc $OUT"; fi
	kill "$(cat "$L/sshd.pid")"
else fail "loopback test sshd started" "$(tail -2 "$L/sshd.log")"; fi

# ---- heal: bad input, idempotence ----
OUT=$("$FAULTLINE" heal --cluster t-nem-absent 2>&1); rc=$?
if [ $rc -eq 254 ] && [ "$(wc -l <<<"$OUT")" -eq 1 ]; then pass "heal of an absent cluster: 254, one line"; else fail "heal bad input" "rc=$rc $OUT"; fi
ok "heal on a clean cluster exits 0" "$FAULTLINE" heal --cluster $C

# A node that cannot be reached does not keep the others from being healed.
A=$(nemx start partition '{"grudge":"groups","groups":[["n1"],["n2","n3","n4","n5"]]}')
HO=(--nodes "n1=${IP[n1]},n2=${IP[n2]},nx=10.213.120.99" --ssh-private-key "$ST/id_ed25519"
	--known-hosts "$ST/known_hosts" --ssh-timeout 1)
OUT=$("$FAULTLINE" heal "${HO[@]}" 2>&1); rc=$?
part_rules() { ns "$1" iptables -S FAULTLINE-PART-IN 2>/dev/null | grep -c -- '-j DROP'; }
if [ $rc -eq 255 ] && grep -q "nx" <<<"$OUT" && [ "$(part_rules n1)" = 0 ] && [ "$(part_rules n2)" = 0 ] && [ "$(part_rules n3)" != 0 ]; then
	pass "heal with an unreachable node: 255, names it, heals the reachable ones"
else fail "heal with an unreachable node" "rc=$rc n1=$(part_rules n1) n3=$(part_rules n3) $OUT"; fi
ok "heal of the whole cluster after that" "$FAULTLINE" heal --cluster $C
ok "nothing left" clean

# ---- kill -9 of the controller with three faults active ----
cat >"$D/cfg.json" <<EOF
{"cluster":"$C","store":"$D/store","time_limit":60,"recovery_time":0,
 "nemesis":["partition","packet","pause"],"nemesis_interval":10,
 "nemesis_opts":{"schedule":"together","partition":{"grudges":["majority"]},
   "packet":{"delay_ms":50,"loss":0.1},"pause":{"targets":"one"}}}
EOF
# Faults active now: kinds whose latest nemesis completion is a start.
active_now() {
	cat "$D"/store/*/*/history.jsonl 2>/dev/null | grep '"process":"nemesis"' | grep -v '"type":"invoke"' |
		jq -rs 'group_by(.f | sub("^(start|stop)-"; "")) | map(last | select(.type == "info" and (.f | startswith("start-")))) | length' 2>/dev/null
}
# The runner writes a fault's completion to the history, then nemesis.json:
# both must say so before the kill (a kill between the two writes is a
# different test). The interval leaves 10 s between the last start and the
# first stop, whatever the load, for the poll to see them.
state_three() {
	jq -e '.active | has("partition") and has("packet") and has("pause")' \
		"$D"/store/*/*/nemesis.json >/dev/null 2>&1
}
three_active() { [ "$(active_now)" = 3 ] && state_three; }
"$FAULTLINE" run "$D/cfg.json" >"$D/run1.out" 2>"$D/run1.err" &
RUN=$!
on_exit "kill -9 $RUN"
if wait_for 60 three_active; then
	kill -9 $RUN; wait $RUN 2>/dev/null
	pass "faultline run applied partition, packet and pause; kill -9 of the controller"
	L=$(leftovers)
	if grep -q "FAULTLINE-PART" <<<"$L" && grep -q NFQUEUE <<<"$L" && grep -q "helper pid" <<<"$L" && grep -q "stopped pid" <<<"$L"; then
		pass "the faults outlive the controller (rules, packetd, a stopped etcd)"
	else
		miss=$(for w in FAULTLINE-PART NFQUEUE "helper pid" "stopped pid"; do
			grep -q "$w" <<<"$L" || printf 'missing %s; ' "$w"; done)
		fail "faults active after kill -9" "$miss$(echo "$L" | head -5 | tr '\n' ' ')"
	fi
	OUT=$("$FAULTLINE" heal --cluster $C 2>&1); rc=$?
	if [ $rc -eq 0 ]; then pass "faultline heal --cluster $C: $OUT"; else fail "faultline heal" "rc=$rc $OUT"; fi
	L=$(leftovers)
	if [ -z "$L" ]; then pass "no faultline chain, NFQUEUE rule, qdisc, daemon or stopped process left"
	else fail "heal left something" "$(echo "$L" | head -5 | tr '\n' ' ')"; fi
	ok "heal again (idempotent) exits 0" "$FAULTLINE" heal --cluster $C
	ok "state file in the run dir lists what was active" \
		bash -c "jq -e '.active | has(\"partition\") and has(\"packet\") and has(\"pause\")' $D/store/*/*/nemesis.json"
else
	kill -9 $RUN; wait $RUN 2>/dev/null
	fail "three faults active within 60 s" "$(tail -5 "$D/run1.err" | tr '\n' ' ')"
fi
"$FAULTLINE" heal --cluster $C >/dev/null 2>&1
rm -rf "$D/store"

# ---- SIGTERM: the run heals by itself ----
"$FAULTLINE" run "$D/cfg.json" >"$D/run2.out" 2>"$D/run2.err" &
RUN=$!
if wait_for 60 three_active; then
	kill -TERM $RUN
	if wait_for 30 bash -c "! kill -0 $RUN 2>/dev/null"; then
		wait $RUN; rc=$?
		pass "SIGTERM: faultline run exits (rc $rc)"
		L=$(leftovers)
		if [ -z "$L" ]; then pass "SIGTERM: every fault healed before exit"; else fail "SIGTERM heal" "$(echo "$L" | head -5 | tr '\n' ' ')"; fi
		ok "SIGTERM: history intact (every line parses)" bash -c "cat $D/store/*/*/history.jsonl | jq -e . >/dev/null"
		ok "SIGTERM: the stop ops are in the history" \
			bash -c "cat $D/store/*/*/history.jsonl | jq -r 'select(.process==\"nemesis\") | .f' | grep -q stop-partition"
	else kill -9 $RUN; fail "SIGTERM: run exits" "still running after 30 s"; fi
else
	kill -9 $RUN; wait $RUN 2>/dev/null
	fail "three faults active within 30 s (SIGTERM run)" "$(tail -5 "$D/run2.err" | tr '\n' ' ')"
fi
"$FAULTLINE" heal --cluster $C >/dev/null 2>&1
done_testing
