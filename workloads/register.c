/*
 * register.c - the register workload: independent keys, each a register
 * holding a small integer (0-4), worked by read / write / cas in equal
 * shares, judged by the linearizability checker with the cas-register
 * model. Small values make reads ambiguous enough to matter and keep the
 * model's state space tiny.
 *
 * Value shapes (design): read invokes with null and completes with the value
 * read (null for a missing key); write carries the value; cas carries
 * [expected, new].
 */
#include "rng.h"
#include "history.h"
#include "util.h"
#include "workload.h"

#define REGISTER_VALUES 5

static void register_next(void *gen, struct gen_worker *w, const struct op *last, struct op *op)
{
	(void)gen;
	(void)last;
	switch (rng_below(&w->rng, 3)) {
	case 0:
		op->f = xstrdup("read");
		op->value = json_null();
		break;
	case 1:
		op->f = xstrdup("write");
		op->value = json_integer((json_int_t)rng_below(&w->rng, REGISTER_VALUES));
		break;
	default: {
		json_int_t from = (json_int_t)rng_below(&w->rng, REGISTER_VALUES);
		json_int_t to = (json_int_t)rng_below(&w->rng, REGISTER_VALUES);
		op->f = xstrdup("cas");
		op->value = json_pack("[II]", from, to);
		break;
	}
	}
}

static const char *const register_checkers[] = {"linearizable", NULL};

const struct workload workload_register = {
	.name = "register",
	.summary = "read / write / cas of small integers on independent keys (linearizable, cas-register)",
	.keyed = true,
	.model = "cas-register",
	.checkers = register_checkers,
	.next = register_next,
};
