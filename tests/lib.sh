# tests/lib.sh - sourced by integration tests: TAP output and cleanup.
#   source "$(dirname "$0")/../lib.sh"
#   need_root                      # skips the whole script (as skipped, never passed) without root
#   ok "name" command args...      # runs the command; TAP ok / not ok
#   ok_not "name" command ...      # expects failure
#   pass "name" / fail "name" "why" / skip "name" "why"
#   on_exit 'cmd'                  # cleanup, run in reverse order at exit
#   done_testing                   # prints the plan; exits 1 if any failed
set -u
FAULTLINE=${FAULTLINE:-$PWD/faultline}
TEST_OUTPUT=${TEST_OUTPUT:-$PWD/test-output}
mkdir -p "$TEST_OUTPUT"
_tap_n=0 _tap_failed=0 _cleanups=()

pass() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1"; }
fail() { _tap_n=$((_tap_n + 1)); _tap_failed=$((_tap_failed + 1)); echo "not ok $_tap_n - $1"; [ -n "${2:-}" ] && echo "# $2"; return 0; }
skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1 # SKIP ${2:-}"; }
ok() { local name=$1; shift; local out; if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$(echo "$out" | tail -5 | tr '\n' ' ')"; fi; }
ok_not() { local name=$1; shift; if "$@" >/dev/null 2>&1; then fail "$name" "expected failure: $*"; else pass "$name"; fi; }
need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "ok 1 - $(basename "$0") # SKIP needs root (network namespaces)"; exit 0
	fi
}
on_exit() { _cleanups+=("$1"); }
_run_cleanups() { local i; for ((i=${#_cleanups[@]}-1; i>=0; i--)); do eval "${_cleanups[$i]}" >/dev/null 2>&1; done; }
trap _run_cleanups EXIT
done_testing() { echo "1..$_tap_n"; [ "$_tap_failed" -eq 0 ]; }

# cluster_leftovers NAME: everything faultline could leave on a local
# cluster's nodes, one line each ("n2: stopped pid 123 (etcd)"); empty =
# clean. leftovers_summary reads those lines and counts them by kind.
cluster_leftovers() {
	local c=$1 st=/run/faultline/clusters/$1 n p wd
	for n in $(jq -r '.nodes[].name' "$st/cluster.json" 2>/dev/null); do
		ip netns exec "fl-$c-$n" iptables -S 2>/dev/null | grep -E 'FAULTLINE|NFQUEUE' | sed "s/^/$n: /"
		ip netns exec "fl-$c-$n" tc qdisc show 2>/dev/null |
			grep -vE '^qdisc (noqueue|noop|pfifo_fast|fq_codel|mq) ' | sed "s/^/$n: /"
		for p in $(ip netns pids "fl-$c-$n"); do
			case "$(readlink "/proc/$p/exe" 2>/dev/null)" in
			*/faultline-*) echo "$n: helper pid $p $(readlink "/proc/$p/exe")" ;;
			esac
			[ "$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$p/status" 2>/dev/null)" = T ] &&
				echo "$n: stopped pid $p ($(cat "/proc/$p/comm" 2>/dev/null))"
		done
		wd=$(jq -r --arg n "$n" '.nodes[] | select(.name == $n) | .workdir' "$st/cluster.json")
		find "$wd" -maxdepth 1 \( -name 'faultline-*.pid' -o -name faultline-killed \) 2>/dev/null |
			sed "s/^/$n: marker /"
	done
	return 0
}
leftovers_summary() {
	awk '/ -[NA] |NFQUEUE/ {i++} /qdisc/ {q++} /helper pid/ {h++} /stopped pid/ {s++} /marker/ {m++}
		END {printf "%d iptables lines, %d qdiscs, %d helpers, %d stopped, %d markers", i, q, h, s, m}'
}
