/*
 * report.c - writes RUN_DIR/report.html, the one file a person opens to see
 * what a run did and why it failed.
 *
 * It streams history.jsonl once, pairs every invoke with its completion,
 * turns nemesis ops into fault intervals, and computes the counts and latency
 * quantiles in C. The page itself is static HTML (header, tables, links, all
 * escaped with html_escape) plus one JSON blob the inline script draws from
 * (src/report/report.js, embedded by report_assets.c). Ops are embedded as
 * columns of numbers with strings interned into tables, so a 100,000-op
 * history stays a few megabytes and parses in milliseconds. Nothing on the
 * page is ever fetched: a CSP meta tag forbids every remote load.
 */
#include "report.h"
#include "history.h"
#include "report_assets.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Values longer than this are cut in the embedded data; the full op stays
 * in history.jsonl, linked from the page. */
#define VALUE_TEXT_MAX 160

enum { TY_OK, TY_FAIL, TY_INFO, TY_PENDING };

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

static char *value_text(json_t *v)
{
	if (!v || json_is_null(v))
		return NULL;
	char *full = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!full)
		return NULL;
	char *t = utf8_truncate(full, VALUE_TEXT_MAX);
	free(full);
	return t;
}

static int32_t intern_value(struct run *r, json_t *v)
{
	char *t = value_text(v);
	int32_t id = (int32_t)strtab_id(&r->values, t);
	free(t);
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
			.index = op->index, .ty = TY_PENDING,
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
	o->t1 = op->time;
	o->ty = op->type == OP_OK ? TY_OK : op->type == OP_FAIL ? TY_FAIL : TY_INFO;
	int32_t v = intern_value(r, op->value);
	if (v >= 0)
		o->value = v;
	if (op->node)
		o->node = (int32_t)strtab_id(&r->nodes, op->node);
	o->error = (int32_t)strtab_id(&r->errors, op->error);
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
	if (op->time > r->end)
		r->end = op->time;
	if (op->process == PROCESS_NEMESIS)
		run_nemesis_op(r, op);
	else
		run_client_op(r, op);
	op_free(op);
	return 0;
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
	strtab_free(&r->fs);
	strtab_free(&r->keys);
	strtab_free(&r->values);
	strtab_free(&r->nodes);
	strtab_free(&r->errors);
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
	size_t count[4];
	int64_t *lat; /* ok latencies, ns */
	size_t nlat;
};

static struct fstats *stats_build(const struct run *r)
{
	struct fstats *st = xcalloc(r->fs.n + 1, sizeof *st);
	for (size_t i = 0; i < r->n; i++) {
		const struct rop *o = &r->ops[i];
		struct fstats *s = &st[o->f];
		s->count[o->ty]++;
		if (o->ty == TY_OK) {
			if (!s->lat)
				s->lat = xmalloc((size_t)r->n * sizeof *s->lat);
			s->lat[s->nlat++] = o->t1 - o->t0;
		}
	}
	for (size_t f = 0; f < r->fs.n; f++)
		if (st[f].nlat)
			qsort(st[f].lat, st[f].nlat, sizeof *st[f].lat, cmp_i64);
	return st;
}

static void stats_free(struct fstats *st, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(st[i].lat);
	free(st);
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

static const char *verdict_class(json_t *valid)
{
	if (json_is_true(valid))
		return "valid";
	if (json_is_false(valid))
		return "invalid";
	return "unknown";
}

static const char *verdict_word(json_t *valid)
{
	if (!valid)
		return "not checked";
	if (json_is_true(valid))
		return "valid";
	if (json_is_false(valid))
		return "invalid";
	return "unknown";
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

static const char *node_name(json_t *n)
{
	if (json_is_string(n))
		return json_string_value(n);
	const char *s = json_string_value(json_object_get(n, "name"));
	return s ? s : json_string_value(json_object_get(n, "host"));
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

/* Every top-level parameter of test.json except the node list (shown on
 * its own) and anything that looks secret (test.json is already redacted;
 * this is a second guard). */
static void html_params(struct buf *b, json_t *test)
{
	const char *k;
	json_t *v;
	buf_puts(b, "<div class=\"params\">\n");
	html_nodes(b, test);
	json_object_foreach(test, k, v) {
		if (!strcmp(k, "nodes") || !strcmp(k, "name") || secret_key(k))
			continue;
		if (json_is_object(v) || json_is_null(v))
			continue;
		char *t = param_text(v);
		char *cut = utf8_truncate(t, 200);
		buf_puts(b, "<div class=\"kv\"><span>");
		html_escape(b, k);
		buf_puts(b, "</span><span>");
		html_escape(b, cut);
		buf_puts(b, "</span></div>\n");
		free(cut);
		free(t);
	}
	buf_puts(b, "</div>\n");
}

static void html_header(struct buf *b, json_t *test, json_t *results,
			const struct run *r, const char *run_dir)
{
	const char *name = json_string_value(json_object_get(test, "name"));
	json_t *valid = json_object_get(results, "valid");
	buf_puts(b, "<header><div class=\"title\"><h1>");
	html_escape(b, name ? name : "faultline run");
	buf_puts(b, "</h1><div class=\"sub\">");
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
	buf_printf(b, "</div></div><div class=\"verdict %s\" id=\"verdict\">",
		   valid ? verdict_class(valid) : "unknown");
	buf_puts(b, verdict_word(valid));
	buf_puts(b, "</div></header>\n<section class=\"checkers\">");
	json_t *cs = json_object_get(results, "checkers");
	const char *k;
	json_t *c;
	json_object_foreach(cs, k, c) {
		json_t *cv = json_object_get(c, "valid");
		buf_printf(b, "<span class=\"chip %s\">", verdict_class(cv));
		html_escape(b, k);
		buf_puts(b, ": <b>");
		buf_puts(b, verdict_word(cv));
		buf_puts(b, "</b></span>");
	}
	if (!results)
		buf_puts(b, "<span class=\"chip unknown\">results.json missing: the history was not checked</span>");
	if (r->orphans)
		buf_printf(b, "<span class=\"chip unknown\">%zu completions without an invoke</span>",
			   r->orphans);
	buf_puts(b, "</section>\n");
	html_params(b, test);
}

struct errcount {
	size_t id, n;
};

static int cmp_errcount(const void *a, const void *b)
{
	const struct errcount *x = a, *y = b;
	return (x->n < y->n) - (x->n > y->n);
}

/* The errors clients reported, most frequent first: often the quickest
 * explanation of a wall of info ops. */
static void html_errors(struct buf *b, const struct run *r)
{
	if (!r->errors.n)
		return;
	struct errcount *ec = xcalloc(r->errors.n, sizeof *ec);
	for (size_t i = 0; i < r->errors.n; i++)
		ec[i].id = i;
	for (size_t i = 0; i < r->n; i++)
		if (r->ops[i].error >= 0)
			ec[r->ops[i].error].n++;
	qsort(ec, r->errors.n, sizeof *ec, cmp_errcount);
	buf_puts(b, "<h2 style=\"margin-top:14px\">Errors reported by clients</h2>"
		    "<table class=\"q\"><thead><tr><th>error</th><th>ops</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < r->errors.n && i < 20; i++) {
		char *cut = utf8_truncate(r->errors.s[ec[i].id], 300);
		buf_puts(b, "<tr><td>");
		html_escape(b, cut);
		buf_printf(b, "</td><td>%zu</td></tr>\n", ec[i].n);
		free(cut);
	}
	if (r->errors.n > 20)
		buf_printf(b, "<tr><td colspan=\"2\">%zu more distinct errors</td></tr>\n",
			   r->errors.n - 20);
	buf_puts(b, "</tbody></table>\n");
	free(ec);
}

static void html_quantiles(struct buf *b, const struct run *r, const struct fstats *st)
{
	buf_puts(b, "<section><h2>Latency and outcomes per operation</h2>\n"
		    "<table class=\"q\"><thead><tr><th>op</th><th>ok</th><th>fail</th>"
		    "<th>info</th><th>never completed</th><th>p50 ms</th><th>p90 ms</th>"
		    "<th>p99 ms</th><th>max ms</th></tr></thead><tbody>\n");
	for (size_t f = 0; f < r->fs.n; f++) {
		const struct fstats *s = &st[f];
		buf_puts(b, "<tr><td>");
		html_escape(b, r->fs.s[f]);
		buf_printf(b, "</td><td class=\"ok\">%zu</td><td class=\"fail\">%zu</td>"
			      "<td class=\"info\">%zu</td><td>%zu</td>",
			   s->count[TY_OK], s->count[TY_FAIL], s->count[TY_INFO],
			   s->count[TY_PENDING]);
		const double qs[] = {0.5, 0.9, 0.99, 1.0};
		for (int i = 0; i < 4; i++) {
			buf_puts(b, "<td>");
			put_ms(b, quantile(s->lat, s->nlat, qs[i]));
			buf_puts(b, "</td>");
		}
		buf_puts(b, "</tr>\n");
	}
	if (!r->fs.n)
		buf_puts(b, "<tr><td colspan=\"9\">no client operations in the history</td></tr>\n");
	buf_puts(b, "</tbody></table><p class=\"note\">Quantiles are over ok operations "
		    "(invoke to completion). <i>info</i>: outcome unknown (timeout, "
		    "connection lost).</p>\n");
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

static void html_link(struct buf *b, const char *rel)
{
	buf_puts(b, "<a href=\"");
	struct buf u;
	buf_init(&u);
	url_path_escape(&u, rel);
	html_escape(b, u.data ? u.data : "");
	buf_free(&u);
	buf_puts(b, "\">");
	html_escape(b, rel);
	buf_puts(b, "</a>");
}

/* Run files and the database logs fetched from each node (relative links,
 * so they work wherever the run directory is copied to). */
static void html_files(struct buf *b, const char *run_dir)
{
	buf_puts(b, "<section><h2>Files and node logs</h2><ul class=\"files\">\n");
	static const char *own[] = {"test.json", "history.jsonl", "results.json",
				    "junit.xml", "faultline.log"};
	buf_puts(b, "<li>run: ");
	for (size_t i = 0; i < sizeof own / sizeof *own; i++) {
		char *p = xasprintf("%s/%s", run_dir, own[i]);
		if (!access(p, F_OK)) {
			html_link(b, own[i]);
			buf_puts(b, " ");
		}
		free(p);
	}
	buf_puts(b, "</li>\n");
	char *nodes_dir = xasprintf("%s/nodes", run_dir);
	char **nodes;
	size_t nn = list_dir(nodes_dir, true, &nodes);
	for (size_t i = 0; i < nn; i++) {
		buf_puts(b, "<li>");
		html_escape(b, nodes[i]);
		buf_puts(b, ": ");
		char *nd = xasprintf("%s/%s", nodes_dir, nodes[i]);
		char **files;
		size_t nf = list_dir(nd, false, &files);
		for (size_t j = 0; j < nf; j++) {
			char *rel = xasprintf("nodes/%s/%s", nodes[i], files[j]);
			html_link(b, rel);
			buf_puts(b, " ");
			free(rel);
		}
		if (!nf)
			buf_puts(b, "<i>no files</i>");
		free_list(files, nf);
		free(nd);
		buf_puts(b, "</li>\n");
	}
	if (!nn)
		buf_puts(b, "<li><i>no node logs were fetched</i></li>\n");
	free_list(nodes, nn);
	free(nodes_dir);
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

/* Times are microseconds; t0 and index are delta-encoded (the history is in
 * invoke order, so deltas are small). */
static void data_ops(struct buf *b, const struct run *r)
{
	int64_t prev;
	buf_puts(b, "\"ops\":{\"t0\":[");
	prev = 0;
	for (size_t i = 0; i < r->n; i++) {
		int64_t us = r->ops[i].t0 / 1000;
		buf_printf(b, i ? ",%lld" : "%lld", (long long)(us - prev));
		prev = us;
	}
	buf_puts(b, "],\"d\":[");
	for (size_t i = 0; i < r->n; i++) {
		const struct rop *o = &r->ops[i];
		long long d = o->t1 < 0 ? -1 : (long long)(o->t1 / 1000 - o->t0 / 1000);
		buf_printf(b, i ? ",%lld" : "%lld", d);
	}
	buf_puts(b, "],\"i\":[");
	prev = 0;
	for (size_t i = 0; i < r->n; i++) {
		buf_printf(b, i ? ",%lld" : "%lld", (long long)(r->ops[i].index - prev));
		prev = r->ops[i].index;
	}
#define COLUMN(name, expr)                                                   \
	buf_puts(b, "],\"" name "\":[");                                     \
	for (size_t i = 0; i < r->n; i++)                                    \
		buf_printf(b, i ? ",%lld" : "%lld", (long long)(r->ops[i].expr));
	COLUMN("p", process)
	COLUMN("ty", ty)
	COLUMN("f", f)
	COLUMN("k", key)
	COLUMN("v", value)
	COLUMN("n", node)
	COLUMN("e", error)
#undef COLUMN
	buf_puts(b, "]}");
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

/* A JSON value as embedded text; very large checker results are replaced by
 * a note (the full file is linked). */
static void data_json(struct buf *b, json_t *v, size_t max)
{
	char *t = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	if (!t)
		buf_puts(b, "null");
	else if (strlen(t) > max)
		buf_puts(b, "\"(too large to embed: see results.json)\"");
	else
		json_text_embed(b, t);
	free(t);
}

/* Counterexamples: every checker result's "failures" entries carrying a
 * "concurrent" window (see checkers/checker.h). */
static void data_failures(struct buf *b, json_t *results)
{
	buf_puts(b, "\"failures\":[");
	json_t *cs = json_object_get(results, "checkers");
	const char *name;
	json_t *c;
	int n = 0;
	json_object_foreach(cs, name, c) {
		json_t *fl = json_object_get(c, "failures");
		size_t i;
		json_t *f;
		json_array_foreach(fl, i, f) {
			if (n >= 20) /* the first few explain; the rest are in results.json */
				break;
			if (!json_is_object(f) || !(json_object_get(f, "op") || json_object_get(f, "concurrent")))
				continue; /* not a counterexample (another checker's shape) */
			buf_puts(b, n++ ? ",{\"checker\":" : "{\"checker\":");
			json_string_embed(b, name);
			buf_puts(b, ",\"model\":");
			data_json(b, json_object_get(c, "model"), 1000);
			buf_puts(b, ",\"f\":");
			data_json(b, f, 2000000);
			buf_puts(b, "}");
		}
	}
	buf_puts(b, "]");
}

static void html_data(struct buf *b, const struct run *r, const struct fault *fs,
		      size_t nf, json_t *test, json_t *results)
{
	buf_puts(b, "<script type=\"application/json\" id=\"fl-data\">{\"v\":1,");
	buf_printf(b, "\"end\":%lld,", (long long)(r->end / 1000));
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
	data_failures(b, results);
	buf_puts(b, ",\"results\":");
	data_json(b, results, 1000000);
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

	html_header(b, test, results, r, run_dir);
	buf_puts(b, "<section id=\"why\" hidden><h2>Why it is invalid</h2><div id=\"cex\"></div></section>\n"
		    "<section><h2>Faults</h2><div class=\"plot\" id=\"faults\"></div></section>\n"
		    "<section><h2>Latency over time <small>each op a point, log scale</small></h2>"
		    "<div class=\"legend\" id=\"lat-legend\"></div><div class=\"plot\" id=\"latency\"></div></section>\n"
		    "<section><h2>Throughput over time <small>completions per second, per op kind</small></h2>"
		    "<div class=\"legend\" id=\"rate-legend\"></div><div class=\"plot\" id=\"rate\"></div></section>\n");
	html_quantiles(b, r, st);
	buf_puts(b, "<section><h2>Operations <small id=\"tl-sub\">a lane per process; wheel to zoom, drag to pan, "
		    "double-click to reset, hover for the op</small></h2>"
		    "<div class=\"tools\" id=\"tl-tools\"></div><div class=\"plot\" id=\"timeline\"></div></section>\n"
		    "<section><h2>Checker results</h2><pre id=\"results\"></pre></section>\n");
	html_files(b, run_dir);
	buf_puts(b, "<div id=\"tip\" hidden></div>\n");
	html_data(b, r, fs, nf, test, results);
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
		   verdict_word(json_object_get(results, "valid")));
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
