/*
 * txn_append.c - the list-append model of the transaction checker (Elle's
 * list-append): micro-ops ["append", k, v] (v unique per key) and
 * ["r", k, [v1 v2 ...]].
 *
 * A read reveals the order of every append it shows, so each key's version
 * order is its longest read, and every other read must be a prefix of it.
 * Reads are compared with the key's longest read as they arrive (and
 * extend it): a read that is a prefix costs nothing to keep, because its
 * elements are the order's first len elements; a read that is not
 * (incompatible-order) is kept whole. At the end, with the order known:
 *
 *   ww  the appender of element i -> the appender of element i+1; an append
 *       no read ever showed comes after the last element shown
 *   wr  the appender of a read's last element -> the reader
 *   rw  a reader of the version ending at element i -> the appender of
 *       element i+1 (readers of the whole order -> the appends never shown;
 *       readers of the empty list -> the first appender)
 *
 * and the anomalies that need no cycle: G1a (an ok read shows an element a
 * failed transaction appended), G1b (an ok read ends at an append its
 * transaction followed with another to the same key), dirty-update (a
 * failed append followed in the order by a committed one), duplicate
 * elements, incompatible-order, and from single transactions internal (a
 * read disagreeing with the transaction's own earlier reads and appends),
 * future-read (a read showing an element the transaction appends later)
 * and lost-update (two committed transactions read the same version of a
 * key and both appended to it).
 */
#include "txn.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

struct la_cand { /* a lost-update candidate: txn read key at version (len, hash), then appended */
	uint32_t key, len;
	uint64_t hash;
	uint32_t txn, mop;
};

struct la_state {
	struct la_cand *cand;
	size_t n_cand, cap_cand;
	/* after analysis: each key's version order without duplicates, when
	 * it differs from keys[k].list (else NULL) */
	atom_t **vlist;
	uint32_t *vlen;
	struct tmap gpos; /* (element, key) -> position, for elements nobody appended */
	/* internal-check scratch */
	struct kst *ks;
	size_t ks_cap;
};

/* A key's state inside one transaction (internal consistency): what a
 * read of it must show. state 1: the whole list, base[0..nb) followed by
 * e[0..n) (its last read, then its appends since); state 2: only that it
 * ends in e[0..n) (appends, no read before them). */
struct kst {
	uint32_t key;
	int state;          /* 0 unknown, 1 the whole list, 2 only its suffix */
	const atom_t *base;
	uint32_t nb;
	atom_t *e;
	uint32_t n, cap;
	uint32_t first_read; /* global mop index, TXN_NONE */
	bool appended;
};

static struct la_state *la(struct tstore *st)
{
	if (!st->mstate)
		st->mstate = xcalloc(1, sizeof(struct la_state));
	return st->mstate;
}

/* The elements of a read micro-op. */
static const atom_t *la_elems(const struct tstore *st, const struct tmop *m)
{
	if (m->flags & MOPF_STORED)
		return st->lists[m->aux].a;
	return st->keys[m->key].list;
}

static int la_read(struct tstore *st, uint32_t txn, struct tmop *m, const atom_t *a, uint32_t n,
		   char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	m->len = n;
	m->v = n ? a[n - 1] : ATOM_NIL;
	if (st->txns[txn].type == TT_FAIL) {
		/* A failed txn's reads say nothing about the order; kept to show. */
		m->aux = tstore_list_add(st, a, m->len);
		m->flags |= MOPF_STORED;
		return 0;
	}
	struct tkey *k = &st->keys[m->key];
	size_t c = n < k->len ? n : k->len;
	if (!c || !memcmp(a, k->list, c * sizeof *a)) {
		if (n > k->len) {
			if (n > k->cap) {
				k->cap = (uint32_t)(n < 8 ? 8 : n * 3 / 2);
				k->list = xrealloc(k->list, k->cap * sizeof *k->list);
			}
			memcpy(k->list + k->len, a + k->len, (n - k->len) * sizeof *a);
			k->len = (uint32_t)n;
		}
		return 0;
	}
	m->aux = tstore_list_add(st, a, m->len);
	m->flags |= MOPF_STORED | MOPF_INCOMPAT;
	if (k->incompat++ == 0) {
		k->incompat_mop = (uint32_t)(m - st->mops);
		k->incompat_len = k->len;
	}
	return 0;
}

static uint64_t list_hash(const atom_t *a, uint32_t n)
{
	uint64_t h = 0x84222325cbf29ce4ULL ^ n;
	for (uint32_t i = 0; i < n; i++) {
		h ^= a[i];
		h *= 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return h;
}

static struct kst *kst_find(struct la_state *s, size_t *nks, uint32_t key, struct tmap *idx)
{
	uint32_t slot = TXN_NONE;
	if (idx)
		slot = tmap_get(idx, key, 0);
	else
		for (size_t i = 0; i < *nks && slot == TXN_NONE; i++)
			if (s->ks[i].key == key)
				slot = (uint32_t)i;
	if (slot != TXN_NONE)
		return &s->ks[slot];
	if (*nks == s->ks_cap) {
		size_t old = s->ks_cap;
		s->ks_cap = s->ks_cap ? s->ks_cap * 2 : 8;
		s->ks = xrealloc(s->ks, s->ks_cap * sizeof *s->ks);
		memset(s->ks + old, 0, (s->ks_cap - old) * sizeof *s->ks);
	}
	if (idx)
		tmap_put(idx, key, 0, (uint32_t)*nks);
	struct kst *k = &s->ks[(*nks)++];
	k->key = key;
	k->state = 0;
	k->base = NULL;
	k->nb = k->n = 0;
	k->first_read = TXN_NONE;
	k->appended = false;
	return k;
}

static void kst_push(struct kst *k, atom_t v)
{
	if (k->n == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 8;
		k->e = xrealloc(k->e, k->cap * sizeof *k->e);
	}
	k->e[k->n++] = v;
}

static bool contains(const atom_t *a, uint32_t n, atom_t v)
{
	for (uint32_t i = 0; i < n; i++)
		if (a[i] == v)
			return true;
	return false;
}

/* Does read r[0..rn) disagree with what k says it must show? */
static bool kst_bad(const struct kst *k, const atom_t *r, uint32_t rn)
{
	if (k->state == 1)
		return rn != k->nb + k->n || (k->nb && memcmp(r, k->base, k->nb * sizeof *r)) ||
		       (k->n && memcmp(r + k->nb, k->e, k->n * sizeof *r));
	return rn < k->n || (k->n && memcmp(r + rn - k->n, k->e, k->n * sizeof *r));
}

/* What k says, as a stored list (for the case). */
static uint32_t kst_expected(struct tstore *st, const struct kst *k)
{
	atom_t *a = xmalloc(((size_t)k->nb + k->n + 1) * sizeof *a);
	uint32_t n = 0;
	if (k->state == 1)
		for (uint32_t i = 0; i < k->nb; i++)
			a[n++] = k->base[i];
	for (uint32_t i = 0; i < k->n; i++)
		a[n++] = k->e[i];
	uint32_t l = tstore_list_add(st, a, n);
	free(a);
	return l;
}

/* An earlier read of this txn that already showed what mop i appends. */
static uint32_t future_read(const struct tstore *st, const struct ttxn *t, uint32_t i,
			    struct tmap *seen)
{
	const struct tmop *m = &st->mops[t->mop_off + i];
	if (seen)
		return tmap_get(seen, m->v, m->key);
	for (uint32_t j = 0; j < i; j++) {
		const struct tmop *r = &st->mops[t->mop_off + j];
		if (r->f == MOP_READ && r->key == m->key && r->len && !(r->flags & MOPF_NIL) &&
		    contains(la_elems(st, r), r->len, m->v))
			return t->mop_off + j;
	}
	return TXN_NONE;
}

/* One committed txn: internal consistency, future reads, lost-update
 * candidates. */
static void la_txn_done(struct tstore *st, uint32_t txn)
{
	const struct ttxn *t = &st->txns[txn];
	if (t->type != TT_OK)
		return;
	struct la_state *s = la(st);
	size_t nks = 0;
	bool internal = false, future = false, big = t->n_mops > 32;
	/* big txns: indexes instead of scans */
	struct tmap kidx = {0}, seen = {0};
	for (uint32_t i = 0; i < t->n_mops; i++) {
		uint32_t mi = t->mop_off + i;
		const struct tmop *m = &st->mops[mi];
		struct kst *k = kst_find(s, &nks, m->key, big ? &kidx : NULL);
		if (m->f == MOP_APPEND) {
			if (!k->appended && k->first_read != TXN_NONE) {
				const struct tmop *r = &st->mops[k->first_read];
				uint32_t rn = r->flags & MOPF_NIL ? 0 : r->len;
				if (s->n_cand == s->cap_cand) {
					s->cap_cand = s->cap_cand ? s->cap_cand * 2 : 1024;
					s->cand = xrealloc(s->cand, s->cap_cand * sizeof *s->cand);
				}
				s->cand[s->n_cand++] = (struct la_cand){
					m->key, rn, list_hash(la_elems(st, r), rn), txn, k->first_read};
			}
			k->appended = true;
			uint32_t fr;
			if (!future && (fr = future_read(st, t, i, big ? &seen : NULL)) != TXN_NONE) {
				future = true;
				tstore_case(st, &(struct tcase){.kind = K_FUTURE_READ,
								.txn = {txn, TXN_NONE},
								.key = m->key,
								.mop = fr,
								.list = TXN_NONE,
								.v = m->v});
			}
			if (k->state == 0) {
				k->state = 2;
				k->n = 0;
			}
			kst_push(k, m->v);
			continue;
		}
		const atom_t *r = la_elems(st, m);
		uint32_t rn = m->flags & MOPF_NIL ? 0 : m->len;
		if (big)
			for (uint32_t x = 0; x < rn; x++)
				if (tmap_get(&seen, r[x], m->key) == TXN_NONE)
					tmap_put(&seen, r[x], m->key, mi);
		if (k->first_read == TXN_NONE && !k->appended)
			k->first_read = mi;
		if (!internal && k->state && kst_bad(k, r, rn)) {
			internal = true;
			tstore_case(st, &(struct tcase){.kind = K_INTERNAL,
							.flag = k->state == 2,
							.txn = {txn, TXN_NONE},
							.key = m->key,
							.mop = mi,
							.list = kst_expected(st, k)});
		}
		k->state = 1;
		k->base = r;
		k->nb = rn;
		k->n = 0;
	}
	tmap_free(&kidx);
	tmap_free(&seen);
}

static json_t *la_read_json(struct tstore *st, const struct tmop *m)
{
	return tstore_list_json(st, la_elems(st, m), m->len);
}

/* ------------------------------------------------------------ analysis */

static int cand_cmp(const void *a, const void *b)
{
	const struct la_cand *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->txn < y->txn ? -1 : x->txn > y->txn;
}

static void lost_updates(struct tstore *st, struct la_state *s)
{
	if (s->n_cand)
		qsort(s->cand, s->n_cand, sizeof *s->cand, cand_cmp);
	for (size_t i = 0; i < s->n_cand;) {
		size_t j = i + 1;
		while (j < s->n_cand && s->cand[j].key == s->cand[i].key &&
		       s->cand[j].len == s->cand[i].len && s->cand[j].hash == s->cand[i].hash)
			j++;
		if (j - i >= 2) {
			uint32_t n = (uint32_t)(j - i);
			struct tstep *steps = xmalloc(n * sizeof *steps);
			for (uint32_t x = 0; x < n; x++)
				steps[x] = (struct tstep){s->cand[i + x].txn, 0};
			tstore_case(st, &(struct tcase){.kind = K_LOST_UPDATE,
							.txn = {TXN_NONE, TXN_NONE},
							.key = s->cand[i].key,
							.mop = s->cand[i].mop,
							.list = TXN_NONE,
							.n = n,
							.steps = steps,
							.n_steps = n});
			free(steps);
		}
		i = j;
	}
}

/* Position (in the list) of the second occurrence of the earliest
 * repeated element, or n if none. */
struct ai {
	atom_t a;
	uint32_t i;
};
static int ai_cmp(const void *x, const void *y)
{
	const struct ai *p = x, *q = y;
	if (p->a != q->a)
		return p->a < q->a ? -1 : 1;
	return p->i < q->i ? -1 : p->i > q->i;
}
static uint32_t first_dup(const atom_t *a, uint32_t n)
{
	if (n < 2)
		return n;
	struct ai *v = xmalloc(n * sizeof *v);
	for (uint32_t i = 0; i < n; i++)
		v[i] = (struct ai){a[i], i};
	qsort(v, n, sizeof *v, ai_cmp);
	uint32_t d = n;
	for (uint32_t i = 1; i < n; i++)
		if (v[i].a == v[i - 1].a && v[i].i < d)
			d = v[i].i;
	free(v);
	return d;
}

static uint32_t writer_txn(const struct tstore *st, atom_t v, uint32_t key)
{
	uint32_t w = tstore_writer(st, v, key);
	return w == TXN_NONE ? TXN_NONE : st->mops[w].txn;
}

/* The analysis walks keys one at a time over compact copies of their
 * reads and appends: the micro-ops of a key are scattered over the whole
 * history, and chasing them (and their transactions) one cache miss at a
 * time cost more than everything else. */
struct arec { /* an append, of any txn */
	atom_t v;
	uint32_t mop, txn, pos; /* pos: in the key's order, TXN_NONE if never read */
	uint8_t type, flags;
};
struct rrec { /* a read of a live txn (an ok txn's nil read reads the empty list) */
	atom_t last;
	uint32_t mop, txn, len, aux;
	uint8_t type, flags;
};

struct bykey {
	uint32_t *roff, *aoff;
	struct rrec *r;
	struct arec *a;
};

static bool counted_read(const struct tmop *m, const struct ttxn *t)
{
	return m->f == MOP_READ && txn_live(t) && !(m->flags & MOPF_NIL && t->type != TT_OK);
}

static void group(const struct tstore *st, struct bykey *g)
{
	uint32_t nk = st->n_keys;
	g->roff = xcalloc((size_t)nk + 2, sizeof *g->roff);
	g->aoff = xcalloc((size_t)nk + 2, sizeof *g->aoff);
	for (size_t i = 0; i < st->n_mops; i++) {
		const struct tmop *m = &st->mops[i];
		if (m->f == MOP_APPEND)
			g->aoff[m->key + 2]++;
		else if (counted_read(m, &st->txns[m->txn]))
			g->roff[m->key + 2]++;
	}
	for (uint32_t k = 0; k < nk; k++) {
		g->roff[k + 2] += g->roff[k + 1];
		g->aoff[k + 2] += g->aoff[k + 1];
	}
	g->r = xmalloc(((size_t)g->roff[nk + 1] + 1) * sizeof *g->r);
	g->a = xmalloc(((size_t)g->aoff[nk + 1] + 1) * sizeof *g->a);
	for (size_t i = 0; i < st->n_mops; i++) {
		const struct tmop *m = &st->mops[i];
		const struct ttxn *t = &st->txns[m->txn];
		if (m->f == MOP_APPEND)
			g->a[g->aoff[m->key + 1]++] = (struct arec){m->v, (uint32_t)i, m->txn, TXN_NONE,
								  t->type, m->flags};
		else if (counted_read(m, t))
			g->r[g->roff[m->key + 1]++] = (struct rrec){
				m->flags & MOPF_NIL ? ATOM_NIL : m->v, (uint32_t)i, m->txn,
				m->flags & MOPF_NIL ? 0 : m->len, m->aux, t->type, m->flags};
	}
}

static void bykey_free(struct bykey *g)
{
	free(g->roff);
	free(g->aoff);
	free(g->r);
	free(g->a);
}

static int arec_cmp(const void *x, const void *y)
{
	const struct arec *p = x, *q = y;
	return p->v < q->v ? -1 : p->v > q->v;
}

/* The append of v among a key's appends (sorted by value), or -1. */
static int64_t afind(const struct arec *a, uint32_t n, atom_t v)
{
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (a[mid].v < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && a[lo].v == v ? (int64_t)lo : -1;
}

static inline bool live_type(uint8_t t)
{
	return t == TT_OK || t == TT_INFO;
}

static void key_dirty_updates(struct tstore *st, uint32_t key, const atom_t *v,
			      const struct arec *A, const uint32_t *wpos, uint32_t n)
{
	/* Elle's walk: t1 is the last writer that settled the state (ok, or
	 * failed after a non-failed one), start where its values begin; an
	 * ok writer after a failed t1 is a dirty update. */
	int t1 = TT_OK;
	uint32_t t1_txn = TXN_NONE, start = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (wpos[i] == TXN_NONE)
			continue;
		const struct arec *w = &A[wpos[i]];
		int t2 = w->type == TT_OPEN ? TT_INFO : w->type;
		if (t1 == TT_FAIL && t2 == TT_OK)
			tstore_case(st, &(struct tcase){.kind = K_DIRTY_UPDATE,
							.txn = {t1_txn, w->txn},
							.key = key,
							.mop = TXN_NONE,
							.list = tstore_list_add(st, v + start, i - start + 1)});
		if (t2 == TT_OK || (t2 == TT_FAIL && t1 != TT_FAIL)) {
			t1 = t2;
			t1_txn = w->txn;
			start = i;
		}
	}
}

struct scratchpad {
	uint32_t *wpos, *failpos;
	size_t wcap, fcap;
};

static uint32_t *grow32(uint32_t **p, size_t *cap, size_t n)
{
	if (n > *cap) {
		*cap = n * 2;
		*p = xrealloc(*p, *cap * sizeof **p);
	}
	return *p;
}

static void g1a_case(struct tstore *st, const struct rrec *r, uint32_t key, atom_t e,
		     uint32_t writer)
{
	tstore_case(st, &(struct tcase){.kind = K_G1A,
					.txn = {r->txn, writer},
					.key = key,
					.mop = r->mop,
					.list = TXN_NONE,
					.v = e});
}

static void key_analyze(struct tstore *st, struct la_state *s, uint32_t k, struct rrec *R,
			uint32_t nr, struct arec *A, uint32_t na, struct scratchpad *sp,
			struct tedges *out)
{
	struct tkey *key = &st->keys[k];
	if (na > 16)
		qsort(A, na, sizeof *A, arec_cmp);
	else
		for (uint32_t i = 1; i < na; i++)
			for (uint32_t j = i; j > 0 && A[j - 1].v > A[j].v; j--) {
				struct arec x = A[j];
				A[j] = A[j - 1];
				A[j - 1] = x;
			}
	/* The order: the longest read (normally the one every read is a
	 * prefix of). */
	const atom_t *V = key->list;
	uint32_t vn = key->len;
	for (uint32_t r = 0; key->incompat && r < nr; r++)
		if (R[r].flags & MOPF_STORED && R[r].len > vn) {
			V = st->lists[R[r].aux].a;
			vn = R[r].len;
		}
	/* Positions of its distinct elements, on their appends. */
	uint32_t *wpos = grow32(&sp->wpos, &sp->wcap, vn + 1);
	atom_t *dv = NULL;
	uint32_t dn = 0, vdup = vn; /* vdup: the first repeated position */
	for (uint32_t i = 0; i < vn; i++) {
		int64_t a = afind(A, na, V[i]);
		bool seen = a >= 0 ? A[a].pos != TXN_NONE : tmap_get(&s->gpos, V[i], k) != TXN_NONE;
		if (seen) {
			if (!dv) {
				vdup = i;
				dv = xmalloc(vn * sizeof *dv);
				memcpy(dv, V, i * sizeof *dv);
			}
			continue;
		}
		if (a >= 0) {
			A[a].pos = dn;
			st->mops[A[a].mop].aux = dn; /* for explanations */
		} else {
			tmap_put(&s->gpos, V[i], k, dn);
		}
		if (dv)
			dv[dn] = V[i];
		wpos[dn++] = a >= 0 ? (uint32_t)a : TXN_NONE;
	}
	bool dups = dv != NULL;
	if (dups || V != key->list) {
		s->vlist[k] = dv ? dv : xmalloc((dn ? dn : 1) * sizeof **s->vlist);
		if (!dv)
			memcpy(s->vlist[k], V, dn * sizeof *V);
	}
	s->vlen[k] = dn;
	const atom_t *D = s->vlist[k] ? s->vlist[k] : key->list;
	bool simple = !dups && V == key->list;

	/* ww along the order */
	for (uint32_t i = 1; i < dn; i++) {
		uint32_t a = wpos[i - 1], b = wpos[i];
		if (a != TXN_NONE && b != TXN_NONE && live_type(A[a].type) && live_type(A[b].type))
			tedges_add(out, A[a].txn, A[b].txn, EDGE_WW);
	}
	key_dirty_updates(st, k, D, A, wpos, dn);

	/* failed appends among key->list (every read not kept whole is a
	 * prefix of it), and where it first repeats an element */
	uint32_t ln = key->len;
	uint32_t *failpos = grow32(&sp->failpos, &sp->fcap, ln + 1);
	uint32_t nfail = 0;
	for (uint32_t i = 0; i < ln; i++) {
		int64_t a = simple ? (wpos[i] == TXN_NONE ? -1 : (int64_t)wpos[i])
				   : afind(A, na, key->list[i]);
		if (a >= 0 && A[a].type == TT_FAIL)
			failpos[nfail++] = i;
	}
	uint32_t ldup = V == key->list ? vdup : first_dup(key->list, ln);
	if (key->incompat)
		tstore_case(st, &(struct tcase){.kind = K_INCOMPAT_ORDER,
						.txn = {st->mops[key->incompat_mop].txn, TXN_NONE},
						.key = k,
						.mop = key->incompat_mop,
						.list = TXN_NONE,
						.n = key->incompat_len});

	/* appends no read showed come after the last element shown */
	uint32_t last = dn && wpos[dn - 1] != TXN_NONE && live_type(A[wpos[dn - 1]].type)
				? A[wpos[dn - 1]].txn
				: TXN_NONE;
	uint32_t n_unobs = 0;
	for (uint32_t a = 0; a < na; a++) {
		if (A[a].pos != TXN_NONE || !live_type(A[a].type))
			continue;
		n_unobs++;
		if (last != TXN_NONE)
			tedges_add(out, last, A[a].txn, EDGE_WW);
	}

	for (uint32_t i = 0; i < nr; i++) {
		const struct rrec *r = &R[i];
		bool ok = r->type == TT_OK, stored = r->flags & MOPF_STORED;
		uint32_t len = r->len;
		if (stored) {
			const atom_t *e = st->lists[r->aux].a;
			for (uint32_t x = 0; ok && x < len; x++) {
				int64_t a = afind(A, na, e[x]);
				if (a >= 0 && A[a].type == TT_FAIL)
					g1a_case(st, r, k, e[x], A[a].txn);
			}
			if (first_dup(e, len) < len)
				tstore_case(st, &(struct tcase){.kind = K_DUPLICATES,
								.txn = {r->txn, TXN_NONE},
								.key = k,
								.mop = r->mop,
								.list = TXN_NONE});
		} else {
			for (uint32_t f = 0; ok && f < nfail && failpos[f] < len; f++) {
				atom_t e = key->list[failpos[f]];
				g1a_case(st, r, k, e, A[afind(A, na, e)].txn);
			}
			if (len > ldup)
				tstore_case(st, &(struct tcase){.kind = K_DUPLICATES,
								.txn = {r->txn, TXN_NONE},
								.key = k,
								.mop = r->mop,
								.list = TXN_NONE});
		}
		int64_t w = -1;
		if (len) {
			w = simple && !stored ? (wpos[len - 1] == TXN_NONE ? -1 : (int64_t)wpos[len - 1])
					      : afind(A, na, r->last);
			if (w >= 0 && A[w].txn != r->txn) {
				if (ok && A[w].flags & MOPF_INTERM)
					tstore_case(st, &(struct tcase){.kind = K_G1B,
									.txn = {r->txn, A[w].txn},
									.key = k,
									.mop = r->mop,
									.list = TXN_NONE,
									.v = r->last});
				if (live_type(A[w].type))
					tedges_add(out, A[w].txn, r->txn, EDGE_WR);
			}
		}
		/* where the read ends in the order: -1 the empty list */
		int64_t p;
		if (!len)
			p = -1;
		else if (simple && !stored)
			p = len - 1;
		else if (w >= 0)
			p = A[w].pos == TXN_NONE ? -2 : (int64_t)A[w].pos;
		else {
			uint32_t g = tmap_get(&s->gpos, r->last, k);
			p = g == TXN_NONE ? -2 : (int64_t)g;
		}
		if (p == -2)
			continue;
		if (p + 1 < (int64_t)dn) {
			uint32_t b = wpos[p + 1];
			if (b != TXN_NONE && A[b].txn != r->txn && live_type(A[b].type))
				tedges_add(out, r->txn, A[b].txn, EDGE_RW);
		} else if (n_unobs) {
			for (uint32_t a = 0; a < na; a++)
				if (A[a].pos == TXN_NONE && live_type(A[a].type) && A[a].txn != r->txn)
					tedges_add(out, r->txn, A[a].txn, EDGE_RW);
		}
	}
}

static void la_analyze(struct tstore *st, struct tedges *out)
{
	struct la_state *s = la(st);
	uint32_t nk = st->n_keys;
	s->vlist = xcalloc(nk ? nk : 1, sizeof *s->vlist);
	s->vlen = xcalloc(nk ? nk : 1, sizeof *s->vlen);
	struct bykey g;
	group(st, &g);
	struct scratchpad sp = {0};
	for (uint32_t k = 0; k < nk; k++)
		key_analyze(st, s, k, g.r + g.roff[k], g.roff[k + 1] - g.roff[k], g.a + g.aoff[k],
			    g.aoff[k + 1] - g.aoff[k], &sp, out);
	lost_updates(st, s);
	free(sp.wpos);
	free(sp.failpos);
	bykey_free(&g);
}

/* Where read micro-op m ends in its key's order (-1: the empty list, -2:
 * not in the order), for explanations. */
static int64_t read_pos(const struct tstore *st, const struct la_state *s, const struct tmop *m)
{
	if (m->len == 0 || m->flags & MOPF_NIL)
		return -1;
	uint32_t w = tstore_writer(st, m->v, m->key);
	uint32_t p = w != TXN_NONE ? st->mops[w].aux : tmap_get(&s->gpos, m->v, m->key);
	return p == TXN_NONE ? -2 : (int64_t)p;
}

/* ---------------------------------------------------------- explaining */

static const atom_t *la_order(const struct tstore *st, const struct la_state *s, uint32_t key,
			      uint32_t *n)
{
	*n = s->vlen[key];
	return s->vlist[key] ? s->vlist[key] : st->keys[key].list;
}

static bool la_explain(struct tstore *st, uint32_t a, uint32_t b, uint8_t type,
		       struct texpl *out)
{
	struct la_state *s = la(st);
	const struct ttxn *ta = &st->txns[a], *tb = &st->txns[b];
	memset(out, 0, sizeof *out);
	if (type == EDGE_WR) {
		for (uint32_t i = 0; i < tb->n_mops; i++) {
			const struct tmop *m = &st->mops[tb->mop_off + i];
			if (m->f == MOP_READ && !(m->flags & MOPF_NIL) && m->len &&
			    writer_txn(st, m->v, m->key) == a) {
				out->key = m->key;
				out->value = m->v;
				return true;
			}
		}
		return false;
	}
	if (type == EDGE_WW) {
		for (uint32_t i = 0; i < tb->n_mops; i++) {
			const struct tmop *m = &st->mops[tb->mop_off + i];
			if (m->f != MOP_APPEND)
				continue;
			uint32_t n;
			const atom_t *D = la_order(st, s, m->key, &n);
			atom_t prev;
			if (m->aux != TXN_NONE && m->aux > 0)
				prev = D[m->aux - 1];
			else if (m->aux == TXN_NONE && n)
				prev = D[n - 1];
			else
				continue;
			if (writer_txn(st, prev, m->key) == a) {
				out->key = m->key;
				out->value = m->v;
				out->prev = prev;
				out->prev_known = true;
				return true;
			}
		}
		return false;
	}
	for (uint32_t i = 0; i < ta->n_mops; i++) {
		const struct tmop *r = &st->mops[ta->mop_off + i];
		if (r->f != MOP_READ || (r->flags & MOPF_NIL && ta->type != TT_OK))
			continue;
		uint32_t n;
		la_order(st, s, r->key, &n);
		int64_t p = read_pos(st, s, r);
		if (p == -2)
			continue;
		for (uint32_t j = 0; j < tb->n_mops; j++) {
			const struct tmop *m = &st->mops[tb->mop_off + j];
			if (m->f != MOP_APPEND || m->key != r->key)
				continue;
			bool next = m->aux != TXN_NONE ? (int64_t)m->aux == p + 1
						       : p == (int64_t)n - 1;
			if (!next)
				continue;
			out->key = m->key;
			out->value = m->v;
			out->prev = p < 0 ? ATOM_NIL : r->v;
			out->prev_known = true;
			return true;
		}
	}
	return false;
}

static void la_free(struct tstore *st)
{
	struct la_state *s = st->mstate;
	if (!s)
		return;
	free(s->cand);
	if (s->vlist)
		for (uint32_t k = 0; k < st->n_keys; k++)
			free(s->vlist[k]);
	free(s->vlist);
	free(s->vlen);
	tmap_free(&s->gpos);
	for (size_t i = 0; i < s->ks_cap; i++)
		free(s->ks[i].e);
	free(s->ks);
	free(s);
	st->mstate = NULL;
}

const struct txn_model txn_list_append = {
	.name = "list-append",
	.read = la_read,
	.txn_done = la_txn_done,
	.analyze = la_analyze,
	.explain = la_explain,
	.read_json = la_read_json,
	.free = la_free,
};
