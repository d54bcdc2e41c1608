/*
 * options.c - the fault options every kind reads (nemesis_impl.h): the
 * per-kind objects under the config's nemesis_opts, validated key by key
 * before any node is touched, and target specs ("one", "minority",
 * "majority", "all", "primaries", or node names) resolved with the seeded
 * rng when a fault starts.
 */
#include "nemesis_impl.h"

#include "test.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *nem_opts(const struct test *t, const char *kind)
{
	if (!t->nemesis_opts)
		return NULL;
	return json_object_get(t->nemesis_opts, kind);
}

int nem_opts_keys(json_t *o, const char *const *keys, const char *where, char *err,
		  size_t errlen)
{
	if (!o)
		return 0;
	if (!json_is_object(o)) {
		snprintf(err, errlen, "%s: expected an object", where);
		return -1;
	}
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		bool known = false;
		for (const char *const *p = keys; *p; p++)
			known = known || !strcmp(*p, k);
		if (!known) {
			struct buf b;
			buf_init(&b);
			for (const char *const *p = keys; *p; p++)
				buf_printf(&b, "%s%s", p == keys ? "" : ", ", *p);
			snprintf(err, errlen, "%s.%s: unknown key (known: %s)", where, k, b.data);
			buf_free(&b);
			return -1;
		}
	}
	return 0;
}

int nem_opts_num(json_t *o, const char *key, double def, double min, double max,
		 const char *where, double *out, char *err, size_t errlen)
{
	json_t *v = o ? json_object_get(o, key) : NULL;
	if (!v) {
		*out = def;
		return 0;
	}
	if (!json_is_number(v)) {
		snprintf(err, errlen, "%s.%s: expected a number", where, key);
		return -1;
	}
	double d = json_number_value(v);
	if (!isfinite(d) || d < min || d > max) {
		snprintf(err, errlen, "%s.%s: expected a number in %g..%g, got %g", where, key, min,
			 max, d);
		return -1;
	}
	*out = d;
	return 0;
}

static const char *const target_words[] = {"one", "minority", "majority", "all", "primaries",
					   NULL};

bool nem_target_word(const char *s)
{
	for (const char *const *p = target_words; *p; p++)
		if (!strcmp(*p, s))
			return true;
	return false;
}

int nem_node_index(const struct test *t, const char *name)
{
	for (int i = 0; i < t->n_nodes; i++)
		if (!strcmp(t->nodes[i].name, name))
			return i;
	return -1;
}

static int target_word_check(json_t *v, const char *where, char *err, size_t errlen)
{
	if (json_is_string(v) && nem_target_word(json_string_value(v)))
		return 0;
	snprintf(err, errlen, "%s: unknown target %s%s%s (one, minority, majority, all, primaries)",
		 where, json_is_string(v) ? "'" : "", json_is_string(v) ? json_string_value(v) : "value",
		 json_is_string(v) ? "'" : "");
	return -1;
}

int nem_targets_check(const struct test *t, json_t *o, const char *where, char *err,
		      size_t errlen)
{
	json_t *tg = o ? json_object_get(o, "targets") : NULL;
	json_t *nodes = o ? json_object_get(o, "nodes") : NULL;
	char w[300];
	if (tg && nodes) {
		snprintf(err, errlen, "%s: give targets or nodes, not both", where);
		return -1;
	}
	if (tg) {
		snprintf(w, sizeof w, "%s.targets", where);
		if (json_is_array(tg)) {
			if (json_array_size(tg) == 0) {
				snprintf(err, errlen, "%s: empty", w);
				return -1;
			}
			size_t i;
			json_t *e;
			json_array_foreach(tg, i, e) {
				char wi[340];
				snprintf(wi, sizeof wi, "%s[%zu]", w, i);
				if (target_word_check(e, wi, err, errlen) < 0)
					return -1;
			}
			return 0;
		}
		return target_word_check(tg, w, err, errlen);
	}
	if (!nodes)
		return 0;
	snprintf(w, sizeof w, "%s.nodes", where);
	if (!json_is_array(nodes) || json_array_size(nodes) == 0) {
		snprintf(err, errlen, "%s: expected a non-empty list of node names", w);
		return -1;
	}
	size_t i;
	json_t *e;
	json_array_foreach(nodes, i, e) {
		if (!json_is_string(e) || nem_node_index(t, json_string_value(e)) < 0) {
			snprintf(err, errlen, "%s[%zu]: %s%s%s is not a node of this test", w, i,
				 json_is_string(e) ? "'" : "",
				 json_is_string(e) ? json_string_value(e) : "value",
				 json_is_string(e) ? "'" : "");
			return -1;
		}
		for (size_t k = 0; k < i; k++)
			if (!strcmp(json_string_value(json_array_get(nodes, k)), json_string_value(e))) {
				snprintf(err, errlen, "%s[%zu]: node %s given twice", w, i,
					 json_string_value(e));
				return -1;
			}
	}
	return 0;
}

void nem_targets_plan(struct nemesis_ctx *c, json_t *opts, const char *def, json_t *spec)
{
	json_t *tg = opts ? json_object_get(opts, "targets") : NULL;
	json_t *nodes = opts ? json_object_get(opts, "nodes") : NULL;
	if (nodes)
		json_object_set(spec, "nodes", nodes);
	else if (json_is_array(tg))
		json_object_set_new(spec, "targets", json_string(nem_pick(c, tg)));
	else if (json_is_string(tg))
		json_object_set(spec, "targets", tg);
	else
		json_object_set_new(spec, "targets", json_string(def));
}

int nem_primaries(struct nemesis_ctx *c, int *out, char *err, size_t errlen)
{
	if (!db_has_primaries(c->db, c->test)) {
		snprintf(err, errlen, "the database cannot say which node is primary");
		return -1;
	}
	int n = c->test->n_nodes;
	bool *is = xcalloc((size_t)n, sizeof *is);
	char perr[300] = "";
	int np = c->db->primaries(&c->dbc, is, perr, sizeof perr), k = 0;
	for (int i = 0; i < n && np > 0; i++)
		if (is[i])
			out[k++] = i;
	free(is);
	if (k == 0)
		snprintf(err, errlen, "no primary: %s", perr[0] ? perr : "none known");
	return k ? k : -1;
}

double nem_rand_unit(struct nemesis_ctx *c)
{
	return (double)(rng_next(c->rng) >> 11) * (1.0 / 9007199254740992.0);
}

int nem_rand_int(struct nemesis_ctx *c, int n)
{
	return n <= 1 ? 0 : (int)rng_below(c->rng, (uint64_t)n);
}

const char *nem_pick(struct nemesis_ctx *c, json_t *arr)
{
	size_t n = json_array_size(arr);
	if (n == 0)
		return NULL;
	return json_string_value(json_array_get(arr, (size_t)nem_rand_int(c, (int)n)));
}

int nem_targets(struct nemesis_ctx *c, json_t *spec, const char *def, bool avoid_busy,
		int *out, char *err, size_t errlen)
{
	const struct test *t = c->test;
	int n = t->n_nodes;
	json_t *nodes = spec ? json_object_get(spec, "nodes") : NULL;
	if (json_is_array(nodes)) {
		int k = 0;
		size_t i;
		json_t *e;
		json_array_foreach(nodes, i, e) {
			int idx = json_is_string(e) ? nem_node_index(t, json_string_value(e)) : -1;
			if (idx < 0) {
				snprintf(err, errlen, "target %s is not a node of this test",
					 json_is_string(e) ? json_string_value(e) : "?");
				return -1;
			}
			if (avoid_busy && c->busy[idx]) {
				snprintf(err, errlen, "%s is already under a %s fault", t->nodes[idx].name,
					 c->busy[idx]);
				return -1;
			}
			bool dup = false;
			for (int q = 0; q < k; q++)
				dup = dup || out[q] == idx;
			if (!dup)
				out[k++] = idx;
		}
		if (k == 0) {
			snprintf(err, errlen, "no target nodes");
			return -1;
		}
		return k;
	}
	const char *w = spec ? json_string_value(json_object_get(spec, "targets")) : NULL;
	if (!w)
		w = def ? def : "one";
	if (!strcmp(w, "primaries")) {
		int *prim = xcalloc((size_t)n, sizeof *prim);
		int np = nem_primaries(c, prim, err, errlen), k = 0;
		for (int i = 0; i < np; i++) {
			if (avoid_busy && c->busy[prim[i]]) {
				snprintf(err, errlen, "primary %s is already under a %s fault",
					 t->nodes[prim[i]].name, c->busy[prim[i]]);
				continue;
			}
			out[k++] = prim[i];
		}
		free(prim);
		return k ? k : -1;
	}
	int want = !strcmp(w, "one")        ? 1
		   : !strcmp(w, "minority") ? nem_minority(n)
		   : !strcmp(w, "majority") ? nem_majority(n)
		   : !strcmp(w, "all")      ? n
					    : -1;
	if (want < 0) {
		snprintf(err, errlen, "unknown target '%s'", w);
		return -1;
	}
	if (want == 0) {
		snprintf(err, errlen, "target %s is empty on %d nodes", w, n);
		return -1;
	}
	int *free_nodes = xcalloc((size_t)n, sizeof *free_nodes);
	int nf = 0;
	for (int i = 0; i < n; i++)
		if (!avoid_busy || !c->busy[i])
			free_nodes[nf++] = i;
	if (nf < want) {
		snprintf(err, errlen, "target %s needs %d nodes but only %d are free of other "
			 "process faults", w, want, nf);
		free(free_nodes);
		return -1;
	}
	for (int i = nf - 1; i > 0; i--) {
		int j = nem_rand_int(c, i + 1);
		int tmp = free_nodes[i];
		free_nodes[i] = free_nodes[j];
		free_nodes[j] = tmp;
	}
	/* Sorted, so the history reads n1, n3 rather than n3, n1. */
	for (int i = 0; i < want; i++)
		for (int j = i + 1; j < want; j++)
			if (free_nodes[j] < free_nodes[i]) {
				int tmp = free_nodes[i];
				free_nodes[i] = free_nodes[j];
				free_nodes[j] = tmp;
			}
	memcpy(out, free_nodes, (size_t)want * sizeof *out);
	free(free_nodes);
	return want;
}

json_t *nem_node_names(const struct test *t, const int *idx, int n)
{
	json_t *a = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_string(t->nodes[idx[i]].name));
	return a;
}
