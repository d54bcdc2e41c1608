/*
 * set_full.c - the set-full checker (Jepsen's set-full): judges histories
 * of adds of unique elements and reads of the whole set, element by
 * element, streaming.
 *
 * An element is *known* from the completion of its ok add, or of the first
 * read that saw it, whichever came first. Ok reads are compared by their
 * invocations: the element's last present read and last absent read decide
 * its outcome, as in Jepsen:
 *   stable      some read saw it, and every read invoked after the last
 *               read that missed it saw it;
 *   lost        known, and the last read that missed it was invoked after
 *               it was known and after the last read that saw it (lost
 *               after a read, when some read had seen it);
 *   never read  neither (e.g. no read began after it was known).
 * On top of that: stale (stable, but some read that began after it was
 * known missed it: the stable latency is positive), flapping (seen by a
 * read, missed by a read invoked after that one completed, seen again by a
 * read invoked after that one completed), recovered (an add that ended
 * info or never completed, yet the element is there), a failed add whose
 * element is there (the client said it certainly did not happen),
 * unexpected elements (no add wrote them) and duplicates within a read.
 *
 * Lost elements are counted twice more: acknowledged (the add completed ok:
 * the database promised it) and unacknowledged (the add timed out or never
 * completed, a read saw the element, later reads did not). An add's record
 * keeps what its client said besides (a Redis "primary", "acks").
 *
 * Invalid: a lost element, a failed add that took effect, an unexpected or
 * duplicated element; with checker_opts.set-full.linearizable also a stale
 * or flapping element. Unknown when no element became stable. Each failure
 * is self-contained: the element, its add (indexes, times) and the reads
 * that show the anomaly, so the report can draw it alone.
 *
 * Cost: each ok read touches every element added so far (as Jepsen's), with
 * integer work per element: a read of the whole set reveals it anyway.
 */
#include "checker.h"
#include "history.h"
#include "model.h"
#include "opref.h"
#include "opts.h"
#include "pair.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SF_MISSED 8          /* reads that missed an element, kept per element */
#define SF_MAX_FAILURES 100  /* detailed failures in the result */
#define SF_MAX_LIST 1000     /* elements per outcome list */
#define SF_WORST_STALE 8

enum { KNOWN_NONE, KNOWN_ADD, KNOWN_READ };

struct sf_elem {
	struct opref add;            /* its add (the ok one if several) */
	bool has_add, tracked, unexpected;
	uint8_t known_by;
	int64_t known_index, known_time;
	int32_t first_present, last_present, last_absent;
	int32_t absent_after_present; /* first read to miss it after a read saw it */
	int32_t flap_back;           /* a read that saw it again after that */
	int32_t unexpected_read, dup_read, failed_present_read;
	uint32_t missed_count;       /* reads invoked after it was known that missed it */
	int32_t missed[SF_MISSED];
};

struct sf_pending {
	bool is_add;
	value_id elem;
	struct opref op;
};

struct sf {
	bool linearizable;
	struct values vals;
	struct sf_elem *el;          /* by value id */
	uint32_t *stamp;             /* by value id: read number that last saw it */
	size_t cap;
	value_id *tracked;           /* ids with an add, in add-invoke order */
	size_t ntracked, captracked;
	struct opref *reads;         /* ok reads */
	size_t nreads, capreads;
	uint32_t readno;
	struct pairing *open;
	int64_t attempts;
};

static int sf_check_opts(json_t *o, char *err, size_t errlen)
{
	static const char *const keys[] = {"linearizable", NULL};
	bool lin;
	if (opts_keys(o, keys, "checker_opts.set-full", err, errlen) < 0 ||
	    opts_bool(o, "linearizable", false, "checker_opts.set-full", &lin, err, errlen) < 0)
		return -1;
	return 0;
}

static void *sf_begin(const struct check_ctx *ctx, char *err, size_t errlen)
{
	json_t *o = checker_opts(ctx, "set-full");
	if (o && !json_is_object(o)) {
		snprintf(err, errlen, "checker_opts.set-full: expected an object");
		return NULL;
	}
	json_t *lin = json_object_get(o, "linearizable");
	if (lin && !json_is_boolean(lin)) {
		snprintf(err, errlen, "checker_opts.set-full.linearizable: expected true or false");
		return NULL;
	}
	struct sf *s = xcalloc(1, sizeof *s);
	s->linearizable = json_is_true(lin);
	values_init(&s->vals);
	s->open = pairing_new();
	return s;
}

static struct sf_elem *sf_elem(struct sf *s, value_id id)
{
	if (id >= s->cap) {
		size_t nc = s->cap ? s->cap : 1024;
		while (nc <= id)
			nc *= 2;
		s->el = xrealloc(s->el, nc * sizeof *s->el);
		s->stamp = xrealloc(s->stamp, nc * sizeof *s->stamp);
		for (size_t i = s->cap; i < nc; i++) {
			struct sf_elem *e = &s->el[i];
			memset(e, 0, sizeof *e);
			e->first_present = e->last_present = e->last_absent = -1;
			e->absent_after_present = e->flap_back = -1;
			e->unexpected_read = e->dup_read = e->failed_present_read = -1;
			s->stamp[i] = 0;
		}
		s->cap = nc;
	}
	return &s->el[id];
}

static void pending_free(void *d)
{
	struct sf_pending *p = d;
	opref_free(&p->op);
	free(p);
}

static void sf_add_invoke(struct sf *s, const struct op *op, struct sf_pending *p)
{
	s->attempts++;
	p->is_add = true;
	p->elem = values_intern(&s->vals, op->value ? op->value : json_null());
	struct sf_elem *e = sf_elem(s, p->elem);
	if (e->has_add)
		return;
	e->has_add = true;
	opref_copy(&e->add, &p->op);
	if (!e->tracked) {
		e->tracked = true;
		if (s->ntracked == s->captracked) {
			s->captracked = s->captracked ? s->captracked * 2 : 1024;
			s->tracked = xrealloc(s->tracked, s->captracked * sizeof *s->tracked);
		}
		s->tracked[s->ntracked++] = p->elem;
	}
}

static void sf_add_complete(struct sf *s, struct sf_pending *p)
{
	struct sf_elem *e = sf_elem(s, p->elem);
	/* Several adds of one element (imported histories): the ok one counts. */
	if (e->add.index == p->op.index || (p->op.type == OP_OK && e->add.type != OP_OK)) {
		opref_free(&e->add);
		opref_copy(&e->add, &p->op);
	}
	if (p->op.type == OP_OK && e->known_by == KNOWN_NONE) {
		e->known_by = KNOWN_ADD;
		e->known_index = p->op.complete_index;
		e->known_time = p->op.complete_time;
	}
}

static int32_t sf_push_read(struct sf *s, struct opref *r)
{
	if (s->nreads == s->capreads) {
		s->capreads = s->capreads ? s->capreads * 2 : 256;
		s->reads = xrealloc(s->reads, s->capreads * sizeof *s->reads);
	}
	s->reads[s->nreads] = *r;
	r->node = NULL; /* moved */
	r->extra = NULL;
	return (int32_t)s->nreads++;
}

static void sf_present(struct sf *s, struct sf_elem *e, int32_t rid)
{
	const struct opref *r = &s->reads[rid];
	if (e->known_by == KNOWN_NONE) {
		e->known_by = KNOWN_READ;
		e->known_index = r->complete_index;
		e->known_time = r->complete_time;
	}
	if (e->last_present < 0 || s->reads[e->last_present].index < r->index)
		e->last_present = rid;
	if (e->first_present < 0)
		e->first_present = rid;
	if (e->absent_after_present >= 0 && e->flap_back < 0 &&
	    r->index > s->reads[e->absent_after_present].complete_index)
		e->flap_back = rid;
	if (e->add.type == OP_FAIL && e->failed_present_read < 0)
		e->failed_present_read = rid;
}

static void sf_absent(struct sf *s, struct sf_elem *e, int32_t rid)
{
	const struct opref *r = &s->reads[rid];
	if (e->last_absent < 0 || s->reads[e->last_absent].index < r->index)
		e->last_absent = rid;
	if (e->known_by != KNOWN_NONE && r->index > e->known_index) {
		if (e->missed_count < SF_MISSED)
			e->missed[e->missed_count] = rid;
		e->missed_count++;
	}
	if (e->first_present >= 0 && e->absent_after_present < 0 &&
	    r->index > s->reads[e->first_present].complete_index)
		e->absent_after_present = rid;
}

static int sf_read_ok(struct sf *s, struct sf_pending *p, json_t *v, char *err, size_t errlen)
{
	if (!json_is_array(v) && !json_is_null(v)) {
		snprintf(err, errlen, "op index %" PRId64 ": an ok set read must carry an array of "
			 "elements (or null: empty)", p->op.complete_index);
		return -1;
	}
	int32_t rid = sf_push_read(s, &p->op);
	uint32_t no = ++s->readno;
	size_t i;
	json_t *x;
	json_array_foreach(v, i, x) {
		value_id id = values_intern(&s->vals, x);
		struct sf_elem *e = sf_elem(s, id);
		if (s->stamp[id] == no) {
			if (e->dup_read < 0)
				e->dup_read = rid;
			continue;
		}
		s->stamp[id] = no;
		if (!e->has_add && e->unexpected_read < 0) {
			e->unexpected = true;
			e->unexpected_read = rid;
		}
	}
	for (size_t k = 0; k < s->ntracked; k++) {
		value_id id = s->tracked[k];
		if (s->stamp[id] == no)
			sf_present(s, &s->el[id], rid);
		else
			sf_absent(s, &s->el[id], rid);
	}
	return 0;
}

static int sf_add(void *st, const struct op *op, char *err, size_t errlen)
{
	struct sf *s = st;
	if (op->process == PROCESS_NEMESIS)
		return 0;
	const char *f = op->f ? op->f : "";
	if (op->type == OP_INVOKE) {
		bool add = !strcmp(f, "add");
		if (!add && strcmp(f, "read")) {
			snprintf(err, errlen, "op index %" PRId64 ": the set-full checker knows add and "
				 "read, not '%s'", op->index, f);
			return -1;
		}
		struct sf_pending *p = xcalloc(1, sizeof *p);
		opref_invoke(&p->op, op);
		if (add)
			sf_add_invoke(s, op, p);
		struct sf_pending *prev = pairing_open(s->open, op->process, p);
		if (prev)
			pending_free(prev); /* a double invoke: the first never completes */
		return 0;
	}
	struct sf_pending *p = pairing_close(s->open, op->process);
	if (!p)
		return 0; /* a completion without an invoke: nothing to judge */
	opref_complete(&p->op, op);
	int rc = 0;
	if (p->is_add)
		sf_add_complete(s, p);
	else if (op->type == OP_OK)
		rc = sf_read_ok(s, p, op->value, err, errlen);
	pending_free(p);
	return rc;
}

/* ------------------------------------------------------------ results */

static void sf_free(struct sf *s);

struct sf_out {
	struct sf *s;
	json_t *failures;
	size_t nfail, omitted;
};

static json_t *sf_read_json(const struct sf *s, int32_t rid)
{
	return rid < 0 ? json_null() : opref_json(&s->reads[rid], "read", NULL);
}

static json_t *sf_elem_json(struct sf *s, value_id id, const char *kind, const char *msg)
{
	const struct sf_elem *e = &s->el[id];
	json_t *o = json_object();
	json_object_set_new(o, "kind", json_string(kind));
	json_object_set_new(o, "message", json_string(msg));
	json_t *ev = values_json(&s->vals, id);
	json_object_set_new(o, "element", ev);
	if (e->has_add)
		json_object_set_new(o, "add", opref_json(&e->add, "add", ev));
	if (e->known_by != KNOWN_NONE)
		json_object_set_new(o, "known", json_pack("{s:s, s:I, s:I}", "by",
			e->known_by == KNOWN_ADD ? "add" : "read", "index",
			(json_int_t)e->known_index, "time", (json_int_t)e->known_time));
	json_object_set_new(o, "first_present", sf_read_json(s, e->first_present));
	json_object_set_new(o, "last_present", sf_read_json(s, e->last_present));
	json_object_set_new(o, "last_absent", sf_read_json(s, e->last_absent));
	json_t *missed = json_array();
	for (uint32_t i = 0; i < e->missed_count && i < SF_MISSED; i++)
		json_array_append_new(missed, sf_read_json(s, e->missed[i]));
	json_object_set_new(o, "missed_by", missed);
	json_object_set_new(o, "missed_count", json_integer(e->missed_count));
	return o;
}

static void sf_fail(struct sf_out *out, json_t *f)
{
	if (out->nfail < SF_MAX_FAILURES) {
		json_array_append_new(out->failures, f);
		out->nfail++;
	} else {
		json_decref(f);
		out->omitted++;
	}
}

static char *elem_str(struct sf *s, value_id id)
{
	json_t *v = values_json(&s->vals, id);
	char *str = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(v);
	return str ? str : xstrdup("?");
}

static void list_add(json_t *list, struct sf *s, value_id id)
{
	if (json_array_size(list) < SF_MAX_LIST)
		json_array_append_new(list, values_json(&s->vals, id));
}

struct sf_counts {
	int64_t stable, lost, never_read, stale, flapping, recovered, failed_present,
		unexpected, duplicated, acknowledged, lost_acknowledged;
};

static int cmp_stale(const void *a, const void *b)
{
	const int64_t *x = a, *y = b; /* [latency, id] pairs, largest first */
	return (x[0] < y[0]) - (x[0] > y[0]);
}

static json_t *sf_finish(void *st)
{
	struct sf *s = st;
	struct sf_out out = {.s = s, .failures = json_array()};
	struct sf_counts c = {0};
	json_t *lost = json_array(), *stale = json_array(), *never = json_array(),
	       *recovered = json_array(), *flapping = json_array(), *flaps = json_array();
	int64_t *stable_lat = xmalloc((s->ntracked + 1) * sizeof *stable_lat);
	int64_t *lost_lat = xmalloc((s->ntracked + 1) * sizeof *lost_lat);
	int64_t *stale_rank = xmalloc((s->ntracked + 1) * 2 * sizeof *stale_rank);
	size_t nsl = 0, nll = 0, nstale = 0;
	char msg[600];
	for (size_t k = 0; k < s->ntracked; k++) {
		value_id id = s->tracked[k];
		struct sf_elem *e = &s->el[id];
		const struct opref *lp = e->last_present >= 0 ? &s->reads[e->last_present] : NULL;
		const struct opref *la = e->last_absent >= 0 ? &s->reads[e->last_absent] : NULL;
		bool known = e->known_by != KNOWN_NONE;
		bool is_stable = lp && (!la || la->index < lp->index);
		bool is_lost = known && la && (!lp || lp->index < la->index) &&
			       e->known_index < la->index;
		bool is_stale = is_stable && la && la->index > e->known_index;
		bool times = e->known_time >= 0;
		char *es = elem_str(s, id);
		if (e->add.type == OP_OK)
			c.acknowledged++;
		if (is_stable) {
			c.stable++;
			if (times && (!is_stale || la->invoke_time >= 0)) {
				int64_t lat = is_stale ? la->invoke_time - e->known_time : 0;
				stable_lat[nsl++] = lat > 0 ? lat : 0;
			}
		} else if (is_lost) {
			c.lost++;
			bool acked = e->add.type == OP_OK;
			c.lost_acknowledged += acked;
			list_add(lost, s, id);
			if (times) {
				int64_t lat = lp && lp->invoke_time >= 0 ? lp->invoke_time - e->known_time : 0;
				lost_lat[nll++] = lat > 0 ? lat : 0;
			}
			const struct opref *m = &s->reads[e->missed_count ? e->missed[0] : e->last_absent];
			if (lp)
				snprintf(msg, sizeof msg, "element %s (%s) was read (read index %" PRId64 ") "
					 "and then missing from every later read: %u read(s) that began "
					 "after it was known missed it, the first at index %" PRId64
					 ", the last at index %" PRId64, es,
					 acked ? "its add acknowledged" : !e->has_add ? "no add wrote it"
					 : e->add.type == OP_INFO ? "its add timed out" : "its add never completed",
					 lp->index, e->missed_count,
					 m->index, la->index);
			else
				snprintf(msg, sizeof msg, "element %s was acknowledged (add index %"
					 PRId64 ") but no read ever contained it: %u read(s) that began "
					 "after the add completed missed it, the first at index %" PRId64
					 ", the last at index %" PRId64, es, e->add.index, e->missed_count,
					 m->index, la->index);
			sf_fail(&out, sf_elem_json(s, id, "lost", msg));
		} else {
			c.never_read++;
			list_add(never, s, id);
		}
		if (is_stale) {
			c.stale++;
			list_add(stale, s, id);
			stale_rank[2 * nstale] = times && la->invoke_time >= 0
						 ? la->invoke_time - e->known_time : 0;
			stale_rank[2 * nstale + 1] = id;
			nstale++;
		}
		if (e->flap_back >= 0) {
			c.flapping++;
			list_add(flapping, s, id);
			if (s->linearizable) {
				snprintf(msg, sizeof msg, "element %s was present (read index %" PRId64
					 "), missing from a later read (index %" PRId64 "), then present "
					 "again (index %" PRId64 ")", es,
					 s->reads[e->first_present].index,
					 s->reads[e->absent_after_present].index,
					 s->reads[e->flap_back].index);
				json_t *f = sf_elem_json(s, id, "flapping", msg);
				json_object_set_new(f, "absent", sf_read_json(s, e->absent_after_present));
				json_object_set_new(f, "present_again", sf_read_json(s, e->flap_back));
				json_array_append_new(flaps, f); /* listed after the stale ones */
			}
		}
		if (e->first_present >= 0 && e->add.type != OP_OK) {
			if (e->add.type == OP_FAIL) {
				c.failed_present++;
				snprintf(msg, sizeof msg, "the add of element %s failed (index %" PRId64
					 "), yet the read at index %" PRId64 " contains it: an op "
					 "reported as certainly not done took effect", es, e->add.index,
					 s->reads[e->failed_present_read].index);
				json_t *f = sf_elem_json(s, id, "failed-add-present", msg);
				json_object_set_new(f, "read", sf_read_json(s, e->failed_present_read));
				sf_fail(&out, f);
			} else {
				c.recovered++;
				list_add(recovered, s, id);
			}
		}
		free(es);
	}
	/* Unexpected and duplicated elements: any id a read saw. */
	for (size_t id = 0; id < s->cap && id < s->vals.in.n; id++) {
		struct sf_elem *e = &s->el[id];
		if (e->unexpected) {
			c.unexpected++;
			char *es = elem_str(s, (value_id)id);
			snprintf(msg, sizeof msg, "the read at index %" PRId64 " contains element %s, "
				 "which no add wrote", s->reads[e->unexpected_read].index, es);
			json_t *f = sf_elem_json(s, (value_id)id, "unexpected", msg);
			json_object_set_new(f, "read", sf_read_json(s, e->unexpected_read));
			sf_fail(&out, f);
			free(es);
		}
		if (e->dup_read >= 0) {
			c.duplicated++;
			char *es = elem_str(s, (value_id)id);
			snprintf(msg, sizeof msg, "the read at index %" PRId64 " contains element %s "
				 "more than once", s->reads[e->dup_read].index, es);
			json_t *f = sf_elem_json(s, (value_id)id, "duplicated", msg);
			json_object_set_new(f, "read", sf_read_json(s, e->dup_read));
			sf_fail(&out, f);
			free(es);
		}
	}

	/* Stale elements, worst first: failures when the set should be
	 * linearizable, else evidence only. */
	qsort(stale_rank, nstale, 2 * sizeof *stale_rank, cmp_stale);
	json_t *worst = json_array();
	for (size_t i = 0; i < nstale; i++) {
		value_id id = (value_id)stale_rank[2 * i + 1];
		if (!s->linearizable && i >= SF_WORST_STALE)
			break;
		struct sf_elem *e = &s->el[id];
		char *es = elem_str(s, id);
		const struct opref *la = &s->reads[e->last_absent];
		snprintf(msg, sizeof msg, "element %s was missing from %u read(s) that began after "
			 "it was known (%s index %" PRId64 "), the last at index %" PRId64 "; every "
			 "read invoked after that one saw it (visible %.1f ms late)", es,
			 e->missed_count, e->known_by == KNOWN_ADD ? "add completed at" : "first read at",
			 e->known_index, la->index, (double)stale_rank[2 * i] / 1e6);
		json_t *f = sf_elem_json(s, id, "stale", msg);
		json_object_set_new(f, "stable_latency_ms", json_real((double)stale_rank[2 * i] / 1e6));
		if (i < SF_WORST_STALE)
			json_array_append(worst, f);
		if (s->linearizable)
			sf_fail(&out, f);
		else
			json_decref(f);
		free(es);
	}
	size_t fi;
	json_t *ff;
	json_array_foreach(flaps, fi, ff)
		sf_fail(&out, json_incref(ff));
	json_decref(flaps);
	bool bad = c.lost || c.failed_present || c.unexpected || c.duplicated ||
		   (s->linearizable && (c.stale || c.flapping));
	json_t *res = json_object();
	if (bad)
		json_object_set_new(res, "valid", json_false());
	else if (!c.stable) {
		json_object_set_new(res, "valid", json_string("unknown"));
		json_object_set_new(res, "unknown_reason", json_string(
			s->ntracked ? "no element was ever stably read" : "no element was added"));
	} else
		json_object_set_new(res, "valid", json_true());
	json_object_set_new(res, "linearizable", json_boolean(s->linearizable));
	json_object_set_new(res, "attempt_count", json_integer(s->attempts));
	json_object_set_new(res, "acknowledged_count", json_integer(c.acknowledged));
	json_object_set_new(res, "read_count", json_integer((json_int_t)s->nreads));
	json_object_set_new(res, "stable_count", json_integer(c.stable));
	json_object_set_new(res, "lost_count", json_integer(c.lost));
	/* Lost after the database acknowledged the add, versus lost after a
	 * read saw an add whose outcome the client never learned. */
	json_object_set_new(res, "lost_acknowledged_count", json_integer(c.lost_acknowledged));
	json_object_set_new(res, "lost_unacknowledged_count", json_integer(c.lost - c.lost_acknowledged));
	json_object_set_new(res, "never_read_count", json_integer(c.never_read));
	json_object_set_new(res, "stale_count", json_integer(c.stale));
	json_object_set_new(res, "flapping_count", json_integer(c.flapping));
	json_object_set_new(res, "recovered_count", json_integer(c.recovered));
	json_object_set_new(res, "failed_add_present_count", json_integer(c.failed_present));
	json_object_set_new(res, "unexpected_count", json_integer(c.unexpected));
	json_object_set_new(res, "duplicated_count", json_integer(c.duplicated));
	json_object_set_new(res, "lost", lost);
	json_object_set_new(res, "stale", stale);
	json_object_set_new(res, "flapping", flapping);
	json_object_set_new(res, "never_read", never);
	json_object_set_new(res, "recovered", recovered);
	json_object_set_new(res, "worst_stale", worst);
	json_t *q = quantiles_ms(stable_lat, nsl);
	if (q)
		json_object_set_new(res, "stable_latencies", q);
	q = quantiles_ms(lost_lat, nll);
	if (q)
		json_object_set_new(res, "lost_latencies", q);
	if (out.nfail)
		json_object_set_new(res, "failures", out.failures);
	else
		json_decref(out.failures);
	if (out.omitted)
		json_object_set_new(res, "failures_omitted", json_integer((json_int_t)out.omitted));
	free(stable_lat);
	free(lost_lat);
	free(stale_rank);
	sf_free(s);
	return res;
}

static void sf_free(struct sf *s)
{
	for (size_t i = 0; i < s->cap; i++)
		opref_free(&s->el[i].add);
	for (size_t i = 0; i < s->nreads; i++)
		opref_free(&s->reads[i]);
	free(s->el);
	free(s->stamp);
	free(s->tracked);
	free(s->reads);
	pairing_free(s->open, pending_free);
	values_free(&s->vals);
	free(s);
}

static void sf_abort(void *st) { sf_free(st); }

const struct checker checker_set_full = {
	.name = "set-full",
	.summary = "set adds and reads per element: lost, stale, flapping, recovered (Jepsen's set-full)",
	.check_opts = sf_check_opts,
	.begin = sf_begin,
	.add = sf_add,
	.finish = sf_finish,
	.abort = sf_abort,
};
