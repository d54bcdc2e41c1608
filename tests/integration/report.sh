#!/usr/bin/env bash
# tests/integration/report.sh - opens reports in headless Chromium and
# checks, from the DOM, what a person holding an INVALID verdict needs
# (issue 19: "from invalid to why in 30 seconds, for every checker"):
#
#  - a real run shaped like the demo's serializable run (partition and
#    kill, serializable reads: stale reads; 3 nodes, 15 s) on a local cluster
#    (t-rep-it, 10.213.151.0/24); its report is checked against its own
#    history.jsonl and results.json: the failures table (every failure, its
#    op, node and the faults active then, computed here independently),
#    the headline, failure ticks on every time chart, the ops that set the
#    state before a stale read (in linearization order, with states), the
#    timeline's key filter, search by completion index, labels and
#    zoomed-out colours, expected outcomes apart from errors, the wall
#    clock on hover, no horizontal overflow at 800 px; screenshots at 1400
#    and 800 px go to $TEST_OUTPUT;
#  - tests/report/elle-run (hand-made results.json in the Elle checker's
#    shapes): transaction cycles drawn as boxes and labelled edges with
#    Elle's explanation, a non-cycle anomaly, and a kind without a renderer
#    shown as readable, escaped JSON;
#  - tests/report/etcd-runs (histories of real etcd runs of set, bank,
#    counter and lock, doctored here: elements lost in a partition, money
#    destroyed during a kill, counter reads out of bounds, a paused lock
#    holder writing after the next one), judged by the real checkers: the
#    set-full, bank, counter and lock renderers drawn from what the checkers
#    wrote; insufficient funds counted as expected outcomes;
#  - hostile values (<script>alert(1)</script> in an op value, the test
#    name, an error and a log file name) stay text; junit.xml is XML 1.0
#    (xmllint) even with U+FFFF in values; the store index's columns and
#    test filter (ops: client invocations); `faultline report`'s exit codes.
source "$(dirname "$0")/../lib.sh"
need_root
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
CLUSTER=t-rep-it
SUBNET=10.213.151.0/24

if ! command -v chromium >/dev/null || ! command -v jq >/dev/null; then
	skip "report in headless chromium" "chromium or jq not installed (make deps)"
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
	rm -rf "$prof"
}
dom() { # url, dom file, [width], [screenshot file]
	chrome "$1" --window-size="${3:-1400},${5:-2000}" ${4:+--screenshot="$4"} --dump-dom >"$2"
}
attr() { # name, dom file -> value of <body data-NAME>
	tr '\n' ' ' <"$2" | grep -o "<body[^>]*>" | head -1 | grep -o "data-$1=\"[^\"]*\"" | cut -d'"' -f2
}
rendered_clean() { # dom file -> success if the page rendered without a script error
	[ "$(attr rendered "$1")" = 1 ] && [ -z "$(attr errors "$1")" ]
}
# The cells of the failures table's rows, one line per row, separated by
# US (0x1f): number, what, key, op, process, node, time, faults.
US=$'\x1f'
fail_rows() {
	perl -0777 -ne 'while (/<tr data-failure="(\d+)"[^>]*>(.*?)<\/tr>/gs) { my ($n, $r) = ($1, $2);
		my @c = map { s/<[^>]*>//gr } ($r =~ /<td[^>]*>(.*?)<\/td>/gs); print join("\x1f", @c), "\n" }' "$1"
}

# ---- a real run: the demo's serializable run, shorter ----
on_exit "'$FAULTLINE' cluster down --name $CLUSTER"
RUN=""
if "$FAULTLINE" cluster up --name "$CLUSTER" --nodes 3 --subnet "$SUBNET" >"$TMP/up.log" 2>&1; then
	"$FAULTLINE" run --cluster "$CLUSTER" --name demo-serializable --workload register \
		--nemesis partition,kill --nemesis-interval 3 --concurrency 2n --time-limit 15 \
		--read-mode serializable --recovery-time 2 --seed 7 --store "$STORE" >"$TMP/run.out" 2>"$TMP/run.err"
	rc=$?
	RUN=$(tail -1 "$TMP/run.out")
	if [ $rc -eq 1 ] && [ -f "$RUN/report.html" ]; then
		pass "demo-like run with serializable reads on $CLUSTER is invalid and wrote report.html"
	else
		fail "demo-like run with serializable reads is invalid" "exit $rc: $(tail -3 "$TMP/run.err" | tr '\n' ' ')"
		RUN=""
	fi
else
	fail "cluster up $CLUSTER" "$(tail -3 "$TMP/up.log" | tr '\n' ' ')"
fi
"$FAULTLINE" cluster down --name "$CLUSTER" >/dev/null 2>&1

if [ -n "$RUN" ]; then
	H=$RUN/history.jsonl
	# ops: invoke index, process, f, key, invoke time, completion type, time, node
	jq -r 'select(.process != "nemesis") | [.index, .process, .type, .f, (.key // ""), .time, (.node // ""), (.error // "")] | @tsv' "$H" |
		awk -F'\t' '$3 == "invoke" { open[$2] = $1; f[$1] = $4; k[$1] = $5; t0[$1] = $6; next }
			($2 in open) { i = open[$2]; delete open[$2]; print i "|" f[i] "|" k[i] "|" t0[i] "|" $3 "|" $6 "|" $7 "|" $1 }' >"$TMP/ops.txt"
	# fault intervals as report.c builds them: start-X invoke .. stop-X completion
	jq -r 'select(.process == "nemesis") | [.type, .f, .time] | @tsv' "$H" |
		awk -F'\t' '$1 == "invoke" { f = $2; t = $3; next }
			$1 == "fail" { next }
			f ~ /^start-/ { k = substr(f, 7); open[k] = t; next }
			f ~ /^stop-/ { k = substr(f, 6); if (k in open) { print open[k] "\t" $3; delete open[k] }; next }
			{ print t "\t" $3 }
			END { for (k in open) print open[k] "\t" 9e18 }' >"$TMP/faults.tsv"
	jq -c '.checkers.linearizable.failures[]' "$RUN/results.json" >"$TMP/failures.jsonl"
	nfail=$(wc -l <"$TMP/failures.jsonl")

	dom "file://$RUN/report.html" "$TMP/dom.html" 1400 "$TEST_OUTPUT/report-1400.png" 3000
	if rendered_clean "$TMP/dom.html" && ! grep -qE "Uncaught|Refused to" "$TMP/chrome.log"; then
		pass "report rendered without script errors or CSP violations (screenshots: $TEST_OUTPUT/report-1400.png, report-800.png)"
	else
		fail "report rendered without script errors" "error=$(attr last-error "$TMP/dom.html") $(grep -E 'Uncaught|Refused to' "$TMP/chrome.log" | head -2)"
	fi

	# 1. every failure in the table, with its op, node and the faults then
	fail_rows "$TMP/dom.html" >"$TMP/rows.txt"
	bad=""
	n=0
	while read -r f; do
		n=$((n + 1))
		ix=$(jq -r '.op.index' <<<"$f")
		IFS='|' read -r _ _ key t0 _ t1 node _ < <(awk -F'|' -v i="$ix" '$1 == i' "$TMP/ops.txt")
		during=$(awk -F'\t' -v a="$t0" -v b="$t1" '$1 <= b && $2 >= a { n++ } END { print n + 0 }' "$TMP/faults.tsv")
		row=$(awk -F"$US" -v n="$n" '$1 == n' "$TMP/rows.txt")
		IFS=$US read -r _ what rkey op _ rnode _ rfaults <<<"$row"
		# a read that saw an older state is a stale read; other ops are named
		opf=$(jq -r '.op.f' <<<"$f")
		if [ "$opf" = read ]; then want="stale read|read of a value never written"; else want="$opf that cannot be linearized"; fi
		[ "$rkey" = "$key" ] && [[ $op == *"#$ix" ]] && [ "$rnode" = "$node" ] && [[ "|$want|" == *"|$what|"* ]] &&
			{ { [ "$during" -gt 0 ] && [ "$rfaults" != none ]; } || { [ "$during" -eq 0 ] && [ "$rfaults" = none ]; }; } ||
			bad="$bad [failure $n: op #$ix key $key node $node faults $during; row: ${row//$US/ | }]"
	done <"$TMP/failures.jsonl"
	if [ "$nfail" -gt 0 ] && [ "$(attr failure-rows "$TMP/dom.html")" = "$nfail" ] && [ -z "$bad" ]; then
		pass "failures table: all $nfail failures, each with its op, key, node (from history.jsonl) and the faults active then"
	else
		fail "failures table rows match results.json and history.jsonl" "rows=$(attr failure-rows "$TMP/dom.html")/$nfail$bad"
	fi
	headline=$(perl -0777 -ne 'print $1 if /<p id="headline">(.*?)<\/p>/s' "$TMP/dom.html")
	nkeys=$(jq -r 'select(.process != "nemesis") | .key // empty' "$H" | sort -u | grep -c .)
	during=0
	while read -r f; do
		ix=$(jq -r '.op.index' <<<"$f")
		IFS='|' read -r _ _ _ t0 _ t1 _ _ < <(awk -F'|' -v i="$ix" '$1 == i' "$TMP/ops.txt")
		d=$(awk -F'\t' -v a="$t0" -v b="$t1" '$1 <= b && $2 >= a { n++ } END { print n + 0 }' "$TMP/faults.tsv")
		[ "$d" -gt 0 ] && during=$((during + 1))
	done <"$TMP/failures.jsonl"
	if [ "$during" -eq 0 ]; then want_d="during a fault"; else want_d="$during of $nfail during faults"; fi
	# "5 stale reads, 1 cas that cannot be linearized on 6 of 16 keys, ..."
	counted=$(sed 's/ on [0-9]* of [0-9]* keys.*//' <<<"$headline" | tr ',' '\n' | awk '{ n += $1 } END { print n + 0 }')
	# (a failure listed briefly without its prefix cannot be classified)
	nread=$(jq -r 'select(.op.f == "read" and .prefix != null) | .key' "$TMP/failures.jsonl" | wc -l)
	nfk=$(jq -r '.key' "$TMP/failures.jsonl" | sort -u | wc -l)
	if [ "$counted" -eq "$nfail" ] && { [ "$nread" -eq 0 ] || [[ $headline == *"$nread stale read"* ]]; } &&
		[[ $headline == *" on $nfk of $nkeys keys"* ]] && [[ $headline == *"$want_d"* ]] && [[ $headline == *"served by"* ]]; then
		pass "headline: $headline"
	else
		fail "headline counts failures, keys, nodes and faults" "got '$headline', want $nfail failures ($nread stale reads) on $nfk of $nkeys keys, '$want_d'"
	fi

	# 2. failures ticked on the shared time axis of every chart
	t=""
	for c in faults latency quantiles rate timeline; do t="$t $c=$(attr "ticks-$c" "$TMP/dom.html")"; done
	if [ "$(echo "$t" | tr ' ' '\n' | grep -c "=$nfail\$")" -eq 5 ]; then
		pass "failures ticked on the faults, latency, quantile, throughput and operations charts ($t)"
	else
		fail "failure ticks on every chart" "$t (want $nfail each)"
	fi

	# 3. a stale read's cause: the ops that set the state, completed before it began, with states
	f1=$(head -1 "$TMP/failures.jsonl")
	ix=$(jq -r '.op.index' <<<"$f1")
	fkey=$(jq -r '.key' <<<"$f1")
	IFS='|' read -r _ _ _ bt0 _ _ _ _ < <(awk -F'|' -v i="$ix" '$1 == i' "$TMP/ops.txt")
	cause=$(attr lin-cause "$TMP/dom.html")
	ok_cause=1
	for c in ${cause//,/ }; do
		IFS='|' read -r _ cf ck _ cty ct1 _ _ < <(awk -F'|' -v i="$c" '$1 == i' "$TMP/ops.txt")
		{ [ "$cf" = write ] || [ "$cf" = cas ]; } && [ "$ck" = "$fkey" ] && [ "$cty" = ok ] && [ "$ct1" -lt "$bt0" ] || ok_cause=0
	done
	# Early in a run the write may still be in flight (not done before the
	# stale read began) while a read that finished before saw its value:
	# then that read is the cause, and no write is.
	seen_before=""
	[ -z "$cause" ] && seen_before=$(jq -r --arg k "$fkey" --argjson t "$bt0" --argjson v "$(jq -c '.op.value' <<<"$f1")" '
		select(.process != "nemesis" and .f == "read" and .type == "ok" and (.key | tostring) == $k
			and .time < $t and .value != $v) | .index' "$H" | head -1)
	if { [ -n "$cause" ] || [ -n "$seen_before" ]; } && [ $ok_cause = 1 ] && [ "$(attr lin-states "$TMP/dom.html")" -gt 0 ] &&
		grep -q 'impossible: the state is' "$TMP/dom.html"; then
		if [ -n "$cause" ]; then
			pass "failure 1 (op #$ix, key $fkey) shows the ops that set the state before it began (#${cause//,/, #}) in linearization order with model states"
		else
			pass "failure 1 (op #$ix, key $fkey): no write done before it began, a read done before it (completion #$seen_before) saw another value; model states shown"
		fi
	else
		fail "counterexample shows its cause" "lin-cause=$cause (each must be an ok write/cas on key $fkey done before $bt0) states=$(attr lin-states "$TMP/dom.html")"
	fi
	if perl -0777 -ne 'exit(!(/<div id="cex">(.*?)<\/section>/s && $1 !~ /\bnil\b/))' "$TMP/dom.html"; then
		pass "counterexample writes null as null (never nil)"
	else
		fail "counterexample says null, not nil"
	fi

	# 4. timeline: key filter, search by completion index, labels, faults chart follows the zoom, colours
	comp=$(awk -F'|' -v k="$fkey" '$3 == k { print $8; exit }' "$TMP/ops.txt")
	inv=$(awk -F'|' -v k="$fkey" '$3 == k { print $1; exit }' "$TMP/ops.txt")
	nk=$(awk -F'|' -v k="$fkey" '$3 == k' "$TMP/ops.txt" | wc -l)
	nk_open=$(jq -r --arg k "$fkey" 'select(.process != "nemesis" and .type == "invoke" and .key == $k) | .index' "$H" | wc -l)
	dom "file://$RUN/report.html#key=$fkey&op=$comp&probe=latency:$ix" "$TMP/tl.html"
	if rendered_clean "$TMP/tl.html" && [ "$(attr timeline-filtered "$TMP/tl.html")" = "$nk_open" ] &&
		[ "$(attr find-result "$TMP/tl.html")" = "$inv" ] && [ "$(attr timeline-labels "$TMP/tl.html")" -gt 0 ] &&
		[ "$(attr faults-view "$TMP/tl.html")" = "$(attr view "$TMP/tl.html")" ] &&
		[ "$(attr view "$TMP/tl.html")" != "$(attr view "$TMP/dom.html")" ]; then
		pass "timeline: key $fkey filter shows its $nk_open ops; completion #$comp finds op #$inv; $(attr timeline-labels "$TMP/tl.html") labels when zoomed; faults chart follows the zoom"
	else
		fail "timeline filter, search, labels, zoom" "filtered=$(attr timeline-filtered "$TMP/tl.html")/$nk_open ($nk completed) find=$(attr find-result "$TMP/tl.html")/$inv labels=$(attr timeline-labels "$TMP/tl.html") view=$(attr view "$TMP/tl.html") faults-view=$(attr faults-view "$TMP/tl.html") error=$(attr last-error "$TMP/tl.html")"
	fi
	# Zoomed out, a lane whose ops never failed with an error has no red
	# cell, however many of its cas ops failed their compare.
	nexp=$(jq -r 'select(.type == "fail" and .f == "cas" and .error == "compare failed") | .index' "$H" | wc -l)
	conc=$(attr timeline-by-worker "$TMP/dom.html")
	jq -r 'select(.type == "fail" and .process != "nemesis" and .error != "compare failed") | .process' "$H" |
		awk -v c="$conc" '{ print (c > 0 ? $1 % c : $1) }' | sort -u >"$TMP/err-lanes.txt"
	clean=0 clean_exp=0 clean_red=0
	for l in $(attr timeline-lanes "$TMP/dom.html"); do
		IFS=: read -r lane red exp <<<"$l"
		grep -qx "$lane" "$TMP/err-lanes.txt" && continue
		clean=$((clean + 1)); clean_exp=$((clean_exp + exp)); clean_red=$((clean_red + red))
	done
	if [ "$nexp" -gt 0 ] && [ "$clean" -gt 0 ] && [ "$clean_exp" -gt 0 ] && [ "$clean_red" -eq 0 ]; then
		pass "zoomed out, $clean lanes without client errors show their compare-failed cas ($clean_exp cells) and no red ($nexp compare-failed in all)"
	else
		fail "zoomed-out colours keep expected outcomes apart" "lanes without errors: $clean, their red cells $clean_red, expected cells $clean_exp; lanes: $(attr timeline-lanes "$TMP/dom.html")"
	fi

	# 5. expected outcomes are not errors; errors grouped, with node names
	errs=$(perl -0777 -ne 'print $1 if /<table class="q" id="errors">(.*?)<\/table>/s' "$RUN/report.html")
	if grep -q "Expected outcomes, not errors: <b>$nexp</b> cas <i>fail</i> &ldquo;compare failed&rdquo;" "$RUN/report.html" &&
		! grep -q "compare failed" <<<"$errs" && ! grep -qE "after [0-9]+ ms|10\.213\." <<<"$errs"; then
		pass "$nexp compare-failed cas counted as expected outcomes; errors grouped without 'after N ms', node names for addresses"
	else
		fail "expected outcomes apart from errors" "$(grep -o 'Expected outcomes[^.]*' "$RUN/report.html" | head -1) / $nexp; errors: $(head -c 300 <<<"$errs")"
	fi

	# 6, 7. latency by op with hover; wall clock; links to logs and junit.xml
	tipx=$(attr probe-tip "$TMP/tl.html")
	legend=$(perl -0777 -ne 'print $1 if /<div class="legend" id="lat-legend">(.*?)<\/div>/s' "$TMP/dom.html" | sed 's/<[^>]*>/ /g')
	# The hover picks the point nearest the mouse: another op drawn on the
	# same spot (invoked within 1 ms, latency within 0.5 ms) is a fair answer.
	tip_ix=$(sed -n 's/^op #\([0-9]*\) .*/\1/p' <<<"$tipx")
	same_spot=0
	if [ -n "$tip_ix" ] && [ "$tip_ix" != "$ix" ]; then
		IFS='|' read -r _ _ _ a0 _ a1 _ _ < <(awk -F'|' -v i="$ix" '$1 == i' "$TMP/ops.txt")
		IFS='|' read -r _ _ _ b0 _ b1 _ _ < <(awk -F'|' -v i="$tip_ix" '$1 == i' "$TMP/ops.txt")
		[ -n "$a0" ] && [ -n "$b0" ] && awk -v a0="$a0" -v a1="$a1" -v b0="$b0" -v b1="$b1" 'BEGIN {
			d = a0 - b0; l = (a1 - a0) - (b1 - b0); exit !((d < 0 ? -d : d) < 1e6 && (l < 0 ? -l : l) < 5e5) }' && same_spot=1
	fi
	if { [[ $tipx == "op #$ix "* ]] || [ $same_spot = 1 ]; } && [[ $tipx == *"wall clock 20"*" UTC"* ]] && [[ $legend == *read* ]] && [[ $legend == *write* ]] && [[ $legend == *cas* ]] &&
		[ "$(attr quantile-buckets "$TMP/dom.html")" -gt 0 ] && grep -q 'id="wall">history time 0 = 20' "$TMP/dom.html" &&
		grep -q '<a href="junit.xml">' "$TMP/dom.html" && grep -q '<a href="nodes/n[0-9]/etcd.log"' <<<"$(perl -0777 -ne 'print $1 if /<div id="fail-table">(.*?)<\/table>/s' "$TMP/dom.html")"; then
		pass "hover on latency point of op #$ix: '${tipx:0:60}...'; wall clock anchor; quantiles drawn; node-log and junit links"
	else
		fail "latency hover, wall clock, links" "tip='$tipx' legend='$legend' quantiles=$(attr quantile-buckets "$TMP/dom.html")"
	fi

	# 10. 800 px: nothing wider than the window
	dom "file://$RUN/report.html#sort=key" "$TMP/dom800.html" 800 "$TEST_OUTPUT/report-800.png" 3000
	first=$(attr failure-order "$TMP/dom800.html" | cut -d, -f1)
	minkey=$(jq -r '.key' "$TMP/failures.jsonl" | sort -n | head -1)
	if rendered_clean "$TMP/dom800.html" && [ "$(attr overflow "$TMP/dom800.html")" = 0 ] &&
		[ "$(sed -n "${first}p" "$TMP/failures.jsonl" | jq -r .key)" = "$minkey" ]; then
		pass "at 800 px the page does not overflow; failures in key order start with key $minkey"
	else
		fail "800 px layout and key order" "overflow=$(attr overflow "$TMP/dom800.html") first=$first minkey=$minkey"
	fi
	if xmllint --noout "$RUN/junit.xml" 2>"$TMP/xml.err"; then
		pass "junit.xml of the run is well-formed (xmllint)"
	else
		fail "junit.xml well-formed" "$(head -2 "$TMP/xml.err")"
	fi
fi

# ---- 8. renderers by kind: Elle cycles, a non-cycle anomaly, JSON for unknown kinds ----
E=$STORE/elle-fixture/20260101T000002
mkdir -p "$E" && cp tests/report/elle-run/{history.jsonl,results.json,test.json} "$E/"
ok "faultline report on the hand-made Elle run" "$FAULTLINE" report "$E"
dom "file://$E/report.html" "$TMP/e1.html" 1400 "$TEST_OUTPUT/report-elle.png"
svgs=$(perl -0777 -ne 'print $1 if /<div id="cex">(.*?)<\/section>/s' "$TMP/e1.html")
if rendered_clean "$TMP/e1.html" && [ "$(attr cex-renderer "$TMP/e1.html")" = cycle ] &&
	[ "$(grep -o '<g class="txn"' <<<"$svgs" | wc -l)" -eq 3 ] && [ "$(attr cycle-edges "$TMP/e1.html")" = 3 ] &&
	grep -q '>wr 255 = 8</text>' <<<"$svgs" && grep -q '>ww 256 = 3</text>' <<<"$svgs" && grep -q '>rw 255 = 8</text>' <<<"$svgs" &&
	grep -q '>append 256 4</text>' <<<"$svgs" && grep -q 'class="explain">Let:' <<<"$svgs" && grep -q 'a contradiction!' <<<"$svgs"; then
	pass "G-single: 3 transactions as boxes with their micro-ops, edges labelled wr/ww/rw with key and value, Elle's explanation"
else
	fail "G-single cycle drawn" "renderer=$(attr cex-renderer "$TMP/e1.html") edges=$(attr cycle-edges "$TMP/e1.html") error=$(attr last-error "$TMP/e1.html")"
fi
dom "file://$E/report.html#failure=2" "$TMP/e2.html"
dom "file://$E/report.html#failure=3" "$TMP/e3.html"
dom "file://$E/report.html#failure=4" "$TMP/e4.html"
if rendered_clean "$TMP/e2.html" && [ "$(attr cex-renderer "$TMP/e2.html")" = cycle ] && [ "$(attr cycle-edges "$TMP/e2.html")" = 2 ] &&
	grep -q '>realtime</text>' "$TMP/e2.html" && rendered_clean "$TMP/e3.html" && [ "$(attr cex-renderer "$TMP/e3.html")" = ops ] &&
	grep -q '>append 258 1</text>' "$TMP/e3.html"; then
	pass "G2-item-realtime drawn as a 2-transaction cycle with a realtime edge; G1a draws the ops it names"
else
	fail "G2-item-realtime and G1a" "renderers=$(attr cex-renderer "$TMP/e2.html"),$(attr cex-renderer "$TMP/e3.html")"
fi
json=$(perl -0777 -ne 'print $1 if /<details class="json" open="">.*?<pre>(.*?)<\/pre>/s' "$TMP/e4.html")
if rendered_clean "$TMP/e4.html" && [ "$(attr json-fallback "$TMP/e4.html")" = 1 ] &&
	grep -q '"kind": "phantom-element",' <<<"$json" && grep -q '"element": "&lt;img src=x onerror=alert(6)&gt;"' <<<"$json" &&
	! grep -q '<img src=x' "$TMP/e4.html" && [ "$(grep -o '<script' "$TMP/e4.html" | wc -l)" -eq 2 ]; then
	pass "a kind without a renderer ('phantom-element') shows as pretty-printed JSON, its hostile strings as text"
else
	fail "JSON fallback" "json-fallback=$(attr json-fallback "$TMP/e4.html") json=$(head -c 200 <<<"$json")"
fi
tl_legend=$(perl -0777 -ne 'print $1 if /id="tl-legend">(.*?)<\/div>/s' "$TMP/e1.html")
lat_legend=$(perl -0777 -ne 'print $1 if /id="lat-legend">(.*?)<\/div>/s' "$TMP/e1.html")
if [[ $tl_legend == *info* ]] && [[ $tl_legend != *"never completed"* ]] && [[ $lat_legend != *"fail (error)"* ]] &&
	[[ $lat_legend == *"info (1)"* ]]; then
	pass "legends list only the outcomes present (1 info, no errors, nothing left open)"
else
	fail "legends for absent categories" "timeline: $tl_legend / latency: $lat_legend"
fi

# ---- 8. renderers of the newer checkers, on real etcd runs ----
# tests/report/etcd-runs/: histories of real runs of etcd_workloads.sh
# (valid), doctored here into the failures each checker exists to find, then
# judged by the real checker (`faultline check --write`) and drawn by
# `faultline report`, so each renderer is tested on what its checker writes.
doctor_set() { # elements acknowledged from the partition's start to its end lost by every read; the 201st
	# acknowledged element missed by the two reads invoked after its add; the 101st add's ok made info
	# (recovered); a hostile element no add wrote in the last read (unexpected)
	jq -sc '(map(select(.process == "nemesis")) | [.[0].time, .[3].time]) as [$a, $b] |
		map(select(.f == "add" and .type == "ok")) as $adds |
		[$adds[] | select(.time >= $a and .time <= $b) | .value] as $lost |
		$adds[200] as $s | $adds[100] as $r |
		[.[] | select(.f == "read" and .type == "invoke" and .time > $s.time) | .index][:2] as $rinv |
		(reduce .[] as $o ({}; if $o.type == "invoke" then .open[$o.process | tostring] = $o.index
			else .done[$o.index | tostring] = .open[$o.process | tostring] end)) as $pair |
		([.[] | select(.f == "read" and .type == "ok") | .index] | max) as $last |
		.[] | if .f == "read" and .type == "ok" then
			.value -= $lost | (if ($pair.done[.index | tostring] as $i | any($rinv[]; . == $i)) then .value -= [$s.value] else . end) |
			(if .index == $last then .value += ["<img src=x onerror=alert(7)>"] else . end)
		elif .index == $r.index then .type = "info" else . end'
}
doctor_bank() { # a kill destroys money: reads completed during the first kill lose 2 from a1; one read earlier shows a1 negative
	jq -c '(if .f == "read" and .type == "ok" and .time > 2617623070 and .time < 5530290096 then .value.a1 -= 2 else . end) |
		if .f == "read" and .type == "ok" and .index == 129 then .value.a1 -= 5 | .value.a5 += 5 else . end'
}
doctor_counter() { # one read above its upper bound during the kill, one below its lower bound before it
	jq -c 'if .f == "read" and .type == "ok" and .time > 2627062730 and .time < 5590619741 then .value += 25
		elif .f == "read" and .type == "ok" and .index == 101 then .value -= 10 else . end'
}
doctor_lock() { # Kleppmann's paused holder, during the pause: p0 (token 141) writes and releases only after p1
	# acquired token 142 and wrote; the writes' [token, replaced] follow the store
	jq -sc '(.[] | select(.index == 292) | .time) as $t |
		[.[] | select(.index != 287 and .index != 288 and .index != 289)] as $rest |
		([.[] | select(.index == 287 or .index == 288 or .index == 289)] | to_entries |
			map(.value.time = $t + 2000 * (.key + 1) | .value) | map(if .index == 288 then .value = [141, 142] else . end)) as $moved |
		($rest | map(.index) | index(292)) as $at |
		($rest[:$at + 1] + $moved + $rest[$at + 1:]) | to_entries | map(.value.index = .key | .value) |
		map(if .f == "write" and .type == "ok" and .value == [142, 141] then .value = [142, 136]
			elif .f == "write" and .type == "ok" and .value == [145, 142] then .value = [145, 141] else . end) | .[]'
}
declare -A EDIR
for k in set bank counter lock; do
	d=$STORE/etcd-$k-doctored/20260101T000003
	mkdir -p "$d" && cp "tests/report/etcd-runs/$k/test.json" "$d/"
	zcat "tests/report/etcd-runs/$k/history.jsonl.gz" | "doctor_$k" >"$d/history.jsonl"
	"$FAULTLINE" check "$d" --write >"$TMP/check-$k.out" 2>&1; rc=$?
	if [ $rc -eq 1 ] && "$FAULTLINE" report "$d" >/dev/null 2>&1 && [ -f "$d/report.html" ]; then
		EDIR[$k]=$d
	else
		fail "doctored $k run: check invalid, report written" "exit $rc: $(head -3 "$TMP/check-$k.out" | tr '\n' ' ')"
	fi
done
# fnum DIR CHECKER JQ-SELECT -> the page's failure number (1-based) of the first failure matching
fnum() { jq -r --arg c "$2" "[.checkers[\$c].failures | to_entries[] | select(.value | $3) | .key][0] + 1" "$1/results.json"; }
# set-full: a lost element drawn with its add and the reads that missed it, counts, lists with "and N more"
if [ -n "${EDIR[set]:-}" ]; then
	d=${EDIR[set]} R=$d/results.json
	n=$(fnum "$d" set-full '.kind == "lost"')
	f=$(jq -c ".checkers[\"set-full\"].failures[$((n - 1))]" "$R")
	missed=$(jq '[(.missed_by[], .last_absent) | .index] | unique | length' <<<"$f")
	lost=$(jq '.checkers["set-full"].lost_count' "$R")
	marks=$(jq '[.checkers["set-full"] | (.lost, .stale, .recovered, .never_read, .flapping)[]] | length' "$R")
	dom "file://$d/report.html#failure=$n" "$TMP/sf.html" 1400 "$TEST_OUTPUT/report-set-full.png"
	li=$(perl -0777 -ne 'print "$1:$2" if /<li data-shown="(\d+)"><b>lost \(\d+\): <\/b>.*?<span class="more"> and (\d+) more<\/span>/s' "$TMP/sf.html")
	if rendered_clean "$TMP/sf.html" && [ "$(attr cex-renderer "$TMP/sf.html")" = set-full ] &&
		[ "$(attr setfull-element "$TMP/sf.html")" = "$(jq -r .element <<<"$f")" ] &&
		[ "$(attr setfull-missed "$TMP/sf.html")" = "$missed" ] && [ "$(attr setfull-saw "$TMP/sf.html")" = 0 ] &&
		[ "$(attr strip-faults "$TMP/sf.html")" -ge 1 ] && [ "$(attr setfull-overview-marks "$TMP/sf.html")" = "$marks" ] &&
		grep -q "[0-9]* acknowledged of [0-9]* adds, 52 reads, [0-9]* stable, $lost lost, 1 stale, 1 recovered, 1 never read" "$TMP/sf.html" &&
		[ "$li" = "20:$((lost - 20))" ] && [ "$lost" -gt 20 ]; then
		pass "set-full lost element $(jq -r .element <<<"$f"): its add, $missed reads that missed it, the partition shaded; counts; $marks elements on the overview; 20 of $lost lost listed 'and $((lost - 20)) more'"
	else
		fail "set-full renderer (lost)" "renderer=$(attr cex-renderer "$TMP/sf.html") element=$(attr setfull-element "$TMP/sf.html") missed=$(attr setfull-missed "$TMP/sf.html")/$missed marks=$(attr setfull-overview-marks "$TMP/sf.html")/$marks faults=$(attr strip-faults "$TMP/sf.html") list=$li lost=$lost error=$(attr last-error "$TMP/sf.html")"
	fi
	n=$(fnum "$d" set-full '.kind == "stale"')
	u=$(fnum "$d" set-full '.kind == "unexpected"')
	dom "file://$d/report.html#failure=$n" "$TMP/sf2.html" 800
	dom "file://$d/report.html#failure=$u" "$TMP/sf3.html"
	if rendered_clean "$TMP/sf2.html" && [ "$(attr setfull-missed "$TMP/sf2.html")" = 2 ] && [ "$(attr setfull-saw "$TMP/sf2.html")" -ge 1 ] &&
		[ "$(attr overflow "$TMP/sf2.html")" = 0 ] &&
		rendered_clean "$TMP/sf3.html" && [ "$(attr cex-renderer "$TMP/sf3.html")" = set-full ] &&
		grep -q '&lt;img src=x onerror=alert(7)&gt;' "$TMP/sf3.html" && ! grep -q '<img src=x' "$TMP/sf3.html"; then
		pass "set-full stale element: the 2 reads that missed it and the reads that saw it (at 800 px, no overflow); an unexpected <img> element stays text"
	else
		fail "set-full renderer (stale, unexpected)" "stale missed=$(attr setfull-missed "$TMP/sf2.html") saw=$(attr setfull-saw "$TMP/sf2.html") overflow=$(attr overflow "$TMP/sf2.html"); unexpected renderer=$(attr cex-renderer "$TMP/sf3.html") error=$(attr last-error "$TMP/sf3.html")"
	fi
fi
# bank: totals over time with the expected line, the offending reads in red and listed
if [ -n "${EDIR[bank]:-}" ]; then
	d=${EDIR[bank]} R=$d/results.json
	n=$(fnum "$d" bank '.kind == "negative-balance"')
	npts=$(jq '.checkers.bank.totals.points | length' "$R")
	nbad=$(jq '.checkers.bank.failures | length' "$R")
	exp=$(jq '.checkers.bank.expected_total' "$R")
	nfunds=$(jq -r 'select(.type == "fail" and (.error // "" | startswith("insufficient funds: "))) | .index' "$d/history.jsonl" | wc -l)
	dom "file://$d/report.html#failure=$n" "$TMP/bank.html" 1400 "$TEST_OUTPUT/report-bank.png"
	if [ "$nfunds" -gt 0 ] && grep -q "Expected outcomes, not errors: <b>$nfunds</b> transfer <i>fail</i> &ldquo;insufficient funds&rdquo;" "$d/report.html" &&
		! perl -0777 -ne 'exit(!(/<table class="q" id="errors">(.*?)<\/table>/s && $1 =~ /insufficient/))' "$d/report.html"; then
		pass "bank: $nfunds transfers refused for want of funds are expected outcomes, not errors"
	else
		fail "insufficient funds counted as expected" "$nfunds in the history; $(grep -o 'id="expected">[^<]*<b>[^/]*' "$d/report.html")"
	fi
	if rendered_clean "$TMP/bank.html" && [ "$(attr cex-renderer "$TMP/bank.html")" = bank ] &&
		[ "$(attr bank-points "$TMP/bank.html")" = "$npts" ] && [ "$(attr bank-bad-points "$TMP/bank.html")" = "$nbad" ] &&
		[ "$(attr bank-rows "$TMP/bank.html")" = "$nbad" ] && [ "$(attr strip-faults "$TMP/bank.html")" = "$(attr fault-intervals "$TMP/bank.html")" ] &&
		grep -q ">expected $exp</text>" "$TMP/bank.html" && grep -q '<td class="bad">-3</td>' "$TMP/bank.html" &&
		[ "$(grep -o '<td>wrong-total</td>' "$TMP/bank.html" | wc -l)" -eq $((nbad - 1)) ]; then
		pass "bank: $npts read totals over time, expected $exp, $nbad offending reads red and listed, faults shaded; a1 -3 marked in the read's balances"
	else
		fail "bank renderer" "renderer=$(attr cex-renderer "$TMP/bank.html") points=$(attr bank-points "$TMP/bank.html")/$npts bad=$(attr bank-bad-points "$TMP/bank.html")/$nbad rows=$(attr bank-rows "$TMP/bank.html") faults=$(attr strip-faults "$TMP/bank.html") error=$(attr last-error "$TMP/bank.html")"
	fi
fi
# counter: every read against its bounds; the out-of-bounds ones red
if [ -n "${EDIR[counter]:-}" ]; then
	d=${EDIR[counter]} R=$d/results.json
	n=$(fnum "$d" counter '.value > .upper')
	f=$(jq -c ".checkers.counter.failures[$((n - 1))]" "$R")
	npts=$(jq '.checkers.counter.reads.points | length' "$R")
	nbad=$(jq '[.checkers.counter.reads.points[] | select(.[1] < .[2] or .[1] > .[3])] | length' "$R")
	words="This read returned $(jq .value <<<"$f"); it had to lie in \[$(jq .lower <<<"$f"), $(jq .upper <<<"$f")\]: $(jq '.value - .upper' <<<"$f") above the upper bound"
	dom "file://$d/report.html#failure=$n" "$TMP/ctr.html" 1400 "$TEST_OUTPUT/report-counter.png"
	if rendered_clean "$TMP/ctr.html" && [ "$(attr cex-renderer "$TMP/ctr.html")" = counter ] &&
		[ "$(attr counter-points "$TMP/ctr.html")" = "$npts" ] && [ "$(attr counter-bad-points "$TMP/ctr.html")" = "$nbad" ] &&
		[ "$nbad" -eq 2 ] && grep -q "$words" "$TMP/ctr.html" && [ "$(attr strip-faults "$TMP/ctr.html")" = 1 ] &&
		[ "$(grep -o 'class="bounds"' "$TMP/ctr.html" | wc -l)" -gt "$npts" ]; then
		pass "counter: $npts reads against their bounds, $nbad out of bounds in red; '${words//\\/}'"
	else
		fail "counter renderer" "renderer=$(attr cex-renderer "$TMP/ctr.html") points=$(attr counter-points "$TMP/ctr.html")/$npts bad=$(attr counter-bad-points "$TMP/ctr.html")/$nbad error=$(attr last-error "$TMP/ctr.html")"
	fi
fi
# lock: the holders' intervals per lock, the overlap, tokens; the mutex counterexample still drawn
if [ -n "${EDIR[lock]:-}" ]; then
	d=${EDIR[lock]} R=$d/results.json
	n=$(fnum "$d" lock '.kind == "nonlinearizable"')
	m=$(fnum "$d" lock '.check == "write-over-newer"')
	nh=$(jq ".checkers.lock.failures[$((n - 1))].holders | length" "$R")
	dom "file://$d/report.html#failure=$n" "$TMP/lock.html" 1400 "$TEST_OUTPUT/report-lock.png"
	dom "file://$d/report.html#failure=$m" "$TMP/lock2.html"
	if rendered_clean "$TMP/lock.html" && [ "$(attr cex-renderer "$TMP/lock.html")" = lock ] &&
		[ "$(jq .checkers.lock.overlap_count "$R")" = 1 ] && [ "$(attr lock-overlaps "$TMP/lock.html")" = 1 ] &&
		[ "$(attr lock-holders "$TMP/lock.html")" = "$nh" ] && [ "$(attr lock-keys "$TMP/lock.html")" = 1 ] &&
		grep -q '>p0  token 141</text>' "$TMP/lock.html" && grep -q '>p1  token 142</text>' "$TMP/lock.html" &&
		[ "$(attr lin-rows "$TMP/lock.html")" -gt 0 ] && [ "$(attr strip-faults "$TMP/lock.html")" = 1 ] &&
		rendered_clean "$TMP/lock2.html" && [ "$(attr cex-renderer "$TMP/lock2.html")" = lock ] &&
		[ "$(attr lock-holders "$TMP/lock2.html")" = 2 ] && [ "$(attr lock-overlaps "$TMP/lock2.html")" = 1 ] &&
		grep -q 'Check write-over-newer: token 141, newer token 142' "$TMP/lock2.html" &&
		[ "$(perl -0777 -ne 'print $1 if /<table class="lin lock-table">(.*?)<\/table>/s' "$TMP/lock2.html" | grep -o '<td>release</td>' | wc -l)" -eq 2 ]; then
		pass "lock: $nh holders' intervals with tokens, p0 (141) and p1 (142) overlapping in red, the mutex counterexample; fencing failure draws the same 2 holders with their releases"
	else
		fail "lock renderer" "renderer=$(attr cex-renderer "$TMP/lock.html") holders=$(attr lock-holders "$TMP/lock.html")/$nh overlaps=$(attr lock-overlaps "$TMP/lock.html") keys=$(attr lock-keys "$TMP/lock.html") lin-rows=$(attr lin-rows "$TMP/lock.html") fencing: holders=$(attr lock-holders "$TMP/lock2.html") overlaps=$(attr lock-overlaps "$TMP/lock2.html") error=$(attr last-error "$TMP/lock.html")"
	fi
fi

# ---- hostile values stay text ----
X=$STORE/xss/20260101T000001
mkdir -p "$X/nodes/n1"
SRC=${RUN:-$E}
cp "$SRC/history.jsonl" "$SRC/test.json" "$X/"
[ -f "$SRC/results.json" ] && cp "$SRC/results.json" "$X/"
: >"$X/nodes/n1/<img src=x onerror=alert(4)>.log"
last=$(tail -1 "$X/history.jsonl" | grep -o '"index":[0-9]*' | cut -d: -f2)
t=$(tail -1 "$X/history.jsonl" | grep -o '"time":[0-9]*' | cut -d: -f2)
i=$((last + 1))
printf '%s\n' \
	"{\"index\":$i,\"time\":$((t + 1000)),\"type\":\"invoke\",\"process\":9999,\"f\":\"write\",\"key\":\"<b>k</b>\",\"value\":\"<script>alert(1)</script>\"}" \
	"{\"index\":$((i + 1)),\"time\":$((t + 2000)),\"type\":\"info\",\"process\":9999,\"f\":\"write\",\"key\":\"<b>k</b>\",\"value\":\"<script>alert(1)</script>\",\"node\":\"<i>n1</i>\",\"error\":\"<img src=x onerror=alert(2)>\\uffff\"}" \
	>>"$X/history.jsonl"
jq -c '.name = "<script>alert(3)</script>\uffff"' "$X/test.json" >"$X/t" && mv "$X/t" "$X/test.json"
ok "faultline report regenerates a run" "$FAULTLINE" report "$X"
dom "file://$X/report.html#op=$i" "$TMP/xss.html"
scripts=$(grep -o "<script" "$TMP/xss.html" | wc -l)
if rendered_clean "$TMP/xss.html" &&
	tr '\n' ' ' <"$TMP/xss.html" | grep -q '<pre id="op-detail">[^<]*&lt;script&gt;alert(1)&lt;/script&gt;' &&
	grep -q '&lt;script&gt;alert(3)&lt;/script&gt;[^<]*</h1>' "$TMP/xss.html" &&
	grep -q '&lt;img src=x onerror=alert(2)&gt;' "$TMP/xss.html" &&
	! grep -q "<img src=x" "$TMP/xss.html" && ! grep -q "<script>alert" "$TMP/xss.html" &&
	[ "$scripts" -eq 2 ]; then
	pass "XSS: <script>alert(1)</script> in a value, test name, error and file name shows as text"
else
	fail "XSS values stay text" "rendered=$(attr rendered "$TMP/xss.html") error=$(attr last-error "$TMP/xss.html") scripts=$scripts"
fi
grep -q 'href="nodes/n1/%3Cimg%20src%3Dx%20onerror%3Dalert%284%29%3E.log"' "$X/report.html" &&
	pass "node log links are relative and percent-encoded" || fail "node log link encoded"
# junit.xml: U+FFFF in the test name and a failure message (issue 13, item 7)
jq -c '.checkers |= with_entries(.value.failures[0].message = "bad \uffff\ufffe value <x>")' "$X/results.json" >"$X/r" && mv "$X/r" "$X/results.json"
"$FAULTLINE" report "$X" >/dev/null
want="bad $(printf '\xef\xbf\xbd\xef\xbf\xbd') value &lt;x&gt;"
if grep -q '<testcase ' "$X/junit.xml" && xmllint --noout "$X/junit.xml" 2>"$TMP/xml.err" &&
	grep -qF "$want" "$X/junit.xml" && ! grep -qF "$(printf '\xef\xbf\xbf')" "$X/junit.xml"; then
	pass "junit.xml with U+FFFF/U+FFFE in values is well-formed XML 1.0 (xmllint), as U+FFFD"
else
	fail "junit.xml with U+FFFF well-formed" "$(head -2 "$TMP/xml.err") $(grep -o 'message="bad[^"]*"' "$X/junit.xml" | head -1)"
fi

# ---- 9. the store index: columns and the test filter ----
if [ -n "$RUN" ]; then
	row=$(perl -0777 -ne 'print $1 if /<tr data-test="demo-serializable">(.*?)<\/tr>/s' "$STORE/index.html" | sed 's/<\/td>/|/g; s/<[^>]*>//g')
	# ops: client operations invoked, counted here from the history (not its lines)
	ops=$(jq -r 'select(.type == "invoke" and .process != "nemesis") | .index' "$RUN/history.jsonl" | wc -l)
	nf=$(jq -r '[.checkers[] | ([((.failures // []) | length) + (.failures_omitted // 0), (.invalid_keys // 0)] | max)] | add' "$RUN/results.json")
	if [[ $row == *"|demo-serializable|invalid|etcd|register|serializable reads|partition, kill|$ops|$nf|report|" ]] &&
		[ "$(jq -r .client_ops "$RUN/results.json")" = "$ops" ]; then
		pass "store index row: db, workload, read mode, nemesis, $ops client ops (invocations in history.jsonl), $nf failures"
	else
		fail "store index columns" "row: $row (want ops $ops failures $nf)"
	fi
fi
# the doctored set-full run: its 45 failures detailed and the rest it counted; ops are invocations
if [ -n "${EDIR[set]:-}" ]; then
	d=${EDIR[set]}
	row=$(perl -0777 -ne 'print $1 if /<tr data-test="etcd-set-partition">(.*?)<\/tr>/s' "$STORE/index.html" | sed 's/<\/td>/|/g; s/<[^>]*>//g')
	ops=$(jq -r 'select(.type == "invoke" and .process != "nemesis") | .index' "$d/history.jsonl" | wc -l)
	nf=$(jq -r '.checkers["set-full"] | (.failures | length) + (.failures_omitted // 0)' "$d/results.json")
	[[ $row == *"|etcd-set-partition|invalid|etcd|set|linearizable reads|partition|$ops|$nf|report|" ]] &&
		pass "store index row of a set-full run: $ops client ops, $nf failures" ||
		fail "store index row of the set-full run" "row: $row (want ops $ops failures $nf)"
fi
dom "file://$STORE/index.html#elle-fixture" "$TMP/index.html"
if [ "$(attr shown "$TMP/index.html")" = 1 ] && grep -q '&lt;script&gt;alert(3)&lt;/script&gt;' "$STORE/index.html" &&
	[ "$(grep -o '<script' "$STORE/index.html" | wc -l)" -eq 1 ] && ! grep -q '<script>alert' "$STORE/index.html"; then
	pass "store/index.html filters by test name (1 run of elle-fixture shown), names escaped"
else
	fail "store index filter" "shown=$(attr shown "$TMP/index.html") error=$(attr last-error "$TMP/index.html")"
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
