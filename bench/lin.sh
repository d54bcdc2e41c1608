#!/usr/bin/env bash
# bench/lin.sh - the linearizability checker on hard kv histories written
# by tests/tools/lin_gen (a simulated linearizable store; 50 processes on
# few keys, mostly appends of unique strings with gets that return the
# whole string, a few puts, a few timed-out ops):
#   c50   2,000 ops on 10 keys (like Porcupine's c50 tests: ~5 ops in
#         flight per key);
#   hard  6,000 ops on 3 keys (~17 ops in flight per key, 2,000 per key);
# each valid, with one impossible get (two appends that did not overlap
# shown in the wrong order), and with one impossible get on every key.
# Whole-process wall time and peak RSS (/usr/bin/time -v) with --threads 1
# and the default; the hard histories with --all-keys, so every key is
# decided (the time is an upper bound for each key's). Then what each
# reduction of the search buys, switched off one at a time
# (FAULTLINE_LIN_NO_* variables) on two of them, with --timeout 20.
#
# Goals (issue 12): a c50-bad-like history decided in <= 0.5 s; each hard
# key decided (not unknown) in <= 10 s and <= 1 GB.
set -u
cd "$(dirname "$0")/.." || exit 255
FAULTLINE=${FAULTLINE:-$PWD/faultline}
BUILD=${BUILD:-build}
G=$BUILD/tests/tools/lin_gen
[ -x "$G" ] || { echo "bench lin: $G missing (make unit)"; exit 1; }
TMP=$(mktemp -d /tmp/faultline-bench-lin.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
status=0

# measure FILE ARGS... -> rc, secs, mb, verdict line (the --json result)
measure() {
	local file=$1; shift
	/usr/bin/time -v -o "$TMP/time" "$FAULTLINE" check --model kv --json "$@" "$file" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	mb=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$TMP/time")
	secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, a, ":"); s = 0; for (x = 1; x <= n; x++) s = s * 60 + a[x]; printf "%.2f", s}' "$TMP/time")
	summary=$(python3 -c '
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[0])
v = {True: "valid", False: "invalid"}.get(r["valid"], "unknown")
s = "%s, %d/%d keys invalid" % (v, r.get("invalid_keys", 0), r["keys"])
if r.get("unchecked_keys"): s += ", %d unchecked" % len(r["unchecked_keys"])
if r.get("unfinished_keys"): s += ", %d undecided (%s)" % (len(r["unfinished_keys"]), r.get("unknown_reason"))
s += ", %d configurations, search peak %.0f MB" % (r["search"]["configurations"], r["search"]["peak_key_bytes"] / 1048576)
print(s)' "$TMP/out" 2>/dev/null || echo "error: $(head -c 200 "$TMP/err")")
}

gen() { # name args...
	local name=$1; shift
	"$G" "$@" >"$TMP/$name.jsonl" || { echo "bench lin: lin_gen failed"; exit 1; }
}

gen c50_valid --ops 2000 --keys 10 --procs 50 --puts 10 --seed 1
gen c50_bad_one --ops 2000 --keys 10 --procs 50 --puts 10 --seed 1 --bad one
gen c50_bad_every --ops 2000 --keys 10 --procs 50 --puts 10 --seed 1 --bad every
gen hard_valid --ops 6000 --keys 3 --procs 50 --puts 5 --seed 2
gen hard_bad_one --ops 6000 --keys 3 --procs 50 --puts 5 --seed 2 --bad one
gen hard_bad_every --ops 6000 --keys 3 --procs 50 --puts 5 --seed 2 --bad every

for name in c50_valid c50_bad_one c50_bad_every hard_valid hard_bad_one hard_bad_every; do
	want=invalid
	case $name in *valid) want=valid ;; esac
	extra=()
	goal="c50-bad-like: <= 0.5 s"
	case $name in
	hard*) extra=(--all-keys); goal="each key decided, <= 10 s, <= 1024 MB" ;;
	c50_valid|c50_bad_one) goal="-" ;;
	esac
	for threads in 1 0; do
		measure "$TMP/$name.jsonl" --threads "$threads" "${extra[@]}"
		label=$([ "$threads" = 1 ] && echo "threads1" || echo "default")
		echo "BENCH lin_${name}_${label}: $secs s, $mb MB, $summary (goal $goal)"
		case "$summary" in "$want"*) ;; *) echo "bench lin: $name: WRONG, want $want"; status=1 ;; esac
		case $name in
		hard*) awk -v s="$secs" -v m="$mb" 'BEGIN {exit !(s <= 10 && m <= 1024)}' || status=1 ;;
		c50_bad_every) [ "$threads" = 0 ] && { awk -v s="$secs" 'BEGIN {exit !(s <= 0.5)}' || status=1; } ;;
		esac
	done
done

# What each reduction buys: each switched off alone (the plain search is
# all of them off), --timeout 20.
for name in c50_bad_every hard_valid; do
	for off in none REVEAL FORGET PRUNE SHORTCUT ALL; do
		case $off in
		none) envs=() ;;
		ALL) envs=(FAULTLINE_LIN_NO_REVEAL=1 FAULTLINE_LIN_NO_FORGET=1 FAULTLINE_LIN_NO_PRUNE=1 FAULTLINE_LIN_NO_SHORTCUT=1) ;;
		*) envs=("FAULTLINE_LIN_NO_$off=1") ;;
		esac
		/usr/bin/time -v -o "$TMP/time" env "${envs[@]}" "$FAULTLINE" check --model kv --json --all-keys --timeout 20 "$TMP/$name.jsonl" >"$TMP/out" 2>"$TMP/err"
		mb=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$TMP/time")
		secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, a, ":"); s = 0; for (x = 1; x <= n; x++) s = s * 60 + a[x]; printf "%.2f", s}' "$TMP/time")
		verdict=$(python3 -c '
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[0])
v = {True: "valid", False: "invalid"}.get(r["valid"], "unknown")
print("%s, %d configurations%s" % (v, r["search"]["configurations"],
      ", %d keys undecided" % len(r["unfinished_keys"]) if r.get("unfinished_keys") else ""))' "$TMP/out" 2>/dev/null || echo error)
		what=$([ "$off" = none ] && echo "all_reductions" || echo "without_$off")
		echo "BENCH lin_reduction_${name}_${what}: $secs s, $mb MB, $verdict"
	done
done
exit $status
