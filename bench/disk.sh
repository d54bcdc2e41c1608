#!/usr/bin/env bash
# bench/disk.sh - what faultline-diskd (the disk faults' FUSE layer) costs a
# database: the same benchmark with its data directory on a plain
# directory and mounted through faultline-diskd (no fault active), on this
# machine, no cluster:
#   redis-benchmark SET against redis-server with appendfsync always (a
#     write and an fsync through the layer per command: its worst case);
#   pgbench (TPC-B-like, scale 1, 4 clients) against PostgreSQL, fsync on;
# and etcd through the whole stack: `faultline run` register on a 3-node
# local cluster h-disk-bench (10.213.241.0/24) without and with the disk
# fault enabled (interval longer than the run, so mounted but idle).
# Prints BENCH disk_<db>_{plain,diskd}: ops/s and the overhead in percent.
# BENCH_SECONDS (default 10) per measurement.
set -u
cd "$(dirname "$0")/.." || exit 1
FAULTLINE=${FAULTLINE:-$PWD/faultline}
DISKD=$(dirname "$FAULTLINE")/faultline-diskd
SECS=${BENCH_SECONDS:-10}
if [ "$(id -u)" -ne 0 ] || [ ! -e /dev/fuse ] || [ ! -x "$DISKD" ]; then
	echo "BENCH disk_overhead: skipped (needs root, /dev/fuse and faultline-diskd)"; exit 0
fi
D=$(mktemp -d /tmp/faultline-bench-disk.XXXXXX)
chmod 755 "$D"
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	"$FAULTLINE" cluster down --name h-disk-bench >/dev/null 2>&1
	"$DISKD" --unmount --lazy "$D/data" 2>/dev/null
	[ -s "$D/diskd.pid" ] && kill "$(cat "$D/diskd.pid")" 2>/dev/null
	sleep 0.5
	rm -rf "$D"
}
trap cleanup EXIT

# mount | unmount the layer over $D/data
layer() {
	if [ "$1" = on ]; then
		"$DISKD" --daemon --pidfile "$D/diskd.pid" --log "$D/diskd.log" --socket "$D/diskd.sock" "$D/data"
	else
		local p
		p=$(cat "$D/diskd.pid" 2>/dev/null)
		"$DISKD" --unmount "$D/data" || "$DISKD" --unmount --lazy "$D/data"
		for _ in $(seq 100); do [ -n "$p" ] && [ -d "/proc/$p" ] || break; sleep 0.05; done
		[ -n "$p" ] && [ -d "/proc/$p" ] && kill "$p"
		for _ in $(seq 100); do [ -n "$p" ] && [ -d "/proc/$p" ] || break; sleep 0.05; done
	fi
}
# report NAME PLAIN DISKD NOTE
report() {
	echo "BENCH disk_$1_plain: $2 ops/s ($4)"
	echo "BENCH disk_$1_diskd: $3 ops/s (same, data dir through faultline-diskd)"
	awk -v a="$2" -v b="$3" -v n="$1" -v l="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN { if (a > 0)
		printf "BENCH disk_%s_overhead: %.0f %% (goal: under 50 %% on an idle machine; load average here %s)\n", n, (a - b) * 100 / a, l }'
}

# ---- redis, appendfsync always ----
redis_once() {
	rm -rf "$D/data"/* 2>/dev/null
	redis-server --port 0 --unixsocket "$D/redis.sock" --dir "$D/data" --appendonly yes \
		--appendfsync always --save '' >"$D/redis.log" 2>&1 &
	local p=$!
	PIDS+=("$p")
	for _ in $(seq 100); do [ -S "$D/redis.sock" ] && break; sleep 0.05; done
	local n=$((SECS * 3000))
	timeout $((SECS * 6)) redis-benchmark -s "$D/redis.sock" -t set -n "$n" -c 8 -r 100000 --csv 2>/dev/null |
		awk -F'"' '/^"SET"/ {printf "%d", $4}'
	kill "$p"; wait "$p" 2>/dev/null
	rm -f "$D/redis.sock"
}
if command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null; then
	mkdir -p "$D/data"
	A=$(redis_once)
	layer on && B=$(redis_once)
	layer off
	report redis_aof_always_set "${A:-0}" "${B:-0}" "redis-benchmark SET, 8 clients, appendfsync always"
else
	echo "BENCH disk_redis_aof_always_set_plain: skipped (redis-server not installed)"
fi

# ---- PostgreSQL: pgbench ----
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
pg_once() {
	rm -rf "$D/data"/* 2>/dev/null
	chown postgres: "$D/data" && chmod 700 "$D/data"
	local pg=(runuser -u postgres --)
	"${pg[@]}" "$PGBIN/initdb" -D "$D/data" -A trust >"$D/initdb.log" 2>&1 || { echo 0; return; }
	"${pg[@]}" "$PGBIN/pg_ctl" -D "$D/data" -l "$D/sock/pg.log" -w \
		-o "-c listen_addresses='' -c unix_socket_directories=$D/sock -p 5499" start >/dev/null 2>&1 || { echo 0; return; }
	"${pg[@]}" "$PGBIN/pgbench" -h "$D/sock" -p 5499 -i -s 1 postgres >/dev/null 2>&1
	"${pg[@]}" "$PGBIN/pgbench" -h "$D/sock" -p 5499 -c 4 -j 2 -T "$SECS" postgres 2>/dev/null |
		sed -n 's/^tps = \([0-9.]*\).*/\1/p' | awk '{printf "%d", $1}'
	"${pg[@]}" "$PGBIN/pg_ctl" -D "$D/data" -m immediate stop >/dev/null 2>&1
}
if [ -n "$PGBIN" ] && id postgres >/dev/null 2>&1; then
	mkdir -p "$D/data" "$D/sock"
	chown postgres: "$D/sock"
	A=$(pg_once)
	layer on && B=$(pg_once)
	layer off
	report pgbench_tps "${A:-0}" "${B:-0}" "pgbench TPC-B-like, scale 1, 4 clients, fsync on"
else
	echo "BENCH disk_pgbench_tps_plain: skipped (PostgreSQL not installed)"
fi

# ---- etcd through faultline run ----
etcd_once() {
	"$FAULTLINE" run "$@" --cluster h-disk-bench --store "$D/store" --workload register \
		--time-limit "$SECS" --concurrency 2n --seed 1 --recovery-time 0 >"$D/run.out" 2>"$D/run.err"
	local dir
	dir=$(tail -1 "$D/run.out")
	[ -s "$dir/history.jsonl" ] || { echo 0; return; }
	jq -rs --argjson secs "$SECS" 'map(select(.type == "ok" and .process != "nemesis" and .time < ($secs * 1e9))) | length / $secs | floor' \
		"$dir/history.jsonl"
}
if command -v etcd >/dev/null && command -v jq >/dev/null &&
	"$FAULTLINE" cluster up --name h-disk-bench --subnet 10.213.241.0/24 --nodes 3 >"$D/up.log" 2>&1; then
	A=$(etcd_once)
	jq -n --argjson s "$SECS" '{nemesis: ["disk"], nemesis_interval: ($s * 10)}' >"$D/disk.json"
	B=$(etcd_once "$D/disk.json")
	report etcd_register "${A:-0}" "${B:-0}" "faultline run register, 3-node local etcd, 6 workers, ok ops"
else
	echo "BENCH disk_etcd_register_plain: skipped (etcd, jq or a local cluster missing)"
fi
