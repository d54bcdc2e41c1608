#!/usr/bin/env bash
# bench/stream.sh - a 10-million-line history through `faultline check`:
# peak resident memory (/usr/bin/time -v) against the file's size, so a
# reader that held the text and the parsed ops at once (everything loaded
# twice) would show; the marginal bytes per line between a 1M-line prefix
# and the whole file; the same history as Jepsen EDN (one top-level vector,
# read element by element); and the same 10M lines plus one pathological
# key (2^40 candidate orders), which must come back unknown, naming that key
# alone, within --timeout.
#
# The history is register ops on 50,000 independent keys (100 ops each,
# 5 processes per key), written by awk. STREAM_LINES overrides the size
# (the memory goals assume millions of lines: the binary alone is ~15 MiB).
set -u
cd "$(dirname "$0")/.." || exit 255
FAULTLINE=${FAULTLINE:-$PWD/faultline}
N=${STREAM_LINES:-10000000}
TMP=$(mktemp -d /tmp/faultline-bench-stream.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
status=0

# gen FORMAT LINES > file
gen() {
	awk -v N="$2" -v FMT="$1" '
	function op(type, p, f, k, v, node) {
		if (FMT == "edn")
			printf " {:index %d, :time %d, :type :%s, :process %d, :f :%s, :value [%d %s]%s}\n",
				i++, t, type, p, f, k, v, node == "" ? "" : ", :node \"" node "\""
		else
			printf "{\"index\":%d,\"time\":%d,\"type\":\"%s\",\"process\":%d,\"f\":\"%s\",\"key\":\"%d\",\"value\":%s%s}\n",
				i++, t, type, p, f, k, v == "nil" ? "null" : v, node == "" ? "" : ",\"node\":\"" node "\""
	}
	BEGIN {
		if (FMT == "edn") print "["
		while (i < N) {
			for (j = 0; j < 100 && i < N; j++) {
				p = k * 5 + j % 5; t += 1000
				if (j % 2 == 0) {
					v++; op("invoke", p, "write", k, v, ""); t += 1000
					op("ok", p, "write", k, v, "n" (p % 5 + 1))
				} else {
					op("invoke", p, "read", k, "nil", ""); t += 1000
					op("ok", p, "read", k, v, "n" (p % 5 + 1))
				}
			}
			k++
		}
		if (FMT == "edn") print "]"
	}'
}

# measure NAME FILE ARGS... -> sets rc, rss_kb, secs; output in $TMP/NAME.out
measure() {
	local name=$1 file=$2; shift 2
	/usr/bin/time -v -o "$TMP/$name.time" "$FAULTLINE" check "$@" "$file" >"$TMP/$name.out" 2>&1
	rc=$?
	rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$TMP/$name.time")
	secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, a, ":"); s = 0; for (x = 1; x <= n; x++) s = s * 60 + a[x]; print s}' "$TMP/$name.time")
}
mib() { awk -v k="$1" 'BEGIN {printf "%.0f", k / 1024}'; }

H=$TMP/h.jsonl
s=$(date +%s%N)
gen jsonl "$N" >"$H"
gen_s=$(awk -v a="$s" -v b="$(date +%s%N)" 'BEGIN {printf "%.1f", (b - a) / 1e9}')
size=$(stat -c %s "$H")
echo "# $N lines, $(mib $((size / 1024))) MiB of JSONL written in $gen_s s"

head -n $((N / 10)) "$H" >"$TMP/h10.jsonl"
measure tenth "$TMP/h10.jsonl" --model cas-register
rss10=$rss_kb
rm -f "$TMP/h10.jsonl"

measure full "$H" --model cas-register
if [ "$rc" -ne 0 ] || ! grep -q "valid (cas-register, $(((N + 199) / 200)) keys" "$TMP/full.out"; then
	echo "bench stream: check of the $N-line history failed (exit $rc): $(tail -2 "$TMP/full.out")"; status=1
fi
printf 'BENCH stream_check_peak_rss: %s MiB for %d lines (goal < %s MiB, the file itself: streamed, never held twice)\n' \
	"$(mib "$rss_kb")" "$N" "$(mib $((size / 1024)))"
awk -v r="$rss_kb" -v s="$size" 'BEGIN {printf "BENCH stream_check_rss_to_file: %.2f (goal < 1: text and ops never both in memory)\n", r * 1024 / s}'
awk -v a="$rss10" -v b="$rss_kb" -v n="$N" 'BEGIN {printf "BENCH stream_check_bytes_per_line: %.0f bytes (marginal, %d to %d lines; goal < 100, the file has %s)\n", (b - a) * 1024 / (n - n / 10), n / 10, n, "~110"}'
awk -v t="$secs" -v n="$N" 'BEGIN {printf "BENCH stream_check_rate: %.2f M lines/s (%.1f s for %d lines; goal >= 1)\n", n / t / 1e6, t, n}'
[ "$rss_kb" -lt $((size / 1024)) ] || status=1

# The same with one pathological key added: unknown, naming it alone.
python3 - "$TMP/hard.jsonl" "$N" <<'EOF'
import json, sys
i = int(sys.argv[2])
with open(sys.argv[1], "w") as f:
    def w(o):
        global i
        o["index"] = i; i += 1
        f.write(json.dumps(o, separators=(",", ":")) + "\n")
    for p in range(40):
        w({"type": "invoke", "process": 900000 + p, "f": "write", "key": "hot", "value": p})
    for p in range(40):
        w({"type": "invoke", "process": 900100 + p, "f": "read", "key": "hot", "value": None})
        w({"type": "ok", "process": 900100 + p, "f": "read", "key": "hot", "value": p})
    w({"type": "invoke", "process": 900099, "f": "read", "key": "hot", "value": None})
    w({"type": "ok", "process": 900099, "f": "read", "key": "hot", "value": 1000})
EOF
cat "$TMP/hard.jsonl" >>"$H"
TO=${STREAM_TIMEOUT:-10}
measure hard "$H" --model cas-register --timeout "$TO" --json
if [ "$rc" -eq 2 ] && grep -q '"unfinished_keys":\["hot"\]' "$TMP/hard.out"; then
	verdict="unknown naming only the hot key"
else
	verdict="WRONG: exit $rc $(head -c 200 "$TMP/hard.out")"; status=1
fi
awk -v t="$secs" -v to="$TO" -v v="$verdict" -v r="$(mib "$rss_kb")" 'BEGIN {printf "BENCH stream_pathological_key: %.1f s with --timeout %d (goal <= %d s; %s; peak %s MiB)\n", t, to, to + 2, v, r}'
awk -v t="$secs" -v to="$TO" 'BEGIN {exit !(t <= to + 2)}' || status=1
rm -f "$H"

E=$TMP/h.edn
gen edn "$N" >"$E"
esize=$(stat -c %s "$E")
measure edn "$E" --model cas-register --format edn
if [ "$rc" -ne 0 ] || ! grep -q "valid (cas-register, $(((N + 199) / 200)) keys" "$TMP/edn.out"; then
	echo "bench stream: check of the EDN history failed (exit $rc): $(tail -2 "$TMP/edn.out")"; status=1
fi
awk -v r="$rss_kb" -v s="$esize" -v t="$secs" -v n="$N" 'BEGIN {printf "BENCH stream_check_edn: peak %.0f MiB for %.0f MiB of EDN, %.1f s for %d lines (goal: peak < file size)\n", r / 1024, s / 1048576, t, n}'
[ "$rss_kb" -lt $((esize / 1024)) ] || status=1
exit $status
