/*
 * txn_store.c - what the transaction checker keeps of a history while it
 * streams by (see txn.h): every key and non-integer value interned once as
 * an atom, every transaction as a fixed-size record with its micro-ops in
 * one flat array, and the two orders the cycle search may add to the data
 * dependencies, computed on the fly:
 *
 *   process order   each ok transaction points at the next ok transaction
 *                   of its process (never for ops without a process)
 *   real time       Elle's transitive reduction: an ok transaction a
 *                   precedes every transaction invoked after a completed
 *                   and before the first ok completion of a transaction
 *                   invoked after a completed. Transactions are numbered in
 *                   invocation order, so that set is the id range
 *                   [rt_lo, rt_hi): two integers instead of ~concurrency
 *                   edges per transaction.
 *
 * A completion's micro-ops are parsed once into struct tmop (the model
 * compares list reads with the key's longest read as they arrive, so a
 * read's elements are never stored unless they contradict it). An
 * invocation's micro-ops are parsed too and kept while the transaction is
 * open, for info completions that carry none; no jansson value is held
 * past add(). Values arrive as trees or, from check_history, as the
 * reader's tokens of their JSON text (see "an op's micro-ops, parsed"
 * below). Small non-negative integer keys and values, the usual ones,
 * index arrays rather than hash maps (tstore_key, tstore_writer).
 */
#include "txn.h"

#include "history.h"
#include "pair.h"
#include "util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- maps */

static inline uint64_t tmap_hash(uint64_t a, uint32_t b)
{
	uint64_t h = a * 0x9E3779B97F4A7C15ULL ^ ((uint64_t)b + 1) * 0xC2B2AE3D27D4EB4FULL;
	h ^= h >> 31;
	h *= 0xBF58476D1CE4E5B9ULL;
	h ^= h >> 29;
	return h;
}

uint32_t tmap_get(const struct tmap *m, uint64_t a, uint32_t b)
{
	if (!m->cap)
		return TXN_NONE;
	size_t mask = m->cap - 1, i = tmap_hash(a, b) & mask;
	for (;;) {
		const struct tmap_ent *e = &m->e[i];
		if (e->v == TXN_NONE)
			return TXN_NONE;
		if (e->a == a && e->b == b)
			return e->v;
		i = (i + 1) & mask;
	}
}

static void tmap_grow(struct tmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 1024;
	struct tmap_ent *ne = xmalloc(ncap * sizeof *ne);
	for (size_t i = 0; i < ncap; i++)
		ne[i].v = TXN_NONE;
	for (size_t i = 0; i < m->cap; i++) {
		struct tmap_ent *e = &m->e[i];
		if (e->v == TXN_NONE)
			continue;
		size_t j = tmap_hash(e->a, e->b) & (ncap - 1);
		while (ne[j].v != TXN_NONE)
			j = (j + 1) & (ncap - 1);
		ne[j] = *e;
	}
	free(m->e);
	m->e = ne;
	m->cap = ncap;
}

uint32_t tmap_put(struct tmap *m, uint64_t a, uint32_t b, uint32_t v)
{
	if ((m->n + 1) * 8 > m->cap * 5)
		tmap_grow(m);
	size_t mask = m->cap - 1, i = tmap_hash(a, b) & mask;
	for (;;) {
		struct tmap_ent *e = &m->e[i];
		if (e->v == TXN_NONE) {
			*e = (struct tmap_ent){a, b, v};
			m->n++;
			return TXN_NONE;
		}
		if (e->a == a && e->b == b) {
			uint32_t old = e->v;
			e->v = v;
			return old;
		}
		i = (i + 1) & mask;
	}
}

void tmap_free(struct tmap *m)
{
	free(m->e);
	memset(m, 0, sizeof *m);
}

void tedges_add(struct tedges *es, uint32_t from, uint32_t to, uint8_t mask)
{
	if (from == to)
		return;
	if (es->n == es->cap) {
		es->cap = es->cap ? es->cap * 2 : 4096;
		es->e = xrealloc(es->e, es->cap * sizeof *es->e);
	}
	es->e[es->n++] = (struct tedge){from, to, mask};
}

static const char *const kind_names[K_N] = {
	"G0", "G1c", "G-single", "G-nonadjacent", "G2-item",
	"G0-process", "G1c-process", "G-single-process", "G-nonadjacent-process", "G2-item-process",
	"G0-realtime", "G1c-realtime", "G-single-realtime", "G-nonadjacent-realtime",
	"G2-item-realtime",
	"G1a", "G1b", "internal", "future-read", "dirty-update", "lost-update",
	"incompatible-order", "duplicate-elements", "cyclic-versions", "empty-transaction-graph",
};

const char *tkind_name(enum tkind k)
{
	return k < K_N ? kind_names[k] : "?";
}

/* --------------------------------------------------------------- atoms */

#define ATOM_INT_MIN (-(INT64_C(1) << 62))
#define ATOM_INT_MAX ((INT64_C(1) << 62) - 1)

static uint64_t text_hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

/* The atom id of interning text t[0..n) (NUL-terminated), if known; else
 * TXN_NONE with *h and *b where to add it. */
static uint32_t intern_find(struct tstore *st, const char *t, size_t n, uint64_t *h,
			    uint32_t *b)
{
	*h = text_hash(t, n);
	/* b counts collisions of the 64-bit hash: compare the text. */
	for (*b = 0;; (*b)++) {
		uint32_t id = tmap_get(&st->itab, *h, *b);
		if (id == TXN_NONE || (!strncmp(st->itext[id], t, n) && !st->itext[id][n]))
			return id;
	}
}

/* A new atom: text (malloc'd, taken) and its value v (taken). */
static atom_t intern_add(struct tstore *st, uint64_t h, uint32_t b, char *text, json_t *v)
{
	if (st->n_intern == st->cap_intern) {
		st->cap_intern = st->cap_intern ? st->cap_intern * 2 : 256;
		st->ijson = xrealloc(st->ijson, st->cap_intern * sizeof *st->ijson);
		st->itext = xrealloc(st->itext, st->cap_intern * sizeof *st->itext);
	}
	uint32_t id = st->n_intern++;
	st->ijson[id] = v;
	st->itext[id] = text;
	tmap_put(&st->itab, h, b, id);
	return ((atom_t)id << 1) | 1;
}

/* The atom of a plain string s[0..n) (ASCII, no NUL), as tstore_atom
 * gives for its JSON string, without building one unless it is new. */
static atom_t tstore_atom_str(struct tstore *st, const char *s, size_t n)
{
	char small[64], *t = n + 2 <= sizeof small ? small : xmalloc(n + 2);
	t[0] = 's';
	memcpy(t + 1, s, n);
	t[n + 1] = 0;
	uint64_t h;
	uint32_t b, id = intern_find(st, t, n + 1, &h, &b);
	if (id != TXN_NONE) {
		if (t != small)
			free(t);
		return ((atom_t)id << 1) | 1;
	}
	return intern_add(st, h, b, t == small ? xstrdup(small) : t, json_stringn_nocheck(s, n));
}

atom_t tstore_atom(struct tstore *st, json_t *v)
{
	if (json_is_integer(v)) {
		json_int_t x = json_integer_value(v);
		if (x >= ATOM_INT_MIN && x <= ATOM_INT_MAX)
			return (atom_t)((uint64_t)x << 1);
	}
	/* The interning text: "s" + a string's bytes, else compact JSON
	 * (which never starts with 's'). */
	char *text;
	if (json_is_string(v)) {
		size_t n = json_string_length(v);
		text = xmalloc(n + 2);
		text[0] = 's';
		memcpy(text + 1, json_string_value(v), n);
		text[n + 1] = 0;
		if (memchr(json_string_value(v), 0, n)) { /* NUL inside: fall back to JSON */
			free(text);
			text = NULL;
		}
	} else {
		text = NULL;
	}
	if (!text)
		text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
	if (!text)
		text = xstrdup("?");
	uint64_t h;
	uint32_t b, id = intern_find(st, text, strlen(text), &h, &b);
	if (id != TXN_NONE) {
		free(text);
		return ((atom_t)id << 1) | 1;
	}
	return intern_add(st, h, b, text, json_deep_copy(v));
}

json_t *tstore_atom_json(const struct tstore *st, atom_t a)
{
	if (a == ATOM_NIL)
		return json_null();
	if (a & 1)
		return json_incref(st->ijson[a >> 1]);
	return json_integer((json_int_t)((int64_t)a >> 1));
}

/* Small non-negative integers (the usual keys and values) index arrays
 * instead of hash maps: a million transactions look up keys and writers
 * a few million times, and an array slot is one cache line away where a
 * hash map of millions of entries is a miss each time. An array grows
 * only while it stays dense (index < 4 x entries + slack); anything else
 * goes to the hash map, which is consulted after the array misses. */
#define DIR_SLACK 1024

static inline bool atom_small(atom_t a, size_t bound)
{
	return !(a & 1) && (a >> 1) < bound; /* negative integers are huge here */
}

static uint32_t *dir_grow(uint32_t *d, size_t *cap, size_t x)
{
	size_t n = *cap ? *cap : 16;
	while (n <= x)
		n *= 2;
	d = xrealloc(d, n * sizeof *d);
	memset(d + *cap, 0, (n - *cap) * sizeof *d);
	*cap = n;
	return d;
}

uint32_t tstore_key(struct tstore *st, atom_t a)
{
	if (atom_small(a, st->kdir_cap) && st->kdir[a >> 1])
		return st->kdir[a >> 1] - 1;
	uint32_t id = st->keymap.n ? tmap_get(&st->keymap, a, 0) : TXN_NONE;
	if (id != TXN_NONE)
		return id;
	if (st->n_keys == st->cap_keys) {
		st->cap_keys = st->cap_keys ? st->cap_keys * 2 : 1024;
		st->keys = xrealloc(st->keys, st->cap_keys * sizeof *st->keys);
	}
	id = st->n_keys++;
	memset(&st->keys[id], 0, sizeof st->keys[id]);
	st->keys[id].atom = a;
	st->keys[id].incompat_mop = TXN_NONE;
	if (atom_small(a, 4 * (size_t)st->n_keys + DIR_SLACK)) {
		if ((a >> 1) >= st->kdir_cap)
			st->kdir = dir_grow(st->kdir, &st->kdir_cap, a >> 1);
		st->kdir[a >> 1] = id + 1;
	} else {
		tmap_put(&st->keymap, a, 0, id);
	}
	return id;
}

uint32_t tstore_writer(const struct tstore *st, atom_t v, uint32_t key)
{
	const struct tkey *k = &st->keys[key];
	if (atom_small(v, k->wdir_cap) && k->wdir[v >> 1])
		return k->wdir[v >> 1] - 1;
	return st->wmap.n ? tmap_get(&st->wmap, v, key) : TXN_NONE;
}

uint32_t tstore_writer_put(struct tstore *st, atom_t v, uint32_t key, uint32_t mop)
{
	struct tkey *k = &st->keys[key];
	uint32_t prev = tstore_writer(st, v, key);
	if (atom_small(v, k->wdir_cap) && k->wdir[v >> 1]) {
		k->wdir[v >> 1] = mop + 1;
	} else if (prev != TXN_NONE) {
		tmap_put(&st->wmap, v, key, mop);
	} else if (atom_small(v, 4 * (size_t)k->n_writes + 64)) {
		if ((v >> 1) >= k->wdir_cap) {
			size_t cap = k->wdir_cap;
			k->wdir = dir_grow(k->wdir, &cap, v >> 1);
			k->wdir_cap = (uint32_t)cap;
		}
		k->wdir[v >> 1] = mop + 1;
		k->n_writes++;
	} else {
		tmap_put(&st->wmap, v, key, mop);
		k->n_writes++;
	}
	return prev;
}

uint32_t tstore_list_add(struct tstore *st, const atom_t *a, uint32_t n)
{
	if (st->n_lists == st->cap_lists) {
		st->cap_lists = st->cap_lists ? st->cap_lists * 2 : 64;
		st->lists = xrealloc(st->lists, st->cap_lists * sizeof *st->lists);
	}
	struct tlist *l = &st->lists[st->n_lists];
	l->a = xmalloc((n ? n : 1) * sizeof *a);
	if (n)
		memcpy(l->a, a, n * sizeof *a);
	l->n = n;
	return st->n_lists++;
}

/* ---------------------------------------------------------- lifecycle */

void tstore_init(struct tstore *st)
{
	memset(st, 0, sizeof *st);
	st->open = pairing_new();
}

void tstore_free(struct tstore *st)
{
	if (st->model && st->model->free)
		st->model->free(st);
	for (uint32_t i = 0; i < st->n_intern; i++) {
		json_decref(st->ijson[i]);
		free(st->itext[i]);
	}
	free(st->ijson);
	free(st->itext);
	tmap_free(&st->itab);
	tmap_free(&st->keymap);
	for (uint32_t i = 0; i < st->n_keys; i++) {
		free(st->keys[i].list);
		free(st->keys[i].wdir);
	}
	free(st->kdir);
	free(st->keys);
	free(st->txns);
	free(st->mops);
	for (uint32_t i = 0; i < st->n_lists; i++)
		free(st->lists[i].a);
	free(st->lists);
	pairing_free(st->open, free);
	tmap_free(&st->procmap);
	tmap_free(&st->wmap);
	free(st->rtq);
	free(st->pm);
	free(st->pa);
	for (size_t i = 0; i < st->cases.n; i++)
		free(st->cases.c[i].steps);
	free(st->cases.c);
	memset(st, 0, sizeof *st);
}

void tstore_case(struct tstore *st, const struct tcase *c)
{
	struct tcases *cs = &st->cases;
	if (cs->count[c->kind]++ >= CASE_CAP)
		return;
	if (cs->n == cs->cap) {
		cs->cap = cs->cap ? cs->cap * 2 : 32;
		cs->c = xrealloc(cs->c, cs->cap * sizeof *cs->c);
	}
	struct tcase *d = &cs->c[cs->n++];
	*d = *c;
	if (c->n_steps) {
		d->steps = xmalloc(c->n_steps * sizeof *d->steps);
		memcpy(d->steps, c->steps, c->n_steps * sizeof *d->steps);
	} else {
		d->steps = NULL;
	}
}

bool tstore_expired(struct tstore *st)
{
	if (!st || !st->deadline)
		return false;
	if (!st->timed_out && now_ns() > st->deadline)
		st->timed_out = true;
	return st->timed_out;
}

/* -------------------------------------------------------- transactions */

static uint32_t txn_new(struct tstore *st, const struct op *op)
{
	if (st->n_txns == st->cap_txns) {
		st->cap_txns = st->cap_txns ? st->cap_txns * 2 : 4096;
		st->txns = xrealloc(st->txns, st->cap_txns * sizeof *st->txns);
	}
	uint32_t id = st->n_txns++;
	struct ttxn *t = &st->txns[id];
	memset(t, 0, sizeof *t);
	t->index = t->inv_index = op->index;
	t->process = op->process;
	t->inv_time = op->time;
	t->time = -1;
	t->type = TT_OPEN;
	t->proc_next = TXN_NONE;
	t->rt_lo = t->rt_hi = 0;
	return id;
}

static int set_model(struct tstore *st, enum txn_model_id want, int64_t index, const char *what,
		     char *err, size_t errlen)
{
	if (st->model_id == want)
		return 0;
	if (st->model_id == TM_AUTO) {
		st->model_id = want;
		st->model = want == TM_LIST_APPEND ? &txn_list_append : &txn_rw_register;
		return 0;
	}
	snprintf(err, errlen,
		 "op index %" PRId64 ": %s in a %s history (%s; a history is either list-append "
		 "or rw-register)",
		 index, what, st->model->name,
		 st->model_forced ? "checker_opts.elle.model says so"
				  : "its first decisive micro-op said so; checker_opts.elle.model "
				    "can say which");
	return -1;
}

static struct tmop *mop_new(struct tstore *st)
{
	if (st->n_mops == st->cap_mops) {
		st->cap_mops = st->cap_mops ? st->cap_mops * 2 : 8192;
		st->mops = xrealloc(st->mops, st->cap_mops * sizeof *st->mops);
	}
	return &st->mops[st->n_mops++];
}

/* ---- an op's micro-ops, parsed ----
 * A txn's value is first parsed into st->pm (keys and values as atoms,
 * list reads' elements in st->pa), then applied micro-op by micro-op
 * (model, reads compared with the version order). The value comes either
 * as a jansson tree or, from check_history's reader, as tokens of its JSON
 * text (history.h, HISTORY_VALUE_TEXT), cut by the reader's threads:
 * walking them is several times cheaper than building and freeing a tree
 * of ~15 nodes per transaction. Both parsers intern the same atoms in the
 * same order; the token one handles only the usual shape and leaves
 * anything else (errors included) to the tree one, so both give the same
 * verdicts and messages.
 * A micro-op that is malformed stops the parse; the ones before it are
 * still applied first, so errors come in micro-op order. */
enum { PV_NONE = 0, PV_SCALAR, PV_LIST };

struct pmop {
	uint8_t f;    /* enum mop_f */
	uint8_t val;  /* PV_NONE: absent or nil (or an invocation's read) */
	uint32_t key; /* key id */
	uint32_t n;   /* PV_LIST: elements pa[off..off + n) */
	size_t off;
	atom_t v;     /* PV_SCALAR */
};

struct ptxn {
	bool list;     /* the value is a list (of micro-ops) */
	size_t total;  /* its length */
	uint32_t n;    /* well-formed micro-ops parsed into st->pm */
	bool bad;      /* micro-op n is malformed: why says how */
	char why[300];
};

static inline struct pmop *pm_new(struct tstore *st)
{
	if (st->n_pm == st->cap_pm) {
		st->cap_pm = st->cap_pm ? st->cap_pm * 2 : 16;
		st->pm = xrealloc(st->pm, st->cap_pm * sizeof *st->pm);
	}
	return &st->pm[st->n_pm++];
}

static inline void pa_push(struct tstore *st, atom_t a)
{
	if (st->n_pa == st->cap_pa) {
		st->cap_pa = st->cap_pa ? st->cap_pa * 2 : 256;
		st->pa = xrealloc(st->pa, st->cap_pa * sizeof *st->pa);
	}
	st->pa[st->n_pa++] = a;
}

/* Micro-op i, [f, k, v], from the tree; false with px->why if malformed. */
static bool pmop_json(struct tstore *st, json_t *e, size_t i, int64_t index, bool invoke,
		      struct ptxn *px)
{
	size_t sz = json_is_array(e) ? json_array_size(e) : 0;
	const char *f = sz ? json_string_value(json_array_get(e, 0)) : NULL;
	if ((sz != 2 && sz != 3) || !f) {
		snprintf(px->why, sizeof px->why,
			 "op index %" PRId64 ": micro-op %zu of the txn is not [f, key, value] "
			 "(f append, r or w)", index, i);
		return false;
	}
	json_t *k = json_array_get(e, 1), *v = sz == 3 ? json_array_get(e, 2) : NULL;
	if (!k || json_is_null(k)) {
		snprintf(px->why, sizeof px->why, "op index %" PRId64 ": micro-op %zu has no key",
			 index, i);
		return false;
	}
	uint32_t key = tstore_key(st, tstore_atom(st, k));
	uint8_t mf = !strcmp(f, "append") ? MOP_APPEND : !strcmp(f, "w") ? MOP_WRITE
		     : !strcmp(f, "r") ? MOP_READ : 0;
	if (!mf) {
		snprintf(px->why, sizeof px->why,
			 "op index %" PRId64 ": unknown micro-op \"%s\" (elle knows append, r, w)",
			 index, f);
		return false;
	}
	struct pmop *p = pm_new(st);
	*p = (struct pmop){.f = mf, .key = key};
	if (!v || json_is_null(v) || (mf == MOP_READ && invoke))
		return true; /* an invocation's reads have no value yet */
	if (mf == MOP_READ && json_is_array(v)) {
		p->val = PV_LIST;
		p->off = st->n_pa;
		p->n = (uint32_t)json_array_size(v);
		for (uint32_t x = 0; x < p->n; x++)
			pa_push(st, tstore_atom(st, json_array_get(v, x)));
		return true;
	}
	p->val = PV_SCALAR;
	p->v = tstore_atom(st, v);
	return true;
}

static void ptxn_json(struct tstore *st, json_t *value, int64_t index, bool invoke,
		      struct ptxn *px)
{
	st->n_pm = 0;
	st->n_pa = 0;
	px->list = json_is_array(value);
	px->total = px->list ? json_array_size(value) : 0;
	px->n = 0;
	px->bad = false;
	if (!px->list || px->total > 65535)
		return;
	for (size_t i = 0; i < px->total; i++) {
		if (!pmop_json(st, json_array_get(value, i), i, index, invoke, px)) {
			px->bad = true;
			return;
		}
		px->n++;
	}
}

/* A key or value token: an integer or a plain string (an atom by
 * itself); false for anything else. */
static inline bool tok_atom(struct tstore *st, uint64_t t, const char *text, atom_t *out)
{
	if (HTOK_TAG(t) == HTOK_INT) {
		*out = (atom_t)((uint64_t)HTOK_INT_V(t) << 1);
		return true;
	}
	if (HTOK_TAG(t) == HTOK_STR) {
		*out = tstore_atom_str(st, text + HTOK_STR_OFF(t), HTOK_STR_LEN(t));
		return true;
	}
	return false;
}

/* ptxn_json's work from the reader's tokens of the value (history.h), which
 * scanned the text once already; false if it is not the usual shape
 * (micro-ops of 3, keys and values integers or plain strings, reads nil or
 * lists of those): the tree parser decides then. */
static bool ptxn_tokens(struct tstore *st, const uint64_t *tk, uint32_t nt, const char *text,
			bool invoke, struct ptxn *px)
{
	st->n_pm = 0;
	st->n_pa = 0;
	if (!nt || HTOK_TAG(tk[0]) != HTOK_LIST)
		return false;
	uint32_t n = HTOK_LIST_N(tk[0]), i = 1;
	if (n > 65535)
		return false;
	for (uint32_t x = 0; x < n; x++) {
		if (i + 3 >= nt || HTOK_TAG(tk[i]) != HTOK_LIST || HTOK_LIST_N(tk[i]) != 3 ||
		    i + 1 + HTOK_LIST_SPAN(tk[i]) > nt)
			return false;
		uint64_t f = tk[i + 1];
		if (HTOK_TAG(f) != HTOK_STR)
			return false;
		const char *fs = text + HTOK_STR_OFF(f);
		uint8_t mf;
		if (HTOK_STR_LEN(f) == 6 && !memcmp(fs, "append", 6))
			mf = MOP_APPEND;
		else if (HTOK_STR_LEN(f) == 1 && (*fs == 'r' || *fs == 'w'))
			mf = *fs == 'r' ? MOP_READ : MOP_WRITE;
		else
			return false;
		atom_t k;
		if (!tok_atom(st, tk[i + 2], text, &k))
			return false;
		struct pmop *m = pm_new(st);
		*m = (struct pmop){.f = mf, .key = tstore_key(st, k)};
		uint64_t v = tk[i + 3];
		uint32_t next = i + 1 + HTOK_LIST_SPAN(tk[i]);
		if (HTOK_TAG(v) == HTOK_NULL || (mf == MOP_READ && invoke)) {
			/* nil, or an invocation's read: no value yet */
		} else if (HTOK_TAG(v) == HTOK_LIST) {
			uint32_t ne = HTOK_LIST_N(v);
			if (mf != MOP_READ || HTOK_LIST_SPAN(v) != ne)
				return false; /* appending a list, or a read of nested lists */
			if (st->n_pa + ne > st->cap_pa) {
				st->cap_pa = (st->n_pa + ne) * 2;
				st->pa = xrealloc(st->pa, st->cap_pa * sizeof *st->pa);
			}
			m->val = PV_LIST;
			m->off = st->n_pa;
			m->n = ne;
			for (uint32_t e = 0; e < ne; e++)
				if (!tok_atom(st, tk[i + 4 + e], text, &st->pa[st->n_pa++]))
					return false;
		} else {
			m->val = PV_SCALAR;
			if (!tok_atom(st, v, text, &m->v))
				return false;
		}
		i = next;
	}
	if (i != nt)
		return false;
	px->list = true;
	px->total = n;
	px->n = n;
	px->bad = false;
	return true;
}

/* op's value into st->pm. */
static void ptxn_op(struct tstore *st, const struct op *op, bool invoke, struct ptxn *px)
{
	if (!op->value && op->value_tokens) {
		if (ptxn_tokens(st, op->value_tokens, op->value_ntokens, op->value_text, invoke, px))
			return;
		json_t *v = op_value(op);
		ptxn_json(st, v, op->index, invoke, px);
		json_decref(v);
		return;
	}
	ptxn_json(st, op->value, op->index, invoke, px);
}

static int ptxn_check(const struct ptxn *px, int64_t index, char *err, size_t errlen)
{
	if (px->list && px->total <= 65535)
		return 0;
	if (px->list)
		snprintf(err, errlen, "op index %" PRId64 ": %zu micro-ops in one txn (at most 65535)",
			 index, px->total);
	else
		snprintf(err, errlen,
			 "op index %" PRId64 ": a txn's value must be a list of micro-ops "
			 "([[\"append\", k, v], [\"r\", k, v]...])", index);
	return -1;
}

/* Parsed micro-op i of txn id into m. An invocation's reads have no value
 * yet (nil whatever they say). */
static int pmop_apply(struct tstore *st, uint32_t id, int64_t index, size_t i,
		      const struct pmop *p, struct tmop *m, bool invoke, char *err, size_t errlen)
{
	memset(m, 0, sizeof *m);
	m->aux = TXN_NONE;
	m->txn = id;
	m->key = p->key;
	if (p->f != MOP_READ) {
		bool app = p->f == MOP_APPEND;
		if (set_model(st, app ? TM_LIST_APPEND : TM_RW_REGISTER, index,
			      app ? "an append micro-op" : "a write micro-op", err, errlen) < 0)
			return -1;
		if (p->val == PV_NONE) {
			snprintf(err, errlen, "op index %" PRId64 ": micro-op %zu %s nil", index, i,
				 app ? "appends" : "writes");
			return -1;
		}
		m->f = p->f;
		m->v = p->v;
		return 0;
	}
	m->f = MOP_READ;
	if (invoke || p->val == PV_NONE) {
		m->flags |= MOPF_NIL;
		m->v = ATOM_NIL;
		return 0;
	}
	bool list = p->val == PV_LIST;
	if (set_model(st, list ? TM_LIST_APPEND : TM_RW_REGISTER, index,
		      list ? "a read of a list" : "a read of a single value", err, errlen) < 0)
		return -1;
	if (list)
		return st->model->read(st, id, m, st->pa + p->off, p->n, err, errlen);
	return st->model->read(st, id, m, &p->v, 1, err, errlen);
}

/* An open transaction: its invocation's micro-ops. */
struct topen {
	uint32_t id, n;
	struct tmop m[];
};

struct kpos {
	uint32_t key, pos;
};

static int kpos_cmp(const void *a, const void *b)
{
	const struct kpos *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* External reads (a key's first access is this read), final writes, and
 * intermediate writes (a later write of the same key follows). */
static void txn_flags(struct tstore *st, uint32_t id)
{
	const struct ttxn *t = &st->txns[id];
	struct tmop *ms = &st->mops[t->mop_off];
	uint32_t n = t->n_mops;
	struct kpos small[16], *kp = n <= 16 ? small : xmalloc(n * sizeof *kp);
	for (uint32_t i = 0; i < n; i++)
		kp[i] = (struct kpos){ms[i].key, i};
	if (n <= 16) {
		for (uint32_t i = 1; i < n; i++)
			for (uint32_t j = i; j > 0 && kpos_cmp(&kp[j - 1], &kp[j]) > 0; j--) {
				struct kpos x = kp[j];
				kp[j] = kp[j - 1];
				kp[j - 1] = x;
			}
	} else {
		qsort(kp, n, sizeof *kp, kpos_cmp);
	}
	for (uint32_t i = 0; i < n;) {
		uint32_t j = i;
		while (j < n && kp[j].key == kp[i].key)
			j++;
		struct tmop *first = &ms[kp[i].pos];
		if (first->f == MOP_READ)
			first->flags |= MOPF_EXT;
		bool last_write = true;
		for (uint32_t x = j; x-- > i;) {
			struct tmop *m = &ms[kp[x].pos];
			if (m->f == MOP_READ)
				continue;
			if (last_write)
				m->flags |= MOPF_EXT;
			else
				m->flags |= MOPF_INTERM;
			last_write = false;
		}
		i = j;
	}
	if (kp != small)
		free(kp);
}

static int dup_error(struct tstore *st, const struct tmop *m, int64_t index, uint32_t prev,
		     char *err, size_t errlen)
{
	json_t *kj = tstore_atom_json(st, st->keys[m->key].atom);
	json_t *vj = tstore_atom_json(st, m->v);
	char *k = json_dumps(kj, JSON_COMPACT | JSON_ENCODE_ANY);
	char *v = json_dumps(vj, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(kj);
	json_decref(vj);
	snprintf(err, errlen,
		 "op index %" PRId64 ": value %s %s key %s again (also by the op of index "
		 "%" PRId64 "): elle needs every value written to a key at most once",
		 index, v ? v : "?", m->f == MOP_APPEND ? "appended to" : "written to", k ? k : "?",
		 st->txns[st->mops[prev].txn].index);
	free(k);
	free(v);
	return -1;
}

/* Every appended/written value is indexed; values must be unique per key. */
static int txn_index_writes(struct tstore *st, uint32_t id, char *err, size_t errlen)
{
	const struct ttxn *t = &st->txns[id];
	for (uint32_t i = 0; i < t->n_mops; i++) {
		uint32_t mi = t->mop_off + i;
		const struct tmop *m = &st->mops[mi];
		if (m->f == MOP_READ)
			continue;
		uint32_t prev = tstore_writer_put(st, m->v, m->key, mi);
		if (prev != TXN_NONE)
			return dup_error(st, m, t->index, prev, err, errlen);
	}
	return 0;
}

static void rt_complete(struct tstore *st, uint32_t d)
{
	/* Windows of ok txns that completed before d was invoked close now. */
	while (st->rtq_n && st->txns[st->rtq[st->rtq_head]].rt_lo <= d) {
		st->txns[st->rtq[st->rtq_head]].rt_hi = st->n_txns;
		st->rtq_head++;
		st->rtq_n--;
	}
	if (st->rtq_head + st->rtq_n == st->rtq_cap) {
		if (st->rtq_head > st->rtq_cap / 2) {
			memmove(st->rtq, st->rtq + st->rtq_head, st->rtq_n * sizeof *st->rtq);
			st->rtq_head = 0;
		} else {
			st->rtq_cap = st->rtq_cap ? st->rtq_cap * 2 : 256;
			st->rtq = xrealloc(st->rtq, st->rtq_cap * sizeof *st->rtq);
		}
	}
	st->rtq[st->rtq_head + st->rtq_n++] = d;
	st->txns[d].rt_lo = st->txns[d].rt_hi = st->n_txns;
}

static void proc_complete(struct tstore *st, uint32_t d)
{
	int64_t p = st->txns[d].process;
	if (p < 0)
		return; /* no process: no session order */
	uint32_t last = tmap_put(&st->procmap, (uint64_t)p, 1, d);
	if (last != TXN_NONE)
		st->txns[last].proc_next = d;
}

/* A txn ends: type, completion op (NULL for one that never completed)
 * and what it was invoked with (NULL for a completion without an invoke);
 * px: the completion's value, parsed (NULL without a completion). */
static int txn_finish(struct tstore *st, uint32_t id, enum txn_type type, const struct op *op,
		      const struct ptxn *px, struct topen *open, char *err, size_t errlen)
{
	struct ttxn *t = &st->txns[id];
	t->type = (uint8_t)type;
	if (op) {
		t->index = op->index;
		t->time = op->time;
	}
	/* An info or fail completion without a list of micro-ops (Jepsen
	 * copies the invocation's, a client may leave it out) performed the
	 * invocation's. */
	bool from_invoke = type != TT_OK && (!px || !px->list ||
					     (px->total == 0 && open && open->n));
	int rc = 0;
	t->mop_off = (uint32_t)st->n_mops;
	if (from_invoke) {
		t->n_mops = (uint16_t)(open ? open->n : 0);
		for (uint32_t i = 0; i < t->n_mops; i++)
			*mop_new(st) = open->m[i];
	} else if ((rc = ptxn_check(px, t->index, err, errlen)) == 0) {
		t->n_mops = (uint16_t)px->total;
		for (uint32_t i = 0; i < px->n && rc == 0; i++)
			rc = pmop_apply(st, id, t->index, i, &st->pm[i], mop_new(st), false, err,
					errlen);
		if (rc == 0 && px->bad) {
			snprintf(err, errlen, "%s", px->why);
			rc = -1;
		}
	}
	free(open);
	if (rc < 0)
		return -1;
	if (type == TT_OK)
		st->n_ok++;
	else if (type == TT_INFO)
		st->n_info++;
	else
		st->n_fail++;
	txn_flags(st, id);
	if (txn_index_writes(st, id, err, errlen) < 0)
		return -1;
	if (st->model)
		st->model->txn_done(st, id);
	if (type == TT_OK) {
		rt_complete(st, id);
		proc_complete(st, id);
	}
	return 0;
}

int tstore_add(struct tstore *st, const struct op *op, char *err, size_t errlen)
{
	if (op->process == PROCESS_NEMESIS)
		return 0;
	if (!op->f || strcmp(op->f, "txn") != 0) {
		st->n_skipped++;
		return 0;
	}
	struct ptxn px;
	if (op->type == OP_INVOKE) {
		ptxn_op(st, op, true, &px);
		if (ptxn_check(&px, op->index, err, errlen) < 0)
			return -1;
		uint32_t id = txn_new(st, op);
		struct topen *o = xmalloc(sizeof *o + px.total * sizeof *o->m);
		o->id = id;
		o->n = (uint32_t)px.total;
		for (uint32_t i = 0; i < px.n; i++) {
			/* A value a completed txn already wrote: refused now, not
			 * when this one completes (it may never). */
			uint32_t prev;
			if (pmop_apply(st, id, op->index, i, &st->pm[i], &o->m[i], true, err, errlen) < 0 ||
			    (o->m[i].f != MOP_READ &&
			     (prev = tstore_writer(st, o->m[i].v, o->m[i].key)) != TXN_NONE &&
			     dup_error(st, &o->m[i], op->index, prev, err, errlen) < 0)) {
				free(o);
				return -1;
			}
		}
		if (px.bad) {
			snprintf(err, errlen, "%s", px.why);
			free(o);
			return -1;
		}
		struct topen *prev = pairing_open(st->open, op->process, o);
		/* A second invoke of an open process (a lenient history): the
		 * first one never completed. */
		if (prev && txn_finish(st, prev->id, TT_INFO, NULL, NULL, prev, err, errlen) < 0)
			return -1;
		return 0;
	}
	struct topen *o = pairing_close(st->open, op->process);
	uint32_t id = o ? o->id : txn_new(st, op);
	enum txn_type type = op->type == OP_OK ? TT_OK : op->type == OP_FAIL ? TT_FAIL : TT_INFO;
	ptxn_op(st, op, false, &px);
	return txn_finish(st, id, type, op, &px, o, err, errlen);
}

struct close_ctx {
	struct tstore *st;
	struct topen **v;
	size_t n;
};

static void collect_open(int64_t process, void *data, void *ctx)
{
	(void)process;
	struct close_ctx *c = ctx;
	c->v[c->n++] = data;
}

static int topen_cmp(const void *a, const void *b)
{
	const struct topen *x = *(struct topen *const *)a, *y = *(struct topen *const *)b;
	return x->id < y->id ? -1 : x->id > y->id;
}

int tstore_close(struct tstore *st, char *err, size_t errlen)
{
	/* Transactions never completed: info, in invocation order. */
	struct close_ctx c = {st, xmalloc((pairing_open_count(st->open) + 1) * sizeof *c.v), 0};
	pairing_foreach(st->open, collect_open, &c);
	pairing_free(st->open, NULL);
	st->open = pairing_new();
	qsort(c.v, c.n, sizeof *c.v, topen_cmp);
	int rc = 0;
	for (size_t i = 0; i < c.n; i++) {
		if (rc == 0)
			rc = txn_finish(st, c.v[i]->id, TT_INFO, NULL, NULL, c.v[i], err, errlen);
		else
			free(c.v[i]);
	}
	free(c.v);
	if (rc < 0)
		return -1;
	while (st->rtq_n) {
		st->txns[st->rtq[st->rtq_head]].rt_hi = st->n_txns;
		st->rtq_head++;
		st->rtq_n--;
	}
	if (st->model_id == TM_AUTO) {
		st->model_id = TM_LIST_APPEND;
		st->model = &txn_list_append;
	}
	return 0;
}

/* ---------------------------------------------------------- rendering */

json_t *tstore_list_json(const struct tstore *st, const atom_t *a, uint32_t n)
{
	json_t *l = json_array();
	for (uint32_t i = 0; i < n; i++)
		json_array_append_new(l, tstore_atom_json(st, a[i]));
	return l;
}

json_t *tstore_mop_json(struct tstore *st, const struct tmop *m)
{
	json_t *k = tstore_atom_json(st, st->keys[m->key].atom);
	const char *f = m->f == MOP_APPEND ? "append" : m->f == MOP_WRITE ? "w" : "r";
	json_t *v;
	if (m->f != MOP_READ)
		v = tstore_atom_json(st, m->v);
	else if (m->flags & MOPF_NIL || !st->model)
		v = json_null();
	else
		v = st->model->read_json(st, m);
	return json_pack("[s o o]", f, k, v);
}

const char *tstore_process_name(int64_t process, char *buf, size_t n)
{
	if (process == PROCESS_NEMESIS)
		return "nemesis";
	if (process < 0)
		return "(none)";
	snprintf(buf, n, "%" PRId64, process);
	return buf;
}

json_t *tstore_txn_json(struct tstore *st, uint32_t id)
{
	const struct ttxn *t = &st->txns[id];
	static const char *const types[] = {"ok", "info", "fail", "info"};
	json_t *value = json_array();
	for (uint32_t i = 0; i < t->n_mops; i++)
		json_array_append_new(value, tstore_mop_json(st, &st->mops[t->mop_off + i]));
	json_t *o = json_object();
	json_object_set_new(o, "index", json_integer(t->index));
	json_object_set_new(o, "invoke_index", json_integer(t->inv_index));
	json_object_set_new(o, "process", t->process >= 0 ? json_integer(t->process) : json_null());
	json_object_set_new(o, "type", json_string(types[t->type & 3]));
	json_object_set_new(o, "value", value);
	return o;
}
