/*
 * test_redis_client.c - the honesty of the Redis clients' completions
 * (src/db/redis_client.c) against a fake Redis on 127.0.0.1: one port
 * plays the node's sentinel (SENTINEL get-master-addr-by-name), another
 * the primary it names, answering each command the way a test asks - a
 * normal reply, READONLY, NOREPLICAS, EXECABORT, an EXEC with an error
 * element, a refused MULTI, a reply that never comes, a connection closed mid-request, a
 * sentinel that knows no primary, a "primary" whose ROLE says replica, a
 * WAIT with too few acks. Only an answer proving the op did not happen may
 * give fail; anything uncertain must give info. Real Redis and Sentinel:
 * tests/integration/redis.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#undef test_free

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "history.h"
#include "redis.h"
#include "test.h"
#include "util.h"

enum mode {
	M_OK,
	M_READONLY,     /* writes: -READONLY (queued in MULTI: EXEC aborts) */
	M_NOREPLICAS,   /* writes: -NOREPLICAS */
	M_HANG,         /* data commands: no reply ever */
	M_CLOSE,        /* data commands: the connection closes */
	M_NO_PRIMARY,   /* the sentinel answers nil */
	M_REPLICA,      /* ROLE says slave */
	M_CAS_FALSE,    /* the cas script answers 0 */
	M_WAIT0,        /* WAIT answers 0 */
	M_EXEC_PARTIAL, /* EXEC: [:1, -WRONGTYPE] */
	M_GET_NIL,      /* GET: nil */
	M_MULTI_ERR,    /* MULTI refused: the queued commands run one by one */
};

static atomic_int mode;
static atomic_int data_cmds; /* commands the primary got, besides ROLE */
static int lfd[2] = {-1, -1};
static int port[2];
static atomic_bool stop;
static pthread_t acceptor[2];

struct rd {
	int fd;
	char buf[8192];
	size_t len, pos;
};

static int rd_fill(struct rd *r)
{
	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
	}
	ssize_t n = read(r->fd, r->buf + r->len, sizeof r->buf - r->len - 1);
	if (n <= 0)
		return -1;
	r->len += (size_t)n;
	return 0;
}

static int rd_line(struct rd *r, char *out, size_t outlen)
{
	for (;;) {
		char *e = memmem(r->buf + r->pos, r->len - r->pos, "\r\n", 2);
		if (e) {
			size_t n = (size_t)(e - (r->buf + r->pos));
			snprintf(out, outlen, "%.*s", (int)n, r->buf + r->pos);
			r->pos += n + 2;
			return 0;
		}
		if (rd_fill(r) < 0)
			return -1;
	}
}

/* One command as argv (at most 8 args of up to 255 bytes). */
static int rd_cmd(struct rd *r, char argv[8][256], int *argc)
{
	char line[300];
	if (rd_line(r, line, sizeof line) < 0 || line[0] != '*')
		return -1;
	*argc = atoi(line + 1);
	for (int i = 0; i < *argc; i++) {
		if (rd_line(r, line, sizeof line) < 0 || line[0] != '$')
			return -1;
		size_t n = (size_t)atoi(line + 1);
		while (r->len - r->pos < n + 2)
			if (rd_fill(r) < 0)
				return -1;
		if (i < 8)
			snprintf(argv[i], 256, "%.*s", (int)(n < 255 ? n : 255), r->buf + r->pos);
		r->pos += n + 2;
	}
	return *argc > 8 ? -1 : 0;
}

static void put(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) < 0)
		return;
}

static bool is_write(const char *c)
{
	return !strcasecmp(c, "SADD") || !strcasecmp(c, "SET") || !strcasecmp(c, "RPUSH") ||
	       !strcasecmp(c, "EVAL");
}

/* The answer of a data command outside MULTI (or its EXEC element). */
static void answer(int fd, char argv[8][256])
{
	const char *c = argv[0];
	int m = atomic_load(&mode);
	if (is_write(c) && m == M_READONLY)
		put(fd, "-READONLY You can't write against a read only replica.\r\n");
	else if (is_write(c) && m == M_NOREPLICAS)
		put(fd, "-NOREPLICAS Not enough good replicas to write.\r\n");
	else if (!strcasecmp(c, "SADD") || !strcasecmp(c, "RPUSH"))
		put(fd, ":1\r\n");
	else if (!strcasecmp(c, "SMEMBERS"))
		put(fd, "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n");
	else if (!strcasecmp(c, "LRANGE"))
		put(fd, "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
	else if (!strcasecmp(c, "GET"))
		put(fd, m == M_GET_NIL ? "$-1\r\n" : "$1\r\n3\r\n");
	else if (!strcasecmp(c, "SET"))
		put(fd, "+OK\r\n");
	else if (!strcasecmp(c, "EVAL"))
		put(fd, m == M_CAS_FALSE ? ":0\r\n" : ":1\r\n");
	else if (!strcasecmp(c, "WAIT"))
		put(fd, m == M_WAIT0 ? ":0\r\n" : ":1\r\n");
	else
		put(fd, "-ERR unknown command\r\n");
}

struct conn {
	int fd;
	bool sentinel;
};

static void *conn_main(void *arg)
{
	struct conn *cn = arg;
	struct rd r = {.fd = cn->fd};
	char argv[8][256];
	int argc;
	int queued = 0;
	bool in_multi = false, abort_exec = false;
	while (!atomic_load(&stop) && rd_cmd(&r, argv, &argc) == 0) {
		int m = atomic_load(&mode);
		if (cn->sentinel) {
			if (m == M_NO_PRIMARY) {
				put(cn->fd, "*-1\r\n");
			} else {
				char p[16], s[128];
				snprintf(p, sizeof p, "%d", port[1]);
				snprintf(s, sizeof s, "*2\r\n$9\r\n127.0.0.1\r\n$%zu\r\n%s\r\n",
					 strlen(p), p);
				put(cn->fd, s);
			}
			continue;
		}
		if (!strcasecmp(argv[0], "ROLE")) {
			put(cn->fd, m == M_REPLICA ? "*1\r\n$5\r\nslave\r\n" : "*1\r\n$6\r\nmaster\r\n");
			continue;
		}
		atomic_fetch_add(&data_cmds, 1);
		if (m == M_HANG) {
			while (!atomic_load(&stop) && rd_fill(&r) == 0)
				;
			break;
		}
		if (m == M_CLOSE && (!in_multi || !strcasecmp(argv[0], "EXEC")))
			break;
		if (!strcasecmp(argv[0], "MULTI") && m == M_MULTI_ERR) {
			put(cn->fd, "-ERR MULTI calls can not be nested\r\n");
		} else if (!strcasecmp(argv[0], "MULTI")) {
			in_multi = true;
			queued = 0;
			abort_exec = false;
			put(cn->fd, "+OK\r\n");
		} else if (!strcasecmp(argv[0], "EXEC")) {
			in_multi = false;
			if (abort_exec) {
				put(cn->fd, "-EXECABORT Transaction discarded because of previous errors.\r\n");
			} else if (m == M_EXEC_PARTIAL) {
				put(cn->fd, "*2\r\n:1\r\n-WRONGTYPE Operation against a key holding the "
					    "wrong kind of value\r\n");
			} else {
				char s[32];
				snprintf(s, sizeof s, "*%d\r\n", queued);
				put(cn->fd, s);
				/* Our transactions: RPUSH then LRANGE (test_append_*). */
				for (int i = 0; i < queued; i++)
					put(cn->fd, i == 0 ? ":1\r\n" : "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
			}
		} else if (in_multi) {
			if (is_write(argv[0]) && m == M_READONLY) {
				abort_exec = true;
				put(cn->fd, "-READONLY You can't write against a read only replica.\r\n");
			} else {
				queued++;
				put(cn->fd, "+QUEUED\r\n");
			}
		} else {
			answer(cn->fd, argv);
		}
	}
	close(cn->fd);
	free(cn);
	return NULL;
}

static void *accept_main(void *arg)
{
	int which = (int)(intptr_t)arg;
	while (!atomic_load(&stop)) {
		int fd = accept(lfd[which], NULL, NULL);
		if (fd < 0)
			break;
		struct conn *cn = xcalloc(1, sizeof *cn);
		cn->fd = fd;
		cn->sentinel = which == 0;
		pthread_t th;
		pthread_create(&th, NULL, conn_main, cn);
		pthread_detach(th);
	}
	return NULL;
}

static int listen_any(int *p)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	socklen_t l = sizeof a;
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &l) < 0) {
		close(fd);
		return -1;
	}
	*p = ntohs(a.sin_port);
	return fd;
}

static struct test t;

static void make_test(const char *db_opts)
{
	memset(&t, 0, sizeof t);
	t.nodes = xcalloc(1, sizeof *t.nodes);
	t.nodes[0].name = xstrdup("n1");
	t.nodes[0].host = xstrdup("127.0.0.1");
	t.n_nodes = 1;
	t.op_timeout = 0.3;
	t.db_opts = json_loads(db_opts, 0, NULL);
}

static void free_test(void)
{
	free(t.nodes[0].name);
	free(t.nodes[0].host);
	free(t.nodes);
	json_decref(t.db_opts);
	memset(&t, 0, sizeof t);
}

static int setup(void **state)
{
	(void)state;
	for (int i = 0; i < 2; i++) {
		lfd[i] = listen_any(&port[i]);
		if (lfd[i] < 0)
			return -1;
	}
	atomic_store(&stop, false);
	for (int i = 0; i < 2; i++)
		pthread_create(&acceptor[i], NULL, accept_main, (void *)(intptr_t)i);
	char o[128];
	snprintf(o, sizeof o, "{\"sentinel_port\": %d, \"port\": %d}", port[0], port[1]);
	make_test(o);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	atomic_store(&stop, true);
	for (int i = 0; i < 2; i++) {
		shutdown(lfd[i], SHUT_RDWR);
		close(lfd[i]);
		pthread_join(acceptor[i], NULL);
	}
	free_test();
	return 0;
}

/* Invoke f/value (key) on a fresh or given client; returns the completion
 * (caller op_free's it). */
static struct op run(const struct client_ops *ops, void *c, const char *f, const char *value,
		     const char *key)
{
	struct op inv, out;
	memset(&inv, 0, sizeof inv);
	inv.type = OP_INVOKE;
	inv.process = 0;
	inv.f = xstrdup(f);
	inv.key = key ? xstrdup(key) : NULL;
	inv.value = value ? json_loads(value, JSON_DECODE_ANY, NULL) : json_null();
	op_copy(&out, &inv);
	ops->invoke(c, &inv, &out);
	op_free(&inv);
	return out;
}

static void *open_client(const struct client_ops *ops)
{
	char err[200];
	void *c = ops->open(&t, 0, err, sizeof err);
	assert_non_null(c);
	return c;
}

static const char *primary_of(const struct op *o)
{
	return o->extra ? json_string_value(json_object_get(o->extra, "primary")) : NULL;
}

static void expect(const struct op *o, enum op_type type, const char *err_part)
{
	if (o->type != type)
		fail_msg("%s: got %s (%s), want %s", o->f, op_type_name(o->type),
			 o->error ? o->error : "no error", op_type_name(type));
	if (err_part && (!o->error || !strstr(o->error, err_part)))
		fail_msg("%s: error '%s' does not say '%s'", o->f, o->error ? o->error : "",
			 err_part);
}

static void test_set(void **state)
{
	(void)state;
	const struct client_ops *ops = &redis_set_client;
	void *c = open_client(ops);
	atomic_store(&mode, M_OK);
	struct op o = run(ops, c, "add", "7", NULL);
	expect(&o, OP_OK, NULL);
	assert_string_equal(primary_of(&o), "n1");
	op_free(&o);
	o = run(ops, c, "read", NULL, NULL);
	expect(&o, OP_OK, NULL);
	char *s = json_dumps(o.value, JSON_COMPACT);
	assert_string_equal(s, "[1,2,3]");
	free(s);
	op_free(&o);

	atomic_store(&mode, M_READONLY);
	o = run(ops, c, "add", "8", NULL);
	expect(&o, OP_FAIL, "READONLY");
	op_free(&o);
	atomic_store(&mode, M_NOREPLICAS);
	o = run(ops, c, "add", "9", NULL);
	expect(&o, OP_FAIL, "NOREPLICAS");
	op_free(&o);
	ops->close(c);
}

static void test_unknown_outcomes(void **state)
{
	(void)state;
	const struct client_ops *ops = &redis_set_client;
	void *c = open_client(ops);
	atomic_store(&mode, M_HANG);
	int64_t t0 = now_ns();
	struct op o = run(ops, c, "add", "1", NULL);
	expect(&o, OP_INFO, "timeout");
	/* The op's budget is op_timeout, sentinel lookup included. */
	assert_true(now_ns() - t0 < 1000000000LL);
	op_free(&o);
	o = run(ops, c, "read", NULL, NULL);
	expect(&o, OP_INFO, "timeout");
	op_free(&o);

	atomic_store(&mode, M_CLOSE);
	o = run(ops, c, "add", "2", NULL);
	expect(&o, OP_INFO, "connection lost");
	op_free(&o);
	o = run(ops, c, "read", NULL, NULL);
	expect(&o, OP_FAIL, "connection lost");
	op_free(&o);
	ops->close(c);
}

static void test_not_sent(void **state)
{
	(void)state;
	const struct client_ops *ops = &redis_set_client;
	void *c = open_client(ops);
	atomic_store(&mode, M_NO_PRIMARY);
	int before = atomic_load(&data_cmds);
	struct op o = run(ops, c, "add", "1", NULL);
	expect(&o, OP_FAIL, "sentinel: knows no primary");
	op_free(&o);
	atomic_store(&mode, M_REPLICA);
	o = run(ops, c, "add", "2", NULL);
	expect(&o, OP_FAIL, "not a primary");
	op_free(&o);
	assert_int_equal(atomic_load(&data_cmds), before);
	ops->close(c);

	/* No sentinel listening: refused before anything was sent. */
	json_object_set_new(t.db_opts, "sentinel_port", json_integer(port[1] == 1 ? 2 : 1));
	c = open_client(ops);
	atomic_store(&mode, M_OK);
	o = run(ops, c, "add", "3", NULL);
	expect(&o, OP_FAIL, "sentinel:");
	op_free(&o);
	ops->close(c);
	json_object_set_new(t.db_opts, "sentinel_port", json_integer(port[0]));
	assert_int_equal(atomic_load(&data_cmds), before);
}

static void test_wait(void **state)
{
	(void)state;
	json_object_set_new(t.db_opts, "wait", json_pack("{s:i,s:i}", "replicas", 1, "timeout_ms", 50));
	const struct client_ops *ops = &redis_set_client;
	void *c = open_client(ops);
	atomic_store(&mode, M_OK);
	struct op o = run(ops, c, "add", "1", NULL);
	expect(&o, OP_OK, NULL);
	assert_int_equal(json_integer_value(json_object_get(o.extra, "acks")), 1);
	op_free(&o);
	atomic_store(&mode, M_WAIT0);
	o = run(ops, c, "add", "2", NULL);
	expect(&o, OP_INFO, "wait: 0 of 1 replicas");
	assert_int_equal(json_integer_value(json_object_get(o.extra, "acks")), 0);
	op_free(&o);
	/* Reads do not wait. */
	o = run(ops, c, "read", NULL, NULL);
	expect(&o, OP_OK, NULL);
	assert_null(json_object_get(o.extra, "acks"));
	op_free(&o);
	ops->close(c);
	json_object_set_new(t.db_opts, "wait", json_null());
}

static void test_register(void **state)
{
	(void)state;
	const struct client_ops *ops = &redis_register_client;
	void *c = open_client(ops);
	atomic_store(&mode, M_OK);
	struct op o = run(ops, c, "read", NULL, "4");
	expect(&o, OP_OK, NULL);
	assert_int_equal(json_integer_value(o.value), 3);
	op_free(&o);
	atomic_store(&mode, M_GET_NIL);
	o = run(ops, c, "read", NULL, "4");
	expect(&o, OP_OK, NULL);
	assert_true(json_is_null(o.value));
	op_free(&o);
	o = run(ops, c, "write", "2", "4");
	expect(&o, OP_OK, NULL);
	op_free(&o);
	o = run(ops, c, "cas", "[1,2]", "4");
	expect(&o, OP_OK, NULL);
	op_free(&o);
	atomic_store(&mode, M_CAS_FALSE);
	o = run(ops, c, "cas", "[1,2]", "4");
	expect(&o, OP_FAIL, "compare failed");
	op_free(&o);
	atomic_store(&mode, M_NOREPLICAS);
	o = run(ops, c, "cas", "[1,2]", "4");
	expect(&o, OP_FAIL, "NOREPLICAS");
	op_free(&o);
	atomic_store(&mode, M_HANG);
	o = run(ops, c, "cas", "[1,2]", "4");
	expect(&o, OP_INFO, "timeout");
	op_free(&o);
	o = run(ops, c, "cas", "[1]", "4");
	expect(&o, OP_FAIL, "needs");
	op_free(&o);
	ops->close(c);
}

static void test_append(void **state)
{
	(void)state;
	const struct client_ops *ops = &redis_append_client;
	void *c = open_client(ops);
	atomic_store(&mode, M_OK);
	struct op o = run(ops, c, "txn", "[[\"append\",1,5],[\"r\",1,null]]", NULL);
	expect(&o, OP_OK, NULL);
	char *s = json_dumps(o.value, JSON_COMPACT);
	assert_string_equal(s, "[[\"append\",1,5],[\"r\",1,[1,2]]]");
	free(s);
	op_free(&o);
	o = run(ops, c, "txn", "[[\"append\",1,6]]", NULL);
	expect(&o, OP_OK, NULL);
	op_free(&o);
	o = run(ops, c, "txn", "[[\"r\",2,null]]", NULL);
	expect(&o, OP_OK, NULL);
	op_free(&o);

	atomic_store(&mode, M_READONLY);
	o = run(ops, c, "txn", "[[\"append\",1,7],[\"r\",1,null]]", NULL);
	expect(&o, OP_FAIL, "EXECABORT");
	op_free(&o);
	atomic_store(&mode, M_EXEC_PARTIAL);
	o = run(ops, c, "txn", "[[\"append\",1,8],[\"r\",1,null]]", NULL);
	expect(&o, OP_INFO, "WRONGTYPE");
	op_free(&o);
	atomic_store(&mode, M_CLOSE);
	o = run(ops, c, "txn", "[[\"append\",1,9],[\"r\",1,null]]", NULL);
	expect(&o, OP_INFO, "connection lost");
	op_free(&o);
	o = run(ops, c, "txn", "[[\"r\",1,null],[\"r\",2,null]]", NULL);
	expect(&o, OP_FAIL, "connection lost");
	op_free(&o);
	/* A refused MULTI: each command ran on its own. */
	atomic_store(&mode, M_MULTI_ERR);
	o = run(ops, c, "txn", "[[\"append\",1,10],[\"r\",1,null]]", NULL);
	expect(&o, OP_INFO, "MULTI refused");
	op_free(&o);
	o = run(ops, c, "txn", "[[\"r\",1,null],[\"r\",2,null]]", NULL);
	expect(&o, OP_FAIL, "MULTI refused");
	op_free(&o);
	o = run(ops, c, "txn", "[[\"w\",1,9]]", NULL);
	expect(&o, OP_FAIL, "micro-op 0");
	op_free(&o);
	ops->close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_outcomes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_sent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
