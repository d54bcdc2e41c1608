/*
 * check.c - check_history (check.h): one read of a history feeding every
 * checker of a test.
 *
 * Reading and judging overlap: the history reader (history.h) parses the
 * file into batches in its own threads (large files in parallel chunks)
 * while this thread validates the ops (invoke/completion pairing, pair.h)
 * and hands each one to every checker, so a large history costs about
 * max(parse, judge) rather than their sum and is never held whole. Values
 * every judge can take as text and tokens come so instead of jansson trees
 * (checker.h, read_text).
 *
 * The timeout covers reading: batches are awaited with a deadline, so a
 * history that never arrives (a FIFO without a writer) ends "unknown" on
 * time instead of hanging.
 */
#include "check.h"

#include "history.h"
#include "pair.h"
#include "results.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the judges ---- */

struct judge {
	const char *name;
	const struct checker *c;
	void *st;
};

/* History validation: each client process has at most one open op, and a
 * completion closes an open op of the same f. The open op's index and an
 * id of its f travel in the pairing's data word. */
#define VAL_MAX_F 255

struct validator {
	struct pairing *open;
	char *fs[VAL_MAX_F];
	unsigned nfs, last;
	uint8_t shared[HISTORY_F_SHARED_MAX]; /* by history_f_shared slot: id + 1 */
	bool lenient;
	int64_t orphans, doubles, mismatches;
};

static unsigned val_fid_name(struct validator *v, const char *f);

static unsigned val_fid(struct validator *v, const char *f)
{
	/* By the reader's shared names first (history_f_shared), then by the
	 * first byte: a strcmp call per op showed in profiles. */
	int slot = history_f_shared(f);
	if (slot >= 0 && v->shared[slot])
		return v->shared[slot] - 1u;
	unsigned id = val_fid_name(v, f);
	if (slot >= 0 && id != VAL_MAX_F)
		v->shared[slot] = (uint8_t)(id + 1);
	return id;
}

static unsigned val_fid_name(struct validator *v, const char *f)
{
	if (v->last < v->nfs && v->fs[v->last][0] == f[0] && !strcmp(v->fs[v->last], f))
		return v->last;
	for (unsigned i = 0; i < v->nfs; i++)
		if (v->fs[i][0] == f[0] && !strcmp(v->fs[i], f))
			return v->last = i;
	if (v->nfs == VAL_MAX_F)
		return VAL_MAX_F; /* too many distinct names: f not compared */
	v->fs[v->nfs] = xstrdup(f);
	return v->nfs++;
}

/* 0 if op may be judged; -1 with err (strict mode) if the history is not
 * well-formed there. */
static int val_op(struct validator *v, const struct op *op, char *err, size_t errlen)
{
	if (op->process == PROCESS_NEMESIS)
		return 0;
	unsigned fid = val_fid(v, op->f ? op->f : "");
	if (op->type == OP_INVOKE) {
		void *prev = pairing_open(v->open, op->process,
					  PAIR_INDEX(((uint64_t)op->index << 8) | fid));
		if (!prev)
			return 0;
		v->doubles++;
		if (v->lenient)
			return 0;
		snprintf(err, errlen, "op index %lld: process %lld invokes %s while its op of index "
			 "%lld is still open (a process has one op at a time; --lenient to count "
			 "such ops instead)", (long long)op->index, (long long)op->process,
			 op->f ? op->f : "?", (long long)(PAIR_UNINDEX(prev) >> 8));
		return -1;
	}
	void *d = pairing_close(v->open, op->process);
	if (!d) {
		v->orphans++;
		if (v->lenient)
			return 0;
		snprintf(err, errlen, "op index %lld: %s completion of process %lld without an "
			 "invoke (--lenient to count such ops instead)", (long long)op->index,
			 op_type_name(op->type), (long long)op->process);
		return -1;
	}
	unsigned ifid = (unsigned)(PAIR_UNINDEX(d) & 0xff);
	if (ifid == fid || ifid == VAL_MAX_F || fid == VAL_MAX_F)
		return 0;
	v->mismatches++;
	if (v->lenient)
		return 0;
	snprintf(err, errlen, "op index %lld: completion f '%s' differs from its invoke's '%s' "
		 "(index %lld) (--lenient to count such ops instead)", (long long)op->index,
		 op->f ? op->f : "", v->fs[ifid], (long long)(PAIR_UNINDEX(d) >> 8));
	return -1;
}

static json_t *val_warnings(const struct validator *v)
{
	if (!v->orphans && !v->doubles && !v->mismatches)
		return NULL;
	return json_pack("{s:I, s:I, s:I}", "completions_without_invoke", (json_int_t)v->orphans,
			 "invokes_while_open", (json_int_t)v->doubles, "f_mismatches",
			 (json_int_t)v->mismatches);
}

static void val_free(struct validator *v)
{
	pairing_free(v->open, NULL);
	for (unsigned i = 0; i < v->nfs; i++)
		free(v->fs[i]);
}

/* ---- the pipeline ---- */

struct consume {
	const char *path;
	struct judge *j;
	size_t nj;
	struct validator val;
	int64_t ops;
	int64_t client_ops; /* invocations by clients: the runs' op count */
	bool bad;         /* err set: bad input */
	char err[600];
};

/* How far ahead of add() a judge's prefetch sees the ops: enough for a
 * few memory accesses one after another to arrive, few enough for what
 * they fetch to stay in cache. */
#define PREFETCH_AHEAD 16

/* The reader's threads wrote these ops on another core: what the
 * validator reads of each (its f) is fetched ahead too. */
static void consume_prefetch(struct consume *c, const struct op *op)
{
	__builtin_prefetch(op->f);
	for (size_t k = 0; k < c->nj; k++)
		if (c->j[k].c->prefetch)
			c->j[k].c->prefetch(c->j[k].st, op);
}

static void consume_batch(struct consume *c, const struct op_batch *bt)
{
	for (size_t i = 0; i < bt->n && i < PREFETCH_AHEAD; i++)
		consume_prefetch(c, &bt->ops[i]);
	for (size_t i = 0; i < bt->n && !c->bad; i++) {
		const struct op *op = &bt->ops[i];
		if (i + PREFETCH_AHEAD < bt->n)
			consume_prefetch(c, &bt->ops[i + PREFETCH_AHEAD]);
		c->ops++;
		if (op->type == OP_INVOKE && op->process != PROCESS_NEMESIS)
			c->client_ops++;
		char e[512]; /* not zeroed: 512 bytes per op showed in profiles */
		e[0] = '\0';
		if (val_op(&c->val, op, e, sizeof e) < 0) {
			snprintf(c->err, sizeof c->err, "%s: %s", c->path, e);
			c->bad = true;
			break;
		}
		for (size_t k = 0; k < c->nj; k++) {
			if (c->j[k].c->add(c->j[k].st, op, e, sizeof e) < 0) {
				snprintf(c->err, sizeof c->err, "%s: %s", c->path, e);
				c->bad = true;
				break;
			}
		}
	}
}

/* The reader flags every judge takes (checker.h, read_text): only then
 * the reader skips building those values as trees. The transaction
 * checker takes lists as text (~15 JSON nodes per transaction), the
 * linearizability checker scalars (a jansson string per op). */
static unsigned judges_read_text(const struct judge *j, size_t n)
{
	unsigned flags = n > 0 ? ~0u : 0;
	for (size_t i = 0; i < n; i++)
		flags &= j[i].c->read_text;
	return flags;
}

static void judges_abort(struct judge *j, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (j[i].st)
			j[i].c->abort(j[i].st);
}

static int judges_begin(struct judge *j, const char *const *names, size_t n,
			const struct check_ctx *ctx, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		j[i].name = names[i];
		j[i].c = checker_find(names[i]);
		if (!j[i].c) {
			snprintf(err, errlen, "unknown checker '%s' (known: %s)", names[i],
				 checker_names());
			return -1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		char e[400] = "";
		j[i].st = j[i].c->begin(ctx, e, sizeof e);
		if (!j[i].st) {
			snprintf(err, errlen, "%s", e[0] ? e : "checker could not start");
			return -1;
		}
	}
	return 0;
}

json_t *check_history(const char *path, enum history_format fmt, const char *const *checkers,
		      size_t n_checkers, const struct check_ctx *ctx, char *err, size_t errlen)
{
	struct check_ctx none = {0};
	if (!ctx)
		ctx = &none;
	int64_t deadline = ctx->timeout > 0 ? now_ns() + (int64_t)(ctx->timeout * 1e9) : 0;
	struct judge *j = xcalloc(n_checkers ? n_checkers : 1, sizeof *j);
	if (judges_begin(j, checkers, n_checkers, ctx, err, errlen) < 0) {
		judges_abort(j, n_checkers);
		free(j);
		return NULL;
	}
	struct consume c = {.path = path, .j = j, .nj = n_checkers};
	c.val.open = pairing_new();
	c.val.lenient = ctx->lenient;
	struct history_reader *rd = history_reader_start_flags(
		path, fmt, ctx->threads, judges_read_text(j, n_checkers));
	struct history_error herr = {""};
	struct op_batch *bt;
	int r;
	while ((r = history_reader_next(rd, deadline, &bt, &herr)) == HISTORY_BATCH) {
		consume_batch(&c, bt);
		history_reader_release(rd, bt);
		if (c.bad)
			break;
	}
	history_reader_close(rd);
	bool timed_out = !c.bad && r == HISTORY_TIMEOUT;

	json_t *res = NULL;
	if (c.bad) {
		snprintf(err, errlen, "%s", c.err);
	} else if (r == HISTORY_ERROR) {
		snprintf(err, errlen, "%s", herr.msg);
	} else {
		res = json_object();
		json_t *by = json_object();
		enum verdict worst = n_checkers ? VERDICT_VALID : VERDICT_UNKNOWN;
		for (size_t i = 0; i < n_checkers; i++) {
			json_t *rj;
			if (timed_out) {
				j[i].c->abort(j[i].st);
				rj = json_pack("{s:s, s:s}", "valid", "unknown", "unknown_reason",
					       "timeout while reading the history");
			} else {
				rj = j[i].c->finish(j[i].st);
				if (!json_is_object(rj)) {
					json_decref(rj);
					rj = json_pack("{s:s, s:s}", "valid", "unknown", "error",
						       "checker returned no result");
				}
			}
			j[i].st = NULL;
			worst = verdict_worst(worst, verdict_of_result(rj));
			json_object_set_new(by, j[i].name, rj);
		}
		json_object_set_new(res, "valid", verdict_json(worst));
		json_object_set_new(res, "ops", json_integer(c.ops));
		json_object_set_new(res, "client_ops", json_integer(c.client_ops));
		json_object_set_new(res, "checkers", by);
		json_t *w = val_warnings(&c.val);
		if (w)
			json_object_set_new(res, "history_warnings", w);
	}
	if (!res)
		judges_abort(j, n_checkers);
	val_free(&c.val);
	free(j);
	return res;
}
