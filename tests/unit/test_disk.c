/*
 * test_disk.c - the disk fault's options (nemesis/disk.c), validated
 * through config_finish like every fault's (bad options exit 254 before
 * any node is touched): the defaults and a full set pass; unknown keys,
 * modes, distributions and operations, out-of-range numbers and a
 * database without a data directory are refused with the key path; the
 * disk kind is checked even when it has no options; etcd names its data
 * directory.
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

#include "config.h"
#include "db.h"
#include "nemesis_impl.h"
#include "test.h"

/* config_finish of an etcd test with --nemesis disk and these options
 * (NULL: none): its error, or "". */
static const char *disk_error(const char *opts, char *out, size_t n)
{
	struct test t;
	struct config_error err = {{0}};
	test_init_defaults(&t);
	char *argv[] = {"--nodes", "10.9.9.1,10.9.9.2,10.9.9.3", "--nemesis", "disk,kill"};
	assert_int_equal(config_apply_args(&t, 4, argv, &err), 0);
	if (opts) {
		t.nemesis_opts = json_loads(opts, 0, NULL);
		assert_non_null(t.nemesis_opts);
	}
	int r = config_finish(&t, &err);
	snprintf(out, n, "%s", r == 0 ? "" : err.msg);
	test_free(&t);
	return out;
}

static void test_valid_options(void **state)
{
	(void)state;
	char e[600];
	assert_string_equal(disk_error(NULL, e, sizeof e), "");
	assert_string_equal(disk_error("{\"disk\":{}}", e, sizeof e), "");
	assert_string_equal(
		disk_error("{\"disk\":{\"modes\":[\"lose-unfsynced\",\"slow-io\",\"io-errors\","
			   "\"disk-full\"],\"targets\":[\"one\",\"all\"],\"delay_ms\":20,"
			   "\"delay_dist\":\"uniform\",\"delay_ops\":[\"fsync\"],\"error_p\":0.01,"
			   "\"error_ops\":\"write\",\"writeback_s\":30,\"max_dirty_mb\":64}}",
			   e, sizeof e),
		"");
	assert_string_equal(disk_error("{\"disk\":{\"modes\":\"disk-full\",\"nodes\":[\"n2\"]}}", e,
				       sizeof e),
			    "");
}

static void test_bad_options(void **state)
{
	(void)state;
	char e[600];
	static const struct {
		const char *opts, *want;
	} cases[] = {
		{"{\"disk\":{\"mode\":\"slow-io\"}}", "nemesis_opts.disk.mode: unknown key (known: modes, "},
		{"{\"disk\":{\"modes\":[\"lose-everything\"]}}",
		 "nemesis_opts.disk.modes: expected one of lose-unfsynced, slow-io, io-errors, "
		 "disk-full, or a list of them"},
		{"{\"disk\":{\"modes\":[]}}", "nemesis_opts.disk.modes: expected one of"},
		{"{\"disk\":{\"modes\":3}}", "nemesis_opts.disk.modes: expected one of"},
		{"{\"disk\":{\"delay_dist\":\"pareto\"}}",
		 "nemesis_opts.disk.delay_dist: expected constant, uniform or exponential"},
		{"{\"disk\":{\"delay_ops\":[\"read\",\"open\"]}}",
		 "nemesis_opts.disk.delay_ops: expected one of read, write, fsync"},
		{"{\"disk\":{\"error_ops\":\"write; rm -rf /\"}}",
		 "nemesis_opts.disk.error_ops: expected one of read, write, fsync"},
		{"{\"disk\":{\"error_p\":1.5}}", "nemesis_opts.disk.error_p: expected a number in 0..1"},
		{"{\"disk\":{\"delay_ms\":-1}}", "nemesis_opts.disk.delay_ms: expected a number in 0..60000"},
		{"{\"disk\":{\"max_dirty_mb\":0}}", "nemesis_opts.disk.max_dirty_mb: expected a number in"},
		{"{\"disk\":{\"writeback_s\":\"soon\"}}", "nemesis_opts.disk.writeback_s: expected a number"},
		{"{\"disk\":{\"targets\":\"half\"}}", "nemesis_opts.disk.targets: unknown target 'half'"},
		{"{\"disk\":{\"nodes\":[\"n7\"]}}", "nemesis_opts.disk.nodes[0]: 'n7' is not a node"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		disk_error(cases[i].opts, e, sizeof e);
		if (strncmp(e, cases[i].want, strlen(cases[i].want)))
			fail_msg("%s: got '%s', want '%s...'", cases[i].opts, e, cases[i].want);
	}
}

/* A database faultline cannot mount (none named, or one without a data
 * directory) is refused even without options. */
static void test_needs_a_data_dir(void **state)
{
	(void)state;
	const struct nemesis *disk = nemesis_find("disk");
	assert_non_null(disk);
	struct test t;
	test_init_defaults(&t);
	char *db = t.db;
	t.db = "nosuchdb";
	char err[300] = "";
	assert_int_equal(disk->check(&t, NULL, err, sizeof err), -1);
	assert_string_equal(err, "nemesis disk: database nosuchdb has no data directory faultline "
				 "can mount (disk faults need one: etcd, redis, postgres)");
	t.db = db;
	test_free(&t);
	static const char *const dirs[][2] = {
		{"etcd", "etcd.data"}, {"redis", "redis.data"}, {"postgres", "pg/data"}};
	for (size_t i = 0; i < 3; i++) {
		const struct db *d = db_find(dirs[i][0]);
		assert_non_null(d);
		assert_string_equal(d->data_dir, dirs[i][1]);
	}
}

/* postgres's db_opts fsync and synchronous_commit: defaults written back,
 * bad values named. */
static void test_postgres_durability_opts(void **state)
{
	(void)state;
	const struct db *pg = db_find("postgres");
	struct test t;
	test_init_defaults(&t);
	char *argv[] = {"--nodes", "10.9.9.1,10.9.9.2,10.9.9.3"};
	struct config_error cerr = {{0}};
	assert_int_equal(config_apply_args(&t, 2, argv, &cerr), 0);
	char err[400] = "";
	json_t *o = json_object();
	assert_int_equal(pg->check(&t, o, err, sizeof err), 0);
	assert_true(json_is_true(json_object_get(o, "fsync")));
	assert_string_equal(json_string_value(json_object_get(o, "synchronous_commit")), "on");
	json_decref(o);
	o = json_pack("{s:b, s:s}", "fsync", 0, "synchronous_commit", "off");
	assert_int_equal(pg->check(&t, o, err, sizeof err), 0);
	json_decref(o);
	o = json_pack("{s:s}", "synchronous_commit", "sometimes");
	assert_int_equal(pg->check(&t, o, err, sizeof err), -1);
	assert_non_null(strstr(err, "db_opts.synchronous_commit"));
	json_decref(o);
	o = json_pack("{s:s}", "fsync", "off");
	assert_int_equal(pg->check(&t, o, err, sizeof err), -1);
	assert_string_equal(err, "db_opts.fsync: expected true or false");
	json_decref(o);
	test_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_options),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_needs_a_data_dir),
		cmocka_unit_test(test_postgres_durability_opts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
