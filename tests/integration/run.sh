#!/usr/bin/env bash
# tests/integration/run.sh - `faultline run` end to end on a real 5-node
# local etcd cluster (name t-run, subnet 10.213.110.0/24, removed on exit;
# in a build without `faultline cluster`, five real sshd+etcd nodes on
# 127.0.0.1-5 instead):
#  - a 20 s register run: every invoke paired with exactly one completion,
#    indexes 0..n-1, thousands of ops, a verdict, store layout, teardown;
#  - kill -9 of the controller mid-run: the history parses up to its last
#    full line, and the next run's setup copes with the etcd left behind;
#  - the same --seed twice: each process's op stream is a prefix of the
#    other run's;
#  - bad config and an unreachable node: one clear line, exit 254, nothing
#    left running on any node.
source "$(dirname "$0")/../lib.sh"
need_root
command -v etcd >/dev/null || { skip "run" "etcd not installed (make deps)"; done_testing; exit; }
command -v jq >/dev/null || { skip "run" "jq not installed (make deps)"; done_testing; exit; }

NAME=t-run
SUBNET=10.213.110.0/24
STORE=$TEST_OUTPUT/run-store
OUT=$TEST_OUTPUT/run
rm -rf "$STORE" "$OUT"; mkdir -p "$OUT"
"$FAULTLINE" cluster down --name "$NAME" >/dev/null 2>&1
if "$FAULTLINE" cluster up --nodes 5 --name "$NAME" --subnet "$SUBNET" >"$OUT/up.log" 2>&1; then
	on_exit "\"$FAULTLINE\" cluster down --name $NAME"
	pass "cluster up ($NAME, 5 nodes)"
	TARGET=(--cluster "$NAME")
	ETCD_PAT="clusters/$NAME/.*etcd"
	STATE=/run/faultline/clusters/$NAME
	KEY=$(jq -r .private_key "$STATE/cluster.json") KH=$(jq -r .known_hosts "$STATE/cluster.json")
	HOSTS=$(jq -r '.nodes | map(.host) | join(",")' "$STATE/cluster.json")
	PORTSFX="" UNREACH=10.213.110.250
else
	# No local cluster in this build: five nodes on 127.0.0.1-5 behind an
	# sshd of our own, each with its own workdir (same code path: SSH).
	"$FAULTLINE" cluster down --name "$NAME" >/dev/null 2>&1
	echo "# faultline cluster up failed ($(tail -1 "$OUT/up.log")): using 127.0.0.1-5"
	D=$OUT/loop; mkdir -p "$D/w"; chmod 755 "$D"
	ssh-keygen -q -t ed25519 -N '' -f "$D/host_key"; ssh-keygen -q -t ed25519 -N '' -f "$D/client_key"
	cp "$D/client_key.pub" "$D/authorized_keys"; mkdir -p /run/sshd
	PORT=2419; while ss -ltnH "sport = :$PORT" | grep -q .; do PORT=$((PORT + 1)); done
	{ for i in 1 2 3 4 5; do echo "ListenAddress 127.0.0.$i"; done
	  printf '%s\n' "Port $PORT" "HostKey $D/host_key" "AuthorizedKeysFile $D/authorized_keys" \
		"PermitRootLogin prohibit-password" "PasswordAuthentication no" "KbdInteractiveAuthentication no" \
		"UsePAM no" "StrictModes no" "SetEnv SHLVL=1" "Subsystem sftp internal-sftp" "PidFile $D/sshd.pid"
	} >"$D/sshd_config"
	for i in 1 2 3 4 5; do echo "[127.0.0.$i]:$PORT $(cut -d' ' -f1,2 "$D/host_key.pub")"; done >"$D/known_hosts"
	/usr/sbin/sshd -f "$D/sshd_config" -E "$D/sshd.log" || { fail "test sshd" "$(tail -2 "$D/sshd.log")"; done_testing; exit; }
	for _ in $(seq 20); do [ -s "$D/sshd.pid" ] && break; sleep 0.1; done
	on_exit "kill \$(cat '$D/sshd.pid')"
	pass "test sshd for 127.0.0.1-5 (no local cluster in this build)"
	jq -n --arg d "$D" --argjson port "$PORT" '{nodes: [range(1; 6) | {name: "n\(.)",
		host: "127.0.0.\(.)", ssh_port: $port, workdir: "\($d)/w/n\(.)"}],
		ssh_private_key: "\($d)/client_key", known_hosts: "\($d)/known_hosts"}' >"$D/nodes.json"
	TARGET=("$D/nodes.json")
	ETCD_PAT="$D/w/n"
	KEY=$D/client_key KH=$D/known_hosts
	HOSTS=$(echo 127.0.0.{1..5} | tr ' ' ',') PORTSFX=":$PORT" UNREACH=127.0.0.6
	HOSTS=${HOSTS//,/$PORTSFX,}$PORTSFX
fi

# etcd processes of this test still alive (the nodes share our pid space).
etcd_count() { pgrep -fc "$ETCD_PAT"; }

run() { # name, args... -> $OUT/name.{out,err,rc}
	local n=$1; shift
	"$FAULTLINE" run "${TARGET[@]}" --store "$STORE" "$@" >"$OUT/$n.out" 2>"$OUT/$n.err"
	echo $? >"$OUT/$n.rc"
}

# jq over a history: processes' types alternate invoke/completion, and an
# info is always the last op of its process (retired).
PAIRED='map(select(.process != "nemesis")) | group_by(.process) | map(map(.type)) |
  all(. as $t | ($t | length) % 2 == 0 and
      all(range(0; $t | length); if . % 2 == 0 then $t[.] == "invoke" else $t[.] != "invoke" end) and
      all(range(0; ($t | length) - 1); $t[.] != "info"))'
INDEXES='[.[].index] == [range(length)]'

# 1. A 20 s run.
run main --workload register --time-limit 20 --concurrency 10 --seed 7
DIR=$(tail -1 "$OUT/main.out")
H=$DIR/history.jsonl
rc=$(cat "$OUT/main.rc")
if [ "$rc" = 0 ]; then pass "20 s register run: valid (exit 0)"
else fail "20 s register run: valid (exit 0)" "exit $rc: $(tail -3 "$OUT/main.err" | tr '\n' ' ')"; fi
if [ -s "$H" ]; then
	ok "history: indexes 0..n-1" jq -es "$INDEXES" "$H"
	ok "history: every invoke has exactly one completion" jq -es "$PAIRED" "$H"
	n=$(jq -s 'map(select(.type == "invoke")) | length' "$H")
	if [ "$n" -ge 2000 ]; then pass "history: thousands of ops ($n)"; else fail "history: thousands of ops" "only $n"; fi
	ok "history: clients bound to all 5 nodes" jq -es '[.[] | select(.type == "ok") | .node] | unique | length == 5' "$H"
else
	fail "history written" "no $H"
fi
ok "results.json says valid" jq -e '.valid == true and .checkers.linearizable.valid == true' "$DIR/results.json"
ok "test.json has the resolved config" jq -e '.seed == 7 and .concurrency == 10 and (.nodes | length) == 5' "$DIR/test.json"
ok "store/latest points at the run" test "$(readlink -f "$STORE/latest")" = "$(readlink -f "$DIR")"
ok "faultline.log written" test -s "$DIR/faultline.log"
ok "node logs downloaded into nodes/<node>/" test -n "$(ls -A "$DIR/nodes/n1" 2>/dev/null)"
ok "report.html and junit.xml written" test -s "$DIR/report.html" -a -s "$DIR/junit.xml"
ok "db torn down: no etcd left running" test "$(etcd_count)" -eq 0

# 2. kill -9 of the controller mid-run.
"$FAULTLINE" run "${TARGET[@]}" --store "$STORE" --time-limit 60 --concurrency 10 \
	>"$OUT/killed.out" 2>"$OUT/killed.err" &
pid=$!
for _ in $(seq 1 60); do # wait until ops are flowing
	sleep 0.5
	K=$(readlink -f "$STORE/latest")/history.jsonl
	[ "$K" != "$H" ] && [ -s "$K" ] && [ "$(wc -l <"$K")" -gt 500 ] && break
done
kill -9 "$pid"; wait "$pid" 2>/dev/null
K=$(readlink -f "$STORE/latest")/history.jsonl
if [ "$K" != "$H" ] && [ -s "$K" ]; then
	# Every complete line parses; at most the last (unterminated) one is torn.
	full=$(wc -l <"$K")
	ok "kill -9: every full line of history.jsonl parses ($full lines)" \
		bash -c "head -n $full '$K' | jq -es '$INDEXES'"
	"$FAULTLINE" check "$K" >"$OUT/killed-check.out" 2>&1; crc=$?
	if [ "$crc" -le 2 ]; then pass "kill -9: faultline check reads it (exit $crc)"
	else fail "kill -9: faultline check reads it" "exit $crc: $(tail -2 "$OUT/killed-check.out")"; fi
else
	fail "kill -9: a history was being written" "no history at $K"
fi

# 3. The same seed twice (the first run also shows setup copes with the
#    etcd the killed controller left behind).
run seed1 --time-limit 5 --concurrency 10 --seed 4242
run seed2 --time-limit 5 --concurrency 10 --seed 4242
A=$(tail -1 "$OUT/seed1.out")/history.jsonl B=$(tail -1 "$OUT/seed2.out")/history.jsonl
ok "runs after kill -9 succeed (exit 0, 0)" test "$(cat "$OUT/seed1.rc")$(cat "$OUT/seed2.rc")" = 00
PREFIX='def s(h): h | map(select(.type == "invoke")) | group_by(.process) |
    map({key: (.[0].process | tostring), value: map([.f, .value])}) | from_entries;
  s($a) as $x | s($b) as $y | [$x | keys[] | select($y[.] != null)] as $ps |
  ($ps | length) >= 10 and
  all($ps[]; . as $p | ([($x[$p] | length), ($y[$p] | length)] | min) as $m |
      $m >= 20 and $x[$p][0:$m] == $y[$p][0:$m])'
ok "same --seed: every process's op stream is a prefix of the other run's" \
	jq -en --slurpfile a "$A" --slurpfile b "$B" "$PREFIX"
run seed3 --time-limit 3 --concurrency 10 --seed 4243
C=$(tail -1 "$OUT/seed3.out")/history.jsonl
ok_not "a different --seed gives different streams" \
	jq -en --slurpfile a "$A" --slurpfile b "$C" "$PREFIX"
ok "no etcd left running after the runs" test "$(etcd_count)" -eq 0

# 4. Bad config / unreachable node: one line, 254, nothing touched.
run badflag --time-limit abc
ok "bad flag: exit 254" test "$(cat "$OUT/badflag.rc")" = 254
ok "bad flag: one line naming it" bash -c "[ \$(wc -l <'$OUT/badflag.err') -eq 1 ] && grep -q -- '--time-limit' '$OUT/badflag.err'"
echo '{"workload":"register","time_limit":5,"concurency":3}' >"$OUT/bad.json"
"$FAULTLINE" run "$OUT/bad.json" --store "$STORE" >/dev/null 2>"$OUT/badkey.err"; rc=$?
ok "unknown config key: exit 254" test "$rc" = 254
ok "unknown config key: the line names file and key" grep -q "bad.json: concurency: unknown key" "$OUT/badkey.err"
"$FAULTLINE" run --nodes "$HOSTS,$UNREACH$PORTSFX" --ssh-private-key "$KEY" --known-hosts "$KH" \
	--ssh-timeout 2 --store "$STORE" --time-limit 5 >/dev/null 2>"$OUT/unreach.err"; rc=$?
ok "unreachable node: exit 254" test "$rc" = 254
ok "unreachable node: one line naming the node" \
	bash -c "[ \$(wc -l <'$OUT/unreach.err') -eq 1 ] && grep -q 'n6' '$OUT/unreach.err'"
ok "unreachable node: nothing started on any node" test "$(etcd_count)" -eq 0

done_testing
