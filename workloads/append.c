/*
 * append.c - the list-append workload (Elle's): transactions of 1-4
 * micro-ops over a rotating key space (txn_keys.h), each an append of a
 * value unique to its key or a read of the key's whole list. Reads reveal
 * the order of every append before them, which lets the transaction
 * checker infer the version order of each key and find the dependency
 * cycles each isolation level forbids.
 *
 *   txn: invoke value [["append",3,1],["r",4,null]]; ok value the same
 *        with each read's list filled in ([["append",3,1],["r",4,[1,2]]];
 *        a key never written reads null or [])
 *
 * workload_opts: key_count (10 active keys), max_writes_per_key (32),
 * min_txn_length (1), max_txn_length (4), read_fraction (0.5).
 */
#include "rng.h"
#include "history.h"
#include "txn_keys.h"
#include "util.h"
#include "workload.h"

static int append_check(const struct test *t, json_t *o, char *err, size_t errlen)
{
	(void)t;
	return txn_keys_check(o, err, errlen);
}

static void *append_gen_new(const struct test *t) { return txn_keys_new(t); }

static void append_next(void *gen, struct gen_worker *w, const struct op *last, struct op *op)
{
	(void)last;
	op->f = xstrdup("txn");
	op->value = txn_keys_txn(gen, &w->rng, "append");
}

static const char *const append_checkers[] = {"elle", NULL};

const struct workload workload_append = {
	.name = "append",
	.summary = "list-append transactions (elle: dependency cycles, isolation anomalies)",
	.checkers = append_checkers,
	.check = append_check,
	.gen_new = append_gen_new,
	.gen_free = txn_keys_free,
	.next = append_next,
};
