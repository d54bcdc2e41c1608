/*
 * txn_models.c - consistency models and anomalies: which anomalies a set
 * of models forbids, and which models a set of anomalies rules out. The
 * relations are Elle's (elle.consistency-model, after Adya, Cerone, Bailis,
 * Daudjee and others) written as three tables of name pairs:
 *
 *   implied    anomaly a implies anomaly b (G0 is a G1c; G1c is a G1 ...)
 *   models     model a implies model b (strict-serializable is
 *              serializable ...), over canonical names (Adya's PL-*)
 *   forbids    model a directly forbids anomaly b (what it adds over the
 *              models it implies)
 *
 * One change of names: faultline only sees item-level dependencies (no
 * predicates), so Elle's G-single-item and G-nonadjacent-item (and their
 * -process/-realtime variants) are called G-single and G-nonadjacent, and
 * inherit both the -item and the general implications (G-nonadjacent
 * implies G2-item and G2). The Elle names are accepted as aliases in
 * options.
 *
 * A model's prohibited anomalies: every model it implies, what those
 * forbid, and every anomaly implying one of those. The boundary of a set
 * of anomalies ("not" / "also_not"): every anomaly they imply, the models
 * forbidding one of those and every model implying such a model; "not" are
 * the weakest of them (implying no other), "also_not" the rest. Sets are
 * small (about a hundred names): linear scans are plenty.
 */
#include "txn.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

struct pair {
	const char *a, *b;
};

static const struct pair implied[] = {
	{"G0", "G1c"}, {"G0", "G0-process"},
	{"G0-process", "G1c-process"}, {"G0-process", "G0-realtime"},
	{"G0-realtime", "G1c-realtime"},
	{"G1a", "G1"}, {"G1b", "G1"},
	{"G1c", "G1"}, {"G1c", "G1c-process"},
	{"G1c-process", "G1c-realtime"}, {"G1c-process", "G1-process"},
	{"G1c-realtime", "G1-realtime"},
	{"G1", "G1-process"}, {"G1-process", "G1-realtime"},
	{"G-single", "G-nonadjacent"}, {"G-single", "GSIb"}, {"G-single", "G-single-process"},
	{"G-single-process", "G-nonadjacent-process"},
	{"G-single-process", "G-single-realtime"},
	{"G-single-realtime", "G-nonadjacent-realtime"},
	{"G-nonadjacent", "G2-item"}, {"G-nonadjacent", "G2"},
	{"G-nonadjacent", "G-nonadjacent-process"},
	{"G-nonadjacent-process", "G2-item-process"}, {"G-nonadjacent-process", "G2-process"},
	{"G-nonadjacent-process", "G-nonadjacent-realtime"},
	{"G-nonadjacent-realtime", "G2-item-realtime"},
	{"G-nonadjacent-realtime", "G2-realtime"},
	{"G2", "G2-process"},
	{"G2-item", "G2"}, {"G2-item", "G2-item-process"},
	{"G2-item-process", "G2-process"}, {"G2-item-process", "G2-item-realtime"},
	{"G2-item-realtime", "G2-realtime"},
	{"G2-process", "G2-realtime"},
	{"GSIa", "GSI"}, {"GSIb", "GSI"},
	{"incompatible-order", "G1a"},
	{"future-read", "G1c"},
	{"dirty-update", "G1a"},
	{"lost-update", "write-skew"}, {"lost-update", "G2-item"},
	{"write-skew", "G2"},
};

/* friendly name -> canonical name */
static const struct pair canonical[] = {
	{"consistent-view", "PL-2+"},
	{"conflict-serializable", "PL-3"},
	{"cursor-stability", "PL-CS"},
	{"forward-consistent-view", "PL-FCV"},
	{"monotonic-snapshot-read", "PL-MSR"},
	{"monotonic-view", "PL-2L"},
	{"read-committed", "PL-2"},
	{"read-uncommitted", "PL-1"},
	{"repeatable-read", "PL-2.99"},
	{"serializable", "PL-3"},
	{"snapshot-isolation", "PL-SI"},
	{"strict-serializable", "PL-SS"},
	{"strong-serializable", "PL-SS"},
	{"update-serializable", "PL-3U"},
	{"strong-session-read-uncommitted", "strong-session-PL-1"},
	{"strong-session-read-committed", "strong-session-PL-2"},
	{"strong-read-uncommitted", "strong-PL-1"},
	{"strong-read-committed", "strong-PL-2"},
};

/* canonical -> friendly, where the inverse is ambiguous */
static const struct pair friendly_pref[] = {
	{"PL-3", "serializable"},
	{"PL-SS", "strict-serializable"},
};

/* a implies b (friendly or canonical names; canonicalized on use) */
static const struct pair models[] = {
	{"causal-cerone", "read-atomic"},
	{"consistent-view", "cursor-stability"}, {"consistent-view", "monotonic-view"},
	{"conflict-serializable", "view-serializable"},
	{"cursor-stability", "read-committed"}, {"cursor-stability", "PL-2"},
	{"forward-consistent-view", "consistent-view"},
	{"PL-2", "PL-1"},
	{"PL-3", "repeatable-read"}, {"PL-3", "update-serializable"},
	{"update-serializable", "forward-consistent-view"},
	{"monotonic-atomic-view", "read-committed"},
	{"monotonic-view", "PL-2"},
	{"monotonic-snapshot-read", "PL-2"},
	{"parallel-snapshot-isolation", "causal-cerone"},
	{"parallel-snapshot-isolation", "update-atomic"},
	{"prefix", "causal-cerone"},
	{"read-atomic", "monotonic-atomic-view"},
	{"read-committed", "read-uncommitted"},
	{"repeatable-read", "cursor-stability"}, {"repeatable-read", "monotonic-atomic-view"},
	{"update-atomic", "read-atomic"},
	{"serializable", "repeatable-read"}, {"serializable", "snapshot-isolation"},
	{"serializable", "view-serializable"},
	{"session-serializable", "1SR"},
	{"snapshot-isolation", "forward-consistent-view"},
	{"snapshot-isolation", "monotonic-atomic-view"},
	{"snapshot-isolation", "monotonic-snapshot-read"},
	{"snapshot-isolation", "parallel-snapshot-isolation"},
	{"snapshot-isolation", "prefix"},
	{"strict-serializable", "PL-3"}, {"strict-serializable", "serializable"},
	{"strict-serializable", "linearizable"}, {"strict-serializable", "snapshot-isolation"},
	{"strict-serializable", "strong-snapshot-isolation"},
	{"strict-serializable", "strong-session-serializable"},
	{"strong-session-PL-1", "PL-1"},
	{"strong-session-PL-2", "PL-2"}, {"strong-session-PL-2", "strong-session-PL-1"},
	{"strong-PL-1", "strong-session-PL-1"},
	{"strong-PL-2", "strong-session-PL-2"}, {"strong-PL-2", "strong-PL-1"},
	{"strong-session-serializable", "serializable"},
	{"strong-session-serializable", "strong-session-snapshot-isolation"},
	{"strong-session-snapshot-isolation", "snapshot-isolation"},
	{"strong-session-snapshot-isolation", "strong-session-PL-2"},
	{"strong-serializable", "session-serializable"},
	{"strong-snapshot-isolation", "strong-session-snapshot-isolation"},
	{"strong-snapshot-isolation", "strong-PL-2"},
	{"linearizable", "sequential"},
	{"sequential", "causal"},
	{"causal", "writes-follow-reads"}, {"causal", "PRAM"},
	{"PRAM", "monotonic-reads"}, {"PRAM", "monotonic-writes"}, {"PRAM", "read-your-writes"},
};

static const struct pair forbids[] = {
	{"causal-cerone", "internal"}, {"causal-cerone", "G1a"},
	{"cursor-stability", "G1"}, {"cursor-stability", "G-cursor"},
	{"cursor-stability", "lost-update"},
	{"monotonic-view", "G1"}, {"monotonic-view", "G-monotonic"},
	{"monotonic-snapshot-read", "G1"}, {"monotonic-snapshot-read", "G-MSR"},
	{"consistent-view", "G1"}, {"consistent-view", "G-single"},
	{"forward-consistent-view", "G1"}, {"forward-consistent-view", "G-SIb"},
	{"parallel-snapshot-isolation", "internal"}, {"parallel-snapshot-isolation", "G1a"},
	{"PL-3", "G1"}, {"PL-3", "G2"}, {"PL-3", "predicate-read-miss"},
	{"PL-3", "PL-3-cycle-exists"},
	{"PL-2", "G1"}, {"PL-2", "PL-2-cycle-exists"},
	{"PL-1", "G0"}, {"PL-1", "duplicate-elements"}, {"PL-1", "cyclic-versions"},
	{"PL-1", "PL-1-cycle-exists"},
	{"prefix", "internal"}, {"prefix", "G1a"},
	{"serializable", "internal"},
	{"snapshot-isolation", "internal"}, {"snapshot-isolation", "G1"},
	{"snapshot-isolation", "G-SI"}, {"snapshot-isolation", "G-nonadjacent"},
	{"snapshot-isolation", "PL-SI-cycle-exists"},
	{"read-atomic", "internal"}, {"read-atomic", "G1a"}, {"read-atomic", "future-read"},
	{"repeatable-read", "G1"}, {"repeatable-read", "G2-item"},
	{"repeatable-read", "PL-2.99-cycle-exists"}, {"repeatable-read", "lost-update"},
	{"update-atomic", "lost-update"},
	{"strict-serializable", "G1"}, {"strict-serializable", "G1c-realtime"},
	{"strict-serializable", "G2-realtime"}, {"strict-serializable", "PL-SS-cycle-exists"},
	{"strong-session-PL-1", "strong-session-PL-1-cycle-exists"},
	{"strong-session-PL-1", "G0-process"},
	{"strong-session-PL-2", "strong-session-PL-2-cycle-exists"},
	{"strong-session-PL-2", "G1c-process"},
	{"strong-PL-1", "strong-PL-1-cycle-exists"}, {"strong-PL-1", "G0-realtime"},
	{"strong-PL-2", "strong-PL-2-cycle-exists"}, {"strong-PL-2", "G1c-realtime"},
	{"strong-session-snapshot-isolation", "internal"},
	{"strong-session-snapshot-isolation", "G1-process"},
	{"strong-session-snapshot-isolation", "G-nonadjacent-process"},
	{"strong-session-snapshot-isolation", "strong-session-snapshot-isolation-cycle-exists"},
	{"strong-snapshot-isolation", "internal"},
	{"strong-snapshot-isolation", "G1-realtime"},
	{"strong-snapshot-isolation", "G-nonadjacent-realtime"},
	{"strong-snapshot-isolation", "strong-snapshot-isolation-cycle-exists"},
	{"strong-session-serializable", "G1-process"},
	{"strong-session-serializable", "G2-process"},
	{"strong-session-serializable", "strong-session-serializable-cycle-exists"},
	{"update-serializable", "G1"}, {"update-serializable", "G-update"},
};

/* Elle's names for the item-level kinds. */
static const struct pair anomaly_alias[] = {
	{"G-single-item", "G-single"},
	{"G-single-item-process", "G-single-process"},
	{"G-single-item-realtime", "G-single-realtime"},
	{"G-nonadjacent-item", "G-nonadjacent"},
	{"G-nonadjacent-item-process", "G-nonadjacent-process"},
	{"G-nonadjacent-item-realtime", "G-nonadjacent-realtime"},
};

#define N(t) (sizeof(t) / sizeof *(t))

/* ---- small string sets (NULL-terminated arrays of static strings) ---- */

struct sset {
	const char **v;
	size_t n, cap;
};

static bool sset_has(const struct sset *s, const char *x)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], x))
			return true;
	return false;
}

static bool sset_add(struct sset *s, const char *x)
{
	if (sset_has(s, x))
		return false;
	if (s->n + 1 >= s->cap) {
		s->cap = s->cap ? s->cap * 2 : 32;
		s->v = xrealloc(s->v, s->cap * sizeof *s->v);
	}
	s->v[s->n++] = x;
	s->v[s->n] = NULL;
	return true;
}

bool txn_set_has(const char *const *set, const char *name)
{
	for (; set && *set; set++)
		if (!strcmp(*set, name))
			return true;
	return false;
}

static const char *canon(const char *m)
{
	for (size_t i = 0; i < N(canonical); i++)
		if (!strcmp(canonical[i].a, m))
			return canonical[i].b;
	return m;
}

static const char *friendly(const char *m)
{
	for (size_t i = 0; i < N(friendly_pref); i++)
		if (!strcmp(friendly_pref[i].a, m))
			return friendly_pref[i].b;
	for (size_t i = 0; i < N(canonical); i++)
		if (!strcmp(canonical[i].b, m))
			return canonical[i].a;
	return m;
}

static const char *anomaly_canon(const char *a)
{
	for (size_t i = 0; i < N(anomaly_alias); i++)
		if (!strcmp(anomaly_alias[i].a, a))
			return anomaly_alias[i].b;
	return a;
}

/* Closure of set s over table t (forward: a -> b; else b -> a). When
 * canon_names, both ends are canonical model names. */
static void closure(struct sset *s, const struct pair *t, size_t nt, bool forward,
		    bool canon_names)
{
	for (size_t i = 0; i < s->n; i++) {
		for (size_t j = 0; j < nt; j++) {
			const char *from = forward ? t[j].a : t[j].b, *to = forward ? t[j].b : t[j].a;
			if (canon_names) {
				from = canon(from);
				to = canon(to);
			}
			if (!strcmp(from, s->v[i]))
				sset_add(s, to);
		}
	}
}

bool txn_model_known(const char *name)
{
	for (size_t i = 0; i < N(canonical); i++)
		if (!strcmp(canonical[i].a, name) || !strcmp(canonical[i].b, name))
			return true;
	for (size_t i = 0; i < N(models); i++)
		if (!strcmp(models[i].a, name) || !strcmp(models[i].b, name))
			return true;
	for (size_t i = 0; i < N(forbids); i++)
		if (!strcmp(forbids[i].a, name))
			return true;
	return false;
}

const char *txn_model_list(void)
{
	static char *cache;
	if (cache)
		return cache;
	struct sset s = {0};
	for (size_t i = 0; i < N(canonical); i++)
		sset_add(&s, canonical[i].a);
	for (size_t i = 0; i < N(models); i++) {
		sset_add(&s, models[i].a);
		sset_add(&s, models[i].b);
	}
	struct buf b;
	buf_init(&b);
	for (size_t i = 0; i < s.n; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", s.v[i]);
	free(s.v);
	cache = buf_steal(&b);
	return cache;
}

bool txn_anomaly_known(const char *name)
{
	name = anomaly_canon(name);
	for (size_t i = 0; i < N(implied); i++)
		if (!strcmp(implied[i].a, name) || !strcmp(implied[i].b, name))
			return true;
	for (size_t i = 0; i < N(forbids); i++)
		if (!strcmp(forbids[i].b, name))
			return true;
	for (int k = 0; k < K_N; k++)
		if (!strcmp(tkind_name((enum tkind)k), name))
			return true;
	return false;
}

const char **txn_prohibited(const char *const *ms, size_t nm, const char *const *anoms,
			    size_t na)
{
	struct sset models_s = {0}, out = {0};
	for (size_t i = 0; i < nm; i++)
		sset_add(&models_s, canon(ms[i]));
	closure(&models_s, models, N(models), true, true);
	for (size_t i = 0; i < models_s.n; i++)
		for (size_t j = 0; j < N(forbids); j++)
			if (!strcmp(canon(forbids[j].a), models_s.v[i]))
				sset_add(&out, forbids[j].b);
	for (size_t i = 0; i < na; i++)
		sset_add(&out, anomaly_canon(anoms[i]));
	closure(&out, implied, N(implied), false, false);
	free(models_s.v);
	if (!out.v) {
		out.v = xcalloc(1, sizeof *out.v);
	}
	return out.v;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_t *sorted_json(struct sset *s)
{
	if (s->n)
		qsort(s->v, s->n, sizeof *s->v, str_cmp);
	json_t *a = json_array();
	for (size_t i = 0; i < s->n; i++)
		if (i == 0 || strcmp(s->v[i], s->v[i - 1]))
			json_array_append_new(a, json_string(s->v[i]));
	return a;
}

void txn_boundary(const char *const *anoms, size_t n, json_t **not_, json_t **also_not)
{
	struct sset an = {0}, imp = {0};
	for (size_t i = 0; i < n; i++)
		sset_add(&an, anomaly_canon(anoms[i]));
	closure(&an, implied, N(implied), true, false);
	for (size_t i = 0; i < an.n; i++)
		for (size_t j = 0; j < N(forbids); j++)
			if (!strcmp(forbids[j].b, an.v[i]))
				sset_add(&imp, canon(forbids[j].a));
	closure(&imp, models, N(models), false, true);
	/* weakest: those implying no other member */
	struct sset weak = {0}, strong = {0};
	for (size_t i = 0; i < imp.n; i++) {
		struct sset down = {0};
		sset_add(&down, imp.v[i]);
		closure(&down, models, N(models), true, true);
		bool implies_other = false;
		for (size_t j = 0; j < down.n && !implies_other; j++)
			implies_other = strcmp(down.v[j], imp.v[i]) && sset_has(&imp, down.v[j]);
		free(down.v);
		sset_add(implies_other ? &strong : &weak, friendly(imp.v[i]));
	}
	*not_ = sorted_json(&weak);
	*also_not = sorted_json(&strong);
	free(an.v);
	free(imp.v);
	free(weak.v);
	free(strong.v);
}
