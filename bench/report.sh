#!/usr/bin/env bash
# bench/report.sh - how long the report takes for a 100,000-op history:
# generating report.html (`faultline report`, goal <= 2 s) and opening it in
# headless Chromium until the page's load event (performance.now() at load,
# which the page writes into <body data-load-ms>; goal <= 3 s). The run
# directory is synthetic (tests/tools/gen_run: 100,000 register ops on 10
# processes over 60 s, partitions, a kill, an invalid result). Median of 3.
set -u
cd "$(dirname "$0")/.." || exit 255
BUILD=${BUILD:-build}
FAULTLINE=${FAULTLINE:-$PWD/faultline}
N=${REPORT_BENCH_OPS:-100000}
TMP=$(mktemp -d /tmp/faultline-bench-report.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
GEN=$BUILD/tests/tools/gen_run
[ -x "$GEN" ] || { GEN=$TMP/gen_run; cc -O2 -o "$GEN" tests/tools/gen_run.c || exit 1; }
RUN=$TMP/run
"$GEN" "$RUN" --ops "$N" --seed 1 || exit 1

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for i in 1 2 3; do
	s=$(date +%s%N)
	"$FAULTLINE" report "$RUN" >/dev/null || { echo "bench report: faultline report failed"; exit 1; }
	e=$(date +%s%N)
	echo $(((e - s) / 1000000))
done >"$TMP/gen.ms"
size=$(stat -c %s "$RUN/report.html")
printf 'BENCH report_gen_100k: %.2f s (goal <= 2 s; %d ops, %d lines of history, report.html %.1f MB)\n' \
	"$(median <"$TMP/gen.ms" | awk '{print $1/1000}')" "$N" "$(wc -l <"$RUN/history.jsonl")" \
	"$(awk -v s="$size" 'BEGIN{print s/1048576}')"

if ! command -v chromium >/dev/null; then
	echo "BENCH report_load_chromium_100k: skipped (chromium not installed; make deps)"
	exit 0
fi
for i in 1 2 3; do
	prof=$(mktemp -d "$TMP/chrome.XXXXXX")
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --disable-extensions \
		--user-data-dir="$prof" --window-size=1400,2000 --dump-dom "file://$RUN/report.html" 2>/dev/null |
		grep -o '<body[^>]*>' | head -1 >"$TMP/body.$i"
	grep -o 'data-load-ms="[0-9]*"' "$TMP/body.$i" | cut -d'"' -f2
done >"$TMP/load.ms"
if [ "$(grep -c . "$TMP/load.ms")" -eq 0 ]; then
	echo "BENCH report_load_chromium_100k: failed (the page did not report its load time)"
	exit 1
fi
printf 'BENCH report_load_chromium_100k: %.2f s (goal <= 3 s; navigation start to load event, all plots drawn)\n' \
	"$(median <"$TMP/load.ms" | awk '{print $1/1000}')"
b=$TMP/body.3
ms() { grep -o "data-ms-$1=\"[0-9]*\"" "$b" | cut -d'"' -f2; }
prof=$(mktemp -d "$TMP/chrome.XXXXXX")
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
	--disable-component-update --disable-sync --no-first-run --disable-extensions \
	--user-data-dir="$prof" --window-size=1400,2000 --dump-dom "file://$RUN/report.html#bench-zoom" 2>/dev/null |
	grep -o '<body[^>]*>' | head -1 >"$TMP/body.zoom"
printf 'BENCH report_timeline_repaint_100k: %s ms per frame (mean of 20 zoom steps over 100,000 ops; 16 ms = 60 fps)\n' \
	"$(grep -o 'data-ms-repaint="[0-9.]*"' "$TMP/body.zoom" | cut -d'"' -f2)"
echo "  (last run: $(ms before-script) ms loading the HTML before the script runs, $(ms parse) ms JSON.parse, $(ms render) ms decoding and drawing)"
