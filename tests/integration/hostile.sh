#!/usr/bin/env bash
# tests/integration/hostile.sh - hostile values never reach a shell and
# never escape the report. Every hostile string here would, if it reached a
# shell unquoted, create the marker file /tmp/pwned-hostile-PID ($(...),
# backticks, ';') or break quoting (quotes, backslash); the marker must never
# appear, on this machine or on any node (the local cluster's nodes share
# this filesystem).
#  - config layer: hostile node names, hosts, workdirs with newlines, test
#    and fault names, fault options naming no node, unknown keys, a store
#    path with a newline, cluster names, --nodes specs: each refused with
#    exit 254 and one line, nothing started;
#  - a real run on a local cluster (t-hos, 10.213.150.0/24, --db none: etcd
#    is set up by the run) whose workdirs and store path are made of
#    $(...), backticks, ';', quotes and a backslash, with partition and kill
#    faults: valid, directories created with exactly those names, heal
#    with the same config, nothing left running;
#  - a tampered cluster.json (node name with $(...) or ../, host with ';',
#    workdir with a newline): run and heal refuse it with 254;
#  - a history whose keys, values, node names, errors and nemesis ops carry
#    HTML, $(...), ']]>' and newlines: check gives a verdict (JSONL and
#    EDN), the report and junit.xml keep every one as text (static check,
#    XML parse, and the DOM in headless Chromium when installed).
# shellcheck source=tests/lib.sh disable=SC2016 # single quotes keep $(...) literal on purpose
source "$(dirname "$0")/../lib.sh"
need_root
cd "$(dirname "$0")/../.." || exit 1
command -v jq >/dev/null || { skip "hostile values" "jq not installed (make deps)"; done_testing; exit; }

NAME=t-hos
SUBNET=10.213.150.0/24
NET=10.213.150
T=$(mktemp -d /tmp/faultline-hostile.XXXXXX)
chmod 755 "$T"
[ -n "${KEEP:-}" ] || on_exit "rm -rf '$T'"
P=/tmp/pwned-hostile-$$
on_exit "rm -f '$P'"
# Everything a shell would act on: substitution, backticks, a command
# separator, both quotes and a backslash. No newline: paths refuse those.
H="\$(touch $P)\`touch $P\`;touch $P;\"q\" 'x' \\ y"

unpwned() { # name
	if [ -e "$P" ]; then fail "$1: nothing executed" "$P exists"; rm -f "$P"; else pass "$1: nothing executed"; fi
}
# etcd processes started from this test's directory (the nodes share our pid space).
ours_running() { pgrep -f -- "$T" | grep -cvx "$$"; }

# reject NAME WANT_IN_MESSAGE faultline-args...: exit 254, one stderr line
# naming the cause, no marker, nothing started.
reject() {
	local name=$1 want=$2; shift 2
	"$FAULTLINE" "$@" >"$T/out" 2>"$T/err"
	local rc=$? lines
	lines=$(wc -l <"$T/err")
	if [ "$rc" -eq 254 ] && [ "$lines" -eq 1 ] && grep -qF -- "$want" "$T/err" && [ ! -e "$P" ] &&
		[ "$(ours_running)" -eq 0 ]; then
		pass "$name: 254, one line ($(cut -c1-110 "$T/err"))"
	else
		fail "$name" "exit $rc, $lines lines, marker $([ -e "$P" ] && echo present || echo absent): $(head -c 300 "$T/err")"
		rm -f "$P"
	fi
}

# ---- 1. the config layer refuses hostile names ----
KEYDIR=/run/faultline/clusters/$NAME
nodes_cfg() { # jq filter applied to a valid 3-node config
	jq -n --arg k "$KEYDIR" --arg t "$T" --arg net "$NET" '{nodes: [range(1; 4) |
		{name: "n\(.)", host: "\($net).1\(.)", workdir: "\($t)/w/n\(.)"}],
		ssh_private_key: "\($k)/id_ed25519", known_hosts: "\($k)/known_hosts",
		time_limit: 3, store: "\($t)/store"}' | jq "$1" >"$T/cfg.json"
	echo "$T/cfg.json"
}
reject "node name with \$(...)" "bad node name" run "$(nodes_cfg ".nodes[0].name = \"n1\$(touch $P)\"")"
reject "node name with ';' and quotes" "bad node name" run "$(nodes_cfg ".nodes[1].name = \"n2';touch $P;'\"")"
reject "node name with a newline" "bad node name" run "$(nodes_cfg '.nodes[2].name = "n3\nn4"')"
reject "node name ../.." "bad node name" run "$(nodes_cfg '.nodes[0].name = "../.."')"
reject "host with ';'" "bad host" run "$(nodes_cfg ".nodes[0].host = \"$NET.11;touch $P\"")"
reject "host with backticks" "bad host" run "$(nodes_cfg ".nodes[0].host = \"\`touch $P\`\"")"
reject "workdir with a newline" "workdir" run "$(nodes_cfg ".nodes[0].workdir = \"/tmp/a\\n\$(touch $P)\"")"
reject "relative workdir" "workdir" run "$(nodes_cfg '.nodes[0].workdir = "w"')"
reject "test name with \$(...)" "name:" run "$(nodes_cfg ".name = \"t\$(touch $P)\"")"
reject "fault name with ';'" "fault name" run "$(nodes_cfg ".nemesis = [\"partition;touch $P\"]")"
reject "partition group naming no node" "not a node" run \
	"$(nodes_cfg ".nemesis = [\"partition\"] | .nemesis_opts = {partition: {groups: [[\"n1\", \"\$(touch $P)\"], [\"n2\"]]}}")"
reject "kill target naming no node" "not a node" run \
	"$(nodes_cfg ".nemesis = [\"kill\"] | .nemesis_opts = {kill: {nodes: [\"n1;touch $P\"]}}")"
reject "unknown config key \$(...)" "unknown key" run "$(nodes_cfg ". + {\"\$(touch $P)\": 1}")"
reject "store path with a newline" "store" run "$(nodes_cfg '.store = "/tmp/a\nb"')"
reject "sudo_password_env naming no variable" "not set" run "$(nodes_cfg ".sudo_password_env = \"X;touch $P\"")"
reject "--nodes spec with ';'" "bad host" run --nodes "n1=$NET.11;touch $P" --time-limit 1
reject "--nodes name with \$(...)" "bad node name" run --nodes "n\$(touch $P)=$NET.11" --time-limit 1
reject "--workload with backticks" "workload" run --nodes "$NET.11" --workload "\`touch $P\`"
reject "heal --nodes with ';'" "bad host" heal --nodes "$NET.11;touch $P"
reject "cluster up --name with \$(...)" "--name" cluster up --name "\$(touch $P)"
reject "cluster down --name ../x" "--name" cluster down --name "../x"
# Careless input that was accepted or misreported (issue 13, item 11).
reject "misspelt flag before a value" "unknown option '--tim-limit'" run --nodes "$NET.11" --tim-limit 3
reject "--nemesis ,," "--nemesis: empty item" run --nodes "$NET.11" --nemesis ,,
reject "--nemesis ''" "--nemesis: empty item" run --nodes "$NET.11" --nemesis ''
reject "--nodes a,,b" "--nodes: empty item" run --nodes "$NET.11,,$NET.12"
reject "--time-limit 0x10" "--time-limit: expected a number" run --nodes "$NET.11" --time-limit 0x10
reject "options of a fault not enabled" "nemesis_opts.packet: fault packet is not enabled" \
	run "$(nodes_cfg '.nemesis = ["partition"] | .nemesis_opts = {packet: {loss: 0.1}}')"
reject "duplicate nodes name the file" "cfg.json: nodes[1]: duplicate host" \
	run "$(nodes_cfg '.nodes[1].host = .nodes[0].host')"
unpwned "config layer"

# ---- 2. a real run with hostile workdirs and store path ----
"$FAULTLINE" cluster down --name "$NAME" >/dev/null 2>&1
if ! "$FAULTLINE" cluster up --name "$NAME" --subnet "$SUBNET" --nodes 3 --db none >"$T/up.log" 2>&1; then
	fail "cluster up $NAME" "$(tail -3 "$T/up.log" | tr '\n' ' ')"
	done_testing; exit
fi
on_exit "'$FAULTLINE' cluster down --name $NAME"
pass "cluster up $NAME (3 nodes, --db none: etcd is the run's to set up)"
command -v etcd >/dev/null || { skip "runs" "etcd not installed (make deps)"; done_testing; exit; }
STORE="$T/store $H"
jq -n --arg k "$KEYDIR" --arg t "$T" --arg h "$H" --arg net "$NET" '{name: "hostile",
	nodes: [range(1; 4) | {name: "n\(.)", host: "\($net).1\(.)", workdir: "\($t)/w/n\(.) \($h)"}],
	ssh_private_key: "\($k)/id_ed25519", known_hosts: "\($k)/known_hosts",
	nemesis: ["partition", "kill"], nemesis_interval: 1, recovery_time: 1,
	concurrency: "2n", time_limit: 5, seed: 11}' >"$T/run.json"
"$FAULTLINE" run "$T/run.json" --store "$STORE" >"$T/run.out" 2>"$T/run.err"
rc=$?
RUN=$(tail -1 "$T/run.out")
if [ "$rc" -eq 0 ] && [ -f "$RUN/history.jsonl" ]; then
	pass "run with hostile workdirs and store path, partition + kill: valid (exit 0)"
else
	fail "run with hostile workdirs and store path" "exit $rc: $(tail -3 "$T/run.err" | tr '\n' ' ')"
fi
unpwned "hostile workdirs and store path"
ok "the store directory has exactly the hostile name" test -d "$STORE/hostile"
ok "each node's workdir has exactly the hostile name (etcd.log inside)" \
	bash -c 'for i in 1 2 3; do [ -f "$1/w/n$i $2/etcd.log" ] || exit 1; done' _ "$T" "$H"
ok "test.json records the workdirs verbatim" \
	jq -e --arg t "$T" --arg h "$H" '[.nodes[].workdir] == ["\($t)/w/n1 \($h)", "\($t)/w/n2 \($h)", "\($t)/w/n3 \($h)"]' "$RUN/test.json"
nf=$(jq -s '[.[] | select(.process == "nemesis" and .type == "info" and (.f | startswith("start-")))] | length' "$RUN/history.jsonl" 2>/dev/null)
if [ "${nf:-0}" -ge 1 ]; then pass "faults were applied on the hostile workdirs ($nf started)"
else fail "faults were applied" "no nemesis start op completed"; fi
"$FAULTLINE" heal "$T/run.json" >"$T/heal.out" 2>&1
ok "heal with the same config: exit 0" test $? -eq 0
unpwned "heal"
ok "nothing of the run left running" test "$(ours_running)" -eq 0

# ---- 3. a tampered cluster state file ----
S=$KEYDIR/cluster.json
cp "$S" "$T/cluster.json.orig"
tamper() { # name want jq-filter
	jq "$3" "$T/cluster.json.orig" >"$S"
	reject "tampered cluster.json, $1: run" "$2" run --cluster "$NAME" --time-limit 1 --store "$T/store2"
	reject "tampered cluster.json, $1: heal" "$2" heal --cluster "$NAME"
	cp "$T/cluster.json.orig" "$S"
}
tamper "node name \$(...)" "bad node name" ".nodes[0].name = \"n1\$(touch $P)\""
tamper "node name ../../x" "bad node name" '.nodes[1].name = "../../x"'
tamper "host with ';'" "bad host" ".nodes[2].host = \"$NET.13;touch $P\""
tamper "workdir with a newline" "workdir" ".nodes[0].workdir = \"/tmp/x\\n\$(touch $P)\""
ok "the restored cluster works again" "$FAULTLINE" heal --cluster "$NAME"
unpwned "tampered cluster.json"

# ---- 4. hostile histories: check and report ----
X=$T/xrun
mkdir -p "$X"
jq -n '{name: "hostile-history", db: "etcd", workload: "register", model: "register", nodes: [], nemesis: []}' >"$X/test.json"
K="k\$(touch $P)</script><img src=x onerror=alert(6)>"
jq -nc --arg k "$K" --arg p "$P" '
	{index: 0, time: 1000, type: "invoke", process: 0, f: "write", key: $k, value: "v<script>alert(1)</script>]]>"},
	{index: 1, time: 2000, type: "ok", process: 0, f: "write", key: $k, value: "v<script>alert(1)</script>]]>",
	 node: "n1<script>alert(7)</script>"},
	{index: 2, time: 2500, type: "invoke", process: "nemesis", f: "start-<img src=x onerror=alert(5)>",
	 value: {"<b>n1</b>": ["n2]]><!--"]}},
	{index: 3, time: 2600, type: "info", process: "nemesis", f: "start-<img src=x onerror=alert(5)>",
	 value: {"<b>n1</b>": ["n2]]><!--"]}},
	{index: 4, time: 3000, type: "invoke", process: 1, f: "read", key: $k, value: null},
	{index: 5, time: 4000, type: "ok", process: 1, f: "read", key: $k, value: "stale\n$(touch \($p))\u0000"},
	{index: 6, time: 5000, type: "invoke", process: 2, f: "write", key: "k2\n;touch \($p)", value: "`touch \($p)`"},
	{index: 7, time: 6000, type: "info", process: 2, f: "write", key: "k2\n;touch \($p)", value: "`touch \($p)`",
	 error: "<img src=x onerror=alert(8)>]]>\n$(touch \($p))"}' >"$X/history.jsonl"
"$FAULTLINE" check --json --timeout 30 "$X/history.jsonl" >"$T/check.json" 2>"$T/check.err"
rc=$?
if [ "$rc" -eq 1 ] && jq -e '.valid == false' "$T/check.json" >/dev/null; then
	pass "check on the hostile history: the stale read is found (exit 1)"
else
	fail "check on the hostile history gives the verdict" "exit $rc: $(head -c 300 "$T/check.json" "$T/check.err")"
fi
jq -e '{valid: .valid, checkers: {linearizable: del(.file)}}' "$T/check.json" >"$X/results.json" 2>/dev/null
"$FAULTLINE" report "$X" >"$T/report.out" 2>&1
rc=$?
if [ "$rc" -le 2 ] && [ -s "$X/report.html" ] && [ -s "$X/junit.xml" ]; then
	pass "report on the hostile history (exit $rc)"
else
	fail "report on the hostile history" "exit $rc: $(tail -3 "$T/report.out")"
fi
for f in report.html junit.xml; do
	if grep -qE '<img src=x|<script>alert|<b>n1</b>|<!--"' "$X/$f"; then
		fail "$f: hostile markup only escaped" "$(grep -oE '.{40}(<img src=x|<script>alert|<b>n1</b>).{20}' "$X/$f" | head -3)"
	else
		pass "$f: hostile markup only escaped"
	fi
done
if command -v python3 >/dev/null; then
	ok "junit.xml with ']]>', '<' and newlines is well-formed XML" \
		python3 -c 'import sys,xml.dom.minidom as m; m.parse(sys.argv[1])' "$X/junit.xml"
fi
if command -v chromium >/dev/null; then
	prof=$(mktemp -d "$T/chrome.XXXXXX")
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --disable-extensions \
		--user-data-dir="$prof" --window-size=1400,2000 --dump-dom "file://$X/report.html#op=5" \
		>"$T/dom.html" 2>"$T/chrome.log"
	body=$(grep -o '<body[^>]*>' "$T/dom.html" | head -1)
	if echo "$body" | grep -q 'data-rendered="1"' && ! echo "$body" | grep -q 'data-errors="[^"]' &&
		! grep -qE '<img src=x|<script>alert|<b>n1</b>' "$T/dom.html" &&
		grep -qF 'onerror=alert(6)&gt;' "$T/dom.html"; then
		pass "report in headless Chromium: every hostile value is text in the DOM"
	else
		fail "report DOM keeps hostile values as text" "$body $(grep -oE '.{30}(<img src=x|<script>alert).{20}' "$T/dom.html" | head -2)"
	fi
else
	skip "report DOM in headless Chromium" "chromium not installed (make deps)"
fi
# The same values in Jepsen's EDN: strings with quotes, escapes and $(...).
printf '[{:type :invoke, :f :write, :value ["k$(touch %s)" "v`touch %s`;\\"q\\""], :process 0}\n {:type :ok, :f :write, :value ["k$(touch %s)" "v`touch %s`;\\"q\\""], :process 0}\n {:type :invoke, :f :read, :value ["k$(touch %s)" nil], :process 1}\n {:type :ok, :f :read, :value ["k$(touch %s)" "other"], :process 1}]\n' \
	"$P" "$P" "$P" "$P" "$P" "$P" >"$T/h.edn"
"$FAULTLINE" check --model register "$T/h.edn" >"$T/edn.out" 2>&1
rc=$?
if [ "$rc" -eq 1 ]; then pass "EDN history with hostile strings: verdict invalid (exit 1)"
else fail "EDN history with hostile strings: verdict" "exit $rc: $(head -3 "$T/edn.out")"; fi
HF="$T/h \$(touch pwned);\`touch pwned\`'\"x.jsonl"
cp "$X/history.jsonl" "$HF"
(cd "$T" && "$FAULTLINE" check --model register "$HF" >/dev/null 2>&1)
rc=$?
ok "a history file named with \$(...), backticks and quotes is just a file (exit $rc)" \
	test "$rc" -eq 1 -a ! -e "$T/pwned"
unpwned "hostile histories"

done_testing
