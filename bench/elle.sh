#!/usr/bin/env bash
# bench/elle.sh - the transaction isolation checker on large histories,
# through the real CLI, whole process (reading the file included):
#   - 1,000,000 list-append transactions (20 processes, 1,000 live keys,
#     up to 32 appends per key, 1-4 micro-ops per transaction) from the
#     simulator (tests/tools/txn_sim.c) of a strict-serializable database
#     (must come out valid) and of a snapshot-isolation database (invalid:
#     write skew, G2-item cycles and nothing else), checked against the
#     default strict-serializable: wall time, transactions per second, peak
#     RSS, and the CPU the checker itself used on the judging thread
#     (stats.cpu_seconds; the rest is check_history's reader thread parsing
#     JSON). Goals: >= 250,000 txns/s (<= 4 s), <= 1.5 GB.
#   - Elle's huge-scc.edn (Elle gives up there with cycle-search-timeout):
#     decided with a concrete cycle in <= 2 s.
# ELLE_TXNS overrides the size. Exit status 1 if a verdict is wrong or a
# goal is missed.
set -u
cd "$(dirname "$0")/.." || exit 255
FAULTLINE=${FAULTLINE:-$PWD/faultline}
BUILD=${BUILD:-build}
SIM="$BUILD/tests/tools/txn_sim"
N=${ELLE_TXNS:-1000000}
TMP=$(mktemp -d /tmp/faultline-bench-elle.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
status=0
[ -x "$SIM" ] || { echo "bench elle: missing $SIM (make unit)"; exit 1; }

# measure NAME FILE ARGS... -> rc, secs, rss_kb, user, sys; result in $TMP/NAME.json
measure() {
	local name=$1 file=$2; shift 2
	/usr/bin/time -v -o "$TMP/$name.time" "$FAULTLINE" check --checker elle --json "$@" "$file" \
		>"$TMP/$name.json" 2>"$TMP/$name.err"
	rc=$?
	rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$TMP/$name.time")
	secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, a, ":"); s = 0; for (x = 1; x <= n; x++) s = s * 60 + a[x]; print s}' "$TMP/$name.time")
	user=$(awk -F': ' '/User time/ {print $2}' "$TMP/$name.time")
	sys=$(awk -F': ' '/System time/ {print $2}' "$TMP/$name.time")
}
jfield() { python3 -c "import json,sys; r=json.load(open('$TMP/$1.json')); print($2)" 2>/dev/null; }

bench_db() { # db want_rc verdict-check-expr label
	local db=$1 want=$2 expr=$3 label=$4
	local f="$TMP/$db.jsonl"
	local s; s=$(date +%s%N)
	"$SIM" --db "$db" --txns "$N" --processes 20 --keys 1000 --max-writes 32 --max-len 4 \
		--seed 42 --out "$f" || { echo "bench elle: txn_sim failed"; status=1; return; }
	local gen; gen=$(awk -v a="$s" -v b="$(date +%s%N)" 'BEGIN {printf "%.1f", (b - a) / 1e9}')
	local mib; mib=$(( $(stat -c %s "$f") / 1048576 ))
	measure "$db" "$f"
	rm -f "$f"
	local verdict; verdict=$(jfield "$db" "$expr")
	local cpu; cpu=$(jfield "$db" '"%.2f s reading + %.2f s judging" % (r["stats"]["cpu_seconds"]["reading"], r["stats"]["cpu_seconds"]["judging"])')
	if [ "$rc" -ne "$want" ] || [ "$verdict" != "True" ]; then
		echo "bench elle: $db: wrong verdict (exit $rc): $(head -c 300 "$TMP/$db.json" "$TMP/$db.err")"
		status=1
		label="WRONG VERDICT ($label)"
	fi
	awk -v n="$N" -v t="$secs" -v r="$rss_kb" -v u="$user" -v sy="$sys" -v db="$db" -v l="$label" \
		-v c="$cpu" -v mib="$mib" -v gen="$gen" 'BEGIN {
		rate = t > 0 ? n / t : 0
		printf "# %s: %d txns, %d MiB of JSONL (written in %s s)\n", db, n, mib, gen
		printf "BENCH elle_%s_txns_per_s: %.0f (%.2f s wall for %d txns, %s s user + %s s sys; goal >= 250000, <= 4 s; %s)\n", db, rate, t, n, u, sy, l
		printf "BENCH elle_%s_peak_rss: %.0f MiB (goal <= 1536)\n", db, r / 1024
		printf "BENCH elle_%s_checker_cpu: %s on the judging thread (the rest of the CPU is the history reader)\n", db, c
		exit !(rate >= 250000 && r / 1024 <= 1536)
	}' || status=1
}

bench_db strict-serializable 0 'r["valid"] is True and r["counts"] == {}' "valid, no anomaly"
bench_db snapshot-isolation 1 \
	'r["valid"] is False and set(r["counts"]) <= {"G2-item", "G2-item-realtime"} and "G2-item" in r["counts"]' \
	"invalid: G2-item only"

SHARED="$(git rev-parse --show-toplevel 2>/dev/null)/../shared"
[ -d "$SHARED/histories/elle" ] || SHARED=/work/shared
H="$SHARED/histories/elle/huge-scc.edn"
if [ -f "$H" ]; then
	measure huge "$H"
	v=$(jfield huge '"%s, not %s, %s cycle of %d txns, cycle-search-timeout: %s" % (r["valid"], r["not"], r["failures"][0]["kind"], len(r["failures"][0]["txns"]), "cycle-search-timeout" in json.dumps(r))')
	ok=$(jfield huge 'r["valid"] is False and r["not"] == ["strong-snapshot-isolation"] and "edges" in r["failures"][0]')
	[ "$rc" -eq 1 ] && [ "$ok" = "True" ] || { v="WRONG: exit $rc $v"; status=1; }
	awk -v t="$secs" -v v="$v" -v r="$rss_kb" 'BEGIN {printf "BENCH elle_huge_scc: %.2f s (goal <= 2 s; %s; peak %.0f MiB)\n", t, v, r / 1024; exit !(t <= 2)}' || status=1
else
	echo "bench elle: no $H, huge-scc skipped"
fi
exit $status
