/*
 * bank.c - the bank checker (Jepsen's bank): every ok read of all
 * balances must show exactly the accounts the test opened, adding up to
 * the opening total, with no balance below zero unless negative balances
 * are allowed. Transfers themselves prove nothing (a read is where money
 * created or destroyed shows), so only reads are judged, one at a time as
 * they stream by.
 *
 * The opening balances come from checker_opts.bank.initial if given, else
 * from the run's test.json (workload_opts.initial, which the bank workload
 * fills in and the clients create); negative_ok likewise. A history with
 * neither cannot be judged (bad input).
 *
 * Failures, one per bad read and kind, each carrying the read op:
 * "wrong-total" (total, expected), "negative-balance" (the accounts below
 * zero), "missing-account", "unexpected-account", "bad-balance" (not an
 * integer). The result also carries the total of every ok read over time
 * (sampled down to a few thousand points, bad reads always kept) for the
 * report's plot.
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

#define BANK_MAX_FAILURES 100
#define BANK_MAX_POINTS 2000

struct bank_point {
	int64_t time, total, index;
	bool bad, complete; /* complete: every balance present and an integer */
};

struct bank {
	json_t *initial;       /* account -> opening balance (own reference) */
	int64_t total;
	bool negative_ok;
	struct pairing *open;  /* process -> struct opref * (reads), or a marker */
	struct bank_point *pts;
	size_t npts, cap;
	json_t *failures;
	size_t nfail, omitted;
	int64_t kinds[5];
	int64_t transfers_ok, transfers_unknown;
};

enum { K_TOTAL, K_NEGATIVE, K_MISSING, K_UNEXPECTED, K_BAD };
static const char *const kind_names[] = {"wrong-total", "negative-balance", "missing-account",
					 "unexpected-account", "bad-balance"};

static const char TRANSFER_MARK; /* pairing data of an open transfer */

static int bank_check_initial(json_t *init, const char *where, char *err, size_t errlen)
{
	if (!json_is_object(init) || json_object_size(init) == 0) {
		snprintf(err, errlen, "%s: expected an object of accounts and opening balances", where);
		return -1;
	}
	const char *k;
	json_t *v;
	json_object_foreach(init, k, v) {
		if (!json_is_integer(v)) {
			snprintf(err, errlen, "%s.%s: expected an integer balance", where, k);
			return -1;
		}
	}
	return 0;
}

static int bank_check_opts(json_t *o, char *err, size_t errlen)
{
	static const char *const keys[] = {"initial", "negative_ok", NULL};
	if (opts_keys(o, keys, "checker_opts.bank", err, errlen) < 0)
		return -1;
	json_t *n = json_object_get(o, "negative_ok");
	if (n && !json_is_boolean(n)) {
		snprintf(err, errlen, "checker_opts.bank.negative_ok: expected true or false");
		return -1;
	}
	json_t *init = json_object_get(o, "initial");
	return init ? bank_check_initial(init, "checker_opts.bank.initial", err, errlen) : 0;
}

static void *bank_begin(const struct check_ctx *ctx, char *err, size_t errlen)
{
	json_t *o = checker_opts(ctx, "bank");
	json_t *wo = ctx ? json_object_get(ctx->test, "workload_opts") : NULL;
	json_t *init = json_object_get(o, "initial");
	const char *where = "checker_opts.bank.initial";
	if (!init) {
		init = json_object_get(wo, "initial");
		where = "test.json: workload_opts.initial";
	}
	if (!init) {
		snprintf(err, errlen, "bank: no opening balances to judge against: check a run "
			 "directory (its test.json has workload_opts.initial) or give "
			 "checker_opts.bank.initial");
		return NULL;
	}
	if (bank_check_initial(init, where, err, errlen) < 0)
		return NULL;
	struct bank *b = xcalloc(1, sizeof *b);
	b->initial = json_incref(init);
	const char *k;
	json_t *v;
	json_object_foreach(init, k, v)
		b->total += json_integer_value(v);
	json_t *neg = json_object_get(o, "negative_ok");
	if (!neg)
		neg = json_object_get(wo, "negative_ok");
	b->negative_ok = json_is_true(neg);
	b->open = pairing_new();
	b->failures = json_array();
	return b;
}

static void bank_pending_free(void *d)
{
	if (!d || d == &TRANSFER_MARK)
		return;
	opref_free(d);
	free(d);
}

static void bank_fail(struct bank *b, int kind, const struct opref *r, json_t *value,
		      char *msg, json_t *extra)
{
	b->kinds[kind]++;
	if (b->nfail >= BANK_MAX_FAILURES) {
		b->omitted++;
		json_decref(extra);
		free(msg);
		return;
	}
	json_t *f = json_pack("{s:s, s:s}", "kind", kind_names[kind], "message", msg);
	json_object_set_new(f, "op", opref_json(r, "read", value));
	if (extra)
		json_object_update(f, extra);
	json_decref(extra);
	json_array_append_new(b->failures, f);
	b->nfail++;
	free(msg);
}

static int bank_read(struct bank *b, const struct opref *r, json_t *v, char *err, size_t errlen)
{
	if (!json_is_object(v)) {
		snprintf(err, errlen, "op index %" PRId64 ": an ok bank read must carry an object "
			 "of balances", r->complete_index);
		return -1;
	}
	char who[80];
	opref_words(r, who, sizeof who);
	int64_t total = 0;
	bool bad = false, complete = true;
	json_t *missing = json_array(), *unexpected = json_array(), *negative = json_object(),
	       *badbal = json_object();
	const char *k;
	json_t *x;
	json_object_foreach(b->initial, k, x) {
		if (!json_object_get(v, k))
			json_array_append_new(missing, json_string(k));
	}
	json_object_foreach(v, k, x) {
		if (!json_object_get(b->initial, k))
			json_array_append_new(unexpected, json_string(k));
		if (!json_is_integer(x)) {
			json_object_set(badbal, k, x);
			complete = false;
			continue;
		}
		total += json_integer_value(x);
		if (json_integer_value(x) < 0 && !b->negative_ok)
			json_object_set(negative, k, x);
	}
	if (json_array_size(missing)) {
		complete = false;
		bad = true;
		char *s = json_dumps(missing, JSON_COMPACT);
		bank_fail(b, K_MISSING, r, v, xasprintf("the read by %s lacks account(s) %s", who, s),
			  json_pack("{s:O}", "accounts", missing));
		free(s);
	}
	if (json_array_size(unexpected)) {
		bad = true;
		char *s = json_dumps(unexpected, JSON_COMPACT);
		bank_fail(b, K_UNEXPECTED, r, v, xasprintf("the read by %s shows account(s) %s the "
			  "test never opened", who, s), json_pack("{s:O}", "accounts", unexpected));
		free(s);
	}
	if (json_object_size(badbal)) {
		bad = true;
		char *s = json_dumps(badbal, JSON_COMPACT);
		bank_fail(b, K_BAD, r, v, xasprintf("the read by %s has balance(s) that are not "
			  "integers: %s", who, s), json_pack("{s:O}", "accounts", badbal));
		free(s);
	}
	if (json_object_size(negative)) {
		bad = true;
		char *s = json_dumps(negative, JSON_COMPACT);
		bank_fail(b, K_NEGATIVE, r, v, xasprintf("the read by %s shows negative balance(s) "
			  "%s", who, s), json_pack("{s:O}", "accounts", negative));
		free(s);
	}
	/* A total over a partial read would only repeat the missing account. */
	if (complete && !json_array_size(unexpected) && total != b->total) {
		bad = true;
		bank_fail(b, K_TOTAL, r, v, xasprintf("the read by %s totals %" PRId64 ", not %"
			  PRId64 ": money was %s", who, total, b->total, total > b->total ?
			  "created" : "destroyed"), json_pack("{s:I, s:I}", "total",
			  (json_int_t)total, "expected_total", (json_int_t)b->total));
	}
	json_decref(missing);
	json_decref(unexpected);
	json_decref(negative);
	json_decref(badbal);
	if (b->npts == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 1024;
		b->pts = xrealloc(b->pts, b->cap * sizeof *b->pts);
	}
	b->pts[b->npts++] = (struct bank_point){r->complete_time, total, r->index, bad, complete};
	return 0;
}

static int bank_add(void *st, const struct op *op, char *err, size_t errlen)
{
	struct bank *b = st;
	if (op->process == PROCESS_NEMESIS)
		return 0;
	const char *f = op->f ? op->f : "";
	if (op->type == OP_INVOKE) {
		void *d;
		if (!strcmp(f, "transfer")) {
			d = (void *)&TRANSFER_MARK;
		} else if (!strcmp(f, "read")) {
			struct opref *r = xmalloc(sizeof *r);
			opref_invoke(r, op);
			d = r;
		} else {
			snprintf(err, errlen, "op index %" PRId64 ": the bank checker knows transfer "
				 "and read, not '%s'", op->index, f);
			return -1;
		}
		bank_pending_free(pairing_open(b->open, op->process, d));
		return 0;
	}
	void *d = pairing_close(b->open, op->process);
	if (!d)
		return 0;
	if (d == &TRANSFER_MARK) {
		if (op->type == OP_OK)
			b->transfers_ok++;
		else if (op->type == OP_INFO)
			b->transfers_unknown++;
		return 0;
	}
	struct opref *r = d;
	opref_complete(r, op);
	int rc = op->type == OP_OK ? bank_read(b, r, op->value, err, errlen) : 0;
	bank_pending_free(r);
	return rc;
}

/* The totals to plot: every bad read, and the others evenly thinned. */
static json_t *bank_points(const struct bank *b)
{
	json_t *a = json_array();
	size_t stride = b->npts > BANK_MAX_POINTS ? (b->npts + BANK_MAX_POINTS - 1) / BANK_MAX_POINTS
						  : 1;
	for (size_t i = 0; i < b->npts; i++) {
		const struct bank_point *p = &b->pts[i];
		if (!p->bad && i % stride && i + 1 != b->npts)
			continue;
		json_t *pt = json_pack("[I, I, I]", (json_int_t)p->time, (json_int_t)p->total,
				       (json_int_t)p->index);
		json_array_append_new(a, pt);
	}
	return a;
}

static void bank_free(struct bank *b)
{
	json_decref(b->initial);
	json_decref(b->failures);
	pairing_free(b->open, bank_pending_free);
	free(b->pts);
	free(b);
}

static json_t *bank_finish(void *st)
{
	struct bank *b = st;
	json_t *res = json_object();
	int64_t errors = 0;
	for (int i = 0; i < 5; i++)
		errors += b->kinds[i];
	if (errors)
		json_object_set_new(res, "valid", json_false());
	else if (!b->npts) {
		json_object_set_new(res, "valid", json_string("unknown"));
		json_object_set_new(res, "unknown_reason", json_string("no read completed"));
	} else
		json_object_set_new(res, "valid", json_true());
	json_object_set_new(res, "read_count", json_integer((json_int_t)b->npts));
	json_object_set_new(res, "transfer_ok_count", json_integer(b->transfers_ok));
	json_object_set_new(res, "transfer_unknown_count", json_integer(b->transfers_unknown));
	json_object_set_new(res, "expected_total", json_integer(b->total));
	json_object_set_new(res, "accounts", json_integer((json_int_t)json_object_size(b->initial)));
	json_object_set_new(res, "negative_ok", json_boolean(b->negative_ok));
	json_object_set_new(res, "error_count", json_integer(errors));
	json_t *kinds = json_object();
	for (int i = 0; i < 5; i++)
		if (b->kinds[i])
			json_object_set_new(kinds, kind_names[i], json_integer(b->kinds[i]));
	json_object_set_new(res, "error_kinds", kinds);
	json_t *tot = json_object();
	json_object_set_new(tot, "columns", json_pack("[s, s, s]", "time", "total", "index"));
	json_object_set_new(tot, "points", bank_points(b));
	json_object_set_new(tot, "sampled", json_boolean(b->npts > BANK_MAX_POINTS));
	json_object_set_new(res, "totals", tot);
	if (b->nfail)
		json_object_set(res, "failures", b->failures);
	if (b->omitted)
		json_object_set_new(res, "failures_omitted", json_integer((json_int_t)b->omitted));
	bank_free(b);
	return res;
}

static void bank_abort(void *st) { bank_free(st); }

const struct checker checker_bank = {
	.name = "bank",
	.summary = "every read of all balances shows the opening accounts and total, none negative",
	.check_opts = bank_check_opts,
	.begin = bank_begin,
	.add = bank_add,
	.finish = bank_finish,
	.abort = bank_abort,
};
