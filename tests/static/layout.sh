#!/usr/bin/env bash
# tests/static/layout.sh - the dependency rules of design.md's Layout v2,
# checked over the #include lines, so the module graph stays acyclic:
#   src/history/  util only                 src/cluster/  util only
#   checkers/     history, util, opts       src/report/   history, results, util
#   workloads/    history, test, rng, opts  src/db/       history, test, ssh, net, par, opts, client
#   nemesis/      history, test, ssh, par, rng, db, store
#   config.h:     only config.c, local.c and the cmd_*.c files (argv -> library calls)
#   ssh, net, par, rng, opts, store, util: no test.h, config.h or anything above them
# A rule broken fails `make test`, naming the file and the include.
source "$(dirname "$0")/../lib.sh"
cd "$(dirname "$0")/../.."

# header name -> its folder
declare -A home
while IFS= read -r h; do home[$(basename "$h")]=$(dirname "$h"); done \
	< <(find src workloads nemesis checkers -name '*.h')

# check FILE ALLOWED...: every project include of FILE is in its own folder
# or is one of ALLOWED (header names or folders).
check() {
	local file=$1; shift
	local dir inc ok a bad=""
	dir=$(dirname "$file")
	while IFS= read -r inc; do
		[ -n "${home[$inc]:-}" ] || continue # a system header or a test's own
		[ "${home[$inc]}" = "$dir" ] && continue
		ok=0
		for a in "$@"; do
			[ "$a" = "$inc" ] || [ "$a" = "${home[$inc]}" ] && ok=1
		done
		[ $ok -eq 1 ] || bad="$bad $inc"
	done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$file")
	if [ -n "$bad" ]; then fail "$file: includes$bad"; return 1; fi
	return 0
}

rule() { # name, glob, allowed...
	local name=$1 glob=$2 f n=0 broken=0; shift 2
	for f in $glob; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		check "$f" "$@" || broken=$((broken + 1))
	done
	[ $broken -eq 0 ] && pass "$name ($n files)"
}

rule "src/history depends on util only" "src/history/*.[ch]" util.h
rule "src/cluster depends on util only (no test, config, db)" "src/cluster/*.[ch]" util.h
rule "checkers depend on history, util, opts" "checkers/*.[ch]" src/history util.h opts.h
rule "src/report depends on history, results, util" "src/report/*.[ch]" src/history results.h util.h
rule "workloads depend on history, test, rng, opts" "workloads/*.[ch]" src/history util.h test.h \
	rng.h opts.h
rule "src/db depends on history, test, ssh, net, par, opts, client" "src/db/*.[ch]" src/history \
	util.h test.h ssh.h net.h par.h opts.h client.h
rule "nemesis depends on history, test, ssh, par, rng, db, store" "nemesis/*.[ch]" src/history \
	util.h test.h ssh.h par.h rng.h db.h store.h
rule "transport and helpers depend on nothing above them" \
	"src/ssh.[ch] src/net.[ch] src/par.[ch] src/rng.[ch] src/opts.[ch] src/store.[ch] src/util.[ch] src/test.h" \
	util.h net.h par.h
rule "nodes: test, ssh, par" "src/nodes.[ch]" util.h test.h ssh.h par.h

# config.h: the one place that knows every registry, used by argv glue only.
users=$(grep -l '#include "config.h"' src/*.c src/*/*.c workloads/*.c nemesis/*.c checkers/*.c 2>/dev/null |
	grep -vE '^src/(config|local|cmd_[a-z]+)\.c$' | tr '\n' ' ')
if [ -z "$users" ]; then pass "config.h only in config.c, local.c and cmd_*.c"
else fail "config.h only in config.c, local.c and cmd_*.c" "also in: $users"; fi

done_testing
