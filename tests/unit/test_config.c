/*
 * test_config.c - unit tests for the test config: JSON config + flags ->
 * resolved test. Every rejection names the key path (and the file), flags
 * override the file, "Nn" concurrency multiplies by the node count, and no
 * secret ever reaches the resolved JSON (test.json).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#undef test_free /* cmocka's allocator macro; ours frees a struct test */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "nemesis.h"
#include "util.h"

static char dir[64];

static char *write_cfg(const char *name, const char *json)
{
	if (!dir[0]) {
		strcpy(dir, "/tmp/fl-test-cfg-XXXXXX");
		assert_non_null(mkdtemp(dir));
	}
	char *p = xasprintf("%s/%s", dir, name);
	assert_int_equal(file_write_all(p, json, strlen(json)), 0);
	return p;
}

/* Load json (as a file) then flags, then finish. Returns 0/-1, err. */
static int resolve(struct test *t, const char *json, const char *const *flags,
		   struct config_error *err)
{
	test_init_defaults(t);
	char *argv[32];
	int argc = 0;
	char *path = NULL;
	if (json) {
		path = write_cfg("cfg.json", json);
		argv[argc++] = path;
	}
	for (int i = 0; flags && flags[i]; i++)
		argv[argc++] = (char *)flags[i];
	int r = config_apply_args(t, argc, argv, err);
	if (r == 0)
		r = config_finish(t, err);
	free(path);
	return r;
}

static void expect_error(const char *json, const char *const *flags, const char *want)
{
	struct test t;
	struct config_error err = {{0}};
	int r = resolve(&t, json, flags, &err);
	if (r == 0 || !strstr(err.msg, want))
		fail_msg("want error containing \"%s\", got %d \"%s\"", want, r, err.msg);
	test_free(&t);
}

static void test_rejections_name_the_key(void **state)
{
	(void)state;
	const char *nodes = "\"nodes\":[\"10.0.0.1\",\"10.0.0.2\",\"10.0.0.3\"]";
	char buf[512];
	expect_error("{\"nodes\":[\"10.0.0.1\"], \"time_limt\": 5}", NULL, "cfg.json: time_limt: unknown key");
	snprintf(buf, sizeof buf, "{%s, \"time_limit\":\"20\"}", nodes);
	expect_error(buf, NULL, "cfg.json: time_limit: expected a number");
	snprintf(buf, sizeof buf, "{%s, \"test_count\":1.5}", nodes);
	expect_error(buf, NULL, "test_count: expected an integer");
	snprintf(buf, sizeof buf, "{%s, \"ssh_accept_new\":\"yes\"}", nodes);
	expect_error(buf, NULL, "ssh_accept_new: expected true or false");
	expect_error("{\"nodes\":[\"10.0.0.1\", {\"host\": 7}]}", NULL, "nodes[1].host: expected a string");
	expect_error("{\"nodes\":[\"10.0.0.1\", {\"name\":\"n9\"}]}", NULL, "nodes[1].host: missing");
	expect_error("{\"nodes\":[{\"host\":\"a\",\"port\":22}]}", NULL, "nodes[0]: unknown key 'port'");
	expect_error("{\"nodes\":[\"10.0.0.1\",\"10.0.0.2\",\"10.0.0.1\"]}", NULL,
		     "nodes[2]: duplicate host 10.0.0.1");
	expect_error("{\"nodes\":[\"a=10.0.0.1\",\"a=10.0.0.2\"]}", NULL, "nodes[1]: duplicate node name a");
	expect_error("{\"nodes\":[]}", NULL, "nodes: empty");
	expect_error("{\"nodes\":[\"../etc=10.0.0.1\"]}", NULL, "nodes[0]: bad node name");
	expect_error("{\"nodes\":[\"h;rm -rf /\"]}", NULL, "nodes[0]: bad host");
	snprintf(buf, sizeof buf, "{%s, \"concurrency\":\"3x\"}", nodes);
	expect_error(buf, NULL, "concurrency: expected N or Nn");
	snprintf(buf, sizeof buf, "{%s, \"read_mode\":\"stale\"}", nodes);
	expect_error(buf, NULL, "read_mode: expected one of linearizable|serializable");
	snprintf(buf, sizeof buf, "{%s, \"workload\":\"nope\"}", nodes);
	expect_error(buf, NULL, "workload: unknown workload 'nope'");
	snprintf(buf, sizeof buf, "{%s, \"nemesis\":[\"partition\",\"bogus\"]}", nodes);
	expect_error(buf, NULL, "nemesis[1]: unknown fault 'bogus'");
	snprintf(buf, sizeof buf, "{%s, \"sudo_password\":\"hunter2\"}", nodes);
	expect_error(buf, NULL, "sudo_password: secrets are not accepted");
	expect_error("[1,2]", NULL, "expected a JSON object");
	expect_error("{\"nodes\":[\"a\"],", NULL, "cfg.json:1:");
	expect_error("{\"seed\":1, \"seed\":2}", NULL, "duplicate");

	const char *f1[] = {"--nodes", "a,b", "--time-limit", "-3", NULL};
	expect_error(NULL, f1, "--time-limit: expected a number");
	const char *f2[] = {"--nodes", "a,b", "--bogus", NULL};
	expect_error(NULL, f2, "unknown option '--bogus'");
	const char *f3[] = {"--nodes", "a,b", "--concurrency", NULL};
	expect_error(NULL, f3, "--concurrency: missing value");
	const char *f4[] = {"--nodes", "a,b", "--cluster", "t-x", NULL};
	expect_error(NULL, f4, "cluster: give either nodes or a cluster");
	const char *f5[] = {"--nodes", "a,b:99999", NULL};
	expect_error(NULL, f5, "--nodes[1]: bad port");
	const char *f6[] = {"--nodes", "a,b", "--sudo-password-env", "FL_TEST_UNSET_VAR", NULL};
	unsetenv("FL_TEST_UNSET_VAR");
	expect_error(NULL, f6, "sudo_password_env: environment variable FL_TEST_UNSET_VAR is not set");
	const char *f7[] = {"--nodes", "a,b", "--name", "latest", NULL};
	expect_error(NULL, f7, "name: 'latest'");

	/* Issue 13's nits: each was accepted (or misreported) before. */
	const char *n1[] = {"--nodes", "a,b", "--tim-limit", "3", NULL};
	expect_error(NULL, n1, "unknown option '--tim-limit'"); /* not "3: unable to open 3" */
	const char *n2[] = {"--nodes", "a,b", "--nemesis", ",,", NULL};
	expect_error(NULL, n2, "--nemesis: empty item");
	const char *n3[] = {"--nodes", "a,,b", NULL};
	expect_error(NULL, n3, "--nodes: empty item in 'a,,b'");
	const char *n4[] = {"--nodes", "a,b", "--nemesis", "", NULL};
	expect_error(NULL, n4, "--nemesis: empty item");
	const char *n5[] = {"--nodes", "a,b", "--time-limit", "0x10", NULL};
	expect_error(NULL, n5, "--time-limit: expected a number");
	const char *n6[] = {"--nodes", "a,b", "--time-limit", "inf", NULL};
	expect_error(NULL, n6, "--time-limit: expected a number");
	const char *n7[] = {"--nodes", "a,b", "--checker", "linearizable,", NULL};
	expect_error(NULL, n7, "--checker: empty item");
	expect_error("{\"nodes\":[\"10.0.0.1\",\"10.0.0.1\"]}", NULL,
		     "cfg.json: nodes[1]: duplicate host 10.0.0.1");
	snprintf(buf, sizeof buf, "{%s, \"nemesis\":[\"kill\"], \"nemesis_opts\":{\"pause\":{}}}",
		 nodes);
	expect_error(buf, NULL, "nemesis_opts.pause: fault pause is not enabled");
	snprintf(buf, sizeof buf, "{%s, \"workload_opts\":{\"x\":1}}", nodes);
	expect_error(buf, NULL, "workload_opts: workload register takes no options");
	snprintf(buf, sizeof buf, "{%s, \"db_opts\":{\"read_mode\":\"stale\"}}", nodes);
	expect_error(buf, NULL, "db_opts.read_mode: expected one of linearizable|serializable");
	snprintf(buf, sizeof buf, "{%s, \"checker_opts\":{\"nope\":{}}}", nodes);
	expect_error(buf, NULL, "checker_opts.nope: unknown checker");
}

static void test_concurrency_per_node(void **state)
{
	(void)state;
	struct test t;
	struct config_error err;
	const char *f[] = {"--nodes", "10.0.0.1,10.0.0.2,10.0.0.3", "--concurrency", "2n", NULL};
	assert_int_equal(resolve(&t, NULL, f, &err), 0);
	assert_int_equal(t.n_nodes, 3);
	assert_int_equal(t.concurrency, 6);
	assert_string_equal(t.nodes[0].name, "n1");
	assert_string_equal(t.nodes[2].name, "n3");
	assert_string_equal(t.nodes[1].host, "10.0.0.2");
	assert_int_equal(json_integer_value(json_object_get(t.resolved, "concurrency")), 6);
	test_free(&t);
	/* JSON form, and the default 1n. */
	assert_int_equal(resolve(&t, "{\"nodes\":[\"a\",\"b\"], \"concurrency\":\"5n\"}", NULL, &err), 0);
	assert_int_equal(t.concurrency, 10);
	test_free(&t);
	assert_int_equal(resolve(&t, "{\"nodes\":[\"a\",\"b\"]}", NULL, &err), 0);
	assert_int_equal(t.concurrency, 2);
	test_free(&t);
}

static void test_flags_override_file(void **state)
{
	(void)state;
	struct test t;
	struct config_error err;
	const char *json = "{\"name\":\"mytest\", \"nodes\":[{\"name\":\"db1\",\"host\":\"10.1.1.1\","
			   "\"ssh_port\":2222,\"workdir\":\"/srv/fl\"},\"10.1.1.2\"],"
			   "\"time_limit\":100, \"concurrency\":7, \"rate\":50, \"seed\":9,"
			   "\"nemesis\":[\"partition\"], \"read_mode\":\"serializable\", \"leave_db_running\":true,"
			   "\"nemesis_opts\":{\"partition\":{\"grudges\":[\"majority\"]}}}";
	const char *f[] = {"--time-limit", "20", "--seed=11", "--ssh-accept-new", "--fail-on",
			   "unknown", NULL};
	assert_int_equal(resolve(&t, json, f, &err), 0);
	assert_string_equal(t.name, "mytest");
	assert_true(t.time_limit == 20);
	assert_int_equal(t.concurrency, 7);
	assert_true(t.rate == 50);
	assert_int_equal(t.seed, 11);
	assert_true(t.ssh_accept_new);
	assert_true(t.leave_db_running);
	assert_string_equal(t.fail_on, "unknown");
	assert_string_equal(json_string_value(json_object_get(t.db_opts, "read_mode")), "serializable");
	assert_string_equal(t.nodes[0].name, "db1");
	assert_int_equal(t.nodes[0].ssh_port, 2222);
	assert_string_equal(t.nodes[0].workdir, "/srv/fl");
	assert_string_equal(t.nodes[1].name, "n2");
	assert_string_equal(t.nodes[1].workdir, "/var/lib/faultline");
	assert_non_null(json_object_get(t.resolved, "nemesis_opts"));
	test_free(&t);
}

static void test_named_nodes_and_defaults(void **state)
{
	(void)state;
	struct test t;
	struct config_error err;
	const char *f[] = {"--nodes", "alpha=10.2.0.1:2201,beta=db.example.com", NULL};
	assert_int_equal(resolve(&t, NULL, f, &err), 0);
	assert_string_equal(t.nodes[0].name, "alpha");
	assert_int_equal(t.nodes[0].ssh_port, 2201);
	assert_string_equal(t.nodes[1].host, "db.example.com");
	assert_int_equal(t.nodes[1].ssh_port, 22);
	assert_string_equal(t.name, "etcd-register");
	assert_string_equal(t.username, "root");
	assert_true(t.recovery_time == 10 && t.op_timeout == 5 && t.test_count == 1);
	/* A random seed is drawn and recorded so the run can be repeated. */
	assert_false(t.seed_given);
	assert_int_equal(json_integer_value(json_object_get(t.resolved, "seed")), (json_int_t)t.seed);
	test_free(&t);
}

static void test_secret_never_resolved(void **state)
{
	(void)state;
	struct test t;
	struct config_error err;
	setenv("FL_TEST_SUDO_PW", "s3cr3t-pw", 1);
	assert_int_equal(resolve(&t, "{\"nodes\":[\"a\"], \"sudo_password_env\":\"FL_TEST_SUDO_PW\"}",
				 NULL, &err), 0);
	assert_string_equal(t.sudo_password, "s3cr3t-pw");
	char *s = json_dumps(t.resolved, 0);
	assert_null(strstr(s, "s3cr3t-pw"));
	assert_non_null(strstr(s, "FL_TEST_SUDO_PW"));
	free(s);
	test_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rejections_name_the_key),
		cmocka_unit_test(test_concurrency_per_node),
		cmocka_unit_test(test_flags_override_file),
		cmocka_unit_test(test_named_nodes_and_defaults),
		cmocka_unit_test(test_secret_never_resolved),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
