/*
 * redis_client.c - the Redis clients (struct client_ops), one per workload
 * the redis db runs, over hiredis (connections from redis_conn.c):
 *
 *   set       add  -> SADD fl:set E              read -> SMEMBERS fl:set
 *   append    txn  -> RPUSH fl:append:K V / LRANGE fl:append:K 0 -1, a
 *                     transaction of several micro-ops inside MULTI/EXEC
 *   register  read -> GET fl:register:K          write -> SET
 *             cas  -> a Lua script: GET, compare, SET (atomic in Redis)
 *
 * Each worker's client talks to its node's sentinel, and before every op
 * asks it for the primary (SENTINEL get-master-addr-by-name), as Sentinel
 * clients do: a primary connection is kept while the sentinel keeps naming
 * the same address, and a new one is checked with ROLE before use. So a
 * client whose sentinel is cut off with the old primary keeps writing to
 * it, and the others follow a failover. Each completion carries "primary"
 * (the node that served it) and, with db_opts.wait, "acks" (what WAIT
 * answered after a write).
 *
 * Verdicts (redis.h, redis_conn.c): an error reply is fail (READONLY,
 * NOREPLICAS, EXECABORT...), a timeout info, a connection lost mid-request
 * info for writes and fail for reads, a WAIT with too few acks info, and
 * anything that went wrong before the op's command was sent (no sentinel,
 * no primary named, primary unreachable or not a primary) fail. An EXEC
 * whose reply holds an error element was partly applied, and a refused
 * MULTI let each command run on its own: info (fail if nothing writes). Every op
 * has db's op_timeout as its budget, sentinel lookup included, plus
 * wait.timeout_ms for the WAIT.
 */
#include "client.h"
#include "history.h"
#include "redis.h"
#include "test.h"
#include "util.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

/* Pause before the next attempt after a refused connection. */
#define REDIS_RETRY_NS 100000000LL

static const char cas_script[] =
	"local v = redis.call('GET', KEYS[1])\n"
	"if v == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end\n"
	"return 0\n";

struct rclient {
	const struct test *t;
	int node;
	struct redis_opts o;
	int timeout_ms;
	redisContext *sentinel;
	redisContext *primary;
	char pip[64];
	int pport;
	int pnode;          /* node index of the primary connection, -1 unknown */
	int64_t deadline;   /* of the op under way */
	int64_t retry_at;
};

static void set_error(struct op *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct op *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	free(out->error);
	out->error = s ? s : xstrdup("error");
}

static void set_extra(struct op *out, const char *key, json_t *v)
{
	if (!out->extra)
		out->extra = json_object();
	json_object_set_new(out->extra, key, v);
}

static void complete(struct op *out, enum redis_verdict v)
{
	out->type = v == REDIS_VERDICT_OK ? OP_OK : v == REDIS_VERDICT_FAIL ? OP_FAIL : OP_INFO;
}

static int left_ms(const struct rclient *c)
{
	int64_t l = (c->deadline - now_ns()) / 1000000;
	return l < 1 ? 1 : l > 3600000 ? 3600000 : (int)l;
}

static void set_timeout(redisContext *ctx, int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	redisSetTimeout(ctx, tv);
}

static void drop(redisContext **ctx)
{
	if (*ctx)
		redisFree(*ctx);
	*ctx = NULL;
}

/* Did the server close an idle connection (a restart, a demotion), or is
 * something unread on it? Then it is not fit to carry a request whose
 * outcome we must be able to tell. */
static bool stale(redisContext *ctx)
{
	struct pollfd p = {.fd = ctx->fd, .events = POLLIN | POLLRDHUP};
	if (poll(&p, 1, 0) <= 0)
		return false;
	return true;
}

static void *rclient_open(const struct test *t, int node, char *err, size_t errlen)
{
	(void)err, (void)errlen;
	struct rclient *c = xcalloc(1, sizeof *c);
	c->t = t;
	c->node = node;
	c->pnode = -1;
	redis_opts_get(t, &c->o);
	c->timeout_ms = (int)(t->op_timeout * 1000);
	if (c->timeout_ms < 1)
		c->timeout_ms = 1;
	return c;
}

static void rclient_close(void *client)
{
	struct rclient *c = client;
	if (!c)
		return;
	drop(&c->sentinel);
	drop(&c->primary);
	free(c);
}

static const char *node_name(const struct rclient *c, int node)
{
	return node >= 0 ? c->t->nodes[node].name : "?";
}

/* Connect (or keep) the primary the node's sentinel names now. 0, or -1
 * with out completed as fail: nothing of the op was sent. */
static int rclient_prepare(struct rclient *c, struct op *out)
{
	int64_t now = now_ns();
	if (c->retry_at > now) {
		struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(c->retry_at - now)};
		nanosleep(&ts, NULL);
	}
	c->deadline = now_ns() + (int64_t)c->timeout_ms * 1000000;
	char why[300];
	const struct node *me = &c->t->nodes[c->node];
	if (!c->sentinel) {
		c->sentinel = redis_connect(c->t, me->host, c->o.sentinel_port, left_ms(c), why,
					    sizeof why);
		if (!c->sentinel) {
			set_error(out, "sentinel: %s", why);
			c->retry_at = now_ns() + REDIS_RETRY_NS;
			out->type = OP_FAIL;
			return -1;
		}
	} else {
		set_timeout(c->sentinel, left_ms(c));
	}
	char ip[64];
	int port;
	if (redis_sentinel_primary(c->sentinel, ip, sizeof ip, &port, why, sizeof why) < 0) {
		if (c->sentinel->err)
			drop(&c->sentinel);
		set_error(out, "sentinel: %s", why);
		out->type = OP_FAIL;
		return -1;
	}
	if (c->primary && (strcmp(ip, c->pip) || port != c->pport || stale(c->primary)))
		drop(&c->primary);
	if (!c->primary) {
		int pnode = redis_node_of_ip(c->t, ip);
		c->primary = redis_connect(c->t, ip, port, left_ms(c), why, sizeof why);
		if (!c->primary) {
			set_error(out, "primary %s: %s", node_name(c, pnode), why);
			c->retry_at = now_ns() + REDIS_RETRY_NS;
			out->type = OP_FAIL;
			return -1;
		}
		/* The sentinel may lag behind a role change: use a primary only
		 * once it says it is one. */
		redisReply *r = redis_cmd(c->primary, "ROLE", NULL);
		bool master = r && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
			      r->element[0]->type == REDIS_REPLY_STRING &&
			      !strcmp(r->element[0]->str, "master");
		if (!master) {
			set_error(out, "%s named by the sentinel is not a primary (%s)",
				  node_name(c, pnode),
				  !r ? "no ROLE reply"
				  : r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
					  r->element[0]->type == REDIS_REPLY_STRING
				      ? r->element[0]->str
				      : "unexpected ROLE reply");
			if (r)
				freeReplyObject(r);
			drop(&c->primary);
			out->type = OP_FAIL;
			return -1;
		}
		freeReplyObject(r);
		snprintf(c->pip, sizeof c->pip, "%s", ip);
		c->pport = port;
		c->pnode = pnode;
	} else {
		set_timeout(c->primary, left_ms(c));
	}
	set_extra(out, "primary", json_string(node_name(c, c->pnode)));
	return 0;
}

/* A NULL reply: complete out from the transport error and drop the
 * connection (its state is unknown). */
static void io_failed(struct rclient *c, struct op *out, bool writes, const char *what)
{
	enum redis_io io = redis_io_error(c->primary);
	if (io == REDIS_IO_TIMEOUT)
		set_error(out, "%stimeout", what);
	else
		set_error(out, "%sconnection lost: %s", what,
			  c->primary && c->primary->errstr[0] ? c->primary->errstr : "no reply");
	complete(out, redis_io_verdict(io == REDIS_IO_NONE ? REDIS_IO_LOST : io, writes));
	drop(&c->primary);
}

static void error_reply(struct op *out, const redisReply *r)
{
	char kind[40];
	complete(out, redis_error_verdict(r->str, kind, sizeof kind));
	set_error(out, "%.300s", r->str ? r->str : "ERR");
}

/* One command on the primary. Returns a non-error reply, or NULL with out
 * completed (error reply: fail; no reply: see io_failed). */
static redisReply *rclient_cmd(struct rclient *c, struct op *out, bool writes, int argc,
			       const char **argv)
{
	redisReply *r = redisCommandArgv(c->primary, argc, argv, NULL);
	if (!r) {
		io_failed(c, out, writes, "");
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		error_reply(out, r);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/* After a write the primary acknowledged: WAIT for db_opts.wait.replicas
 * when asked to; too few acks (or no answer) leaves it unknown. */
static void rclient_wait(struct rclient *c, struct op *out)
{
	out->type = OP_OK;
	if (c->o.wait_replicas <= 0)
		return;
	char n[16], ms[16];
	snprintf(n, sizeof n, "%d", c->o.wait_replicas);
	snprintf(ms, sizeof ms, "%d", c->o.wait_timeout_ms);
	set_timeout(c->primary, left_ms(c) + c->o.wait_timeout_ms);
	redisReply *r = redis_cmd(c->primary, "WAIT", n, ms, NULL);
	if (!r) {
		io_failed(c, out, true, "wait: ");
		return;
	}
	if (r->type == REDIS_REPLY_INTEGER) {
		set_extra(out, "acks", json_integer((json_int_t)r->integer));
		complete(out, redis_wait_verdict(r->integer, c->o.wait_replicas));
		if (out->type != OP_OK)
			set_error(out, "wait: %lld of %d replicas acknowledged", r->integer,
				  c->o.wait_replicas);
	} else {
		complete(out, redis_wait_verdict(-1, c->o.wait_replicas));
		set_error(out, "wait: %.200s", r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
	}
	freeReplyObject(r);
}

static bool int_arg(json_t *v, char *out, size_t n)
{
	if (!json_is_integer(v))
		return false;
	snprintf(out, n, "%lld", (long long)json_integer_value(v));
	return true;
}

/* A reply element holding a decimal integer (what we stored). */
static bool reply_int(const redisReply *r, json_int_t *v)
{
	long x;
	if (!r || r->type != REDIS_REPLY_STRING || !r->str)
		return false;
	const char *s = r->str;
	bool neg = *s == '-';
	if (!parse_long(s + neg, 0, INT64_MAX, &x))
		return false;
	*v = neg ? -(json_int_t)x : (json_int_t)x;
	return true;
}

json_t *redis_reply_ints(const redisReply *r)
{
	if (!r || r->type != REDIS_REPLY_ARRAY)
		return NULL;
	json_t *a = json_array();
	for (size_t i = 0; i < r->elements; i++) {
		json_int_t v;
		if (!reply_int(r->element[i], &v)) {
			json_decref(a);
			return NULL;
		}
		json_array_append_new(a, json_integer(v));
	}
	return a;
}

/* ---- set ---- */

#define SET_KEY "fl:set"

static void set_invoke(void *client, const struct op *inv, struct op *out)
{
	struct rclient *c = client;
	const char *f = inv->f ? inv->f : "";
	bool add = !strcmp(f, "add");
	char e[32];
	if (!add && strcmp(f, "read")) {
		set_error(out, "redis set client: unknown op %.40s", f);
		out->type = OP_FAIL;
		return;
	}
	if (add && !int_arg(inv->value, e, sizeof e)) {
		set_error(out, "add needs an integer element");
		out->type = OP_FAIL;
		return;
	}
	if (rclient_prepare(c, out) < 0)
		return;
	if (add) {
		const char *argv[] = {"SADD", SET_KEY, e};
		redisReply *r = rclient_cmd(c, out, true, 3, argv);
		if (r) {
			freeReplyObject(r);
			rclient_wait(c, out);
		}
		return;
	}
	const char *argv[] = {"SMEMBERS", SET_KEY};
	redisReply *r = rclient_cmd(c, out, false, 2, argv);
	if (!r)
		return;
	json_t *a = redis_reply_ints(r);
	freeReplyObject(r);
	if (!a) {
		set_error(out, "unexpected SMEMBERS reply");
		out->type = OP_FAIL;
		return;
	}
	json_decref(out->value);
	out->value = a;
	out->type = OP_OK;
}

/* ---- append ---- */

void redis_txn_free(struct redis_txn *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->key[i]);
		free(p->val[i]);
	}
	free(p->key);
	free(p->val);
	free(p->read);
	memset(p, 0, sizeof *p);
}

int redis_txn_plan(json_t *value, struct redis_txn *p, char *err, size_t errlen)
{
	memset(p, 0, sizeof *p);
	size_t n = json_array_size(value);
	if (!json_is_array(value) || n == 0) {
		snprintf(err, errlen, "txn needs a non-empty list of micro-ops");
		return -1;
	}
	p->key = xcalloc(n, sizeof *p->key);
	p->val = xcalloc(n, sizeof *p->val);
	p->read = xcalloc(n, sizeof *p->read);
	for (size_t i = 0; i < n; i++) {
		json_t *m = json_array_get(value, i);
		const char *f = json_string_value(json_array_get(m, 0));
		json_t *k = json_array_get(m, 1);
		char v[32];
		p->n = i + 1;
		if (!json_is_array(m) || json_array_size(m) != 3 || !f ||
		    (strcmp(f, "r") && strcmp(f, "append"))) {
			snprintf(err, errlen, "micro-op %zu: expected [\"r\", k, null] or [\"append\", k, v]",
				 i);
			return -1;
		}
		if (json_is_integer(k))
			p->key[i] = xasprintf("fl:append:%lld", (long long)json_integer_value(k));
		else if (json_is_string(k))
			p->key[i] = xasprintf("fl:append:%s", json_string_value(k));
		else {
			snprintf(err, errlen, "micro-op %zu: the key must be an integer or a string", i);
			return -1;
		}
		p->read[i] = !strcmp(f, "r");
		if (!p->read[i]) {
			if (!int_arg(json_array_get(m, 2), v, sizeof v)) {
				snprintf(err, errlen, "micro-op %zu: append needs an integer value", i);
				return -1;
			}
			p->val[i] = xstrdup(v);
			p->writes = true;
		}
	}
	return 0;
}

/* The command of micro-op i into argv (4 slots); returns argc. */
static int txn_argv(const struct redis_txn *p, size_t i, const char **argv)
{
	if (p->read[i]) {
		argv[0] = "LRANGE", argv[1] = p->key[i], argv[2] = "0", argv[3] = "-1";
		return 4;
	}
	argv[0] = "RPUSH", argv[1] = p->key[i], argv[2] = p->val[i];
	return 3;
}

int redis_txn_fill(const struct redis_txn *p, json_t *value, redisReply **replies, char *err,
		   size_t errlen)
{
	for (size_t i = 0; i < p->n; i++) {
		const redisReply *r = replies[i];
		if (!r || r->type == REDIS_REPLY_ERROR) {
			snprintf(err, errlen, "micro-op %zu: %.200s", i, r ? r->str : "no reply");
			return -1;
		}
		if (!p->read[i]) {
			if (r->type != REDIS_REPLY_INTEGER) {
				snprintf(err, errlen, "micro-op %zu: unexpected RPUSH reply", i);
				return -1;
			}
			continue;
		}
		json_t *a = redis_reply_ints(r);
		if (!a) {
			snprintf(err, errlen, "micro-op %zu: unexpected LRANGE reply", i);
			return -1;
		}
		json_array_set_new(json_array_get(value, i), 2, a);
	}
	return 0;
}

/* One micro-op alone, or MULTI ... EXEC pipelined. On success *replies
 * (p->n entries) holds every micro-op's reply and *owner what to free. */
static int txn_exec(struct rclient *c, const struct redis_txn *p, struct op *out,
		    redisReply ***replies, redisReply **owner)
{
	const char *argv[4];
	*replies = NULL;
	*owner = NULL;
	if (p->n == 1) {
		int argc = txn_argv(p, 0, argv);
		redisReply *r = rclient_cmd(c, out, p->writes, argc, argv);
		if (!r)
			return -1;
		*owner = r;
		*replies = xcalloc(1, sizeof **replies);
		(*replies)[0] = r;
		return 0;
	}
	const char *multi[] = {"MULTI"}, *exec[] = {"EXEC"};
	redisAppendCommandArgv(c->primary, 1, multi, NULL);
	for (size_t i = 0; i < p->n; i++) {
		int argc = txn_argv(p, i, argv);
		redisAppendCommandArgv(c->primary, argc, argv, NULL);
	}
	redisAppendCommandArgv(c->primary, 1, exec, NULL);
	/* MULTI and the QUEUED answers: an error to a queued command
	 * (READONLY, NOREPLICAS) makes EXEC abort, and EXEC's answer decides.
	 * But a MULTI that was refused leaves each command to run on its own:
	 * what happened is then unknown. */
	bool multi_ok = true;
	for (size_t i = 0; i < p->n + 1; i++) {
		void *q = NULL;
		if (redisGetReply(c->primary, &q) != REDIS_OK) {
			io_failed(c, out, p->writes, "");
			return -1;
		}
		redisReply *qr = q;
		if (i == 0 && (qr->type != REDIS_REPLY_STATUS || strcmp(qr->str, "OK"))) {
			multi_ok = false;
			set_error(out, "MULTI refused: %.200s",
				  qr->type == REDIS_REPLY_ERROR ? qr->str : "unexpected reply");
		}
		freeReplyObject(q);
	}
	if (!multi_ok) {
		/* The connection holds EXEC's answer still: do not reuse it. */
		drop(&c->primary);
		out->type = p->writes ? OP_INFO : OP_FAIL;
		return -1;
	}
	void *e = NULL;
	if (redisGetReply(c->primary, &e) != REDIS_OK) {
		io_failed(c, out, p->writes, "");
		return -1;
	}
	redisReply *r = e;
	if (r->type == REDIS_REPLY_ERROR) {
		error_reply(out, r);
		freeReplyObject(r);
		return -1;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != p->n) {
		set_error(out, "EXEC did not run the transaction");
		out->type = OP_FAIL;
		freeReplyObject(r);
		return -1;
	}
	*owner = r;
	*replies = xcalloc(p->n, sizeof **replies);
	for (size_t i = 0; i < p->n; i++)
		(*replies)[i] = r->element[i];
	return 0;
}

static void append_invoke(void *client, const struct op *inv, struct op *out)
{
	struct rclient *c = client;
	struct redis_txn p;
	char err[300];
	if (!inv->f || strcmp(inv->f, "txn") || redis_txn_plan(inv->value, &p, err, sizeof err) < 0) {
		if (!inv->f || strcmp(inv->f, "txn"))
			snprintf(err, sizeof err, "redis append client: unknown op %.40s",
				 inv->f ? inv->f : "");
		else
			redis_txn_free(&p);
		set_error(out, "%s", err);
		out->type = OP_FAIL;
		return;
	}
	if (rclient_prepare(c, out) == 0) {
		redisReply **replies, *owner;
		if (txn_exec(c, &p, out, &replies, &owner) == 0) {
			if (redis_txn_fill(&p, out->value, replies, err, sizeof err) < 0) {
				/* Redis does not roll back: the rest may have applied. */
				set_error(out, "%s", err);
				out->type = p.writes ? OP_INFO : OP_FAIL;
			} else if (p.writes) {
				rclient_wait(c, out);
			} else {
				out->type = OP_OK;
			}
			free(replies);
			freeReplyObject(owner);
		}
	}
	redis_txn_free(&p);
}

/* ---- register ---- */

static void register_invoke(void *client, const struct op *inv, struct op *out)
{
	struct rclient *c = client;
	const char *f = inv->f ? inv->f : "";
	char from[32] = "", to[32] = "";
	bool read = !strcmp(f, "read"), write = !strcmp(f, "write"), cas = !strcmp(f, "cas");
	if (!read && !write && !cas) {
		set_error(out, "redis register client: unknown op %.40s", f);
		out->type = OP_FAIL;
		return;
	}
	if ((write && !int_arg(inv->value, to, sizeof to)) ||
	    (cas && (!json_is_array(inv->value) || json_array_size(inv->value) != 2 ||
		     !int_arg(json_array_get(inv->value, 0), from, sizeof from) ||
		     !int_arg(json_array_get(inv->value, 1), to, sizeof to)))) {
		set_error(out, "%s needs %s", f, write ? "an integer" : "[expected, new] integers");
		out->type = OP_FAIL;
		return;
	}
	if (rclient_prepare(c, out) < 0)
		return;
	char *key = xasprintf("fl:register:%s", inv->key ? inv->key : "");
	redisReply *r;
	if (read) {
		const char *argv[] = {"GET", key};
		r = rclient_cmd(c, out, false, 2, argv);
		json_int_t v;
		if (r && r->type != REDIS_REPLY_NIL && !reply_int(r, &v)) {
			set_error(out, "unexpected value in redis");
			out->type = OP_FAIL;
		} else if (r) {
			json_decref(out->value);
			out->value = r->type == REDIS_REPLY_NIL ? json_null() : json_integer(v);
			out->type = OP_OK;
		}
	} else if (write) {
		const char *argv[] = {"SET", key, to};
		r = rclient_cmd(c, out, true, 3, argv);
		if (r)
			rclient_wait(c, out);
	} else {
		const char *argv[] = {"EVAL", cas_script, "1", key, from, to};
		r = rclient_cmd(c, out, true, 6, argv);
		if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
			rclient_wait(c, out);
		} else if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 0) {
			set_error(out, "compare failed");
			out->type = OP_FAIL;
		} else if (r) {
			/* Not the script's answer: whether it set is unknown. */
			set_error(out, "unexpected cas reply");
			out->type = OP_INFO;
		}
	}
	if (r)
		freeReplyObject(r);
	free(key);
}

const struct client_ops redis_set_client = {
	.name = "redis-set",
	.open = rclient_open,
	.invoke = set_invoke,
	.close = rclient_close,
};

const struct client_ops redis_append_client = {
	.name = "redis-append",
	.open = rclient_open,
	.invoke = append_invoke,
	.close = rclient_close,
};

const struct client_ops redis_register_client = {
	.name = "redis-register",
	.open = rclient_open,
	.invoke = register_invoke,
	.close = rclient_close,
};
