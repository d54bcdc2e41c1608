#!/usr/bin/env bash
# tests/integration/cluster.sh - `faultline cluster up|status|down` for real:
# namespaces, bridge, sshd per node, etcd through the SSH layer, two
# clusters side by side, strict host keys, bad input, crash-safe down.
# Clusters t-c1 (10.213.101.0/24) and t-c2 (10.213.103.0/24).
source "$(dirname "$0")/../lib.sh"
need_root
SSHX=${SSHX:-${BUILD:-build}/tests/tools/sshx}
C1=t-c1 C2=t-c2 S1=10.213.101.0/24 S2=10.213.103.0/24
OUT=$TEST_OUTPUT/cluster; rm -rf "$OUT"; mkdir -p "$OUT"
"$FAULTLINE" cluster down --name $C1 >/dev/null 2>&1
"$FAULTLINE" cluster down --name $C2 >/dev/null 2>&1
on_exit "'$FAULTLINE' cluster down --name $C1"
on_exit "'$FAULTLINE' cluster down --name $C2"

leftovers() { # prints anything of cluster $1 still on the machine
	ip netns list | grep -E "^fl-$1-n[0-9]+" ; [ -e "/run/faultline/clusters/$1" ] && echo "state dir"
	ip -br link | grep -F "$(jq -r .bridge "$OUT/$1.json" 2>/dev/null || echo NONE)"
	for p in $(jq -r '.nodes[].sshd_pid' "$OUT/$1.json" 2>/dev/null) $(cat "$OUT/$1.dbpids" 2>/dev/null); do
		[ -d /proc/$p ] && [ "$(awk '{print $3}' /proc/$p/stat)" != Z ] && echo "pid $p"
	done
	iptables -S FORWARD | grep -F "faultline:$1"
	return 0
}

# Bad input: one line, exit 254, nothing created.
bad() {
	local name=$1; shift
	local err rc
	err=$("$FAULTLINE" cluster up --name $C1 "$@" 2>&1 >/dev/null); rc=$?
	if [ $rc -eq 254 ] && [ "$(echo "$err" | wc -l)" -eq 1 ] && [ -z "$(leftovers $C1)" ]; then
		pass "$name -> 254, one line, nothing created ($err)"
	else fail "$name" "rc=$rc err=$err left=$(leftovers $C1)"; fi
}
bad "--nodes 0" --nodes 0 --subnet $S1
bad "--nodes 300" --nodes 300 --subnet $S1
bad "malformed subnet" --subnet 10.213.101/24
bad "subnet with host bits" --subnet 10.213.101.7/24
bad "public subnet" --subnet 8.8.8.0/24
bad "unknown --db" --db mongodb --subnet $S1
bad "bad name" --name 'x;touch /tmp/x' --subnet $S1

# Up: 3 nodes, healthy, visible to ip netns, no route out.
if "$FAULTLINE" cluster up --nodes 3 --name $C1 --subnet $S1 >"$OUT/up1.log" 2>&1; then
	pass "cluster up --nodes 3 --name $C1 ($(grep -o 'up in [0-9.]* s' "$OUT/up1.log"))"
else
	fail "cluster up $C1" "$(tail -3 "$OUT/up1.log" | tr '\n' ' ')"; done_testing; exit
fi
ST=/run/faultline/clusters/$C1
cp "$ST/cluster.json" "$OUT/$C1.json"
ok "status $C1 healthy (exit 0)" "$FAULTLINE" cluster status --name $C1
"$FAULTLINE" cluster status --name $C1 --json >"$OUT/status1.json"
jq -r '.nodes[].db_pid' "$OUT/status1.json" >"$OUT/$C1.dbpids"
[ "$(jq '[.nodes[] | select(.ssh and .sshd_alive and .health == "healthy" and .db_pid > 0)] | length' "$OUT/status1.json")" = 3 ] \
	&& pass "status --json: 3 nodes ssh ok, sshd alive, etcd pid, healthy" || fail "status --json" "$(cat "$OUT/status1.json")"
[ "$(ip netns list | grep -cE "^fl-$C1-n[123]( |$)")" = 3 ] && pass "ip netns lists fl-$C1-n1..n3" || fail "ip netns" "$(ip netns list)"
routes=$(ip netns exec fl-$C1-n2 ip route)
if ! echo "$routes" | grep -q default && [ "$(echo "$routes" | wc -l)" = 1 ]; then pass "node has only its subnet route, no default route"
else fail "routes" "$routes"; fi
[ "$(ip netns exec fl-$C1-n1 cat /proc/sys/net/ipv4/ip_forward)" = 0 ] && pass "no forwarding in the node" || fail "ip_forward in node"
# A route lookup only (no packet is sent): an outside address has no route.
ip netns exec fl-$C1-n1 ip route get 192.0.2.1 >/dev/null 2>&1 && fail "node has a route to an outside address" || pass "node has no route to outside addresses"
H1=$(jq -r '.nodes[0].host' "$OUT/$C1.json") H3=$(jq -r '.nodes[2].host' "$OUT/$C1.json")
[ "$(jq -r '.nodes[].host' "$OUT/$C1.json" | sort -u | wc -l)" = 3 ] && pass "nodes have distinct addresses in $S1" || fail "addresses"

# An etcd put through n1's address is read through n3's address.
VAL=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
curl -sf -m 5 -X POST "http://$H1:2379/v3/kv/put" -d "{\"key\":\"$(printf k1 | base64)\",\"value\":\"$(printf %s "$VAL" | base64)\"}" >/dev/null
got=$(curl -sf -m 5 -X POST "http://$H3:2379/v3/kv/range" -d "{\"key\":\"$(printf k1 | base64)\"}" | jq -r '.kvs[0].value' | base64 -d)
[ "$got" = "$VAL" ] && pass "put through n1 ($H1), read through n3 ($H3)" || fail "put n1 read n3" "got '$got' want '$VAL'"

# SSH layer against the cluster: strict host keys, errors name the cause.
KEY=$(jq -r .private_key "$OUT/$C1.json") KH=$(jq -r .known_hosts "$OUT/$C1.json")
ok "ssh exec on every node with the cluster's key and known_hosts" "$SSHX" --cluster $C1 exec-all true
sed "s#^$H1 ssh-ed25519 .*#$H1 $(cut -d" " -f1,2 "$ST/nodes/n2/ssh_host_ed25519_key.pub")#" "$KH" >"$OUT/kh-mismatch"
err=$("$SSHX" --host "$H1" --key "$KEY" --known-hosts "$OUT/kh-mismatch" exec true 2>&1)
echo "$err" | grep -q "host key mismatch" && echo "$err" | grep -q "n1\|$H1" && pass "host key mismatch refused, named" || fail "host key mismatch" "$err"
: >"$OUT/kh-empty"
err=$("$SSHX" --host "$H1" --key "$KEY" --known-hosts "$OUT/kh-empty" exec true 2>&1)
echo "$err" | grep -qi "unknown host key" && pass "unknown host key refused without --accept-new" || fail "unknown host key" "$err"
ok "--accept-new trusts on first use" "$SSHX" --host "$H1" --key "$KEY" --known-hosts "$OUT/kh-empty" --accept-new exec true
grep -q "^$H1 ssh-ed25519" "$OUT/kh-empty" && pass "--accept-new recorded the key" || fail "accept-new record" "$(cat "$OUT/kh-empty")"
ssh-keygen -q -t ed25519 -N '' -f "$OUT/wrong_key" <<<y >/dev/null 2>&1
err=$("$SSHX" --host "$H1" --key "$OUT/wrong_key" --known-hosts "$KH" exec true 2>&1)
echo "$err" | grep -qi "authentication failed" && pass "wrong private key -> authentication failed" || fail "wrong key" "$err"
err=$("$SSHX" --host "${H1%.*}.250" --key "$KEY" --known-hosts "$KH" --connect-timeout 1000 exec true 2>&1)
echo "$err" | grep -qiE "timeout|timed out|unreachable|refused" && pass "absent node -> clear error ($(echo "$err" | grep -oiE 'timeout|timed out|unreachable|refused' | head -1))" || fail "absent node" "$err"

# A second cluster coexists; overlapping subnets and a taken name are refused.
if "$FAULTLINE" cluster up --nodes 2 --name $C2 --subnet $S2 >"$OUT/up2.log" 2>&1; then
	pass "second cluster $C2 up beside $C1"
	cp "/run/faultline/clusters/$C2/cluster.json" "$OUT/$C2.json"
	[ "$(jq -r .bridge "$OUT/$C1.json")" != "$(jq -r .bridge "$OUT/$C2.json")" ] && pass "own bridge" || fail "own bridge"
	ok "both healthy" bash -c "'$FAULTLINE' cluster status --name $C1 && '$FAULTLINE' cluster status --name $C2"
	"$FAULTLINE" cluster status --name $C2 --json | jq -r '.nodes[].db_pid' >"$OUT/$C2.dbpids"
else
	fail "second cluster up" "$(tail -3 "$OUT/up2.log" | tr '\n' ' ')"
fi
err=$("$FAULTLINE" cluster up --nodes 1 --name t-c3 --subnet 10.213.101.128/25 2>&1); rc=$?
[ $rc = 254 ] && echo "$err" | grep -q "overlaps" && pass "overlapping subnet refused (254)" || fail "overlap" "rc=$rc $err"
err=$("$FAULTLINE" cluster up --nodes 1 --name $C1 --subnet 10.213.104.0/24 2>&1); rc=$?
[ $rc = 254 ] && echo "$err" | grep -q "already exists" && pass "existing name refused (254)" || fail "existing name" "rc=$rc $err"
"$FAULTLINE" cluster status --name t-c3 >/dev/null 2>&1; [ $? -ne 0 ] && pass "status of a cluster that is not up exits non-zero" || fail "status not up"

# A stopped node is reported unhealthy.
kill -STOP "$(sed -n 3p "$OUT/$C1.dbpids")"
"$FAULTLINE" cluster status --name $C1 >"$OUT/status-paused.txt" 2>&1; rc=$?
kill -CONT "$(sed -n 3p "$OUT/$C1.dbpids")"
[ $rc -ne 0 ] && grep -q "n3 .*UNHEALTHY" "$OUT/status-paused.txt" && pass "paused etcd on n3 -> status unhealthy, exit $rc" || fail "unhealthy status" "rc=$rc $(cat "$OUT/status-paused.txt")"

# Down removes everything; a second down succeeds.
ok "cluster down $C1" "$FAULTLINE" cluster down --name $C1
left=$(leftovers $C1)
[ -z "$left" ] && pass "no namespace, bridge, process, FORWARD rule or state dir left" || fail "leftovers" "$left"
ok "second down succeeds" "$FAULTLINE" cluster down --name $C1
ok "$C2 still healthy after $C1 went down" "$FAULTLINE" cluster status --name $C2
ok "cluster down $C2" "$FAULTLINE" cluster down --name $C2
[ -z "$(leftovers $C2)" ] && pass "$C2 left nothing" || fail "$C2 leftovers" "$(leftovers $C2)"

# Crash safety: kill -9 of `cluster up` halfway, then down cleans up.
"$FAULTLINE" cluster up --nodes 3 --name $C1 --subnet $S1 >"$OUT/up-killed.log" 2>&1 &
upid=$!
for _ in $(seq 100); do ip netns list | grep -q "^fl-$C1-n2" && break; sleep 0.02; done
kill -9 $upid; wait $upid 2>/dev/null
cp "/run/faultline/clusters/$C1/cluster.json" "$OUT/$C1.json" 2>/dev/null
pgrep -f "clusters/$C1/" >"$OUT/$C1.dbpids" 2>/dev/null  # read-only listing of what the crash left running
[ -n "$(leftovers $C1)" ] && pass "kill -9 mid-up left a half-built cluster" || skip "half-built" "up finished too fast to interrupt"
ok "down after a half-finished up" "$FAULTLINE" cluster down --name $C1
left=$(leftovers $C1)
[ -z "$left" ] && pass "nothing left after down of a half-built cluster" || fail "half-built leftovers" "$left"
done_testing
