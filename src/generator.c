/*
 * generator.c - the op generator behind every worker (see generator.h):
 * per-process seeded streams, key groups with bounded ops per key, and a
 * per-worker pacing interval that adds up to the test's total --rate.
 *
 * Pacing is per worker rather than a shared token bucket so the hot path
 * takes no lock; the workers' first ops are staggered across one interval
 * so a rate-limited run does not arrive in bursts of `concurrency` ops.
 */
#include "generator.h"
#include "test.h"
#include "history.h"
#include "util.h"
#include "workload.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

struct generator {
	const struct workload *wl;
	void *wstate;               /* the workload's generator state */
	uint64_t seed;
	int concurrency;
	int group_size;
	int n_groups;
	int ops_per_key;
	double rate;
	_Atomic int64_t *group_ops; /* ops handed out per group */
	_Atomic int64_t max_key;
};

struct generator *generator_new(const struct test *t, const struct workload *wl)
{
	struct generator *g = xcalloc(1, sizeof *g);
	g->wl = wl;
	g->seed = t->seed;
	g->concurrency = t->concurrency > 0 ? t->concurrency : 1;
	g->group_size = t->key_concurrency > 0 ? t->key_concurrency : 5;
	if (g->group_size > g->concurrency)
		g->group_size = g->concurrency;
	g->n_groups = (g->concurrency + g->group_size - 1) / g->group_size;
	g->ops_per_key = t->ops_per_key > 0 ? t->ops_per_key : 200;
	g->rate = t->rate;
	g->group_ops = xcalloc((size_t)g->n_groups, sizeof *g->group_ops);
	atomic_init(&g->max_key, -1);
	g->wstate = wl->gen_new ? wl->gen_new(t) : NULL;
	for (int i = 0; i < g->n_groups; i++)
		atomic_init(&g->group_ops[i], 0);
	return g;
}

void generator_free(struct generator *g)
{
	if (!g)
		return;
	if (g->wl->gen_free)
		g->wl->gen_free(g->wstate);
	free(g->group_ops);
	free(g);
}

void *generator_workload_state(struct generator *g) { return g->wstate; }

void generator_worker_init(struct generator *g, struct gen_worker *w, int worker)
{
	w->g = g;
	w->worker = worker;
	w->group = worker / g->group_size;
	w->interval_ns = g->rate > 0 ? (int64_t)(1e9 * g->concurrency / g->rate) : 0;
	w->next_ns = 0;
	generator_set_process(w, worker);
}

void generator_set_process(struct gen_worker *w, int64_t process)
{
	w->process = process;
	w->rng = rng_stream(w->g->seed, (uint64_t)process);
	w->seq = 0;
}

/* The key of a keyed workload's next op: the worker's group's current key. */
static char *generator_key(struct gen_worker *w)
{
	struct generator *g = w->g;
	int64_t slot = atomic_fetch_add(&g->group_ops[w->group], 1);
	int64_t key = w->group + (slot / g->ops_per_key) * g->n_groups;
	int64_t seen = atomic_load(&g->max_key);
	while (key > seen && !atomic_compare_exchange_weak(&g->max_key, &seen, key))
		;
	return xasprintf("%lld", (long long)key);
}

void generator_next(struct gen_worker *w, const struct op *last, struct op *op)
{
	struct generator *g = w->g;
	if (g->wl->keyed)
		op->key = generator_key(w);
	op->process = w->process;
	op->type = OP_INVOKE;
	g->wl->next(g->wstate, w, last, op);
	w->seq++;
	if (!op->value)
		op->value = json_null();
}

int64_t generator_due(struct gen_worker *w, int64_t now)
{
	if (w->interval_ns <= 0)
		return now;
	if (w->next_ns == 0) {
		/* Stagger the workers' first ops across one interval. */
		w->next_ns = now + w->interval_ns * w->worker / w->g->concurrency;
	}
	int64_t due = w->next_ns;
	/* After a stall (slow op), resume the pace instead of bursting. */
	if (due < now - w->interval_ns)
		due = now;
	w->next_ns = due + w->interval_ns;
	return due;
}

int64_t generator_max_key(const struct generator *g)
{
	return atomic_load(&((struct generator *)g)->max_key);
}

int generator_groups(const struct generator *g) { return g->n_groups; }
