/*
 * set.c - the set workload (Jepsen's set-full): clients add unique
 * integers to one set and now and then read the whole set; after the
 * faults are healed and the cluster has recovered, every node is read once
 * more. The set-full checker then says, per element, whether an
 * acknowledged add was lost, became visible late (stale reads), or an add
 * that was never acknowledged survived.
 *
 *   add:  invoke value = the element (unique across the run), ok/fail/info
 *   read: invoke value null, ok value = [elements], in any order
 *
 * workload_opts: read_fraction (share of reads, default 0.1).
 */
#include "rng.h"
#include "history.h"
#include "opts.h"
#include "test.h"
#include "util.h"
#include "workload.h"

#include <stdatomic.h>
#include <stdlib.h>

struct set_gen {
	_Atomic int64_t next;    /* next element */
	uint64_t read_per_1e6;   /* reads per million ops */
};

static int set_check(const struct test *t, json_t *o, char *err, size_t errlen)
{
	(void)t;
	static const char *const keys[] = {"read_fraction", NULL};
	double rf;
	return opts_keys(o, keys, "workload_opts", err, errlen) < 0 ||
			       opts_num(o, "read_fraction", 0.1, 0, 1, "workload_opts", &rf, err,
					errlen) < 0
		       ? -1
		       : 0;
}

static void *set_gen_new(const struct test *t)
{
	struct set_gen *g = xcalloc(1, sizeof *g);
	atomic_init(&g->next, 0);
	g->read_per_1e6 = (uint64_t)(opts_get_num(t->workload_opts, "read_fraction") * 1e6);
	return g;
}

static void set_next(void *gen, struct gen_worker *w, const struct op *last, struct op *op)
{
	(void)last;
	struct set_gen *g = gen;
	if (rng_below(&w->rng, 1000000) < g->read_per_1e6) {
		op->f = xstrdup("read");
		op->value = json_null();
		return;
	}
	op->f = xstrdup("add");
	op->value = json_integer((json_int_t)atomic_fetch_add(&g->next, 1));
}

/* One read per node. */
static size_t set_final(void *gen, const struct test *t, int64_t max_key, struct op **ops)
{
	(void)gen, (void)max_key;
	*ops = xcalloc((size_t)t->n_nodes, sizeof **ops);
	for (int i = 0; i < t->n_nodes; i++) {
		(*ops)[i].f = xstrdup("read");
		(*ops)[i].value = json_null();
	}
	return (size_t)t->n_nodes;
}

static const char *const set_checkers[] = {"set-full", NULL};

const struct workload workload_set = {
	.name = "set",
	.summary = "add unique elements to a set, read it (set-full: lost, stale, recovered)",
	.checkers = set_checkers,
	.check = set_check,
	.gen_new = set_gen_new,
	.gen_free = free,
	.next = set_next,
	.final = set_final,
};
