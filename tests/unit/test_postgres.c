/*
 * test_postgres.c - unit tests of the PostgreSQL db and clients that need
 * no real server: db_opts validation (src/db/postgres.c), the
 * classification of errors into completions (postgres_conn.c), and the
 * honesty of a transaction's completion (postgres_client.c), against a
 * fake server on 127.0.0.78 speaking just enough of the v3 wire protocol
 * to answer each statement the way a test asks: rows, an error with a
 * given SQLSTATE, no answer, or a closed connection - at a chosen
 * statement. Before COMMIT is sent nothing can commit (fail); at COMMIT
 * only an error that proves an abort is fail, anything uncertain is info;
 * a read-only transaction is never info. Real servers are exercised by
 * tests/integration/postgres.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#undef test_free /* cmocka's allocator macro */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "db.h"
#include "history.h"
#include "postgres.h"
#include "test.h"
#include "util.h"

extern const struct db postgres_db;

#define FAKE_HOST "127.0.0.78"

/* ---- db_opts ---- */

static struct test *opts_test(int n_nodes)
{
	static struct node nodes[3] = {{.name = "n1", .host = FAKE_HOST},
				       {.name = "n2", .host = "127.0.0.79"},
				       {.name = "n3", .host = "127.0.0.80"}};
	struct test *t = calloc(1, sizeof *t);
	t->nodes = nodes;
	t->n_nodes = n_nodes;
	t->concurrency = 2;
	t->op_timeout = 0.5;
	t->db_opts = json_object();
	return t;
}

static void opts_test_free(struct test *t)
{
	json_decref(t->db_opts);
	free(t);
}

static int check(struct test *t, const char *json, char *err)
{
	json_decref(t->db_opts);
	t->db_opts = json_loads(json, 0, NULL);
	assert_non_null(t->db_opts);
	err[0] = 0;
	return postgres_db.check(t, t->db_opts, err, 400);
}

static void test_opts(void **state)
{
	(void)state;
	struct test *t = opts_test(3);
	char err[400];
	assert_int_equal(check(t, "{}", err), 0);
	/* Defaults are written back: test.json records every value used. */
	assert_string_equal(json_string_value(json_object_get(t->db_opts, "isolation")), "serializable");
	assert_string_equal(json_string_value(json_object_get(t->db_opts, "ha")), "none");
	assert_string_equal(json_string_value(json_object_get(t->db_opts, "read_from")), "primary");
	assert_true(json_is_false(json_object_get(t->db_opts, "synchronous")));
	assert_int_equal(json_integer_value(json_object_get(t->db_opts, "port")), 5432);
	struct pg_opts o;
	pg_opts_get(t, &o);
	assert_string_equal(o.isolation, "SERIALIZABLE");
	assert_int_equal(o.ha, PG_HA_NONE);
	assert_false(o.read_replicas);

	assert_int_equal(check(t, "{\"isolation\":\"read-committed\",\"ha\":\"patroni\","
				  "\"read_from\":\"replicas\",\"synchronous\":true}", err), 0);
	pg_opts_get(t, &o);
	assert_string_equal(o.isolation, "READ COMMITTED");
	assert_int_equal(o.ha, PG_HA_PATRONI);
	assert_true(o.read_replicas);
	assert_true(o.synchronous);
	assert_int_equal(check(t, "{\"isolation\":\"repeatable-read\"}", err), 0);
	pg_opts_get(t, &o);
	assert_string_equal(o.isolation, "REPEATABLE READ");

	assert_int_equal(check(t, "{\"isolation\":\"snapshot\"}", err), -1);
	assert_non_null(strstr(err, "db_opts.isolation"));
	assert_non_null(strstr(err, "read-committed|repeatable-read|serializable"));
	assert_int_equal(check(t, "{\"isolation\":3}", err), -1);
	assert_non_null(strstr(err, "db_opts.isolation"));
	assert_int_equal(check(t, "{\"read_mode\":\"serializable\"}", err), -1);
	assert_non_null(strstr(err, "db_opts.read_mode: unknown option"));
	assert_int_equal(check(t, "{\"ha\":\"stolon\"}", err), -1);
	assert_non_null(strstr(err, "db_opts.ha"));
	assert_int_equal(check(t, "{\"port\":70000}", err), -1);
	assert_non_null(strstr(err, "db_opts.port"));
	assert_int_equal(check(t, "{\"ha\":\"patroni\",\"port\":2379}", err), -1);
	assert_non_null(strstr(err, "etcd"));
	assert_int_equal(check(t, "{\"ha\":\"patroni\",\"port\":8008}", err), -1);
	assert_non_null(strstr(err, "patroni_port"));
	assert_int_equal(check(t, "{\"synchronous\":\"yes\"}", err), -1);
	assert_non_null(strstr(err, "db_opts.synchronous"));
	opts_test_free(t);

	t = opts_test(1);
	assert_int_equal(check(t, "{\"read_from\":\"replicas\"}", err), -1);
	assert_string_equal(err, "db_opts.read_from: replicas needs at least 2 nodes (test has 1)");
	assert_int_equal(check(t, "{\"synchronous\":true}", err), -1);
	assert_non_null(strstr(err, "db_opts.synchronous"));
	assert_int_equal(check(t, "{}", err), 0);
	opts_test_free(t);
}

/* The workloads it serves, and only those. */
static void test_clients(void **state)
{
	(void)state;
	assert_ptr_equal(db_find("postgres"), &postgres_db);
	assert_non_null(db_client(&postgres_db, "append"));
	assert_non_null(db_client(&postgres_db, "rw-register"));
	assert_non_null(db_client(&postgres_db, "bank"));
	assert_non_null(db_client(&postgres_db, "set"));
	assert_null(db_client(&postgres_db, "register"));
	assert_null(db_client(&postgres_db, "lock"));
	assert_non_null(postgres_db.preflight);
	assert_non_null(postgres_db.primaries);
}

/* ---- classification ---- */

static void test_classify(void **state)
{
	(void)state;
	/* Before COMMIT was sent, nothing can have committed. */
	const char *any[] = {"40001", "57P01", "08006", "XX000", NULL};
	for (int i = 0; i < 5; i++)
		assert_int_equal(pg_classify(any[i], true), PG_FAIL);
	/* At COMMIT: errors that prove an abort. */
	assert_int_equal(pg_classify("40001", false), PG_FAIL);
	assert_int_equal(pg_classify("40P01", false), PG_FAIL);
	assert_int_equal(pg_classify("23505", false), PG_FAIL);
	assert_int_equal(pg_classify("23503", false), PG_FAIL);
	assert_int_equal(pg_classify("25006", false), PG_FAIL);
	/* ...and everything that may hide a commit. */
	assert_int_equal(pg_classify(NULL, false), PG_INFO);
	assert_int_equal(pg_classify("57P01", false), PG_INFO);
	assert_int_equal(pg_classify("08006", false), PG_INFO);
	assert_int_equal(pg_classify("40003", false), PG_INFO);
	assert_int_equal(pg_classify("57014", false), PG_INFO);
	assert_int_equal(pg_classify("XX000", false), PG_INFO);
	assert_string_equal(pg_sqlstate_name("40001"), "serialization-failure");
	assert_string_equal(pg_sqlstate_name("40P01"), "deadlock");
	assert_string_equal(pg_sqlstate_name("23505"), "unique-violation");
	assert_string_equal(pg_sqlstate_name("23503"), "integrity-violation");
	assert_string_equal(pg_sqlstate_name("25006"), "read-only-transaction");
	assert_string_equal(pg_sqlstate_name("08006"), "connection-exception");
	assert_null(pg_sqlstate_name("XX000"));
	assert_null(pg_sqlstate_name(NULL));
}

/* ---- a fake server ---- */

enum act { A_OK, A_ERROR, A_HANG, A_CLOSE, A_ROLLBACK_TAG };

static struct {
	atomic_int act;          /* what to do at the trigger statement */
	char trigger[32];        /* statement prefix ("COMMIT", "INSERT", "SELECT") */
	char sqlstate[6];
	atomic_bool standby;
	pthread_mutex_t lock;
	char log[4096];          /* every statement, one per line */
} fake = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int listen_fd = -1, port;
static pthread_t server_thread;
static atomic_bool server_stop;

static int read_full(int fd, void *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)p + got, n - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static void put32(struct buf *b, uint32_t v)
{
	uint32_t n = htonl(v);
	buf_append(b, &n, 4);
}

static void put16(struct buf *b, uint16_t v)
{
	uint16_t n = htons(v);
	buf_append(b, &n, 2);
}

/* One message: type, length, body. */
static void msg(struct buf *out, char type, const void *body, size_t n)
{
	buf_append(out, &type, 1);
	put32(out, (uint32_t)n + 4);
	if (n)
		buf_append(out, body, n);
}

static void param_status(struct buf *out, const char *k, const char *v)
{
	struct buf b;
	buf_init(&b);
	buf_append(&b, k, strlen(k) + 1);
	buf_append(&b, v, strlen(v) + 1);
	msg(out, 'S', b.data, b.len);
	buf_free(&b);
}

static void send_buf(int fd, struct buf *b)
{
	if (b->len && write(fd, b->data, b->len) < 0)
		return;
	b->len = 0;
}

static void ready(struct buf *out, char status) { msg(out, 'Z', &status, 1); }

static void error_response(struct buf *out, const char *state)
{
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "SERROR");
	buf_append(&b, "", 1);
	buf_printf(&b, "C%s", state);
	buf_append(&b, "", 1);
	buf_puts(&b, "Mfake error");
	buf_append(&b, "", 1);
	buf_append(&b, "", 1);
	msg(out, 'E', b.data, b.len);
	buf_free(&b);
}

/* The answer to one statement (at its Sync). Returns -1 to close. */
static int answer(int fd, const char *sql, char *txn)
{
	struct buf out;
	buf_init(&out);
	pthread_mutex_lock(&fake.lock);
	size_t l = strlen(fake.log);
	snprintf(fake.log + l, sizeof fake.log - l, "%s\n", sql);
	bool hit = fake.trigger[0] && !strncmp(sql, fake.trigger, strlen(fake.trigger));
	char state[6];
	memcpy(state, fake.sqlstate, sizeof state);
	pthread_mutex_unlock(&fake.lock);
	int act = hit ? atomic_load(&fake.act) : A_OK;
	if (act == A_HANG) {
		buf_free(&out);
		return 0;
	}
	if (act == A_CLOSE) {
		buf_free(&out);
		return -1;
	}
	msg(&out, '1', NULL, 0);
	msg(&out, '2', NULL, 0);
	if (act == A_ERROR) {
		error_response(&out, state);
		if (*txn == 'T')
			*txn = 'E';
	} else if (!strncmp(sql, "SELECT", 6)) {
		struct buf b;
		buf_init(&b);
		put16(&b, 1);
		buf_append(&b, "val", 4);
		put32(&b, 0);  /* table oid */
		put16(&b, 0);  /* column */
		put32(&b, 25); /* text */
		put16(&b, (uint16_t)-1);
		put32(&b, (uint32_t)-1);
		put16(&b, 0);  /* text format */
		msg(&out, 'T', b.data, b.len);
		b.len = 0;
		put16(&b, 1);
		put32(&b, 3);
		buf_append(&b, "1,2", 3);
		msg(&out, 'D', b.data, b.len);
		buf_free(&b);
		msg(&out, 'C', "SELECT 1", 9);
	} else {
		const char *tag = !strncmp(sql, "BEGIN", 5)	   ? "BEGIN"
				  : !strncmp(sql, "COMMIT", 6)	   ? (act == A_ROLLBACK_TAG ? "ROLLBACK" : "COMMIT")
				  : !strncmp(sql, "ROLLBACK", 8) ? "ROLLBACK"
								   : "INSERT 0 1";
		msg(&out, 'n', NULL, 0);
		msg(&out, 'C', tag, strlen(tag) + 1);
		if (!strcmp(tag, "BEGIN"))
			*txn = 'T';
		else if (!strncmp(sql, "COMMIT", 6) || !strncmp(sql, "ROLLBACK", 8))
			*txn = 'I';
	}
	ready(&out, *txn);
	send_buf(fd, &out);
	buf_free(&out);
	return 0;
}

static void serve(int fd)
{
	/* SSLRequest (sslmode=prefer) or the startup message. */
	for (;;) {
		uint32_t len, code;
		if (read_full(fd, &len, 4) < 0 || read_full(fd, &code, 4) < 0)
			return;
		len = ntohl(len), code = ntohl(code);
		if (code == 80877103) { /* SSLRequest */
			if (write(fd, "N", 1) < 0)
				return;
			continue;
		}
		char skip[1024];
		if (len < 8 || len - 8 > sizeof skip || read_full(fd, skip, len - 8) < 0)
			return;
		break;
	}
	struct buf out;
	buf_init(&out);
	struct buf b;
	buf_init(&b);
	put32(&b, 0);
	msg(&out, 'R', b.data, b.len);
	buf_free(&b);
	param_status(&out, "server_version", "15.0");
	param_status(&out, "client_encoding", "UTF8");
	param_status(&out, "standard_conforming_strings", "on");
	param_status(&out, "in_hot_standby", atomic_load(&fake.standby) ? "on" : "off");
	char key[8] = {0, 0, 0, 1, 0, 0, 0, 2};
	msg(&out, 'K', key, 8);
	ready(&out, 'I');
	send_buf(fd, &out);
	buf_free(&out);
	char sql[1024] = "", txn = 'I';
	for (;;) {
		char type;
		uint32_t len;
		if (read_full(fd, &type, 1) < 0 || read_full(fd, &len, 4) < 0)
			return;
		len = ntohl(len);
		if (len < 4 || len > 65536)
			return;
		char *body = malloc(len - 4 + 1);
		if (read_full(fd, body, len - 4) < 0) {
			free(body);
			return;
		}
		body[len - 4] = 0;
		if (type == 'P') /* Parse: name\0 query\0 ... */
			snprintf(sql, sizeof sql, "%s", body + strlen(body) + 1);
		free(body);
		if (type == 'X')
			return;
		if (type == 'S' && answer(fd, sql, &txn) < 0)
			return;
	}
}

static void *server_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&server_stop)) {
		struct pollfd p = {.fd = listen_fd, .events = POLLIN};
		if (poll(&p, 1, 50) <= 0)
			continue;
		int fd = accept(listen_fd, NULL, NULL);
		if (fd < 0)
			continue;
		serve(fd);
		close(fd);
	}
	return NULL;
}

static int server_up(void **state)
{
	(void)state;
	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET};
	inet_pton(AF_INET, FAKE_HOST, &a.sin_addr);
	if (bind(listen_fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(listen_fd, 8) < 0)
		return -1;
	socklen_t al = sizeof a;
	getsockname(listen_fd, (struct sockaddr *)&a, &al);
	port = ntohs(a.sin_port);
	pthread_create(&server_thread, NULL, server_main, NULL);
	return 0;
}

static int server_down(void **state)
{
	(void)state;
	atomic_store(&server_stop, true);
	pthread_join(server_thread, NULL);
	close(listen_fd);
	return 0;
}

static void fake_set(int act, const char *trigger, const char *state)
{
	pthread_mutex_lock(&fake.lock);
	atomic_store(&fake.act, act);
	snprintf(fake.trigger, sizeof fake.trigger, "%s", trigger ? trigger : "");
	snprintf(fake.sqlstate, sizeof fake.sqlstate, "%s", state ? state : "00000");
	fake.log[0] = 0;
	pthread_mutex_unlock(&fake.lock);
}

static bool fake_saw(const char *line)
{
	pthread_mutex_lock(&fake.lock);
	bool found = strstr(fake.log, line) != NULL;
	pthread_mutex_unlock(&fake.lock);
	return found;
}

/* Run one op of the append client against the fake server (one node). */
static enum op_type run_txn(const char *value, struct op *out)
{
	struct test *t = opts_test(1);
	char err[400];
	char opts[80];
	snprintf(opts, sizeof opts, "{\"port\":%d}", port);
	assert_int_equal(check(t, opts, err), 0);
	const struct client_ops *ops = db_client(&postgres_db, "append");
	void *c = ops->open(t, 0, err, sizeof err);
	assert_non_null(c);
	struct op inv;
	memset(&inv, 0, sizeof inv);
	inv.type = OP_INVOKE;
	inv.f = xstrdup("txn");
	inv.value = json_loads(value, 0, NULL);
	op_copy(out, &inv);
	ops->invoke(c, &inv, out);
	ops->close(c);
	op_free(&inv);
	opts_test_free(t);
	return out->type;
}

static const char *const write_txn = "[[\"append\",1,5],[\"r\",1,null]]";
static const char *const read_txn = "[[\"r\",1,null],[\"r\",2,null]]";

static void expect(int act, const char *trigger, const char *state, const char *value,
		   enum op_type want, const char *err_has)
{
	fake_set(act, trigger, state);
	struct op out;
	enum op_type got = run_txn(value, &out);
	if (got != want)
		fail_msg("%s at %s (%s): got %s (%s), want %s", act == A_HANG ? "hang" : act == A_CLOSE ? "close" : "error",
			 trigger ? trigger : "-", state ? state : "-", op_type_name(got),
			 out.error ? out.error : "", op_type_name(want));
	if (err_has) {
		assert_non_null(out.error);
		if (!strstr(out.error, err_has))
			fail_msg("error '%s' lacks '%s'", out.error, err_has);
	}
	op_free(&out);
}

static void test_txn_ok(void **state)
{
	(void)state;
	fake_set(A_OK, NULL, NULL);
	struct op out;
	assert_int_equal(run_txn(write_txn, &out), OP_OK);
	/* Reads filled in; the serving node recorded. */
	char *v = json_dumps(out.value, JSON_COMPACT);
	assert_string_equal(v, "[[\"append\",1,5],[\"r\",1,[1,2]]]");
	free(v);
	assert_string_equal(json_string_value(json_object_get(out.extra, "server")), "n1");
	assert_true(fake_saw("BEGIN ISOLATION LEVEL SERIALIZABLE\n"));
	assert_true(fake_saw("INSERT INTO txn1 AS t (id, val) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE"));
	assert_true(fake_saw("SELECT val FROM txn1 WHERE id = $1\n"));
	assert_true(fake_saw("COMMIT\n"));
	op_free(&out);
}

static void test_txn_before_commit(void **state)
{
	(void)state;
	/* Nothing can commit before COMMIT is sent: always fail. */
	expect(A_ERROR, "INSERT", "40001", write_txn, OP_FAIL, "serialization-failure");
	assert_true(fake_saw("ROLLBACK\n"));
	assert_false(fake_saw("COMMIT\n"));
	expect(A_ERROR, "INSERT", "40P01", write_txn, OP_FAIL, "deadlock");
	expect(A_ERROR, "INSERT", "25006", write_txn, OP_FAIL, "read-only-transaction");
	expect(A_ERROR, "BEGIN", "57P03", write_txn, OP_FAIL, "cannot-connect-now");
	expect(A_CLOSE, "INSERT", NULL, write_txn, OP_FAIL, "connection lost");
	expect(A_HANG, "SELECT", NULL, write_txn, OP_FAIL, "timeout");
	assert_false(fake_saw("COMMIT\n"));
}

static void test_txn_at_commit(void **state)
{
	(void)state;
	/* Errors proving an abort: fail. */
	expect(A_ERROR, "COMMIT", "40001", write_txn, OP_FAIL, "serialization-failure");
	expect(A_ERROR, "COMMIT", "23505", write_txn, OP_FAIL, "unique-violation");
	expect(A_ROLLBACK_TAG, "COMMIT", NULL, write_txn, OP_FAIL, "rolled");
	/* Anything uncertain: info. */
	expect(A_HANG, "COMMIT", NULL, write_txn, OP_INFO, "timeout during COMMIT");
	expect(A_CLOSE, "COMMIT", NULL, write_txn, OP_INFO, "during COMMIT");
	expect(A_ERROR, "COMMIT", "57P01", write_txn, OP_INFO, "admin-shutdown");
	expect(A_ERROR, "COMMIT", "XX000", write_txn, OP_INFO, "SQLSTATE XX000");
	/* A read-only transaction changed nothing: never info. */
	expect(A_HANG, "COMMIT", NULL, read_txn, OP_FAIL, "timeout");
	expect(A_CLOSE, "COMMIT", NULL, read_txn, OP_FAIL, NULL);
	expect(A_OK, NULL, NULL, read_txn, OP_OK, NULL);
}

static void test_no_primary(void **state)
{
	(void)state;
	/* A standby is not a primary: nothing is sent, fail. */
	atomic_store(&fake.standby, true);
	expect(A_OK, NULL, NULL, write_txn, OP_FAIL, "no primary reachable (n1: standby)");
	assert_false(fake_saw("BEGIN"));
	atomic_store(&fake.standby, false);
	/* A refused connection: fail. */
	int saved = port;
	port = 1;
	expect(A_OK, NULL, NULL, write_txn, OP_FAIL, "no primary reachable (n1: ");
	port = saved;
}

/* What every database's pid() reads from its node script (db_pid_of). */
static void test_pid_of(void **state)
{
	(void)state;
	assert_int_equal(db_pid_of("4242\n"), 4242);
	assert_int_equal(db_pid_of("17 \n\n"), 17);
	assert_int_equal(db_pid_of(""), -1);
	assert_int_equal(db_pid_of("\n"), -1);
	assert_int_equal(db_pid_of("0\n"), -1);
	assert_int_equal(db_pid_of("12 13\n"), -1);
	assert_int_equal(db_pid_of("99999999999999999999999999\n"), -1);
}

static void test_bad_ops(void **state)
{
	(void)state;
	expect(A_OK, NULL, NULL, "[[\"append\",\"x\",1]]", OP_FAIL, "key is not an integer");
	expect(A_OK, NULL, NULL, "[[\"cas\",1,1]]", OP_FAIL, "unknown function");
	expect(A_OK, NULL, NULL, "[[\"append\",1]]", OP_FAIL, "expected [f, key, value]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opts),
		cmocka_unit_test(test_clients),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_txn_ok),
		cmocka_unit_test(test_txn_before_commit),
		cmocka_unit_test(test_txn_at_commit),
		cmocka_unit_test(test_no_primary),
		cmocka_unit_test(test_bad_ops),
		cmocka_unit_test(test_pid_of),
	};
	return cmocka_run_group_tests(tests, server_up, server_down);
}
