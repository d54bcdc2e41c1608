#!/usr/bin/env bash
# tests/integration/secrets.sh - the sudo password never leaves faultline.
# A real run on a local cluster (t-sec, 10.213.155.0/24) as a non-root user
# whose sudo asks for a password (the password given the only way the
# config allows: sudo_password_env names an environment variable), with a
# partition fault, then heal:
#  - the password appears in none of test.json, faultline.log,
#    history.jsonl, results.json, report.html, junit.xml, nemesis.json, the
#    node logs, the store index, faultline's stdout/stderr, nor on the
#    nodes' disks; test.json names only the variable;
#  - it is in no process's command line, and in no other process's
#    environment, at any sampled moment of the run (the nodes share this
#    pid namespace);
#  - a wrong password fails naming sudo, without echoing either password;
#  - a config file carrying sudo_password itself is refused (254) without
#    echoing it.
# A key passphrase has no config key (an encrypted ssh_private_key is
# refused as unreadable), so there is no passphrase to leak.
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"
need_root
cd "$(dirname "$0")/../.." || exit 1
for c in jq etcd sudo useradd chpasswd; do
	command -v "$c" >/dev/null || { skip "secrets" "$c not installed (make deps)"; done_testing; exit; }
done

NAME=t-sec
SUBNET=10.213.155.0/24
T=$(mktemp -d /tmp/faultline-secrets.XXXXXX)
chmod 755 "$T"
[ -n "${KEEP:-}" ] || on_exit "rm -rf '$T'"
U=flsec$$
# The part every leak would carry, however it got quoted or escaped, and
# the whole password with characters a careless shell or JSON would mangle.
CORE="Fl-S3cret-$$-$RANDOM$RANDOM"
PW="$CORE'\"\$(x)\`;\\ #"
WRONG_CORE="Wr0ng-$$-$RANDOM$RANDOM"
STATE=/run/faultline/clusters/$NAME

# ---- a user whose sudo wants a password ----
if ! useradd -M -d /tmp -s /bin/sh "$U" 2>"$T/useradd.err"; then
	fail "test user $U" "$(cat "$T/useradd.err")"; done_testing; exit
fi
on_exit "userdel '$U'"
printf '%s:%s\n' "$U" "$PW" | chpasswd
echo "$U ALL=(ALL:ALL) ALL" >"/etc/sudoers.d/$U"
chmod 440 "/etc/sudoers.d/$U"
on_exit "rm -f '/etc/sudoers.d/$U'"
if printf '%s\n' "$PW" | su "$U" -s /bin/sh -c 'sudo -k -S -p "" id -u' 2>/dev/null | grep -qx 0 &&
	! su "$U" -s /bin/sh -c 'sudo -k -n id -u' >/dev/null 2>&1; then
	pass "user $U: sudo needs the password and accepts it"
else
	fail "user $U: sudo with password" "sudo did not behave"; done_testing; exit
fi

"$FAULTLINE" cluster down --name "$NAME" >/dev/null 2>&1
if ! "$FAULTLINE" cluster up --name "$NAME" --subnet "$SUBNET" --nodes 3 --db none >"$T/up.log" 2>&1; then
	fail "cluster up $NAME" "$(tail -3 "$T/up.log" | tr '\n' ' ')"; done_testing; exit
fi
on_exit "'$FAULTLINE' cluster down --name $NAME"
# sshd reads authorized_keys as the user logging in: let it through the
# state directory (the private key stays 0600).
chmod 711 "$STATE"
pass "cluster up $NAME (3 nodes)"

# secret_in FILES...: names of the files holding the secret (either one).
secret_in() { grep -rlaF -e "$CORE" -e "$WRONG_CORE" "$@" 2>/dev/null; }

# Sample every process's command line, and the environment of every process,
# while faultline runs. faultline's own environment carries the password
# from exec until it has read its options (it then wipes it): counted only
# from the 10th sweep (2 s) on. The pattern comes from a file so the
# sampling grep does not carry it in its own command line.
printf '%s\n' "$CORE" >"$T/pattern"
watch_procs() { # faultline-pid out
	local me=$1 out=$2 f sweeps=0
	: >"$out"
	while kill -0 "$me" 2>/dev/null; do
		grep -laFf "$T/pattern" /proc/[0-9]*/cmdline 2>/dev/null | sed 's/^/cmdline: /' >>"$out"
		grep -laFf "$T/pattern" /proc/[0-9]*/environ 2>/dev/null | while IFS= read -r f; do
			[ "$f" = "/proc/$me/environ" ] && [ "$sweeps" -lt 10 ] && continue
			echo "environ: $f $(tr '\0' ' ' 2>/dev/null <"${f%/environ}/cmdline" | cut -c1-80)"
		done >>"$out"
		sweeps=$((sweeps + 1))
		sleep 0.2
	done
	echo "$sweeps" >"$out.sweeps"
}

# The sampler finds a process that does carry it (in its environment).
sleep 1.5 &
quiet=$!
FL_CANARY=$CORE sleep 1.5 &
watch_procs "$quiet" "$T/canary"
wait
ok "control: the /proc sampler sees a process carrying the password" grep -q '^environ: ' "$T/canary"

# ---- 1. a run with the right password ----
STORE=$T/store
FL_SUDO_PW=$PW "$FAULTLINE" run --cluster "$NAME" --username "$U" --sudo-password-env FL_SUDO_PW \
	--time-limit 4 --nemesis partition --nemesis-interval 1 --recovery-time 1 --store "$STORE" \
	>"$T/run.out" 2>"$T/run.err" &
pid=$!
watch_procs "$pid" "$T/procs"
wait "$pid"
rc=$?
RUN=$(tail -1 "$T/run.out")
if [ "$rc" -eq 0 ] && [ -f "$RUN/history.jsonl" ]; then
	pass "run as $U with sudo password and a partition: valid (exit 0)"
else
	fail "run as $U with sudo password" "exit $rc: $(tail -3 "$T/run.err" | tr '\n' ' ')"
fi
for f in test.json faultline.log history.jsonl results.json report.html junit.xml nemesis.json; do
	if [ ! -s "$RUN/$f" ]; then fail "$f written" "missing in $RUN"
	elif [ -n "$(secret_in "$RUN/$f")" ]; then fail "$f: no password" "found in $RUN/$f"
	else pass "$f: no password"; fi
done
ok "nothing in the run directory (node logs too) holds it" test -z "$(secret_in "$RUN")"
ok "nor the store (index, latest)" test -z "$(secret_in "$STORE")"
ok "nor faultline's stdout and stderr" test -z "$(secret_in "$T/run.out" "$T/run.err")"
ok "nor the nodes' disks (workdirs, cluster state)" test -z "$(secret_in "$STATE")"
ok "test.json names the variable only" \
	jq -e '.sudo_password_env == "FL_SUDO_PW" and .username == "'"$U"'" and (has("sudo_password") | not)' "$RUN/test.json"
n_ops=$(grep -c '"type":"ok"' "$RUN/history.jsonl")
ok "the run did its work through sudo ($n_ops ok ops, faults applied)" \
	test "$n_ops" -gt 100 -a "$(grep -c '"process":"nemesis","f":"start-partition"' "$RUN/history.jsonl")" -ge 1
if [ -s "$T/procs" ]; then fail "no process showed it in its command line or environment" "$(head -3 "$T/procs")"
else pass "no process showed it in its command line or environment ($(cat "$T/procs.sweeps") sweeps of /proc)"; fi

# ---- 2. heal with it ----
FL_SUDO_PW=$PW "$FAULTLINE" heal --cluster "$NAME" --username "$U" --sudo-password-env FL_SUDO_PW \
	>"$T/heal.out" 2>"$T/heal.err"
rc=$?
ok "heal as $U with the password: exit 0" test "$rc" -eq 0
ok "heal's output holds no password" test -z "$(secret_in "$T/heal.out" "$T/heal.err")"

# ---- 3. a wrong password ----
FL_SUDO_PW=$WRONG_CORE "$FAULTLINE" run --cluster "$NAME" --username "$U" --sudo-password-env FL_SUDO_PW \
	--time-limit 2 --store "$T/store-wrong" >"$T/wrong.out" 2>"$T/wrong.err"
rc=$?
if [ "$rc" -eq 254 ] && grep -q "sudo: incorrect password for user $U" "$T/wrong.err" &&
	[ "$(wc -l <"$T/wrong.err")" -eq 1 ]; then
	pass "wrong password: refused while connecting (exit 254, one line naming sudo)"
else
	fail "wrong password: fails naming sudo" "exit $rc: $(tail -2 "$T/wrong.err" | tr '\n' ' ')"
fi
ok "wrong password: neither password in its output or store" \
	test -z "$(secret_in "$T/wrong.out" "$T/wrong.err" "$T/store-wrong")"

# ---- 4. a config file carrying the password ----
jq -n --arg pw "$PW" '{cluster: "t-sec", sudo_password: $pw}' >"$T/pw.json"
"$FAULTLINE" run "$T/pw.json" --store "$T/store-cfg" >"$T/cfg.out" 2>"$T/cfg.err"
rc=$?
if [ "$rc" -eq 254 ] && [ "$(wc -l <"$T/cfg.err")" -eq 1 ] && grep -q sudo_password_env "$T/cfg.err" &&
	[ -z "$(secret_in "$T/cfg.out" "$T/cfg.err")" ] && [ ! -e "$T/store-cfg" ]; then
	pass "sudo_password in a config file: 254, one line pointing to sudo_password_env, not echoed"
else
	fail "sudo_password in a config file refused" "exit $rc: $(cat "$T/cfg.err")"
fi

done_testing
