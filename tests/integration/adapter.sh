#!/usr/bin/env bash
# tests/integration/adapter.sh - testing a database through an adapter
# program (src/db/adapter_client.c) and databases defined by commands
# (src/db/custom.c), end to end with `faultline run` on the local cluster
# h-ad1 (3 nodes, subnet 10.213.230.0/24, removed on exit):
#  - config mistakes: one line, exit 254, before any node is touched;
#  - etcd's register test through examples/adapters/etcd_register.py gives
#    the built-in client's verdicts on the same seed: serializable reads
#    under partitions invalid (on the first of seeds 1-3 where both clients
#    meet a stale read: meeting one in 10 s is chance), linearizable reads
#    valid;
#  - examples/custom-db.json: Redis set up, killed (default: the pidfile's
#    pid), restarted, logs fetched and torn down by its commands, judged
#    valid through the Python adapter; the POSIX sh adapter too;
#  - the list-append adapter against a real Redis;
#  - misbehaving adapters (tests/tools/adapterx: hangs, exits, garbage,
#    huge lines, replies on the wrong fd, forged lines, ...) on db none
#    with partitions: every history line well-formed, every invocation
#    completed once, nothing forged, no adapter left, and `faultline
#    check` reproduces the verdict.
source "$(dirname "$0")/../lib.sh"
need_root
command -v jq >/dev/null || { skip "adapter" "jq not installed (make deps)"; done_testing; exit; }

BUILD=${BUILD:-build}
ADAPTERX=$PWD/$BUILD/tests/tools/adapterx
[ -x "$ADAPTERX" ] || { fail "adapterx test adapter built" "missing $ADAPTERX (make unit)"; done_testing; exit 1; }
PY=/usr/bin/python3
NAME=h-ad1
SUBNET=10.213.230.0/24
OUT=$TEST_OUTPUT/adapter
STORE=$OUT/store
rm -rf "$OUT"; mkdir -p "$OUT"
"$FAULTLINE" cluster down --name "$NAME" >/dev/null 2>&1
if ! "$FAULTLINE" cluster up --nodes 3 --name "$NAME" --subnet "$SUBNET" --db none >"$OUT/up.log" 2>&1; then
	fail "cluster up $NAME" "$(tail -2 "$OUT/up.log")"; done_testing; exit 1
fi
on_exit "'$FAULTLINE' cluster down --name $NAME"
pass "cluster up $NAME (3 nodes, no database)"

# run NAME ARGS...: faultline run on the cluster; $rc, $dir (the run dir).
run() {
	local n=$1; shift
	"$FAULTLINE" run --cluster "$NAME" --store "$STORE" --name "$n" --recovery-time 1 "$@" \
		>"$OUT/$n.out" 2>"$OUT/$n.err"
	rc=$?
	dir=$(tail -n 1 "$OUT/$n.out")
}
# bad NAME PATTERN ARGS...: exit 254 with one line naming the cause.
bad() {
	local n=$1 pat=$2; shift 2
	"$FAULTLINE" run --cluster "$NAME" --store "$STORE" "$@" >"$OUT/bad.out" 2>"$OUT/bad.err"
	local c=$?
	if [ $c -eq 254 ] && [ "$(wc -l <"$OUT/bad.err")" -eq 1 ] && grep -qF -- "$pat" "$OUT/bad.err"; then
		pass "$n: 254, $(cut -c1-110 "$OUT/bad.err")"
	else
		fail "$n" "exit $c: $(cat "$OUT/bad.err")"
	fi
}
# history_sound DIR: every line a JSON object, every invocation completed
# exactly once by its process, indexes 0..n-1, nothing forged.
history_sound() {
	jq -se 'map(select(.process != "nemesis")) as $ops
		| (to_entries | all(.key == .value.index))
		and ($ops | group_by(.process) | all(
			(map(.type == "invoke") as $inv
			 | [range(0; length) | select($inv[.] == ((. % 2) == 0))] | length) == length
			and (length % 2 == 0)))
		and ($ops | all(.f != "forged"))' "$1/history.jsonl" >/dev/null
}
redis_in_cluster() { # redis-server processes left in the nodes' namespaces
	local n p
	for n in n1 n2 n3; do
		for p in $(ip netns pids "fl-$NAME-$n" 2>/dev/null); do
			[ "$(cat "/proc/$p/comm" 2>/dev/null)" = redis-server ] && echo "$n: $p"
		done
	done
}

# ---- config mistakes ----
bad "adapter program not found" "client.exec[0]: no-such-adapter: not found on PATH" \
	--db none --client-exec no-such-adapter
bad "a db without a client for the workload" "workload: none cannot run workload 'register' (it runs: none); or give an adapter program" \
	--db none
bad "db none cannot kill without commands" "nemesis kill: db none needs" \
	--db none --client-exec "$ADAPTERX" --nemesis kill
cat >"$OUT/nostart.json" <<EOF
{"db": {"name": "custom", "setup": ["true"]}, "client": {"exec": ["$ADAPTERX"]}}
EOF
bad "custom without a start command" "db_opts.start: missing" "$OUT/nostart.json"
cat >"$OUT/port.json" <<EOF
{"db": {"name": "custom", "start": "redis-server --port {port}"}, "client": {"exec": ["$ADAPTERX"]}}
EOF
bad "a placeholder without its option" "db_opts.start: uses {port}, but db_opts.port is not set" "$OUT/port.json"
cat >"$OUT/both.json" <<EOF
{"db": {"name": "custom", "start": "true"}, "db_opts": {"port": 1}}
EOF
bad "db object and db_opts both" "give its options inside the db object or in db_opts, not both" "$OUT/both.json"

# ---- etcd: the Python adapter and the built-in client agree ----
if command -v etcd >/dev/null; then
	# Partitions that cut one node off: what a serializable read sees there
	# goes stale while the others write on.
	echo '{"nemesis_opts": {"partition": {"grudges": ["one"]}}}' >"$OUT/one.json"
	ETCD=("$OUT/one.json" --db etcd --workload register --nemesis partition --nemesis-interval 3
	      --op-timeout 1 --concurrency 3n)
	ADAPT=(--client-exec "$PY examples/adapters/etcd_register.py")
	# Whether a stale read happens within 10 s is chance, for either client
	# (the adapter's ops are fewer on a busy machine): up to three seeds,
	# until one shows both invalid.
	for seed in 1 2 3; do
		run etcd-ser-native-$seed "${ETCD[@]}" --time-limit 10 --read-mode serializable --seed $seed
		r1=$rc
		run etcd-ser-adapter-$seed "${ETCD[@]}" --time-limit 10 --read-mode serializable --seed $seed \
			"${ADAPT[@]}"
		r2=$rc d2=$dir
		echo "# serializable, seed $seed: native exit $r1, adapter exit $r2"
		[ $r1 -eq 1 ] && [ $r2 -eq 1 ] && break
		[ $r1 -le 1 ] && [ $r2 -le 1 ] || break
	done
	if [ $r1 -eq 1 ] && [ $r2 -eq 1 ]; then pass "etcd serializable reads, seed $seed: invalid through both clients"
	else fail "etcd serializable reads: invalid through both" "native exit $r1, adapter exit $r2: $(tail -2 "$OUT/etcd-ser-adapter-$seed.err")"; fi
	ok "the adapter run's history is sound" history_sound "$d2"
	ok "test.json records the adapter" test "$(jq -r '.client.exec[1]' "$d2/test.json")" = examples/adapters/etcd_register.py
	run etcd-lin-native "${ETCD[@]}" --time-limit 5 --seed 1
	r1=$rc
	run etcd-lin-adapter "${ETCD[@]}" --time-limit 5 --seed 1 "${ADAPT[@]}"
	r2=$rc
	if [ $r1 -eq 0 ] && [ $r2 -eq 0 ]; then pass "etcd linearizable reads, seed 1: valid through both clients"
	else fail "etcd linearizable reads: valid through both" "native exit $r1, adapter exit $r2: $(tail -2 "$OUT/etcd-lin-adapter.err")"; fi
else
	skip "etcd through the adapter" "etcd not installed (make deps)"
fi

# ---- a database defined by commands: examples/custom-db.json (Redis) ----
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null && $PY -c 'import redis' 2>/dev/null; then
	run custom examples/custom-db.json --time-limit 8 --nemesis kill --nemesis-interval 2.5 \
		--op-timeout 2 --seed 2
	if [ $rc -eq 0 ]; then pass "custom Redis with kills, Python adapter: valid"
	else fail "custom Redis with kills: valid" "exit $rc: $(tail -3 "$OUT/custom.err")"; fi
	ok "a kill took a node down and restarted it (pidfile defaults)" \
		jq -se 'map(select(.process == "nemesis" and .type == "info")) | (any(.f == "start-kill" and (.value | to_entries | any(.value == "killed"))))
			and any(.f == "stop-kill" and (.value | to_entries | any(.value == "started")))' "$dir/history.jsonl"
	ok "the adapter's ops completed on Redis" jq -se '[.[] | select(.type == "ok")] | length > 100' "$dir/history.jsonl"
	ok "db_opts.logs fetched from every node" test -s "$dir/nodes/n1/redis.log" -a -s "$dir/nodes/n3/redis.log"
	ok "teardown left no redis-server on any node" test -z "$(redis_in_cluster)"
	jq '.client = {"exec": ["sh", "examples/adapters/redis_register.sh"], "env": {"TARGET": "first"}}
		| .nemesis = []' examples/custom-db.json >"$OUT/shell.json"
	run shell "$OUT/shell.json" --time-limit 4 --seed 3
	if [ $rc -eq 0 ] && jq -se '[.[] | select(.type == "ok")] | length > 5' "$dir/history.jsonl" >/dev/null; then
		pass "the POSIX sh adapter on custom Redis: valid"
	else fail "the POSIX sh adapter: valid" "exit $rc: $(tail -3 "$OUT/shell.err")"; fi

	# The list-append adapter, spoken to directly, against a Redis of our own.
	P=6390; while ss -ltnH "sport = :$P" | grep -q .; do P=$((P + 1)); done
	redis-server --port "$P" --bind 127.0.0.1 --save '' --daemonize yes --pidfile "$OUT/redis.pid" \
		--logfile "$OUT/redis.log" --dir "$OUT"
	for _ in $(seq 50); do redis-cli -p "$P" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
	on_exit "kill \$(cat '$OUT/redis.pid')"
	printf '%s\n' '{"type":"init","protocol":1,"id":1,"host":"127.0.0.1","nodes":[{"name":"n1","host":"127.0.0.1"}],"op_timeout":2}' \
		'{"type":"setup","id":2}' \
		'{"type":"invoke","id":3,"process":0,"f":"txn","value":[["append",1,1],["r",1,null],["r",2,null]]}' \
		'{"type":"invoke","id":4,"process":0,"f":"txn","value":[["append",1,2],["append",2,5],["r",1,null]]}' \
		'{"type":"invoke","id":5,"process":0,"f":"txn","value":[["r",2,null]]}' |
		FAULTLINE_PORT=$P $PY examples/adapters/redis_append.py >"$OUT/append.out" 2>"$OUT/append.err"
	ok "list-append adapter: init_ok, setup ok, reads see the appends in order" jq -se '
		.[0].type == "init_ok" and .[1].type == "ok"
		and .[2] == {"type":"ok","value":[["append",1,1],["r",1,[1]],["r",2,[]]],"id":3}
		and .[3].value[2] == ["r",1,[1,2]] and .[4].value == [["r",2,[5]]]' "$OUT/append.out"
	if "$FAULTLINE" run --help | grep -q 'checkers.*elle'; then
		jq '.client.exec = ["'"$PY"'", "examples/adapters/redis_append.py"] | .workload = "append" | .nemesis = []' \
			examples/custom-db.json >"$OUT/append.json"
		run append "$OUT/append.json" --time-limit 4 --seed 4
		if [ $rc -eq 0 ]; then pass "list-append on custom Redis through the adapter: valid (elle)"
		else fail "list-append through the adapter: valid" "exit $rc: $(tail -3 "$OUT/append.err")"; fi
	else
		skip "list-append run judged by elle" "no elle checker in this build"
	fi
else
	skip "custom Redis" "redis-server, redis-cli or python3-redis missing (make deps)"
fi

# ---- misbehaving adapters cannot lose or corrupt a history line ----
export ADAPTERX_MODE=mixed ADAPTERX_AT=8 ADAPTERX_HUGE=300000 ADAPTERX_PIDS=$OUT/adapterx.pids
cat >"$OUT/mixed.json" <<EOF
{"db": "none", "client": {"exec": ["$ADAPTERX"], "max_line": 100000},
 "nemesis_opts": {"partition": {"grudges": ["one", "majority"]}}}
EOF
run mixed "$OUT/mixed.json" --time-limit 5 --op-timeout 0.3 --concurrency 2n --nemesis partition \
	--nemesis-interval 1.5 --seed 5
unset ADAPTERX_MODE ADAPTERX_AT ADAPTERX_HUGE ADAPTERX_PIDS
if [ -s "$dir/history.jsonl" ] && [ $rc -le 2 ]; then pass "misbehaving adapters on db none with partitions: a verdict (exit $rc)"
else fail "misbehaving adapters: a verdict" "exit $rc: $(tail -3 "$OUT/mixed.err")"; fi
ok "every history line well-formed, every invocation completed once, nothing forged" history_sound "$dir"
kinds=$(jq -rs '[.[] | select(.type == "info" and .process != "nemesis") | (.error // "")[0:22]] | unique | join("; ")' "$dir/history.jsonl")
n=$(jq -rs '[.[] | select(.type == "info" and .process != "nemesis" and (.error | test("^(timeout|adapter)")))] | length' "$dir/history.jsonl")
if [ "${n:-0}" -ge 10 ] && [ "$(tr ';' '\n' <<<"$kinds" | wc -l)" -ge 5 ]; then pass "$n misbehaviours became info ops ($kinds)"
else fail "misbehaviours became info ops" "$n: $kinds"; fi
ok "partitions were applied on db none" jq -se 'any(.process == "nemesis" and .f == "start-partition" and .type == "info")' "$dir/history.jsonl"
ok "adapter stderr is in faultline.log" grep -q 'stderr: adapterx: op 1 done' "$dir/faultline.log"
gone=1
while read -r p; do [ -d "/proc/$p" ] && gone=0; done <"$OUT/adapterx.pids"
ok "every adapter process is gone ($(wc -l <"$OUT/adapterx.pids") started)" test $gone -eq 1
"$FAULTLINE" check "$dir" >/dev/null 2>&1
ok "faultline check reproduces the verdict" test $? -eq "$rc"

done_testing
