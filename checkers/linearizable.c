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
 * Reductions that never change a verdict (search_run's comment proves
 * each; FAULTLINE_LIN_NO_* switch them off to measure, bench/lin.sh):
 * the read shortcut (a legal read-only candidate is placed at once, never
 * branched on); what a read reveals (a state that can no longer grow into
 * what a pending read saw, no reset being able to intervene, is pruned; a
 * state no read can see is "forgotten", so orders of unseen changes are
 * one configuration; for kv, a get's value parsed into its put and the
 * exact appends it saw says which appends are wasted, or free to place,
 * where nothing is seen); optional ops that change nothing are not tried.
 * Pruning and parsing cost a little per step, so they start once a key's
 * search is not a straight line.
 *
 * P-compositionality (Horn & Kroening): a history is linearizable iff each
 * key's subhistory is, so keys are searched independently on a pool of
 * threads, largest first, in two passes: every key with a budget of steps
 * first (cheap keys are done before a hard one holds a thread), then the
 * rest. Once a key is invalid the verdict is: unless all_keys is set
 * (--all-keys, checker_opts.linearizable.all_keys), the other keys get a
 * bounded extra time and are then reported unchecked. A deadline (checked
 * every few thousand steps) or the per-key memory cap (a share of RAM,
 * checker_opts.linearizable.memory_limit, --memory-limit) turns a key into
 * "unknown", never into "valid".
 *
 * Counterexample: the search records the furthest return entry at which it
 * ever had to backtrack (or the read a pruned state could not reach).
 * Everything before that completion can be linearized; that op cannot
 * follow. This blames the op whose result is impossible (the concurrent
 * read in Knossos's rethink trap), not a later op that merely shares its
 * window. Since pruning finds an impossible read before exploring the
 * orders leading to it, an invalid key is searched again without it, when
 * that is cheap, for the classic counterexample; kv states are shown as
 * where they part from what the read saw, clipped.
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
#define LIN_MAX_BRIEF 1000     /* further invalid keys listed: key, op, message */
#define LIN_BRIEF_PREFIX 256   /* ... and their prefix when at most this long */
#define LIN_CHECK_EVERY 4096   /* search steps between deadline checks */
#define LIN_PREFETCH_RING 32   /* > the ops check.c prefetches ahead */
#define SETUP_AHEAD 12         /* ops search_setup fetches ahead */
#define WARM_AHEAD 64          /* ops between the two stages of model->warm */
#define LIN_PF_STAGE 4         /* ops between two prefetch stages (lin_prefetch) */

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
	uint32_t sid;               /* its number in its key's search (search_setup) */
};

struct pent {          /* an open op of one process */
	int64_t proc;
	uint32_t lop;      /* lop index + 1; 0 when none is open */
};

struct pmap {          /* process -> its open op */
	struct pent *e;
	size_t n, cap;
	/* processes 0..nsmall-1 (clients, even after many crashes) index
	 * this directly: two hash probes per op showed in profiles */
	struct pent *small;
	size_t nsmall;
};

#define PMAP_SMALL_MAX ((int64_t)1 << 20)

struct lin_builder {
	const struct model *model;
	struct model_env env;
	struct mop init;
	struct check_ctx opts;
	int64_t deadline;         /* now_ns() deadline from lin_begin, 0 none */
	struct interner keys, fs;
	struct {
		const char *name; /* in fs (moves when fs grows: refreshed below) */
		uint32_t id;
	} fcache[4];
	unsigned fcache_next;
	uint32_t fshared[HISTORY_F_SHARED_MAX]; /* by history_f_shared slot: id + 1 */
	bool have_nokey;          /* some op without a key */
	struct lop *ops;
	size_t n, cap;
	uint32_t *done;           /* ok ops (lop indexes) in completion order */
	size_t ndone, capdone;
	struct pmap open;
	uint64_t seq;
	int64_t orphans;          /* completions without an invoke */
	/* ops announced by prefetch (lin_prefetch), not yet added: the hash
	 * of the value each will intern, so it is hashed once */
	struct lin_pf {
		const struct op *op;
		json_t *v;           /* the value it will intern (a tree) */
		const char *str;     /* its bytes, for a string */
		size_t len;
		uint32_t h32;        /* its hash once computed, else 0 */
	} pf[LIN_PREFETCH_RING];
	/* Scalars the reader left as text (HISTORY_SCALAR_TEXT) reach the
	 * model as these, of their type, with their id memoized (see
	 * lin_val_of) */
	json_t *proxy_str, *proxy_int;
	uint32_t pf_head, pf_tail;
	/* checker_opts.linearizable */
	bool all_keys;            /* every key to the end, even once invalid */
	size_t mem_limit;         /* bytes per key's search; 0: the default */
	double after_invalid;     /* extra seconds for the other keys; < 0: automatic */
};

/* ------------------------------------------------------------ pmap */

static struct pent *pmap_hashed(struct pmap *m, int64_t k, bool create);

static struct pent *pmap_slot(struct pmap *m, int64_t k, bool create)
{
	if (k >= 0 && (size_t)k < m->nsmall)
		return &m->small[k];
	if (k < 0 || k >= PMAP_SMALL_MAX)
		return pmap_hashed(m, k, create);
	if (!create)
		return NULL;
	size_t nn = m->nsmall ? m->nsmall : 64;
	while (nn <= (size_t)k)
		nn *= 2;
	m->small = xrealloc(m->small, nn * sizeof *m->small);
	for (size_t i = m->nsmall; i < nn; i++)
		m->small[i] = (struct pent){(int64_t)i, 0};
	m->nsmall = nn;
	return &m->small[k];
}

static struct pent *pmap_hashed(struct pmap *m, int64_t k, bool create)
{
	if (create && (m->n + 1) * 2 > m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 64;
		struct pent *old = m->e;
		size_t oldcap = m->cap;
		m->e = xmalloc(nc * sizeof *m->e);
		for (size_t i = 0; i < nc; i++)
			m->e[i] = (struct pent){INT64_MIN, 0};
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
	b->proxy_str = json_string("");
	b->proxy_int = json_integer(0);
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
	json_decref(b->proxy_str);
	json_decref(b->proxy_int);
	interner_free(&b->keys);
	interner_free(&b->fs);
	free(b->ops);
	free(b->done);
	free(b->open.e);
	free(b->open.small);
	free(b);
}

static int lin_encode(struct lin_builder *b, struct lop *l, json_t *value, bool known,
		      char *err, size_t errlen)
{
	size_t fl;
	const char *f = interner_get(&b->fs, l->f, &fl);
	char merr[256]; /* not zeroed: it is per op */
	merr[0] = '\0';
	int r = b->model->encode(&b->env, f, value, known, &l->mop, merr, sizeof merr);
	if (r == MODEL_ERR) {
		model_err(err, errlen, "op index %" PRId64 ": %s", l->index, merr);
		return -1;
	}
	l->keep = r == MODEL_OP;
	return 0;
}

static uint32_t lin_f_name(struct lin_builder *b, const char *f);

/* The id of f name f, by the reader's shared names first
 * (history_f_shared): no strcmp. */
static uint32_t lin_f(struct lin_builder *b, const char *f)
{
	int slot = history_f_shared(f);
	if (slot >= 0 && b->fshared[slot])
		return b->fshared[slot] - 1;
	uint32_t id = lin_f_name(b, f);
	if (slot >= 0)
		b->fshared[slot] = id + 1;
	return id;
}

/* The same by name: the last few are remembered (a history uses a
 * handful of names, one per op). */
static uint32_t lin_f_name(struct lin_builder *b, const char *f)
{
	for (int i = 0; i < 4; i++)
		if (b->fcache[i].name && b->fcache[i].name[0] == f[0] &&
		    !strcmp(b->fcache[i].name, f))
			return b->fcache[i].id;
	uint32_t id = interner_intern(&b->fs, f, strlen(f));
	int slot = b->fcache_next++ & 3;
	b->fcache[slot].id = id;
	b->fcache[slot].name = "";
	for (int i = 0; i < 4; i++) /* the arena may have moved */
		if (b->fcache[i].name)
			b->fcache[i].name = interner_get(&b->fs, b->fcache[i].id, NULL);
	return id;
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

/* The value an op is judged by: keywords kept (EDN :a is not "a"). */
static json_t *lin_value(const struct op *op)
{
	return op->value_kw ? op->value_kw : op->value ? op->value : json_null();
}

/* An op's value as the builder takes it: a tree, or a plain string or an
 * integer the reader left as one token (HISTORY_SCALAR_TEXT), interned
 * from its bytes. The model still gets a json_t: the proxy of the
 * token's type, with the value's id memoized (values_memo_set), since
 * models look at a scalar's type and intern it, never read its bytes. */
struct lin_val {
	json_t *j;        /* the tree, or the proxy */
	json_t *own;      /* a tree built here (op_value), to release */
	bool tok, is_str;
	const char *s;    /* a string token's bytes */
	size_t len;
	int64_t x;        /* an integer token */
};

static bool lin_scalar_token(const struct op *op)
{
	if (op->value || op->value_kw || !op->value_text || op->value_ntokens != 1)
		return false;
	unsigned tag = HTOK_TAG(op->value_tokens[0]);
	return tag == HTOK_STR || tag == HTOK_INT;
}

static void lin_val_of(struct lin_builder *b, const struct op *op, struct lin_val *v)
{
	memset(v, 0, sizeof *v);
	if (lin_scalar_token(op)) {
		uint64_t t = op->value_tokens[0];
		v->tok = true;
		v->is_str = HTOK_TAG(t) == HTOK_STR;
		if (v->is_str) {
			v->s = op->value_text + HTOK_STR_OFF(t);
			v->len = HTOK_STR_LEN(t);
		} else {
			v->x = HTOK_INT_V(t);
		}
		v->j = v->is_str ? b->proxy_str : b->proxy_int;
	} else if (!op->value && !op->value_kw && op->value_text) {
		v->j = v->own = op_value(op); /* text the builder does not take */
	} else {
		v->j = lin_value(op);
	}
}

static value_id lin_val_intern(struct lin_builder *b, const struct lin_val *v, uint32_t h32)
{
	if (!v->tok)
		return values_intern_h(&b->env.vals, v->j, h32);
	if (v->is_str)
		return values_intern_str_h(&b->env.vals, v->s, v->len, h32);
	return values_intern_int_h(&b->env.vals, v->x, h32);
}

static bool lin_val_equal(struct lin_builder *b, value_id id, const struct lin_val *v)
{
	if (!v->tok)
		return values_equal(&b->env.vals, id, v->j);
	if (v->is_str)
		return values_equal_str(&b->env.vals, id, v->s, v->len);
	return values_equal_int(&b->env.vals, id, v->x);
}

static int lin_add_op(struct lin_builder *b, const struct op *op, uint32_t h32, char *err,
		      size_t errlen)
{
	if (op->process == PROCESS_NEMESIS)
		return 0;
	uint64_t pos = b->seq++;
	struct lin_val val;
	lin_val_of(b, op, &val);
	json_t *value = val.j;
	int rc = 0;
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
		l->f = lin_f(b, f);
		if (op->key)
			l->key = lin_key(b, op);
		else
			b->have_nokey = true;
		l->inv_value = lin_val_intern(b, &val, h32);
		l->value = l->inv_value;
		/* Encoded now as it would be if it never completed: an op the
		 * model does not know is refused whatever becomes of it (a
		 * failed or pending op too), and an info op reuses this. */
		values_memo_set(&b->env.vals, value, l->inv_value);
		if (lin_encode(b, l, value, false, err, errlen) < 0) {
			rc = -1;
			goto out;
		}
		/* A process that invokes again while its previous op is open
		 * (wrong after an info, but it happens) leaves that op pending. */
		struct pent *pe = pmap_slot(&b->open, op->process, true);
		pe->lop = (uint32_t)(b->n + 1);
		b->n++;
		goto out;
	}
	struct pent *pe = pmap_slot(&b->open, op->process, false);
	if (!pe || !pe->lop) {
		b->orphans++;
		goto out;
	}
	struct lop *l = &b->ops[pe->lop - 1];
	pe->lop = 0;
	l->type = (uint8_t)op->type;
	l->ret_time = op->time;
	if (op->type == OP_OK) {
		l->ret_pos = pos;
		if (b->ndone == b->capdone) {
			b->capdone = b->capdone ? b->capdone * 2 : 1024;
			b->done = xrealloc(b->done, b->capdone * sizeof *b->done);
		}
		b->done[b->ndone++] = (uint32_t)(l - b->ops);
		/* Usually the completion repeats the invocation's value (writes,
		 * cas): then it is already interned. */
		l->value = lin_val_equal(b, l->inv_value, &val) ? l->inv_value
							       : lin_val_intern(b, &val, h32);
		values_memo_set(&b->env.vals, value, l->value);
		rc = lin_encode(b, l, value, true, err, errlen);
	}
	/* info: may have happened, with the invocation's arguments: the
	 * encoding made at the invoke stands */
out:
	json_decref(val.own);
	return rc;
}

static int lin_add(struct lin_builder *b, const struct op *op, char *err, size_t errlen)
{
	uint32_t h32 = 0;
	if (b->pf_tail != b->pf_head) {
		if (b->pf[b->pf_tail % LIN_PREFETCH_RING].op == op)
			h32 = b->pf[b->pf_tail++ % LIN_PREFETCH_RING].h32;
		else /* not announced (a caller without prefetch): start over */
			b->pf_tail = b->pf_head;
	}
	if (!h32)
		h32 = op->value_hash; /* a token's (0: none) */
	int rc = lin_add_op(b, op, h32, err, errlen);
	values_memo_clear(&b->env.vals);
	return rc;
}

/* A million distinct values make the value table far larger than the
 * cache, and every op's value was written by a reader thread on the other
 * core: interning was most of reading's time, waiting for memory. So the
 * ops check.c announces (LIN_PF_STAGE * 4 ahead of add) go through stages
 * a few ops apart, each fetching what the next one reads: the value's
 * json_t, then its bytes, then (hashed) the table slot it will probe,
 * then the entry that slot leads to. */
static void pf_stage(struct lin_builder *b, uint32_t at, int stage)
{
	struct lin_pf *e = &b->pf[at % LIN_PREFETCH_RING];
	if (stage == 1) {
		if (!e->v) {
			return; /* a token: hashed by the reader, its slot fetched */
		} else if (json_is_string(e->v)) {
			e->str = json_string_value(e->v);
			e->len = json_string_length(e->v);
			__builtin_prefetch(e->str);
		} else if (json_is_integer(e->v)) {
			e->h32 = values_hash(e->v);
			interner_prefetch_slot(&b->env.vals.in, e->h32);
		}
	} else if (stage == 2) {
		if (e->str) {
			e->h32 = values_hash_str(e->str, e->len);
			interner_prefetch_slot(&b->env.vals.in, e->h32);
		}
	} else if (e->h32) {
		interner_prefetch_entry(&b->env.vals.in, e->h32);
	}
}

static void lin_prefetch(struct lin_builder *b, const struct op *op)
{
	if (b->pf_head - b->pf_tail >= LIN_PREFETCH_RING)
		b->pf_tail = b->pf_head; /* nobody adds: forget */
	struct lin_pf *e = &b->pf[b->pf_head % LIN_PREFETCH_RING];
	e->op = op;
	e->v = NULL;
	bool client = op->process != PROCESS_NEMESIS;
	if (client && (op->value || op->value_kw || !op->value_text))
		e->v = lin_value(op);
	e->str = NULL;
	e->h32 = 0;
	if (e->v) {
		__builtin_prefetch(e->v);
	} else if (client && op->value_hash) { /* a token, hashed by the reader */
		e->h32 = op->value_hash;
		interner_prefetch_slot(&b->env.vals.in, e->h32);
	}
	uint32_t head = b->pf_head++;
	for (int stage = 1; stage <= 3; stage++) {
		uint32_t back = (uint32_t)stage * LIN_PF_STAGE;
		if (head - b->pf_tail >= back)
			pf_stage(b, head - back, stage);
	}
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

enum key_verdict { KEY_VALID, KEY_INVALID, KEY_UNKNOWN, KEY_UNCHECKED, KEY_DEFERRED };

struct key_job {
	uint32_t key;          /* 0 = no key */
	uint32_t *ops;         /* indexes into b->ops, kept ops only, by invocation */
	size_t n;
	uint32_t *done;        /* its ok ops, by completion */
	size_t ndone;
	enum key_verdict verdict;
	const char *why;       /* for unknown */
	size_t peak_bytes;     /* the search's memory at its largest */
	uint64_t configs;      /* configurations memoized */
	/* counterexample */
	int64_t blame;         /* lop index */
	uint32_t *prefix;      /* lop indexes */
	size_t nprefix;
	bool prefix_known;     /* the prefix goes with the blamed op */
	char **states;         /* as the model describes them, or explains them to the blamed read */
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
	uint64_t *inv, *ret;   /* op id -> event positions (ret UINT64_MAX: never) */
	uint8_t *ro;           /* op id -> read-only (linearized at once when legal) */
	/* entry list: 0 head, 1..ne entries, ne+1 tail */
	uint32_t *next, *prev, *eop, *ematch;
	uint8_t *ecall;
	size_t ne;
	uint64_t *bits;
	size_t nwords, info_w0, lo_hint, hi_ok, hi_inf;
	uint64_t zh;
	struct cache cache;
	/* what a read reveals (model->reach) */
	uint64_t *targets;     /* ok read-only ops the model can reach-check */
	uint32_t *resets;      /* reset ops by invocation */
	uint32_t *reset_at;    /* op id -> index in resets, UINT32_MAX if none */
	size_t nresets, reset_lo;
	uint32_t *vr, *vr_at;  /* per read: the resets that can lead to it (vr_at: offset, or
				* UINT32_MAX until first asked; the list ends at UINT32_MAX) */
	size_t nvr, capvr;
	uint32_t *tinv;        /* targets by invocation */
	uint32_t *tinv_at;     /* op id -> index in tinv */
	size_t ntinv, tinv_lo;
	bool shortcut, prune, forget;
	/* pruning and what reads reveal cost a little per step: they start
	 * once a key's search has this many configurations, i.e. once it is
	 * not a straight line (FAULTLINE_LIN_EAGER: from the start, as the
	 * tests that check them want) */
	size_t prune_from, reveal_from;
	uint64_t budget;       /* steps (and LIN_FIRST_PASS_NS) before giving up; 0 none */
	/* what each read reveals (model->reveal): the reads that need op x
	 * are need[need_at[x] .. need_at[x + 1]) */
	uint32_t *need, *need_at;
	bool reveal, all_revealed;
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
	uint32_t *order;       /* the jobs of this pass */
	size_t norder;
	uint64_t budget;       /* steps per key in this pass, 0 none */
	atomic_size_t next_job;
	int64_t deadline;      /* now_ns() deadline, 0 none */
	int64_t t0;            /* when the searches began */
	size_t mem_limit;      /* bytes per key */
	_Atomic int64_t stop_at; /* after a key was found invalid: when the others stop; 0 none */
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
	if (s->reset_at) {
		uint32_t r = s->reset_at[id];
		if (r < s->reset_lo)
			s->reset_lo = r;
		r = s->tinv_at[id];
		if (r < s->tinv_lo)
			s->tinv_lo = r;
	}
}

static bool bits_has(const struct search *s, uint32_t id)
{
	return s->bits[id >> 6] >> (id & 63) & 1;
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

/* Reductions can be switched off to measure what each one buys
 * (bench/lin.sh): FAULTLINE_LIN_NO_SHORTCUT, FAULTLINE_LIN_NO_PRUNE. */
static bool env_off(const char *name)
{
	const char *v = getenv(name);
	return v && *v && strcmp(v, "0") != 0;
}

/* Number ops: ok ops 0..n_ok-1 by completion order, then the ops that may
 * never have happened. Build the entry list in history order, and what
 * the reductions need. */
static void search_setup(struct search *s)
{
	struct key_job *job = s->job;
	struct lin_builder *b = s->b;
	const struct model *m = s->m;
	size_t n = job->n, n_ok = job->ndone;
	s->n = n;
	s->n_ok = n_ok;
	s->lop_of = xmalloc((n + 1) * sizeof *s->lop_of);
	/* ids: ok ops by completion, then the others by invocation; the
	 * history gave both orders, so nothing is sorted here */
	/* A key's ops are spread over the whole op array: each pass over
	 * them fetches a few ahead, and only the first three passes read the
	 * array at all (xs: the op ids in invocation order). */
	uint32_t id = 0;
	for (size_t i = 0; i < n_ok; i++) {
		if (i + SETUP_AHEAD < n_ok)
			__builtin_prefetch(&b->ops[job->done[i + SETUP_AHEAD]], 1);
		b->ops[job->done[i]].sid = id;
		s->lop_of[id++] = job->done[i];
	}
	uint32_t *xs = xmalloc((n + 1) * sizeof *xs);
	for (size_t i = 0; i < n; i++) {
		if (i + SETUP_AHEAD < n)
			__builtin_prefetch(&b->ops[job->ops[i + SETUP_AHEAD]], 1);
		struct lop *l = &b->ops[job->ops[i]];
		if (l->ret_pos == UINT64_MAX) {
			l->sid = id;
			s->lop_of[id++] = job->ops[i];
		}
		xs[i] = l->sid;
	}
	s->mops = xmalloc((n + 1) * sizeof *s->mops);
	s->zob = xmalloc((n + 1) * sizeof *s->zob);
	s->inv = xmalloc((n + 1) * sizeof *s->inv);
	s->ret = xmalloc((n + 1) * sizeof *s->ret);
	s->ro = xcalloc(n + 1, 1);
	s->nwords = (n + 64) / 64;
	s->shortcut = m->read_only && !env_off("FAULTLINE_LIN_NO_SHORTCUT");
	s->prune = m->reach && m->read_only && !env_off("FAULTLINE_LIN_NO_PRUNE");
	s->forget = s->prune && m->forget && m->forgotten && !env_off("FAULTLINE_LIN_NO_FORGET");
	s->reveal = s->forget && m->reveal && !env_off("FAULTLINE_LIN_NO_REVEAL");
	bool eager = env_off("FAULTLINE_LIN_EAGER");
	s->prune_from = eager ? 0 : 2 * n + 256;
	s->reveal_from = eager ? 0 : 4 * n + 1024;
	if (s->prune) {
		s->targets = xcalloc(s->nwords, sizeof *s->targets);
		s->reset_at = xmalloc((n + 1) * sizeof *s->reset_at);
		s->resets = xmalloc((n + 1) * sizeof *s->resets);
		s->tinv_at = xmalloc((n + 1) * sizeof *s->tinv_at);
		s->tinv = xmalloc((n + 1) * sizeof *s->tinv);
	}
	for (size_t i = 0; i < n; i++) {
		if (i + SETUP_AHEAD < n)
			__builtin_prefetch(&b->ops[s->lop_of[i + SETUP_AHEAD]]);
		struct lop *l = &b->ops[s->lop_of[i]];
		s->mops[i] = l->mop;
		s->zob[i] = hash_mix(0x51ed270b27a1f3cdULL + i * 0x9e3779b97f4a7c15ULL);
		s->inv[i] = l->inv_pos;
		s->ret[i] = l->ret_pos;
		s->ro[i] = m->read_only && m->read_only(&l->mop);
	}
	if (s->prune) { /* resets and reads to check against, by invocation */
		for (size_t i = 0; i < n; i++) {
			uint32_t x = xs[i];
			s->reset_at[x] = s->tinv_at[x] = UINT32_MAX;
		}
		for (size_t i = 0; i < n; i++) {
			uint32_t x = xs[i];
			if (s->ro[x] && x < n_ok) {
				s->targets[x >> 6] |= 1ULL << (x & 63);
				s->tinv_at[x] = (uint32_t)s->ntinv;
				s->tinv[s->ntinv++] = x;
			}
			if (!s->ro[x] && (!m->resets || m->resets(&s->mops[x]))) {
				s->reset_at[x] = (uint32_t)s->nresets;
				s->resets[s->nresets++] = x;
			}
		}
	}
	/* entries: calls (by invocation) and returns (by completion) merged */
	size_t ne = 0;
	s->next = xmalloc((2 * n + 2) * sizeof *s->next);
	s->prev = xmalloc((2 * n + 2) * sizeof *s->prev);
	s->eop = xmalloc((2 * n + 2) * sizeof *s->eop);
	s->ematch = xcalloc(2 * n + 2, sizeof *s->ematch);
	s->ecall = xmalloc(2 * n + 2);
	uint32_t *call_entry = xmalloc((n + 1) * sizeof *call_entry);
	size_t ci = 0, ri = 0;
	while (ci < n || ri < n_ok) {
		bool call = ri == n_ok || (ci < n && s->inv[xs[ci]] < s->ret[ri]);
		size_t e = ++ne;
		if (call) {
			uint32_t x = xs[ci++];
			s->eop[e] = x;
			s->ecall[e] = 1;
			call_entry[x] = (uint32_t)e;
		} else {
			uint32_t x = (uint32_t)ri++;
			s->eop[e] = x;
			s->ecall[e] = 0;
			s->ematch[call_entry[x]] = (uint32_t)e;
		}
	}
	s->ne = ne;
	free(xs);
	for (size_t e = 0; e <= ne; e++) {
		s->next[e] = (uint32_t)(e + 1);
		s->prev[e + 1] = (uint32_t)e;
	}
	s->ecall[0] = s->ecall[ne + 1] = 0;
	free(call_entry);
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
	free(s->inv);
	free(s->ret);
	free(s->ro);
	free(s->next);
	free(s->prev);
	free(s->eop);
	free(s->ematch);
	free(s->ecall);
	free(s->bits);
	free(s->targets);
	free(s->resets);
	free(s->reset_at);
	free(s->tinv);
	free(s->tinv_at);
	free(s->vr);
	free(s->vr_at);
	free(s->need);
	free(s->need_at);
	cache_free(&s->cache);
}

/* Ask the model what each ok read reveals, and index it by op: the reads
 * whose result proves op x was placed after their last reset. */
static void reveal_setup(struct search *s)
{
	size_t n = s->n;
	uint32_t *buf = xmalloc((n + 1) * sizeof *buf);
	size_t *cnt = xcalloc(n + 1, sizeof *cnt);
	uint32_t **lists = xcalloc(n + 1, sizeof *lists);
	long *lens = xcalloc(n + 1, sizeof *lens);
	s->all_revealed = true;
	for (size_t t = 0; t < s->n_ok; t++) {
		if (!s->ro[t])
			continue;
		long k = s->m->reveal(s->ctx, s->mops, n, t, buf);
		if (k < 0) {
			s->all_revealed = false;
			continue;
		}
		lists[t] = xmalloc(((size_t)k + 1) * sizeof **lists);
		memcpy(lists[t], buf, (size_t)k * sizeof *buf);
		lens[t] = k;
		for (long i = 0; i < k; i++)
			cnt[buf[i]]++;
	}
	s->need_at = xmalloc((n + 2) * sizeof *s->need_at);
	s->need_at[0] = 0;
	for (size_t x = 0; x <= n; x++)
		s->need_at[x + 1] = s->need_at[x] + (uint32_t)cnt[x];
	s->need = xmalloc(((size_t)s->need_at[n + 1] + 1) * sizeof *s->need);
	memset(cnt, 0, (n + 1) * sizeof *cnt);
	for (size_t t = 0; t < s->n_ok; t++) /* by completion: the last needer last */
		for (long i = 0; i < lens[t]; i++) {
			uint32_t x = lists[t][i];
			s->need[s->need_at[x] + cnt[x]++] = (uint32_t)t;
		}
	for (size_t t = 0; t <= n; t++)
		free(lists[t]);
	free(lists);
	free(lens);
	free(cnt);
	free(buf);
}

/* Some read not placed yet needs op x (checked from the last needer:
 * reads are placed roughly in completion order). */
static bool needed(const struct search *s, uint32_t x)
{
	for (uint32_t i = s->need_at[x + 1]; i > s->need_at[x]; i--)
		if (!bits_has(s, s->need[i - 1]))
			return true;
	return false;
}

static size_t search_bytes(const struct search *s)
{
	return cache_bytes(&s->cache) + s->m->ctx_bytes(s->ctx) +
	       s->n * (sizeof(struct mop) + 3 * sizeof(uint64_t) + 5 * sizeof(uint32_t) + 16);
}

/* What a read reveals. Let t be the unlinearized ok read that completes
 * first: every op placed from now on comes before it. If no reset (a
 * write, a put) can come before t (every reset invoked before t completes
 * is placed already), the ops in between can only grow the state, so the
 * new state ns must be able to grow into what t saw, or this
 * configuration leads nowhere: prune it (return false).
 *
 * If a reset can still come first and ns cannot grow into t, some reset
 * must: then ns can only be seen by a read placed before that reset, and
 * such a read was invoked before t completed (anything later follows t).
 * If none of those can see ns either, no read ever will, and for a model
 * whose only state-inspecting ops are reads (model->forget) ns is
 * replaced by the canonical forgotten state: configurations that differ
 * only in a value nobody sees become one. Likewise once no read is left.
 * *forgot tells the caller the result is that forgotten state: no
 * optional op is placed for it when the current state could be forgotten
 * too, since such a state does at least as well (every op sequence legal
 * from the forgotten state holds no read before its next reset, so it is
 * legal from any forgettable state too, and leads to the same state at
 * that reset). On pruning, *blame is the read that can no longer be
 * reached, for the counterexample. */
/* A reset other than x, not placed yet, invoked before read g completes,
 * that can be the last one before g (its result can grow into what g
 * saw). When a reset's result depends on the state it meets, or it
 * cannot apply to ns, it may still apply later: it counts. */
static bool viable_reset(struct search *s, uint32_t x, model_state ns, uint32_t g)
{
	if (s->m->reset_state_free && s->m->reset_to) {
		/* which resets can lead to g does not depend on the state:
		 * listed once (by invocation) the first time g asks */
		if (!s->vr_at) {
			s->vr_at = xmalloc((s->n + 1) * sizeof *s->vr_at);
			memset(s->vr_at, 0xff, (s->n + 1) * sizeof *s->vr_at);
		}
		if (s->vr_at[g] == UINT32_MAX) {
			s->vr_at[g] = (uint32_t)s->nvr;
			for (size_t k = 0; k <= s->nresets; k++) {
				uint32_t r = k < s->nresets ? s->resets[k] : UINT32_MAX;
				if (r != UINT32_MAX && (s->inv[r] > s->ret[g] ||
				    !s->m->reach(s->ctx, s->m->reset_to(&s->mops[r]), &s->mops[g])))
					continue;
				if (s->nvr == s->capvr) {
					s->capvr = s->capvr ? 2 * s->capvr : 256;
					s->vr = xrealloc(s->vr, s->capvr * sizeof *s->vr);
				}
				s->vr[s->nvr++] = r;
			}
		}
		for (const uint32_t *r = s->vr + s->vr_at[g]; *r != UINT32_MAX; r++)
			if (*r != x && !bits_has(s, *r))
				return true;
		return false;
	}
	for (size_t k = s->reset_lo; k < s->nresets && s->inv[s->resets[k]] < s->ret[g]; k++) {
		uint32_t r = s->resets[k];
		model_state rs;
		if (r == x || bits_has(s, r))
			continue;
		if (!s->m->reset_state_free || !s->m->step(s->ctx, ns, &s->mops[r], &rs) ||
		    s->m->reach(s->ctx, rs, &s->mops[g]))
			return true;
	}
	return false;
}

static bool prune_state(struct search *s, uint32_t x, model_state *ns, bool *forgot,
			uint32_t *blame)
{
	size_t w = s->lo_hint;
	uint64_t tw = 0;
	for (; w < s->nwords; w++)
		if ((tw = s->targets[w] & ~s->bits[w]) != 0)
			break;
	if (!tw) {
		if (s->forget) {
			model_state f = s->m->forget(s->ctx, *ns);
			*forgot = f != *ns;
			*ns = f;
		}
		return true;
	}
	uint32_t t = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(tw));
	while (s->reset_lo < s->nresets && bits_has(s, s->resets[s->reset_lo]))
		s->reset_lo++;
	while (s->tinv_lo < s->ntinv && bits_has(s, s->tinv[s->tinv_lo]))
		s->tinv_lo++;
	/* t, and every read not placed that was invoked before t completed
	 * (they may come before t), must still be possible: grown into
	 * from ns, or after a reset still to come */
	bool seen = s->m->reach(s->ctx, *ns, &s->mops[t]);
	if (!seen && !viable_reset(s, x, *ns, t)) {
		*blame = t;
		return false;
	}
	for (size_t k = s->tinv_lo; k < s->ntinv && s->inv[s->tinv[k]] < s->ret[t]; k++) {
		uint32_t g = s->tinv[k];
		if (g == t || bits_has(s, g))
			continue;
		if (s->m->reach(s->ctx, *ns, &s->mops[g]))
			seen = true;
		else if (!viable_reset(s, x, *ns, g)) {
			*blame = g;
			return false;
		}
	}
	if (seen || !s->forget)
		return true;
	model_state f = s->m->forget(s->ctx, *ns);
	*forgot = f != *ns;
	*ns = f;
	return true;
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
	bool forced;       /* a read linearized by the shortcut: no alternative */
	model_state state;
};

/* The furthest op the search had to give up on (see the file's head):
 * id, reached with the ops of stack[0..depth) placed (and op extra, when
 * it is not UINT32_MAX) in state st. */
static void record_frontier(struct search *s, uint32_t id, struct frame *stack, size_t depth,
			    model_state st, uint32_t extra)
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
		job->prefix_known = false;
	}
	/* A pruned state (extra set) keeps the prefix of the last full record:
	 * copying it at every prune would cost the depth each time. */
	size_t len = depth;
	if (extra == UINT32_MAX && (better || len > s->best_depth)) {
		s->best_depth = len;
		job->prefix = xrealloc(job->prefix, (len + 1) * sizeof *job->prefix);
		for (size_t i = 0; i < depth; i++)
			job->prefix[i] = s->lop_of[s->eop[stack[i].entry]];
		job->nprefix = len;
		job->prefix_known = true;
	}
	for (size_t i = 0; i < s->nbest_states; i++)
		if (s->m->equal(s->ctx, s->best_states[i], st))
			return;
	if (s->nbest_states < LIN_MAX_STATES)
		s->best_states[s->nbest_states++] = st;
}

/* Every few thousand steps: stop for the deadline, the memory cap, or
 * because another key already made the verdict invalid. */
static bool search_must_stop(struct search *s, struct lin_run *run)
{
	int64_t now = 0;
	if (run->deadline && (now = now_ns()) > run->deadline) {
		s->job->why = "timeout";
		s->job->verdict = KEY_UNKNOWN;
		return true;
	}
	size_t bytes = search_bytes(s);
	if (bytes > s->job->peak_bytes)
		s->job->peak_bytes = bytes;
	if (bytes > run->mem_limit) {
		s->job->why = "memory limit";
		s->job->verdict = KEY_UNKNOWN;
		return true;
	}
	int64_t stop = atomic_load(&run->stop_at);
	if (stop && (now ? now : now_ns()) > stop) {
		s->job->verdict = KEY_UNCHECKED;
		return true;
	}
	return false;
}

/* The first pass over the keys (lin_finish) gives each at most this many
 * steps or this much time, so every cheap key is done before any hard key
 * holds a thread. */
#define LIN_FIRST_PASS_STEPS (1u << 20)
#define LIN_FIRST_PASS_NS 200000000LL

/*
 * Wing & Gong's search with Lowe's memoization (see the file's head), and
 * two reductions that never change a verdict:
 *
 * The read shortcut. Let r be a read-only op (whenever legal it leaves the
 * state unchanged) that is a candidate (its call entry comes before every
 * return entry still in the list: every ok op that completed before r was
 * invoked is linearized) and that is legal in the current state s. If
 * some linearization L extends the current prefix P, then one extends
 * P.r: L = P x1..xk r y..., and L' = P r x1..xk y... is legal (r is legal
 * in s; the xi see the same states since r changes nothing) and respects
 * real time (whatever must precede r is in P; moving r earlier only
 * breaks an order "xi before r", which would need xi to complete before
 * r's invoke, making xi part of P). If L places r nowhere (r is an info
 * op), P.r.L is legal as well. So P and P.r succeed or fail together:
 * the search linearizes r at once and never tries another op in its
 * place; and when P.r was seen already (memoized as failed), P fails.
 *
 * What a read reveals (prune_state): a state that cannot grow into what
 * the next read saw, with no reset able to intervene, is dropped before
 * it is ever memoized; a state no read can see is forgotten.
 *
 * Optional ops that change nothing: an info or pending op whose step
 * leaves the state as it is gives a configuration dominated by the
 * current one (same state, one option fewer): it is not tried.
 */
static enum key_verdict search_run(struct search *s, struct lin_run *run)
{
	model_state state;
	s->ctx = s->m->ctx_new(&s->b->env, &s->b->init, &state);
	if (s->m->warm) /* the key's values, a window of misses at a time */
		for (size_t i = 0; i < s->n + WARM_AHEAD; i++) {
			if (i < s->n)
				s->m->warm(s->ctx, &s->mops[i], 0);
			if (i >= WARM_AHEAD)
				s->m->warm(s->ctx, &s->mops[i - WARM_AHEAD], 1);
		}
	struct frame *stack = xmalloc((s->n + 1) * sizeof *stack);
	size_t depth = 0, ok_left = s->n_ok;
	uint32_t tail = (uint32_t)(s->ne + 1);
	uint32_t e = s->next[0];
	uint64_t steps = 0;
	int64_t t_start = s->budget ? now_ns() : 0;
	enum key_verdict v = KEY_UNKNOWN;
	for (;;) {
		if (ok_left == 0) {
			v = KEY_VALID;
			break;
		}
		if (++steps % LIN_CHECK_EVERY == 0) {
			if (search_must_stop(s, run)) {
				v = s->job->verdict;
				break;
			}
			if (s->budget && (steps >= s->budget ||
					  now_ns() - t_start > LIN_FIRST_PASS_NS)) {
				v = KEY_DEFERRED;
				break;
			}
		}
		if (e != tail && s->ecall[e]) {
			uint32_t id = s->eop[e];
			model_state ns;
			if (s->m->step(s->ctx, state, &s->mops[id], &ns)) {
				bool forced = s->shortcut && s->ro[id];
				/* What reads reveal, in a forgotten state (every read
				 * left comes after a reset, so whatever is placed now
				 * is wiped before anyone sees it): an op some read
				 * needs would be wasted here; an ok op no read needs
				 * (every read's result telling exactly what it saw)
				 * can be placed now as well as anywhere: if a
				 * linearization places it later, no read sees it
				 * there, and moving it here changes only states no
				 * read sees, as for the read shortcut. */
				/* (asked of the model only once the search works
				 * hard: an easy key is done before it would pay) */
				if (s->reveal && !s->ro[id] && s->m->forgotten(state) &&
				    s->m->forgotten(ns) && (s->need_at || s->cache.n >= s->reveal_from)) {
					if (!s->need_at)
						reveal_setup(s); /* first use: what every read reveals */
					if (needed(s, id)) {
						e = s->next[e];
						continue;
					}
					forced = s->all_revealed && id < s->n_ok;
				}
				bool forgot = false;
				uint32_t blame;
				if (!s->ro[id] && s->prune && s->cache.n >= s->prune_from &&
				    !prune_state(s, id, &ns, &forgot, &blame)) {
					/* the read that cannot be reached from here is
					 * what the counterexample names (the search never
					 * gets to its completion now) */
					record_frontier(s, blame, stack, depth, ns, id);
					e = s->next[e];
					continue;
				}
				/* An op some read needs is wasted where no read
				 * will see it (its result forgotten). */
				if (forgot && s->reveal && id < s->n_ok &&
				    (s->need_at || s->cache.n >= s->reveal_from)) {
					if (!s->need_at)
						reveal_setup(s);
					if (needed(s, id)) {
						e = s->next[e];
						continue;
					}
				}
				/* An op that may never have happened and changes
				 * nothing here, or whose effect no read will see,
				 * is never worth placing: leaving it out keeps
				 * every option open. */
				if (id >= s->n_ok &&
				    ((forgot && s->m->forgotten(s->m->forget(s->ctx, state))) ||
				     s->m->equal(s->ctx, ns, state))) {
					e = s->next[e];
					continue;
				}
				bits_set(s, id);
				if (cache_add(s, ns)) {
					stack[depth++] = (struct frame){e, forced, state};
					state = ns;
					list_lift(s, e);
					if (id < s->n_ok)
						ok_left--;
					e = s->next[0];
					continue;
				}
				bits_clear(s, id);
				if (forced)
					goto backtrack; /* P.r failed before, so does P */
			}
			e = s->next[e];
			continue;
		}
		/* A return entry (or, defensively, the end of the list): the
		 * op that must have happened by now cannot be placed. */
		if (e != tail)
			record_frontier(s, s->eop[e], stack, depth, state, UINT32_MAX);
backtrack:
		for (;;) {
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
			if (!fr.forced) {
				e = s->next[fr.entry];
				break;
			}
		}
		if (v == KEY_INVALID)
			break;
	}
	s->job->configs = s->cache.n;
	size_t bytes = search_bytes(s);
	if (bytes > s->job->peak_bytes)
		s->job->peak_bytes = bytes;
	if (v == KEY_INVALID && s->best_id >= 0) {
		struct lop *blamed = &s->b->ops[s->lop_of[s->best_id]];
		s->job->blame = s->lop_of[s->best_id];
		s->job->states = xmalloc(s->nbest_states * sizeof(char *));
		for (size_t i = 0; i < s->nbest_states; i++) {
			char *x = s->m->explain && s->ro[s->best_id]
					  ? s->m->explain(s->ctx, s->best_states[i], &blamed->mop) : NULL;
			s->job->states[i] = x ? x : s->m->describe(s->ctx, s->best_states[i]);
		}
		s->job->nstates = s->nbest_states;
	}
	free(stack);
	s->m->ctx_free(s->ctx);
	return v;
}

static void job_reset(struct key_job *job);

/* Pruning finds an impossible read early, before the search has tried
 * the orders that lead to it, so the counterexample it leaves names the
 * read but few of the states before it. When it is cheap (a budget of
 * steps), the plain search gives the classic one: every state the
 * furthest blamed op could meet. */
static void explain_plainly(struct lin_run *run, struct key_job *job)
{
	struct key_job tmp = *job;
	tmp.prefix = NULL;
	tmp.nprefix = 0;
	tmp.states = NULL;
	tmp.nstates = 0;
	tmp.blame = -1;
	struct search s;
	memset(&s, 0, sizeof s);
	s.b = run->b;
	s.job = &tmp;
	s.m = run->b->model;
	search_setup(&s);
	s.prune = s.forget = s.reveal = false;
	s.budget = LIN_FIRST_PASS_STEPS;
	enum key_verdict v = search_run(&s, run);
	search_free(&s);
	if (v == KEY_INVALID && tmp.blame >= 0) {
		job_reset(job);
		job->blame = tmp.blame;
		job->prefix = tmp.prefix;
		job->nprefix = tmp.nprefix;
		job->prefix_known = tmp.prefix_known;
		job->states = tmp.states;
		job->nstates = tmp.nstates;
	} else {
		job_reset(&tmp);
	}
}

static void check_key(struct lin_run *run, struct key_job *job)
{
	job->blame = -1;
	if (job->n == 0) {
		job->verdict = KEY_VALID;
		return;
	}
	int64_t stop = atomic_load(&run->stop_at);
	if (stop && now_ns() > stop) {
		job->verdict = KEY_UNCHECKED;
		return;
	}
	struct search s;
	memset(&s, 0, sizeof s);
	s.b = run->b;
	s.job = job;
	s.m = run->b->model;
	search_setup(&s);
	s.budget = run->budget;
	job->verdict = search_run(&s, run);
	bool pruned = s.prune;
	search_free(&s);
	if (job->verdict == KEY_INVALID && pruned)
		explain_plainly(run, job);
	if (job->verdict == KEY_INVALID && !run->b->all_keys) {
		/* The verdict is invalid now: the other keys get a bounded extra
		 * time, by default as long as the searches took so far (so keys
		 * already cheap finish) within [0.1 s, 5 s]. */
		int64_t now = now_ns();
		double extra = run->b->after_invalid >= 0 ? run->b->after_invalid
				: (double)(now - run->t0) / 1e9;
		if (run->b->after_invalid < 0)
			extra = extra < 0.1 ? 0.1 : extra > 5 ? 5 : extra;
		int64_t want = now + (int64_t)(extra * 1e9), cur = 0;
		atomic_compare_exchange_strong(&run->stop_at, &cur, want);
	}
}

static void *worker_main(void *arg)
{
	struct lin_run *run = arg;
	for (;;) {
		size_t i = atomic_fetch_add(&run->next_job, 1);
		if (i >= run->norder)
			break;
		struct key_job *job = &run->jobs[run->order[i]];
		if (job->verdict == KEY_DEFERRED) { /* starting over: drop the first pass's frontier */
			job_reset(job);
		}
		check_key(run, job);
	}
	return NULL;
}

/* One pass over run->order on threads threads. */
static void run_pass(struct lin_run *run, int threads)
{
	atomic_store(&run->next_job, 0);
	pthread_t *tids = xcalloc((size_t)threads, sizeof *tids);
	for (int t = 1; t < threads; t++)
		if (pthread_create(&tids[t], NULL, worker_main, run) != 0)
			tids[t] = 0;
	worker_main(run);
	for (int t = 1; t < threads; t++)
		if (tids[t])
			pthread_join(tids[t], NULL);
	free(tids);
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

/* An op in words, its value clipped: "get "x 1 y..." (+900 chars) by
 * process 3 (index 12)". */
static char *lop_words(struct lin_builder *b, const struct lop *l)
{
	size_t fl;
	const char *f = interner_get(&b->fs, l->f, &fl);
	json_t *v = values_json(&b->env.vals, l->value);
	char *vs;
	if (json_is_string(v)) {
		vs = model_clip(json_string_value(v), json_string_length(v), 120);
	} else {
		char *d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		vs = d && strlen(d) > 160 ? xasprintf("%.120s... (+%zu chars)", d, strlen(d) - 120)
					  : xstrdup(d ? d : "?");
		free(d);
	}
	json_decref(v);
	char *s = xasprintf("%.*s %s by process %" PRId64 " (index %" PRId64 ")", (int)fl, f, vs,
			    l->process, l->index);
	free(vs);
	return s;
}

#define LIN_MSG_STATES 4   /* states named in a failure's message */

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
	size_t shown = job->nstates < LIN_MSG_STATES ? job->nstates : LIN_MSG_STATES;
	for (size_t i = 0; i < shown; i++)
		buf_printf(&msg, "%s%s", i ? (i + 1 == shown && shown == job->nstates ? " or " : ", ") : "",
			   job->states[i]);
	if (job->nstates > shown)
		buf_printf(&msg, " or %zu other state%s%s", job->nstates - shown,
			   job->nstates - shown == 1 ? "" : "s",
			   job->nstates == LIN_MAX_STATES ? " (at least)" : "");
	if (job->prefix_known)
		buf_printf(&msg, " (longest linearizable prefix: %zu op%s)", job->nprefix,
			   job->nprefix == 1 ? "" : "s");
	buf_printf(&msg, ", and no order of the concurrent ops makes it legal");
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
	size_t nconc = 0;
	for (size_t i = 0; i < job->n; i++) {
		struct lop *l = &b->ops[job->ops[i]];
		if (l == x)
			continue;
		if (l->inv_pos < x->ret_pos && (l->ret_pos == UINT64_MAX || l->ret_pos > x->inv_pos)) {
			if (nconc++ < LIN_MAX_CONCURRENT)
				json_array_append_new(conc, lop_json(b, l, true));
		}
	}
	json_object_set_new(o, "concurrent", conc);
	if (nconc > LIN_MAX_CONCURRENT)
		json_object_set_new(o, "concurrent_more", json_integer((json_int_t)(nconc - LIN_MAX_CONCURRENT)));
	json_t *states = json_array();
	for (size_t i = 0; i < job->nstates; i++)
		json_array_append_new(states, json_string(job->states[i]));
	json_object_set_new(o, "states", states);
	return o;
}

/* An invalid key beyond the detailed ones: enough for the report to list
 * it and link its op. */
static json_t *failure_brief_json(struct lin_builder *b, struct key_job *job)
{
	json_t *o = json_object();
	json_object_set_new(o, "kind", json_string("nonlinearizable"));
	json_object_set_new(o, "key", key_json(b, job->key));
	json_object_set_new(o, "brief", json_true());
	if (job->blame < 0) {
		json_object_set_new(o, "message", json_string("no linearization found"));
		return o;
	}
	struct lop *x = &b->ops[job->blame];
	char *what = lop_words(b, x);
	char *m = xasprintf("%s cannot be linearized (details are kept for the first %d "
			    "invalid keys)", what, LIN_MAX_FAILURES);
	json_object_set_new(o, "message", json_string(m));
	free(m);
	free(what);
	json_object_set_new(o, "op", lop_json(b, x, true));
	/* Enough for the report to replay the key and say what the read saw
	 * (a stale value, one never written), while a history with many
	 * invalid long keys keeps its results.json small. */
	if (job->prefix_known && job->nprefix <= LIN_BRIEF_PREFIX) {
		json_t *prefix = json_array();
		for (size_t i = 0; i < job->nprefix; i++)
			json_array_append_new(prefix, json_integer(b->ops[job->prefix[i]].index));
		json_object_set_new(o, "prefix", prefix);
	}
	return o;
}

static void job_free(struct key_job *job)
{
	free(job->prefix);
	for (size_t i = 0; i < job->nstates; i++)
		free(job->states[i]);
	free(job->states);
}

static void job_reset(struct key_job *job)
{
	job_free(job);
	job->prefix = NULL;
	job->nprefix = 0;
	job->states = NULL;
	job->nstates = 0;
}

static int default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

/* The default memory cap of one key's search: an eighth of physical
 * memory, at most 1 GiB, shared by the keys searched at once, so a
 * pathological key ends "unknown (memory limit)" long before the machine
 * runs short and the searches together stay within 1 GiB (on 23 GiB and
 * 2 threads: 512 MiB per key). */
static size_t default_mem_limit(int threads)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	size_t ram = pages > 0 && psz > 0 ? (size_t)pages * (size_t)psz : (size_t)4 << 30;
	size_t total = ram / 8 < ((size_t)1 << 30) ? ram / 8 : (size_t)1 << 30;
	return total / (size_t)(threads > 0 ? threads : 1);
}

static json_t *keys_array(struct lin_builder *b, struct key_job *jobs, size_t n,
			  enum key_verdict v, const char *why, size_t max, size_t *count)
{
	json_t *a = json_array();
	*count = 0;
	for (size_t i = 0; i < n; i++) {
		if (jobs[i].verdict != v || (why && (!jobs[i].why || strcmp(jobs[i].why, why))))
			continue;
		if ((*count)++ < max)
			json_array_append_new(a, key_json(b, jobs[i].key));
	}
	return a;
}

static json_t *lin_finish(struct lin_builder *b)
{
	/* Group kept ops by key (counting sort keeps history order). Ops
	 * still open at the end may have happened: they count as info, with
	 * the encoding made at their invoke. */
	/* One pass over the ops (about 100 bytes each, a million of them,
	 * and the ok ones visited in completion order defeat the hardware
	 * prefetcher: that was most of this grouping's time) takes the key
	 * of each op to group into a compact array the passes after it read
	 * instead. */
	size_t nkeys = (size_t)b->keys.n + 1;
	uint32_t *okey = xmalloc((b->n + 1) * sizeof *okey); /* UINT32_MAX: not grouped */
	size_t *count = xcalloc(nkeys + 1, sizeof *count);
	size_t *dcount = xcalloc(nkeys + 1, sizeof *dcount);
	for (size_t i = 0; i < b->n; i++) {
		const struct lop *l = &b->ops[i];
		okey[i] = UINT32_MAX;
		if (!l->keep || l->type == OP_FAIL)
			continue;
		count[(okey[i] = l->key) + 1]++;
		if (l->type == OP_OK) /* exactly the kept ops in b->done */
			dcount[l->key + 1]++;
	}
	for (size_t k = 0; k < nkeys; k++)
		count[k + 1] += count[k];
	uint32_t *all = xmalloc((count[nkeys] + 1) * sizeof *all);
	size_t *fill = xmalloc(nkeys * sizeof *fill);
	memcpy(fill, count, nkeys * sizeof *fill);
	for (size_t i = 0; i < b->n; i++)
		if (okey[i] != UINT32_MAX)
			all[fill[okey[i]]++] = (uint32_t)i;
	/* and each key's ok ops in completion order */
	for (size_t k = 0; k < nkeys; k++)
		dcount[k + 1] += dcount[k];
	uint32_t *alldone = xmalloc((dcount[nkeys] + 1) * sizeof *alldone);
	size_t *dfill = xmalloc(nkeys * sizeof *dfill);
	memcpy(dfill, dcount, nkeys * sizeof *dfill);
	for (size_t i = 0; i < b->ndone; i++)
		if (okey[b->done[i]] != UINT32_MAX)
			alldone[dfill[okey[b->done[i]]]++] = b->done[i];
	free(okey);
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
		j->done = alldone + dcount[k];
		j->ndone = dcount[k + 1] - dcount[k];
	}
	qsort(run.jobs, run.njobs, sizeof *run.jobs, cmp_job_size);
	int threads = b->opts.threads > 0 ? b->opts.threads : default_threads();
	if ((size_t)threads > run.njobs)
		threads = run.njobs ? (int)run.njobs : 1;
	run.deadline = b->deadline;
	run.mem_limit = b->mem_limit ? b->mem_limit : default_mem_limit(threads);
	run.t0 = now_ns();
	atomic_init(&run.next_job, 0);
	atomic_init(&run.stop_at, 0);
	/* Two passes, largest keys first in each: every key with a budget of
	 * steps (cheap keys are done, and an invalid one found, before any
	 * hard key holds a thread), then the keys left, without one. */
	run.order = xmalloc((run.njobs + 1) * sizeof *run.order);
	for (size_t i = 0; i < run.njobs; i++)
		run.order[i] = (uint32_t)i;
	run.norder = run.njobs;
	run.budget = env_off("FAULTLINE_LIN_ONE_PASS") ? 0 : LIN_FIRST_PASS_STEPS;
	run_pass(&run, threads);
	run.norder = 0;
	for (size_t i = 0; i < run.njobs; i++)
		if (run.jobs[i].verdict == KEY_DEFERRED)
			run.order[run.norder++] = (uint32_t)i;
	run.budget = 0;
	if (run.norder)
		run_pass(&run, threads < (int)run.norder ? threads : (int)run.norder);
	free(run.order);

	/* Merge: any invalid key makes the history invalid; otherwise any
	 * unfinished key makes it unknown. */
	json_t *res = json_object();
	json_t *failures = json_array();
	size_t ninvalid = 0, nunknown = 0, nunchecked = 0, nmem = 0;
	size_t peak = 0;
	uint64_t configs = 0;
	qsort(run.jobs, run.njobs, sizeof *run.jobs, cmp_job_key); /* stable output */
	for (size_t i = 0; i < run.njobs; i++) {
		struct key_job *j = &run.jobs[i];
		if (j->verdict == KEY_INVALID) {
			if (ninvalid < LIN_MAX_FAILURES)
				json_array_append_new(failures, failure_json(b, j));
			else if (ninvalid < LIN_MAX_FAILURES + LIN_MAX_BRIEF)
				json_array_append_new(failures, failure_brief_json(b, j));
			ninvalid++;
		}
		if (j->peak_bytes > peak)
			peak = j->peak_bytes;
		configs += j->configs;
	}
	json_t *unfinished = keys_array(b, run.jobs, run.njobs, KEY_UNKNOWN, NULL, 1000, &nunknown);
	json_t *unchecked = keys_array(b, run.jobs, run.njobs, KEY_UNCHECKED, NULL, 1000, &nunchecked);
	json_t *over = keys_array(b, run.jobs, run.njobs, KEY_UNKNOWN, "memory limit", 1000, &nmem);
	json_t *valid = ninvalid ? json_false() : nunknown ? json_string("unknown") : json_true();
	json_object_set_new(res, "valid", valid);
	json_object_set_new(res, "model", json_string(b->model->name));
	json_object_set_new(res, "keys", json_integer((json_int_t)run.njobs));
	json_object_set_new(res, "ops", json_integer((json_int_t)b->n));
	json_object_set_new(res, "all_keys", json_boolean(b->all_keys));
	if (nunknown) {
		json_object_set_new(res, "unfinished_keys", unfinished);
		if (nunknown > json_array_size(unfinished))
			json_object_set_new(res, "unfinished_count", json_integer((json_int_t)nunknown));
		const char *why = nmem ? "memory limit" : "timeout";
		json_object_set_new(res, "unknown_reason", json_string(why));
	} else {
		json_decref(unfinished);
	}
	if (nmem) {
		json_object_set_new(res, "memory_limit_keys", over);
		char *m = xasprintf("%zu key%s stopped at the memory limit of %.0f MiB per key "
				    "(--memory-limit, checker_opts.linearizable.memory_limit)", nmem,
				    nmem == 1 ? "" : "s", (double)run.mem_limit / 1048576.0);
		json_object_set_new(res, "memory_limit_message", json_string(m));
		free(m);
	} else {
		json_decref(over);
	}
	json_object_set_new(res, "memory_limit_bytes", json_integer((json_int_t)run.mem_limit));
	if (nunchecked) {
		json_object_set_new(res, "unchecked_keys", unchecked);
		if (nunchecked > json_array_size(unchecked))
			json_object_set_new(res, "unchecked_count", json_integer((json_int_t)nunchecked));
		json_object_set_new(res, "unchecked_reason",
				    json_string("the verdict was already invalid (--all-keys checks every key)"));
	} else {
		json_decref(unchecked);
	}
	if (ninvalid) {
		json_object_set_new(res, "failures", failures);
		json_object_set_new(res, "invalid_keys", json_integer((json_int_t)ninvalid));
		if (ninvalid > LIN_MAX_FAILURES + LIN_MAX_BRIEF)
			json_object_set_new(res, "failures_omitted",
					    json_integer((json_int_t)(ninvalid - LIN_MAX_FAILURES - LIN_MAX_BRIEF)));
	} else {
		json_decref(failures);
	}
	json_object_set_new(res, "search", json_pack("{s:I, s:I}", "configurations", (json_int_t)configs,
						     "peak_key_bytes", (json_int_t)peak));
	if (b->orphans)
		json_object_set_new(res, "unmatched_completions", json_integer(b->orphans));
	for (size_t i = 0; i < run.njobs; i++)
		job_free(&run.jobs[i]);
	free(run.jobs);
	free(all);
	free(fill);
	free(count);
	free(alldone);
	free(dfill);
	free(dcount);
	lin_abort(b);
	return res;
}

/* ---- options (checker_opts.linearizable) ---- */

/* Bytes from a number or a string with a K/M/G suffix; 0 if malformed. */
static size_t parse_bytes(json_t *v)
{
	if (json_is_integer(v))
		return json_integer_value(v) > 0 ? (size_t)json_integer_value(v) : 0;
	if (!json_is_string(v))
		return 0;
	const char *s = json_string_value(v);
	char *end;
	double x = strtod(s, &end);
	if (end == s || x <= 0)
		return 0;
	double mul = 1;
	switch (*end) {
	case 'k': case 'K': mul = 1024.0; end++; break;
	case 'm': case 'M': mul = 1048576.0; end++; break;
	case 'g': case 'G': mul = 1073741824.0; end++; break;
	case 't': case 'T': mul = 1099511627776.0; end++; break;
	}
	if (*end == 'i')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return 0;
	return (size_t)(x * mul);
}

static int lin_check_opts(json_t *opts, char *err, size_t errlen)
{
	if (!opts || json_is_null(opts))
		return 0;
	if (!json_is_object(opts)) {
		model_err(err, errlen, "checker_opts.linearizable must be an object");
		return -1;
	}
	const char *k;
	json_t *v;
	json_object_foreach(opts, k, v) {
		if (!strcmp(k, "all_keys")) {
			if (!json_is_boolean(v)) {
				model_err(err, errlen, "checker_opts.linearizable.all_keys must be true or false");
				return -1;
			}
		} else if (!strcmp(k, "memory_limit")) {
			if (parse_bytes(v) < ((size_t)1 << 20)) {
				model_err(err, errlen, "checker_opts.linearizable.memory_limit must be bytes "
					  "(at least 1M), e.g. 512M or 2G");
				return -1;
			}
		} else if (!strcmp(k, "after_invalid_seconds")) {
			if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1e6) {
				model_err(err, errlen, "checker_opts.linearizable.after_invalid_seconds must "
					  "be a number of seconds >= 0");
				return -1;
			}
		} else {
			model_err(err, errlen, "checker_opts.linearizable has no option '%s' (known: "
				  "all_keys, memory_limit, after_invalid_seconds)", k);
			return -1;
		}
	}
	return 0;
}

/* ---- the checker interface (checker.h) ---- */

static void *lin_begin_v(const struct check_ctx *ctx, char *err, size_t errlen)
{
	json_t *opts = checker_opts(ctx, "linearizable");
	if (lin_check_opts(opts, err, errlen) < 0)
		return NULL;
	struct lin_builder *b = lin_begin(ctx, err, errlen);
	if (!b)
		return NULL;
	b->all_keys = json_is_true(json_object_get(opts, "all_keys"));
	b->mem_limit = parse_bytes(json_object_get(opts, "memory_limit"));
	json_t *ai = json_object_get(opts, "after_invalid_seconds");
	b->after_invalid = json_is_number(ai) ? json_number_value(ai) : -1;
	return b;
}

static int lin_add_v(void *st, const struct op *op, char *err, size_t errlen)
{
	return lin_add(st, op, err, errlen);
}

static void lin_prefetch_v(void *st, const struct op *op) { lin_prefetch(st, op); }
static json_t *lin_finish_v(void *st) { return lin_finish(st); }
static void lin_abort_v(void *st) { lin_abort(st); }

const struct checker checker_linearizable = {
	.name = "linearizable",
	.summary = "linearizability per key (WGL search, P-compositionality) against the workload's model",
	.check_opts = lin_check_opts,
	.begin = lin_begin_v,
	.add = lin_add_v,
	.prefetch = lin_prefetch_v,
	.finish = lin_finish_v,
	.abort = lin_abort_v,
	.read_text = HISTORY_SCALAR_TEXT,
};
