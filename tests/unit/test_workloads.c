/*
 * test_workloads.c - the workload generators (workloads/) on their own:
 * option defaults and errors, and the op streams they produce - unique set
 * elements, values unique per key in transactions, bank transfers between
 * two different accounts that add up, the lock's acquire/write/release
 * cycle driven by the previous completion.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#undef test_free /* cmocka's allocator macro; ours frees a struct test */

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "generator.h"
#include "history.h"
#include "util.h"
#include "workload.h"

static void test_setup(struct test *t, const char *workload, const char *opts_json)
{
	test_init_defaults(t);
	free(t->workload);
	t->workload = xstrdup(workload);
	t->n_nodes = 3;
	t->concurrency = 4;
	t->seed = 7;
	if (opts_json) {
		json_decref(t->workload_opts);
		t->workload_opts = json_loads(opts_json, 0, NULL);
		assert_non_null(t->workload_opts);
	}
	const struct workload *wl = workload_find(workload);
	assert_non_null(wl);
	char err[256] = "";
	if (wl->check)
		assert_int_equal(wl->check(t, t->workload_opts, err, sizeof err), 0);
}

static void test_teardown(struct test *t)
{
	t->n_nodes = 0; /* no node array was allocated */
	test_free(t);
}

/* Draw n ops of worker 0..concurrency-1 in turn, with last = the previous
 * invocation completed as `outcome`. */
static struct op *draw(struct test *t, size_t n, enum op_type outcome)
{
	const struct workload *wl = workload_find(t->workload);
	struct generator *g = generator_new(t, wl);
	struct gen_worker w[4];
	struct op last[4];
	bool have[4] = {0};
	for (int i = 0; i < 4; i++)
		generator_worker_init(g, &w[i], i);
	struct op *ops = xcalloc(n, sizeof *ops);
	for (size_t i = 0; i < n; i++) {
		int k = (int)(i % 4);
		generator_next(&w[k], have[k] ? &last[k] : NULL, &ops[i]);
		if (have[k])
			op_free(&last[k]);
		op_copy(&last[k], &ops[i]);
		last[k].type = outcome;
		if (outcome == OP_OK && !strcmp(ops[i].f, "acquire")) {
			json_decref(last[k].value);
			last[k].value = json_integer((json_int_t)(100 + i));
		}
		have[k] = true;
	}
	for (int k = 0; k < 4; k++)
		if (have[k])
			op_free(&last[k]);
	generator_free(g);
	return ops;
}

static void ops_free(struct op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++)
		op_free(&ops[i]);
	free(ops);
}

static void test_set_unique(void **state)
{
	(void)state;
	struct test t;
	test_setup(&t, "set", "{\"read_fraction\": 0.2}");
	size_t n = 2000, adds = 0, reads = 0;
	struct op *ops = draw(&t, n, OP_OK);
	char *seen = xcalloc(n, 1);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(ops[i].f, "read")) {
			reads++;
			assert_true(json_is_null(ops[i].value));
			continue;
		}
		assert_string_equal(ops[i].f, "add");
		json_int_t e = json_integer_value(ops[i].value);
		assert_true(e >= 0 && (size_t)e < n);
		assert_false(seen[e]);
		seen[e] = 1;
		adds++;
	}
	assert_true(reads > 300 && reads < 500); /* 20% of 2000 */
	assert_int_equal(adds + reads, n);
	free(seen);
	ops_free(ops, n);
	const struct workload *wl = workload_find("set");
	struct op *fin = NULL;
	assert_int_equal(wl->final(NULL, &t, -1, &fin), 3);
	for (int i = 0; i < 3; i++) {
		assert_string_equal(fin[i].f, "read");
		op_free(&fin[i]);
	}
	free(fin);
	test_teardown(&t);
}

static void test_append_unique_per_key(void **state)
{
	(void)state;
	struct test t;
	test_setup(&t, "append", "{\"key_count\": 3, \"max_writes_per_key\": 5}");
	size_t n = 500;
	struct op *ops = draw(&t, n, OP_OK);
	json_t *last_value = json_object(); /* key -> highest value appended */
	size_t keys_retired = 0;
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(ops[i].f, "txn");
		size_t len = json_array_size(ops[i].value);
		assert_true(len >= 1 && len <= 4);
		size_t j;
		json_t *m;
		json_array_foreach(ops[i].value, j, m) {
			const char *f = json_string_value(json_array_get(m, 0));
			char key[32];
			snprintf(key, sizeof key, "%lld", (long long)json_integer_value(json_array_get(m, 1)));
			if (!strcmp(f, "r")) {
				assert_true(json_is_null(json_array_get(m, 2)));
				continue;
			}
			assert_string_equal(f, "append");
			json_int_t v = json_integer_value(json_array_get(m, 2));
			json_int_t prev = json_integer_value(json_object_get(last_value, key));
			assert_int_equal(v, prev + 1); /* unique, in order, per key */
			assert_true(v <= 5);
			if (v == 5)
				keys_retired++;
			json_object_set_new(last_value, key, json_integer(v));
		}
	}
	assert_true(keys_retired > 10); /* the key space rotates */
	json_decref(last_value);
	ops_free(ops, n);
	test_teardown(&t);
}

static void test_rw_register_writes(void **state)
{
	(void)state;
	struct test t;
	test_setup(&t, "rw-register", NULL);
	struct op *ops = draw(&t, 200, OP_OK);
	size_t writes = 0;
	for (size_t i = 0; i < 200; i++) {
		size_t j;
		json_t *m;
		json_array_foreach(ops[i].value, j, m) {
			const char *f = json_string_value(json_array_get(m, 0));
			assert_true(!strcmp(f, "w") || !strcmp(f, "r"));
			writes += !strcmp(f, "w");
		}
	}
	assert_true(writes > 50);
	ops_free(ops, 200);
	test_teardown(&t);
}

static void test_bank(void **state)
{
	(void)state;
	struct test t;
	test_setup(&t, "bank", "{\"accounts\": 3, \"total\": 100}");
	json_t *init = json_object_get(t.workload_opts, "initial");
	assert_int_equal(json_object_size(init), 3);
	assert_int_equal(json_integer_value(json_object_get(init, "a1")), 34); /* 33 + remainder */
	assert_int_equal(json_integer_value(json_object_get(init, "a3")), 33);
	struct op *ops = draw(&t, 300, OP_OK);
	for (size_t i = 0; i < 300; i++) {
		if (!strcmp(ops[i].f, "read"))
			continue;
		assert_string_equal(ops[i].f, "transfer");
		const char *from = json_string_value(json_object_get(ops[i].value, "from"));
		const char *to = json_string_value(json_object_get(ops[i].value, "to"));
		json_int_t amount = json_integer_value(json_object_get(ops[i].value, "amount"));
		assert_non_null(json_object_get(init, from));
		assert_non_null(json_object_get(init, to));
		assert_string_not_equal(from, to);
		assert_true(amount >= 1 && amount <= 5);
	}
	ops_free(ops, 300);
	test_teardown(&t);
	/* Given opening balances decide accounts and total. */
	test_setup(&t, "bank", "{\"initial\": {\"x\": 5, \"y\": 7}}");
	assert_int_equal(json_integer_value(json_object_get(t.workload_opts, "total")), 12);
	test_teardown(&t);
}

static void test_bad_options(void **state)
{
	(void)state;
	struct test t;
	test_init_defaults(&t);
	char err[256];
	json_t *o = json_loads("{\"accounts\": 1}", 0, NULL);
	assert_int_equal(workload_find("bank")->check(&t, o, err, sizeof err), -1);
	assert_non_null(strstr(err, "workload_opts.accounts"));
	json_decref(o);
	o = json_loads("{\"min_txn_length\": 5, \"max_txn_length\": 2}", 0, NULL);
	assert_int_equal(workload_find("append")->check(&t, o, err, sizeof err), -1);
	assert_non_null(strstr(err, "min_txn_length"));
	json_decref(o);
	o = json_loads("{\"colour\": 1}", 0, NULL);
	assert_int_equal(workload_find("set")->check(&t, o, err, sizeof err), -1);
	assert_non_null(strstr(err, "workload_opts.colour: unknown option"));
	json_decref(o);
	test_free(&t);
}

static void test_lock_cycle(void **state)
{
	(void)state;
	struct test t;
	test_setup(&t, "lock", NULL);
	/* ok completions: acquire -> write(token) -> release(token) -> acquire */
	struct op *ops = draw(&t, 24, OP_OK);
	static const char *const cycle[] = {"acquire", "write", "release"};
	for (size_t i = 0; i < 24; i++) /* worker i % 4's (i / 4)-th op */
		assert_string_equal(ops[i].f, cycle[(i / 4) % 3]);
	assert_string_equal(ops[4].f, "write");
	assert_int_equal(json_integer_value(ops[4].value), 100); /* the token of ops[0] */
	assert_string_equal(ops[8].f, "release");
	assert_int_equal(json_integer_value(ops[8].value), 100);
	assert_string_equal(ops[12].f, "acquire");
	ops_free(ops, 24);
	/* failed acquires are retried */
	ops = draw(&t, 8, OP_FAIL);
	for (size_t i = 0; i < 8; i++)
		assert_string_equal(ops[i].f, "acquire");
	ops_free(ops, 8);
	test_teardown(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_unique),
		cmocka_unit_test(test_append_unique_per_key),
		cmocka_unit_test(test_rw_register_writes),
		cmocka_unit_test(test_bank),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_lock_cycle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
