/*
 * report.c - writes RUN_DIR/report.html, the one file a person opens to see
 * what a run did and, when it failed, why: within a screen of the verdict,
 * which ops broke which guarantee, where (key, process, node), when (history
 * time and wall-clock time, to match the nodes' logs) and under which
 * faults.
 *
 * It streams history.jsonl once, pairs every invoke with its completion,
 * turns nemesis ops into fault intervals, and computes the counts, error
 * groups and latency quantiles in C. The page itself is static HTML
 * (header, tables, links, all escaped with html_escape) plus one JSON blob
 * the inline script draws from (src/report/report.js, embedded by
 * report_assets.c): the ops as columns of compact variable-length numbers
 * (see data_column; a 1,000,000-op history stays about 13 MB), strings
 * interned into tables, the fault intervals, and results.json, whose
 * failures the script renders by their "kind". Nothing on the page is ever
 * fetched: a CSP meta tag forbids every remote load.
 *
 * Inputs: test.json, history.jsonl, results.json (all optional but the
 * history) and, for the wall-clock anchor of history time 0 when test.json
 * does not give it, the runner's faultline.log.
 */
#include "report.h"
#include "history.h"
#include "report_assets.h"
#include "results.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Values longer than this are cut in the embedded data; the full op stays
 * in history.jsonl, linked from the page. */
#define VALUE_TEXT_MAX 160
/* Failures embedded in full up to this many bytes of JSON in all; beyond it
 * a failure is embedded as its kind and message (results.json has it). */
#define FAILURES_EMBED_MAX (8u << 20)

/* Outcome classes, as embedded (report.js knows the same numbers). A fail
 * is "expected" when it is the operation's answer rather than a failure to
 * get one (a cas whose compare did not hold, a transfer refused for want
 * of funds): it is not an error and is drawn as a normal outcome. */
enum { TY_OK, TY_FAIL, TY_INFO, TY_PENDING, TY_EXPECTED, TY_N };

/* Errors that are an operation's answer: a precondition the database
 * checked and found false, so the op certainly did nothing. A db client
 * reporting such an outcome completes the op `fail` with one of these
 * phrases (alone, or followed by ": " and details), or with no error at
 * all: every client in src/db/ and the example adapters write them so
 * (etcd_client.c, redis_client.c: "compare failed"; etcd_bank.c,
 * postgres_bank.c: "insufficient funds: a1 has 3"; etcd_lock.c: a release
 * by a process that holds no lock, "not holding the lock", sent nothing
 * and changed nothing). "contention: the compare failed N times" is a
 * client giving up, not an answer: an error. Expected outcomes are
 * grouped by the phrase. */
static const char *const expected_errors[] = {"compare failed", "insufficient funds",
					      "not holding the lock"};

/* The phrase an error is an expected outcome by, or NULL. */
static const char *expected_phrase(const char *error)
{
	for (size_t i = 0; i < sizeof expected_errors / sizeof *expected_errors; i++) {
		size_t n = strlen(expected_errors[i]);
		if (!strncmp(error, expected_errors[i], n) && (!error[n] || !strncmp(error + n, ": ", 2)))
			return expected_errors[i];
	}
	return NULL;
}

static bool expected_fail(const char *error)
{
	return !error || expected_phrase(error);
}

/* ---- string interning: each distinct string is embedded once ---- */

struct strtab {
	char **s;
	size_t n, cap;
	uint32_t *slots; /* open addressing: id + 1, 0 = empty */
	size_t nslots;
};

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void strtab_grow(struct strtab *t)
{
	size_t ns = t->nslots ? t->nslots * 2 : 64;
	uint32_t *slots = xcalloc(ns, sizeof *slots);
	for (size_t i = 0; i < t->n; i++) {
		size_t j = str_hash(t->s[i]) & (ns - 1);
		while (slots[j])
			j = (j + 1) & (ns - 1);
		slots[j] = (uint32_t)i + 1;
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = ns;
}

/* Returns the id of s, adding it if new; -1 for NULL. */
static int64_t strtab_id(struct strtab *t, const char *s)
{
	if (!s)
		return -1;
	if ((t->n + 1) * 2 > t->nslots)
		strtab_grow(t);
	size_t j = str_hash(s) & (t->nslots - 1);
	while (t->slots[j]) {
		uint32_t id = t->slots[j] - 1;
		if (!strcmp(t->s[id], s))
			return id;
		j = (j + 1) & (t->nslots - 1);
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->s = xrealloc(t->s, t->cap * sizeof *t->s);
	}
	t->s[t->n] = xstrdup(s);
	t->slots[j] = (uint32_t)t->n + 1;
	return (int64_t)t->n++;
}

static void strtab_free(struct strtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->s[i]);
	free(t->s);
	free(t->slots);
	memset(t, 0, sizeof *t);
}

/* ---- the paired history ---- */

struct rop {
	int64_t t0, t1;   /* invoke / completion time, ns; t1 -1 if never completed */
	int64_t process;
	int64_t index;    /* index of the invoke */
	int64_t cindex;   /* index of the completion, -1 if none */
	int ty;
	int32_t f, key, value, node, error; /* string ids, -1 = none */
};

struct nem_event {
	char *f;
	int64_t t0, t1;
	char *value; /* compact JSON text */
};

struct pending {
	int64_t process;
	size_t op; /* index into ops + 1; 0 = free slot */
};

/* A node's address and name (test.json), to write "n2" where a client
 * error says "10.213.150.12". */
struct host {
	char *host, *name;
};

struct run {
	struct rop *ops;
	size_t n, cap;
	struct pending *pend; /* open-addressed by process */
	size_t npend, pend_used;
	struct nem_event *nem;
	size_t nnem, capnem;
	bool nem_open;
	struct nem_event nem_cur;
	struct strtab fs, keys, values, nodes, errors;
	struct strtab raw_errors; /* as the history has them */
	int32_t *error_of_raw;    /* raw error id -> errors id (node names for addresses) */
	size_t nmapped, capmapped;
	struct host *hosts;
	size_t nhosts;
	int64_t end;          /* latest time seen, ns */
	size_t orphans;       /* completions without an invoke */
};

static size_t *pend_slot(struct run *r, int64_t process)
{
	size_t j = (size_t)(process * 2654435761u) & (r->npend - 1);
	while (r->pend[j].op && r->pend[j].process != process)
		j = (j + 1) & (r->npend - 1);
	r->pend[j].process = process;
	return &r->pend[j].op;
}

/* Deleting from linear probing without tombstones: reinsert the cluster. */
static void pend_delete(struct run *r, int64_t process)
{
	size_t mask = r->npend - 1;
	size_t j = (size_t)(process * 2654435761u) & mask;
	while (r->pend[j].op && r->pend[j].process != process)
		j = (j + 1) & mask;
	if (!r->pend[j].op)
		return;
	r->pend[j].op = 0;
	r->pend_used--;
	for (size_t k = (j + 1) & mask; r->pend[k].op; k = (k + 1) & mask) {
		struct pending p = r->pend[k];
		r->pend[k].op = 0;
		*pend_slot(r, p.process) = p.op;
	}
}

static void pend_grow(struct run *r)
{
	struct pending *old = r->pend;
	size_t nold = r->npend;
	r->npend = nold ? nold * 2 : 256;
	r->pend = xcalloc(r->npend, sizeof *r->pend);
	for (size_t i = 0; i < nold; i++)
		if (old[i].op)
			*pend_slot(r, old[i].process) = old[i].op;
	free(old);
}

/* Compact JSON text of a value, cut to VALUE_TEXT_MAX; NULL for null.
 * Integers (most register values) skip jansson's encoder. */
static char *value_text(json_t *v)
{
	if (!v || json_is_null(v))
		return NULL;
	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	char *full = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!full)
		return NULL;
	if (strlen(full) <= VALUE_TEXT_MAX)
		return full;
	char *t = utf8_truncate(full, VALUE_TEXT_MAX);
	free(full);
	return t;
}

/* Decimal text of v into out (at least 21 bytes); printf is the slowest
 * part of a million-op report otherwise. */
static void int_text(long long v, char *out)
{
	char tmp[24];
	int n = 0;
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
	do
		tmp[n++] = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*out++ = '-';
	while (n)
		*out++ = tmp[--n];
	*out = 0;
}

static int32_t intern_value(struct run *r, json_t *v)
{
	if (!v || json_is_null(v))
		return -1;
	char small[64];
	if (json_is_integer(v)) { /* no allocation on the common path */
		int_text((long long)json_integer_value(v), small);
		return (int32_t)strtab_id(&r->values, small);
	}
	if (json_is_array(v) && json_array_size(v) <= 4) { /* a cas's [old, new] */
		char *p = small;
		size_t i;
		json_t *x;
		*p++ = '[';
		json_array_foreach(v, i, x) {
			if (!json_is_integer(x) || json_integer_value(x) < -999999999999LL ||
			    json_integer_value(x) > 999999999999LL)
				break;
			if (i)
				*p++ = ',';
			int_text((long long)json_integer_value(x), p);
			p += strlen(p);
		}
		if (i == json_array_size(v)) {
			*p++ = ']';
			*p = 0;
			return (int32_t)strtab_id(&r->values, small);
		}
	}
	char *t = value_text(v);
	int32_t id = (int32_t)strtab_id(&r->values, t);
	free(t);
	return id;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* s with every node address replaced by the node's name, when s contains
 * one (addresses are matched whole: 10.0.0.1 is not in 10.0.0.12).
 * Returns NULL when nothing was replaced. */
static char *names_for_hosts(const struct run *r, const char *s)
{
	struct buf b;
	buf_init(&b);
	bool changed = false;
	const char *run = s;
	for (const char *p = s; *p;) {
		const struct host *hit = NULL;
		size_t hl = 0;
		if (p == s || (!is_digit(p[-1]) && p[-1] != '.')) {
			for (size_t i = 0; i < r->nhosts; i++) {
				size_t l = strlen(r->hosts[i].host);
				if (l > hl && !strncmp(p, r->hosts[i].host, l) && !is_digit(p[l]) &&
				    !(p[l] == '.' && is_digit(p[l + 1]))) {
					hit = &r->hosts[i];
					hl = l;
				}
			}
		}
		if (!hit) {
			p++;
			continue;
		}
		buf_append(&b, run, (size_t)(p - run));
		buf_puts(&b, hit->name);
		p += hl;
		run = p;
		changed = true;
	}
	if (!changed) {
		buf_free(&b);
		return NULL;
	}
	buf_puts(&b, run);
	return buf_steal(&b);
}

/* Each distinct error text is rewritten with node names once. */
static int32_t intern_error(struct run *r, const char *e)
{
	if (!e)
		return -1;
	size_t raw = (size_t)strtab_id(&r->raw_errors, e);
	if (raw < r->nmapped)
		return r->error_of_raw[raw];
	if (r->nmapped == r->capmapped) {
		r->capmapped = r->capmapped ? r->capmapped * 2 : 64;
		r->error_of_raw = xrealloc(r->error_of_raw, r->capmapped * sizeof *r->error_of_raw);
	}
	char *named = r->nhosts ? names_for_hosts(r, e) : NULL;
	int32_t id = (int32_t)strtab_id(&r->errors, named ? named : e);
	free(named);
	r->error_of_raw[r->nmapped++] = id;
	return id;
}

static void run_nemesis_op(struct run *r, struct op *op)
{
	if (op->type == OP_INVOKE) {
		if (r->nem_open) { /* an invoke that never completed */
			free(r->nem_cur.f);
			free(r->nem_cur.value);
		}
		r->nem_cur.f = xstrdup(op->f ? op->f : "?");
		r->nem_cur.t0 = op->time;
		r->nem_cur.t1 = -1;
		r->nem_cur.value = value_text(op->value);
		r->nem_open = true;
		return;
	}
	if (op->type == OP_FAIL) {
		/* A fault that failed to apply was never there: no interval. */
		if (r->nem_open) {
			free(r->nem_cur.f);
			free(r->nem_cur.value);
			r->nem_open = false;
		}
		return;
	}
	struct nem_event e = {0};
	if (r->nem_open) {
		e = r->nem_cur;
		r->nem_open = false;
	} else {
		e.f = xstrdup(op->f ? op->f : "?");
		e.t0 = op->time;
	}
	e.t1 = op->time;
	char *v = value_text(op->value);
	if (v) { /* the completion says what was actually done */
		free(e.value);
		e.value = v;
	}
	if (r->nnem == r->capnem) {
		r->capnem = r->capnem ? r->capnem * 2 : 32;
		r->nem = xrealloc(r->nem, r->capnem * sizeof *r->nem);
	}
	r->nem[r->nnem++] = e;
}

static void run_client_op(struct run *r, struct op *op)
{
	if ((r->pend_used + 1) * 2 > r->npend)
		pend_grow(r);
	if (op->type == OP_INVOKE) {
		if (r->n == r->cap) {
			r->cap = r->cap ? r->cap * 2 : 1024;
			r->ops = xrealloc(r->ops, r->cap * sizeof *r->ops);
		}
		struct rop *o = &r->ops[r->n];
		*o = (struct rop){
			.t0 = op->time, .t1 = -1, .process = op->process,
			.index = op->index, .cindex = -1, .ty = TY_PENDING,
			.f = (int32_t)strtab_id(&r->fs, op->f ? op->f : "?"),
			.key = (int32_t)strtab_id(&r->keys, op->key),
			.value = intern_value(r, op->value),
			.node = (int32_t)strtab_id(&r->nodes, op->node),
			.error = -1,
		};
		size_t *slot = pend_slot(r, op->process);
		if (!*slot) /* else: an invoke after an invoke; the first never completes */
			r->pend_used++;
		*slot = ++r->n;
		return;
	}
	size_t at = *pend_slot(r, op->process);
	if (!at) {
		r->orphans++;
		return;
	}
	pend_delete(r, op->process);
	struct rop *o = &r->ops[at - 1];
	o->t1 = op->time < o->t0 ? o->t0 : op->time;
	o->cindex = op->index;
	o->ty = op->type == OP_OK ? TY_OK : op->type == OP_INFO ? TY_INFO
		: expected_fail(op->error) ? TY_EXPECTED : TY_FAIL;
	int32_t v = intern_value(r, op->value);
	if (v >= 0)
		o->value = v;
	if (op->node)
		o->node = (int32_t)strtab_id(&r->nodes, op->node);
	o->error = intern_error(r, op->error);
}

/* A nemesis op invoked but never completed (the run stopped): its fault
 * may well have been applied, so it counts, open until the end. */
static void run_finish(struct run *r)
{
	if (!r->nem_open)
		return;
	if (r->nnem == r->capnem) {
		r->capnem = r->capnem ? r->capnem * 2 : 32;
		r->nem = xrealloc(r->nem, r->capnem * sizeof *r->nem);
	}
	r->nem_cur.t1 = r->end;
	r->nem[r->nnem++] = r->nem_cur;
	r->nem_open = false;
}

static int run_collect(struct op *op, void *ctx)
{
	struct run *r = ctx;
	if (op->time < 0) /* unknown (an imported history): keep order, not time */
		op->time = r->end;
	if (op->time > r->end)
		r->end = op->time;
	if (op->process == PROCESS_NEMESIS)
		run_nemesis_op(r, op);
	else
		run_client_op(r, op);
	op_free(op);
	return 0;
}

static const char *node_name(json_t *n)
{
	if (json_is_string(n))
		return json_string_value(n);
	const char *s = json_string_value(json_object_get(n, "name"));
	return s ? s : json_string_value(json_object_get(n, "host"));
}

static void run_hosts(struct run *r, json_t *test)
{
	json_t *nodes = json_object_get(test, "nodes");
	size_t i;
	json_t *n;
	r->hosts = xcalloc(json_array_size(nodes) + 1, sizeof *r->hosts);
	json_array_foreach(nodes, i, n) {
		const char *name = node_name(n);
		const char *host = json_string_value(json_object_get(n, "host"));
		if (name && host && *host && strcmp(name, host))
			r->hosts[r->nhosts++] = (struct host){xstrdup(host), xstrdup(name)};
	}
}

static void run_free(struct run *r)
{
	free(r->ops);
	free(r->pend);
	for (size_t i = 0; i < r->nnem; i++) {
		free(r->nem[i].f);
		free(r->nem[i].value);
	}
	free(r->nem);
	if (r->nem_open) {
		free(r->nem_cur.f);
		free(r->nem_cur.value);
	}
	for (size_t i = 0; i < r->nhosts; i++) {
		free(r->hosts[i].host);
		free(r->hosts[i].name);
	}
	free(r->hosts);
	strtab_free(&r->fs);
	strtab_free(&r->keys);
	strtab_free(&r->values);
	strtab_free(&r->nodes);
	strtab_free(&r->errors);
	strtab_free(&r->raw_errors);
	free(r->error_of_raw);
}

/* ---- fault intervals from nemesis events ---- */

struct fault {
	const char *kind; /* points into a nem_event's f */
	int64_t t0, t1;
	const char *targets;
	int kind_len;
};

/* "start-partition" opens a partition interval, "stop-partition" closes the
 * latest open one; any other nemesis op is an interval of its own (invoke to
 * completion). An interval never closed lasts until the end of the history. */
static size_t faults_build(const struct run *r, struct fault **out)
{
	struct fault *fs = xcalloc(r->nnem + 1, sizeof *fs);
	size_t n = 0;
	for (size_t i = 0; i < r->nnem; i++) {
		const struct nem_event *e = &r->nem[i];
		if (!strncmp(e->f, "start-", 6)) {
			fs[n++] = (struct fault){e->f + 6, e->t0, -1, e->value,
						 (int)strlen(e->f + 6)};
		} else if (!strncmp(e->f, "stop-", 5)) {
			for (size_t j = n; j-- > 0;) {
				if (fs[j].t1 < 0 && !strcmp(fs[j].kind, e->f + 5)) {
					fs[j].t1 = e->t1;
					break;
				}
			}
		} else {
			fs[n++] = (struct fault){e->f, e->t0, e->t1, e->value,
						 (int)strlen(e->f)};
		}
	}
	for (size_t j = 0; j < n; j++)
		if (fs[j].t1 < 0)
			fs[j].t1 = r->end;
	*out = fs;
	return n;
}

/* ---- statistics ---- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank quantile of a sorted array. */
static int64_t quantile(const int64_t *v, size_t n, double q)
{
	if (!n)
		return -1;
	size_t rank = (size_t)ceil(q * (double)n);
	return v[rank ? rank - 1 : 0];
}

struct fstats {
	size_t count[TY_N];
	int64_t *lat; /* ok latencies, ns */
	size_t nlat;
};

static struct fstats *stats_build(const struct run *r)
{
	struct fstats *st = xcalloc(r->fs.n + 1, sizeof *st);
	size_t *nok = xcalloc(r->fs.n + 1, sizeof *nok);
	for (size_t i = 0; i < r->n; i++)
		if (r->ops[i].ty == TY_OK)
			nok[r->ops[i].f]++;
	for (size_t f = 0; f < r->fs.n; f++)
		if (nok[f])
			st[f].lat = xmalloc(nok[f] * sizeof *st[f].lat);
	for (size_t i = 0; i < r->n; i++) {
		const struct rop *o = &r->ops[i];
		struct fstats *s = &st[o->f];
		s->count[o->ty]++;
		if (o->ty == TY_OK)
			s->lat[s->nlat++] = o->t1 - o->t0;
	}
	for (size_t f = 0; f < r->fs.n; f++)
		if (st[f].nlat)
			qsort(st[f].lat, st[f].nlat, sizeof *st[f].lat, cmp_i64);
	free(nok);
	return st;
}

static void stats_free(struct fstats *st, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(st[i].lat);
	free(st);
}

/* ---- client errors, grouped ---- */

/* An error as grouped: without the "after N ms" that libcurl appends
 * (the same refused connection is one error, not one per millisecond). */
static char *error_group_text(const char *e)
{
	struct buf b;
	buf_init(&b);
	const char *p = e;
	for (;;) {
		const char *a = strstr(p, " after ");
		if (!a)
			break;
		const char *q = a + 7;
		while (is_digit(*q))
			q++;
		if (q > a + 7 && !strncmp(q, " ms", 3)) {
			buf_append(&b, p, (size_t)(a - p));
			p = q + 3;
		} else {
			buf_append(&b, p, (size_t)(a + 7 - p));
			p = a + 7;
		}
	}
	buf_puts(&b, p);
	return buf_steal(&b);
}

struct egroup {
	char *text;
	size_t n[TY_N];
	size_t total;
	uint64_t nodes;   /* bit i: node id i reported it (ids < 64) */
	int64_t first;    /* completion time of the first, ns */
	int32_t f;        /* the op kind, for expected outcomes */
};

static int cmp_egroup(const void *a, const void *b)
{
	const struct egroup *x = a, *y = b;
	if (x->total != y->total)
		return (x->total < y->total) - (x->total > y->total);
	return strcmp(x->text, y->text);
}

/* Groups errors (expected == false) or expected outcomes by their text
 * (and, for expected outcomes, the op kind). */
static size_t egroups_build(const struct run *r, bool expected, struct egroup **out)
{
	/* Each error id -> its group text id; one more text for "no error". */
	struct strtab texts = {0};
	size_t *gid = xcalloc(r->errors.n + 1, sizeof *gid);
	for (size_t i = 0; i < r->errors.n; i++) {
		const char *phrase = expected ? expected_phrase(r->errors.s[i]) : NULL;
		char *t = phrase ? xstrdup(phrase) : error_group_text(r->errors.s[i]);
		gid[i] = (size_t)strtab_id(&texts, t);
		free(t);
	}
	size_t none = (size_t)strtab_id(&texts, "(no error given)");
	size_t nf = expected ? r->fs.n + 1 : 1;
	size_t *slot = xcalloc(texts.n * nf, sizeof *slot); /* group + 1 */
	struct egroup *g = NULL;
	size_t n = 0, cap = 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct rop *o = &r->ops[i];
		if ((o->ty == TY_EXPECTED) != expected || (!expected && o->error < 0))
			continue;
		size_t tid = o->error >= 0 ? gid[o->error] : none;
		size_t *s = &slot[tid * nf + (expected ? (size_t)o->f : 0)];
		if (!*s) {
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				g = xrealloc(g, cap * sizeof *g);
			}
			g[n] = (struct egroup){.text = xstrdup(texts.s[tid]), .first = o->t1, .f = o->f};
			*s = ++n;
		}
		struct egroup *e = &g[*s - 1];
		e->n[o->ty]++;
		e->total++;
		if (o->node >= 0 && o->node < 64)
			e->nodes |= 1ull << o->node;
		if (o->t1 >= 0 && o->t1 < e->first)
			e->first = o->t1;
	}
	free(gid);
	free(slot);
	strtab_free(&texts);
	if (n)
		qsort(g, n, sizeof *g, cmp_egroup);
	*out = g;
	return n;
}

static void egroups_free(struct egroup *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(g[i].text);
	free(g);
}

/* ---- the wall-clock anchor ---- */

/* "2026-11-30T07:50:32.155123Z" (fraction optional) -> µs since the epoch. */
static bool iso_utc_us(const char *s, int64_t *out)
{
	struct tm tm = {0};
	int used = 0;
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			 &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6 || used != 19)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	const char *p = s + used;
	int64_t frac = 0, scale = 1000000;
	if (*p == '.') {
		for (p++; is_digit(*p); p++) {
			if (scale > 1) {
				scale /= 10;
				frac += (*p - '0') * scale;
			}
		}
	}
	if (*p != 'Z' || p[1])
		return false;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	*out = (int64_t)t * 1000000 + frac;
	return true;
}

struct anchor {
	int64_t us;      /* wall-clock time of history time 0, µs since the epoch; 0 = unknown */
	const char *how; /* where it comes from, for the page */
};

/* test.json's "history_start" (ISO-8601 UTC, taken by the runner with time
 * 0) is exact. Without it, the runner's log line announcing the workload
 * ("running register for 60 s: ...", written right after time 0 is taken,
 * to the millisecond) is within a few milliseconds. */
static struct anchor anchor_find(const char *run_dir, json_t *test)
{
	struct anchor a = {0, NULL};
	if (iso_utc_us(json_string_value(json_object_get(test, "history_start")), &a.us)) {
		a.how = "test.json";
		return a;
	}
	char *p = xasprintf("%s/faultline.log", run_dir);
	FILE *f = fopen(p, "r");
	free(p);
	if (!f)
		return a;
	char line[512];
	for (int lines = 0; lines < 200000 && fgets(line, sizeof line, f); lines++) {
		/* "2026-11-30T07:50:32.155Z info  running register for 60 s: ..." */
		char ts[32];
		if (strlen(line) > 40 && line[4] == '-' && line[10] == 'T' &&
		    sscanf(line, "%31s", ts) == 1 && !strncmp(line + strlen(ts), " info  running ", 15) &&
		    iso_utc_us(ts, &a.us)) {
			a.how = "faultline.log";
			break;
		}
	}
	fclose(f);
	return a;
}

static void put_wall(struct buf *b, int64_t us)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	char s[64];
	strftime(s, sizeof s, "%Y-%m-%d %H:%M:%S", &tm);
	buf_printf(b, "%s.%03d UTC", s, (int)(us % 1000000 / 1000));
}

/* ---- HTML pieces ---- */

static void put_ms(struct buf *b, int64_t ns)
{
	if (ns < 0)
		buf_puts(b, "&ndash;");
	else if (ns < 10000000)
		buf_printf(b, "%.2f", (double)ns / 1e6);
	else
		buf_printf(b, "%.0f", (double)ns / 1e6);
}

/* A scalar or a short array of scalars as display text (caller frees). */
static char *param_text(json_t *v)
{
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_array(v)) {
		struct buf b;
		buf_init(&b);
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x) {
			char *t = param_text(x);
			buf_printf(&b, "%s%s", i ? ", " : "", t);
			free(t);
		}
		return buf_steal(&b);
	}
	char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	return t ? t : xstrdup("?");
}

static bool secret_key(const char *k)
{
	return strstr(k, "password") || strstr(k, "secret") || strstr(k, "token");
}

static void html_nodes(struct buf *b, json_t *test)
{
	json_t *nodes = json_object_get(test, "nodes");
	size_t i;
	json_t *n;
	buf_puts(b, "<div class=\"kv wide\"><span>nodes</span><span>");
	if (!json_array_size(nodes))
		buf_puts(b, "&ndash;");
	json_array_foreach(nodes, i, n) {
		const char *name = node_name(n);
		const char *host = json_string_value(json_object_get(n, "host"));
		buf_puts(b, i ? ", " : "");
		html_escape(b, name ? name : "?");
		if (host && name && strcmp(host, name)) {
			buf_puts(b, " <small>(");
			html_escape(b, host);
			buf_puts(b, ")</small>");
		}
	}
	buf_puts(b, "</span></div>\n");
}

static void html_kv(struct buf *b, const char *k, const char *v)
{
	char *cut = utf8_truncate(v, 200);
	buf_puts(b, "<div class=\"kv\"><span>");
	html_escape(b, k);
	buf_puts(b, "</span><span title=\"");
	html_escape(b, v);
	buf_puts(b, "\">");
	html_escape(b, cut);
	buf_puts(b, "</span></div>\n");
	free(cut);
}

/* Every parameter of test.json except the node list (shown on its own)
 * and anything that looks secret (test.json is already redacted; this is
 * a second guard). Options objects (db_opts, ...) show one line per key. */
static void html_params(struct buf *b, json_t *test)
{
	const char *k;
	json_t *v;
	buf_puts(b, "<details class=\"params\" id=\"params\"><summary>All test parameters</summary>"
		    "<div class=\"grid\">\n");
	html_nodes(b, test);
	json_object_foreach(test, k, v) {
		if (!strcmp(k, "nodes") || !strcmp(k, "name") || secret_key(k) || json_is_null(v))
			continue;
		if (json_is_object(v)) {
			const char *k2;
			json_t *v2;
			json_object_foreach(v, k2, v2) {
				if (secret_key(k2) || json_is_null(v2))
					continue;
				char *name = xasprintf("%s.%s", k, k2);
				char *t = param_text(v2);
				html_kv(b, name, t);
				free(t);
				free(name);
			}
			continue;
		}
		char *t = param_text(v);
		html_kv(b, k, t);
		free(t);
	}
	buf_puts(b, "</div></details>\n");
}

/* "etcd · register · serializable reads · faults: partition, kill ·
 * checker linearizable (cas-register)": what was tested, in a line. */
#define DOT " \xc2\xb7 "
static void html_what(struct buf *b, json_t *test, json_t *results)
{
	struct buf w;
	buf_init(&w);
	const char *db = json_string_value(json_object_get(test, "db"));
	const char *wl = json_string_value(json_object_get(test, "workload"));
	json_t *o = json_object_get(test, "db_opts");
	const char *iso = json_string_value(json_object_get(o, "isolation"));
	const char *rm = json_string_value(json_object_get(o, "read_mode"));
	if (!rm)
		rm = json_string_value(json_object_get(test, "read_mode"));
	if (db)
		buf_printf(&w, "%s", db);
	if (wl)
		buf_printf(&w, "%s%s", w.len ? DOT : "", wl);
	if (iso)
		buf_printf(&w, "%sisolation %s", w.len ? DOT : "", iso);
	if (rm)
		buf_printf(&w, "%s%s reads", w.len ? DOT : "", rm);
	json_t *nem = json_object_get(test, "nemesis");
	if (nem) {
		char *t = param_text(nem);
		buf_printf(&w, "%sfaults: %s", w.len ? DOT : "",
			   json_array_size(nem) || (json_is_string(nem) && *t) ? t : "none");
		free(t);
	}
	const char *k;
	json_t *c;
	json_object_foreach(json_object_get(results, "checkers"), k, c) {
		const char *model = json_string_value(json_object_get(c, "model"));
		buf_printf(&w, "%schecker %s", w.len ? DOT : "", k);
		if (model)
			buf_printf(&w, " (%s)", model);
	}
	buf_puts(b, "<div class=\"what\" id=\"what\">");
	html_escape(b, w.data ? w.data : "");
	buf_puts(b, "</div>\n");
	buf_free(&w);
}
#undef DOT

static void html_link(struct buf *b, const char *rel, const char *text)
{
	buf_puts(b, "<a href=\"");
	struct buf u;
	buf_init(&u);
	url_path_escape(&u, rel);
	html_escape(b, u.data ? u.data : "");
	buf_free(&u);
	buf_puts(b, "\">");
	html_escape(b, text ? text : rel);
	buf_puts(b, "</a>");
}

static bool run_has(const char *run_dir, const char *file)
{
	char *p = xasprintf("%s/%s", run_dir, file);
	bool ok = access(p, F_OK) == 0;
	free(p);
	return ok;
}

static void html_header(struct buf *b, json_t *test, json_t *results, const struct run *r,
			const char *run_dir, const struct anchor *an)
{
	const char *name = json_string_value(json_object_get(test, "name"));
	enum verdict v = verdict_of_result(results);
	const char *vw = results ? verdict_word(v) : "not checked";
	buf_puts(b, "<header><div class=\"title\"><h1>");
	html_escape(b, name ? name : "faultline run");
	buf_puts(b, "</h1>\n");
	html_what(b, test, results);
	buf_puts(b, "<div class=\"sub\">");
	html_escape(b, run_dir);
	buf_printf(b, r->end >= 10000000000 ? " &middot; %.1f s of history" : " &middot; %.3f s of history",
		   (double)r->end / 1e9);
	buf_printf(b, " &middot; %zu client ops &middot; %zu fault ops", r->n, r->nnem);
	json_t *seed = json_object_get(test, "seed");
	if (seed) {
		char *t = param_text(seed);
		buf_puts(b, " &middot; seed ");
		html_escape(b, t);
		free(t);
	}
	buf_puts(b, "</div>\n<div class=\"sub\" id=\"wall\">");
	if (an->us) {
		buf_puts(b, "history time 0 = ");
		put_wall(b, an->us);
		buf_printf(b, "%s", strcmp(an->how, "test.json") ? " <small>(from faultline.log, &plusmn;ms)</small>" : "");
	} else {
		const char *st = json_string_value(json_object_get(test, "start_time"));
		buf_puts(b, "wall-clock time of the ops unknown");
		if (st) {
			buf_puts(b, " (run started ");
			html_escape(b, st);
			buf_puts(b, ", before setup)");
		}
	}
	buf_puts(b, " &middot; ");
	/* junit.xml is written with the report (after it), so it is linked even
	 * before it exists. */
	static const char *own[] = {"history.jsonl", "results.json", "junit.xml", "test.json",
				    "faultline.log"};
	for (size_t i = 0; i < sizeof own / sizeof *own; i++) {
		if (run_has(run_dir, own[i]) || !strcmp(own[i], "junit.xml")) {
			html_link(b, own[i], NULL);
			buf_puts(b, " ");
		}
	}
	buf_puts(b, "<a href=\"#files\">node logs</a></div></div>");
	buf_printf(b, "<div class=\"verdict %s\" id=\"verdict\">%s</div></header>\n",
		   verdict_word(v), vw);
	buf_puts(b, "<section class=\"checkers\">");
	const char *k;
	json_t *c;
	json_object_foreach(json_object_get(results, "checkers"), k, c) {
		enum verdict cv = verdict_of_result(c);
		buf_printf(b, "<span class=\"chip %s\">", verdict_word(cv));
		html_escape(b, k);
		buf_printf(b, ": <b>%s</b></span>", verdict_word(cv));
	}
	if (!results)
		buf_puts(b, "<span class=\"chip unknown\">results.json missing: the history was not checked</span>");
	if (r->orphans)
		buf_printf(b, "<span class=\"chip unknown\">%zu completions without an invoke</span>",
			   r->orphans);
	buf_puts(b, "</section>\n");
}

static void put_nodes_mask(struct buf *b, const struct run *r, uint64_t mask)
{
	int n = 0;
	for (size_t i = 0; i < r->nodes.n && i < 64; i++) {
		if (!(mask >> i & 1))
			continue;
		buf_puts(b, n++ ? ", " : "");
		html_escape(b, r->nodes.s[i]);
	}
	if (!n)
		buf_puts(b, "&ndash;");
}

/* Expected outcomes first (they are not errors: a cas whose compare did
 * not hold), then the errors clients reported, most frequent first, grouped
 * without their "after N ms" variants and with node names for addresses:
 * often the quickest explanation of a wall of info ops. */
static void html_errors(struct buf *b, const struct run *r)
{
	struct egroup *g;
	size_t n = egroups_build(r, true, &g);
	if (n) {
		buf_puts(b, "<p class=\"note\" id=\"expected\">Expected outcomes, not errors: ");
		for (size_t i = 0; i < n; i++) {
			buf_printf(b, "%s<b>%zu</b> ", i ? "; " : "", g[i].total);
			html_escape(b, r->fs.s[g[i].f]);
			buf_puts(b, " <i>fail</i> &ldquo;");
			html_escape(b, g[i].text);
			buf_puts(b, "&rdquo;");
		}
		buf_puts(b, ".</p>\n");
	}
	egroups_free(g, n);
	n = egroups_build(r, false, &g);
	if (!n)
		return;
	buf_puts(b, "<h2 style=\"margin-top:14px\">Errors reported by clients</h2>"
		    "<table class=\"q\" id=\"errors\"><thead><tr><th>error</th><th>ops</th><th>fail</th>"
		    "<th>info</th><th>nodes</th><th>first at</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < n && i < 30; i++) {
		char *cut = utf8_truncate(g[i].text, 300);
		buf_puts(b, "<tr><td>");
		html_escape(b, cut);
		buf_printf(b, "</td><td>%zu</td><td class=\"fail\">%zu</td><td class=\"info\">%zu</td><td>",
			   g[i].total, g[i].n[TY_FAIL], g[i].n[TY_INFO]);
		put_nodes_mask(b, r, g[i].nodes);
		buf_printf(b, "</td><td>%.3f s</td></tr>\n", (double)g[i].first / 1e9);
		free(cut);
	}
	if (n > 30)
		buf_printf(b, "<tr><td colspan=\"6\">%zu more distinct errors</td></tr>\n", n - 30);
	buf_puts(b, "</tbody></table>\n");
	egroups_free(g, n);
}

static void html_quantiles(struct buf *b, const struct run *r, const struct fstats *st)
{
	buf_puts(b, "<section><h2>Latency and outcomes per operation</h2>\n"
		    "<table class=\"q\" id=\"outcomes\"><thead><tr><th>op</th><th>ok</th>"
		    "<th title=\"fail as an answer (a compare that did not hold, a transfer without the funds)\">fail: expected</th>"
		    "<th title=\"fail with a client error\">fail: error</th>"
		    "<th>info</th><th>never completed</th><th>p50 ms</th><th>p90 ms</th>"
		    "<th>p99 ms</th><th>max ms</th></tr></thead><tbody>\n");
	for (size_t f = 0; f < r->fs.n; f++) {
		const struct fstats *s = &st[f];
		buf_puts(b, "<tr><td>");
		html_escape(b, r->fs.s[f]);
		buf_printf(b, "</td><td class=\"ok\">%zu</td><td class=\"expected\">%zu</td>"
			      "<td class=\"fail\">%zu</td><td class=\"info\">%zu</td><td>%zu</td>",
			   s->count[TY_OK], s->count[TY_EXPECTED], s->count[TY_FAIL],
			   s->count[TY_INFO], s->count[TY_PENDING]);
		const double qs[] = {0.5, 0.9, 0.99, 1.0};
		for (int i = 0; i < 4; i++) {
			buf_puts(b, "<td>");
			put_ms(b, quantile(s->lat, s->nlat, qs[i]));
			buf_puts(b, "</td>");
		}
		buf_puts(b, "</tr>\n");
	}
	if (!r->fs.n)
		buf_puts(b, "<tr><td colspan=\"10\">no client operations in the history</td></tr>\n");
	buf_puts(b, "</tbody></table><p class=\"note\">Quantiles are over ok operations "
		    "(invoke to completion). <i>fail</i>: certainly did not happen; <i>info</i>: "
		    "outcome unknown (timeout, connection lost).</p>\n");
	html_errors(b, r);
	buf_puts(b, "</section>\n");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the entries of dir that are directories (want_dirs) or
 * regular files. */
static size_t list_dir(const char *dir, bool want_dirs, char ***out)
{
	DIR *d = opendir(dir);
	char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *p = xasprintf("%s/%s", dir, e->d_name);
		struct stat sb;
		bool ok = stat(p, &sb) == 0 && (want_dirs ? S_ISDIR(sb.st_mode) : S_ISREG(sb.st_mode));
		free(p);
		if (!ok)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			v = xrealloc(v, cap * sizeof *v);
		}
		v[n++] = xstrdup(e->d_name);
	}
	if (d)
		closedir(d);
	if (n)
		qsort(v, n, sizeof *v, cmp_str);
	*out = v;
	return n;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The database logs fetched from each node, as relative paths
 * nodes/<node>/<file> (links work wherever the run directory is copied). */
struct logs {
	char **node, ***files;
	size_t *nfiles, n;
};

static void logs_load(struct logs *l, const char *run_dir)
{
	char *nodes_dir = xasprintf("%s/nodes", run_dir);
	l->n = list_dir(nodes_dir, true, &l->node);
	l->files = xcalloc(l->n + 1, sizeof *l->files);
	l->nfiles = xcalloc(l->n + 1, sizeof *l->nfiles);
	for (size_t i = 0; i < l->n; i++) {
		char *nd = xasprintf("%s/%s", nodes_dir, l->node[i]);
		l->nfiles[i] = list_dir(nd, false, &l->files[i]);
		free(nd);
	}
	free(nodes_dir);
}

static void logs_free(struct logs *l)
{
	for (size_t i = 0; i < l->n; i++)
		free_list(l->files[i], l->nfiles[i]);
	free_list(l->node, l->n);
	free(l->files);
	free(l->nfiles);
}

static void html_files(struct buf *b, const char *run_dir, const struct logs *l)
{
	buf_puts(b, "<section id=\"files\"><h2>Files and node logs</h2><ul class=\"files\">\n");
	static const char *own[] = {"test.json", "history.jsonl", "results.json",
				    "junit.xml", "nemesis.json", "faultline.log"};
	buf_puts(b, "<li>run: ");
	for (size_t i = 0; i < sizeof own / sizeof *own; i++) {
		if (run_has(run_dir, own[i]) || !strcmp(own[i], "junit.xml")) {
			html_link(b, own[i], NULL);
			buf_puts(b, " ");
		}
	}
	buf_puts(b, "</li>\n");
	for (size_t i = 0; i < l->n; i++) {
		buf_puts(b, "<li>");
		html_escape(b, l->node[i]);
		buf_puts(b, ": ");
		for (size_t j = 0; j < l->nfiles[i]; j++) {
			char *rel = xasprintf("nodes/%s/%s", l->node[i], l->files[i][j]);
			html_link(b, rel, NULL);
			buf_puts(b, " ");
			free(rel);
		}
		if (!l->nfiles[i])
			buf_puts(b, "<i>no files</i>");
		buf_puts(b, "</li>\n");
	}
	if (!l->n)
		buf_puts(b, "<li><i>no node logs were fetched</i></li>\n");
	buf_puts(b, "</ul></section>\n");
}

/* ---- the embedded data ---- */

static void data_strtab(struct buf *b, const char *name, const struct strtab *t)
{
	buf_printf(b, "\"%s\":[", name);
	for (size_t i = 0; i < t->n; i++) {
		if (i)
			buf_puts(b, ",");
		json_string_embed(b, t->s[i]);
	}
	buf_puts(b, "]");
}

/* Numbers are embedded as strings of variable-length base-44 digits: one
 * character for 0..43, two up to 1,935, three up to 85,183 (a latency of
 * 85 ms in microseconds), about half the size of JSON numbers with their
 * commas. The alphabet is the 88 characters from '#' (0x23) to '~' (0x7E)
 * without & < > and backslash, so the text needs no escaping in JSON or in
 * a <script> element; the first 44 end a number, the other 44 carry a
 * digit and continue it, most significant first. report.js decodes it
 * (decodeColumn). */
static char b88[88];

static void b88_init(void)
{
	if (b88[0])
		return;
	int n = 0;
	for (int c = 0x23; c <= 0x7e; c++)
		if (c != '&' && c != '<' && c != '>' && c != '\\')
			b88[n++] = (char)c;
}

static void put_u(struct buf *b, uint64_t v)
{
	char tmp[16];
	int n = 0;
	tmp[n++] = b88[v % 44];
	for (v /= 44; v; v /= 44)
		tmp[n++] = b88[44 + v % 44];
	char out[16];
	for (int i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	buf_append(b, out, (size_t)n);
}

/* Signed numbers interleave: 0, -1, 1, -2, 2 ... -> 0, 1, 2, 3, 4 ... */
static uint64_t zigzag(int64_t v) { return v >= 0 ? (uint64_t)v * 2 : (uint64_t)(-(v + 1)) * 2 + 1; }

/* An op's outcome class: its kind, outcome, node and error together, so
 * four small columns become one (a run has a few hundred classes). */
struct cls {
	int32_t f, ty, node, error;
};

struct clstab {
	struct cls *c;
	size_t n, cap;
	uint32_t *slots;
	size_t nslots;
};

static uint64_t cls_hash(const struct cls *c)
{
	uint64_t h = (uint64_t)(uint32_t)c->f * 0x9e3779b97f4a7c15ull;
	h ^= (uint64_t)(uint32_t)c->ty * 0xc2b2ae3d27d4eb4full + (h >> 29);
	h ^= (uint64_t)(uint32_t)c->node * 0x165667b19e3779f9ull + (h >> 31);
	h ^= (uint64_t)(uint32_t)c->error * 0x27d4eb2f165667c5ull + (h >> 27);
	return h ^ (h >> 32);
}

static size_t cls_id(struct clstab *t, struct cls c)
{
	if ((t->n + 1) * 2 > t->nslots) {
		size_t ns = t->nslots ? t->nslots * 2 : 256;
		uint32_t *slots = xcalloc(ns, sizeof *slots);
		for (size_t i = 0; i < t->n; i++) {
			size_t j = cls_hash(&t->c[i]) & (ns - 1);
			while (slots[j])
				j = (j + 1) & (ns - 1);
			slots[j] = (uint32_t)i + 1;
		}
		free(t->slots);
		t->slots = slots;
		t->nslots = ns;
	}
	size_t j = cls_hash(&c) & (t->nslots - 1);
	while (t->slots[j]) {
		const struct cls *x = &t->c[t->slots[j] - 1];
		if (x->f == c.f && x->ty == c.ty && x->node == c.node && x->error == c.error)
			return t->slots[j] - 1;
		j = (j + 1) & (t->nslots - 1);
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->c = xrealloc(t->c, t->cap * sizeof *t->c);
	}
	t->c[t->n] = c;
	t->slots[j] = (uint32_t)t->n + 1;
	return t->n++;
}

/* The ops as columns (report.js decodeOps): times in microseconds; t0 and
 * the invoke index delta-encoded (the ops are in invoke order), d the
 * latency + 1 (0: never completed), ci the completion index's distance
 * from the invoke's (0: none), p the process, c the outcome class, k the
 * key id's change from the previous op, v the value id + 1. */
static void data_ops(struct buf *b, const struct run *r)
{
	b88_init();
	struct clstab ct = {0};
	size_t *cl = xmalloc((r->n + 1) * sizeof *cl);
	for (size_t i = 0; i < r->n; i++) {
		const struct rop *o = &r->ops[i];
		cl[i] = cls_id(&ct, (struct cls){o->f, o->ty, o->node, o->error});
	}
	buf_printf(b, "\"ops\":{\"n\":%zu,\"t0\":\"", r->n);
	int64_t prev = 0;
	for (size_t i = 0; i < r->n; i++) {
		int64_t us = r->ops[i].t0 / 1000;
		put_u(b, zigzag(us - prev));
		prev = us;
	}
	buf_puts(b, "\",\"d\":\"");
	for (size_t i = 0; i < r->n; i++) {
		const struct rop *o = &r->ops[i];
		put_u(b, o->t1 < 0 ? 0 : (uint64_t)(o->t1 / 1000 - o->t0 / 1000) + 1);
	}
	buf_puts(b, "\",\"i\":\"");
	prev = 0;
	for (size_t i = 0; i < r->n; i++) {
		put_u(b, zigzag(r->ops[i].index - prev));
		prev = r->ops[i].index;
	}
	buf_puts(b, "\",\"ci\":\"");
	for (size_t i = 0; i < r->n; i++) {
		const struct rop *o = &r->ops[i];
		put_u(b, o->cindex < 0 || o->cindex == o->index ? 0 : zigzag(o->cindex - o->index));
	}
	buf_puts(b, "\",\"p\":\"");
	for (size_t i = 0; i < r->n; i++)
		put_u(b, zigzag(r->ops[i].process));
	buf_puts(b, "\",\"c\":\"");
	for (size_t i = 0; i < r->n; i++)
		put_u(b, cl[i]);
	buf_puts(b, "\",\"k\":\"");
	prev = -1;
	for (size_t i = 0; i < r->n; i++) {
		put_u(b, zigzag(r->ops[i].key - prev));
		prev = r->ops[i].key;
	}
	buf_puts(b, "\",\"v\":\"");
	for (size_t i = 0; i < r->n; i++)
		put_u(b, (uint64_t)(r->ops[i].value + 1));
	buf_puts(b, "\",\"classes\":[");
	for (size_t i = 0; i < ct.n; i++)
		buf_printf(b, "%s%d,%d,%d,%d", i ? "," : "", ct.c[i].f, ct.c[i].ty, ct.c[i].node,
			   ct.c[i].error);
	buf_puts(b, "]}");
	free(cl);
	free(ct.c);
	free(ct.slots);
}

static void data_faults(struct buf *b, const struct fault *fs, size_t n)
{
	buf_puts(b, "\"faults\":[");
	for (size_t i = 0; i < n; i++) {
		char *kind = xasprintf("%.*s", fs[i].kind_len, fs[i].kind);
		buf_puts(b, i ? ",{\"kind\":" : "{\"kind\":");
		json_string_embed(b, kind);
		buf_printf(b, ",\"t0\":%lld,\"t1\":%lld,\"targets\":",
			   (long long)(fs[i].t0 / 1000), (long long)(fs[i].t1 / 1000));
		json_string_embed(b, fs[i].targets ? fs[i].targets : "");
		buf_puts(b, "}");
		free(kind);
	}
	buf_puts(b, "]");
}

/* results.json for the page, which renders every failure by its kind. The
 * failures are embedded in full up to FAILURES_EMBED_MAX bytes in all;
 * past that a failure keeps its kind, key and message (and a note). */
static json_t *results_for_page(json_t *results)
{
	if (!results)
		return NULL;
	json_t *r = json_deep_copy(results);
	size_t used = 0;
	const char *name;
	json_t *c;
	json_object_foreach(json_object_get(r, "checkers"), name, c) {
		json_t *fl = json_object_get(c, "failures");
		size_t i;
		json_t *f;
		json_array_foreach(fl, i, f) {
			char *t = json_dumps(f, JSON_COMPACT | JSON_ENCODE_ANY);
			size_t len = t ? strlen(t) : 0;
			free(t);
			if (used + len <= FAILURES_EMBED_MAX) {
				used += len;
				continue;
			}
			json_t *stub = json_object();
			static const char *keep[] = {"kind", "key", "message"};
			for (size_t k = 0; k < 3; k++) {
				json_t *v = json_object_get(f, keep[k]);
				if (v && (!json_is_string(v) || json_string_length(v) < 4096))
					json_object_set(stub, keep[k], v);
			}
			json_object_set_new(stub, "too_large",
					    json_string("too large to embed in the report: see results.json"));
			json_array_set_new(fl, i, stub);
		}
	}
	return r;
}

static void data_json(struct buf *b, json_t *v)
{
	char *t = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	if (!t)
		buf_puts(b, "null");
	else
		json_text_embed(b, t);
	free(t);
}

/* Nodes (name, host) and their log files, for links from the failures. */
static void data_nodes(struct buf *b, json_t *test, const struct logs *l)
{
	buf_puts(b, "\"nodes\":[");
	size_t i;
	json_t *n;
	json_array_foreach(json_object_get(test, "nodes"), i, n) {
		const char *name = node_name(n);
		const char *host = json_string_value(json_object_get(n, "host"));
		buf_puts(b, i ? ",[" : "[");
		json_string_embed(b, name ? name : "?");
		buf_puts(b, ",");
		json_string_embed(b, host ? host : "");
		buf_puts(b, "]");
	}
	buf_puts(b, "],\"logs\":{");
	for (size_t k = 0; k < l->n; k++) {
		buf_puts(b, k ? "," : "");
		json_string_embed(b, l->node[k]);
		buf_puts(b, ":[");
		for (size_t j = 0; j < l->nfiles[k]; j++) {
			char *rel = xasprintf("nodes/%s/%s", l->node[k], l->files[k][j]);
			struct buf u;
			buf_init(&u);
			url_path_escape(&u, rel);
			buf_puts(b, j ? "," : "");
			json_string_embed(b, u.data ? u.data : "");
			buf_free(&u);
			free(rel);
		}
		buf_puts(b, "]");
	}
	buf_puts(b, "}");
}

static void html_data(struct buf *b, const struct run *r, const struct fault *fs, size_t nf,
		      json_t *test, json_t *results, const struct anchor *an, const struct logs *l)
{
	buf_puts(b, "<script type=\"application/json\" id=\"fl-data\">{\"v\":2,");
	buf_printf(b, "\"end\":%lld,", (long long)(r->end / 1000));
	if (an->us)
		buf_printf(b, "\"wall0\":%lld,\"wall_from\":\"%s\",", (long long)an->us, an->how);
	/* Lets the timeline put a retired process's successor (p + concurrency)
	 * on its worker's lane instead of opening a new one. */
	json_t *conc = json_object_get(test, "concurrency");
	if (json_is_integer(conc) && json_integer_value(conc) > 0)
		buf_printf(b, "\"concurrency\":%lld,", (long long)json_integer_value(conc));
	buf_puts(b, "\"strings\":{");
	data_strtab(b, "f", &r->fs);
	buf_puts(b, ",");
	data_strtab(b, "keys", &r->keys);
	buf_puts(b, ",");
	data_strtab(b, "values", &r->values);
	buf_puts(b, ",");
	data_strtab(b, "nodes", &r->nodes);
	buf_puts(b, ",");
	data_strtab(b, "errors", &r->errors);
	buf_puts(b, "},");
	data_ops(b, r);
	buf_puts(b, ",");
	data_faults(b, fs, nf);
	buf_puts(b, ",");
	data_nodes(b, test, l);
	buf_puts(b, ",\"results\":");
	json_t *pr = results_for_page(results);
	data_json(b, pr);
	json_decref(pr);
	buf_puts(b, "}</script>\n");
}

static int cmp_rop(const void *a, const void *b)
{
	const struct rop *x = a, *y = b;
	if (x->t0 != y->t0)
		return (x->t0 > y->t0) - (x->t0 < y->t0);
	return (x->index > y->index) - (x->index < y->index);
}

/* The page binary-searches ops by invoke time and by index; a history
 * written by the runner is already in that order. */
static void run_sort(struct run *r)
{
	for (size_t i = 1; i < r->n; i++) {
		if (cmp_rop(&r->ops[i - 1], &r->ops[i]) > 0) {
			qsort(r->ops, r->n, sizeof *r->ops, cmp_rop);
			return;
		}
	}
}

static void html_body(struct buf *b, const char *run_dir, json_t *test,
		      json_t *results, const struct run *r)
{
	struct fault *fs;
	size_t nf = faults_build(r, &fs);
	struct fstats *st = stats_build(r);
	struct anchor an = anchor_find(run_dir, test);
	struct logs l;
	logs_load(&l, run_dir);

	html_header(b, test, results, r, run_dir, &an);
	buf_puts(b, "<section id=\"why\" hidden><h2 id=\"why-title\">Why it is invalid</h2>"
		    "<p id=\"headline\"></p><div id=\"fail-table\"></div><div id=\"cex\"></div></section>\n");
	html_params(b, test);
	buf_puts(b, "<div id=\"view-bar\" class=\"tools\"></div>\n"
		    "<section><h2>Faults</h2><div class=\"plot\" id=\"faults\"></div></section>\n"
		    "<section><h2>Latency by operation <small>each op a point: colour = op, shape = outcome; "
		    "log scale; hover for the op</small></h2>"
		    "<div class=\"legend\" id=\"lat-legend\"></div><div class=\"plot\" id=\"latency\"></div></section>\n"
		    "<section><h2>Latency quantiles over time <small>ok ops completing in each interval</small></h2>"
		    "<div class=\"legend\" id=\"q-legend\"></div><div class=\"plot\" id=\"quantiles\"></div></section>\n"
		    "<section><h2>Throughput over time <small>completions per second, per op kind</small></h2>"
		    "<div class=\"legend\" id=\"rate-legend\"></div><div class=\"plot\" id=\"rate\"></div></section>\n");
	html_quantiles(b, r, st);
	buf_puts(b, "<section><h2>Operations <small id=\"tl-sub\">a lane per process; wheel to zoom, drag to pan, "
		    "double-click to reset, hover for the op</small></h2>"
		    "<div class=\"tools\" id=\"tl-tools\"></div><div class=\"legend\" id=\"tl-legend\"></div>"
		    "<div class=\"plot\" id=\"timeline\"></div></section>\n"
		    "<section><h2>Checker results</h2><pre id=\"results\"></pre></section>\n");
	html_files(b, run_dir, &l);
	buf_puts(b, "<div id=\"tip\" hidden></div>\n");
	html_data(b, r, fs, nf, test, results, &an, &l);
	logs_free(&l);
	stats_free(st, r->fs.n);
	free(fs);
}

static void html_page(struct buf *b, const char *run_dir, json_t *test,
		      json_t *results, const struct run *r)
{
	const char *name = json_string_value(json_object_get(test, "name"));
	buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		    "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
	html_escape(b, name ? name : "faultline");
	buf_printf(b, " &mdash; %s &mdash; faultline</title>\n<style>\n",
		   results ? verdict_word(verdict_of_result(results)) : "not checked");
	buf_puts(b, report_css);
	buf_puts(b, "</style></head>\n<body>\n");
	html_body(b, run_dir, test, results, r);
	buf_puts(b, "<script>\n");
	buf_puts(b, report_js);
	buf_puts(b, "</script>\n</body></html>\n");
}

static json_t *load_json(const char *run_dir, const char *file, bool required,
			 char *err, size_t errlen, bool *failed)
{
	char *p = xasprintf("%s/%s", run_dir, file);
	json_error_t je;
	json_t *j = NULL;
	if (access(p, F_OK) == 0 || required) {
		j = json_load_file(p, JSON_ALLOW_NUL, &je);
		if (!j || !json_is_object(j)) {
			snprintf(err, errlen, "%s:%d: %s", p, je.line,
				 j ? "expected a JSON object" : je.text);
			json_decref(j);
			j = NULL;
			*failed = true;
		}
	}
	free(p);
	return j;
}

int report_write(const char *run_dir, char *err, size_t errlen)
{
	bool failed = false;
	json_t *test = load_json(run_dir, "test.json", false, err, errlen, &failed);
	json_t *results = failed ? NULL
			 : load_json(run_dir, "results.json", false, err, errlen, &failed);
	if (failed) {
		json_decref(test);
		return -1;
	}
	if (!test)
		test = json_object();

	struct run r = {0};
	run_hosts(&r, test);
	struct history_error he = {{0}};
	char *hpath = xasprintf("%s/history.jsonl", run_dir);
	int rc = history_stream(hpath, HISTORY_JSONL, run_collect, &r, &he);
	free(hpath);
	if (rc) {
		snprintf(err, errlen, "%s", he.msg);
	} else {
		run_finish(&r);
		run_sort(&r);
		struct buf b;
		buf_init(&b);
		html_page(&b, run_dir, test, results, &r);
		char *out = xasprintf("%s/report.html", run_dir);
		rc = file_write_all(out, b.data, b.len);
		if (rc)
			snprintf(err, errlen, "%s: %s", out, strerror(errno));
		free(out);
		buf_free(&b);
	}
	run_free(&r);
	json_decref(test);
	json_decref(results);
	return rc ? -1 : 0;
}
