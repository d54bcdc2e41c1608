/*
 * lock.c - the lock workload: each process takes a distributed lock,
 * writes under it with its fencing token, and releases it, again and
 * again. Mutual exclusion is judged as linearizability of acquire/release
 * under the mutex model; the fencing check asks whether a write guarded by
 * an older token ever landed after one with a newer token (Kleppmann's
 * argument about leases: a holder paused past its lease still believes it
 * holds the lock). Both are in the lock checker.
 *
 *   acquire: invoke value null; ok value = the fencing token (an integer
 *            that grows with every acquisition, e.g. etcd's revision)
 *   write:   invoke value = the token held; ok value [token, previous]:
 *            the token this write replaced in the store (null if none)
 *   release: invoke value = the token held; ok/fail/info
 *
 * A process acquires; after an ok acquire it writes; after the write it
 * releases; after an ok release (or a failed acquire) it acquires again; a
 * failed release is retried. An info retires the process (its successor
 * starts over with an acquire). workload_opts: lease_ttl (seconds, 5): the
 * lease a client holds the lock with, for databases whose locks expire.
 */
#include "rng.h"
#include "history.h"
#include "opts.h"
#include "test.h"
#include "util.h"
#include "workload.h"

#include <string.h>

static int lock_check(const struct test *t, json_t *o, char *err, size_t errlen)
{
	(void)t;
	static const char *const keys[] = {"lease_ttl", NULL};
	long ttl;
	return opts_keys(o, keys, "workload_opts", err, errlen) < 0 ||
			       opts_int(o, "lease_ttl", 5, 1, 3600, "workload_opts", &ttl, err,
					errlen) < 0
		       ? -1
		       : 0;
}

static bool is(const struct op *op, const char *f, enum op_type type)
{
	return op && op->f && !strcmp(op->f, f) && op->type == type;
}

/* The token a process holds after last (its ok acquire or the write /
 * release that carried it). */
static json_t *held_token(const struct op *last)
{
	json_t *v = last->value;
	if (!strcmp(last->f, "write") && json_is_array(v))
		v = json_array_get(v, 0);
	return json_is_integer(v) ? json_incref(v) : json_null();
}

static void lock_next(void *gen, struct gen_worker *w, const struct op *last, struct op *op)
{
	(void)gen, (void)w;
	const char *f = "acquire";
	if (is(last, "acquire", OP_OK))
		f = "write";
	else if (last && !strcmp(last->f, "write"))
		f = "release";
	else if (is(last, "release", OP_FAIL))
		f = "release";
	op->f = xstrdup(f);
	op->value = strcmp(f, "acquire") ? held_token(last) : json_null();
}

static const char *const lock_checkers[] = {"lock", NULL};

const struct workload workload_lock = {
	.name = "lock",
	.summary = "acquire, fenced write, release of a distributed lock (lock: mutual exclusion, fencing)",
	.checkers = lock_checkers,
	.check = lock_check,
	.next = lock_next,
};
