/*
 * test_adapter.c - unit tests of the adapter client (src/db/adapter_client.c)
 * against real adapter processes: build/tests/tools/adapterx, an adapter
 * that answers from an in-memory register or misbehaves on request (hangs,
 * exits, crashes, garbage, torn and huge lines, replies on the wrong fd,
 * twice, with another id, forged history lines inside its strings, writes
 * to every inherited fd). Every misbehaviour must complete its op as info
 * and leave the adapter killed; the runner's real workers and history
 * writer must keep exactly two well-formed lines per op whatever the
 * adapters do. The whole path through `faultline run` on a cluster is
 * tests/integration/adapter.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#undef test_free /* cmocka's allocator macro; ours frees a struct test */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapter.h"
#include "client.h"
#include "config.h"
#include "history.h"
#include "runner.h"
#include "util.h"
#include "workload.h"

static char tool[512];
static char dir[64];

static void fixture(struct test *t, double op_timeout)
{
	test_init_defaults(t);
	free(t->db);
	t->db = xstrdup("none");
	t->n_nodes = 3;
	t->nodes = xcalloc(3, sizeof *t->nodes);
	for (int i = 0; i < 3; i++) {
		t->nodes[i].name = xasprintf("n%d", i + 1);
		t->nodes[i].host = xasprintf("127.0.0.%d", i + 1);
		t->nodes[i].ssh_port = 22;
	}
	t->concurrency = 3;
	t->seed = 1;
	t->op_timeout = op_timeout;
	t->client = json_pack("{s:[s], s:{s:s}, s:i, s:f}", "exec", tool, "env", "ADAPTERX_EXTRA",
			      "extra value", "max_line", 1 << 20, "init_timeout", 2.0);
	char err[300];
	assert_int_equal(adapter_check(t, t->client, err, sizeof err), 0);
	unsetenv("ADAPTERX_MODE");
	unsetenv("ADAPTERX_AT");
	unsetenv("ADAPTERX_INIT");
	unsetenv("ADAPTERX_HUGE");
	unsetenv("ADAPTERX_SETUP");
	char *pids = xasprintf("%s/pids", dir);
	unlink(pids);
	setenv("ADAPTERX_PIDS", pids, 1);
	free(pids);
}

static void op_init(struct op *inv, struct op *out, const char *f, json_t *value)
{
	memset(inv, 0, sizeof *inv);
	inv->type = OP_INVOKE;
	inv->process = 7;
	inv->f = xstrdup(f);
	inv->key = xstrdup("3");
	inv->value = value ? value : json_null();
	memset(out, 0, sizeof *out);
	op_copy(out, inv);
}

/* Invoke f on client c; returns the completion (caller frees). */
static struct op invoke(void *c, const char *f, json_t *value)
{
	struct op inv, out;
	op_init(&inv, &out, f, value);
	adapter_client_ops.invoke(c, &inv, &out);
	op_free(&inv);
	return out;
}

/* Every adapter started so far is gone (killed and reaped). */
static void assert_adapters_gone(void)
{
	char *pids = xasprintf("%s/pids", dir);
	FILE *f = fopen(pids, "r");
	assert_non_null(f);
	long pid;
	int n = 0;
	while (fscanf(f, "%ld", &pid) == 1) {
		n++;
		errno = 0;
		assert_int_equal(kill((pid_t)pid, 0), -1);
		assert_int_equal(errno, ESRCH);
	}
	fclose(f);
	assert_true(n > 0);
	free(pids);
}

static void test_roundtrip(void **state)
{
	(void)state;
	struct test t;
	fixture(&t, 2);
	char err[300] = "";
	void *c = adapter_client_ops.open(&t, 1, err, sizeof err);
	assert_non_null(c);
	struct op o = invoke(c, "write", json_integer(3));
	assert_int_equal(o.type, OP_OK);
	assert_int_equal(json_integer_value(o.value), 3); /* no value in the reply: the write's stays */
	assert_null(o.error);
	op_free(&o);
	o = invoke(c, "read", NULL);
	assert_int_equal(o.type, OP_OK);
	assert_int_equal(json_integer_value(o.value), 3);
	op_free(&o);
	o = invoke(c, "cas", json_pack("[ii]", 3, 4));
	assert_int_equal(o.type, OP_OK);
	op_free(&o);
	o = invoke(c, "cas", json_pack("[ii]", 0, 1));
	assert_int_equal(o.type, OP_FAIL);
	op_free(&o);
	adapter_client_ops.close(c);
	assert_adapters_gone();
	test_free(&t);
}

struct bad_case {
	const char *mode;
	const char *error; /* substring of the op's error; "a|b": either */
	int at;            /* the op that misbehaves */
};

static const struct bad_case bad_cases[] = {
	{"hang", "timeout", 1},
	{"exit", "exited with status 3 without a reply", 1},
	{"crash", "killed by signal 15", 1},
	{"garbage", "not a JSON object: this is not JSON", 1},
	{"partial", "in the middle of a line", 1},
	{"huge", "longer than max_line (1048576 bytes)", 1},
	{"hugenl", "longer than max_line", 1},
	{"stderr", "timeout", 1},
	/* Seen by the op after: before its request if the second reply is
	 * there already, else by its id. */
	{"double", "output nobody asked for|reply is for another request (sent id 3): {\"type\":\"ok\",\"id\":2}", 1},
	{"wrongid", "another request", 1},
	{"badtype", "\"invoke\" is not ok, fail or info", 1},
	{"array", "not a JSON object", 1},
	{"closeout", "closed its stdout", 1},
	{"exit", "exited with status 3", 3},
};

static void test_misbehaving(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bad_cases / sizeof *bad_cases; i++) {
		const struct bad_case *bc = &bad_cases[i];
		struct test t;
		fixture(&t, 0.5);
		setenv("ADAPTERX_MODE", bc->mode, 1);
		char at[16];
		snprintf(at, sizeof at, "%d", bc->at);
		setenv("ADAPTERX_AT", at, 1);
		setenv("ADAPTERX_HUGE", "2000000", 1);
		char err[300] = "";
		void *c = adapter_client_ops.open(&t, 0, err, sizeof err);
		assert_non_null(c);
		int64_t t0 = now_ns();
		int n_ok = !strcmp(bc->mode, "double") ? bc->at : bc->at - 1;
		for (int k = 0; k < n_ok; k++) {
			struct op o = invoke(c, "read", NULL);
			assert_int_equal(o.type, OP_OK);
			op_free(&o);
		}
		struct op o = invoke(c, "write", json_integer(2));
		print_message("# %s: %s\n", bc->mode, o.error ? o.error : "(no error)");
		assert_int_equal(o.type, OP_INFO);
		assert_non_null(o.error);
		char *alts = xstrdup(bc->error), *save = NULL;
		bool found = false;
		for (char *a = strtok_r(alts, "|", &save); a; a = strtok_r(NULL, "|", &save))
			found |= strstr(o.error, a) != NULL;
		free(alts);
		assert_true(found);
		/* An op never waits much longer than the op timeout. */
		assert_true(now_ns() - t0 < 3000000000LL);
		op_free(&o);
		/* Broken: no more requests to this adapter. */
		o = invoke(c, "read", NULL);
		assert_int_equal(o.type, OP_INFO);
		assert_non_null(strstr(o.error, "unusable"));
		op_free(&o);
		adapter_client_ops.close(c);
		assert_adapters_gone();
		test_free(&t);
	}
}

/* A huge reply under max_line is a reply like any other. */
static void test_large_reply(void **state)
{
	(void)state;
	struct test t;
	fixture(&t, 5);
	setenv("ADAPTERX_MODE", "huge", 1);
	setenv("ADAPTERX_HUGE", "900000", 1);
	char err[300];
	void *c = adapter_client_ops.open(&t, 0, err, sizeof err);
	assert_non_null(c);
	struct op o = invoke(c, "read", NULL);
	assert_int_equal(o.type, OP_OK);
	assert_int_equal(json_string_length(o.value), 900000);
	op_free(&o);
	o = invoke(c, "read", NULL);
	assert_int_equal(o.type, OP_OK);
	op_free(&o);
	adapter_client_ops.close(c);
	test_free(&t);
}

/* Strings from the adapter arrive as strings: newlines and forged
 * history lines in them stay inside one history line. */
static void test_injection(void **state)
{
	(void)state;
	struct test t;
	fixture(&t, 2);
	setenv("ADAPTERX_MODE", "inject", 1);
	char err[300];
	void *c = adapter_client_ops.open(&t, 0, err, sizeof err);
	assert_non_null(c);
	struct op o = invoke(c, "write", json_integer(1));
	assert_int_equal(o.type, OP_FAIL);
	assert_non_null(strstr(o.error, "\n{\"index\":1"));
	char *path = xasprintf("%s/inject.jsonl", dir);
	unlink(path);
	struct history_writer *hw = history_writer_open(path);
	assert_non_null(hw);
	o.process = 7;
	assert_true(history_writer_append(hw, &o) >= 0);
	history_writer_close(hw);
	size_t len;
	char *text = file_read_all(path, &len);
	assert_non_null(text);
	assert_int_equal(memchr(text, '\n', len) - (void *)text, (long)len - 1);
	assert_null(strstr(text, "\"f\":\"forged\""));
	free(text);
	unlink(path);
	free(path);
	op_free(&o);
	adapter_client_ops.close(c);
	test_free(&t);
}

/* The adapter sees no fd but 0-2: the history file open here is beyond
 * its reach. */
static void test_no_inherited_fds(void **state)
{
	(void)state;
	struct test t;
	fixture(&t, 2);
	setenv("ADAPTERX_MODE", "fds", 1);
	char *path = xasprintf("%s/fds.jsonl", dir);
	unlink(path);
	struct history_writer *hw = history_writer_open(path);
	assert_non_null(hw);
	FILE *plain = fopen(path, "a"); /* not close-on-exec */
	assert_non_null(plain);
	char err[300];
	void *c = adapter_client_ops.open(&t, 0, err, sizeof err);
	assert_non_null(c);
	struct op o = invoke(c, "read", NULL);
	assert_int_equal(o.type, OP_OK);
	assert_true(json_is_array(o.value));
	assert_int_equal(json_array_size(o.value), 0);
	op_free(&o);
	adapter_client_ops.close(c);
	fclose(plain);
	history_writer_close(hw);
	size_t len = 99;
	char *text = file_read_all(path, &len);
	assert_int_equal(len, 0);
	free(text);
	unlink(path);
	free(path);
	test_free(&t);
}

static void test_environment(void **state)
{
	(void)state;
	struct test t;
	fixture(&t, 2);
	setenv("ADAPTERX_MODE", "env", 1);
	setenv("ADAPTERX_SECRET", "hunter2", 1);
	setenv("FAULTLINE_NODE", "stale", 1);
	t.sudo_password_env = xstrdup("ADAPTERX_SECRET");
	json_object_set_new(t.client, "port", json_integer(6379));
	char err[300];
	void *c = adapter_client_ops.open(&t, 1, err, sizeof err);
	assert_non_null(c);
	struct op o = invoke(c, "read", NULL);
	assert_int_equal(o.type, OP_OK);
	json_t *v = o.value;
	assert_string_equal(json_string_value(json_object_get(v, "FAULTLINE_PROTOCOL")), "1");
	assert_string_equal(json_string_value(json_object_get(v, "FAULTLINE_NODE")), "n2");
	assert_string_equal(json_string_value(json_object_get(v, "FAULTLINE_HOST")), "127.0.0.2");
	assert_string_equal(json_string_value(json_object_get(v, "FAULTLINE_NODES")),
			    "127.0.0.1,127.0.0.2,127.0.0.3");
	assert_string_equal(json_string_value(json_object_get(v, "FAULTLINE_NODE_NAMES")), "n1,n2,n3");
	assert_string_equal(json_string_value(json_object_get(v, "FAULTLINE_PORT")), "6379");
	assert_string_equal(json_string_value(json_object_get(v, "FAULTLINE_WORKLOAD")), "register");
	assert_string_equal(json_string_value(json_object_get(v, "FAULTLINE_DB")), "none");
	assert_string_equal(json_string_value(json_object_get(v, "ADAPTERX_EXTRA")), "extra value");
	assert_true(json_is_false(json_object_get(v, "secret_visible")));
	op_free(&o);
	adapter_client_ops.close(c);
	unsetenv("ADAPTERX_SECRET");
	unsetenv("FAULTLINE_NODE");
	test_free(&t);
}

static void test_init_failures(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{"fail", "answered init with \"error\": no database"},
		{"hang", "no init_ok from the adapter in 0.3 s"},
		{"garbage", "not a JSON object: hello"},
		{"proto2", "speaks protocol another version; faultline speaks 1"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct test t;
		fixture(&t, 2);
		json_object_set_new(t.client, "init_timeout", json_real(0.3));
		setenv("ADAPTERX_INIT", cases[i][0], 1);
		char err[300] = "";
		void *c = adapter_client_ops.open(&t, 2, err, sizeof err);
		print_message("# init %s: %s\n", cases[i][0], err);
		assert_null(c);
		assert_non_null(strstr(err, "n3: "));
		assert_non_null(strstr(err, cases[i][1]));
		assert_adapters_gone();
		test_free(&t);
	}
	struct test t;
	fixture(&t, 2);
	json_object_set_new(t.client, "exec", json_pack("[s]", "/nonexistent/adapter"));
	char err[300] = "";
	assert_null(adapter_client_ops.open(&t, 0, err, sizeof err));
	assert_non_null(strstr(err, "cannot start adapter /nonexistent/adapter"));
	test_free(&t);
}

static void test_hooks(void **state)
{
	(void)state;
	struct test t;
	fixture(&t, 2);
	char *hooks = xasprintf("%s/hooks", dir);
	unlink(hooks);
	setenv("ADAPTERX_HOOKS", hooks, 1);
	char err[300] = "";
	assert_int_equal(adapter_client_ops.setup(&t, err, sizeof err), 0);
	assert_int_equal(adapter_client_ops.teardown(&t, err, sizeof err), 0);
	char *text = file_read_all(hooks, NULL);
	assert_string_equal(text, "setup\nteardown\n");
	free(text);
	setenv("ADAPTERX_SETUP", "fail", 1);
	assert_int_equal(adapter_client_ops.setup(&t, err, sizeof err), -1);
	assert_string_equal(err, "adapter setup: answered fail: cannot create the schema");
	assert_adapters_gone();
	unsetenv("ADAPTERX_HOOKS");
	unlink(hooks);
	free(hooks);
	test_free(&t);
}

static long count_lines(const char *path)
{
	char *text = file_read_all(path, NULL);
	long n = 0;
	for (char *p = text; p && *p; p++)
		n += *p == '\n';
	free(text);
	return n;
}

/* Between setup and teardown, adapters wait ready for the workers: open()
 * takes one started before it was called, and teardown leaves none. */
static void test_spares(void **state)
{
	(void)state;
	struct test t;
	fixture(&t, 2);
	t.concurrency = 6; /* 2 per node */
	char *pids = xasprintf("%s/pids", dir);
	char err[300] = "";
	assert_int_equal(adapter_client_ops.setup(&t, err, sizeof err), 0);
	long started = count_lines(pids);
	assert_true(started >= 1 + 6); /* the setup hook's and the spares */
	void *c[6];
	for (int i = 0; i < 6; i++) {
		c[i] = adapter_client_ops.open(&t, i % 3, err, sizeof err);
		assert_non_null(c[i]);
	}
	struct op o = invoke(c[4], "write", json_integer(4));
	assert_int_equal(o.type, OP_OK);
	op_free(&o);
	for (int i = 0; i < 6; i++)
		adapter_client_ops.close(c[i]);
	assert_int_equal(adapter_client_ops.teardown(&t, err, sizeof err), 0);
	assert_adapters_gone();
	free(pids);
	test_free(&t);
}

static void test_check(void **state)
{
	(void)state;
	struct test t;
	fixture(&t, 2);
	char err[300];
	static const char *const bad[][2] = {
		{"{}", "client.exec: missing"},
		{"{\"exec\": []}", "client.exec: expected a non-empty array"},
		{"{\"exec\": [\"no-such-adapter-program\"]}", "client.exec[0]: no-such-adapter-program: not found on PATH"},
		{"{\"exec\": [\"/etc/passwd\"]}", "not an executable file"},
		{"{\"exec\": [\"sh\", 3]}", "client.exec[1]: expected a non-empty string"},
		{"{\"exec\": \"sh x\", \"env\": {\"1X\": \"a\"}}", "client.env.1X"},
		{"{\"exec\": \"sh\", \"max_line\": 10}", "client.max_line"},
		{"{\"exec\": \"sh\", \"port\": 0}", "client.port"},
		{"{\"exec\": \"sh\", \"bogus\": 1}", "client.bogus: unknown key"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		json_t *c = json_loads(bad[i][0], 0, NULL);
		assert_non_null(c);
		assert_int_equal(adapter_check(&t, c, err, sizeof err), -1);
		print_message("# %s -> %s\n", bad[i][0], err);
		assert_non_null(strstr(err, bad[i][1]));
		json_decref(c);
	}
	json_t *c = json_loads("{\"exec\": \"  sh  -c\\t'exit 0' \"}", 0, NULL);
	assert_int_equal(adapter_check(&t, c, err, sizeof err), 0);
	json_t *ex = json_object_get(c, "exec");
	assert_int_equal(json_array_size(ex), 4);
	assert_string_equal(json_string_value(json_array_get(ex, 2)), "'exit");
	assert_int_equal(json_integer_value(json_object_get(c, "max_line")), 16 << 20);
	json_decref(c);
	/* The client a test runs through. */
	assert_ptr_equal(test_client(&t), &adapter_client_ops);
	json_decref(t.client);
	t.client = NULL;
	assert_null(test_client(&t));
	free(t.db);
	t.db = xstrdup("etcd");
	assert_non_null(test_client(&t));
	assert_ptr_not_equal(test_client(&t), &adapter_client_ops);
	test_free(&t);
}

struct hist_check {
	long lines, invokes, completions, info, forged, processes_max;
	json_t *open; /* process -> 1 while an invocation waits */
	json_t *errors;
	bool bad;
};

/* The real worker pool with adapters that misbehave at random: the
 * history keeps two well-formed lines per op, every invocation completed
 * exactly once, nothing forged. */
static void test_runner_history(void **state)
{
	(void)state;
	struct test t;
	fixture(&t, 0.3);
	t.concurrency = 4;
	json_object_set_new(t.client, "max_line", json_integer(65536));
	setenv("ADAPTERX_MODE", "mixed", 1);
	setenv("ADAPTERX_AT", "6", 1);
	setenv("ADAPTERX_HUGE", "100000", 1);
	char *logp = xasprintf("%s/faultline.log", dir);
	log_open(logp);
	struct runner_stats st;
	memset(&st, 0, sizeof st);
	assert_int_equal(runner_run_local(&t, &adapter_client_ops, workload_find("register"), dir, 3,
					  &st),
			 0);
	log_close();
	long ops = (long)(st.ok + st.fail + st.info);
	char *path = xasprintf("%s/history.jsonl", dir);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	struct hist_check h = {.open = json_object(), .errors = json_object()};
	while ((n = getline(&line, &cap, f)) > 0) {
		h.lines++;
		json_t *o = json_loadb(line, (size_t)n, 0, NULL);
		if (!o || !json_is_object(o) || line[n - 1] != '\n') {
			h.bad = true;
			json_decref(o);
			continue;
		}
		assert_int_equal(json_integer_value(json_object_get(o, "index")), h.lines - 1);
		const char *type = json_string_value(json_object_get(o, "type"));
		const char *fn = json_string_value(json_object_get(o, "f"));
		char p[32];
		long long pr = json_integer_value(json_object_get(o, "process"));
		snprintf(p, sizeof p, "%lld", pr);
		h.forged += fn && !strcmp(fn, "forged");
		if (pr > h.processes_max)
			h.processes_max = pr;
		if (!strcmp(type, "invoke")) {
			h.invokes++;
			if (json_object_get(h.open, p))
				h.bad = true;
			json_object_set_new(h.open, p, json_true());
		} else {
			h.completions++;
			if (!json_object_get(h.open, p))
				h.bad = true;
			json_object_del(h.open, p);
			if (!strcmp(type, "info")) {
				h.info++;
				const char *e = json_string_value(json_object_get(o, "error"));
				char kind[24];
				snprintf(kind, sizeof kind, "%.20s", e ? e : "?");
				json_object_set_new(h.errors, kind, json_true());
			}
		}
		json_decref(o);
	}
	free(line);
	fclose(f);
	char *kinds = json_dumps(h.errors, JSON_COMPACT);
	print_message("# %ld ops, %ld lines, %ld info, processes up to %ld; info errors: %s\n", ops,
		      h.lines, h.info, h.processes_max, kinds);
	free(kinds);
	assert_false(h.bad);
	assert_int_equal(h.lines, 2 * ops);
	assert_int_equal(h.invokes, h.completions);
	assert_int_equal(json_object_size(h.open), 0);
	assert_int_equal(h.forged, 0);
	assert_true(h.info >= 5);
	/* Retired processes got fresh adapters. */
	assert_true(h.processes_max >= t.concurrency);
	assert_true(json_object_size(h.errors) >= 3);
	/* stderr went to the log. */
	char *log = file_read_all(logp, NULL);
	assert_non_null(log);
	assert_non_null(strstr(log, ": stderr: adapterx: op 1 done"));
	free(log);
	assert_adapters_gone();
	json_decref(h.open);
	json_decref(h.errors);
	unlink(path);
	unlink(logp);
	free(path);
	free(logp);
	test_free(&t);
}

int main(void)
{
	const char *build = getenv("BUILD");
	char *cwd = getcwd(NULL, 0);
	snprintf(tool, sizeof tool, "%s/%s/tests/tools/adapterx", cwd ? cwd : ".",
		 build && *build ? build : "build");
	free(cwd);
	if (access(tool, X_OK) < 0) {
		printf("not ok 1 - adapterx test adapter built (%s missing: make unit)\n", tool);
		return 1;
	}
	snprintf(dir, sizeof dir, "/tmp/faultline-test-adapter-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_misbehaving),
		cmocka_unit_test(test_large_reply),
		cmocka_unit_test(test_injection),
		cmocka_unit_test(test_no_inherited_fds),
		cmocka_unit_test(test_environment),
		cmocka_unit_test(test_init_failures),
		cmocka_unit_test(test_hooks),
		cmocka_unit_test(test_spares),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_runner_history),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		rc = rc ? rc : 1;
	free(cmd);
	return rc;
}
