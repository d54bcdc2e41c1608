#!/usr/bin/env bash
# tests/integration/postgres.sh - PostgreSQL (src/db/postgres*.c) end to end
# on a real 3-node local cluster (name h-pg9, subnet 10.213.219.0/24,
# removed on exit), with real postgres, Patroni and etcd processes:
#  - `cluster up --db postgres`: a primary and two streaming replicas over
#    SSH, every node healthy in `cluster status`;
#  - bad input, each one line and exit 254 before any node is touched: an
#    unknown isolation level, a workload postgres does not run, a node
#    without PostgreSQL (an sshd in a private mount namespace inside n1's
#    network namespace, where /usr/lib/postgresql is an empty directory),
#    and with ha=patroni a node without Patroni;
#  - append at serializable with the primary killed: valid, ok
#    transactions on both sides of the kill, nothing of ours left running
#    after teardown;
#  - append at repeatable-read: invalid with G2-item, and no G0/G1;
#  - Patroni: set with a partition isolating the primary: another node is
#    promoted (acknowledged adds served by two primaries) and set-full
#    judges the run (lost adds are reported, not asserted: that is what
#    the test measures).
source "$(dirname "$0")/../lib.sh"
need_root
command -v jq >/dev/null || { skip "postgres" "jq not installed (make deps)"; done_testing; exit; }
ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 ||
	{ skip "postgres" "PostgreSQL not installed (make deps)"; done_testing; exit; }

NAME=h-pg9
SUBNET=10.213.219.0/24
N1=10.213.219.11
STORE=$TEST_OUTPUT/postgres-store
OUT=$TEST_OUTPUT/postgres
rm -rf "$STORE" "$OUT"; mkdir -p "$OUT"; chmod 755 "$OUT"
"$FAULTLINE" cluster down --name "$NAME" >/dev/null 2>&1
if "$FAULTLINE" cluster up --nodes 3 --name "$NAME" --subnet "$SUBNET" --db postgres >"$OUT/up.log" 2>&1; then
	on_exit "\"$FAULTLINE\" cluster down --name $NAME"
	pass "cluster up --db postgres ($NAME, 3 nodes)"
else
	fail "cluster up --db postgres" "$(tail -2 "$OUT/up.log")"
	"$FAULTLINE" cluster down --name "$NAME" >/dev/null 2>&1
	done_testing; exit
fi
STATE=/run/faultline/clusters/$NAME
"$FAULTLINE" cluster status --name "$NAME" >"$OUT/status.out" 2>&1
check_status() { [ "$(grep -c ' healthy' "$OUT/status.out")" -eq 3 ]; }
ok "cluster status: postgres healthy on n1, n2, n3" check_status

# Processes of this test's postgres, patroni or etcd still alive (the
# nodes share our pid space; each has the cluster's state dir in argv).
db_count() { ps -eo args | grep -cE "^(/usr/lib/postgresql/[0-9]+/bin/postgres|/usr/bin/python3 /usr/bin/patroni|etcd) .*$STATE/"; }

cfg() { # file, json (merged over the common part)
	jq -n --arg c "$NAME" --arg s "$STORE" --argjson x "$2" \
		'{db: "postgres", cluster: $c, store: $s, concurrency: 6, recovery_time: 3} + $x' >"$1"
}
run() { # name, config json -> $OUT/name.{out,err,rc}, $OUT/name.dir
	local n=$1
	cfg "$OUT/$n.json" "$2"
	"$FAULTLINE" run "$OUT/$n.json" >"$OUT/$n.out" 2>"$OUT/$n.err"
	echo $? >"$OUT/$n.rc"
	tail -1 "$OUT/$n.out" >"$OUT/$n.dir"
}
rc_of() { cat "$OUT/$1.rc"; }
dir_of() { cat "$OUT/$1.dir"; }

# 1. Bad input: 254, one line, nothing touched.
run bad-iso '{"workload": "append", "time_limit": 5, "db_opts": {"isolation": "snapshot"}}'
bad_iso() { [ "$(rc_of bad-iso)" = 254 ] && [ "$(wc -l <"$OUT/bad-iso.err")" = 1 ] &&
	grep -qF "db_opts.isolation: expected one of read-committed|repeatable-read|serializable" "$OUT/bad-iso.err"; }
ok "unknown isolation level: exit 254, one line naming db_opts.isolation" bad_iso
run bad-wl '{"workload": "register", "time_limit": 5}'
bad_wl() { [ "$(rc_of bad-wl)" = 254 ] &&
	grep -qF "postgres cannot run workload 'register' (it runs: append, rw-register, bank, set)" "$OUT/bad-wl.err"; }
ok "workload postgres does not run: exit 254 naming the ones it runs" bad_wl

# A node without PostgreSQL: a second sshd in n1's network namespace, in a
# mount namespace of its own where the server binaries are gone (and one
# where patroni is not executable).
M=$OUT/mask; mkdir -p "$M/empty"; : >"$M/not-exec"; chmod 644 "$M/not-exec"
ssh-keygen -q -t ed25519 -N '' -f "$M/host_key"; ssh-keygen -q -t ed25519 -N '' -f "$M/client_key"
cp "$M/client_key.pub" "$M/authorized_keys"
masked_sshd() { # port, mount source, mount target
	printf '%s\n' "ListenAddress $N1" "Port $1" "HostKey $M/host_key" "AuthorizedKeysFile $M/authorized_keys" \
		"PermitRootLogin prohibit-password" "PasswordAuthentication no" "KbdInteractiveAuthentication no" \
		"UsePAM no" "StrictModes no" "SetEnv SHLVL=1" "Subsystem sftp internal-sftp" >"$M/sshd_$1"
	echo "[$N1]:$1 $(cut -d' ' -f1,2 "$M/host_key.pub")" >>"$M/known_hosts"
	ip netns exec "fl-$NAME-n1" unshare -m --propagation private sh -c \
		"mount --bind '$2' '$3' && exec /usr/sbin/sshd -D -f '$M/sshd_$1' -E '$M/sshd_$1.log'" &
	on_exit "kill $!"
}
masked_sshd 2222 "$M/empty" /usr/lib/postgresql
masked_sshd 2223 "$M/not-exec" "$(command -v patroni || echo /usr/bin/patroni)"
listening() { ip netns exec "fl-$NAME-n1" ss -ltnH "sport = :$1" | grep -q .; }
for _ in $(seq 50); do listening 2222 && listening 2223 && break; sleep 0.1; done
nopkg() { # name, port, db_opts
	jq -n --arg m "$M" --arg h "$N1" --argjson p "$2" --arg s "$STORE" --argjson o "$3" \
		'{db: "postgres", workload: "set", time_limit: 5, store: $s, db_opts: $o,
		  nodes: [{name: "n1", host: $h, ssh_port: $p, workdir: "\($m)/w\($p)"}],
		  ssh_private_key: "\($m)/client_key", known_hosts: "\($m)/known_hosts"}' >"$OUT/$1.json"
	"$FAULTLINE" run "$OUT/$1.json" >"$OUT/$1.out" 2>"$OUT/$1.err"
	echo $? >"$OUT/$1.rc"
}
nopkg nopg 2222 '{}'
no_pg() { [ "$(rc_of nopg)" = 254 ] && [ ! -e "$M/w2222" ] &&
	grep -qxF "faultline run: n1: PostgreSQL not found (install the Debian package postgresql)" "$OUT/nopg.err"; }
ok "node without PostgreSQL: exit 254 naming the package, nothing created" no_pg
nopkg nopatroni 2223 '{"ha": "patroni"}'
no_patroni() { [ "$(rc_of nopatroni)" = 254 ] && [ ! -e "$M/w2223" ] &&
	grep -qxF "faultline run: n1: patroni not found (install the Debian package patroni)" "$OUT/nopatroni.err"; }
ok "ha=patroni on a node without Patroni: exit 254 naming the package" no_patroni

# 2. Serializable, the primary killed and restarted: no anomaly.
run ser '{"workload": "append", "time_limit": 12, "nemesis": ["kill"], "nemesis_interval": 4,
  "nemesis_opts": {"kill": {"targets": ["primaries"]}}, "db_opts": {"isolation": "serializable"}}'
H=$(dir_of ser)/history.jsonl
ser_valid() { [ "$(rc_of ser)" = 0 ] && jq -e '.checkers.elle.valid == true' "$(dir_of ser)/results.json" >/dev/null; }
ok "serializable with the primary killed: elle valid (exit 0)" ser_valid
killed_between() { # ok transactions before the kill and after the restart
	local k s
	k=$(jq -s '[.[] | select(.f == "start-kill" and .type == "info" and (.value | has("n1")))][0].time' "$H")
	s=$(jq -s '[.[] | select(.f == "stop-kill" and .type == "info")][0].time' "$H")
	[ "$k" != null ] && [ "$s" != null ] &&
		jq -se --argjson k "$k" --argjson s "$s" '([.[] | select(.type == "ok" and .f == "txn" and .time < $k)] | length) > 20 and
			([.[] | select(.type == "ok" and .f == "txn" and .time > $s)] | length) > 20' "$H" >/dev/null
}
ok "the primary (n1) was killed and restarted, transactions ok before and after" killed_between
no_left() { [ "$(db_count)" = 0 ]; }
ok "teardown: no postgres of this cluster left running" no_left

# 3. Repeatable read (snapshot isolation): write skew.
run rr '{"workload": "append", "time_limit": 6, "db_opts": {"isolation": "repeatable-read"}}'
rr_g2() { [ "$(rc_of rr)" = 1 ] && jq -e '.checkers.elle as $e | ($e.anomaly_types | index("G2-item")) and
	([$e.counts | keys[] | select(test("^G(0|1)"))] | length == 0)' "$(dir_of rr)/results.json" >/dev/null; }
ok "repeatable-read: invalid with G2-item, never G0/G1 (exit 1)" rr_g2

# 4. Patroni: a partition isolating the primary promotes another node
# (its leader key lives 10 s: the partition lasts 18; 15 was once too
# short for Patroni's loop on a loaded machine).
run pat '{"workload": "set", "time_limit": 36, "nemesis": ["partition"], "nemesis_interval": 18,
  "nemesis_opts": {"partition": {"grudges": ["primaries"]}}, "recovery_time": 5,
  "workload_opts": {"read_fraction": 0.02},
  "db_opts": {"ha": "patroni", "isolation": "serializable"}}'
H=$(dir_of pat)/history.jsonl
R=$(dir_of pat)/results.json
failover() {
	[ "$(jq -s '[.[] | select(.type == "ok" and .server) | .server] | unique | length' "$H")" -ge 2 ] && return
	# what happened instead: ok ops per server, the partition's times
	jq -sc '[.[] | select(.type == "ok" and .server) | .server] | group_by(.) | map({(.[0]): length}) | add' "$H"
	jq -c 'select(.process == "nemesis") | {f, type, time: (.time / 1e9 | floor)}' "$H" | tr '\n' ' '
	return 1
}
ok "patroni: ok operations served by two primaries (a failover)" failover
judged() { case $(rc_of pat) in 0|1) jq -e '.checkers["set-full"].acknowledged_count > 100' "$R" >/dev/null ;; *) false ;; esac; }
ok "patroni: set-full judged the run ($(jq -r '.checkers["set-full"] | "\(.lost_count) of \(.acknowledged_count) acknowledged adds lost"' "$R" 2>/dev/null))" judged
ok "teardown: no postgres, patroni or etcd of this cluster left running" no_left

done_testing
