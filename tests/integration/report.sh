#!/usr/bin/env bash
# tests/integration/report.sh - opens a run's report.html in headless
# Chromium and checks what a person would see: the page renders without a
# script error, every plot drew something, a screenshot is saved in
# $TEST_OUTPUT/report.png, nothing remote is referenced, and hostile values
# (<script>alert(1)</script> in an op value, the test name, an error and a
# log file name) stay text. Also checks junit.xml, the store index and
# `faultline report`'s exit codes.
#
# The run comes from a real `faultline run` against a local cluster
# (t-rep, 10.213.130.0/24, a few seconds with a partition) when the runner
# and cluster are available; otherwise from tests/tools/gen_run (a
# synthetic run directory), and the test says so.
source "$(dirname "$0")/../lib.sh"
need_root
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}

if ! command -v chromium >/dev/null; then
	skip "report in headless chromium" "chromium not installed (make deps)"
	done_testing; exit
fi

TMP=$(mktemp -d /tmp/faultline-report-test.XXXXXX)
[ -n "${KEEP:-}" ] || on_exit "rm -rf '$TMP'"
STORE=$TMP/store

chrome() { # url, extra flags...; prints the DOM after load
	local url=$1; shift
	local prof; prof=$(mktemp -d "$TMP/chrome.XXXXXX")
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --disable-extensions \
		--user-data-dir="$prof" --enable-logging=stderr --v=0 "$@" "$url" 2>>"$TMP/chrome.log"
}
attr() { # name, dom file -> value of <body data-NAME>
	grep -o "<body[^>]*>" "$2" | head -1 | grep -o "data-$1=\"[^\"]*\"" | cut -d'"' -f2
}

# ---- a run directory ----
RUN=""
if "$FAULTLINE" run --help >/dev/null 2>&1 && "$FAULTLINE" cluster --help >/dev/null 2>&1; then
	on_exit "'$FAULTLINE' cluster down --name t-rep"
	if "$FAULTLINE" cluster up --name t-rep --nodes 3 --subnet 10.213.130.0/24 >"$TMP/up.log" 2>&1; then
		"$FAULTLINE" run --cluster t-rep --workload register --nemesis partition \
			--nemesis-interval 2 --time-limit 6 --concurrency 6 --rate 200 --seed 3 \
			--store "$STORE" --test-count 1 >"$TMP/run.log" 2>&1
		rc=$?
		RUN=$(find "$STORE" -mindepth 2 -maxdepth 2 -type d ! -name latest | head -1)
		if [ -n "$RUN" ] && [ -f "$RUN/report.html" ] && [ "$rc" -le 2 ]; then
			pass "faultline run on t-rep wrote $(basename "$(dirname "$RUN")")/$(basename "$RUN")/report.html (exit $rc)"
		else
			fail "faultline run on t-rep wrote a report" "exit $rc: $(tail -3 "$TMP/run.log" | tr '\n' ' ')"
			RUN=""
		fi
	else
		fail "cluster up t-rep" "$(tail -3 "$TMP/up.log" | tr '\n' ' ')"
	fi
fi
# Without a local cluster in this build: a real run (no faults) against
# three sshd+etcd nodes on 127.0.0.1-3, as tests/integration/run.sh does.
if [ -z "$RUN" ] && "$FAULTLINE" run --help >/dev/null 2>&1 && command -v etcd >/dev/null &&
	command -v jq >/dev/null && [ -x /usr/sbin/sshd ]; then
	L=$TMP/lo
	mkdir -p "$L" /run/sshd && chmod 755 "$TMP" "$L"
	ssh-keygen -q -t ed25519 -N '' -f "$L/host_key"; ssh-keygen -q -t ed25519 -N '' -f "$L/client_key"
	cp "$L/client_key.pub" "$L/authorized_keys"
	PORT=2539; while ss -ltnH "sport = :$PORT" | grep -q .; do PORT=$((PORT + 1)); done
	{ for i in 1 2 3; do echo "ListenAddress 127.0.0.$i"; done
	  printf '%s\n' "Port $PORT" "HostKey $L/host_key" "AuthorizedKeysFile $L/authorized_keys" \
		"PermitRootLogin prohibit-password" "PasswordAuthentication no" "KbdInteractiveAuthentication no" \
		"UsePAM no" "StrictModes no" "SetEnv SHLVL=1" "Subsystem sftp internal-sftp" "PidFile $L/sshd.pid"
	} >"$L/sshd_config"
	for i in 1 2 3; do echo "[127.0.0.$i]:$PORT $(cut -d' ' -f1,2 "$L/host_key.pub")"; done >"$L/known_hosts"
	if /usr/sbin/sshd -f "$L/sshd_config" -E "$L/sshd.log"; then
		for _ in $(seq 20); do [ -s "$L/sshd.pid" ] && break; sleep 0.1; done
		on_exit "kill \$(cat '$L/sshd.pid')"
		jq -n --arg d "$L" --argjson port "$PORT" '{name: "report-loopback", nodes: [range(1; 4) | {name: "n\(.)",
			host: "127.0.0.\(.)", ssh_port: $port, workdir: "\($d)/w/n\(.)"}],
			ssh_private_key: "\($d)/client_key", known_hosts: "\($d)/known_hosts"}' >"$L/nodes.json"
		"$FAULTLINE" run "$L/nodes.json" --store "$STORE" --workload register --time-limit 6 \
			--concurrency 2n --seed 3 >"$TMP/run.out" 2>"$TMP/run.err"
		rc=$?
		RUN=$(tail -1 "$TMP/run.out")
		if [ -n "$RUN" ] && [ -f "$RUN/report.html" ] && [ "$rc" -le 2 ]; then
			echo "# real run on 3 loopback sshd+etcd nodes (no local cluster in this build, so no faults)"
			pass "faultline run on loopback nodes wrote report.html (exit $rc)"
		else
			fail "faultline run on loopback nodes wrote report.html" "exit $rc: $(tail -3 "$TMP/run.err" | tr '\n' ' ')"
			RUN=""
		fi
	fi
fi
GEN=$BUILD/tests/tools/gen_run
[ -x "$GEN" ] || { mkdir -p "$TMP/bin"; GEN=$TMP/bin/gen_run; cc -O2 -o "$GEN" tests/tools/gen_run.c; }
SYNTH=""
if [ -z "$RUN" ]; then
	echo "# no real run available: using a synthetic run directory from tests/tools/gen_run"
	SYNTH=1
	RUN=$STORE/synthetic/20260101T000000
	mkdir -p "$RUN"
	"$GEN" "$RUN" --ops 3000 --seed 1 && ln -s synthetic/20260101T000000 "$STORE/latest"
	# The verdict comes from the real checker (the generated history holds
	# one stale read), not from gen_run's stand-in results.json.
	"$FAULTLINE" check --json --timeout 60 "$RUN/history.jsonl" >"$TMP/check.json"
	rc=$?
	if [ $rc -eq 1 ] && jq -e '{valid: .valid, checkers: {linearizable: del(.file)}}' "$TMP/check.json" >"$RUN/results.json"; then
		pass "faultline check finds the generated stale read (exit 1)"
	else
		fail "faultline check finds the generated stale read" "exit $rc: $(head -c 300 "$TMP/check.json")"
	fi
	ok "faultline report on a synthetic run" "$FAULTLINE" report "$RUN"
fi

# ---- the page in a real browser ----
chrome "file://$RUN/report.html" --window-size=1400,2000 --screenshot="$TEST_OUTPUT/report.png" >/dev/null
if [ -s "$TEST_OUTPUT/report.png" ] && [ "$(stat -c %s "$TEST_OUTPUT/report.png")" -gt 20000 ]; then
	pass "screenshot saved: $TEST_OUTPUT/report.png"
else
	fail "screenshot saved" "$(tail -3 "$TMP/chrome.log")"
fi
chrome "file://$RUN/report.html" --window-size=1400,2000 --dump-dom >"$TMP/dom.html"
if [ "$(attr rendered "$TMP/dom.html")" = 1 ] && [ -z "$(attr errors "$TMP/dom.html")" ]; then
	pass "report rendered without script errors"
else
	fail "report rendered without script errors" "rendered=$(attr rendered "$TMP/dom.html") error=$(attr last-error "$TMP/dom.html")"
fi
if grep -qE "Uncaught|Refused to" "$TMP/chrome.log"; then
	fail "console: no uncaught error, no CSP violation" "$(grep -E 'Uncaught|Refused to' "$TMP/chrome.log" | head -3)"
else
	pass "console: no uncaught error, no CSP violation"
fi
ops=$(attr ops "$TMP/dom.html")
lat=$(attr latency-points "$TMP/dom.html")
bars=$(attr timeline-bars "$TMP/dom.html")
rate=$(attr rate-segments "$TMP/dom.html")
faults=$(attr fault-intervals "$TMP/dom.html")
hist_ops=$(grep -c '"type":"invoke","process":[0-9]' "$RUN/history.jsonl")
if [ "${ops:-0}" -gt 0 ] && [ "$ops" -eq "$hist_ops" ] && [ "${lat:-0}" -gt 0 ] &&
	[ "${bars:-0}" -gt 0 ] && [ "${rate:-0}" -gt 0 ]; then
	pass "plots drew the history: $ops ops ($hist_ops invokes in history.jsonl), $lat latency points, $bars timeline bars, $rate throughput segments"
else
	fail "plots non-empty" "ops=$ops/$hist_ops latency=$lat bars=$bars rate=$rate"
fi
hist_faults=$(grep -c '"type":"invoke","process":"nemesis","f":"start-' "$RUN/history.jsonl")
if [ "$hist_faults" -eq 0 ]; then
	skip "fault timeline shows the faults" "this run injected no fault"
elif [ "${faults:-0}" -ge "$hist_faults" ]; then
	pass "fault timeline shows $faults intervals ($hist_faults start ops in the history)"
else
	fail "fault timeline shows the faults" "drawn=$faults history=$hist_faults"
fi
if grep -q "Content-Security-Policy\" content=\"default-src 'none'" "$RUN/report.html" &&
	! grep -qiE "(src|href)=\"(https?:)?//" "$RUN/report.html"; then
	pass "report has a CSP forbidding remote loads and references nothing remote"
else
	fail "report has a CSP and no remote reference"
fi
if grep -q '"valid": *false' "$RUN/results.json" 2>/dev/null && grep -q '"concurrent"' "$RUN/results.json"; then
	cex=$(attr cex-ops "$TMP/dom.html")
	[ "${cex:-0}" -gt 0 ] && pass "counterexample drawn ($cex ops)" || fail "counterexample drawn" "cex-ops=$cex"
elif [ -z "$SYNTH" ]; then
	# The real run was valid: draw a counterexample the real checker finds
	# in a generated history holding one stale read.
	C=$TMP/cex
	"$GEN" "$C" --ops 2000 --seed 2 >/dev/null
	"$FAULTLINE" check --json --timeout 60 "$C/history.jsonl" >"$TMP/check2.json"
	jq -e '{valid: .valid, checkers: {linearizable: del(.file)}}' "$TMP/check2.json" >"$C/results.json"
	"$FAULTLINE" report "$C" >/dev/null
	chrome "file://$C/report.html" --window-size=1400,2000 --screenshot="$TEST_OUTPUT/report-counterexample.png" >/dev/null
	chrome "file://$C/report.html" --window-size=1400,2000 --dump-dom >"$TMP/cex.html"
	cex=$(attr cex-ops "$TMP/cex.html")
	if [ "${cex:-0}" -gt 0 ] && [ -z "$(attr errors "$TMP/cex.html")" ] && grep -q 'cannot be linearized' "$TMP/cex.html"; then
		pass "counterexample from the checker drawn ($cex ops; $TEST_OUTPUT/report-counterexample.png)"
	else
		fail "counterexample drawn" "cex-ops=$cex error=$(attr last-error "$TMP/cex.html")"
	fi
fi

# ---- hostile values stay text ----
X=$STORE/xss/20260101T000001
mkdir -p "$X/nodes/n1"
cp "$RUN/history.jsonl" "$RUN/test.json" "$X/"
[ -f "$RUN/results.json" ] && cp "$RUN/results.json" "$X/"
: >"$X/nodes/n1/<img src=x onerror=alert(4)>.log"
last=$(tail -1 "$X/history.jsonl" | grep -o '"index":[0-9]*' | cut -d: -f2)
t=$(tail -1 "$X/history.jsonl" | grep -o '"time":[0-9]*' | cut -d: -f2)
i=$((last + 1))
printf '%s\n' \
	"{\"index\":$i,\"time\":$((t + 1000)),\"type\":\"invoke\",\"process\":9999,\"f\":\"write\",\"key\":\"<b>k</b>\",\"value\":\"<script>alert(1)</script>\"}" \
	"{\"index\":$((i + 1)),\"time\":$((t + 2000)),\"type\":\"info\",\"process\":9999,\"f\":\"write\",\"key\":\"<b>k</b>\",\"value\":\"<script>alert(1)</script>\",\"node\":\"<i>n1</i>\",\"error\":\"<img src=x onerror=alert(2)>\"}" \
	>>"$X/history.jsonl"
sed -i 's/"name": *"[^"]*"/"name":"<script>alert(3)<\/script>"/' "$X/test.json"
grep -q '"name"' "$X/test.json" || sed -i 's/^{/{"name":"<script>alert(3)<\/script>",/' "$X/test.json"
ok "faultline report regenerates a run" "$FAULTLINE" report "$X"
chrome "file://$X/report.html#op=$i" --window-size=1400,2000 --dump-dom >"$TMP/xss.html"
scripts=$(grep -o "<script" "$TMP/xss.html" | wc -l)
if [ "$(attr rendered "$TMP/xss.html")" = 1 ] && [ -z "$(attr errors "$TMP/xss.html")" ] &&
	tr '\n' ' ' <"$TMP/xss.html" | grep -q '<pre id="op-detail">[^<]*&lt;script&gt;alert(1)&lt;/script&gt;' &&
	grep -q '&lt;script&gt;alert(3)&lt;/script&gt;</h1>' "$TMP/xss.html" &&
	grep -q '&lt;img src=x onerror=alert(2)&gt;' "$TMP/xss.html" &&
	! grep -q "<img src=x" "$TMP/xss.html" && ! grep -q "<script>alert" "$TMP/xss.html" &&
	[ "$scripts" -eq 2 ]; then
	pass "XSS: <script>alert(1)</script> in a value, test name, error and file name shows as text"
else
	fail "XSS values stay text" "rendered=$(attr rendered "$TMP/xss.html") scripts=$scripts"
fi
grep -q 'href="nodes/n1/%3Cimg%20src%3Dx%20onerror%3Dalert%284%29%3E.log"' "$X/report.html" &&
	pass "node log links are relative and percent-encoded" || fail "node log link encoded"

# ---- junit and the store index ----
if [ -f "$RUN/results.json" ]; then
	checkers=$(grep -o '"checkers"' "$RUN/results.json" | wc -l)
	if grep -q '<testsuite name=' "$RUN/junit.xml" && grep -q '<testcase ' "$RUN/junit.xml"; then
		if command -v python3 >/dev/null; then
			ok "junit.xml is well-formed XML" python3 -c 'import sys,xml.dom.minidom as m; m.parse(sys.argv[1])' "$X/junit.xml"
		else
			pass "junit.xml has a testsuite and testcases"
		fi
	else
		fail "junit.xml written" "$(head -3 "$RUN/junit.xml" 2>&1)"
	fi
	: "$checkers"
fi
if grep -q '&lt;script&gt;alert(3)&lt;/script&gt;' "$STORE/index.html" && ! grep -q '<script' "$STORE/index.html" &&
	grep -q "href=\"xss/20260101T000001/report.html\"" "$STORE/index.html"; then
	pass "store/index.html lists the runs, escaped"
else
	fail "store/index.html lists the runs, escaped"
fi

# ---- bad input ----
"$FAULTLINE" report "$TMP/nope" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 254 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && pass "report on a missing directory: exit 254, one line" ||
	fail "report on a missing directory" "exit $rc: $(cat "$TMP/err")"
mkdir -p "$TMP/bad" && echo '{"index":0,' >"$TMP/bad/history.jsonl" && echo '{nope' >"$TMP/bad/results.json"
"$FAULTLINE" report "$TMP/bad" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 254 ] && grep -q "results.json" "$TMP/err" && pass "report on a malformed results.json: exit 254 naming the file" ||
	fail "report on a malformed results.json" "exit $rc: $(cat "$TMP/err")"

done_testing
