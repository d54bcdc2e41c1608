#!/usr/bin/env bash
# tests/fuzz/run.sh - `make fuzz`: runs each libFuzzer harness for
# FUZZ_SECONDS (default 300) from a seed corpus made of the project's test
# data, prints executions per harness, and copies any crasher into
# tests/fuzz/crashers/<harness>-* (replayed by unit/test_fuzz_regressions).
set -u
cd "$(dirname "$0")/../.."
BUILD=build-fuzz
SECS=${FUZZ_SECONDS:-300}
SHARED=$(cd .. && pwd)/shared
[ -d "$SHARED" ] || SHARED=/work/shared
status=0
seed() { # harness dir
	local h=$1 d=$BUILD/corpus/$1; mkdir -p "$d"
	case $h in
	fuzz_history_edn) find "$SHARED/histories" -name '*.edn' -size -64k -exec cp {} "$d/" \; ;;
	fuzz_history_jsonl) cp tests/fuzz/seeds/*.jsonl "$d/" 2>/dev/null
		find store -name history.jsonl -size -64k 2>/dev/null | head -5 | while read -r f; do cp "$f" "$d/$(echo "$f" | tr / _)"; done ;;
	fuzz_config) cp examples/*.json "$d/" 2>/dev/null; cp tests/fuzz/seeds/*.json "$d/" 2>/dev/null ;;
	esac
	cp tests/fuzz/crashers/"$h"-* "$d/" 2>/dev/null
	return 0
}
for h in fuzz_history_jsonl fuzz_history_edn fuzz_config; do
	seed "$h"
	mkdir -p "$BUILD/artifacts/$h"
	log=$BUILD/$h.log
	"$BUILD/$h" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-artifact_prefix="$BUILD/artifacts/$h/" -print_final_stats=1 "$BUILD/corpus/$h" >"$log" 2>&1
	rc=$?
	execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
	rate=$(grep -m1 'stat::average_exec_per_sec' "$log" | awk '{print $2}')
	found=$(ls "$BUILD/artifacts/$h" | wc -l)
	echo "FUZZ $h: ${execs:-0} executions in ${SECS} s (${rate:-0}/s), $found crashers, exit $rc (goal >= 10000000 executions)"
	for a in "$BUILD/artifacts/$h"/*; do
		[ -f "$a" ] && cp "$a" "tests/fuzz/crashers/$h-$(basename "$a")" && status=1
	done
	[ "$rc" -ne 0 ] && { status=1; tail -30 "$log"; }
done
exit $status
