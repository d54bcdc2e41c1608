/*
 * test_adapter_custom.c - unit tests of the command-defined databases
 * (src/db/custom.c) and of the config forms that select them and the
 * adapter client: placeholders substituted shell-quoted, db_opts checked
 * (with what each requested fault needs), the scripts that read, signal and
 * kill the pidfile's process run for real by /bin/sh against real
 * processes (a stale pidfile never gets an unrelated process signalled),
 * the "db" object form and --client-exec. Over SSH on a cluster, with Redis
 * as the database, they are tests/integration/adapter.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#undef test_free /* cmocka's allocator macro; ours frees a struct test */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "custom.h"
#include "db.h"
#include "util.h"

static char dir[64];
static char workdir[128];

static void fixture(struct test *t, const char *db, const char *opts_json)
{
	test_init_defaults(t);
	free(t->db);
	t->db = xstrdup(db);
	t->n_nodes = 2;
	t->nodes = xcalloc(2, sizeof *t->nodes);
	for (int i = 0; i < 2; i++) {
		t->nodes[i].name = xasprintf("n%d", i + 1);
		t->nodes[i].host = xasprintf("10.0.0.%d", i + 1);
		t->nodes[i].workdir = xstrdup(workdir);
	}
	json_decref(t->db_opts);
	t->db_opts = json_loads(opts_json, 0, NULL);
	assert_non_null(t->db_opts);
}

static int check(struct test *t, char *err, size_t errlen)
{
	return db_find(t->db)->check(t, t->db_opts, err, errlen);
}

static char *expand(const struct test *t, const char *tmpl, bool quote)
{
	struct buf b;
	buf_init(&b);
	custom_expand(&b, tmpl, t, 1, quote);
	return buf_steal(&b);
}

static void test_expand(void **state)
{
	(void)state;
	struct test t;
	fixture(&t, "custom", "{\"start\": \"x\", \"port\": 6379}");
	char err[300];
	assert_int_equal(check(&t, err, sizeof err), 0);
	char *s = expand(&t, "redis-server --bind {host} --port {port} --dir {workdir}/d "
			 "--name {node} --peers {nodes} --pidfile {pidfile} ${x} {other} {host",
			 true);
	char *want = xasprintf("redis-server --bind '10.0.0.2' --port '6379' --dir '%s/it'\\''s dir'/d "
			       "--name 'n2' --peers '10.0.0.1,10.0.0.2' --pidfile '%s/it'\\''s dir/custom.pid' "
			       "${x} {other} {host", dir, dir);
	assert_string_equal(s, want);
	free(s);
	free(want);
	s = expand(&t, "{workdir}/log", false);
	want = xasprintf("%s/it's dir/log", dir);
	assert_string_equal(s, want);
	free(s);
	free(want);
	test_free(&t);
}

struct bad_opts {
	const char *db, *opts, *nemesis, *error;
};

static const struct bad_opts bad[] = {
	{"custom", "{}", NULL, "db_opts.start: missing"},
	{"custom", "{\"start\": \"\"}", NULL, "db_opts.start: expected a shell command"},
	{"custom", "{\"start\": \"x\", \"bogus\": 1}", NULL, "db_opts.bogus: unknown option"},
	{"custom", "{\"start\": \"x --port {port}\"}", NULL,
	 "db_opts.start: uses {port}, but db_opts.port is not set"},
	{"custom", "{\"start\": \"x\", \"pidfile\": null, \"kill\": \"k {pidfile}\"}", NULL,
	 "db_opts.kill: uses {pidfile}, but there is no pidfile"},
	{"custom", "{\"start\": \"x\", \"setup\": [\"a\", 3]}", NULL, "db_opts.setup[1]: expected a shell command"},
	{"custom", "{\"start\": \"x\", \"logs\": \"a.log\"}", NULL, "db_opts.logs: expected an array"},
	{"custom", "{\"start\": \"x\", \"port\": 70000}", NULL, "db_opts.port"},
	{"custom", "{\"start\": \"x\", \"pidfile\": null}", "kill", "nemesis kill: db custom needs a way"},
	{"custom", "{\"start\": \"x\", \"pidfile\": null}", "slow", "nemesis slow: db custom needs"},
	{"none", "{\"setup\": \"x\"}", NULL, "db_opts.setup: db none runs an already-running service"},
	{"none", "{}", "kill", "nemesis kill: db none needs a way"},
	{"none", "{\"kill\": \"k\"}", "kill", "nemesis kill: db none needs a start command"},
	{"none", "{\"pause\": \"p\"}", "pause", "nemesis pause: db none needs db_opts.pause and db_opts.resume"},
};

static void test_check_opts(void **state)
{
	(void)state;
	char err[300];
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct test t;
		fixture(&t, bad[i].db, bad[i].opts);
		if (bad[i].nemesis) {
			t.nemesis = xcalloc(1, sizeof *t.nemesis);
			t.nemesis[0] = xstrdup(bad[i].nemesis);
			t.n_nemesis = 1;
		}
		err[0] = 0;
		assert_int_equal(check(&t, err, sizeof err), -1);
		print_message("# %s %s -> %s\n", bad[i].db, bad[i].opts, err);
		assert_non_null(strstr(err, bad[i].error));
		test_free(&t);
	}
	/* Defaults are filled in, so test.json records what was used. */
	struct test t;
	fixture(&t, "custom", "{\"start\": \"x\", \"setup\": \"one\"}");
	assert_int_equal(check(&t, err, sizeof err), 0);
	char *got = json_dumps(t.db_opts, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(got, "{\"logs\":[],\"pidfile\":\"{workdir}/custom.pid\",\"setup\":[\"one\"],"
				 "\"setup_timeout\":60.0,\"start\":\"x\",\"timeout\":60.0}");
	free(got);
	test_free(&t);
	/* none with what kill and pause need. */
	fixture(&t, "none", "{\"kill\": \"k\", \"start\": \"s\", \"pidfile\": \"/run/x.pid\"}");
	t.nemesis = xcalloc(3, sizeof *t.nemesis);
	t.nemesis[0] = xstrdup("kill");
	t.nemesis[1] = xstrdup("pause");
	t.nemesis[2] = xstrdup("partition");
	t.n_nemesis = 3;
	assert_int_equal(check(&t, err, sizeof err), 0);
	test_free(&t);
}

/* Run script with /bin/sh; its stdout (trimmed) into out. Returns the
 * exit status. */
static int sh(const char *script, char *out, size_t outlen)
{
	char *path = xasprintf("%s/script.sh", dir);
	assert_int_equal(file_write_all(path, script, strlen(script)), 0);
	char *cmd = xasprintf("sh '%s' 2>/dev/null", path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, outlen - 1, p);
	out[n] = 0;
	while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = 0;
	int st = pclose(p);
	free(cmd);
	free(path);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int run_op(const struct test *t, const char *op, char *out, size_t outlen)
{
	struct buf b;
	buf_init(&b);
	custom_script(&b, t, 0, op);
	int rc = sh(b.data, out, outlen);
	buf_free(&b);
	return rc;
}

static pid_t child_sleeping(void)
{
	pid_t p = fork();
	assert_true(p >= 0);
	if (p == 0) {
		execlp("sleep", "sleep", "60", (char *)NULL);
		_exit(127);
	}
	return p;
}

static char state_of(pid_t p)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)p);
	FILE *f = fopen(path, "r");
	char st = '?';
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "State:", 6))
			sscanf(line + 6, " %c", &st);
	if (f)
		fclose(f);
	return st;
}

static void write_pidfile(long pid)
{
	char *pf = xasprintf("%s/custom.pid", workdir);
	char *s = xasprintf("%ld\n", pid);
	assert_int_equal(file_write_all(pf, s, strlen(s)), 0);
	free(s);
	free(pf);
}

/* The default pid, pause, resume and kill, on a real process. */
static void test_pidfile_defaults(void **state)
{
	(void)state;
	struct test t;
	fixture(&t, "custom", "{\"start\": \"x\"}");
	char err[300], out[256];
	assert_int_equal(check(&t, err, sizeof err), 0);
	char *stamp = xasprintf("%s/custom.pidstamp", workdir);
	unlink(stamp);
	pid_t p = child_sleeping();
	usleep(50000);
	write_pidfile(p);
	assert_int_equal(run_op(&t, "pid", out, sizeof out), 0);
	assert_int_equal(atol(out), p);
	assert_int_equal(run_op(&t, "pause", out, sizeof out), 0);
	usleep(100000);
	assert_int_equal(state_of(p), 'T');
	assert_int_equal(run_op(&t, "resume", out, sizeof out), 0);
	usleep(100000);
	assert_int_not_equal(state_of(p), 'T');

	/* The stamp says this pid belonged to a process that started at
	 * another time: pid reuse. Nothing may be signalled. */
	char *fake = xasprintf("%ld 1\n", (long)p);
	assert_int_equal(file_write_all(stamp, fake, strlen(fake)), 0);
	free(fake);
	assert_int_equal(run_op(&t, "pid", out, sizeof out), 0);
	assert_string_equal(out, "-1");
	assert_int_not_equal(run_op(&t, "pause", out, sizeof out), 0);
	assert_int_equal(run_op(&t, "kill", out, sizeof out), 0); /* not running: nothing to do */
	usleep(50000);
	assert_int_equal(kill(p, 0), 0);
	assert_int_not_equal(state_of(p), 'T');

	/* With the right stamp, kill kills and waits until it is gone. */
	unlink(stamp);
	assert_int_equal(run_op(&t, "pid", out, sizeof out), 0);
	assert_int_equal(atol(out), p);
	assert_int_equal(run_op(&t, "kill", out, sizeof out), 0);
	assert_int_equal(state_of(p), 'Z'); /* dead; our child, so not reaped yet */
	int st;
	assert_int_equal(waitpid(p, &st, 0), p);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	/* A dead pid in the pidfile: not running. */
	assert_int_equal(run_op(&t, "pid", out, sizeof out), 0);
	assert_string_equal(out, "-1");
	write_pidfile(999999999);
	assert_int_equal(run_op(&t, "pid", out, sizeof out), 0);
	assert_string_equal(out, "-1");
	free(stamp);
	test_free(&t);
}

/* A command given replaces the default and sees its placeholders and
 * variables; a failure names the command and its last stderr line. */
static void test_commands(void **state)
{
	(void)state;
	struct test t;
	fixture(&t, "none",
		"{\"kill\": \"echo killed {node} {host} \\\"$FAULTLINE_NODES\\\" >{workdir}/k\", "
		"\"pause\": \"echo not today >&2; exit 3\", \"resume\": \"true\", \"start\": \"true\"}");
	char err[300], out[256];
	assert_int_equal(check(&t, err, sizeof err), 0);
	assert_int_equal(run_op(&t, "kill", out, sizeof out), 0);
	char *k = xasprintf("%s/k", workdir);
	char *text = file_read_all(k, NULL);
	assert_string_equal(text, "killed n1 10.0.0.1 10.0.0.1,10.0.0.2\n");
	free(text);
	unlink(k);
	free(k);
	struct buf b;
	buf_init(&b);
	custom_script(&b, &t, 0, "pause");
	char *path = xasprintf("%s/script.sh", dir);
	assert_int_equal(file_write_all(path, b.data, b.len), 0);
	char *cmd = xasprintf("sh '%s' 2>&1 >/dev/null | tail -n 1", path);
	FILE *p = popen(cmd, "r");
	char line[300] = "";
	assert_non_null(fgets(line, sizeof line, p));
	pclose(p);
	assert_string_equal(line, "db_opts.pause failed (exit 3): not today\n");
	free(cmd);
	free(path);
	buf_free(&b);
	/* none without a pidfile: no pid to report. */
	assert_int_equal(run_op(&t, "pid", out, sizeof out), 0);
	assert_string_equal(out, "-1");
	test_free(&t);
}

/* "db": {"name": ..., options...} is "db" + "db_opts"; --client-exec. */
static void test_config_forms(void **state)
{
	(void)state;
	char *path = xasprintf("%s/c.json", dir);
	const char *cfg = "{\"db\": {\"name\": \"custom\", \"start\": \"redis-server\", \"port\": 7000},"
			  " \"client\": {\"exec\": [\"sh\", \"adapter.sh\"], \"opts\": {\"a\": 1}},"
			  " \"nodes\": [\"10.0.0.1\", \"10.0.0.2\"]}";
	assert_int_equal(file_write_all(path, cfg, strlen(cfg)), 0);
	struct test t;
	struct config_error e;
	test_init_defaults(&t);
	char *argv[] = {path, "--client-exec", "sh other.sh --x", NULL};
	assert_int_equal(config_apply_args(&t, 3, argv, &e), 0);
	assert_int_equal(config_finish(&t, &e), 0);
	assert_string_equal(t.db, "custom");
	assert_string_equal(json_string_value(json_object_get(t.db_opts, "start")), "redis-server");
	assert_int_equal(json_integer_value(json_object_get(t.db_opts, "port")), 7000);
	json_t *ex = json_object_get(t.client, "exec");
	assert_int_equal(json_array_size(ex), 3);
	assert_string_equal(json_string_value(json_array_get(ex, 1)), "other.sh");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(t.client, "opts"), "a")), 1);
	assert_non_null(json_object_get(t.resolved, "client"));
	assert_string_equal(json_string_value(json_object_get(t.resolved, "db")), "custom");
	test_free(&t);

	/* --client-exec none: the db's own client (custom has none). */
	test_init_defaults(&t);
	char *argv2[] = {path, "--client-exec", "none", NULL};
	assert_int_equal(config_apply_args(&t, 3, argv2, &e), 0);
	assert_int_equal(config_finish(&t, &e), -1);
	assert_non_null(strstr(e.msg, "workload: custom cannot run workload 'register'"));
	test_free(&t);

	static const char *const bad_cfgs[][2] = {
		{"{\"db\": {\"start\": \"x\"}}", "db.name: expected a string"},
		{"{\"db\": {\"name\": \"custom\", \"start\": \"x\"}, \"db_opts\": {}}",
		 "not both"},
		{"{\"client\": [\"sh\"]}", "client: expected an object"},
		{"{\"db\": {\"name\": \"custom\", \"start\": \"x\"}, \"nodes\": [\"h\"]}",
		 "workload: custom cannot run"},
	};
	for (size_t i = 0; i < sizeof bad_cfgs / sizeof *bad_cfgs; i++) {
		assert_int_equal(file_write_all(path, bad_cfgs[i][0], strlen(bad_cfgs[i][0])), 0);
		test_init_defaults(&t);
		char *a[] = {path, NULL};
		int r = config_apply_args(&t, 1, a, &e);
		if (r == 0)
			r = config_finish(&t, &e);
		print_message("# %s -> %s\n", bad_cfgs[i][0], e.msg);
		assert_int_equal(r, -1);
		assert_non_null(strstr(e.msg, bad_cfgs[i][1]));
		test_free(&t);
	}
	unlink(path);
	free(path);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/faultline-test-custom-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	/* A workdir that only survives correct quoting. */
	snprintf(workdir, sizeof workdir, "%s/it's dir", dir);
	mkdir_p(workdir, 0755);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_check_opts),
		cmocka_unit_test(test_pidfile_defaults),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_config_forms),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		rc = rc ? rc : 1;
	free(cmd);
	return rc;
}
