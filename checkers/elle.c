/*
 * elle.c - the transaction isolation checker ("elle"): from a history of
 * transactions alone, which isolation anomalies happened and which
 * consistency models the history rules out, after Jepsen's Elle
 * (Kingsbury & Alvaro, "Elle: Inferring Isolation Anomalies from
 * Experimental Observations"), with each anomaly explained.
 *
 * Input: ops with f "txn" whose value is a list of micro-ops, either
 * list-append (["append", k, v] / ["r", k, [v...]]) or rw-register
 * (["w", k, v] / ["r", k, v]); keys and values are typed (1 is not "1").
 * Other ops (nemesis, non-txn) are skipped. The store (txn_store.c) keeps a
 * few dozen bytes per transaction; the model (txn_append.c,
 * txn_register.c) infers version orders and the ww/wr/rw dependencies; the
 * graph adds process or real-time order; txn_cycles.c decides, per
 * strongly connected component, exactly which cycle anomalies exist.
 *
 * Options, checker_opts.elle (all optional):
 *   consistency_models  models the history must satisfy (default
 *                       ["strict-serializable"]; Elle's names:
 *                       read-uncommitted, read-committed, repeatable-read,
 *                       snapshot-isolation, serializable,
 *                       strong-session-snapshot-isolation,
 *                       strong-snapshot-isolation,
 *                       strong-session-serializable, strict-serializable...)
 *   anomalies           more anomaly names to forbid (e.g. ["G2-item"])
 *   model               "list-append", "rw-register" or "auto" (default:
 *                       the run's workload, append or rw-register, else
 *                       the first append/write/read micro-op decides)
 *   realtime, process   add real-time / process-order edges; default: if a
 *                       forbidden anomaly needs them (real time wins: process
 *                       order is part of it)
 *   wfr_keys (true), sequential_keys, linearizable_keys
 *                       rw-register version-order sources (txn_register.c)
 *
 * Result (results.json's "elle" entry):
 *   {"valid": true | false | "unknown",
 *    "model": "list-append", "consistency_models": [...],
 *    "anomaly_types": [forbidden anomalies found, sorted],
 *    "other_anomaly_types": [anomalies found that the models allow],
 *    "not": [weakest models the anomalies rule out],
 *    "also_not": [the stronger models ruled out with them],
 *    "counts": {"G-single": 3, "G1a": 120, ...}   every kind found, in full,
 *    "failures": [...],                           at most 8 per kind,
 *    "failures_omitted": N,
 *    "realtime": bool, "process": bool,
 *    "stats": {"txns", "ok", "info", "fail", "keys", "edges",
 *              "realtime_edges", "process_edges", "sccs", "largest_scc",
 *              "reach_queries", "cpu_seconds": {"reading": add() on the
 *              judging thread, "judging": finish(), of which "versions",
 *              "graph", "cycles"}}}
 * valid is false when a forbidden anomaly was found, "unknown" when only
 * empty-transaction-graph was (nothing depends on anything: nothing was
 * judged) or when --timeout (ctx->timeout) stopped the cycle search first
 * ("unknown_reason" says so), else true. Every failure has "kind" and a one-line "message";
 * the evidence depends on the kind:
 *   cycles (G0, G1c, G-single, G-nonadjacent, G2-item, each also
 *   -process and -realtime):
 *     "txns": [{"name": "T1", "index", "invoke_index", "process", "type",
 *               "value"}, ...]             the cycle, in order
 *     "edges": [{"from": index, "to": index, "type": "ww"|"wr"|"rw"|
 *               "process"|"realtime", "key", "value",
 *               "prev" (ww: what from wrote), "read" (rw: what from read,
 *               null = the initial state), "process", "completed_index",
 *               "invoked_index", "seconds"}, ...]  from/to are history
 *               indices of the txns (their completions); edge i goes from
 *               txns[i] to txns[i+1], the last back to txns[0]
 *     "explanation": "Let T1 = {...}, T2 = {...}. Then T1 < T2 because
 *                     ...; however T2 < T1 because ...: a contradiction!"
 *     "scc_size": the strongly connected component it was found in
 *   G1a, G1b: "op" (the reader), "mop", "key", "element", "writer"
 *   internal: "op", "mop", "key", "expected" (list-append: a list, with
 *             "expected_suffix_only" when only its end is known)
 *   future-read: "op", "mop", "key", "element"
 *   dirty-update: "key", "values", "txns" [failed, committed]
 *   lost-update: "key", "value" (what they all read), "txns", "count"
 *   incompatible-order: "key", "values" [order so far, the read], "op", "mop"
 *   duplicate-elements: "op", "mop", "key", "duplicates" [[element, count]]
 *   cyclic-versions: "key", "values", "sources"
 *   empty-transaction-graph: just the message
 */
#include "elle.h"

#include "checker.h"
#include "history.h"
#include "txn.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct elle_opts {
	const char **models;  /* borrowed strings from the options JSON */
	size_t n_models;
	const char **anoms;
	size_t n_anoms;
	enum txn_model_id model;
	int realtime, process; /* -1 default, 0/1 */
	bool wfr, seq, lin;
};

static const char *const known_keys[] = {
	"consistency_models", "anomalies", "model", "realtime", "process",
	"wfr_keys", "sequential_keys", "linearizable_keys", NULL,
};

static void opts_free(struct elle_opts *o)
{
	free(o->models);
	free(o->anoms);
	memset(o, 0, sizeof *o);
}

static int names(json_t *v, const char *what, bool (*known)(const char *),
		 const char *(*list)(void), const char ***out, size_t *n, char *err,
		 size_t errlen)
{
	if (json_is_string(v)) {
		*out = xcalloc(2, sizeof **out);
		(*out)[0] = json_string_value(v);
		*n = 1;
	} else if (json_is_array(v)) {
		*n = json_array_size(v);
		*out = xcalloc(*n + 1, sizeof **out);
		for (size_t i = 0; i < *n; i++) {
			(*out)[i] = json_string_value(json_array_get(v, i));
			if (!(*out)[i]) {
				snprintf(err, errlen, "checker_opts.elle.%s[%zu]: expected a string",
					 what, i);
				return -1;
			}
		}
	} else if (!v || json_is_null(v)) {
		*out = xcalloc(1, sizeof **out);
		*n = 0;
		return 0;
	} else {
		snprintf(err, errlen, "checker_opts.elle.%s: expected a list of names", what);
		return -1;
	}
	for (size_t i = 0; i < *n; i++)
		if (!known((*out)[i])) {
			snprintf(err, errlen, "checker_opts.elle.%s: unknown %s '%s'%s%s", what,
				 list ? "consistency model" : "anomaly", (*out)[i],
				 list ? " (known: " : "", list ? list() : "");
			if (list && strlen(err) + 2 < errlen)
				strcat(err, ")");
			return -1;
		}
	return 0;
}

static int opts_parse(json_t *j, struct elle_opts *o, char *err, size_t errlen)
{
	memset(o, 0, sizeof *o);
	o->realtime = o->process = -1;
	o->wfr = true;
	if (j && !json_is_null(j) && !json_is_object(j)) {
		snprintf(err, errlen, "checker_opts.elle: expected an object");
		return -1;
	}
	const char *key;
	json_t *v;
	json_object_foreach(j, key, v) {
		bool ok = false;
		for (const char *const *k = known_keys; *k; k++)
			ok |= !strcmp(*k, key);
		if (!ok) {
			snprintf(err, errlen,
				 "checker_opts.elle.%s: unknown option (known: consistency_models, "
				 "anomalies, model, realtime, process, wfr_keys, sequential_keys, "
				 "linearizable_keys)", key);
			return -1;
		}
	}
	json_t *cm = json_object_get(j, "consistency_models");
	if (!cm) {
		o->models = xcalloc(2, sizeof *o->models);
		o->models[0] = "strict-serializable";
		o->n_models = 1;
	} else if (names(cm, "consistency_models", txn_model_known, txn_model_list, &o->models,
			 &o->n_models, err, errlen) < 0) {
		return -1;
	}
	if (names(json_object_get(j, "anomalies"), "anomalies", txn_anomaly_known, NULL, &o->anoms,
		  &o->n_anoms, err, errlen) < 0)
		return -1;
	json_t *m = json_object_get(j, "model");
	const char *ms = json_string_value(m);
	if (m && !ms) {
		snprintf(err, errlen, "checker_opts.elle.model: expected a string");
		return -1;
	}
	if (!ms || !strcmp(ms, "auto"))
		o->model = TM_AUTO;
	else if (!strcmp(ms, "list-append"))
		o->model = TM_LIST_APPEND;
	else if (!strcmp(ms, "rw-register"))
		o->model = TM_RW_REGISTER;
	else {
		snprintf(err, errlen,
			 "checker_opts.elle.model: unknown model '%s' (list-append, rw-register, auto)",
			 ms);
		return -1;
	}
	struct {
		const char *name;
		int *i;
		bool *b;
	} flags[] = {{"realtime", &o->realtime, NULL}, {"process", &o->process, NULL},
		     {"wfr_keys", NULL, &o->wfr}, {"sequential_keys", NULL, &o->seq},
		     {"linearizable_keys", NULL, &o->lin}};
	for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
		json_t *f = json_object_get(j, flags[i].name);
		if (!f)
			continue;
		if (!json_is_boolean(f)) {
			snprintf(err, errlen, "checker_opts.elle.%s: expected true or false",
				 flags[i].name);
			return -1;
		}
		if (flags[i].i)
			*flags[i].i = json_is_true(f);
		else
			*flags[i].b = json_is_true(f);
	}
	return 0;
}

static int elle_check_opts(json_t *opts, char *err, size_t errlen)
{
	struct elle_opts o;
	int rc = opts_parse(opts, &o, err, errlen);
	opts_free(&o);
	return rc;
}

struct elle {
	struct tstore st;
	struct elle_opts o;
	json_t *opts_json;       /* keeps the option strings alive */
	const char **prohibited; /* NULL-terminated */
	uint8_t xmask;
	double cpu_begin;        /* this thread's CPU time at begin */
};

/* CPU seconds of the calling thread: begin, add and finish all run on the
 * judging thread, so this is the checker's own work, without the reader. */
static double thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Does any forbidden anomaly need real-time (or process) edges? */
static bool prohibits_suffix(const char **prohibited, const char *suffix)
{
	size_t sl = strlen(suffix);
	for (const char **p = prohibited; *p; p++) {
		size_t l = strlen(*p);
		if (l > sl && !strcmp(*p + l - sl, suffix) && (*p)[0] == 'G')
			return true;
	}
	return false;
}

static void *elle_begin(const struct check_ctx *ctx, char *err, size_t errlen)
{
	json_t *j = checker_opts(ctx, "elle");
	struct elle *e = xcalloc(1, sizeof *e);
	e->opts_json = json_incref(j);
	if (opts_parse(j, &e->o, err, errlen) < 0) {
		opts_free(&e->o);
		json_decref(e->opts_json);
		free(e);
		return NULL;
	}
	e->prohibited = txn_prohibited(e->o.models, e->o.n_models, e->o.anoms, e->o.n_anoms);
	bool rt = e->o.realtime >= 0 ? e->o.realtime : prohibits_suffix(e->prohibited, "-realtime");
	bool pr = e->o.process >= 0 ? e->o.process : prohibits_suffix(e->prohibited, "-process");
	e->xmask = rt ? EDGE_RT : pr ? EDGE_PROC : 0;
	tstore_init(&e->st);
	if (e->o.model == TM_AUTO && ctx) {
		/* a run's test.json: its workload says which model */
		json_t *w = json_object_get(ctx->test, "workload");
		if (json_is_object(w))
			w = json_object_get(w, "name");
		const char *wn = json_string_value(w);
		if (wn && !strcmp(wn, "append"))
			e->o.model = TM_LIST_APPEND;
		else if (wn && !strcmp(wn, "rw-register"))
			e->o.model = TM_RW_REGISTER;
	}
	if (e->o.model != TM_AUTO) {
		e->st.model_id = e->o.model;
		e->st.model = e->o.model == TM_LIST_APPEND ? &txn_list_append : &txn_rw_register;
		e->st.model_forced = true;
	}
	e->st.wfr_keys = e->o.wfr;
	e->st.sequential_keys = e->o.seq;
	e->st.linearizable_keys = e->o.lin;
	if (ctx && ctx->timeout > 0)
		e->st.deadline = now_ns() + (int64_t)(ctx->timeout * 1e9);
	e->cpu_begin = thread_cpu();
	return e;
}

static int elle_add(void *state, const struct op *op, char *err, size_t errlen)
{
	struct elle *e = state;
	return tstore_add(&e->st, op, err, errlen);
}

static void elle_free(struct elle *e)
{
	tstore_free(&e->st);
	free(e->prohibited);
	opts_free(&e->o);
	json_decref(e->opts_json);
	free(e);
}

static void elle_abort(void *state)
{
	elle_free(state);
}

static int case_cmp(const void *a, const void *b)
{
	const struct tcase *x = a, *y = b;
	return x->kind < y->kind ? -1 : x->kind > y->kind;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_t *strings_json(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *result(struct elle *e, const struct tgraph *g, const struct tcycle_stats *cs,
		      const double *secs, double reading)
{
	struct tstore *st = &e->st;
	const char *found[K_N], *bad_or_unknown[K_N], *other[K_N];
	size_t nf = 0, nr = 0, no = 0;
	bool bad = false;
	bool report[K_N] = {0};
	json_t *counts = json_object();
	for (int k = 0; k < K_N; k++) {
		if (!st->cases.count[k])
			continue;
		const char *name = tkind_name((enum tkind)k);
		json_object_set_new(counts, name, json_integer((json_int_t)st->cases.count[k]));
		found[nf++] = name;
		bool forbidden = txn_set_has(e->prohibited, name);
		bad |= forbidden;
		if (forbidden || k == K_EMPTY_GRAPH) {
			report[k] = true;
			bad_or_unknown[nr++] = name;
		} else {
			other[no++] = name;
		}
	}
	json_t *not_, *also_not;
	txn_boundary(found, nf, &not_, &also_not);
	json_t *r = json_object();
	json_object_set_new(r, "valid", bad ? json_false()
					: nr || st->timed_out ? json_string("unknown")
							      : json_true());
	if (st->timed_out)
		json_object_set_new(r, "unknown_reason",
				    json_string("timeout: the cycle search stopped before every "
						"component was decided (the anomalies listed are real)"));
	json_object_set_new(r, "model", json_string(st->model ? st->model->name : "list-append"));
	json_object_set_new(r, "consistency_models", strings_json(e->o.models, e->o.n_models));
	if (e->o.n_anoms)
		json_object_set_new(r, "anomalies", strings_json(e->o.anoms, e->o.n_anoms));
	qsort(bad_or_unknown, nr, sizeof *bad_or_unknown, name_cmp);
	qsort(other, no, sizeof *other, name_cmp);
	json_t *types = strings_json(bad_or_unknown, nr);
	json_object_set_new(r, "anomaly_types", types);
	json_object_set_new(r, "other_anomaly_types", strings_json(other, no));
	json_object_set_new(r, "not", not_);
	json_object_set_new(r, "also_not", also_not);
	json_object_set_new(r, "counts", counts);
	if (st->cases.n)
		qsort(st->cases.c, st->cases.n, sizeof *st->cases.c, case_cmp);
	json_t *failures = json_array();
	uint64_t listed = 0, total = 0;
	for (int k = 0; k < K_N; k++)
		if (report[k])
			total += st->cases.count[k];
	for (size_t i = 0; i < st->cases.n; i++) {
		if (!report[st->cases.c[i].kind])
			continue;
		json_array_append_new(failures, txn_explain_case(st, &st->cases.c[i]));
		listed++;
	}
	json_object_set_new(r, "failures", failures);
	json_object_set_new(r, "failures_omitted", json_integer((json_int_t)(total - listed)));
	json_object_set_new(r, "realtime", json_boolean(e->xmask & EDGE_RT));
	json_object_set_new(r, "process", json_boolean(e->xmask & EDGE_PROC));
	json_t *stats = json_object();
	json_object_set_new(stats, "txns", json_integer(st->n_txns));
	json_object_set_new(stats, "ok", json_integer((json_int_t)st->n_ok));
	json_object_set_new(stats, "info", json_integer((json_int_t)st->n_info));
	json_object_set_new(stats, "fail", json_integer((json_int_t)st->n_fail));
	json_object_set_new(stats, "keys", json_integer(st->n_keys));
	json_object_set_new(stats, "edges", json_integer((json_int_t)g->n_edges));
	json_object_set_new(stats, "realtime_edges", json_integer((json_int_t)g->n_rt));
	json_object_set_new(stats, "process_edges", json_integer((json_int_t)g->n_proc));
	json_object_set_new(stats, "sccs", json_integer(cs->sccs));
	json_object_set_new(stats, "largest_scc", json_integer(cs->largest));
	json_object_set_new(stats, "reach_queries", json_integer((json_int_t)cs->reach_queries));
	json_object_set_new(stats, "reach_visits", json_integer((json_int_t)cs->reach_visits));
	if (st->n_skipped)
		json_object_set_new(stats, "skipped_ops", json_integer((json_int_t)st->n_skipped));
	json_object_set_new(stats, "cpu_seconds",
			    json_pack("{s:f, s:f, s:f, s:f, s:f}", "reading", reading, "judging",
				      secs[0] + secs[1] + secs[2], "versions", secs[0], "graph",
				      secs[1], "cycles", secs[2]));
	json_object_set_new(r, "stats", stats);
	return r;
}

static json_t *elle_finish(void *state)
{
	struct elle *e = state;
	struct tstore *st = &e->st;
	char err[512] = "";
	if (tstore_close(st, err, sizeof err) < 0) {
		json_t *r = json_pack("{s:s, s:s}", "valid", "unknown", "error", err);
		elle_free(e);
		return r;
	}
	double secs[3];
	double t0 = thread_cpu(), reading = t0 - e->cpu_begin;
	struct tedges edges = {0};
	st->model->analyze(st, &edges);
	double t1 = thread_cpu();
	struct tgraph g;
	tgraph_build(&g, st, &edges, e->xmask);
	if (!g.n_edges && !g.n_rt && !g.n_proc)
		tstore_case(st, &(struct tcase){.kind = K_EMPTY_GRAPH,
						.txn = {TXN_NONE, TXN_NONE},
						.key = TXN_NONE,
						.mop = TXN_NONE,
						.list = TXN_NONE});
	double t2 = thread_cpu();
	struct tcycle_stats cs;
	tcycles_search(st, &g, &cs);
	double t3 = thread_cpu();
	secs[0] = t1 - t0;
	secs[1] = t2 - t1;
	secs[2] = t3 - t2;
	json_t *r = result(e, &g, &cs, secs, reading);
	tgraph_free(&g);
	elle_free(e);
	return r;
}

const struct checker checker_elle = {
	.name = "elle",
	.summary = "transaction isolation (Elle): list-append or rw-register txns; anomalies "
		   "G0..G2, the models they rule out, each cycle explained",
	.check_opts = elle_check_opts,
	.begin = elle_begin,
	.add = elle_add,
	.finish = elle_finish,
	.abort = elle_abort,
	.read_text = HISTORY_VALUE_TEXT,
};
