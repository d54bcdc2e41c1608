/*
 * test_models.c - each linearizability model on its own, through the
 * model vtable exactly as the search drives it: encode ops from JSON,
 * step states, and check that equal states get equal ids (the search's
 * memoization depends on it) and that describe() says something readable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "util.h"

struct mt {
	const struct model *m;
	struct model_env env;
	void *ctx;
	model_state s;
};

/* Open a model; names (JSON texts, NULL-terminated, may be NULL) are
 * values the history holds, interned before the search starts as the
 * checker does (multi-register resolves --init names against them). */
static void mt_open_with(struct mt *t, const char *name, const char *init_json, bool nil_unknown,
			 const char *const *names)
{
	t->m = model_find(name);
	assert_non_null(t->m);
	model_env_init(&t->env);
	t->env.nil_read_unknown = nil_unknown;
	json_t *init = init_json ? json_loads(init_json, JSON_DECODE_ANY, NULL) : NULL;
	struct mop im;
	char err[256];
	assert_int_equal(t->m->encode_init(&t->env, init, &im, err, sizeof err), 0);
	if (init)
		json_decref(init);
	for (const char *const *n = names; n && *n; n++) {
		json_t *v = json_loads(*n, JSON_DECODE_ANY, NULL);
		assert_non_null(v);
		values_intern(&t->env.vals, v);
		json_decref(v);
	}
	t->ctx = t->m->ctx_new(&t->env, &im, &t->s);
}

static void mt_open(struct mt *t, const char *name, const char *init_json, bool nil_unknown)
{
	mt_open_with(t, name, init_json, nil_unknown, NULL);
}

static void mt_close(struct mt *t)
{
	t->m->ctx_free(t->ctx);
	model_env_free(&t->env);
}

/* Encode f/value (JSON text) and step: returns 1 legal (state advanced),
 * 0 illegal, -1 dropped by the encoder, -2 encode error. */
static int mt_step_known(struct mt *t, const char *f, const char *value, bool known)
{
	json_t *v = json_loads(value, JSON_DECODE_ANY, NULL);
	assert_non_null(v);
	struct mop op;
	char err[256];
	int r = t->m->encode(&t->env, f, v, known, &op, err, sizeof err);
	json_decref(v);
	if (r == MODEL_ERR)
		return -2;
	if (r == MODEL_DROP)
		return -1;
	model_state ns;
	if (!t->m->step(t->ctx, t->s, &op, &ns))
		return 0;
	t->s = ns;
	return 1;
}

static int mt_step(struct mt *t, const char *f, const char *value)
{
	return mt_step_known(t, f, value, true);
}

static void assert_describe(struct mt *t, const char *want)
{
	char *d = t->m->describe(t->ctx, t->s);
	assert_string_equal(d, want);
	free(d);
}

static void test_register(void **state)
{
	(void)state;
	struct mt t;
	mt_open(&t, "register", NULL, false);
	assert_int_equal(mt_step(&t, "read", "null"), 1); /* initially nil */
	assert_int_equal(mt_step(&t, "write", "3"), 1);
	assert_int_equal(mt_step(&t, "read", "3"), 1);
	assert_int_equal(mt_step(&t, "read", "4"), 0);
	assert_int_equal(mt_step(&t, "read", "null"), 0);
	assert_int_equal(mt_step_known(&t, "read", "4", false), -1); /* unknown read: dropped */
	assert_int_equal(mt_step(&t, "cas", "[3, 4]"), -2);          /* no cas on a plain register */
	assert_describe(&t, "3");
	mt_close(&t);
}

static void test_cas_register(void **state)
{
	(void)state;
	struct mt t;
	mt_open(&t, "cas-register", "0", false);
	assert_int_equal(mt_step(&t, "cas", "[1, 2]"), 0);
	assert_int_equal(mt_step(&t, "cas", "[0, 2]"), 1);
	assert_int_equal(mt_step(&t, "read", "2"), 1);
	assert_int_equal(mt_step(&t, "cas", "5"), -2); /* malformed cas */
	/* equal values are equal states (memoization) */
	model_state before = t.s;
	assert_int_equal(mt_step(&t, "write", "7"), 1);
	assert_int_equal(mt_step(&t, "write", "2"), 1);
	assert_true(t.m->equal(t.ctx, before, t.s));
	assert_int_equal(t.m->hash(t.ctx, before), t.m->hash(t.ctx, t.s));
	/* strings and numbers are different values */
	assert_int_equal(mt_step(&t, "write", "\"2\""), 1);
	assert_int_equal(mt_step(&t, "read", "2"), 0);
	mt_close(&t);
	mt_open(&t, "cas-register", NULL, true); /* Knossos nil reading */
	assert_int_equal(mt_step(&t, "write", "1"), 1);
	assert_int_equal(mt_step(&t, "read", "null"), -1);
	mt_close(&t);
}

static void test_kv(void **state)
{
	(void)state;
	struct mt t;
	mt_open(&t, "kv", NULL, false);
	/* The checker encodes every op before the search starts (the value
	 * table is then frozen); do the same for the values read below. */
	json_t *pre[] = {json_string("abc"), json_string("ab"), json_string("x")};
	for (size_t i = 0; i < 3; i++) {
		struct mop op;
		char err[64];
		assert_int_equal(t.m->encode(&t.env, "get", pre[i], true, &op, err, sizeof err), MODEL_OP);
		json_decref(pre[i]);
	}
	assert_int_equal(mt_step(&t, "get", "\"\""), 1); /* never written reads "" */
	assert_int_equal(mt_step(&t, "get", "null"), 1); /* nil read = empty */
	assert_int_equal(mt_step(&t, "append", "\"ab\""), 1);
	assert_int_equal(mt_step(&t, "append", "\"c\""), 1);
	assert_int_equal(mt_step(&t, "get", "\"abc\""), 1);
	assert_int_equal(mt_step(&t, "get", "\"ab\""), 0);
	assert_int_equal(mt_step(&t, "get", "null"), 0);
	model_state abc = t.s;
	assert_int_equal(mt_step(&t, "put", "\"x\""), 1);
	assert_int_equal(mt_step(&t, "get", "\"x\""), 1);
	assert_int_equal(mt_step(&t, "put", "\"abc\""), 1);
	assert_true(t.m->equal(t.ctx, abc, t.s)); /* put "abc" == append-built "abc" */
	assert_describe(&t, "\"abc\"");
	assert_int_equal(mt_step(&t, "cas", "[1, 2]"), -2);
	mt_close(&t);
}

static void test_multi_register(void **state)
{
	(void)state;
	struct mt t;
	static const char *const names[] = {"\"x\"", "\"y\"", NULL};
	mt_open_with(&t, "multi-register", "{\"x\": 0, \"y\": 0}", false, names);
	assert_int_equal(mt_step(&t, "txn", "[[\"read\",\"x\",0],[\"read\",\"y\",0]]"), 1);
	assert_int_equal(mt_step(&t, "txn", "[[\"write\",\"x\",1],[\"read\",\"x\",1]]"), 1);
	assert_int_equal(mt_step(&t, "txn", "[[\"read\",\"x\",1],[\"read\",\"y\",1]]"), 0);
	assert_int_equal(mt_step(&t, "txn", "[[\"read\",\"z\",null]]"), 1); /* never written */
	assert_int_equal(mt_step(&t, "txn", "[[\"write\",\"z\",5]]"), 1);
	assert_describe(&t, "{\"x\":1,\"y\":0,\"z\":5}");
	/* writing back the same values gives the same state */
	model_state s = t.s;
	assert_int_equal(mt_step(&t, "txn", "[[\"write\",\"y\",9]]"), 1);
	assert_int_equal(mt_step(&t, "txn", "[[\"write\",\"y\",0]]"), 1);
	assert_true(t.m->equal(t.ctx, s, t.s));
	/* an info txn: its reads say nothing, its write may apply */
	assert_int_equal(mt_step_known(&t, "txn", "[[\"read\",\"x\",77],[\"write\",\"y\",3]]", false), 1);
	assert_int_equal(mt_step(&t, "txn", "[[\"read\",\"y\",3]]"), 1);
	assert_int_equal(mt_step_known(&t, "txn", "[[\"read\",\"x\",77]]", false), -1);
	assert_int_equal(mt_step(&t, "read", "1"), -2);
	mt_close(&t);
}

static void test_mutex(void **state)
{
	(void)state;
	struct mt t;
	mt_open(&t, "mutex", NULL, false);
	assert_int_equal(mt_step(&t, "release", "null"), 0);
	assert_int_equal(mt_step(&t, "acquire", "null"), 1);
	assert_int_equal(mt_step(&t, "acquire", "null"), 0);
	assert_describe(&t, "held");
	assert_int_equal(mt_step(&t, "release", "null"), 1);
	assert_describe(&t, "free");
	mt_close(&t);
}

static void test_queue(void **state)
{
	(void)state;
	struct mt t;
	mt_open(&t, "fifo-queue", NULL, false);
	assert_int_equal(mt_step(&t, "dequeue", "null"), 1); /* empty */
	assert_int_equal(mt_step(&t, "enqueue", "1"), 1);
	assert_int_equal(mt_step(&t, "enqueue", "2"), 1);
	assert_describe(&t, "[1,2]");
	assert_int_equal(mt_step(&t, "dequeue", "2"), 0); /* FIFO */
	assert_int_equal(mt_step(&t, "dequeue", "null"), 0);
	assert_int_equal(mt_step(&t, "dequeue", "1"), 1);
	assert_int_equal(mt_step_known(&t, "dequeue", "null", false), 1); /* unknown: pops 2 */
	assert_describe(&t, "[]");
	mt_close(&t);
}

static void test_set(void **state)
{
	(void)state;
	struct mt t;
	mt_open(&t, "set", NULL, false);
	assert_int_equal(mt_step(&t, "read", "[]"), 1);
	assert_int_equal(mt_step(&t, "add", "2"), 1);
	assert_int_equal(mt_step(&t, "add", "1"), 1);
	assert_int_equal(mt_step(&t, "add", "1"), 1);
	assert_int_equal(mt_step(&t, "read", "[1, 2]"), 1);
	assert_int_equal(mt_step(&t, "read", "[2, 1, 2]"), 1); /* order and repeats don't matter */
	assert_int_equal(mt_step(&t, "read", "[1]"), 0);
	assert_int_equal(mt_step(&t, "read", "[1, 2, 3]"), 0);
	assert_int_equal(mt_step_known(&t, "read", "[9]", false), -1);
	assert_describe(&t, "[2,1]");
	mt_close(&t);
}

static void test_registry(void **state)
{
	(void)state;
	/* every name the registry lists is found */
	char *names = xstrdup(model_names_list()), *save = NULL;
	int n = 0;
	for (char *m = strtok_r(names, ", ", &save); m; m = strtok_r(NULL, ", ", &save), n++)
		assert_non_null(model_find(m));
	free(names);
	assert_int_equal(n, 7);
	assert_null(model_find("nope"));
	assert_null(model_find(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register),
		cmocka_unit_test(test_cas_register),
		cmocka_unit_test(test_kv),
		cmocka_unit_test(test_multi_register),
		cmocka_unit_test(test_mutex),
		cmocka_unit_test(test_queue),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_registry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
