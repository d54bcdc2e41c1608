#!/usr/bin/env bash
# tests/integration/knossos.sh - `faultline check` (the real binary) on
# every reference history in shared/histories/knossos (Knossos's own test
# data, see its README): each must get its known verdict, in both nil-read
# readings, and the classic rethink trap must blame the concurrent read.
# Then the CLI contract: bad input exits 254 with FILE:LINE:COL, a
# pathological history gives "unknown" within --timeout, a run directory's
# test.json picks the model, and a torn last line still gets a verdict;
# and reading (issue 13): pipes and <(...), a complete bad last line, a
# FIFO without a writer under --timeout, printable EDN errors.
# Needs no root: nothing here touches the network.
source "$(dirname "$0")/../lib.sh"

SHARED="$(git rev-parse --show-toplevel 2>/dev/null)/../shared"
[ -d "$SHARED/histories/knossos" ] || SHARED=/work/shared
K="$SHARED/histories/knossos"
if [ ! -d "$K" ]; then
	skip "knossos histories" "no shared/histories/knossos found"
	done_testing
	exit 0
fi
[ -x "$FAULTLINE" ] || { fail "faultline binary" "missing $FAULTLINE"; done_testing; exit 1; }

D=$(mktemp -d "$TEST_OUTPUT/knossos.XXXXXX")
on_exit "rm -rf '$D'"

# expect_code NAME CODE ARGS...: run faultline check ARGS, compare exit code.
expect_code() {
	local name=$1 want=$2; shift 2
	local out rc
	out=$("$FAULTLINE" check "$@" 2>&1); rc=$?
	if [ "$rc" -eq "$want" ]; then pass "$name"; else fail "$name" "exit $rc, want $want: $(echo "$out" | head -3 | tr '\n' ' ')"; fi
}

check_dir() { # folder model want [extra args]
	local dir=$1 model=$2 want=$3; shift 3
	local f
	for f in "$K/$dir"/*.edn; do
		[ -f "$f" ] || continue
		for nil in empty unknown; do
			expect_code "$dir/$(basename "$f") ($model, nil-read $nil) -> $want" "$want" \
				--model "$model" --nil-read "$nil" --format edn "$@" "$f"
		done
	done
}

check_dir cas-register/good cas-register 0
check_dir cas-register/bad cas-register 1
check_dir multi-register/good multi-register 0 --init '{:x 0 :y 0}'
check_dir mutex/bad mutex 1

# The rethink trap: the read of 3 (process 1), concurrent with write 4, is
# the op that cannot be linearized; the later read of 4 must not be blamed.
out=$("$FAULTLINE" check --json --model cas-register "$K/cas-register/bad/rethink-fail-minimal.edn")
blamed=$(printf '%s' "$out" | python3 -c 'import json,sys; f=json.load(sys.stdin)["failures"][0]["op"]; print(f["process"], f["f"], f["value"])' 2>&1)
if [ "$blamed" = "1 read 3" ]; then pass "rethink-fail-minimal blames the concurrent read 3"; else fail "rethink-fail-minimal blames the concurrent read 3" "blamed: $blamed"; fi
fields=$(printf '%s' "$out" | python3 -c 'import json,sys; f=json.load(sys.stdin)["failures"][0]; print(all(k in f for k in ("key","message","op","prefix","concurrent","states")), len(f["states"]))' 2>&1)
if [ "$fields" = "True 2" ]; then pass "counterexample has key, message, op, prefix, concurrent, states"; else fail "counterexample fields" "$fields"; fi

# Bad input: exit 254 with a clear line.
expect_code "missing file -> 254" 254 "$D/nope.jsonl"
printf '[{:process 0 :type :invoke :f :read}\n {:process 0 :type :ok :f :read :value]\n' >"$D/bad.edn"
out=$("$FAULTLINE" check "$D/bad.edn" 2>&1); rc=$?
if [ $rc -eq 254 ] && printf '%s' "$out" | grep -q "bad.edn:2:[0-9]*: "; then pass "malformed EDN -> 254 with FILE:LINE:COL"; else fail "malformed EDN -> 254 with FILE:LINE:COL" "rc=$rc $out"; fi
printf '{"type":"invoke","process":0,"f":"read","value":null}\n{"type":"ok",,}\n{"type":"ok","process":0,"f":"read","value":null}\n' >"$D/bad.jsonl"
out=$("$FAULTLINE" check "$D/bad.jsonl" 2>&1); rc=$?
if [ $rc -eq 254 ] && printf '%s' "$out" | grep -q "bad.jsonl:2:[0-9]*: "; then pass "malformed JSONL -> 254 with FILE:LINE:COL"; else fail "malformed JSONL -> 254 with FILE:LINE:COL" "rc=$rc $out"; fi
expect_code "unknown model -> 254" 254 --model nosuch "$K/mutex/bad/etcd.edn"
expect_code "op unknown to the model -> 254" 254 --model mutex "$K/cas-register/bad/immediate-failure.edn"
expect_code "bad --init -> 254" 254 --model multi-register --init '{:x' "$K/multi-register/good/multi-register.edn"
expect_code "--help -> 0" 0 --help

# Issue 13, reading: through a pipe and a process substitution the whole
# history is read (the old reader rewound a pipe after sniffing the format
# and lost its first 256 bytes: "valid (0 ops)").
printf '{"index":0,"type":"invoke","process":0,"f":"write","value":1}\n{"index":1,"type":"ok","process":0,"f":"write","value":1}\n{"index":2,"type":"invoke","process":0,"f":"read","value":null}\n{"index":3,"type":"ok","process":0,"f":"read","value":2}\n' >"$D/pipe.jsonl"
out=$(cat "$D/pipe.jsonl" | "$FAULTLINE" check /dev/stdin 2>&1); rc=$?
if [ $rc -eq 1 ] && printf '%s' "$out" | grep -q "read 2"; then pass "history through a pipe: invalid read found"; else fail "history through a pipe" "rc=$rc $out"; fi
out=$("$FAULTLINE" check <(cat "$D/pipe.jsonl") 2>&1); rc=$?
if [ $rc -eq 1 ]; then pass "history through <(...): invalid"; else fail "history through <(...)" "rc=$rc $out"; fi
out=$(cat "$K/cas-register/bad/rethink-fail-minimal.edn" | "$FAULTLINE" check --model cas-register /dev/stdin 2>&1); rc=$?
if [ $rc -eq 1 ]; then pass "EDN through a pipe: invalid"; else fail "EDN through a pipe" "rc=$rc $out"; fi
out=$("$FAULTLINE" check --model cas-register <(cat "$K/cas-register/good/memstress3-0.edn") 2>&1); rc=$?
if [ $rc -eq 0 ]; then pass "EDN through <(...): valid"; else fail "EDN through <(...)" "rc=$rc $out"; fi

# A complete last line that does not parse is bad input, not a torn write.
printf '{"index":0,"type":"invoke","process":0,"f":"read","value":null}\n{"index":1,"type":"ok","process":0,"f":"read","value":123456789012345678901}\n' >"$D/bigint.jsonl"
out=$("$FAULTLINE" check "$D/bigint.jsonl" 2>&1); rc=$?
if [ $rc -eq 254 ] && printf '%s' "$out" | grep -q "bigint.jsonl:2:[0-9]*: "; then pass "complete bad last line -> 254 with FILE:LINE:COL"; else fail "complete bad last line -> 254" "rc=$rc $out"; fi

# EDN errors print no raw control bytes.
printf '[{:process 0 :type :invoke :f :read \001\033[31m}]\n' >"$D/ctl.edn"
out=$("$FAULTLINE" check "$D/ctl.edn" 2>&1); rc=$?
if [ $rc -eq 254 ] && ! printf '%s' "$out" | LC_ALL=C grep -q "[[:cntrl:]]" && printf '%s' "$out" | grep -q 'ctl.edn:1:'; then
	pass "EDN error message is printable"; else fail "EDN error message is printable" "rc=$rc $(printf '%s' "$out" | od -c | head -3)"; fi

# --timeout bounds reading: a FIFO nobody writes to gives unknown, promptly.
mkfifo "$D/fifo"
start=$(date +%s%N)
out=$(timeout 30 "$FAULTLINE" check --timeout 5 "$D/fifo" 2>&1); rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
if [ $rc -eq 2 ] && [ "$ms" -lt 8000 ]; then pass "FIFO without a writer, --timeout 5 -> unknown in ${ms} ms"; else fail "FIFO without a writer -> unknown promptly" "rc=$rc ms=$ms $out"; fi

# Issue 12, wrong answers of the differential run, through the CLI:
# integer register names with --init (EDN or JSON), independent mutexes
# split by key, an op the model does not know refused whatever its outcome.
printf '[{:process 0 :type :invoke :f :txn :value [[:read 1 nil]]}\n {:process 0 :type :ok :f :txn :value [[:read 1 0]]}]\n' >"$D/mr-int.edn"
expect_code "multi-register --init '{1 0}': register 1 reads 0 -> valid" 0 --model multi-register --init '{1 0}' "$D/mr-int.edn"
expect_code "multi-register --init '{\"1\": 0}' -> valid" 0 --model multi-register --init '{"1": 0}' "$D/mr-int.edn"
printf '[{:process 0 :type :invoke :f :acquire :value [1 nil]}\n {:process 0 :type :ok :f :acquire :value [1 nil]}\n {:process 1 :type :invoke :f :acquire :value [2 nil]}\n {:process 1 :type :ok :f :acquire :value [2 nil]}]\n' >"$D/mutex2.edn"
expect_code "two locks of different keys (independent) -> valid" 0 --model mutex "$D/mutex2.edn"
printf '{"type":"invoke","process":0,"f":"frobnicate","value":1}\n{"type":"fail","process":0,"f":"frobnicate","value":1}\n' >"$D/unk-fail.jsonl"
expect_code "unknown op that failed -> 254" 254 "$D/unk-fail.jsonl"
printf '{"type":"invoke","process":0,"f":"frobnicate","value":1}\n' >"$D/unk-pending.jsonl"
expect_code "unknown op never completed -> 254" 254 "$D/unk-pending.jsonl"
printf '[{:process 0 :type :invoke :f :add :value 1}\n {:process 0 :type :ok :f :add :value 1}\n {:process 1 :type :invoke :f :read :value nil}\n {:process 1 :type :ok :f :read :value #{1 2}}]\n' >"$D/set.edn"
expect_code "EDN set read #{1 2} after add 1 -> invalid, not refused" 1 --model set "$D/set.edn"

# Torn last line (a killed run): ignored, verdict still given.
printf '{"index":0,"type":"invoke","process":0,"f":"write","value":1}\n{"index":1,"type":"ok","process":0,"f":"write","value":1}\n{"index":2,"type":"invoke","process":0,"f":"read","value":null}\n{"index":3,"type":"ok","process":0,"f":"read","value":2}\n{"index":4,"type":"inv' >"$D/torn.jsonl"
expect_code "torn last line ignored, invalid read still found" 1 "$D/torn.jsonl"

# A run directory: test.json names the workload, which picks the model
# (append is a kv op the default cas-register does not know).
mkdir -p "$D/run"
echo '{"workload":"kv"}' >"$D/run/test.json"
printf '{"type":"invoke","process":0,"f":"append","key":"a","value":"x"}\n{"type":"ok","process":0,"f":"append","key":"a","value":"x"}\n{"type":"invoke","process":1,"f":"get","key":"a","value":null}\n{"type":"ok","process":1,"f":"get","key":"a","value":"x"}\n' >"$D/run/history.jsonl"
expect_code "model from test.json workload (kv) -> valid" 0 "$D/run/history.jsonl"
expect_code "same history, --model cas-register -> 254" 254 --model cas-register "$D/run/history.jsonl"

# A pathological key: 40 never-completed writes and an impossible read
# means 2^40 subsets; --timeout 1 must answer unknown, promptly.
python3 - "$D/hard.jsonl" <<'EOF'
import json, sys
with open(sys.argv[1], "w") as f:
    i = 0
    def w(o):
        global i
        o["index"] = i; i += 1
        f.write(json.dumps(o) + "\n")
    for p in range(40):
        w({"type": "invoke", "process": p, "f": "write", "key": "hot", "value": p})
    for p in range(40):
        w({"type": "invoke", "process": 100 + p, "f": "read", "key": "hot", "value": None})
        w({"type": "ok", "process": 100 + p, "f": "read", "key": "hot", "value": p})
    w({"type": "invoke", "process": 99, "f": "read", "key": "hot", "value": None})
    w({"type": "ok", "process": 99, "f": "read", "key": "hot", "value": 1000})
    w({"type": "invoke", "process": 98, "f": "write", "key": "easy", "value": 1})
    w({"type": "ok", "process": 98, "f": "write", "key": "easy", "value": 1})
EOF
start=$(date +%s%N)
out=$("$FAULTLINE" check --timeout 1 --json "$D/hard.jsonl" 2>&1); rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
if [ $rc -eq 2 ] && printf '%s' "$out" | grep -q '"unfinished_keys":\["hot"\]' && [ "$ms" -lt 4000 ]; then
	pass "pathological key -> unknown naming it, in ${ms} ms (--timeout 1)"
else
	fail "pathological key -> unknown naming it, promptly" "rc=$rc ms=$ms $out"
fi

done_testing
