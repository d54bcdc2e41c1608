#!/bin/sh
# redis_register.sh - a faultline adapter in plain POSIX sh: the register
# workload on Redis through redis-cli (Debian package redis-tools). It
# shows that any language that can read and write lines will do; it is
# slower than the Python adapters (a redis-cli process per op).
#
#   faultline run ... --client-exec "sh examples/adapters/redis_register.sh"
#
# Protocol 1 (docs/ADAPTERS.md): one JSON request per line on stdin, one
# JSON reply per line on stdout; anything for humans goes to stderr. The
# requests are faultline's compact JSON ({"type":"invoke","f":"cas",
# "value":[1,2],"process":4,"key":"7","id":12}), taken apart here with sh
# pattern matching: enough for the register's numeric keys and values; an
# adapter for richer values wants a JSON parser (jq, or another language).
set -u
# TARGET=first (client.env): every adapter talks to the first node (a
# primary with replicas on the others, as in examples/custom-db.json);
# default: the node faultline gave this adapter.
host=$FAULTLINE_HOST
[ "${TARGET:-node}" = first ] && host=${FAULTLINE_NODES%%,*}
port=${FAULTLINE_PORT:-6379}
# Each redis-cli call gets most of faultline's op timeout, so this adapter
# answers before faultline gives up on it.
limit=$(awk -v t="${FAULTLINE_OP_TIMEOUT:-5}" 'BEGIN { print t * 0.8 }')
cas='if redis.call("GET", KEYS[1]) == ARGV[1] then redis.call("SET", KEYS[1], ARGV[2]) return 1 end return 0'

# field NAME: the value of "NAME": in $line, up to the next , or }
field() {
	v=${line#*\"$1\":}
	[ "$v" != "$line" ] || { v=; return; }
	case $v in
	\"*) v=${v#\"}; v=${v%%\"*} ;;
	\[*) v=${v%%]*}; v=${v#\[} ;;
	*) v=${v%%[,\}]*} ;;
	esac
}

# reply TYPE [VALUE [ERROR]]: one line on stdout. The error text is made
# JSON-safe by dropping quotes, backslashes and control characters.
reply() {
	r="{\"type\":\"$1\",\"id\":$id"
	[ -n "${2:-}" ] && r="$r,\"value\":$2"
	[ -n "${3:-}" ] && r="$r,\"error\":\"$(printf '%s' "$3" | tr -d '\000-\037\\"')\""
	printf '%s}\n' "$r"
}

# rcli ARGS...: redis-cli's answer in $out, its status in $rc (124: timeout).
rcli() {
	out=$(timeout "$limit" redis-cli -h "$host" -p "$port" --raw "$@" 2>&1)
	rc=$?
}

# complete OK-ANSWER: the completion of a write or cas from $rc and $out.
complete() {
	if [ $rc -eq 0 ] && [ "$out" = "$1" ]; then reply ok
	elif [ $rc -eq 0 ] && [ "$out" = 0 ]; then reply fail "" "compare failed"
	elif [ $rc -eq 124 ]; then reply info "" timeout
	elif [ $rc -eq 0 ]; then reply fail "" "$out" # Redis refused it (an error reply)
	else case $out in
		*"Connection refused"*) reply fail "" "$out" ;; # nothing was sent
		*) reply info "" "$out" ;; # it may or may not have happened
		esac
	fi
}

while IFS= read -r line; do
	field id; id=${v:-null}
	field type; type=$v
	case $type in
	init) printf '{"type":"init_ok","protocol":1,"id":%s}\n' "$id" ;;
	setup | teardown) reply ok ;;
	invoke)
		field f; f=$v
		field key; k="fl:register:$v"
		field value; val=$v
		case $f in
		read)
			rcli GET "$k"
			case "$rc:$out" in
			0:) reply ok null ;;
			0:[0-9]*) reply ok "$out" ;;
			124:*) reply info "" timeout ;;
			*) reply fail "" "$out" ;; # a read changes nothing
			esac ;;
		write) rcli SET "$k" "$val"; complete OK ;;
		cas) rcli EVAL "$cas" 1 "$k" "${val%%,*}" "${val#*,}"; complete 1 ;;
		*) reply fail "" "unknown op $f" ;;
		esac ;;
	*) reply fail "" "unknown request type $type" ;;
	esac
done
