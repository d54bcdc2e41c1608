/*
 * counter.c - the counter workload: clients add small positive amounts to
 * one counter and read it; after recovery every node reads it once more.
 * The counter checker bounds each read between the sum of the adds
 * acknowledged before the read began and the sum of every add that may
 * have happened before it ended.
 *
 *   add:  invoke value = amount (1..max_add), ok/fail/info
 *   read: invoke value null, ok value = the counter (integer)
 *
 * workload_opts: read_fraction (default 0.2), max_add (default 5).
 */
#include "rng.h"
#include "history.h"
#include "opts.h"
#include "test.h"
#include "util.h"
#include "workload.h"

#include <stdlib.h>

struct counter_gen {
	uint64_t read_per_1e6;
	long max_add;
};

static int counter_check(const struct test *t, json_t *o, char *err, size_t errlen)
{
	(void)t;
	static const char *const keys[] = {"read_fraction", "max_add", NULL};
	double rf;
	long ma;
	return opts_keys(o, keys, "workload_opts", err, errlen) < 0 ||
			       opts_num(o, "read_fraction", 0.2, 0, 1, "workload_opts", &rf, err,
					errlen) < 0 ||
			       opts_int(o, "max_add", 5, 1, 1000000, "workload_opts", &ma, err,
					errlen) < 0
		       ? -1
		       : 0;
}

static void *counter_gen_new(const struct test *t)
{
	struct counter_gen *g = xcalloc(1, sizeof *g);
	g->read_per_1e6 = (uint64_t)(opts_get_num(t->workload_opts, "read_fraction") * 1e6);
	g->max_add = opts_get_int(t->workload_opts, "max_add");
	return g;
}

static void counter_next(void *gen, struct gen_worker *w, const struct op *last, struct op *op)
{
	(void)last;
	struct counter_gen *g = gen;
	if (rng_below(&w->rng, 1000000) < g->read_per_1e6) {
		op->f = xstrdup("read");
		op->value = json_null();
		return;
	}
	op->f = xstrdup("add");
	op->value = json_integer((json_int_t)(1 + rng_below(&w->rng, (uint64_t)g->max_add)));
}

static size_t counter_final(void *gen, const struct test *t, int64_t max_key, struct op **ops)
{
	(void)gen, (void)max_key;
	*ops = xcalloc((size_t)t->n_nodes, sizeof **ops);
	for (int i = 0; i < t->n_nodes; i++) {
		(*ops)[i].f = xstrdup("read");
		(*ops)[i].value = json_null();
	}
	return (size_t)t->n_nodes;
}

static const char *const counter_checkers[] = {"counter", NULL};

const struct workload workload_counter = {
	.name = "counter",
	.summary = "increments and reads of one counter (counter: reads within bounds)",
	.checkers = counter_checkers,
	.check = counter_check,
	.gen_new = counter_gen_new,
	.gen_free = free,
	.next = counter_next,
	.final = counter_final,
};
