#!/usr/bin/env bash
# tests/run.sh - runs every unit test binary (cmocka, TAP output) and every
# integration script (tests/integration/*.sh, TAP), keeps each one's output
# in test-output/, and ends with "N passed, N failed, N skipped".
# A program that exits non-zero without reporting a failing case counts as
# one failure, so a crash is never silent.
# TESTS=pattern runs only the programs whose name matches.
# SAN_LOG_DIR (set by `make test SANITIZE=1`): where ASan/UBSan/LSan write
# their reports (log_path); a report appearing while a program runs is a
# failure of that program, even if its exit code was the expected one.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT=${TEST_OUTPUT:-test-output}
rm -rf "$OUT"; mkdir -p "$OUT"
[ -n "${SAN_LOG_DIR:-}" ] && mkdir -p "$SAN_LOG_DIR"
export FAULTLINE="${FAULTLINE:-$PWD/faultline}" TEST_OUTPUT="$PWD/$OUT"
passed=0 failed=0 skipped=0
failures=()

run_one() { # name, command...
	local name=$1; shift
	case "$name" in *${TESTS:-}*) ;; *) return ;; esac
	local log="$OUT/$name.log" start=$SECONDS
	mkdir -p "$(dirname "$log")"
	"$@" >"$log" 2>&1
	local rc=$? p f s
	p=$(grep -cE '^ok [0-9]+' "$log" | tr -d ' ')
	s=$(grep -cE '^ok [0-9]+.*# *SKIP' "$log" | tr -d ' ')
	f=$(grep -cE '^not ok [0-9]+' "$log" | tr -d ' ')
	p=$((p - s))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1; echo "not ok - $name exited with status $rc" >>"$log"
	fi
	if [ $((p + f + s)) -eq 0 ]; then
		f=1; echo "not ok - $name reported no test" >>"$log"
	fi
	if [ -n "${SAN_LOG_DIR:-}" ]; then
		local r
		for r in "$SAN_LOG_DIR"/*; do
			[ -f "$r" ] || continue
			f=$((f + 1))
			echo "not ok - $name: sanitizer report $(basename "$r"): $(grep -m1 -E 'ERROR|runtime error|SUMMARY' "$r")" >>"$log"
			cat "$r" >>"$log"
			mv "$r" "$OUT/$(basename "$name")-$(basename "$r")"
		done
	fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	printf '%-40s %3d passed %3d failed %3d skipped  (%ds)\n' "$name" "$p" "$f" "$s" $((SECONDS - start))
	if [ "$f" -gt 0 ]; then
		failures+=("$name")
		grep -E '^not ok|^#' "$log" | head -20 | sed 's/^/    /'
	fi
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	CMOCKA_MESSAGE_OUTPUT=TAP run_one "unit/$(basename "$t")" "$t"
done
for t in tests/static/*.sh; do
	[ -f "$t" ] || continue
	run_one "static/$(basename "$t" .sh)" bash "$t"
done
for t in tests/integration/*.sh; do
	[ -f "$t" ] || continue
	run_one "integration/$(basename "$t" .sh)" bash "$t"
done

[ ${#failures[@]} -gt 0 ] && echo "failing: ${failures[*]} (logs in $OUT/)"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
