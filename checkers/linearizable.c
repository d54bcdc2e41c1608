/*
 * linearizable.c - the linearizability checker.
 *
 * Reading: ops are paired (completion to the latest open invoke of its
 * process), encoded once by the model into a compact struct mop with
 * interned values, and grouped by key. ok ops took effect once between
 * invoke and completion; fail ops never did (dropped); info ops and invokes
 * that never completed may have taken effect at any point after their
 * invoke, or never, so their completion is at +infinity and the search may
 * leave them out. Reads whose result is unknown are dropped by the model.
 *
 * Search: Wing & Gong's algorithm with Lowe's memoization, as in Porcupine:
 * a doubly linked list of call/return entries in history order; at a call,
 * try to linearize the op now (model step), and if the resulting
 * (linearized set, state) configuration is new, lift the op out of the list
 * and restart from the head; at a return entry (an op that had to be
 * linearized by now but was not) backtrack. The search succeeds when every
 * ok op is linearized. Configurations are kept in a hash set: the set of
 * linearized ops is a bitset over ops numbered by completion order, so all
 * bits below the first zero are ones and only the words from there on are
 * stored. A Zobrist hash of the set is maintained incrementally.
 *
 * P-compositionality (Horn & Kroening): a history is linearizable iff each
 * key's subhistory is, so keys are searched independently on a pool of
 * threads, largest first. A deadline (checked every few thousand steps) or
 * a per-key memory cap turns a key into "unknown", never into "valid".
 *
 * Counterexample: the search records the furthest return entry at which it
 * ever had to backtrack. Everything before that completion can be
 * linearized; that op cannot follow. This blames the op whose result is
 * impossible (the concurrent read in Knossos's rethink trap), not a later
 * op that merely shares its window.
 */
#include "linearizable.h"
#include "checker.h"
#include "history.h"
#include "model.h"
#include "util.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LIN_MAX_STATES 16      /* states reported in a counterexample */
#define LIN_MAX_CONCURRENT 64  /* ops reported in a counterexample window */
#define LIN_MAX_FAILURES 16    /* keys with full counterexamples */
#define LIN_CHECK_EVERY 4096   /* search steps between deadline checks */

/* One paired op. */
struct lop {
	uint64_t inv_pos, ret_pos;  /* event sequence numbers; ret UINT64_MAX if never */
	int64_t index, process;
	int64_t inv_time, ret_time;
	uint32_t key, f;            /* interned key / f name */
	value_id inv_value, value;  /* for display */
	struct mop mop;
	uint8_t type;               /* completion type; OP_INVOKE while pending */
	uint8_t keep;               /* 1 if the model encoded it (not dropped) */
};

struct pent {          /* an open op of one process */
	int64_t proc;
	uint32_t lop;      /* lop index + 1; 0 when none is open */
	json_t *inv;       /* the invocation's value while open */
};

struct pmap {          /* process -> its open op */
	struct pent *e;
	size_t n, cap;
};

struct lin_builder {
	const struct model *model;
	struct model_env env;
	struct mop init;
	struct check_ctx opts;
	int64_t deadline;         /* now_ns() deadline from lin_begin, 0 none */
	struct interner keys, fs;
	bool have_nokey;          /* some op without a key */
	struct lop *ops;
	size_t n, cap;
	struct pmap open;
	uint64_t seq;
	int64_t orphans;          /* completions without an invoke */
};

/* ------------------------------------------------------------ pmap */

static struct pent *pmap_slot(struct pmap *m, int64_t k, bool create)
{
	if (create && (m->n + 1) * 2 > m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 64;
		struct pent *old = m->e;
		size_t oldcap = m->cap;
		m->e = xmalloc(nc * sizeof *m->e);
		for (size_t i = 0; i < nc; i++)
			m->e[i] = (struct pent){INT64_MIN, 0, NULL};
		m->cap = nc;
		for (size_t i = 0; i < oldcap; i++) {
			if (old[i].proc == INT64_MIN)
				continue;
			size_t j = hash_mix((uint64_t)old[i].proc) & (nc - 1);
			while (m->e[j].proc != INT64_MIN)
				j = (j + 1) & (nc - 1);
			m->e[j] = old[i];
		}
		free(old);
	}
	if (!m->cap)
		return NULL;
	size_t j = hash_mix((uint64_t)k) & (m->cap - 1);
	while (m->e[j].proc != INT64_MIN) {
		if (m->e[j].proc == k)
			return &m->e[j];
		j = (j + 1) & (m->cap - 1);
	}
	if (!create)
		return NULL;
	m->e[j].proc = k;
	m->n++;
	return &m->e[j];
}

/* Entries are never removed: a slot with value 0 is reused only for the
 * same process, which keeps probing chains intact. */

/* --------------------------------------------------------- building */

static void lin_abort(struct lin_builder *b);

static struct lin_builder *lin_begin(const struct check_ctx *o, char *err, size_t errlen)
{
	const char *name = o && o->model ? o->model : "cas-register";
	const struct model *m = model_find(name);
	if (!m) {
		model_err(err, errlen, "unknown model '%s' (known: %s)", name, model_names_list());
		return NULL;
	}
	struct lin_builder *b = xcalloc(1, sizeof *b);
	b->model = m;
	if (o)
		b->opts = *o;
	b->opts.model = m->name;
	/* The timeout covers reading too: it bounds the whole check. */
	b->deadline = b->opts.timeout > 0 ? now_ns() + (int64_t)(b->opts.timeout * 1e9) : 0;
	model_env_init(&b->env);
	b->env.nil_read_unknown = o && o->nil_read_unknown;
	interner_init(&b->keys);
	interner_init(&b->fs);
	if (m->encode_init(&b->env, o ? o->init : NULL, &b->init, err, errlen) < 0) {
		lin_abort(b);
		return NULL;
	}
	return b;
}

static void lin_abort(struct lin_builder *b)
{
	if (!b)
		return;
	model_env_free(&b->env);
	interner_free(&b->keys);
	interner_free(&b->fs);
	free(b->ops);
	for (size_t i = 0; i < b->open.cap; i++)
		if (b->open.e[i].inv)
			json_decref(b->open.e[i].inv);
	free(b->open.e);
	free(b);
}

static int lin_encode(struct lin_builder *b, struct lop *l, json_t *value, bool known,
		      char *err, size_t errlen)
{
	size_t fl;
	const char *f = interner_get(&b->fs, l->f, &fl);
	char merr[256] = "";
	int r = b->model->encode(&b->env, f, value, known, &l->mop, merr, sizeof merr);
	if (r == MODEL_ERR) {
		model_err(err, errlen, "op index %" PRId64 ": %s", l->index, merr);
		return -1;
	}
	l->keep = r == MODEL_OP;
	return 0;
}

/* The key's identity: its type byte, then its text (keys 1 and "1"
 * differ). */
static uint32_t lin_key(struct lin_builder *b, const struct op *op)
{
	char stackbuf[128];
	size_t n = strlen(op->key);
	char *k = n + 1 <= sizeof stackbuf ? stackbuf : xmalloc(n + 1);
	k[0] = (char)('0' + op->key_type);
	memcpy(k + 1, op->key, n);
	uint32_t id = interner_intern(&b->keys, k, n + 1) + 1;
	if (k != stackbuf)
		free(k);
	return id;
}

static int lin_add_op(struct lin_builder *b, const struct op *op, char *err, size_t errlen)
{
	if (op->process == PROCESS_NEMESIS)
		return 0;
	uint64_t pos = b->seq++;
	/* Values compare with keywords kept (EDN :a is not "a"). */
	json_t *value = op->value_kw ? op->value_kw : op->value ? op->value : json_null();
	if (op->type == OP_INVOKE) {
		if (b->n == b->cap) {
			b->cap = b->cap ? b->cap * 2 : 1024;
			b->ops = xrealloc(b->ops, b->cap * sizeof *b->ops);
		}
		struct lop *l = &b->ops[b->n];
		memset(l, 0, sizeof *l);
		l->inv_pos = pos;
		l->ret_pos = UINT64_MAX;
		l->index = op->index;
		l->process = op->process;
		l->inv_time = op->time;
		l->ret_time = -1;
		l->type = OP_INVOKE;
		const char *f = op->f ? op->f : "";
		l->f = interner_intern(&b->fs, f, strlen(f));
		if (op->key)
			l->key = lin_key(b, op);
		else
			b->have_nokey = true;
		l->inv_value = values_intern(&b->env.vals, value);
		l->value = l->inv_value;
		/* Encoded now as it would be if it never completed: an op the
		 * model does not know is refused whatever becomes of it (a
		 * failed or pending op too), and an info op reuses this. */
		values_memo_set(&b->env.vals, value, l->inv_value);
		if (lin_encode(b, l, value, false, err, errlen) < 0)
			return -1;
		/* A process that invokes again while its previous op is open
		 * (wrong after an info, but it happens) leaves that op pending. */
		struct pent *pe = pmap_slot(&b->open, op->process, true);
		if (pe->inv)
			json_decref(pe->inv);
		pe->lop = (uint32_t)(b->n + 1);
		pe->inv = json_incref(value);
		b->n++;
		return 0;
	}
	struct pent *pe = pmap_slot(&b->open, op->process, false);
	if (!pe || !pe->lop) {
		b->orphans++;
		return 0;
	}
	struct lop *l = &b->ops[pe->lop - 1];
	json_t *inv = pe->inv;
	pe->lop = 0;
	pe->inv = NULL;
	l->type = (uint8_t)op->type;
	l->ret_time = op->time;
	int rc = 0;
	if (op->type == OP_OK) {
		l->ret_pos = pos;
		/* Usually the completion repeats the invocation's value (writes,
		 * cas): then it is already interned. */
		if (json_equal(inv, value))
			values_memo_set(&b->env.vals, value, l->inv_value);
		l->value = values_intern(&b->env.vals, value);
		values_memo_set(&b->env.vals, value, l->value);
		rc = lin_encode(b, l, value, true, err, errlen);
	}
	/* info: may have happened, with the invocation's arguments: the
	 * encoding made at the invoke stands */
	json_decref(inv);
	return rc;
}

static int lin_add(struct lin_builder *b, const struct op *op, char *err, size_t errlen)
{
	int rc = lin_add_op(b, op, err, errlen);
	values_memo_clear(&b->env.vals);
	return rc;
}

/* ------------------------------------------------------------ search */

struct cfg {           /* one memoized configuration */
	uint64_t hash;
	model_state state;
	uint64_t off;          /* into words arena */
	uint32_t lo, nok, ninf; /* see bits_span */
};

struct cache {
	struct cfg *cfgs;
	size_t n, cap;
	uint32_t *slots;       /* cfg index + 1 */
	size_t nslots;
	uint64_t *words;
	size_t nwords, capwords;
};

enum key_verdict { KEY_VALID, KEY_INVALID, KEY_UNKNOWN };

struct key_job {
	uint32_t key;          /* 0 = no key */
	uint32_t *ops;         /* indexes into b->ops, kept ops only */
	size_t n;
	enum key_verdict verdict;
	const char *why;       /* for unknown */
	/* counterexample */
	int64_t blame;         /* lop index */
	uint32_t *prefix;      /* lop indexes */
	size_t nprefix;
	char **states;
	size_t nstates;
};

struct search {
	struct lin_builder *b;
	struct key_job *job;
	const struct model *m;
	void *ctx;
	size_t n, n_ok;
	uint32_t *lop_of;      /* op id -> lop index */
	struct mop *mops;      /* op id -> mop */
	uint64_t *zob;         /* op id -> random */
	/* entry list: 0 head, 1..ne entries, ne+1 tail */
	uint32_t *next, *prev, *eop, *ematch;
	uint8_t *ecall;
	size_t ne;
	uint64_t *bits;
	size_t nwords, info_w0, lo_hint, hi_ok, hi_inf;
	uint64_t zh;
	struct cache cache;
	size_t mem_limit;
	/* frontier */
	int64_t best_id;
	size_t best_depth;
	model_state best_states[LIN_MAX_STATES];
	size_t nbest_states;
};

struct lin_run {
	struct lin_builder *b;
	struct key_job *jobs;
	size_t njobs;
	atomic_size_t next_job;
	int64_t deadline;      /* now_ns() deadline, 0 none */
	size_t mem_limit;
};

static void bits_set(struct search *s, uint32_t id)
{
	size_t w = id >> 6;
	s->bits[w] |= 1ULL << (id & 63);
	s->zh ^= s->zob[id];
	if (w < s->info_w0) {
		if (w > s->hi_ok)
			s->hi_ok = w;
	} else if (w > s->hi_inf) {
		s->hi_inf = w;
	}
}

static void bits_clear(struct search *s, uint32_t id)
{
	size_t w = id >> 6;
	s->bits[w] &= ~(1ULL << (id & 63));
	s->zh ^= s->zob[id];
	if (w < s->lo_hint)
		s->lo_hint = w;
}

/* The stored form of the linearized set. Ops are numbered ok ops first, by
 * completion order, then the ops that may never happen (info). Among the
 * ok ops every word below the first unlinearized one is full, and beyond
 * the few concurrent with it the words are empty, so only words
 * [lo, lo + nok) are kept; the info ops' words (from info_w0) are kept
 * whole up to the last non-empty one (ninf words). Canonical: equal sets
 * give equal (lo, nok, ninf, words). */
static void bits_span(struct search *s, uint32_t *lo, uint32_t *nok, uint32_t *ninf)
{
	size_t w0 = s->info_w0;
	while (s->lo_hint < w0 && s->bits[s->lo_hint] == ~0ULL)
		s->lo_hint++;
	*lo = (uint32_t)s->lo_hint;
	if (s->lo_hint >= w0 || s->hi_ok < s->lo_hint) {
		*nok = 0;
	} else {
		while (s->hi_ok > s->lo_hint && s->bits[s->hi_ok] == 0)
			s->hi_ok--;
		*nok = s->bits[s->hi_ok] ? (uint32_t)(s->hi_ok - s->lo_hint + 1) : 0;
	}
	while (s->hi_inf > w0 && s->bits[s->hi_inf] == 0)
		s->hi_inf--;
	*ninf = s->bits[s->hi_inf] ? (uint32_t)(s->hi_inf - w0 + 1) : 0;
}

static size_t cache_bytes(const struct cache *c)
{
	return c->cap * sizeof *c->cfgs + c->nslots * sizeof *c->slots +
	       c->capwords * sizeof *c->words;
}

static void cache_free(struct cache *c)
{
	free(c->cfgs);
	free(c->slots);
	free(c->words);
	memset(c, 0, sizeof *c);
}

static void cache_rehash(struct cache *c)
{
	size_t ns = c->nslots ? c->nslots * 2 : 1024;
	uint32_t *slots = xcalloc(ns, sizeof *slots);
	for (size_t i = 0; i < c->n; i++) {
		size_t j = c->cfgs[i].hash & (ns - 1);
		while (slots[j])
			j = (j + 1) & (ns - 1);
		slots[j] = (uint32_t)(i + 1);
	}
	free(c->slots);
	c->slots = slots;
	c->nslots = ns;
}

/* Insert the current configuration with state st; false if it was seen. */
static bool cache_add(struct search *s, model_state st)
{
	struct cache *c = &s->cache;
	uint32_t lo, nok, ninf;
	bits_span(s, &lo, &nok, &ninf);
	const uint64_t *okw = s->bits + lo, *infw = s->bits + s->info_w0;
	uint64_t h = hash_mix(s->zh ^ (s->m->hash(s->ctx, st) * 0x9e3779b97f4a7c15ULL));
	if ((c->n + 1) * 2 > c->nslots)
		cache_rehash(c);
	size_t j = h & (c->nslots - 1);
	for (; c->slots[j]; j = (j + 1) & (c->nslots - 1)) {
		struct cfg *e = &c->cfgs[c->slots[j] - 1];
		if (e->hash == h && e->lo == lo && e->nok == nok && e->ninf == ninf &&
		    s->m->equal(s->ctx, e->state, st) &&
		    (nok == 0 || !memcmp(c->words + e->off, okw, nok * sizeof(uint64_t))) &&
		    (ninf == 0 || !memcmp(c->words + e->off + nok, infw, ninf * sizeof(uint64_t))))
			return false;
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 1024;
		c->cfgs = xrealloc(c->cfgs, c->cap * sizeof *c->cfgs);
	}
	size_t nw = (size_t)nok + ninf;
	if (c->nwords + nw > c->capwords) {
		size_t nc = c->capwords ? c->capwords * 2 : 4096;
		while (nc < c->nwords + nw)
			nc *= 2;
		c->words = xrealloc(c->words, nc * sizeof *c->words);
		c->capwords = nc;
	}
	if (nok)
		memcpy(c->words + c->nwords, okw, nok * sizeof(uint64_t));
	if (ninf)
		memcpy(c->words + c->nwords + nok, infw, ninf * sizeof(uint64_t));
	c->cfgs[c->n] = (struct cfg){h, st, c->nwords, lo, nok, ninf};
	c->nwords += nw;
	c->slots[j] = (uint32_t)(++c->n);
	return true;
}

static int cmp_u64_pair(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;
	return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* Number ops: ok ops 0..n_ok-1 by completion order, then the ops that may
 * never have happened. Build the entry list in history order. */
static void search_setup(struct search *s)
{
	struct key_job *job = s->job;
	struct lin_builder *b = s->b;
	size_t n = job->n;
	s->n = n;
	uint64_t *order = xmalloc(n * 2 * sizeof *order);
	size_t n_ok = 0;
	for (size_t i = 0; i < n; i++) {
		struct lop *l = &b->ops[job->ops[i]];
		order[2 * i] = l->ret_pos != UINT64_MAX ? l->ret_pos : UINT64_MAX / 2 + l->inv_pos;
		order[2 * i + 1] = job->ops[i];
		n_ok += l->ret_pos != UINT64_MAX;
	}
	qsort(order, n, 2 * sizeof *order, cmp_u64_pair);
	s->n_ok = n_ok;
	s->lop_of = xmalloc((n + 1) * sizeof *s->lop_of);
	s->mops = xmalloc((n + 1) * sizeof *s->mops);
	s->zob = xmalloc((n + 1) * sizeof *s->zob);
	for (size_t i = 0; i < n; i++) {
		s->lop_of[i] = (uint32_t)order[2 * i + 1];
		s->mops[i] = b->ops[s->lop_of[i]].mop;
		s->zob[i] = hash_mix(0x51ed270b27a1f3cdULL + i * 0x9e3779b97f4a7c15ULL);
	}
	/* events: (pos, id*2 + is_return) */
	size_t ne = 0;
	uint64_t *ev = xmalloc((n * 2 + 1) * 2 * sizeof *ev);
	for (size_t i = 0; i < n; i++) {
		struct lop *l = &b->ops[s->lop_of[i]];
		ev[2 * ne] = l->inv_pos;
		ev[2 * ne++ + 1] = i * 2;
		if (l->ret_pos != UINT64_MAX) {
			ev[2 * ne] = l->ret_pos;
			ev[2 * ne++ + 1] = i * 2 + 1;
		}
	}
	qsort(ev, ne, 2 * sizeof *ev, cmp_u64_pair);
	s->ne = ne;
	s->next = xmalloc((ne + 2) * sizeof *s->next);
	s->prev = xmalloc((ne + 2) * sizeof *s->prev);
	s->eop = xmalloc((ne + 2) * sizeof *s->eop);
	s->ematch = xcalloc(ne + 2, sizeof *s->ematch);
	s->ecall = xmalloc(ne + 2);
	uint32_t *call_entry = xmalloc((n + 1) * sizeof *call_entry);
	for (size_t e = 1; e <= ne; e++) {
		uint64_t x = ev[2 * (e - 1) + 1];
		uint32_t id = (uint32_t)(x >> 1);
		s->eop[e] = id;
		s->ecall[e] = !(x & 1);
		if (s->ecall[e])
			call_entry[id] = (uint32_t)e;
		else
			s->ematch[call_entry[id]] = (uint32_t)e;
	}
	for (size_t e = 0; e <= ne; e++) {
		s->next[e] = (uint32_t)(e + 1);
		s->prev[e + 1] = (uint32_t)e;
	}
	s->ecall[0] = s->ecall[ne + 1] = 0;
	free(call_entry);
	free(ev);
	free(order);
	s->nwords = (n + 64) / 64;
	s->bits = xcalloc(s->nwords, sizeof *s->bits);
	s->info_w0 = n_ok >> 6;
	s->lo_hint = s->hi_ok = 0;
	s->hi_inf = s->info_w0;
	s->zh = 0;
	s->best_id = -1;
}

static void search_free(struct search *s)
{
	free(s->lop_of);
	free(s->mops);
	free(s->zob);
	free(s->next);
	free(s->prev);
	free(s->eop);
	free(s->ematch);
	free(s->ecall);
	free(s->bits);
	cache_free(&s->cache);
}

static void list_lift(struct search *s, uint32_t e)
{
	s->next[s->prev[e]] = s->next[e];
	s->prev[s->next[e]] = s->prev[e];
	uint32_t m = s->ematch[e];
	if (m) {
		s->next[s->prev[m]] = s->next[m];
		s->prev[s->next[m]] = s->prev[m];
	}
}

static void list_unlift(struct search *s, uint32_t e)
{
	uint32_t m = s->ematch[e];
	if (m) {
		s->prev[s->next[m]] = m;
		s->next[s->prev[m]] = m;
	}
	s->prev[s->next[e]] = e;
	s->next[s->prev[e]] = e;
}

struct frame {
	uint32_t entry;
	model_state state;
};

static void record_frontier(struct search *s, uint32_t id, struct frame *stack, size_t depth,
			    model_state st)
{
	struct key_job *job = s->job;
	if ((int64_t)id < s->best_id)
		return;
	bool better = (int64_t)id > s->best_id;
	if (better) {
		s->best_id = id;
		s->nbest_states = 0;
		s->best_depth = 0;
		job->nprefix = 0;
	}
	if (better || depth > s->best_depth) {
		s->best_depth = depth;
		job->prefix = xrealloc(job->prefix, (depth + 1) * sizeof *job->prefix);
		for (size_t i = 0; i < depth; i++)
			job->prefix[i] = s->lop_of[s->eop[stack[i].entry]];
		job->nprefix = depth;
	}
	for (size_t i = 0; i < s->nbest_states; i++)
		if (s->m->equal(s->ctx, s->best_states[i], st))
			return;
	if (s->nbest_states < LIN_MAX_STATES)
		s->best_states[s->nbest_states++] = st;
}

static enum key_verdict search_run(struct search *s, struct lin_run *run)
{
	model_state state;
	s->ctx = s->m->ctx_new(&s->b->env, &s->b->init, &state);
	struct frame *stack = xmalloc((s->n + 1) * sizeof *stack);
	size_t depth = 0, ok_left = s->n_ok;
	uint32_t tail = (uint32_t)(s->ne + 1);
	uint32_t e = s->next[0];
	uint64_t steps = 0;
	enum key_verdict v = KEY_UNKNOWN;
	for (;;) {
		if (ok_left == 0) {
			v = KEY_VALID;
			break;
		}
		if (++steps % LIN_CHECK_EVERY == 0) {
			if (run->deadline && now_ns() > run->deadline) {
				s->job->why = "timeout";
				break;
			}
			if (cache_bytes(&s->cache) + s->m->ctx_bytes(s->ctx) > run->mem_limit) {
				s->job->why = "memory limit";
				break;
			}
		}
		if (e != tail && s->ecall[e]) {
			uint32_t id = s->eop[e];
			model_state ns;
			if (s->m->step(s->ctx, state, &s->mops[id], &ns)) {
				bits_set(s, id);
				if (cache_add(s, ns)) {
					stack[depth++] = (struct frame){e, state};
					state = ns;
					list_lift(s, e);
					if (id < s->n_ok)
						ok_left--;
					e = s->next[0];
					continue;
				}
				bits_clear(s, id);
			}
			e = s->next[e];
			continue;
		}
		/* A return entry (or, defensively, the end of the list): the
		 * op that must have happened by now cannot be placed. */
		if (e != tail)
			record_frontier(s, s->eop[e], stack, depth, state);
		if (depth == 0) {
			v = KEY_INVALID;
			break;
		}
		struct frame fr = stack[--depth];
		uint32_t id = s->eop[fr.entry];
		state = fr.state;
		bits_clear(s, id);
		list_unlift(s, fr.entry);
		if (id < s->n_ok)
			ok_left++;
		e = s->next[fr.entry];
	}
	if (v == KEY_INVALID && s->best_id >= 0) {
		s->job->blame = s->lop_of[s->best_id];
		s->job->states = xmalloc(s->nbest_states * sizeof(char *));
		for (size_t i = 0; i < s->nbest_states; i++)
			s->job->states[i] = s->m->describe(s->ctx, s->best_states[i]);
		s->job->nstates = s->nbest_states;
	}
	free(stack);
	s->m->ctx_free(s->ctx);
	return v;
}

static void check_key(struct lin_run *run, struct key_job *job)
{
	job->blame = -1;
	if (job->n == 0) {
		job->verdict = KEY_VALID;
		return;
	}
	struct search s;
	memset(&s, 0, sizeof s);
	s.b = run->b;
	s.job = job;
	s.m = run->b->model;
	search_setup(&s);
	job->verdict = search_run(&s, run);
	search_free(&s);
}

static void *worker_main(void *arg)
{
	struct lin_run *run = arg;
	for (;;) {
		size_t i = atomic_fetch_add(&run->next_job, 1);
		if (i >= run->njobs)
			break;
		check_key(run, &run->jobs[i]);
	}
	return NULL;
}

static int cmp_job_size(const void *a, const void *b)
{
	const struct key_job *x = a, *y = b;
	return x->n < y->n ? 1 : x->n > y->n ? -1 : (x->key > y->key) - (x->key < y->key);
}

static int cmp_job_key(const void *a, const void *b)
{
	const struct key_job *x = a, *y = b;
	return (x->key > y->key) - (x->key < y->key);
}

/* ------------------------------------------------------------ result */

static json_t *key_json(struct lin_builder *b, uint32_t key)
{
	if (!key)
		return json_null();
	size_t n;
	const char *k = interner_get(&b->keys, key - 1, &n);
	return json_stringn(k + 1, n - 1);
}

static json_t *lop_json(struct lin_builder *b, const struct lop *l, bool with_window)
{
	json_t *o = json_object();
	size_t fl;
	const char *f = interner_get(&b->fs, l->f, &fl);
	json_object_set_new(o, "index", json_integer(l->index));
	json_object_set_new(o, "process", json_integer(l->process));
	json_object_set_new(o, "f", json_stringn(f, fl));
	json_object_set_new(o, "value", values_json(&b->env.vals, l->value));
	json_object_set_new(o, "type", json_string(l->type == OP_INVOKE ? "info" : op_type_name(l->type)));
	if (l->key)
		json_object_set_new(o, "key", key_json(b, l->key));
	if (with_window) {
		json_object_set_new(o, "invoke_time", json_integer(l->inv_time));
		json_object_set_new(o, "complete_time",
				    json_integer(l->type == OP_INVOKE ? -1 : l->ret_time));
	}
	return o;
}

static char *lop_words(struct lin_builder *b, const struct lop *l)
{
	size_t fl;
	const char *f = interner_get(&b->fs, l->f, &fl);
	json_t *v = values_json(&b->env.vals, l->value);
	char *vs = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(v);
	char *s = xasprintf("%.*s %s by process %" PRId64 " (index %" PRId64 ")", (int)fl, f,
			    vs ? vs : "?", l->process, l->index);
	free(vs);
	return s;
}

static json_t *failure_json(struct lin_builder *b, struct key_job *job)
{
	json_t *o = json_object();
	json_object_set_new(o, "kind", json_string("nonlinearizable"));
	json_object_set_new(o, "key", key_json(b, job->key));
	if (job->blame < 0) {
		json_object_set_new(o, "message", json_string("no linearization found"));
		return o;
	}
	struct lop *x = &b->ops[job->blame];
	char *what = lop_words(b, x);
	struct buf msg;
	buf_init(&msg);
	buf_printf(&msg, "%s", what);
	if (job->key) {
		size_t kl;
		const char *k = interner_get(&b->keys, job->key - 1, &kl);
		buf_printf(&msg, " on key %.*s", (int)kl - 1, k + 1);
	}
	buf_printf(&msg, " cannot be linearized: every legal order of the ops before its "
		   "completion leaves the %s state at ", b->model->name);
	for (size_t i = 0; i < job->nstates; i++)
		buf_printf(&msg, "%s%s", i ? (i + 1 == job->nstates ? " or " : ", ") : "",
			   job->states[i]);
	buf_printf(&msg, " (longest linearizable prefix: %zu op%s), and no order of the "
		   "concurrent ops makes it legal", job->nprefix, job->nprefix == 1 ? "" : "s");
	free(what);
	json_object_set_new(o, "message", json_string(msg.data));
	buf_free(&msg);
	json_object_set_new(o, "op", lop_json(b, x, true));
	json_t *prefix = json_array();
	for (size_t i = 0; i < job->nprefix; i++)
		json_array_append_new(prefix, json_integer(b->ops[job->prefix[i]].index));
	json_object_set_new(o, "prefix", prefix);
	/* The window: ops of this key whose intervals overlap the blamed op's
	 * (an op that never completed overlaps everything after its invoke). */
	json_t *conc = json_array();
	for (size_t i = 0; i < job->n && json_array_size(conc) < LIN_MAX_CONCURRENT; i++) {
		struct lop *l = &b->ops[job->ops[i]];
		if (l == x)
			continue;
		if (l->inv_pos < x->ret_pos && (l->ret_pos == UINT64_MAX || l->ret_pos > x->inv_pos))
			json_array_append_new(conc, lop_json(b, l, true));
	}
	json_object_set_new(o, "concurrent", conc);
	json_t *states = json_array();
	for (size_t i = 0; i < job->nstates; i++)
		json_array_append_new(states, json_string(job->states[i]));
	json_object_set_new(o, "states", states);
	return o;
}

static void job_free(struct key_job *job)
{
	free(job->prefix);
	for (size_t i = 0; i < job->nstates; i++)
		free(job->states[i]);
	free(job->states);
}

/* Memory the searches may use together: half of physical memory, so a
 * pathological key ends "unknown" instead of taking the machine down. */
static size_t search_memory_budget(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	if (pages <= 0 || psz <= 0)
		return (size_t)2 << 30;
	return (size_t)pages * (size_t)psz / 2;
}

static int default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

static json_t *lin_finish(struct lin_builder *b)
{
	/* Ops still open at the end may have happened: as info, with the
	 * encoding made at their invoke. */
	/* Group kept ops by key (counting sort keeps history order). */
	size_t nkeys = (size_t)b->keys.n + 1;
	size_t *count = xcalloc(nkeys + 1, sizeof *count);
	for (size_t i = 0; i < b->n; i++)
		if (b->ops[i].keep && b->ops[i].type != OP_FAIL)
			count[b->ops[i].key + 1]++;
	for (size_t k = 0; k < nkeys; k++)
		count[k + 1] += count[k];
	uint32_t *all = xmalloc((count[nkeys] + 1) * sizeof *all);
	size_t *fill = xmalloc(nkeys * sizeof *fill);
	memcpy(fill, count, nkeys * sizeof *fill);
	for (size_t i = 0; i < b->n; i++)
		if (b->ops[i].keep && b->ops[i].type != OP_FAIL)
			all[fill[b->ops[i].key]++] = (uint32_t)i;
	struct lin_run run;
	memset(&run, 0, sizeof run);
	run.b = b;
	run.jobs = xcalloc(nkeys, sizeof *run.jobs);
	for (size_t k = 0; k < nkeys; k++) {
		if (k == 0 && !b->have_nokey)
			continue;
		struct key_job *j = &run.jobs[run.njobs++];
		j->key = (uint32_t)k;
		j->ops = all + count[k];
		j->n = count[k + 1] - count[k];
	}
	qsort(run.jobs, run.njobs, sizeof *run.jobs, cmp_job_size);
	int threads = b->opts.threads > 0 ? b->opts.threads : default_threads();
	if ((size_t)threads > run.njobs)
		threads = run.njobs ? (int)run.njobs : 1;
	run.deadline = b->deadline;
	run.mem_limit = search_memory_budget() / (size_t)threads;
	atomic_init(&run.next_job, 0);
	pthread_t *tids = xcalloc((size_t)threads, sizeof *tids);
	int started = 0;
	for (int t = 1; t < threads; t++)
		if (pthread_create(&tids[t], NULL, worker_main, &run) == 0)
			started++;
		else
			tids[t] = 0;
	worker_main(&run);
	for (int t = 1; t < threads; t++)
		if (tids[t])
			pthread_join(tids[t], NULL);
	(void)started;
	free(tids);

	/* Merge: any invalid key makes the history invalid; otherwise any
	 * unfinished key makes it unknown. */
	json_t *res = json_object();
	json_t *failures = json_array(), *unfinished = json_array();
	size_t ninvalid = 0;
	qsort(run.jobs, run.njobs, sizeof *run.jobs, cmp_job_key); /* stable output */
	for (size_t i = 0; i < run.njobs; i++) {
		struct key_job *j = &run.jobs[i];
		if (j->verdict == KEY_INVALID && ninvalid++ < LIN_MAX_FAILURES)
			json_array_append_new(failures, failure_json(b, j));
		else if (j->verdict == KEY_UNKNOWN)
			json_array_append_new(unfinished, key_json(b, j->key));
	}
	json_t *valid = ninvalid ? json_false()
			: json_array_size(unfinished) ? json_string("unknown") : json_true();
	json_object_set_new(res, "valid", valid);
	json_object_set_new(res, "model", json_string(b->model->name));
	json_object_set_new(res, "keys", json_integer((json_int_t)run.njobs));
	json_object_set_new(res, "ops", json_integer((json_int_t)b->n));
	if (json_array_size(unfinished)) {
		json_object_set_new(res, "unfinished_keys", unfinished);
		const char *why = NULL;
		for (size_t i = 0; i < run.njobs && !why; i++)
			if (run.jobs[i].verdict == KEY_UNKNOWN)
				why = run.jobs[i].why;
		json_object_set_new(res, "unknown_reason", json_string(why ? why : "timeout"));
	} else {
		json_decref(unfinished);
	}
	if (ninvalid) {
		json_object_set_new(res, "failures", failures);
		json_object_set_new(res, "invalid_keys", json_integer((json_int_t)ninvalid));
	} else {
		json_decref(failures);
	}
	if (b->orphans)
		json_object_set_new(res, "unmatched_completions", json_integer(b->orphans));
	for (size_t i = 0; i < run.njobs; i++)
		job_free(&run.jobs[i]);
	free(run.jobs);
	free(all);
	free(fill);
	free(count);
	lin_abort(b);
	return res;
}

/* ---- the checker interface (checker.h) ---- */

static void *lin_begin_v(const struct check_ctx *ctx, char *err, size_t errlen)
{
	return lin_begin(ctx, err, errlen);
}

static int lin_add_v(void *st, const struct op *op, char *err, size_t errlen)
{
	return lin_add(st, op, err, errlen);
}

static json_t *lin_finish_v(void *st) { return lin_finish(st); }
static void lin_abort_v(void *st) { lin_abort(st); }

const struct checker checker_linearizable = {
	.name = "linearizable",
	.summary = "linearizability per key (WGL search, P-compositionality) against the workload's model",
	.begin = lin_begin_v,
	.add = lin_add_v,
	.finish = lin_finish_v,
	.abort = lin_abort_v,
};
