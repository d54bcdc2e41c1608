/*
 * lock.c - the lock checker: mutual exclusion and fencing for the lock
 * workload (workloads/lock.c: acquire -> fenced write -> release).
 *
 * Mutual exclusion is linearizability of the acquires and releases under
 * the mutex model: this checker feeds only those ops to the linearizable
 * checker (checkers/linearizable.h, model "mutex") and keeps its verdict
 * and counterexample. One thing is added: a process that held the lock
 * and then crashed (an op of it ended info, so it is retired and will
 * never release) gets a release that may take effect at any time after
 * the crash became known - its lease lets the lock go, which is what a
 * lease is for. Until then the process still believed it held the lock,
 * so another holder before that point is a violation (Kleppmann's paused
 * holder), as it is for a holder that later completes its write and
 * release.
 *
 * The same holds at the end of the test: a process that holds the lock,
 * has no op open and invokes nothing more was stopped by the runner, whose
 * closing of its client lets the lock go after its last completion. To put
 * that release at the right place the acquires and releases are kept (a
 * lock history is small: one lock, one holder at a time) and fed to the
 * mutex model in finish().
 *
 * Fencing: every ok acquire returns a token; a fenced write stores the
 * token and reports the one it replaced ([token, previous]). Tokens must
 * grow: an ok acquire's token must exceed every token acquired before it
 * began ("acquire-order"); a write must not replace a newer token than its
 * own ("write-over-newer": the older holder's write landed after the newer
 * holder's), and the token a write replaced must not be older than a
 * token some write stored before this write began ("write-overwritten":
 * an older holder's write, perhaps one that timed out, landed in between).
 * All three are failures of kind "fencing-backwards".
 *
 * Every failure carries the holders involved as intervals the report can
 * draw: from the acquire's completion to the release's invocation (or the
 * crash), with the ops. The result also lists pairs of holders whose
 * intervals overlap - certain double holding, not merely an order the
 * model could not find.
 */
#include "checker.h"
#include "history.h"
#include "linearizable.h"
#include "opref.h"
#include "pair.h"
#include "results.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LK_MAX_FAILURES 100
#define LK_MAX_OVERLAPS 16
#define LK_MAX_HOLDERS 16   /* holders attached to one failure */
#define NO_TOKEN INT64_MIN

enum { LK_ACQUIRE, LK_RELEASE, LK_WRITE };

struct lk_hold {
	int64_t process, token;
	struct opref acquire;
	struct opref release;    /* valid when has_release */
	struct opref write;      /* its first write, valid when has_write */
	bool has_release, has_write, crashed, stopped;
	int64_t end_index, end_time; /* belief ends: release invoke / crash; INT64_MAX open */
	bool busy;               /* its process has an op open */
	size_t idle_pos;         /* events buffered when its process last completed an op */
	int64_t idle_index, idle_time;
};

struct lk_pending {
	int kind;
	int64_t token;           /* write/release: the token held */
	int64_t snap_token;      /* acquire: max acquired token before; write: max written */
	int64_t snap_index;      /* the op that carried snap_token (invoke index) */
	struct opref op;
};

struct lk {
	void *lin;               /* the linearizable checker, model mutex */
	struct op *ev;           /* acquires and releases (and implicit releases), in order */
	size_t nev, capev;
	struct pairing *open;    /* process -> struct lk_pending */
	struct pairing *holding; /* process -> PAIR_INDEX(hold) */
	struct lk_hold *holds;
	size_t nholds, cap;
	int64_t max_acq, max_acq_index;     /* token, invoke index of its acquire */
	int64_t max_write, max_write_index; /* token, invoke index of its write */
	int64_t last_index, last_time;
	int64_t writes_ok, implicit_releases;
	int64_t fence_kinds[3];
	json_t *failures;        /* fencing failures */
	size_t nfail, omitted;
};

static const char *const fence_checks[] = {"acquire-order", "write-over-newer",
					   "write-overwritten"};

static void *lk_begin(const struct check_ctx *ctx, char *err, size_t errlen)
{
	struct check_ctx c;
	if (ctx)
		c = *ctx;
	else
		memset(&c, 0, sizeof c);
	c.model = "mutex";
	c.init = NULL;
	void *lin = checker_linearizable.begin(&c, err, errlen);
	if (!lin)
		return NULL;
	struct lk *k = xcalloc(1, sizeof *k);
	k->lin = lin;
	k->open = pairing_new();
	k->holding = pairing_new();
	k->max_acq = k->max_write = NO_TOKEN;
	k->max_acq_index = k->max_write_index = -1;
	k->failures = json_array();
	return k;
}

static void lk_pending_free(void *d)
{
	struct lk_pending *p = d;
	if (!p)
		return;
	opref_free(&p->op);
	free(p);
}

static int64_t token_of(json_t *v)
{
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : NO_TOKEN;
}

static json_t *token_json(int64_t t) { return t == NO_TOKEN ? json_null() : json_integer(t); }

static struct lk_hold *lk_hold_of(struct lk *k, int64_t process)
{
	void *d = pairing_peek(k->holding, process);
	return d ? &k->holds[PAIR_UNINDEX(d)] : NULL;
}

static struct lk_hold *lk_hold_by_token(struct lk *k, int64_t token)
{
	if (token == NO_TOKEN)
		return NULL;
	for (size_t i = k->nholds; i-- > 0;)
		if (k->holds[i].token == token)
			return &k->holds[i];
	return NULL;
}

static json_t *hold_json(const struct lk_hold *h)
{
	json_t *tok = token_json(h->token);
	json_t *o = json_object();
	json_object_set_new(o, "process", json_integer(h->process));
	json_object_set(o, "token", tok);
	json_object_set_new(o, "start_index", json_integer(h->acquire.complete_index));
	json_object_set_new(o, "start_time", json_integer(h->acquire.complete_time));
	bool open = h->end_index == INT64_MAX;
	json_object_set_new(o, "end_index", json_integer(open ? -1 : h->end_index));
	json_object_set_new(o, "end_time", json_integer(open ? -1 : h->end_time));
	json_object_set_new(o, "ended_by", json_string(h->crashed ? "crash"
						       : h->stopped ? "end of test"
						       : h->has_release ? "release" : "end of history"));
	json_object_set_new(o, "acquire", opref_json(&h->acquire, "acquire", tok));
	json_object_set_new(o, "release", h->has_release ? opref_json(&h->release, "release", tok)
						       : json_null());
	json_object_set_new(o, "write", h->has_write ? opref_json(&h->write, "write", tok)
						   : json_null());
	json_decref(tok);
	return o;
}

static void holders_add(json_t *arr, const struct lk_hold *h)
{
	if (!h || json_array_size(arr) >= LK_MAX_HOLDERS)
		return;
	size_t i;
	json_t *x;
	json_array_foreach(arr, i, x) {
		if (json_integer_value(json_object_get(x, "start_index")) == h->acquire.complete_index)
			return;
	}
	json_array_append_new(arr, hold_json(h));
}

static void lk_fence_fail(struct lk *k, int check, const struct lk_pending *p, json_t *value,
			  const char *f, char *msg, int64_t newer, int64_t newer_index,
			  const struct lk_hold *const *holders, size_t nholders)
{
	k->fence_kinds[check]++;
	if (k->nfail >= LK_MAX_FAILURES) {
		k->omitted++;
		free(msg);
		return;
	}
	json_t *o = json_pack("{s:s, s:s, s:s}", "kind", "fencing-backwards", "check",
			      fence_checks[check], "message", msg);
	json_object_set_new(o, "op", opref_json(&p->op, f, value));
	json_object_set_new(o, "newer_token", token_json(newer));
	json_object_set_new(o, "newer_index", json_integer(newer_index));
	json_t *hs = json_array();
	for (size_t i = 0; i < nholders; i++)
		holders_add(hs, holders[i]);
	json_object_set_new(o, "holders", hs);
	json_array_append_new(k->failures, o);
	k->nfail++;
	free(msg);
}

/* Keep an op for the mutex model (fed in finish). */
static int lk_lin(struct lk *k, const struct op *op, char *err, size_t errlen)
{
	(void)err, (void)errlen;
	if (k->nev == k->capev) {
		k->capev = k->capev ? k->capev * 2 : 1024;
		k->ev = xrealloc(k->ev, k->capev * sizeof *k->ev);
	}
	struct op *e = &k->ev[k->nev++];
	memset(e, 0, sizeof *e);
	e->index = op->index;
	e->time = op->time;
	e->type = op->type;
	e->process = op->process;
	e->f = xstrdup(op->f ? op->f : "");
	e->value = json_incref(op->value ? op->value : json_null());
	return 0;
}

static struct op lk_release_invoke(int64_t process, int64_t index, int64_t time)
{
	struct op rel;
	memset(&rel, 0, sizeof rel);
	rel.index = index;
	rel.time = time;
	rel.type = OP_INVOKE;
	rel.process = process;
	rel.f = (char *)"release";
	rel.value = json_null();
	return rel;
}

/* A holder crashed: its release may happen at any time from now. */
static int lk_crash(struct lk *k, const struct op *op, char *err, size_t errlen)
{
	void *d = pairing_close(k->holding, op->process);
	if (!d)
		return 0;
	struct lk_hold *h = &k->holds[PAIR_UNINDEX(d)];
	h->crashed = true;
	h->end_index = op->index;
	h->end_time = op->time;
	struct op rel = lk_release_invoke(op->process, op->index, op->time);
	k->implicit_releases++;
	return lk_lin(k, &rel, err, errlen);
}

static void lk_acquired(struct lk *k, struct lk_pending *p, const struct op *op)
{
	int64_t tok = token_of(op->value);
	if (k->nholds == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 256;
		k->holds = xrealloc(k->holds, k->cap * sizeof *k->holds);
	}
	size_t hid = k->nholds++;
	struct lk_hold *h = &k->holds[hid];
	memset(h, 0, sizeof *h);
	h->process = op->process;
	h->token = tok;
	opref_copy(&h->acquire, &p->op);
	h->end_index = h->end_time = INT64_MAX;
	pairing_close(k->holding, op->process); /* a stale hold (should not happen) */
	pairing_open(k->holding, op->process, PAIR_INDEX(hid));
	if (tok != NO_TOKEN && p->snap_token != NO_TOKEN && tok <= p->snap_token) {
		const struct lk_hold *hs[2] = {lk_hold_by_token(k, p->snap_token), h};
		char who[80];
		opref_words(&p->op, who, sizeof who);
		lk_fence_fail(k, 0, p, op->value, "acquire",
			      xasprintf("the acquire by %s got token %" PRId64 ", not above token %"
					PRId64 " that an acquire completed before it began got (index %"
					PRId64 "): tokens went backwards", who, tok, p->snap_token,
					p->snap_index), p->snap_token, p->snap_index, hs, 2);
	}
	if (tok != NO_TOKEN && (k->max_acq == NO_TOKEN || tok > k->max_acq)) {
		k->max_acq = tok;
		k->max_acq_index = p->op.index;
	}
}

static int lk_wrote(struct lk *k, struct lk_pending *p, const struct op *op, char *err,
		    size_t errlen)
{
	json_t *v = op->value;
	if (!json_is_array(v) || json_array_size(v) != 2) {
		snprintf(err, errlen, "op index %" PRId64 ": an ok lock write must carry [token, "
			 "previous token]", op->index);
		return -1;
	}
	int64_t tok = token_of(json_array_get(v, 0)), prev = token_of(json_array_get(v, 1));
	k->writes_ok++;
	struct lk_hold *mine = lk_hold_of(k, op->process);
	if (mine && !mine->has_write) {
		mine->has_write = true;
		opref_copy(&mine->write, &p->op);
	}
	char who[80];
	opref_words(&p->op, who, sizeof who);
	if (tok != NO_TOKEN && prev != NO_TOKEN && prev > tok) {
		const struct lk_hold *hs[2] = {mine ? mine : lk_hold_by_token(k, tok),
					       lk_hold_by_token(k, prev)};
		lk_fence_fail(k, 1, p, v, "write",
			      xasprintf("the write by %s with token %" PRId64 " replaced token %"
					PRId64 ": a holder with an older token wrote after a newer "
					"holder had", who, tok, prev), prev, -1, hs, 2);
	} else if (p->snap_token != NO_TOKEN && (prev == NO_TOKEN || prev < p->snap_token)) {
		const struct lk_hold *hs[3] = {lk_hold_by_token(k, prev),
					       lk_hold_by_token(k, p->snap_token), mine};
		char prevs[32];
		if (prev == NO_TOKEN)
			snprintf(prevs, sizeof prevs, "nothing");
		else
			snprintf(prevs, sizeof prevs, "token %" PRId64, prev);
		lk_fence_fail(k, 2, p, v, "write",
			      xasprintf("the write by %s found %s in the store, though a write of "
					"token %" PRId64 " (index %" PRId64 ") completed before it "
					"began: an older holder's write landed after a newer one's",
					who, prevs, p->snap_token, p->snap_index),
			      p->snap_token, p->snap_index, hs, 3);
	}
	if (tok != NO_TOKEN && (k->max_write == NO_TOKEN || tok > k->max_write)) {
		k->max_write = tok;
		k->max_write_index = p->op.index;
	}
	return 0;
}

static int lk_add(void *st, const struct op *op, char *err, size_t errlen)
{
	struct lk *k = st;
	if (op->process == PROCESS_NEMESIS)
		return 0;
	k->last_index = op->index;
	k->last_time = op->time;
	const char *f = op->f ? op->f : "";
	if (op->type == OP_INVOKE) {
		int kind;
		if (!strcmp(f, "acquire") || !strcmp(f, "lock"))
			kind = LK_ACQUIRE;
		else if (!strcmp(f, "release") || !strcmp(f, "unlock"))
			kind = LK_RELEASE;
		else if (!strcmp(f, "write"))
			kind = LK_WRITE;
		else {
			snprintf(err, errlen, "op index %" PRId64 ": the lock checker knows acquire, "
				 "write and release, not '%s'", op->index, f);
			return -1;
		}
		struct lk_pending *p = xcalloc(1, sizeof *p);
		p->kind = kind;
		opref_invoke(&p->op, op);
		p->token = token_of(op->value);
		if (kind == LK_ACQUIRE) {
			p->snap_token = k->max_acq;
			p->snap_index = k->max_acq_index;
		} else if (kind == LK_WRITE) {
			p->snap_token = k->max_write;
			p->snap_index = k->max_write_index;
		}
		lk_pending_free(pairing_open(k->open, op->process, p));
		struct lk_hold *held = lk_hold_of(k, op->process);
		if (held)
			held->busy = true;
		if (kind == LK_RELEASE) {
			struct lk_hold *h = lk_hold_of(k, op->process);
			if (h) {
				h->has_release = true;
				opref_free(&h->release);
				opref_copy(&h->release, &p->op);
				h->end_index = op->index;
				h->end_time = op->time;
			}
		}
		return kind == LK_WRITE ? 0 : lk_lin(k, op, err, errlen);
	}
	struct lk_pending *p = pairing_close(k->open, op->process);
	if (!p)
		return 0; /* a completion without an invoke: nothing to judge */
	opref_complete(&p->op, op);
	int rc = 0;
	if (p->kind != LK_WRITE)
		rc = lk_lin(k, op, err, errlen);
	if (rc == 0) {
		if (p->kind == LK_ACQUIRE && op->type == OP_OK) {
			lk_acquired(k, p, op);
		} else if (p->kind == LK_RELEASE) {
			struct lk_hold *h = lk_hold_of(k, op->process);
			if (h) {
				opref_free(&h->release);
				opref_copy(&h->release, &p->op);
			}
			if (op->type != OP_FAIL) /* ok, or info: the process is gone */
				pairing_close(k->holding, op->process);
		} else if (p->kind == LK_WRITE) {
			if (op->type == OP_OK)
				rc = lk_wrote(k, p, op, err, errlen);
			else if (op->type == OP_INFO)
				rc = lk_crash(k, op, err, errlen);
		}
	}
	struct lk_hold *h = lk_hold_of(k, op->process);
	if (h) {
		h->busy = false;
		h->idle_pos = k->nev;
		h->idle_index = op->index;
		h->idle_time = op->time;
	}
	lk_pending_free(p);
	return rc;
}

/* ------------------------------------------------------------ results */

static bool hold_overlaps_op(const struct lk_hold *h, json_t *op)
{
	int64_t inv_t = json_integer_value(json_object_get(op, "invoke_time"));
	int64_t done_t = json_integer_value(json_object_get(op, "complete_time"));
	int64_t idx = json_integer_value(json_object_get(op, "index"));
	if (h->acquire.index == idx)
		return true; /* the hold the blamed acquire began */
	if (inv_t < 0 || h->acquire.complete_time < 0) /* untimed history: by position */
		return h->acquire.complete_index <= idx && h->end_index >= idx;
	int64_t end = h->end_time == INT64_MAX ? INT64_MAX : h->end_time;
	return h->acquire.complete_time <= (done_t < 0 ? INT64_MAX : done_t) && end >= inv_t;
}

/* The holders whose intervals overlap each mutex counterexample. */
static void lk_annotate(struct lk *k, json_t *failures)
{
	size_t i;
	json_t *f;
	json_array_foreach(failures, i, f) {
		json_t *op = json_object_get(f, "op");
		json_t *hs = json_array();
		for (size_t h = 0; op && h < k->nholds; h++)
			if (hold_overlaps_op(&k->holds[h], op))
				holders_add(hs, &k->holds[h]);
		json_object_set_new(f, "holders", hs);
	}
}

/* A fencing failure drew its holders as they stood when the write
 * completed, some still open; at the end each is drawn as it ended. */
static void lk_refresh_holders(struct lk *k)
{
	size_t i, j;
	json_t *f, *x;
	json_array_foreach(k->failures, i, f) {
		json_t *hs = json_object_get(f, "holders");
		json_array_foreach(hs, j, x) {
			json_int_t start = json_integer_value(json_object_get(x, "start_index"));
			for (size_t h = 0; h < k->nholds; h++)
				if (k->holds[h].acquire.complete_index == start) {
					json_array_set_new(hs, j, hold_json(&k->holds[h]));
					break;
				}
		}
	}
}

/* Pairs of holders whose intervals overlap: certain double holding. Holds
 * are in acquire-completion order, so a sweep finds them. */
static json_t *lk_overlaps(struct lk *k, int64_t *count)
{
	json_t *a = json_array();
	*count = 0;
	for (size_t i = 0; i < k->nholds; i++) {
		const struct lk_hold *x = &k->holds[i];
		for (size_t j = i + 1; j < k->nholds; j++) {
			const struct lk_hold *y = &k->holds[j];
			if (y->acquire.complete_index >= x->end_index)
				break;
			(*count)++;
			if (json_array_size(a) < LK_MAX_OVERLAPS)
				json_array_append_new(a, json_pack("{s:o, s:o}", "first", hold_json(x),
								   "second", hold_json(y)));
		}
	}
	return a;
}

static void lk_free(struct lk *k)
{
	for (size_t i = 0; i < k->nholds; i++) {
		opref_free(&k->holds[i].acquire);
		if (k->holds[i].has_release)
			opref_free(&k->holds[i].release);
		if (k->holds[i].has_write)
			opref_free(&k->holds[i].write);
	}
	free(k->holds);
	for (size_t i = 0; i < k->nev; i++)
		op_free(&k->ev[i]);
	free(k->ev);
	pairing_free(k->open, lk_pending_free);
	pairing_free(k->holding, NULL);
	json_decref(k->failures);
	free(k);
}

static int cmp_insert(const void *a, const void *b)
{
	const struct lk_hold *x = *(const struct lk_hold *const *)a,
			     *y = *(const struct lk_hold *const *)b;
	return (x->idle_pos > y->idle_pos) - (x->idle_pos < y->idle_pos);
}

/* Feed the kept ops to the mutex model, with a release after the last op
 * of every process stopped while holding. NULL, or the model's error. */
static json_t *lk_judge(struct lk *k)
{
	struct lk_hold **idle = xcalloc(k->nholds + 1, sizeof *idle);
	size_t nidle = 0;
	for (size_t i = 0; i < k->nholds; i++) {
		struct lk_hold *h = &k->holds[i];
		if (h->end_index == INT64_MAX && !h->busy &&
		    lk_hold_of(k, h->process) == h) {
			h->stopped = true;
			h->end_index = h->idle_index;
			h->end_time = h->idle_time;
			idle[nidle++] = h;
		}
	}
	qsort(idle, nidle, sizeof *idle, cmp_insert);
	char err[512] = "";
	int rc = 0;
	size_t j = 0;
	for (size_t i = 0; i <= k->nev && rc == 0; i++) {
		for (; j < nidle && idle[j]->idle_pos == i && rc == 0; j++) {
			struct op rel = lk_release_invoke(idle[j]->process, idle[j]->idle_index,
							  idle[j]->idle_time);
			k->implicit_releases++;
			rc = checker_linearizable.add(k->lin, &rel, err, sizeof err);
		}
		if (i < k->nev && rc == 0)
			rc = checker_linearizable.add(k->lin, &k->ev[i], err, sizeof err);
	}
	free(idle);
	if (rc == 0)
		return NULL;
	return json_pack("{s:s, s:s}", "valid", "unknown", "error", err);
}

static json_t *lk_finish(void *st)
{
	struct lk *k = st;
	json_t *lin = lk_judge(k);
	if (lin)
		checker_linearizable.abort(k->lin);
	else
		lin = checker_linearizable.finish(k->lin);
	k->lin = NULL;
	json_t *failures = json_array();
	json_t *lf = json_object_get(lin, "failures");
	if (json_is_array(lf)) {
		lk_annotate(k, lf);
		json_array_extend(failures, lf);
		json_object_del(lin, "failures");
	}
	lk_refresh_holders(k);
	json_array_extend(failures, k->failures);
	int64_t noverlap;
	json_t *overlaps = lk_overlaps(k, &noverlap);
	int64_t nfence = k->fence_kinds[0] + k->fence_kinds[1] + k->fence_kinds[2];
	enum verdict v = verdict_of_result(lin);
	if (nfence)
		v = VERDICT_INVALID;
	json_t *res = json_object();
	if (v == VERDICT_VALID && k->nholds == 0) {
		json_object_set_new(res, "valid", json_string("unknown"));
		json_object_set_new(res, "unknown_reason", json_string("no acquire succeeded"));
	} else {
		json_object_set_new(res, "valid", verdict_json(v));
	}
	json_object_set_new(res, "mutex", lin);
	json_object_set_new(res, "acquire_ok_count", json_integer((json_int_t)k->nholds));
	json_object_set_new(res, "write_ok_count", json_integer(k->writes_ok));
	json_object_set_new(res, "implicit_releases", json_integer(k->implicit_releases));
	json_object_set_new(res, "overlap_count", json_integer(noverlap));
	json_object_set_new(res, "overlaps", overlaps);
	json_t *fk = json_object();
	for (int i = 0; i < 3; i++)
		json_object_set_new(fk, fence_checks[i], json_integer(k->fence_kinds[i]));
	json_object_set_new(res, "fencing_backwards", fk);
	if (json_array_size(failures))
		json_object_set_new(res, "failures", failures);
	else
		json_decref(failures);
	if (k->omitted)
		json_object_set_new(res, "failures_omitted", json_integer((json_int_t)k->omitted));
	lk_free(k);
	return res;
}

static void lk_abort(void *st)
{
	struct lk *k = st;
	if (k->lin)
		checker_linearizable.abort(k->lin);
	lk_free(k);
}

const struct checker checker_lock = {
	.name = "lock",
	.summary = "lock: mutual exclusion (mutex model over acquire/release) and fencing tokens",
	.begin = lk_begin,
	.add = lk_add,
	.finish = lk_finish,
	.abort = lk_abort,
};
