/*
 * bank.c - the bank workload: money moves between accounts in
 * transactions; reads see every balance at once. Whatever the faults, a
 * read must see the initial total, and (unless negative balances are
 * allowed) no account below zero. After recovery every node reads once
 * more. Judged by the bank checker.
 *
 *   transfer: invoke value {"from":"a1","to":"a3","amount":4}; ok (moved),
 *             fail (certainly not: insufficient funds, aborted), info
 *   read:     invoke value null, ok value {"a1":20,"a2":20,...}
 *
 * workload_opts: accounts (5), total (100), max_transfer (5),
 * read_fraction (0.3), negative_ok (false), and "initial" - the opening
 * balances, filled in from accounts and total (each account total/accounts,
 * the first also the remainder) unless given. Clients create exactly
 * workload_opts.initial in their setup; the checker takes its total from
 * there too.
 */
#include "rng.h"
#include "history.h"
#include "opts.h"
#include "test.h"
#include "util.h"
#include "workload.h"

#include <stdio.h>
#include <stdlib.h>

struct bank_gen {
	char **names;
	long n;
	long max_transfer;
	uint64_t read_per_1e6;
};

/* Fill or check workload_opts.initial; accounts and total follow from it. */
static int bank_initial(json_t *o, long accounts, long total, char *err, size_t errlen)
{
	json_t *init = json_object_get(o, "initial");
	if (!init) {
		init = json_object();
		for (long i = 0; i < accounts; i++) {
			char name[24];
			snprintf(name, sizeof name, "a%ld", i + 1);
			long b = total / accounts + (i == 0 ? total % accounts : 0);
			json_object_set_new(init, name, json_integer(b));
		}
		json_object_set_new(o, "initial", init);
		return 0;
	}
	if (!json_is_object(init) || json_object_size(init) < 2) {
		snprintf(err, errlen, "workload_opts.initial: expected an object of at least two "
			 "accounts and their opening balances");
		return -1;
	}
	long sum = 0;
	const char *k;
	json_t *v;
	json_object_foreach(init, k, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 1000000000) {
			snprintf(err, errlen, "workload_opts.initial.%s: expected a balance in "
				 "0..1000000000", k);
			return -1;
		}
		sum += (long)json_integer_value(v);
	}
	json_object_set_new(o, "accounts", json_integer((json_int_t)json_object_size(init)));
	json_object_set_new(o, "total", json_integer(sum));
	return 0;
}

static int bank_check(const struct test *t, json_t *o, char *err, size_t errlen)
{
	(void)t;
	static const char *const keys[] = {"accounts", "total", "max_transfer", "read_fraction",
					   "negative_ok", "initial", NULL};
	long accounts, total, mt;
	double rf;
	bool neg;
	if (opts_keys(o, keys, "workload_opts", err, errlen) < 0 ||
	    opts_int(o, "accounts", 5, 2, 1000, "workload_opts", &accounts, err, errlen) < 0 ||
	    opts_int(o, "total", 100, 0, 1000000000, "workload_opts", &total, err, errlen) < 0 ||
	    opts_int(o, "max_transfer", 5, 1, 1000000, "workload_opts", &mt, err, errlen) < 0 ||
	    opts_num(o, "read_fraction", 0.3, 0, 1, "workload_opts", &rf, err, errlen) < 0 ||
	    opts_bool(o, "negative_ok", false, "workload_opts", &neg, err, errlen) < 0)
		return -1;
	return bank_initial(o, accounts, total, err, errlen);
}

static void *bank_gen_new(const struct test *t)
{
	struct bank_gen *g = xcalloc(1, sizeof *g);
	json_t *init = json_object_get(t->workload_opts, "initial");
	g->n = (long)json_object_size(init);
	g->names = xcalloc((size_t)g->n, sizeof *g->names);
	const char *k;
	json_t *v;
	long i = 0;
	json_object_foreach(init, k, v)
		g->names[i++] = xstrdup(k);
	g->max_transfer = opts_get_int(t->workload_opts, "max_transfer");
	g->read_per_1e6 = (uint64_t)(opts_get_num(t->workload_opts, "read_fraction") * 1e6);
	return g;
}

static void bank_gen_free(void *gen)
{
	struct bank_gen *g = gen;
	for (long i = 0; i < g->n; i++)
		free(g->names[i]);
	free(g->names);
	free(g);
}

static void bank_next(void *gen, struct gen_worker *w, const struct op *last, struct op *op)
{
	(void)last;
	struct bank_gen *g = gen;
	if (rng_below(&w->rng, 1000000) < g->read_per_1e6) {
		op->f = xstrdup("read");
		op->value = json_null();
		return;
	}
	uint64_t from = rng_below(&w->rng, (uint64_t)g->n);
	uint64_t to = rng_below(&w->rng, (uint64_t)g->n - 1);
	if (to >= from)
		to++;
	op->f = xstrdup("transfer");
	op->value = json_pack("{s:s, s:s, s:I}", "from", g->names[from], "to", g->names[to],
			      "amount", (json_int_t)(1 + rng_below(&w->rng, (uint64_t)g->max_transfer)));
}

static size_t bank_final(void *gen, const struct test *t, int64_t max_key, struct op **ops)
{
	(void)gen, (void)max_key;
	*ops = xcalloc((size_t)t->n_nodes, sizeof **ops);
	for (int i = 0; i < t->n_nodes; i++) {
		(*ops)[i].f = xstrdup("read");
		(*ops)[i].value = json_null();
	}
	return (size_t)t->n_nodes;
}

static const char *const bank_checkers[] = {"bank", NULL};

const struct workload workload_bank = {
	.name = "bank",
	.summary = "transfers between accounts, reads of every balance (bank: total conserved)",
	.checkers = bank_checkers,
	.check = bank_check,
	.gen_new = bank_gen_new,
	.gen_free = bank_gen_free,
	.next = bank_next,
	.final = bank_final,
};
