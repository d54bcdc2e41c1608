/*
 * redis.h - what the Redis database (redis.c: redis-server and
 * redis-sentinel on every node) shares with its connection layer
 * (redis_conn.c) and its clients (redis_client.c): the resolved db_opts,
 * controller connections to a node's server or sentinel (bound to the
 * local cluster's bridge), asking a sentinel for the primary, and the rules
 * that turn a reply or an I/O error into ok / fail / info. The rules are
 * pure functions so unit tests can pin them without a server.
 */
#ifndef FAULTLINE_REDIS_H
#define FAULTLINE_REDIS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct test;
struct client_ops;
struct redisContext;
struct redisReply;

/* The name every sentinel monitors the primary under. */
#define REDIS_MASTER_NAME "faultline"

/* db_opts, resolved (defaults where a key is absent or db_opts is NULL). */
struct redis_opts {
	bool appendonly;
	const char *appendfsync;   /* always | everysec | no */
	int min_replicas_to_write; /* 0: off */
	int min_replicas_max_lag;  /* seconds */
	int down_after_ms;
	int failover_timeout_ms;
	int wait_replicas;         /* 0: no WAIT after writes */
	int wait_timeout_ms;
	int port;
	int sentinel_port;
};

void redis_opts_get(const struct test *t, struct redis_opts *o);
/* Validate db_opts and fill in every default (db.h: check). */
int redis_opts_check(const struct test *t, json_t *opts, char *err, size_t errlen);

/* The node's address as an IP (what redis binds and sentinels announce),
 * or NULL if it does not resolve. Caller frees. */
char *redis_node_ip(const struct test *t, int node);
/* Index of the node whose address is ip, or -1. */
int redis_node_of_ip(const struct test *t, const char *ip);

/* ---- connections (redis_conn.c) ---- */

/* Connect from the controller to host:port (bound to t->bind_device), with
 * timeout_ms for the connect and for every later read and write. NULL with
 * why filled ("connection refused"): nothing was sent. */
struct redisContext *redis_connect(const struct test *t, const char *host, int port,
				   int timeout_ms, char *why, size_t whylen);
/* One command, NULL-terminated string arguments. NULL: an I/O error (see
 * redis_io_error); the context is then unusable. */
struct redisReply *redis_cmd(struct redisContext *c, const char *arg0, ...)
	__attribute__((sentinel));
/* A node's sentinel: the primary it names for REDIS_MASTER_NAME (SENTINEL
 * get-master-addr-by-name, as Sentinel clients ask). 0, or -1 with why. */
int redis_sentinel_primary(struct redisContext *s, char *ip, size_t iplen, int *port, char *why,
			   size_t whylen);
/* A field of an INFO reply ("master_link_status"), into out; false if
 * absent. */
bool redis_info_field(const char *info, const char *field, char *out, size_t outlen);
/* A field of a flat [k1, v1, k2, v2...] reply (SENTINEL MASTER), or NULL. */
const char *redis_pairs_get(const struct redisReply *r, const char *key);

/* ---- what a reply means (redis_conn.c, pure) ---- */

enum redis_verdict { REDIS_VERDICT_OK, REDIS_VERDICT_FAIL, REDIS_VERDICT_INFO };

/* How a request ended at the transport level. */
enum redis_io {
	REDIS_IO_NONE,    /* a reply arrived */
	REDIS_IO_TIMEOUT, /* no reply within the timeout: it may still apply */
	REDIS_IO_LOST,    /* connection closed or reset mid-request */
};

/* The transport failure of a context after a NULL reply. */
enum redis_io redis_io_error(const struct redisContext *c);
/* An error reply ("-READONLY ...", "-NOREPLICAS ...", "-EXECABORT ...")
 * to a command we sent: Redis executes nothing of a command it answers
 * with an error (our one script writes last), so always a fail; kind gets
 * the error's first word for the history. */
enum redis_verdict redis_error_verdict(const char *msg, char *kind, size_t kindlen);
/* No reply: a timeout is info (latency stays truthful); a lost connection
 * is info for a request that writes, fail for a read (it changed nothing). */
enum redis_verdict redis_io_verdict(enum redis_io io, bool writes);
/* WAIT answered acks replicas (-1: WAIT itself failed) where want were
 * asked for: fewer is info - the write happened on the primary, but was
 * not acknowledged as durable the way the user asked. */
enum redis_verdict redis_wait_verdict(long long acks, int want);

/* ---- the append client's transactions (redis_client.c) ---- */

/* A list-append transaction as Redis commands: micro-op i is
 * LRANGE key[i] 0 -1 (read[i]) or RPUSH key[i] val[i]. */
struct redis_txn {
	size_t n;
	char **key, **val;
	bool *read;
	bool writes;      /* some micro-op appends */
};
/* From an op value [["append",3,1],["r",4,null]]. 0, or -1 with err (free
 * p with redis_txn_free either way). */
int redis_txn_plan(json_t *value, struct redis_txn *p, char *err, size_t errlen);
void redis_txn_free(struct redis_txn *p);
/* Fill each read of value (a copy of the invocation's) from replies (one
 * per micro-op: the command's own reply or EXEC's element). -1 with err
 * when a reply is an error or not what the command answers. */
int redis_txn_fill(const struct redis_txn *p, json_t *value, struct redisReply **replies,
		   char *err, size_t errlen);
/* An array reply of decimal integers as a JSON array, or NULL. */
json_t *redis_reply_ints(const struct redisReply *r);

/* The clients of redis_client.c, one per workload. */
extern const struct client_ops redis_set_client;
extern const struct client_ops redis_append_client;
extern const struct client_ops redis_register_client;

#endif
