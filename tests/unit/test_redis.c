/*
 * test_redis.c - what the Redis db decides without a server (src/db/redis.c,
 * redis_conn.c, redis_client.c): db_opts validation and defaults (refused
 * before any node is touched, the key named), the verdict rules (error
 * reply, timeout, lost connection, WAIT acks), parsing of INFO and
 * SENTINEL MASTER replies, and the append client's transactions (commands
 * planned from an op value, reads filled from hand-built replies). The
 * clients against a fake server are in test_redis_client.c; real Redis and
 * Sentinel in tests/integration/redis.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#undef test_free

#include <errno.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "redis.h"
#include "test.h"
#include "util.h"

static void make_test(struct test *t, int n)
{
	memset(t, 0, sizeof *t);
	t->n_nodes = n;
	t->nodes = xcalloc((size_t)n, sizeof *t->nodes);
	for (int i = 0; i < n; i++) {
		t->nodes[i].name = xasprintf("n%d", i + 1);
		t->nodes[i].host = xasprintf("10.213.220.%d", 11 + i);
	}
	t->db_opts = json_object();
}

static void free_test(struct test *t)
{
	for (int i = 0; i < t->n_nodes; i++) {
		free(t->nodes[i].name);
		free(t->nodes[i].host);
	}
	free(t->nodes);
	json_decref(t->db_opts);
}

/* check(db_opts as JSON) on n nodes: 0 or -1 with err. */
static int check(const char *js, int n, char *err, size_t errlen, json_t **filled)
{
	struct test t;
	make_test(&t, n);
	json_decref(t.db_opts);
	t.db_opts = json_loads(js, 0, NULL);
	assert_non_null(t.db_opts);
	const struct db *db = db_find("redis");
	assert_non_null(db);
	err[0] = 0;
	int rc = db->check(&t, t.db_opts, err, errlen);
	if (filled)
		*filled = json_incref(t.db_opts);
	free_test(&t);
	return rc;
}

static void test_registry(void **state)
{
	(void)state;
	const struct db *db = db_find("redis");
	assert_non_null(db);
	assert_non_null(db_client(db, "set"));
	assert_non_null(db_client(db, "append"));
	assert_non_null(db_client(db, "register"));
	assert_null(db_client(db, "bank"));
	assert_non_null(db->preflight);
	assert_non_null(db->primaries);
	assert_non_null(strstr(db_names(), "redis"));
}

static void test_opts_defaults(void **state)
{
	(void)state;
	char err[300];
	json_t *o;
	assert_int_equal(check("{}", 5, err, sizeof err, &o), 0);
	/* Every default is written back, so test.json records it. */
	assert_true(json_is_false(json_object_get(o, "appendonly")));
	assert_string_equal(json_string_value(json_object_get(o, "appendfsync")), "everysec");
	assert_int_equal(json_integer_value(json_object_get(o, "min_replicas_to_write")), 0);
	assert_int_equal(json_integer_value(json_object_get(o, "min_replicas_max_lag")), 10);
	assert_int_equal(json_integer_value(json_object_get(o, "down_after_ms")), 3000);
	assert_int_equal(json_integer_value(json_object_get(o, "failover_timeout_ms")), 5000);
	assert_int_equal(json_integer_value(json_object_get(o, "port")), 6379);
	assert_int_equal(json_integer_value(json_object_get(o, "sentinel_port")), 26379);
	assert_true(json_is_null(json_object_get(o, "wait")));

	struct test t;
	make_test(&t, 5);
	json_decref(t.db_opts);
	t.db_opts = o;
	struct redis_opts ro;
	redis_opts_get(&t, &ro);
	assert_int_equal(ro.wait_replicas, 0);
	assert_int_equal(ro.down_after_ms, 3000);
	assert_false(ro.appendonly);
	free_test(&t);

	/* No db_opts at all (test tools): the same defaults. */
	make_test(&t, 3);
	json_decref(t.db_opts);
	t.db_opts = NULL;
	redis_opts_get(&t, &ro);
	assert_int_equal(ro.port, 6379);
	assert_int_equal(ro.sentinel_port, 26379);
	assert_int_equal(ro.failover_timeout_ms, 5000);
	assert_string_equal(ro.appendfsync, "everysec");
	free_test(&t);
}

static void test_opts_values(void **state)
{
	(void)state;
	char err[300];
	json_t *o;
	assert_int_equal(check("{\"appendonly\": true, \"appendfsync\": \"always\","
			       " \"min_replicas_to_write\": 2, \"min_replicas_max_lag\": 1,"
			       " \"wait\": {\"replicas\": 2}}",
			       5, err, sizeof err, &o),
			 0);
	json_t *w = json_object_get(o, "wait");
	assert_int_equal(json_integer_value(json_object_get(w, "replicas")), 2);
	assert_int_equal(json_integer_value(json_object_get(w, "timeout_ms")), 1000);
	struct test t;
	make_test(&t, 5);
	json_decref(t.db_opts);
	t.db_opts = o;
	struct redis_opts ro;
	redis_opts_get(&t, &ro);
	assert_true(ro.appendonly);
	assert_string_equal(ro.appendfsync, "always");
	assert_int_equal(ro.min_replicas_to_write, 2);
	assert_int_equal(ro.min_replicas_max_lag, 1);
	assert_int_equal(ro.wait_replicas, 2);
	assert_int_equal(ro.wait_timeout_ms, 1000);
	free_test(&t);
}

static void refused(const char *js, int n, const char *want)
{
	char err[300];
	assert_int_equal(check(js, n, err, sizeof err, NULL), -1);
	if (!strstr(err, want))
		fail_msg("%s: error '%s' does not name '%s'", js, err, want);
	assert_null(strchr(err, '\n'));
}

static void test_opts_refused(void **state)
{
	(void)state;
	refused("{\"appendonly\": \"yes\"}", 5, "db_opts.appendonly");
	refused("{\"appendfsync\": \"sometimes\"}", 5, "db_opts.appendfsync");
	refused("{\"min_replicas_to_write\": 5}", 5, "db_opts.min_replicas_to_write");
	refused("{\"min_replicas_to_write\": -1}", 5, "db_opts.min_replicas_to_write");
	refused("{\"min_replicas_max_lag\": 0}", 5, "db_opts.min_replicas_max_lag");
	refused("{\"down_after_ms\": 5}", 5, "db_opts.down_after_ms");
	refused("{\"failover_timeout_ms\": \"10s\"}", 5, "db_opts.failover_timeout_ms");
	refused("{\"port\": 70000}", 5, "db_opts.port");
	refused("{\"sentinel_port\": 6379}", 5, "db_opts.sentinel_port");
	refused("{\"read_mode\": \"linearizable\"}", 5, "db_opts.read_mode");
	refused("{\"wait\": 1}", 5, "db_opts.wait");
	refused("{\"wait\": {\"replicas\": 5}}", 5, "db_opts.wait.replicas");
	refused("{\"wait\": {\"replicas\": 0}}", 5, "db_opts.wait.replicas");
	/* WAIT 0 blocks forever: never. */
	refused("{\"wait\": {\"replicas\": 1, \"timeout_ms\": 0}}", 5, "db_opts.wait.timeout_ms");
	refused("{\"wait\": {\"replica\": 1}}", 5, "db_opts.wait.replica");
	refused("{\"wait\": {\"replicas\": 1}}", 1, "db_opts.wait: needs at least 2 nodes");
	char err[300];
	assert_int_equal(check("{\"wait\": null}", 3, err, sizeof err, NULL), 0);
}

static void test_node_ip(void **state)
{
	(void)state;
	struct test t;
	make_test(&t, 3);
	char *ip = redis_node_ip(&t, 1);
	assert_string_equal(ip, "10.213.220.12");
	free(ip);
	assert_int_equal(redis_node_of_ip(&t, "10.213.220.13"), 2);
	assert_int_equal(redis_node_of_ip(&t, "10.213.220.99"), -1);
	assert_int_equal(redis_node_of_ip(&t, NULL), -1);
	/* An address with a zone would end up in redis.conf: refused. */
	free(t.nodes[0].host);
	t.nodes[0].host = xstrdup("fe80::1%lo");
	assert_null(redis_node_ip(&t, 0));
	char err[300];
	assert_int_equal(db_find("redis")->check(&t, t.db_opts, err, sizeof err), -1);
	assert_non_null(strstr(err, "nodes: n1: host fe80::1%lo does not resolve"));
	free_test(&t);
}

static void test_verdicts(void **state)
{
	(void)state;
	char kind[40];
	assert_int_equal(redis_error_verdict("READONLY You can't write against a read only replica.",
					     kind, sizeof kind),
			 REDIS_VERDICT_FAIL);
	assert_string_equal(kind, "READONLY");
	assert_int_equal(redis_error_verdict("NOREPLICAS Not enough good replicas to write.", kind,
					     sizeof kind),
			 REDIS_VERDICT_FAIL);
	assert_string_equal(kind, "NOREPLICAS");
	assert_int_equal(redis_error_verdict("EXECABORT Transaction discarded because of previous "
					     "errors.",
					     kind, sizeof kind),
			 REDIS_VERDICT_FAIL);
	assert_string_equal(kind, "EXECABORT");
	assert_int_equal(redis_error_verdict("", kind, sizeof kind), REDIS_VERDICT_FAIL);
	assert_string_equal(kind, "ERR");
	assert_int_equal(redis_error_verdict(NULL, kind, sizeof kind), REDIS_VERDICT_FAIL);

	assert_int_equal(redis_io_verdict(REDIS_IO_TIMEOUT, true), REDIS_VERDICT_INFO);
	assert_int_equal(redis_io_verdict(REDIS_IO_TIMEOUT, false), REDIS_VERDICT_INFO);
	assert_int_equal(redis_io_verdict(REDIS_IO_LOST, true), REDIS_VERDICT_INFO);
	assert_int_equal(redis_io_verdict(REDIS_IO_LOST, false), REDIS_VERDICT_FAIL);
	assert_int_equal(redis_io_verdict(REDIS_IO_NONE, true), REDIS_VERDICT_OK);

	assert_int_equal(redis_wait_verdict(1, 1), REDIS_VERDICT_OK);
	assert_int_equal(redis_wait_verdict(4, 2), REDIS_VERDICT_OK);
	assert_int_equal(redis_wait_verdict(0, 1), REDIS_VERDICT_INFO);
	assert_int_equal(redis_wait_verdict(1, 2), REDIS_VERDICT_INFO);
	assert_int_equal(redis_wait_verdict(-1, 1), REDIS_VERDICT_INFO);
}

/* How hiredis reports what happened to a request: only EAGAIN (the socket
 * timeout) is a timeout; EOF and resets are a lost connection. */
static void test_io_error(void **state)
{
	(void)state;
	redisContext c;
	memset(&c, 0, sizeof c);
	assert_int_equal(redis_io_error(&c), REDIS_IO_NONE);
	c.err = REDIS_ERR_IO;
	snprintf(c.errstr, sizeof c.errstr, "%s", strerror(EAGAIN));
	assert_int_equal(redis_io_error(&c), REDIS_IO_TIMEOUT);
	snprintf(c.errstr, sizeof c.errstr, "%s", strerror(ECONNRESET));
	assert_int_equal(redis_io_error(&c), REDIS_IO_LOST);
	c.err = REDIS_ERR_EOF;
	snprintf(c.errstr, sizeof c.errstr, "Server closed the connection");
	assert_int_equal(redis_io_error(&c), REDIS_IO_LOST);
	c.err = REDIS_ERR_PROTOCOL;
	assert_int_equal(redis_io_error(&c), REDIS_IO_LOST);
	assert_int_equal(redis_io_error(NULL), REDIS_IO_NONE);
}

static void test_info_field(void **state)
{
	(void)state;
	const char *info = "# Replication\r\nrole:slave\r\nmaster_host:10.213.220.11\r\n"
			   "master_link_status:up\r\nmaster_link:x\r\n";
	char v[64];
	assert_true(redis_info_field(info, "role", v, sizeof v));
	assert_string_equal(v, "slave");
	assert_true(redis_info_field(info, "master_link_status", v, sizeof v));
	assert_string_equal(v, "up");
	assert_true(redis_info_field(info, "master_link", v, sizeof v));
	assert_string_equal(v, "x");
	assert_false(redis_info_field(info, "master", v, sizeof v));
	assert_false(redis_info_field(info, "connected_slaves", v, sizeof v));
	assert_true(redis_info_field("role:master", "role", v, sizeof v));
	assert_string_equal(v, "master");
}

/* ---- hand-built replies ---- */

static redisReply *rstr(int type, const char *s)
{
	redisReply *r = calloc(1, sizeof *r);
	r->type = type;
	r->str = strdup(s);
	r->len = strlen(s);
	return r;
}

static redisReply *rinteger(long long v)
{
	redisReply *r = calloc(1, sizeof *r);
	r->type = REDIS_REPLY_INTEGER;
	r->integer = v;
	return r;
}

static redisReply *rarr(size_t n, ...)
{
	redisReply *r = calloc(1, sizeof *r);
	r->type = REDIS_REPLY_ARRAY;
	r->elements = n;
	r->element = calloc(n ? n : 1, sizeof *r->element);
	va_list ap;
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		r->element[i] = va_arg(ap, redisReply *);
	va_end(ap);
	return r;
}

#define S(s) rstr(REDIS_REPLY_STRING, s)

static void test_pairs(void **state)
{
	(void)state;
	redisReply *r = rarr(6, S("name"), S("faultline"), S("ip"), S("10.213.220.14"),
			     S("config-epoch"), S("3"));
	assert_string_equal(redis_pairs_get(r, "ip"), "10.213.220.14");
	assert_string_equal(redis_pairs_get(r, "config-epoch"), "3");
	assert_null(redis_pairs_get(r, "faultline")); /* values are not keys */
	assert_null(redis_pairs_get(r, "port"));
	assert_null(redis_pairs_get(NULL, "ip"));
	freeReplyObject(r);
}

static void test_reply_ints(void **state)
{
	(void)state;
	redisReply *r = rarr(3, S("3"), S("-1"), S("12"));
	json_t *a = redis_reply_ints(r);
	char *s = json_dumps(a, JSON_COMPACT);
	assert_string_equal(s, "[3,-1,12]");
	free(s);
	json_decref(a);
	freeReplyObject(r);
	r = rarr(2, S("3"), S("x"));
	assert_null(redis_reply_ints(r));
	freeReplyObject(r);
	r = rarr(0);
	a = redis_reply_ints(r);
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);
	freeReplyObject(r);
	r = rinteger(3);
	assert_null(redis_reply_ints(r));
	freeReplyObject(r);
}

static void test_txn(void **state)
{
	(void)state;
	struct redis_txn p;
	char err[300];
	json_t *v = json_loads("[[\"append\",3,1],[\"r\",4,null],[\"r\",\"k\",null]]", 0, NULL);
	assert_int_equal(redis_txn_plan(v, &p, err, sizeof err), 0);
	assert_int_equal(p.n, 3);
	assert_true(p.writes);
	assert_string_equal(p.key[0], "fl:append:3");
	assert_string_equal(p.val[0], "1");
	assert_false(p.read[0]);
	assert_true(p.read[1]);
	assert_string_equal(p.key[2], "fl:append:k");

	redisReply *exec = rarr(3, rinteger(1), rarr(2, S("1"), S("2")), rarr(0));
	assert_int_equal(redis_txn_fill(&p, v, exec->element, err, sizeof err), 0);
	char *s = json_dumps(v, JSON_COMPACT);
	assert_string_equal(s, "[[\"append\",3,1],[\"r\",4,[1,2]],[\"r\",\"k\",[]]]");
	free(s);
	freeReplyObject(exec);

	/* An element that is an error: Redis does not roll back. */
	exec = rarr(3, rinteger(1), rstr(REDIS_REPLY_ERROR, "WRONGTYPE Operation against a key"),
		    rarr(0));
	assert_int_equal(redis_txn_fill(&p, v, exec->element, err, sizeof err), -1);
	assert_non_null(strstr(err, "WRONGTYPE"));
	freeReplyObject(exec);
	exec = rarr(3, S("1"), rarr(0), rarr(0)); /* RPUSH answers an integer */
	assert_int_equal(redis_txn_fill(&p, v, exec->element, err, sizeof err), -1);
	freeReplyObject(exec);
	redis_txn_free(&p);
	json_decref(v);

	v = json_loads("[[\"r\",1,null]]", 0, NULL);
	assert_int_equal(redis_txn_plan(v, &p, err, sizeof err), 0);
	assert_false(p.writes);
	redis_txn_free(&p);
	json_decref(v);

	static const char *const bad[] = {
		"[]", "{}", "[[\"w\",1,2]]", "[[\"append\",1]]", "[[\"append\",1,\"x\"]]",
		"[[\"append\",[1],2]]", "[5]",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		v = json_loads(bad[i], JSON_DECODE_ANY, NULL);
		assert_non_null(v);
		if (redis_txn_plan(v, &p, err, sizeof err) != -1)
			fail_msg("%s: planned", bad[i]);
		redis_txn_free(&p);
		json_decref(v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry),     cmocka_unit_test(test_opts_defaults),
		cmocka_unit_test(test_opts_values),  cmocka_unit_test(test_opts_refused),
		cmocka_unit_test(test_node_ip),	     cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_io_error),     cmocka_unit_test(test_info_field),
		cmocka_unit_test(test_pairs),	     cmocka_unit_test(test_reply_ints),
		cmocka_unit_test(test_txn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
