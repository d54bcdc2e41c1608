/*
 * test_etcd_clients.c - the honesty and the request logic of the etcd
 * workload clients (src/db/etcd_{set,counter,bank,txn,lock}.c) against a
 * scripted fake v3 gateway on 127.0.0.78:2379: each request gets the next
 * scripted answer (lease keepalives and revokes are answered on the side),
 * and every request is recorded. Compare-and-swap loops retry with the
 * fresh values the failure branch brings, give up as fail when only
 * compares failed, and end info when the last attempt is unknown; a
 * read-only transaction is one snapshot; a refused transfer sends nothing;
 * a lock whose lease cannot be granted is a fail, a lock request that
 * timed out is info, a grant whose key is gone is ok without a token.
 * The real gateway is exercised by tests/integration/etcd_workloads.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#undef test_free /* cmocka's allocator macro; ours frees a struct test */

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
#include "config.h"
#include "etcd.h"
#include "etcd_http.h"
#include "history.h"
#include "util.h"

#define FAKE_HOST "127.0.0.78"
#define MAX_SCRIPT 64

/* ---- the fake gateway ---- */

struct answer {
	int code;          /* 0: close the connection without answering; -1: hang */
	char body[1024];
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct answer script[MAX_SCRIPT];
static int n_script, next_answer;
static struct answer fallback;  /* when the script is used up */
static char paths[MAX_SCRIPT][64], bodies[MAX_SCRIPT][2048];
static int n_requests;          /* scripted requests received */
static int listen_fd = -1;

static void answer(int code, const char *body)
{
	pthread_mutex_lock(&mu);
	script[n_script].code = code;
	snprintf(script[n_script].body, sizeof script[n_script].body, "%s", body);
	n_script++;
	pthread_mutex_unlock(&mu);
}

static void reset(void)
{
	pthread_mutex_lock(&mu);
	n_script = next_answer = n_requests = 0;
	fallback.code = 500;
	snprintf(fallback.body, sizeof fallback.body, "{\"message\":\"script used up\"}");
	pthread_mutex_unlock(&mu);
}

static void send_json(int fd, int code, const char *body)
{
	char hdr[256];
	int n = snprintf(hdr, sizeof hdr,
			 "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
			 code, strlen(body));
	if (write(fd, hdr, (size_t)n) < 0 || write(fd, body, strlen(body)) < 0)
		return;
}

/* Read one request into path/body; -1 when the peer closed. */
static int read_request(int fd, char *path, size_t pn, char *body, size_t bn)
{
	char buf[8192];
	size_t len = 0;
	char *end = NULL;
	while (!(end = memmem(buf, len, "\r\n\r\n", 4))) {
		ssize_t r = read(fd, buf + len, sizeof buf - len - 1);
		if (r <= 0)
			return -1;
		len += (size_t)r;
	}
	buf[len] = 0;
	size_t want = 0;
	char *cl = strcasestr(buf, "Content-Length:");
	if (cl)
		want = strtoul(cl + 15, NULL, 10);
	size_t have = len - (size_t)(end + 4 - buf);
	while (have < want) {
		ssize_t r = read(fd, buf + len, sizeof buf - len - 1);
		if (r <= 0)
			return -1;
		len += (size_t)r;
		have += (size_t)r;
	}
	buf[len] = 0;
	sscanf(buf, "POST %63s", path);
	(void)pn;
	snprintf(body, bn, "%s", end + 4);
	return 0;
}

static void *conn_main(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char path[64], body[2048];
	while (read_request(fd, path, sizeof path, body, sizeof body) == 0) {
		if (!strcmp(path, "/v3/lease/keepalive")) {
			send_json(fd, 200, "{\"result\":{\"header\":{},\"ID\":\"77\",\"TTL\":\"2\"}}");
			continue;
		}
		if (!strcmp(path, "/v3/lease/revoke")) {
			send_json(fd, 200, "{\"header\":{}}");
			continue;
		}
		pthread_mutex_lock(&mu);
		struct answer a = next_answer < n_script ? script[next_answer++] : fallback;
		if (n_requests < MAX_SCRIPT) {
			snprintf(paths[n_requests], sizeof paths[0], "%s", path);
			snprintf(bodies[n_requests], sizeof bodies[0], "%s", body);
		}
		n_requests++;
		pthread_mutex_unlock(&mu);
		if (a.code == 0) {
			shutdown(fd, SHUT_RDWR);
			close(fd);
			return NULL;
		}
		if (a.code < 0) {
			sleep(3);
			continue;
		}
		send_json(fd, a.code, a.body);
	}
	close(fd);
	return NULL;
}

static void *server_main(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept(listen_fd, NULL, NULL);
		if (fd < 0)
			break;
		pthread_t th;
		pthread_create(&th, NULL, conn_main, (void *)(intptr_t)fd);
		pthread_detach(th);
	}
	return NULL;
}

static struct test t;
static pthread_t server_thread;

static int group_setup(void **state)
{
	(void)state;
	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(2379)};
	inet_pton(AF_INET, FAKE_HOST, &a.sin_addr);
	if (bind(listen_fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(listen_fd, 16) < 0)
		return -1;
	pthread_create(&server_thread, NULL, server_main, NULL);
	test_init_defaults(&t);
	t.nodes = xcalloc(1, sizeof *t.nodes);
	t.nodes[0].name = xstrdup("n1");
	t.nodes[0].host = xstrdup(FAKE_HOST);
	t.n_nodes = 1;
	/* Roomy, so a slow machine (valgrind, sanitizers) still retries; the
	 * cases that must run out of time shorten it. */
	t.op_timeout = 2;
	json_object_set_new(t.workload_opts, "lease_ttl", json_integer(2));
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	shutdown(listen_fd, SHUT_RDWR);
	close(listen_fd);
	pthread_join(server_thread, NULL);
	test_free(&t);
	return 0;
}

/* ---- helpers ---- */

static void *open_client(const struct client_ops *ops)
{
	char err[256];
	void *c = ops->open(&t, 0, err, sizeof err);
	assert_non_null(c);
	return c;
}

/* Run one op (value as JSON text, may be NULL); caller op_frees. */
static struct op run_op(const struct client_ops *ops, void *c, const char *f, const char *value)
{
	struct op inv = {0};
	inv.type = OP_INVOKE;
	inv.f = xstrdup(f);
	inv.value = value ? json_loads(value, JSON_DECODE_ANY, NULL) : json_null();
	assert_non_null(inv.value);
	struct op out;
	op_copy(&out, &inv);
	ops->invoke(c, &inv, &out);
	op_free(&inv);
	return out;
}

static char *b64(const char *s) { return etcd_b64s(s); }

/* A range response body {"kvs":[{key, value, mod_revision}]} for one key. */
static void kv_json(char *out, size_t n, const char *key, const char *value, int rev)
{
	char *k = b64(key), *v = b64(value);
	snprintf(out, n, "{\"key\":\"%s\",\"value\":\"%s\",\"mod_revision\":\"%d\","
		 "\"create_revision\":\"%d\"}", k, v, rev, rev);
	free(k);
	free(v);
}

static const char *req_body(int i) { return bodies[i]; }

/* ---- counter ---- */

static void test_counter(void **state)
{
	(void)state;
	void *c = open_client(&etcd_counter_ops);
	char kv[256], body[512];
	/* Warm the connection up (a slow first transfer under valgrind would
	 * leave no time to retry below). */
	reset();
	answer(200, "{\"header\":{}}");
	struct op warm = run_op(&etcd_counter_ops, c, "read", NULL);
	op_free(&warm);
	/* Compare failed (the client assumed an empty key), the failure
	 * branch shows 5 at revision 8; the retry succeeds. */
	reset();
	kv_json(kv, sizeof kv, "counter", "5", 8);
	snprintf(body, sizeof body, "{\"header\":{\"revision\":\"9\"},\"responses\":[{\"response_range\":"
		 "{\"kvs\":[%s]}}]}", kv);
	answer(200, body);
	answer(200, "{\"header\":{\"revision\":\"10\"},\"succeeded\":true}");
	struct op out = run_op(&etcd_counter_ops, c, "add", "3");
	assert_int_equal(out.type, OP_OK);
	assert_null(out.error);
	op_free(&out);
	assert_int_equal(n_requests, 2);
	assert_non_null(strstr(req_body(0), "\"mod_revision\":\"0\""));
	assert_non_null(strstr(req_body(1), "\"mod_revision\":\"8\""));
	char *eight = b64("8");
	assert_non_null(strstr(req_body(1), eight)); /* 5 + 3 */
	free(eight);
	/* The next add starts from what this client saw: revision 10, 8. */
	reset();
	answer(200, "{\"header\":{\"revision\":\"11\"},\"succeeded\":true}");
	out = run_op(&etcd_counter_ops, c, "add", "1");
	assert_int_equal(out.type, OP_OK);
	op_free(&out);
	assert_non_null(strstr(req_body(0), "\"mod_revision\":\"10\""));
	/* Unknown outcomes: info; rejected: fail. */
	reset();
	answer(503, "{\"message\":\"etcdserver: request timed out\"}");
	out = run_op(&etcd_counter_ops, c, "add", "1");
	assert_int_equal(out.type, OP_INFO);
	op_free(&out);
	reset();
	answer(400, "{\"message\":\"bad\"}");
	out = run_op(&etcd_counter_ops, c, "add", "1");
	assert_int_equal(out.type, OP_FAIL);
	op_free(&out);
	/* Compares that keep failing until the time is up: nothing applied. */
	t.op_timeout = 1;
	reset();
	pthread_mutex_lock(&mu);
	fallback.code = 200;
	snprintf(fallback.body, sizeof fallback.body, "%s", body);
	pthread_mutex_unlock(&mu);
	out = run_op(&etcd_counter_ops, c, "add", "1");
	assert_int_equal(out.type, OP_FAIL);
	assert_non_null(strstr(out.error, "contention"));
	assert_true(n_requests > 2);
	op_free(&out);
	/* A compare failure, then an attempt that times out: info. */
	reset();
	answer(200, body);
	answer(-1, "");
	out = run_op(&etcd_counter_ops, c, "add", "1");
	assert_int_equal(out.type, OP_INFO);
	op_free(&out);
	t.op_timeout = 2;
	etcd_counter_ops.close(c);

	/* Reads: a missing key is 0. */
	c = open_client(&etcd_counter_ops);
	reset();
	answer(200, "{\"header\":{}}");
	answer(200, "{\"header\":{},\"kvs\":[{\"key\":\"Y291bnRlcg==\",\"value\":\"MTI=\"}]}");
	out = run_op(&etcd_counter_ops, c, "read", NULL);
	assert_int_equal(out.type, OP_OK);
	assert_int_equal(json_integer_value(out.value), 0);
	op_free(&out);
	out = run_op(&etcd_counter_ops, c, "read", NULL);
	assert_int_equal(json_integer_value(out.value), 12);
	op_free(&out);
	etcd_counter_ops.close(c);
}

/* ---- append (txn) ---- */

static void test_append(void **state)
{
	(void)state;
	void *c = open_client(&etcd_append_ops);
	char kv[256], body[1024];
	/* Read-only: one snapshot, no commit. */
	reset();
	kv_json(kv, sizeof kv, "append/1", "[1,2]", 4);
	snprintf(body, sizeof body, "{\"header\":{},\"succeeded\":true,\"responses\":["
		 "{\"response_range\":{\"kvs\":[%s]}},{\"response_range\":{}}]}", kv);
	answer(200, body);
	struct op out = run_op(&etcd_append_ops, c, "txn", "[[\"r\",1,null],[\"r\",2,null]]");
	assert_int_equal(out.type, OP_OK);
	assert_int_equal(n_requests, 1);
	char *s = json_dumps(out.value, JSON_COMPACT);
	assert_string_equal(s, "[[\"r\",1,[1,2]],[\"r\",2,[]]]");
	free(s);
	op_free(&out);

	/* Read-write: the snapshot says [1,2]; the commit's compare fails and
	 * brings [1,2,3] at revision 6; the retry commits on it, and the
	 * reads report what that commit saw. */
	reset();
	answer(200, body);
	kv_json(kv, sizeof kv, "append/1", "[1,2,3]", 6);
	char fresh[1024];
	snprintf(fresh, sizeof fresh, "{\"header\":{},\"responses\":[{\"response_range\":"
		 "{\"kvs\":[%s]}}]}", kv);
	answer(200, fresh);
	answer(200, "{\"header\":{},\"succeeded\":true}");
	out = run_op(&etcd_append_ops, c, "txn", "[[\"r\",1,null],[\"append\",1,9],[\"r\",1,null]]");
	assert_int_equal(out.type, OP_OK);
	s = json_dumps(out.value, JSON_COMPACT);
	assert_string_equal(s, "[[\"r\",1,[1,2,3]],[\"append\",1,9],[\"r\",1,[1,2,3,9]]]");
	free(s);
	op_free(&out);
	assert_int_equal(n_requests, 3);
	assert_non_null(strstr(req_body(1), "\"mod_revision\":\"4\""));
	assert_non_null(strstr(req_body(2), "\"mod_revision\":\"6\""));
	char *list = b64("[1,2,3,9]");
	assert_non_null(strstr(req_body(2), list));
	free(list);

	/* A snapshot that fails changed nothing; a commit that may have
	 * happened is info. */
	reset();
	answer(503, "{\"message\":\"x\"}");
	out = run_op(&etcd_append_ops, c, "txn", "[[\"append\",1,10]]");
	assert_int_equal(out.type, OP_FAIL);
	op_free(&out);
	reset();
	answer(200, body);
	answer(503, "{\"message\":\"etcdserver: request timed out\"}");
	out = run_op(&etcd_append_ops, c, "txn", "[[\"append\",1,10]]");
	assert_int_equal(out.type, OP_INFO);
	op_free(&out);
	/* Malformed transactions are refused before anything is sent. */
	reset();
	out = run_op(&etcd_append_ops, c, "txn", "[[\"w\",1,10]]");
	assert_int_equal(out.type, OP_FAIL);
	assert_int_equal(n_requests, 0);
	op_free(&out);
	etcd_append_ops.close(c);

	/* rw-register: never written reads null; a write is a put of the value. */
	c = open_client(&etcd_rw_register_ops);
	reset();
	answer(200, "{\"header\":{},\"responses\":[{\"response_range\":{}}]}");
	answer(200, "{\"header\":{},\"succeeded\":true}");
	out = run_op(&etcd_rw_register_ops, c, "txn", "[[\"r\",5,null],[\"w\",5,3]]");
	assert_int_equal(out.type, OP_OK);
	s = json_dumps(out.value, JSON_COMPACT);
	assert_string_equal(s, "[[\"r\",5,null],[\"w\",5,3]]");
	free(s);
	op_free(&out);
	etcd_rw_register_ops.close(c);
}

/* ---- bank ---- */

static void test_bank(void **state)
{
	(void)state;
	void *c = open_client(&etcd_bank_ops);
	char a1[256], a2[256], body[1024];
	kv_json(a1, sizeof a1, "bank/a1", "3", 4);
	kv_json(a2, sizeof a2, "bank/a2", "10", 5);
	snprintf(body, sizeof body, "{\"header\":{},\"succeeded\":true,\"responses\":["
		 "{\"response_range\":{\"kvs\":[%s]}},{\"response_range\":{\"kvs\":[%s]}}]}", a1, a2);
	/* a1 has 3: moving 5 is refused, and nothing is written. */
	reset();
	answer(200, body);
	struct op out = run_op(&etcd_bank_ops, c, "transfer",
			       "{\"from\":\"a1\",\"to\":\"a2\",\"amount\":5}");
	assert_int_equal(out.type, OP_FAIL);
	assert_non_null(strstr(out.error, "insufficient"));
	assert_int_equal(n_requests, 1);
	op_free(&out);
	/* Moving 2 commits with both compares. */
	reset();
	answer(200, body);
	answer(200, "{\"header\":{},\"succeeded\":true}");
	out = run_op(&etcd_bank_ops, c, "transfer", "{\"from\":\"a1\",\"to\":\"a2\",\"amount\":2}");
	assert_int_equal(out.type, OP_OK);
	assert_non_null(strstr(req_body(1), "\"mod_revision\":\"4\""));
	assert_non_null(strstr(req_body(1), "\"mod_revision\":\"5\""));
	char *one = b64("1"), *twelve = b64("12");
	assert_non_null(strstr(req_body(1), one));
	assert_non_null(strstr(req_body(1), twelve));
	free(one);
	free(twelve);
	op_free(&out);
	/* Reads: every account of one range. */
	reset();
	snprintf(body, sizeof body, "{\"header\":{},\"kvs\":[%s,%s]}", a1, a2);
	answer(200, body);
	out = run_op(&etcd_bank_ops, c, "read", NULL);
	assert_int_equal(out.type, OP_OK);
	char *s = json_dumps(out.value, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(s, "{\"a1\":3,\"a2\":10}");
	free(s);
	assert_non_null(strstr(req_body(0), "range_end"));
	op_free(&out);
	etcd_bank_ops.close(c);
}

/* ---- set ---- */

static void test_set(void **state)
{
	(void)state;
	void *c = open_client(&etcd_set_ops);
	reset();
	answer(200, "{\"header\":{}}");
	struct op out = run_op(&etcd_set_ops, c, "add", "17");
	assert_int_equal(out.type, OP_OK);
	op_free(&out);
	char *k = b64("set/17");
	assert_non_null(strstr(req_body(0), k));
	free(k);
	reset();
	char *k1 = b64("set/1"), *k2 = b64("set/20"), body[512];
	snprintf(body, sizeof body, "{\"header\":{},\"kvs\":[{\"key\":\"%s\"},{\"key\":\"%s\"}]}", k1, k2);
	free(k1);
	free(k2);
	answer(200, body);
	out = run_op(&etcd_set_ops, c, "read", NULL);
	assert_int_equal(out.type, OP_OK);
	char *s = json_dumps(out.value, JSON_COMPACT);
	assert_string_equal(s, "[1,20]");
	free(s);
	op_free(&out);
	assert_non_null(strstr(req_body(0), "\"keys_only\":true"));
	etcd_set_ops.close(c);
}

/* ---- lock ---- */

static void test_lock(void **state)
{
	(void)state;
	/* No lease: no lock request, certainly no lock. */
	void *c = open_client(&etcd_lock_ops);
	reset();
	answer(503, "{\"message\":\"etcdserver: request timed out\"}");
	struct op out = run_op(&etcd_lock_ops, c, "acquire", NULL);
	assert_int_equal(out.type, OP_FAIL);
	op_free(&out);
	assert_string_equal(paths[0], "/v3/lease/grant");
	/* A lock request that timed out may be granted later: info. */
	t.op_timeout = 1;
	reset();
	answer(200, "{\"header\":{},\"ID\":\"77\",\"TTL\":\"2\"}");
	answer(-1, "");
	out = run_op(&etcd_lock_ops, c, "acquire", NULL);
	assert_int_equal(out.type, OP_INFO);
	op_free(&out);
	t.op_timeout = 2;
	etcd_lock_ops.close(c);

	/* Granted: the token is the lock key's create revision. */
	c = open_client(&etcd_lock_ops);
	char *key = b64("faultline-lock/4d"), body[512], kv[256];
	reset();
	answer(200, "{\"header\":{},\"ID\":\"77\",\"TTL\":\"2\"}");
	snprintf(body, sizeof body, "{\"header\":{},\"key\":\"%s\"}", key);
	answer(200, body);
	kv_json(kv, sizeof kv, "faultline-lock/4d", "", 42);
	char range[512];
	snprintf(range, sizeof range, "{\"header\":{},\"kvs\":[%s]}", kv);
	answer(200, range);
	out = run_op(&etcd_lock_ops, c, "acquire", NULL);
	assert_int_equal(out.type, OP_OK);
	assert_int_equal(json_integer_value(out.value), 42);
	op_free(&out);
	assert_string_equal(paths[1], "/v3/lock/lock");
	assert_non_null(strstr(req_body(1), "\"lease\":\"77\""));
	/* The fenced write reports the token it replaced. */
	reset();
	answer(200, "{\"header\":{},\"prev_kv\":{\"key\":\"bG9jay1kYXRh\",\"value\":\"NDE=\"}}");
	out = run_op(&etcd_lock_ops, c, "write", "42");
	assert_int_equal(out.type, OP_OK);
	char *s = json_dumps(out.value, JSON_COMPACT);
	assert_string_equal(s, "[42,41]");
	free(s);
	op_free(&out);
	assert_non_null(strstr(req_body(0), "\"prev_kv\":true"));
	/* Release: unlock of the key. A rejected unlock keeps the lock. */
	reset();
	answer(400, "{\"message\":\"bad\"}");
	answer(200, "{\"header\":{}}");
	out = run_op(&etcd_lock_ops, c, "release", "42");
	assert_int_equal(out.type, OP_FAIL);
	op_free(&out);
	out = run_op(&etcd_lock_ops, c, "release", "42");
	assert_int_equal(out.type, OP_OK);
	op_free(&out);
	assert_string_equal(paths[1], "/v3/lock/unlock");
	assert_non_null(strstr(req_body(1), key));

	/* Granted, but the key is gone (the lease expired while waiting):
	 * ok without a token, and no write under it. */
	reset();
	answer(200, "{\"header\":{},\"ID\":\"78\",\"TTL\":\"2\"}");
	answer(200, body);
	answer(200, "{\"header\":{}}");
	out = run_op(&etcd_lock_ops, c, "acquire", NULL);
	assert_int_equal(out.type, OP_OK);
	assert_true(json_is_null(out.value));
	assert_non_null(strstr(out.error, "gone"));
	op_free(&out);
	out = run_op(&etcd_lock_ops, c, "write", NULL);
	assert_int_equal(out.type, OP_FAIL);
	assert_int_equal(n_requests, 3); /* nothing sent */
	op_free(&out);
	free(key);
	etcd_lock_ops.close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_bank),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_lock),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
