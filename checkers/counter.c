/*
 * counter.c - the counter checker (Jepsen's counter): every ok read of a
 * counter that only ever moves by "add" must lie between what certainly
 * happened before the read began and what may have happened before it
 * ended:
 *   lower = initial + positive adds acknowledged (ok) before the read was
 *           invoked + negative adds that may have happened (ok, info or
 *           pending, invoked before the read completed)
 *   upper = initial + positive adds that may have happened + negative adds
 *           acknowledged before the read was invoked
 * A failed add certainly did not happen and counts in neither. (The counter
 * workload only adds positive amounts; the negative half keeps the bounds
 * right for histories that also subtract.) Streaming: four running sums,
 * snapshotted at each read's invocation.
 *
 * Failure kind "counter-out-of-bounds" with the read op, its value and the
 * bounds. The result also carries every read with its bounds over time
 * (thinned to a few thousand points, bad reads always kept) for a plot.
 * checker_opts.counter.initial: the counter's value before the test (0).
 */
#include "checker.h"
#include "history.h"
#include "opref.h"
#include "opts.h"
#include "pair.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTR_MAX_FAILURES 100
#define CTR_MAX_POINTS 2000

struct ctr_pending {
	bool is_read;
	int64_t amount;          /* adds */
	int64_t pos_certain, neg_certain; /* reads: the sums at invocation */
	struct opref op;
};

struct ctr_point {
	int64_t time, value, lower, upper, index;
	bool bad;
};

struct ctr {
	int64_t initial;
	int64_t pos_certain, pos_possible, neg_certain, neg_possible;
	int64_t adds_ok, adds_unknown, adds_failed;
	struct pairing *open;
	struct ctr_point *pts;
	size_t npts, cap;
	json_t *failures;
	size_t nbad;
};

static int ctr_check_opts(json_t *o, char *err, size_t errlen)
{
	static const char *const keys[] = {"initial", NULL};
	if (opts_keys(o, keys, "checker_opts.counter", err, errlen) < 0)
		return -1;
	json_t *i = json_object_get(o, "initial");
	if (i && !json_is_integer(i)) {
		snprintf(err, errlen, "checker_opts.counter.initial: expected an integer");
		return -1;
	}
	return 0;
}

static void *ctr_begin(const struct check_ctx *ctx, char *err, size_t errlen)
{
	json_t *o = checker_opts(ctx, "counter");
	if (o && ctr_check_opts(o, err, errlen) < 0)
		return NULL;
	struct ctr *c = xcalloc(1, sizeof *c);
	c->initial = json_integer_value(json_object_get(o, "initial"));
	c->open = pairing_new();
	c->failures = json_array();
	return c;
}

static void ctr_pending_free(void *d)
{
	struct ctr_pending *p = d;
	if (!p)
		return;
	opref_free(&p->op);
	free(p);
}

static void ctr_read(struct ctr *c, struct ctr_pending *p, int64_t v)
{
	int64_t lower = c->initial + p->pos_certain + c->neg_possible;
	int64_t upper = c->initial + c->pos_possible + p->neg_certain;
	bool bad = v < lower || v > upper;
	if (c->npts == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 1024;
		c->pts = xrealloc(c->pts, c->cap * sizeof *c->pts);
	}
	c->pts[c->npts++] = (struct ctr_point){p->op.complete_time, v, lower, upper, p->op.index, bad};
	if (!bad)
		return;
	if (c->nbad++ >= CTR_MAX_FAILURES)
		return;
	char who[80];
	opref_words(&p->op, who, sizeof who);
	char *msg = xasprintf("the read by %s returned %" PRId64 ", %s: the adds acknowledged "
			      "before it began sum to %" PRId64 " and those that may have "
			      "happened before it ended to %" PRId64 " (from %" PRId64 ")", who, v,
			      v < lower ? "below the lower bound" : "above the upper bound",
			      lower - c->initial, upper - c->initial, c->initial);
	json_t *val = json_integer(v);
	json_t *f = json_pack("{s:s, s:s, s:I, s:I, s:I}", "kind", "counter-out-of-bounds",
			      "message", msg, "value", (json_int_t)v, "lower", (json_int_t)lower,
			      "upper", (json_int_t)upper);
	json_object_set_new(f, "op", opref_json(&p->op, "read", val));
	json_decref(val);
	json_array_append_new(c->failures, f);
	free(msg);
}

static int ctr_add(void *st, const struct op *op, char *err, size_t errlen)
{
	struct ctr *c = st;
	if (op->process == PROCESS_NEMESIS)
		return 0;
	const char *f = op->f ? op->f : "";
	if (op->type == OP_INVOKE) {
		struct ctr_pending *p = xcalloc(1, sizeof *p);
		opref_invoke(&p->op, op);
		if (!strcmp(f, "read")) {
			p->is_read = true;
			p->pos_certain = c->pos_certain;
			p->neg_certain = c->neg_certain;
		} else if (!strcmp(f, "add") || !strcmp(f, "increment")) {
			if (!json_is_integer(op->value)) {
				snprintf(err, errlen, "op index %" PRId64 ": a counter add must carry an "
					 "integer amount", op->index);
				free(p);
				return -1;
			}
			p->amount = json_integer_value(op->value);
			if (p->amount >= 0)
				c->pos_possible += p->amount;
			else
				c->neg_possible += p->amount;
		} else {
			snprintf(err, errlen, "op index %" PRId64 ": the counter checker knows add and "
				 "read, not '%s'", op->index, f);
			free(p);
			return -1;
		}
		ctr_pending_free(pairing_open(c->open, op->process, p));
		return 0;
	}
	struct ctr_pending *p = pairing_close(c->open, op->process);
	if (!p)
		return 0;
	opref_complete(&p->op, op);
	int rc = 0;
	if (p->is_read) {
		if (op->type == OP_OK) {
			if (json_is_integer(op->value)) {
				ctr_read(c, p, json_integer_value(op->value));
			} else {
				snprintf(err, errlen, "op index %" PRId64 ": an ok counter read must "
					 "carry an integer", op->index);
				rc = -1;
			}
		}
	} else if (op->type == OP_OK) {
		c->adds_ok++;
		if (p->amount >= 0)
			c->pos_certain += p->amount;
		else
			c->neg_certain += p->amount;
	} else if (op->type == OP_FAIL) {
		c->adds_failed++;
		if (p->amount >= 0)
			c->pos_possible -= p->amount;
		else
			c->neg_possible -= p->amount;
	} else {
		c->adds_unknown++;
	}
	ctr_pending_free(p);
	return rc;
}

static json_t *ctr_points(const struct ctr *c)
{
	json_t *a = json_array();
	size_t stride = c->npts > CTR_MAX_POINTS ? (c->npts + CTR_MAX_POINTS - 1) / CTR_MAX_POINTS
						 : 1;
	for (size_t i = 0; i < c->npts; i++) {
		const struct ctr_point *p = &c->pts[i];
		if (!p->bad && i % stride && i + 1 != c->npts)
			continue;
		json_array_append_new(a, json_pack("[I, I, I, I, I]", (json_int_t)p->time,
						   (json_int_t)p->value, (json_int_t)p->lower,
						   (json_int_t)p->upper, (json_int_t)p->index));
	}
	return a;
}

static void ctr_free(struct ctr *c)
{
	pairing_free(c->open, ctr_pending_free);
	json_decref(c->failures);
	free(c->pts);
	free(c);
}

static json_t *ctr_finish(void *st)
{
	struct ctr *c = st;
	json_t *res = json_object();
	if (c->nbad)
		json_object_set_new(res, "valid", json_false());
	else if (!c->npts) {
		json_object_set_new(res, "valid", json_string("unknown"));
		json_object_set_new(res, "unknown_reason", json_string("no read completed"));
	} else
		json_object_set_new(res, "valid", json_true());
	json_object_set_new(res, "read_count", json_integer((json_int_t)c->npts));
	json_object_set_new(res, "error_count", json_integer((json_int_t)c->nbad));
	json_object_set_new(res, "add_ok_count", json_integer(c->adds_ok));
	json_object_set_new(res, "add_unknown_count", json_integer(c->adds_unknown));
	json_object_set_new(res, "add_fail_count", json_integer(c->adds_failed));
	json_object_set_new(res, "initial", json_integer(c->initial));
	/* Where the counter must end, given every add (pending ones may have
	 * happened). */
	json_object_set_new(res, "final_bounds",
			    json_pack("[I, I]", (json_int_t)(c->initial + c->pos_certain + c->neg_possible),
				      (json_int_t)(c->initial + c->pos_possible + c->neg_certain)));
	json_t *reads = json_object();
	json_object_set_new(reads, "columns",
			    json_pack("[s, s, s, s, s]", "time", "value", "lower", "upper", "index"));
	json_object_set_new(reads, "points", ctr_points(c));
	json_object_set_new(reads, "sampled", json_boolean(c->npts > CTR_MAX_POINTS));
	json_object_set_new(res, "reads", reads);
	if (c->nbad)
		json_object_set(res, "failures", c->failures);
	if (c->nbad > CTR_MAX_FAILURES)
		json_object_set_new(res, "failures_omitted",
				    json_integer((json_int_t)(c->nbad - CTR_MAX_FAILURES)));
	ctr_free(c);
	return res;
}

static void ctr_abort(void *st) { ctr_free(st); }

const struct checker checker_counter = {
	.name = "counter",
	.summary = "every counter read between the acknowledged and the attempted sums of adds",
	.check_opts = ctr_check_opts,
	.begin = ctr_begin,
	.add = ctr_add,
	.finish = ctr_finish,
	.abort = ctr_abort,
};
