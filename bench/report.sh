#!/usr/bin/env bash
# bench/report.sh - the report for a 1,000,000-op history (issue 19's
# goals): writing report.html (`faultline report`, goal <= 3 s), its size
# (goal <= 15 MB), and opening it in headless Chromium until it is
# interactive (every chart and the failures drawn, the load event fired:
# performance.now() at load, which the page writes into <body
# data-load-ms>; goal <= 3 s). Then the timeline's repaint time while
# zooming. The run directory is synthetic (tests/tools/gen_run: register
# ops on 10 workers, partitions, a kill, an invalid result).
# REPORT_BENCH_OPS changes the size. Median of 3. The machine's load
# average is printed with the numbers: wall times on a shared machine
# include other people's work (CPU time is given next to them).
set -u
cd "$(dirname "$0")/.." || exit 255
BUILD=${BUILD:-build}
FAULTLINE=${FAULTLINE:-$PWD/faultline}
N=${REPORT_BENCH_OPS:-1000000}
TAG=$(awk -v n="$N" 'BEGIN { print (n % 1000000 == 0 ? n / 1000000 "m" : n % 1000 == 0 ? n / 1000 "k" : n) }')
TMP=$(mktemp -d /tmp/faultline-bench-report.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
GEN=$BUILD/tests/tools/gen_run
[ -x "$GEN" ] || { GEN=$TMP/gen_run; cc -O2 -o "$GEN" tests/tools/gen_run.c || exit 1; }
RUN=$TMP/run
"$GEN" "$RUN" --ops "$N" --seed 1 || exit 1

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "  (load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs)"

# wall time, and CPU time (user + sys: what a busy machine does not inflate)
for i in 1 2 3; do
	s=$(date +%s%N)
	/usr/bin/time -f '%U %S' -o "$TMP/cpu.$i" "$FAULTLINE" report "$RUN" >/dev/null ||
		{ echo "bench report: faultline report failed"; exit 1; }
	e=$(date +%s%N)
	echo $(((e - s) / 1000000))
	awk '{ printf "%d\n", ($1 + $2) * 1000 }' "$TMP/cpu.$i" >>"$TMP/cpu.ms"
done >"$TMP/gen.ms"
size=$(stat -c %s "$RUN/report.html")
printf 'BENCH report_write_%s: %.2f s (goal <= 3 s; CPU %.2f s; %d ops, %d lines of history.jsonl, %.0f MB)\n' "$TAG" \
	"$(median <"$TMP/gen.ms" | awk '{print $1/1000}')" "$(median <"$TMP/cpu.ms" | awk '{print $1/1000}')" \
	"$N" "$(wc -l <"$RUN/history.jsonl")" "$(awk -v s="$(stat -c %s "$RUN/history.jsonl")" 'BEGIN{print s/1048576}')"
printf 'BENCH report_size_%s: %.1f MB (goal <= 15 MB; report.html, self-contained)\n' "$TAG" \
	"$(awk -v s="$size" 'BEGIN{print s/1048576}')"

if ! command -v chromium >/dev/null; then
	echo "BENCH report_interactive_chromium_$TAG: skipped (chromium not installed; make deps)"
	exit 0
fi
chrome_body() { # url -> the <body> tag after load
	local prof; prof=$(mktemp -d "$TMP/chrome.XXXXXX")
	timeout 180 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --disable-extensions \
		--user-data-dir="$prof" --window-size=1400,2000 --dump-dom "$1" 2>/dev/null |
		tr '\n' ' ' | grep -o '<body[^>]*>' | head -1
	rm -rf "$prof"
}
for i in 1 2 3; do
	chrome_body "file://$RUN/report.html" >"$TMP/body.$i"
	grep -o 'data-load-ms="[0-9]*"' "$TMP/body.$i" | cut -d'"' -f2
done >"$TMP/load.ms"
if [ "$(grep -c . "$TMP/load.ms")" -eq 0 ]; then
	echo "BENCH report_interactive_chromium_$TAG: failed (the page did not report its load time)"
	exit 1
fi
printf 'BENCH report_interactive_chromium_%s: %.2f s (goal <= 3 s; navigation start to load event, every chart and the failures drawn)\n' \
	"$TAG" "$(median <"$TMP/load.ms" | awk '{print $1/1000}')"
b=$TMP/body.3
val() { grep -o "data-$1=\"[^\"]*\"" "$b" | cut -d'"' -f2; }
echo "  (last load: $(val ms-before-script) ms reading the HTML before the script runs, $(val ms-parse) ms JSON.parse," \
	"$(val ms-render) ms decoding and drawing: $(val ms-phases))"
chrome_body "file://$RUN/report.html#bench-zoom" >"$TMP/body.zoom"
printf 'BENCH report_timeline_repaint_%s: %s ms per frame (mean of 20 zoom steps; 16 ms = 60 fps)\n' "$TAG" \
	"$(grep -o 'data-ms-repaint="[0-9.]*"' "$TMP/body.zoom" | cut -d'"' -f2)"
