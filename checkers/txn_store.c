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
 * past add(), so the reader thread of check_history frees what it
 * allocated (malloc arenas stay uncontended).
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

static uint64_t text_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
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
	uint64_t h = text_hash(text);
	/* b counts collisions of the 64-bit hash: compare the text. */
	for (uint32_t b = 0;; b++) {
		uint32_t id = tmap_get(&st->itab, h, b);
		if (id == TXN_NONE) {
			if (st->n_intern == st->cap_intern) {
				st->cap_intern = st->cap_intern ? st->cap_intern * 2 : 256;
				st->ijson = xrealloc(st->ijson, st->cap_intern * sizeof *st->ijson);
				st->itext = xrealloc(st->itext, st->cap_intern * sizeof *st->itext);
			}
			id = st->n_intern++;
			st->ijson[id] = json_deep_copy(v);
			st->itext[id] = text;
			tmap_put(&st->itab, h, b, id);
			return ((atom_t)id << 1) | 1;
		}
		if (!strcmp(st->itext[id], text)) {
			free(text);
			return ((atom_t)id << 1) | 1;
		}
	}
}

json_t *tstore_atom_json(const struct tstore *st, atom_t a)
{
	if (a == ATOM_NIL)
		return json_null();
	if (a & 1)
		return json_incref(st->ijson[a >> 1]);
	return json_integer((json_int_t)((int64_t)a >> 1));
}

uint32_t tstore_key(struct tstore *st, atom_t a)
{
	uint32_t id = tmap_get(&st->keymap, a, 0);
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
	tmap_put(&st->keymap, a, 0, id);
	return id;
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
	for (uint32_t i = 0; i < st->n_keys; i++)
		free(st->keys[i].list);
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
	free(st->scratch);
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

/* Parse one micro-op [f, k, v] of txn id into m. An invocation's reads
 * have no value yet (nil whatever they say). */
static int mop_fill(struct tstore *st, uint32_t id, int64_t index, json_t *e, size_t i,
		    struct tmop *m, bool invoke, char *err, size_t errlen)
{
	memset(m, 0, sizeof *m);
	m->aux = TXN_NONE;
	m->txn = id;
	size_t sz = json_is_array(e) ? json_array_size(e) : 0;
	const char *f = sz ? json_string_value(json_array_get(e, 0)) : NULL;
	if ((sz != 2 && sz != 3) || !f) {
		snprintf(err, errlen,
			 "op index %" PRId64 ": micro-op %zu of the txn is not [f, key, value] "
			 "(f append, r or w)", index, i);
		return -1;
	}
	json_t *k = json_array_get(e, 1), *v = sz == 3 ? json_array_get(e, 2) : NULL;
	if (!k || json_is_null(k)) {
		snprintf(err, errlen, "op index %" PRId64 ": micro-op %zu has no key", index, i);
		return -1;
	}
	m->key = tstore_key(st, tstore_atom(st, k));
	if (!strcmp(f, "append") || !strcmp(f, "w")) {
		bool app = f[0] == 'a';
		if (set_model(st, app ? TM_LIST_APPEND : TM_RW_REGISTER, index,
			      app ? "an append micro-op" : "a write micro-op", err, errlen) < 0)
			return -1;
		if (!v || json_is_null(v)) {
			snprintf(err, errlen, "op index %" PRId64 ": micro-op %zu %s nil", index, i,
				 app ? "appends" : "writes");
			return -1;
		}
		m->f = app ? MOP_APPEND : MOP_WRITE;
		m->v = tstore_atom(st, v);
		return 0;
	}
	if (strcmp(f, "r") != 0) {
		snprintf(err, errlen,
			 "op index %" PRId64 ": unknown micro-op \"%s\" (elle knows append, r, w)",
			 index, f);
		return -1;
	}
	m->f = MOP_READ;
	if (invoke || !v || json_is_null(v)) {
		m->flags |= MOPF_NIL;
		m->v = ATOM_NIL;
		return 0;
	}
	bool list = json_is_array(v);
	if (set_model(st, list ? TM_LIST_APPEND : TM_RW_REGISTER, index,
		      list ? "a read of a list" : "a read of a single value", err, errlen) < 0)
		return -1;
	return st->model->read(st, id, m, v, err, errlen);
}

/* An open transaction: its invocation's micro-ops. */
struct topen {
	uint32_t id, n;
	struct tmop m[];
};

static int value_check(json_t *value, int64_t index, char *err, size_t errlen)
{
	if (json_is_array(value) && json_array_size(value) <= 65535)
		return 0;
	if (json_is_array(value))
		snprintf(err, errlen, "op index %" PRId64 ": %zu micro-ops in one txn (at most 65535)",
			 index, json_array_size(value));
	else
		snprintf(err, errlen,
			 "op index %" PRId64 ": a txn's value must be a list of micro-ops "
			 "([[\"append\", k, v], [\"r\", k, v]...])", index);
	return -1;
}

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
		uint32_t prev = tmap_put(&st->wmap, m->v, m->key, mi);
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
 * and what it was invoked with (NULL for a completion without an invoke). */
static int txn_finish(struct tstore *st, uint32_t id, enum txn_type type, const struct op *op,
		      struct topen *open, char *err, size_t errlen)
{
	struct ttxn *t = &st->txns[id];
	t->type = (uint8_t)type;
	if (op) {
		t->index = op->index;
		t->time = op->time;
	}
	json_t *value = op ? op->value : NULL;
	/* An info or fail completion without a list of micro-ops (Jepsen
	 * copies the invocation's, a client may leave it out) performed the
	 * invocation's. */
	bool from_invoke = type != TT_OK && (!json_is_array(value) ||
					     (json_array_size(value) == 0 && open && open->n));
	int rc = 0;
	t->mop_off = (uint32_t)st->n_mops;
	if (from_invoke) {
		t->n_mops = (uint16_t)(open ? open->n : 0);
		for (uint32_t i = 0; i < t->n_mops; i++)
			*mop_new(st) = open->m[i];
	} else if ((rc = value_check(value, t->index, err, errlen)) == 0) {
		size_t n = json_array_size(value);
		t->n_mops = (uint16_t)n;
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = mop_fill(st, id, t->index, json_array_get(value, i), i, mop_new(st), false,
				      err, errlen);
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
		st->model->txn_done(st, id, from_invoke ? NULL : value);
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
	if (op->type == OP_INVOKE) {
		if (value_check(op->value, op->index, err, errlen) < 0)
			return -1;
		uint32_t id = txn_new(st, op);
		size_t n = json_array_size(op->value);
		struct topen *o = xmalloc(sizeof *o + n * sizeof *o->m);
		o->id = id;
		o->n = (uint32_t)n;
		for (size_t i = 0; i < n; i++) {
			/* A value a completed txn already wrote: refused now, not
			 * when this one completes (it may never). */
			uint32_t prev;
			if (mop_fill(st, id, op->index, json_array_get(op->value, i), i, &o->m[i], true,
				     err, errlen) < 0 ||
			    (o->m[i].f != MOP_READ &&
			     (prev = tmap_get(&st->wmap, o->m[i].v, o->m[i].key)) != TXN_NONE &&
			     dup_error(st, &o->m[i], op->index, prev, err, errlen) < 0)) {
				free(o);
				return -1;
			}
		}
		struct topen *prev = pairing_open(st->open, op->process, o);
		/* A second invoke of an open process (a lenient history): the
		 * first one never completed. */
		if (prev && txn_finish(st, prev->id, TT_INFO, NULL, prev, err, errlen) < 0)
			return -1;
		return 0;
	}
	struct topen *o = pairing_close(st->open, op->process);
	uint32_t id = o ? o->id : txn_new(st, op);
	enum txn_type type = op->type == OP_OK ? TT_OK : op->type == OP_FAIL ? TT_FAIL : TT_INFO;
	return txn_finish(st, id, type, op, o, err, errlen);
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
			rc = txn_finish(st, c.v[i]->id, TT_INFO, NULL, c.v[i], err, errlen);
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
