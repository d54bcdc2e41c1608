/*
 * test_etcd_client.c - unit tests for the honesty of the etcd client's
 * completions (src/db/etcd_client.c), against a fake v3 gateway on
 * 127.0.0.77:2379 that answers each request the way a test asks: a value,
 * a missing key, a txn whose compare failed, a 4xx, a 5xx, a reply that
 * never comes, a connection closed mid-request, a refused connection on a
 * fresh and on a kept-alive handle. Only an answer proving the op did not
 * happen may give fail; anything uncertain must give info. The real
 * gateway is exercised end to end by tests/integration/run.sh.
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
#include "history.h"
#include "util.h"

#define FAKE_HOST "127.0.0.77"

enum mode { M_VALUE, M_EMPTY, M_TXN_FALSE, M_TXN_TRUE, M_PUT_OK, M_CLOSE, M_503, M_400, M_HANG };

static atomic_int mode;
static char last_body[4096];
static pthread_mutex_t body_lock = PTHREAD_MUTEX_INITIALIZER;
static int listen_fd = -1;
static pthread_t server_thread;
static atomic_bool server_stop;
static atomic_int conn_fds[64];
static atomic_int n_conns;

static void send_json(int fd, int code, const char *body)
{
	char hdr[256];
	int n = snprintf(hdr, sizeof hdr,
			 "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
			 code, strlen(body));
	if (write(fd, hdr, (size_t)n) < 0 || write(fd, body, strlen(body)) < 0)
		return;
}

/* Read one request; returns 0, or -1 when the peer closed. */
static int read_request(int fd)
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
	pthread_mutex_lock(&body_lock);
	snprintf(last_body, sizeof last_body, "%s", end + 4);
	pthread_mutex_unlock(&body_lock);
	return 0;
}

static void *conn_main(void *arg)
{
	int fd = (int)(intptr_t)arg;
	while (read_request(fd) == 0) {
		switch (atomic_load(&mode)) {
		case M_VALUE: send_json(fd, 200, "{\"header\":{},\"kvs\":[{\"key\":\"Nw==\",\"value\":\"Mw==\"}],\"count\":\"1\"}"); break;
		case M_EMPTY: send_json(fd, 200, "{\"header\":{\"revision\":\"5\"}}"); break;
		case M_TXN_FALSE: send_json(fd, 200, "{\"header\":{\"revision\":\"5\"}}"); break;
		case M_TXN_TRUE: send_json(fd, 200, "{\"header\":{},\"succeeded\":true,\"responses\":[{}]}"); break;
		case M_PUT_OK: send_json(fd, 200, "{\"header\":{\"revision\":\"6\"}}"); break;
		case M_503: send_json(fd, 503, "{\"error\":\"etcdserver: request timed out\",\"code\":14,\"message\":\"etcdserver: request timed out\"}"); break;
		case M_400: send_json(fd, 400, "{\"error\":\"bad\",\"code\":3,\"message\":\"etcdserver: key is not provided\"}"); break;
		case M_CLOSE: shutdown(fd, SHUT_RDWR); close(fd); return NULL;
		case M_HANG: sleep(2); send_json(fd, 200, "{\"header\":{}}"); break;
		}
	}
	close(fd);
	return NULL;
}

static void *server_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&server_stop)) {
		int fd = accept(listen_fd, NULL, NULL);
		if (fd < 0)
			break;
		int i = atomic_fetch_add(&n_conns, 1);
		if (i < 64)
			atomic_store(&conn_fds[i], fd);
		pthread_t th;
		pthread_create(&th, NULL, conn_main, (void *)(intptr_t)fd);
		pthread_detach(th);
	}
	return NULL;
}

static int server_start(void)
{
	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(2379)};
	inet_pton(AF_INET, FAKE_HOST, &a.sin_addr);
	if (bind(listen_fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(listen_fd, 16) < 0) {
		close(listen_fd);
		return -1;
	}
	atomic_store(&server_stop, false);
	atomic_store(&n_conns, 0);
	pthread_create(&server_thread, NULL, server_main, NULL);
	return 0;
}

/* Stop listening and drop every open connection: "the node died". */
static void server_kill(void)
{
	atomic_store(&server_stop, true);
	shutdown(listen_fd, SHUT_RDWR);
	close(listen_fd);
	pthread_join(server_thread, NULL);
	int n = atomic_load(&n_conns);
	for (int i = 0; i < n && i < 64; i++)
		shutdown(atomic_load(&conn_fds[i]), SHUT_RDWR);
	usleep(50000);
}

extern const struct client_ops etcd_client_ops;
static struct test t;

static int group_setup(void **state)
{
	(void)state;
	test_init_defaults(&t);
	t.nodes = xcalloc(1, sizeof *t.nodes);
	t.nodes[0].name = xstrdup("n1");
	t.nodes[0].host = xstrdup(FAKE_HOST);
	t.n_nodes = 1;
	t.op_timeout = 0.5;
	return server_start();
}

static int group_teardown(void **state)
{
	(void)state;
	test_free(&t);
	return 0;
}

/* Run one op; returns the completion (caller op_frees). */
static struct op run_op(void *c, const char *f, json_t *value)
{
	struct op inv = {0};
	inv.type = OP_INVOKE, inv.process = 0, inv.f = xstrdup(f), inv.key = xstrdup("7");
	inv.value = value ? value : json_null();
	struct op out;
	op_copy(&out, &inv);
	etcd_client_ops.invoke(c, &inv, &out);
	op_free(&inv);
	return out;
}

static void *open_client(void)
{
	char err[256];
	void *c = etcd_client_ops.open(&t, 0, err, sizeof err);
	assert_non_null(c);
	return c;
}

static void expect(void *c, enum mode m, const char *f, json_t *v, enum op_type type)
{
	atomic_store(&mode, m);
	struct op out = run_op(c, f, v);
	if (out.type != type)
		fail_msg("%s in mode %d: got %s (%s), want %s", f, m, op_type_name(out.type),
			 out.error ? out.error : "", op_type_name(type));
	op_free(&out);
}

static void test_answers(void **state)
{
	(void)state;
	void *c = open_client();
	atomic_store(&mode, M_VALUE);
	struct op out = run_op(c, "read", NULL);
	assert_int_equal(out.type, OP_OK);
	assert_int_equal(json_integer_value(out.value), 3);
	op_free(&out);
	pthread_mutex_lock(&body_lock);
	assert_string_equal(last_body, "{\"key\":\"Nw==\"}"); /* "7", linearizable read */
	pthread_mutex_unlock(&body_lock);

	atomic_store(&mode, M_EMPTY);
	out = run_op(c, "read", NULL);
	assert_int_equal(out.type, OP_OK);
	assert_true(json_is_null(out.value));
	op_free(&out);

	expect(c, M_PUT_OK, "write", json_integer(4), OP_OK);
	pthread_mutex_lock(&body_lock);
	assert_string_equal(last_body, "{\"key\":\"Nw==\",\"value\":\"NA==\"}");
	pthread_mutex_unlock(&body_lock);
	expect(c, M_TXN_TRUE, "cas", json_pack("[ii]", 1, 2), OP_OK);
	pthread_mutex_lock(&body_lock);
	assert_non_null(strstr(last_body, "\"target\":\"VALUE\",\"result\":\"EQUAL\",\"value\":\"MQ==\""));
	assert_non_null(strstr(last_body, "\"request_put\":{\"key\":\"Nw==\",\"value\":\"Mg==\"}"));
	pthread_mutex_unlock(&body_lock);
	/* proto3 JSON omits succeeded=false: the compare failed, certainly. */
	expect(c, M_TXN_FALSE, "cas", json_pack("[ii]", 1, 2), OP_FAIL);
	/* A request the gateway rejected was never proposed. */
	expect(c, M_400, "write", json_integer(1), OP_FAIL);
	/* 5xx, a dropped connection, no reply: may have happened. */
	expect(c, M_503, "write", json_integer(1), OP_INFO);
	expect(c, M_503, "cas", json_pack("[ii]", 0, 1), OP_INFO);
	expect(c, M_CLOSE, "write", json_integer(1), OP_INFO);
	expect(c, M_CLOSE, "cas", json_pack("[ii]", 0, 1), OP_INFO);
	expect(c, M_HANG, "write", json_integer(1), OP_INFO);
	/* Reads change nothing: an error is a fail, a timeout stays info. */
	expect(c, M_503, "read", NULL, OP_FAIL);
	expect(c, M_CLOSE, "read", NULL, OP_FAIL);
	expect(c, M_HANG, "read", NULL, OP_INFO);
	etcd_client_ops.close(c);
}

static void test_serializable_reads(void **state)
{
	(void)state;
	json_object_set_new(t.db_opts, "read_mode", json_string("serializable"));
	void *c = open_client();
	expect(c, M_VALUE, "read", NULL, OP_OK);
	pthread_mutex_lock(&body_lock);
	assert_string_equal(last_body, "{\"key\":\"Nw==\",\"serializable\":true}");
	pthread_mutex_unlock(&body_lock);
	etcd_client_ops.close(c);
	json_object_set_new(t.db_opts, "read_mode", json_string("linearizable"));
}

/* Last: kills the fake server. A kept-alive handle may have sent the
 * request before the node died (libcurl retries on a fresh connection
 * without telling), so "refused" there is info; a fresh handle's refused
 * connection never carried anything: fail. */
static void test_refused(void **state)
{
	(void)state;
	void *warm = open_client();
	expect(warm, M_PUT_OK, "write", json_integer(1), OP_OK);
	server_kill();
	expect(warm, M_PUT_OK, "write", json_integer(2), OP_INFO);
	void *cold = open_client();
	expect(cold, M_PUT_OK, "write", json_integer(3), OP_FAIL);
	expect(cold, M_PUT_OK, "cas", json_pack("[ii]", 1, 3), OP_FAIL);
	etcd_client_ops.close(warm);
	etcd_client_ops.close(cold);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_serializable_reads),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
