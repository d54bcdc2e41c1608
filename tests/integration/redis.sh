#!/usr/bin/env bash
# tests/integration/redis.sh - Redis with Sentinel (src/db/redis.c and its
# hiredis clients) on a real 5-node local cluster (h-redis-it,
# 10.213.221.0/24, removed on exit):
#  - bad db_opts, and a node whose redis-sentinel is missing (an sshd in
#    n1's namespace and a private mount namespace where the program is
#    whited out): exit 254, one line naming the key / the package, nothing
#    written to the node;
#  - the lifecycle through tests/tools/dbx: setup, primary from Sentinel,
#    pid, pause/resume, kill/start, logs, teardown;
#  - the set workload with the primary cut off together with one replica
#    (grudge primary-minority) long enough for a failover: set-full finds
#    acknowledged adds lost, every one acknowledged by the old primary
#    during the fault, and the sentinels' logs show the failover (the
#    old primary's demotion comes later: Sentinel waits failover-timeout
#    after its next INFO, up to 10 s, which this test does not wait for);
#  - the register workload under the same partition: not linearizable;
#  - the append workload without faults: MULTI/EXEC transactions that Elle
#    finds valid.
source "$(dirname "$0")/../lib.sh"
need_root
for p in redis-server redis-sentinel jq; do
	command -v $p >/dev/null || { skip "redis" "$p not installed (make deps)"; done_testing; exit; }
done

BUILD=${BUILD:-build}
DBX=$PWD/$BUILD/tests/tools/dbx
NAME=h-redis-it
SUBNET=10.213.221.0/24
OUT=$TEST_OUTPUT/redis
STORE=$OUT/store
rm -rf "$OUT"; mkdir -p "$OUT"; chmod 755 "$OUT"
"$FAULTLINE" cluster down --name "$NAME" >/dev/null 2>&1
if ! "$FAULTLINE" cluster up --nodes 5 --name "$NAME" --subnet "$SUBNET" --db none >"$OUT/up.log" 2>&1; then
	fail "cluster up $NAME" "$(tail -2 "$OUT/up.log")"; done_testing; exit
fi
on_exit "\"$FAULTLINE\" cluster down --name $NAME"
STATE=/run/faultline/clusters/$NAME
W1=$(jq -r '.nodes[0].workdir' "$STATE/cluster.json")
IP1=$(jq -r '.nodes[0].host' "$STATE/cluster.json")
pass "cluster up ($NAME, 5 nodes)"

# --- bad input: 254, one line, nothing on the nodes ---
jq -n --arg c "$NAME" --arg s "$STORE" '{db: "redis", workload: "set", cluster: $c, store: $s,
	time_limit: 5, db_opts: {min_replicas_to_write: 7}}' >"$OUT/bad.json"
err=$("$FAULTLINE" run "$OUT/bad.json" 2>&1 >/dev/null); rc=$?
if [ $rc -eq 254 ] && [ "$(echo "$err" | wc -l)" -eq 1 ] && grep -q "db_opts.min_replicas_to_write" <<<"$err" &&
	[ ! -e "$W1/redis.conf" ]; then
	pass "bad db_opts: 254, one line naming the key, nothing written"
else fail "bad db_opts" "rc=$rc err=$err"; fi

# A node without redis-sentinel: sshd on n1's address, port 2222, in a
# private mount namespace whose /usr/bin is an overlay with the program
# removed (the rest of the machine keeps it).
D=$OUT/nosentinel; mkdir -p "$D/ovl"
ssh-keygen -q -t ed25519 -N '' -f "$D/host_key"
printf '%s\n' "ListenAddress $IP1" "Port 2222" "HostKey $D/host_key" \
	"AuthorizedKeysFile $STATE/authorized_keys" "PermitRootLogin prohibit-password" \
	"PasswordAuthentication no" "KbdInteractiveAuthentication no" "UsePAM no" "StrictModes no" \
	"SetEnv SHLVL=1" "Subsystem sftp internal-sftp" >"$D/sshd_config"
echo "[$IP1]:2222 $(cut -d' ' -f1,2 "$D/host_key.pub")" >"$D/known_hosts"
ip netns exec "fl-$NAME-n1" unshare -m --propagation private sh -c "
	mount -t tmpfs tmpfs '$D/ovl' && mkdir '$D/ovl/up' '$D/ovl/wk' &&
	mount -t overlay overlay -o 'lowerdir=/usr/bin,upperdir=$D/ovl/up,workdir=$D/ovl/wk' /usr/bin &&
	rm /usr/bin/redis-sentinel && exec /usr/sbin/sshd -D -f '$D/sshd_config' -E '$D/sshd.log'" &
NOSENT_PID=$!
on_exit "kill $NOSENT_PID"
for _ in $(seq 50); do ip netns exec "fl-$NAME-n1" ss -ltnH "sport = :2222" | grep -q . && break; sleep 0.1; done
jq -n --arg h "$IP1" --arg d "$D" --arg s "$STORE" --arg k "$STATE/id_ed25519" '{db: "redis",
	workload: "set", store: $s, time_limit: 5, ssh_private_key: $k, known_hosts: "\($d)/known_hosts",
	nodes: [{name: "n1", host: $h, ssh_port: 2222, workdir: "\($d)/w"}]}' >"$D/run.json"
err=$("$FAULTLINE" run "$D/run.json" 2>&1 >/dev/null); rc=$?
want="faultline run: n1: redis-sentinel not found (install the Debian package redis-sentinel)"
if [ $rc -eq 254 ] && [ "$err" = "$want" ] && [ ! -e "$D/w" ]; then
	pass "node without redis-sentinel: 254 naming the package, nothing written"
else fail "node without redis-sentinel" "rc=$rc err=$err"; fi

# --- lifecycle through dbx ---
dbx() { "$DBX" --db redis --cluster "$NAME" "$@" 2>>"$OUT/dbx.stderr"; }
state_of() { sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$1/status" 2>/dev/null; }
if dbx setup && [ "$(dbx primary)" = n1 ]; then
	pass "setup on 5 nodes: Sentinel names n1 the primary"
else fail "setup" "$(tail -3 "$OUT/dbx.stderr")"; fi
P2=$(dbx pid n2)
[ "$(cat "/proc/${P2:-0}/comm" 2>/dev/null)" = redis-server ] && pass "pid names n2's redis-server" ||
	fail "pid" "pid=$P2"
dbx pause n2 && [ "$(state_of "$P2")" = T ] && dbx resume n2 && [ "$(state_of "$P2")" != T ] &&
	pass "pause / resume n2 (SIGSTOP / SIGCONT)" || fail "pause / resume" "$(tail -2 "$OUT/dbx.stderr")"
dbx kill n2 && [ "$(dbx pid n2)" = -1 ] && dbx start n2 && dbx wait-healthy n2 10 >/dev/null &&
	[ "$(dbx pid n2)" != "$P2" ] && pass "kill n2, start it again from its data" ||
	fail "kill / start" "$(tail -2 "$OUT/dbx.stderr")"
mkdir -p "$OUT/logs" && dbx logs n1 "$OUT/logs" && grep -q "+monitor master faultline" "$OUT/logs/sentinel.log" &&
	grep -q "Ready to accept connections" "$OUT/logs/redis.log" &&
	pass "logs: redis.log, sentinel.log" || fail "logs" "$(ls "$OUT/logs")"
PIDS=$(for n in n1 n2 n3 n4 n5; do dbx pid $n; done)
if dbx teardown && dbx teardown; then
	left=0
	for p in $PIDS; do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = redis-server ] && [ "$(state_of "$p")" != Z ] && left=1
	done
	[ $left -eq 0 ] && [ ! -e "$W1/redis.data" ] && pass "teardown (twice): no redis left, data wiped" ||
		fail "teardown" "left=$left"
else fail "teardown" "$(tail -2 "$OUT/dbx.stderr")"; fi

# --- runs: the primary and one replica cut off from the other three ---
run_redis() { # workload, extra jq fields as JSON
	jq -n --arg c "$NAME" --arg s "$STORE" --arg w "$1" --argjson x "$2" '{db: "redis",
		workload: $w, cluster: $c, store: $s, concurrency: "2n", rate: 200, time_limit: 18,
		nemesis: ["partition"], nemesis_interval: 8,
		nemesis_opts: {partition: {grudges: ["primary-minority"]}}, recovery_time: 5,
		db_opts: {down_after_ms: 1000, failover_timeout_ms: 2000}, checker_timeout: 60} + $x' \
		>"$OUT/$1.json"
	"$FAULTLINE" run "$OUT/$1.json" --seed 7 >"$OUT/$1.out" 2>"$OUT/$1.err"
}

run_redis set '{}'; rc=$?
R=$(tail -1 "$OUT/set.out")
if [ $rc -eq 1 ] && [ "$(jq -r '.checkers["set-full"].valid' "$R/results.json")" = false ]; then
	pass "set under a primary-minority partition: invalid (exit 1)"
else fail "set run" "rc=$rc $(tail -2 "$OUT/set.err")"; fi
LOST=$(jq '.checkers["set-full"].lost_count' "$R/results.json" 2>/dev/null)
ACKED=$(jq '.checkers["set-full"].acknowledged_count' "$R/results.json" 2>/dev/null)
[ "${LOST:-0}" -gt 0 ] && pass "set-full: $LOST of $ACKED acknowledged adds lost" || fail "lost adds" "lost=$LOST"
# Each lost element: its add was acknowledged by the primary that was cut
# off, after the partition began (was invoked).
CHECK=$(python3 - "$R" <<'EOF'
import json, sys
d = sys.argv[1]
res = json.load(open(d + "/results.json"))["checkers"]["set-full"]
lost = set(res["lost"])
ops = [json.loads(l) for l in open(d + "/history.jsonl")]
begun = next(o for o in ops if o["process"] == "nemesis" and o["f"] == "start-partition")
cut = next(o for o in ops if o["process"] == "nemesis" and o["f"] == "start-partition"
           and o["type"] == "info")["value"]
minority = [n for n, peers in cut.items() if len(peers) == 3]
adds = {o["value"]: o for o in ops if o.get("f") == "add" and o["type"] == "ok"}
bad = [e for e in lost if e not in adds or adds[e].get("primary") not in minority
       or adds[e]["time"] < begun["time"]]
print("ok" if lost and not bad else "bad %s minority=%s" % (bad[:5], minority))
EOF
)
[ "$CHECK" = ok ] && pass "every lost add was acknowledged by the isolated old primary during the fault" ||
	fail "lost adds' primary" "$CHECK"
[ "$(grep -l "+switch-master faultline" "$R"/nodes/n*/sentinel.log | wc -l)" -ge 3 ] &&
	pass "sentinel logs: a majority of the sentinels switched to a new primary" ||
	fail "sentinel logs" "$(ls "$R/nodes/n1")"
[ "$(jq -r '.db_opts.appendfsync + " " + (.db_opts.wait|tostring)' "$R/test.json")" = "everysec null" ] &&
	pass "test.json records every db_opts default" || fail "test.json db_opts" "$(jq -c .db_opts "$R/test.json")"

run_redis register '{}'; rc=$?
R=$(tail -1 "$OUT/register.out")
[ $rc -eq 1 ] && [ "$(jq -r '.checkers.linearizable.valid' "$R/results.json")" = false ] &&
	pass "register under the same partition: not linearizable (exit 1)" ||
	fail "register run" "rc=$rc $(tail -2 "$OUT/register.err")"

run_redis append '{"nemesis": [], "nemesis_opts": {}, "time_limit": 4, "recovery_time": 0}'; rc=$?
R=$(tail -1 "$OUT/append.out")
OKS=$(grep -c '"type":"ok","process":[0-9]*,"f":"txn"' "$R/history.jsonl")
[ $rc -eq 0 ] && [ "${OKS:-0}" -gt 100 ] && [ "$(jq -r '.checkers.elle.valid' "$R/results.json")" = true ] &&
	pass "append without faults: $OKS transactions, Elle finds them valid" ||
	fail "append run" "rc=$rc oks=$OKS $(tail -2 "$OUT/append.err")"

done_testing
