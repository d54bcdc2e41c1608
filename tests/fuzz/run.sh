#!/usr/bin/env bash
# tests/fuzz/run.sh - `make fuzz`: runs each libFuzzer harness for
# FUZZ_SECONDS (default 300) from a seed corpus made of the project's test
# data, prints executions per harness, and copies any crasher into
# tests/fuzz/crashers/<harness>-* (replayed by unit/test_fuzz_regressions).
#
# Seeds: tests/fuzz/seeds/ (hand-written inputs covering every syntax the
# readers accept), the head of every Knossos reference history (first ops,
# closed again so they parse), the example configs, and the previous run's
# corpus (build-fuzz/corpus/, kept between runs). Inputs are capped at
# FUZZ_MAX_LEN bytes (default 1024): the readers work line by line / form by
# form, so longer inputs only repeat what short ones cover (same edges
# reached at 512, 1024 and 4096 bytes), at half the executions per second
# or less; what only long inputs reach (a value across the EDN reader's
# 64 KiB refill, a 1 MiB line, nesting bombs) is in test_fuzz_regressions.
# Leak detection is on (libFuzzer's default under ASan); UBSan findings
# abort (the Makefile builds with -fno-sanitize-recover).
# FUZZ_HARNESSES="fuzz_config ..." runs a subset. FUZZ_JOBS=N (default: the
# number of CPUs) runs N fuzzing processes per harness (libFuzzer -fork=N);
# the executions printed are the sum over all N, and the line says so.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=build-fuzz
SECS=${FUZZ_SECONDS:-300}
MAXLEN=${FUZZ_MAX_LEN:-1024}
JOBS=${FUZZ_JOBS:-$(nproc)}
SHARED=$(cd .. && pwd)/shared
[ -d "$SHARED" ] || SHARED=/work/shared
status=0

# The first ops of a history file, small enough to mutate quickly. A
# history in a [ ... ] or ( ... ) gets its closing bracket back.
edn_head() { # file out
	local first
	first=$(grep -m1 -o '^[[:space:]]*[[(]' "$1" | tr -d '[:space:]')
	{ head -n 12 "$1"; case $first in '[') echo ']' ;; '(') echo ')' ;; esac; } | head -c 3000 >"$2"
}

seed() { # harness
	local h=$1 d=$BUILD/corpus/$1 f
	mkdir -p "$d"
	case $h in
	fuzz_history_edn)
		cp tests/fuzz/seeds/*.edn "$d/" 2>/dev/null
		while IFS= read -r f; do
			edn_head "$f" "$d/knossos-$(echo "${f#"$SHARED"/histories/}" | tr / _)"
		done < <(find "$SHARED/histories" -name '*.edn' 2>/dev/null | sort) ;;
	fuzz_history_jsonl)
		cp tests/fuzz/seeds/*.jsonl "$d/" 2>/dev/null
		find store -name history.jsonl 2>/dev/null | sort | head -5 | while IFS= read -r f; do
			head -n 20 "$f" >"$d/$(echo "$f" | tr / _)"
		done ;;
	fuzz_config)
		cp examples/*.json tests/fuzz/seeds/*.json "$d/" 2>/dev/null ;;
	esac
	cp tests/fuzz/crashers/"$h"-* "$d/" 2>/dev/null
	return 0
}

dict_for() {
	case $1 in
	fuzz_history_edn) echo tests/fuzz/edn.dict ;;
	fuzz_history_jsonl) echo tests/fuzz/jsonl.dict ;;
	fuzz_config) echo tests/fuzz/config.dict ;;
	esac
}

total=0
for h in ${FUZZ_HARNESSES:-fuzz_history_jsonl fuzz_history_edn fuzz_config}; do
	seed "$h"
	rm -rf "$BUILD/artifacts/$h"
	mkdir -p "$BUILD/artifacts/$h"
	log=$BUILD/$h.log
	fork=()
	[ "$JOBS" -gt 1 ] && fork=(-fork="$JOBS")
	start=$SECONDS
	"$BUILD/$h" "${fork[@]}" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
		-max_len="$MAXLEN" -dict="$(dict_for "$h")" -artifact_prefix="$BUILD/artifacts/$h/" \
		-print_final_stats=1 "$BUILD/corpus/$h" >"$log" 2>&1
	rc=$?
	el=$((SECONDS - start))
	execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
	# -fork's parent prints no final stats: its status lines count the
	# executions of all its workers ("#N: cov: ...").
	[ -z "$execs" ] && execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
	rate=$(( ${execs:-0} / (el > 0 ? el : 1) ))
	cov=$(grep -E '^#[0-9]+' "$log" | grep -o 'cov: [0-9]*' | tail -1 | awk '{print $2}')
	corp=$(find "$BUILD/corpus/$h" -type f | wc -l)
	found=$(find "$BUILD/artifacts/$h" -type f | wc -l)
	echo "FUZZ $h: ${execs:-0} executions in $el s by $JOBS process(es) (${rate}/s), cov ${cov:-0}, corpus $corp inputs, $found crashers, exit $rc (goal >= 10000000 executions)"
	total=$((total + ${execs:-0}))
	for a in "$BUILD/artifacts/$h"/*; do
		[ -f "$a" ] && cp "$a" "tests/fuzz/crashers/$h-$(basename "$a")" && status=1
	done
	if [ "$rc" -ne 0 ]; then
		status=1
		tail -40 "$log"
	fi
done
echo "FUZZ total: $total executions; $([ $status -eq 0 ] && echo 'nothing found' || echo 'FOUND PROBLEMS (crashers copied to tests/fuzz/crashers/)')"
exit $status
