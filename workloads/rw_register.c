/*
 * rw_register.c - the rw-register workload (Elle's): transactions of 1-4
 * micro-ops over a rotating key space (txn_keys.h), each a blind write of
 * a value unique to its key or a read of the key's current value. Reads
 * reveal less than list-append reads (one version, not the whole order),
 * so the transaction checker infers version orders from the sources Elle
 * uses (the initial nil, a write after a read in one transaction, process
 * and real-time order when asked).
 *
 *   txn: invoke value [["w",3,1],["r",4,null]]; ok value the same with
 *        each read's value filled in (null: never written)
 *
 * workload_opts: as the append workload's.
 */
#include "rng.h"
#include "history.h"
#include "txn_keys.h"
#include "util.h"
#include "workload.h"

static int rw_check(const struct test *t, json_t *o, char *err, size_t errlen)
{
	(void)t;
	return txn_keys_check(o, err, errlen);
}

static void *rw_gen_new(const struct test *t) { return txn_keys_new(t); }

static void rw_next(void *gen, struct gen_worker *w, const struct op *last, struct op *op)
{
	(void)last;
	op->f = xstrdup("txn");
	op->value = txn_keys_txn(gen, &w->rng, "w");
}

static const char *const rw_checkers[] = {"elle", NULL};

const struct workload workload_rw_register = {
	.name = "rw-register",
	.summary = "read/write-register transactions (elle: dependency cycles, isolation anomalies)",
	.checkers = rw_checkers,
	.check = rw_check,
	.gen_new = rw_gen_new,
	.gen_free = txn_keys_free,
	.next = rw_next,
};
