/*
 * test_generator.c - unit tests for the op generator: the same seed gives
 * every process the same (f, value) stream, different seeds differ, keys
 * respect their bounds (ops per key, workers per key), the register mix
 * covers read/write/cas with values 0-4, and pacing adds up to --rate.
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

static void test_setup(struct test *t, int concurrency, uint64_t seed)
{
	test_init_defaults(t);
	t->concurrency = concurrency;
	t->seed = seed;
}

/* The op stream's fingerprint: f and value of the first n ops. */
static char *stream(struct generator *g, int worker, int64_t process, int n)
{
	struct gen_worker w;
	generator_worker_init(g, &w, worker);
	generator_set_process(&w, process);
	struct buf b;
	buf_init(&b);
	for (int i = 0; i < n; i++) {
		struct op op = {0};
		generator_next(&w, NULL, &op);
		char *v = json_dumps(op.value, JSON_ENCODE_ANY | JSON_COMPACT);
		buf_printf(&b, "%s %s;", op.f, v);
		free(v);
		op_free(&op);
	}
	return buf_steal(&b);
}

static void test_same_seed_same_stream(void **state)
{
	(void)state;
	struct test t;
	test_setup(&t, 10, 42);
	const struct workload *wl = workload_find("register");
	struct generator *a = generator_new(&t, wl), *b = generator_new(&t, wl);
	for (int64_t p = 0; p < 30; p++) {
		/* Interleave differently: b draws other processes' ops first. */
		char *junk = stream(b, (int)((p + 3) % 10), (p + 7) % 30, 13);
		free(junk);
		char *sa = stream(a, (int)(p % 10), p, 200);
		char *sb = stream(b, (int)(p % 10), p, 200);
		assert_string_equal(sa, sb);
		free(sa);
		free(sb);
	}
	generator_free(a);
	generator_free(b);
	t.seed = 43;
	struct generator *c = generator_new(&t, wl);
	t.seed = 42;
	struct generator *d = generator_new(&t, wl);
	char *sc = stream(c, 0, 0, 50), *sd = stream(d, 0, 0, 50);
	assert_string_not_equal(sc, sd);
	/* And processes differ from each other. */
	char *sd1 = stream(d, 1, 1, 50);
	assert_string_not_equal(sd, sd1);
	free(sc), free(sd), free(sd1);
	generator_free(c);
	generator_free(d);
	test_free(&t);
}

static void test_register_mix(void **state)
{
	(void)state;
	struct test t;
	test_setup(&t, 1, 7);
	struct generator *g = generator_new(&t, workload_find("register"));
	struct gen_worker w;
	generator_worker_init(g, &w, 0);
	int reads = 0, writes = 0, cas = 0;
	for (int i = 0; i < 3000; i++) {
		struct op op = {0};
		generator_next(&w, NULL, &op);
		assert_int_equal(op.type, OP_INVOKE);
		if (!strcmp(op.f, "read")) {
			reads++;
			assert_true(json_is_null(op.value));
		} else if (!strcmp(op.f, "write")) {
			writes++;
			json_int_t v = json_integer_value(op.value);
			assert_true(json_is_integer(op.value) && v >= 0 && v <= 4);
		} else {
			assert_string_equal(op.f, "cas");
			cas++;
			assert_int_equal(json_array_size(op.value), 2);
			for (int k = 0; k < 2; k++) {
				json_int_t v = json_integer_value(json_array_get(op.value, (size_t)k));
				assert_true(v >= 0 && v <= 4);
			}
		}
		op_free(&op);
	}
	assert_true(reads > 800 && writes > 800 && cas > 800);
	generator_free(g);
	test_free(&t);
}

/* Keys: each gets at most ops_per_key ops, all from one group of at most
 * key_concurrency workers; groups never share keys. */
static void test_key_bounds(void **state)
{
	(void)state;
	struct test t;
	test_setup(&t, 12, 1);
	t.ops_per_key = 30;
	t.key_concurrency = 5;
	struct generator *g = generator_new(&t, workload_find("register"));
	assert_int_equal(generator_groups(g), 3);
	struct gen_worker w[12];
	for (int i = 0; i < 12; i++)
		generator_worker_init(g, &w[i], i);
	enum { MAXK = 1000 };
	int count[MAXK] = {0};
	unsigned workers[MAXK] = {0};
	uint64_t rng = 99;
	for (int i = 0; i < 6000; i++) {
		int wi = (int)rng_below(&rng, 12);
		struct op op = {0};
		generator_next(&w[wi], NULL, &op);
		long k;
		assert_true(parse_long(op.key, 0, MAXK - 1, &k));
		count[k]++;
		workers[k] |= 1u << wi;
		op_free(&op);
	}
	int64_t max = generator_max_key(g);
	assert_true(max > 0 && max < MAXK);
	for (int k = 0; k <= max; k++) {
		assert_true(count[k] <= 30);
		assert_true(__builtin_popcount(workers[k]) <= 5);
		/* All of a key's workers are in the same group. */
		int group = -1;
		for (int wi = 0; wi < 12; wi++)
			if (workers[k] & (1u << wi)) {
				if (group < 0)
					group = wi / 5;
				assert_int_equal(wi / 5, group);
			}
	}
	generator_free(g);
	test_free(&t);
}

static void test_rate_pacing(void **state)
{
	(void)state;
	struct test t;
	test_setup(&t, 4, 1);
	t.rate = 100; /* 25 ops/s per worker: 40 ms apart */
	struct generator *g = generator_new(&t, workload_find("register"));
	struct gen_worker w;
	generator_worker_init(g, &w, 2);
	int64_t now = 1000000000LL;
	int64_t first = generator_due(&w, now);
	assert_int_equal(first, now + 20000000LL); /* staggered by 2/4 interval */
	int64_t second = generator_due(&w, first);
	assert_int_equal(second - first, 40000000LL);
	/* After a long stall the pace resumes without a burst. */
	int64_t late = second + 1000000000LL;
	assert_int_equal(generator_due(&w, late), late);
	assert_int_equal(generator_due(&w, late), late + 40000000LL);
	generator_free(g);
	test_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_seed_same_stream),
		cmocka_unit_test(test_register_mix),
		cmocka_unit_test(test_key_bounds),
		cmocka_unit_test(test_rate_pacing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
