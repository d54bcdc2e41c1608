/*
 * check.c - check_history (check.h): one streamed read of a history feeding
 * every checker of a test.
 *
 * Reading and judging overlap: a reader thread parses the file into
 * batches of ops while this thread validates them (invoke/completion
 * pairing, pair.h) and hands each op to every checker, so a large history
 * costs max(parse, judge) rather than their sum and is never held whole.
 * Batches the consumer is done with go back to the reader, which frees
 * their ops: memory is freed by the thread that allocated it, which keeps
 * malloc's arenas uncontended.
 *
 * The timeout covers reading: the consumer waits for batches with a
 * deadline, so a history that never arrives (a FIFO without a writer)
 * ends "unknown" on time instead of hanging.
 */
#include "check.h"

#include "pair.h"
#include "results.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FEED_BATCH 4096
#define FEED_RING 8
/* After a reading timeout, how long the reader may take to notice. */
#define READER_GRACE_NS 1000000000LL

struct feed_batch {
	struct op ops[FEED_BATCH];
	size_t n;
	struct feed_batch *next; /* on the spent list */
};

struct feed {
	const char *path;
	enum history_format fmt;
	pthread_mutex_t mu;
	pthread_cond_t changed;
	struct feed_batch *ring[FEED_RING];
	size_t head, count;
	struct feed_batch *cur;    /* reader's batch being filled */
	struct feed_batch *spent;  /* consumed, for the reader to free */
	bool done, stop;
	int stream_rc;
	struct history_error herr;
};

static void batch_free(struct feed_batch *bt)
{
	for (size_t i = 0; i < bt->n; i++)
		op_free(&bt->ops[i]);
	free(bt);
}

static void feed_put(struct feed *f, struct feed_batch *bt)
{
	pthread_mutex_lock(&f->mu);
	while (f->count == FEED_RING && !f->stop)
		pthread_cond_wait(&f->changed, &f->mu);
	if (f->stop) {
		pthread_mutex_unlock(&f->mu);
		batch_free(bt);
		return;
	}
	f->ring[(f->head + f->count++) % FEED_RING] = bt;
	pthread_cond_broadcast(&f->changed);
	pthread_mutex_unlock(&f->mu);
}

/* A batch to fill: a spent one (its ops freed here) or a new one. */
static struct feed_batch *feed_new_batch(struct feed *f)
{
	struct feed_batch *spent = NULL, *bt = NULL;
	if (__atomic_load_n(&f->spent, __ATOMIC_RELAXED)) {
		pthread_mutex_lock(&f->mu);
		spent = f->spent;
		f->spent = NULL;
		pthread_mutex_unlock(&f->mu);
	}
	while (spent) {
		struct feed_batch *nx = spent->next;
		for (size_t i = 0; i < spent->n; i++)
			op_free(&spent->ops[i]);
		if (!bt)
			bt = spent;
		else
			free(spent);
		spent = nx;
	}
	if (!bt)
		bt = xmalloc(sizeof *bt);
	bt->n = 0;
	bt->next = NULL;
	return bt;
}

static int feed_op(struct op *op, void *ctx)
{
	struct feed *f = ctx;
	if (!f->cur)
		f->cur = feed_new_batch(f);
	f->cur->ops[f->cur->n++] = *op;
	if (f->cur->n == FEED_BATCH) {
		feed_put(f, f->cur);
		f->cur = NULL;
	}
	return __atomic_load_n(&f->stop, __ATOMIC_RELAXED) ? 1 : 0;
}

static void *feed_reader(void *arg)
{
	struct feed *f = arg;
	int rc = history_stream(f->path, f->fmt, feed_op, f, &f->herr);
	if (f->cur) {
		feed_put(f, f->cur);
		f->cur = NULL;
	}
	pthread_mutex_lock(&f->mu);
	f->stream_rc = rc;
	f->done = true;
	pthread_cond_broadcast(&f->changed);
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

static void feed_free(struct feed *f)
{
	while (f->spent) {
		struct feed_batch *nx = f->spent->next;
		batch_free(f->spent);
		f->spent = nx;
	}
	for (size_t i = 0; i < f->count; i++)
		batch_free(f->ring[(f->head + i) % FEED_RING]);
	pthread_cond_destroy(&f->changed);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

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
	unsigned nfs;
	bool lenient;
	int64_t orphans, doubles, mismatches;
};

static unsigned val_fid(struct validator *v, const char *f)
{
	for (unsigned i = 0; i < v->nfs; i++)
		if (!strcmp(v->fs[i], f))
			return i;
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
	struct feed *f;
	struct judge *j;
	size_t nj;
	struct validator val;
	int64_t deadline; /* monotonic ns, 0 none */
	int64_t ops;
	bool bad;         /* err set: bad input */
	bool timed_out;   /* the deadline passed while reading */
	char err[600];
};

static void feed_stop(struct feed *f)
{
	pthread_mutex_lock(&f->mu);
	f->stop = true;
	pthread_cond_broadcast(&f->changed);
	pthread_mutex_unlock(&f->mu);
}

/* Wait for f->changed until the monotonic deadline (0: forever). false
 * once it passed. Called with f->mu held. */
static bool feed_wait(struct feed *f, int64_t deadline)
{
	if (!deadline) {
		pthread_cond_wait(&f->changed, &f->mu);
		return true;
	}
	if (now_ns() >= deadline)
		return false;
	struct timespec ts = {.tv_sec = deadline / 1000000000LL,
			      .tv_nsec = deadline % 1000000000LL};
	pthread_cond_timedwait(&f->changed, &f->mu, &ts);
	return now_ns() < deadline;
}

static void consume_batch(struct consume *c, struct feed_batch *bt)
{
	for (size_t i = 0; i < bt->n && !c->bad; i++) {
		const struct op *op = &bt->ops[i];
		c->ops++;
		char e[512] = "";
		if (val_op(&c->val, op, e, sizeof e) < 0) {
			snprintf(c->err, sizeof c->err, "%s: %s", c->f->path, e);
			c->bad = true;
			break;
		}
		for (size_t k = 0; k < c->nj; k++) {
			if (c->j[k].c->add(c->j[k].st, op, e, sizeof e) < 0) {
				snprintf(c->err, sizeof c->err, "%s: %s", c->f->path, e);
				c->bad = true;
				break;
			}
		}
	}
}

/* Consume every batch until the reader is done, the input is bad or the
 * deadline passes. */
static void consume_all(struct consume *c)
{
	struct feed *f = c->f;
	for (;;) {
		pthread_mutex_lock(&f->mu);
		while (f->count == 0 && !f->done) {
			if (!feed_wait(f, c->deadline)) {
				c->timed_out = true;
				break;
			}
		}
		if (c->timed_out || f->count == 0) {
			pthread_mutex_unlock(&f->mu);
			return;
		}
		struct feed_batch *bt = f->ring[f->head];
		f->head = (f->head + 1) % FEED_RING;
		f->count--;
		pthread_cond_broadcast(&f->changed);
		pthread_mutex_unlock(&f->mu);
		consume_batch(c, bt);
		pthread_mutex_lock(&f->mu);
		bt->next = f->spent;
		f->spent = bt;
		pthread_mutex_unlock(&f->mu);
		if (c->bad)
			return;
	}
}

/* After a stop: wait for the reader to finish (bounded after a timeout,
 * since it may sit in a read that never returns). true if it did, and
 * then the feed may be freed. */
static bool reader_join(struct feed *f, pthread_t tid, bool bounded)
{
	feed_stop(f);
	if (!bounded) {
		pthread_join(tid, NULL);
		return true;
	}
	int64_t until = now_ns() + READER_GRACE_NS;
	pthread_mutex_lock(&f->mu);
	while (!f->done && feed_wait(f, until))
		;
	bool done = f->done;
	pthread_mutex_unlock(&f->mu);
	if (done)
		pthread_join(tid, NULL);
	else
		pthread_detach(tid); /* the feed is left to it: never freed */
	return done;
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
	struct judge *j = xcalloc(n_checkers ? n_checkers : 1, sizeof *j);
	if (judges_begin(j, checkers, n_checkers, ctx, err, errlen) < 0) {
		judges_abort(j, n_checkers);
		free(j);
		return NULL;
	}
	struct consume c = {.j = j, .nj = n_checkers};
	c.val.open = pairing_new();
	c.val.lenient = ctx->lenient;
	c.deadline = ctx->timeout > 0 ? now_ns() + (int64_t)(ctx->timeout * 1e9) : 0;
	struct feed *f = xcalloc(1, sizeof *f);
	c.f = f;
	f->path = path;
	f->fmt = fmt;
	pthread_mutex_init(&f->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&f->changed, &ca);
	pthread_condattr_destroy(&ca);
	pthread_t tid;
	bool threaded = pthread_create(&tid, NULL, feed_reader, f) == 0;
	if (!threaded)
		feed_reader(f);
	consume_all(&c);
	bool freeable = threaded ? reader_join(f, tid, c.timed_out) : true;

	json_t *res = NULL;
	if (c.bad) {
		snprintf(err, errlen, "%s", c.err);
	} else if (!c.timed_out && f->stream_rc < 0) {
		snprintf(err, errlen, "%s", f->herr.msg);
	} else {
		res = json_object();
		json_t *by = json_object();
		enum verdict worst = n_checkers ? VERDICT_VALID : VERDICT_UNKNOWN;
		for (size_t i = 0; i < n_checkers; i++) {
			json_t *r;
			if (c.timed_out) {
				j[i].c->abort(j[i].st);
				r = json_pack("{s:s, s:s}", "valid", "unknown", "unknown_reason",
					      "timeout while reading the history");
			} else {
				r = j[i].c->finish(j[i].st);
				if (!json_is_object(r)) {
					json_decref(r);
					r = json_pack("{s:s, s:s}", "valid", "unknown", "error",
						      "checker returned no result");
				}
			}
			j[i].st = NULL;
			worst = verdict_worst(worst, verdict_of_result(r));
			json_object_set_new(by, j[i].name, r);
		}
		json_object_set_new(res, "valid", verdict_json(worst));
		json_object_set_new(res, "ops", json_integer(c.ops));
		json_object_set_new(res, "checkers", by);
		json_t *w = val_warnings(&c.val);
		if (w)
			json_object_set_new(res, "history_warnings", w);
	}
	if (!res)
		judges_abort(j, n_checkers);
	val_free(&c.val);
	if (freeable)
		feed_free(f);
	free(j);
	return res;
}
