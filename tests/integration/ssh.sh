#!/usr/bin/env bash
# tests/integration/ssh.sh - the SSH control layer (src/ssh.c) against a real
# OpenSSH sshd started here on 127.0.0.1 with its own host key, authorized
# key and config (the system sshd and ~/.ssh are never touched), driven
# through build/tests/tools/sshx. Covers exec (status, stdout, stderr,
# timeout, signals), session reuse and transparent reconnect, parallel exec,
# SFTP round trip, strict host keys (unknown, mismatch, accept-new), wrong
# key, connection refused, handshake timeout and the sudo path for a
# non-root user with a password.
# Commands below are for the remote shell: single quotes are meant.
# shellcheck disable=SC2016
source "$(dirname "$0")/../lib.sh"
need_root

BUILD=${BUILD:-build}
SSHX=$PWD/$BUILD/tests/tools/sshx
[ -x "$SSHX" ] || { fail "sshx test driver built" "missing $SSHX (make unit)"; done_testing; exit 1; }

D=$(mktemp -d "$TEST_OUTPUT/ssh.XXXXXX")
chmod 755 "$D"
on_exit "rm -rf '$D'"
port_free() { ! ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }
PORT=2299
while ! port_free $PORT; do PORT=$((PORT + 1)); done
SILENT_PORT=$((PORT + 1))
while ! port_free $SILENT_PORT; do SILENT_PORT=$((SILENT_PORT + 1)); done
CLOSED_PORT=$((SILENT_PORT + 1))
while ! port_free $CLOSED_PORT; do CLOSED_PORT=$((CLOSED_PORT + 1)); done

ssh-keygen -q -t ed25519 -N '' -f "$D/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$D/other_host_key"
ssh-keygen -q -t ed25519 -N '' -f "$D/client_key"
ssh-keygen -q -t ed25519 -N '' -f "$D/wrong_key"
cp "$D/client_key.pub" "$D/authorized_keys"
# SetEnv SHLVL=1: bash then skips ~/.bashrc for ssh commands (this machine's
# root .bashrc runs pyenv init, ~0.5 s per command, which would only
# measure that file).
cat >"$D/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $PORT
HostKey $D/host_key
PidFile $D/sshd.pid
AuthorizedKeysFile $D/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxSessions 50
SetEnv SHLVL=1
Subsystem sftp internal-sftp
EOF
echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$D/host_key.pub")" >"$D/known_hosts"
mkdir -p /run/sshd
if /usr/sbin/sshd -f "$D/sshd_config" -E "$D/sshd.log"; then
	for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$D/sshd.pid" ] && break; sleep 0.1; done
	on_exit "kill \$(cat '$D/sshd.pid')"
	pass "test sshd started on 127.0.0.1:$PORT"
else
	fail "test sshd started" "$(tail -3 "$D/sshd.log")"; done_testing; exit 1
fi

K=(--port "$PORT" --key "$D/client_key" --known-hosts "$D/known_hosts")
sx() { "$SSHX" "$@" 2>>"$D/sshx.stderr"; }
# has OUTPUT FIXED-STRING...: every string occurs in OUTPUT
has() { local o=$1; shift; for s in "$@"; do grep -qF -- "$s" <<<"$o" || return 1; done; }
lacks() { ! grep -qF -- "$2" <<<"$1"; }
line() { sed -n "${2}p" <<<"$1"; }
ppid_of() { sed -n 's/.*"out":"\([0-9][0-9]*\)\\n".*/\1/p' <<<"$1"; }
check() { # name, condition-command..., output shown on failure in $OUT
	local name=$1; shift
	if "$@"; then pass "$name"; else fail "$name" "$(tr '\n' ' ' <<<"$OUT" | cut -c1-400)"; fi
}

OUT=$(sx "${K[@]}" exec 'echo hi; echo oops >&2; exit 3')
check "exec returns exit status, stdout and stderr" \
	has "$OUT" '"rc":0,' '"status":3,' '"out":"hi\n"' '"err":"oops\n"'

OUT=$(sx "${K[@]}" exec 'kill -TERM $$')
check "a command killed by SIGTERM reports status 143" has "$OUT" '"status":143,'

OUT=$(sx "${K[@]}" exec 'echo $PPID' exec 'echo $PPID' exec 'echo $PPID')
a=$(ppid_of "$(line "$OUT" 1)") b=$(ppid_of "$(line "$OUT" 3)")
check "commands reuse one persistent session" test -n "$a" -a "$a" = "$b"

# Commands share one remote shell but not its state.
OUT=$(sx "${K[@]}" exec 'echo $PPID; cd /tmp; X=leak; set -e; exit 7' exec 'echo "$PPID $(pwd) ${X:-unset}"; false; echo still')
a=$(ppid_of "$(line "$OUT" 1)")
check "exit in a command ends only that command" has "$(line "$OUT" 1)" '"status":7,'
check "no cd, variable or set -e leaks into the next command" \
	has "$(line "$OUT" 2)" '"status":0,' "\"out\":\"$a $(getent passwd root | cut -d: -f6) unset\\nstill\\n\""
OUT=$(sx "${K[@]}" exec "echo 'unbalanced" exec 'echo fine')
check "a syntax error fails that command only" \
	has "$(line "$OUT" 1)" '"rc":0,' '"status":2,' && check "the next command runs" has "$(line "$OUT" 2)" '"out":"fine\n"'
OUT=$(sx "${K[@]}" --timeout 3000 exec 'printf abc; printf def >&2' exec 'cat; echo eof')
check "output without a trailing newline is kept exactly" has "$(line "$OUT" 1)" '"out":"abc"' '"err":"def"'
check "a command reading stdin gets EOF at once" has "$(line "$OUT" 2)" '"status":0,' '"out":"eof\n"'
OUT=$(sx "${K[@]}" exec 'seq 1 200000; seq 1 50000 >&2')
check "large stdout and stderr (1.2 MB + 0.3 MB) arrive whole" \
	has "$OUT" '"out":"1\n2\n3\n' '199999\n200000\n"' '"err":"1\n2\n' '49999\n50000\n"'

OUT=$(sx "${K[@]}" --timeout 500 exec 'echo $PPID' exec 'sleep 5.4321; echo' exec 'echo $PPID')
ms=$(line "$OUT" 2 | sed -n 's/.*"ms":\([0-9]*\).*/\1/p')
check "timeout: status -1, timed_out, within the limit" \
	has "$(line "$OUT" 2)" '"rc":-1,' '"status":-1,' '"timed_out":true' 'n1 (127.0.0.1:'"$PORT"'): command timed out after 500 ms'
check "timeout returns promptly (${ms:-?} ms)" test -n "$ms" -a "${ms:-9999}" -lt 2000
a=$(ppid_of "$(line "$OUT" 1)") b=$(ppid_of "$(line "$OUT" 3)")
check "session still usable after a timeout" test -n "$b" -a "$a" = "$b"
check "the timed-out command was killed" bash -c "! ps -eo args | grep -qx 'sleep 5.4321'"

# The background job kills this session's sshd process after the command
# returned: the next exec must notice and reconnect by itself.
OUT=$(sx "${K[@]}" exec '(sleep 0.3; kill -9 $PPID) >/dev/null 2>&1 </dev/null & echo $PPID' sleep 1000 exec 'echo $PPID')
a=$(ppid_of "$(line "$OUT" 1)") b=$(ppid_of "$(line "$OUT" 2)")
check "transparent reconnect after the server side of the session died" \
	test -n "$a" -a -n "$b" -a "$a" != "$b"

OUT=$(sx "${K[@]}" exec 'kill -9 $PPID' exec 'echo after')
check "connection lost mid-command is a transport error naming the node" \
	has "$(line "$OUT" 1)" '"rc":-1,' '"status":-1,' 'n1 (127.0.0.1:'"$PORT"'): connection lost'
check "the next command reconnects" has "$(line "$OUT" 2)" '"rc":0,' '"out":"after\n"'

OUT=$(sx --nodes 5 "${K[@]}" connect exec-all 'sleep 1; echo done')
ms=$(line "$OUT" 2 | sed -n 's/.*"ms":\([0-9]*\)\..*"results".*/\1/p')
n_ok=$(line "$OUT" 2 | grep -o '"status":0,' | wc -l)
check "exec on 5 nodes runs in parallel (${ms:-?} ms for 5 x 1 s)" \
	test "$n_ok" -eq 5 -a -n "$ms" -a "${ms:-99999}" -lt 3000

head -c 300000 /dev/urandom >"$D/blob"
OUT=$(sx "${K[@]}" upload "$D/blob" "$D/blob.remote" 640 download "$D/blob.remote" "$D/blob.back" \
	exec "stat -c %a '$D/blob.remote'")
check "SFTP upload + download round trip is byte-identical" cmp -s "$D/blob" "$D/blob.back"
check "upload sets the remote file mode" has "$(line "$OUT" 3)" '"out":"640\n"'
OUT=$(sx "${K[@]}" download /nonexistent/x "$D/x")
check "download of a missing file: clear error" \
	has "$OUT" '"rc":-1' 'cannot open /nonexistent/x: no such file or directory'
check "failed download leaves no local file" test ! -e "$D/x" -a ! -e "$D/x.part"

echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$D/other_host_key.pub")" >"$D/kh_mismatch"
OUT=$(sx --accept-new --port "$PORT" --key "$D/client_key" --known-hosts "$D/kh_mismatch" connect)
check "host key mismatch refused (even with accept-new), clear error" \
	has "$OUT" '"rc":-1' "n1 (127.0.0.1:$PORT): host key mismatch (known_hosts $D/kh_mismatch)"

OUT=$(sx --port "$PORT" --key "$D/client_key" --known-hosts "$D/kh_new" exec true)
check "unknown host key refused by default, clear error" \
	has "$OUT" '"rc":-1' "n1 (127.0.0.1:$PORT): unknown host key (not in $D/kh_new; use --ssh-accept-new)"
OUT=$(sx --accept-new --port "$PORT" --key "$D/client_key" --known-hosts "$D/kh_new" exec 'echo in')
check "accept-new trusts on first use" has "$OUT" '"out":"in\n"'
check "accept-new records the key" grep -qF "$(cut -d' ' -f2 "$D/host_key.pub")" "$D/kh_new"
OUT=$(sx --port "$PORT" --key "$D/client_key" --known-hosts "$D/kh_new" exec 'echo strict')
check "recorded key is then accepted strictly" has "$OUT" '"out":"strict\n"'

OUT=$(sx --port "$PORT" --key "$D/wrong_key" --known-hosts "$D/known_hosts" connect)
check "wrong private key: authentication failed naming the key" \
	has "$OUT" "n1 (127.0.0.1:$PORT): authentication failed (key $D/wrong_key)"

OUT=$(sx --port "$CLOSED_PORT" --key "$D/client_key" --known-hosts "$D/known_hosts" connect)
check "closed port: connection refused" has "$OUT" "n1 (127.0.0.1:$CLOSED_PORT): connection refused"

# A listener that accepts but never speaks SSH (a hung sshd).
python3 - "$SILENT_PORT" <<'EOF' &
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); time.sleep(20)
EOF
SILENT=$!
on_exit "kill $SILENT"
for _ in $(seq 50); do port_free "$SILENT_PORT" || break; sleep 0.1; done
t0=$(date +%s%N)
OUT=$(sx --connect-timeout 1000 --port "$SILENT_PORT" --key "$D/client_key" --known-hosts "$D/known_hosts" connect)
ms=$((($(date +%s%N) - t0) / 1000000))
check "silent server: timeout after the connect timeout (${ms} ms)" \
	has "$OUT" "n1 (127.0.0.1:$SILENT_PORT): timeout"
check "timeout honoured" test "$ms" -ge 900 -a "$ms" -lt 3000

# sudo: a non-root user whose sudo needs a password.
U=fltsshtest$$
if command -v sudo >/dev/null && useradd -M -d "$D" -s /bin/sh "$U" 2>/dev/null; then
	on_exit "userdel $U"
	PW="pw with 'quote' \$x $$"
	echo "$U:$PW" | chpasswd
	echo "$U ALL=(ALL:ALL) ALL" >"/etc/sudoers.d/$U"
	chmod 440 "/etc/sudoers.d/$U"
	on_exit "rm -f /etc/sudoers.d/$U"
	export FL_SUDO_PW=$PW FL_BAD_PW=wrong
	U_K=(--user "$U" --port "$PORT" --key "$D/client_key" --known-hosts "$D/known_hosts")
	OUT=$(sx "${U_K[@]}" --sudo-password-env FL_SUDO_PW exec 'id -u; cat; echo end')
	check "sudo with password: command runs as root" has "$OUT" '"status":0,' '"out":"0\nend\n"'
	check "the password never reaches the command's stdin" lacks "$OUT" "$PW"
	OUT=$(sx "${U_K[@]}" --sudo-password-env FL_BAD_PW exec 'id -u')
	check "sudo with a wrong password fails" has "$OUT" '"rc":0,' '"status":1,' 'incorrect password'
	OUT=$(sx "${U_K[@]}" exec 'id -u')
	check "sudo without a password fails instead of hanging" has "$OUT" '"status":1,' 'a password is required'
else
	skip "sudo path" "sudo not installed or cannot create a user"
fi

done_testing
