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

/* A key's state inside one transaction (internal consistency). */
struct kst {
	uint32_t key;
	int state;          /* 0 unknown, 1 the whole list, 2 only its suffix */
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

static atom_t *scratch(struct tstore *st, size_t n)
{
	if (n > st->scratch_cap) {
		st->scratch_cap = n * 2;
		st->scratch = xrealloc(st->scratch, st->scratch_cap * sizeof *st->scratch);
	}
	return st->scratch;
}

static int la_read(struct tstore *st, uint32_t txn, struct tmop *m, json_t *value, char *err,
		   size_t errlen)
{
	(void)err;
	(void)errlen;
	size_t n = json_array_size(value);
	atom_t *a = scratch(st, n);
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(value, i);
		json_int_t x;
		if (json_is_integer(e) && (x = json_integer_value(e)) >= -(INT64_C(1) << 62) &&
		    x < (INT64_C(1) << 62))
			a[i] = (atom_t)((uint64_t)x << 1);
		else
			a[i] = tstore_atom(st, e);
	}
	m->len = (uint32_t)n;
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

static struct kst *kst_find(struct la_state *s, size_t *nks, uint32_t key)
{
	for (size_t i = 0; i < *nks; i++)
		if (s->ks[i].key == key)
			return &s->ks[i];
	if (*nks == s->ks_cap) {
		size_t old = s->ks_cap;
		s->ks_cap = s->ks_cap ? s->ks_cap * 2 : 8;
		s->ks = xrealloc(s->ks, s->ks_cap * sizeof *s->ks);
		memset(s->ks + old, 0, (s->ks_cap - old) * sizeof *s->ks);
	}
	struct kst *k = &s->ks[(*nks)++];
	k->key = key;
	k->state = 0;
	k->n = 0;
	k->first_read = TXN_NONE;
	k->appended = false;
	return k;
}

static void kst_set(struct kst *k, const atom_t *a, uint32_t n)
{
	if (n > k->cap) {
		k->cap = n * 2;
		k->e = xrealloc(k->e, k->cap * sizeof *k->e);
	}
	if (n)
		memcpy(k->e, a, n * sizeof *a);
	k->n = n;
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

/* One committed txn: internal consistency, future reads, lost-update
 * candidates. */
static void la_txn_done(struct tstore *st, uint32_t txn, json_t *value)
{
	(void)value;
	const struct ttxn *t = &st->txns[txn];
	if (t->type != TT_OK)
		return;
	struct la_state *s = la(st);
	size_t nks = 0;
	bool internal = false, future = false;
	for (uint32_t i = 0; i < t->n_mops; i++) {
		uint32_t mi = t->mop_off + i;
		const struct tmop *m = &st->mops[mi];
		struct kst *k = kst_find(s, &nks, m->key);
		if (m->f == MOP_APPEND) {
			if (!k->appended && k->first_read != TXN_NONE) {
				const struct tmop *r = &st->mops[k->first_read];
				if (s->n_cand == s->cap_cand) {
					s->cap_cand = s->cap_cand ? s->cap_cand * 2 : 1024;
					s->cand = xrealloc(s->cand, s->cap_cand * sizeof *s->cand);
				}
				s->cand[s->n_cand++] = (struct la_cand){
					m->key, r->len, list_hash(la_elems(st, r), r->len), txn,
					k->first_read};
			}
			k->appended = true;
			/* Did an earlier read of this txn already show this element? */
			for (uint32_t j = 0; j < i && !future; j++) {
				const struct tmop *r = &st->mops[t->mop_off + j];
				if (r->f == MOP_READ && r->key == m->key && r->len &&
				    contains(la_elems(st, r), r->len, m->v)) {
					future = true;
					tstore_case(st, &(struct tcase){.kind = K_FUTURE_READ,
									.txn = {txn, TXN_NONE},
									.key = m->key,
									.mop = t->mop_off + j,
									.list = TXN_NONE,
									.v = m->v});
				}
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
		if (k->first_read == TXN_NONE && !k->appended)
			k->first_read = mi;
		if (!internal && k->state) {
			bool bad = k->state == 1
					   ? rn != k->n || (rn && memcmp(r, k->e, rn * sizeof *r))
					   : rn < k->n ||
						     (k->n && memcmp(r + rn - k->n, k->e, k->n * sizeof *r));
			if (bad) {
				internal = true;
				tstore_case(st, &(struct tcase){.kind = K_INTERNAL,
								.flag = k->state == 2,
								.txn = {txn, TXN_NONE},
								.key = m->key,
								.mop = mi,
								.list = tstore_list_add(st, k->e, k->n)});
			}
		}
		k->state = 1;
		kst_set(k, r, rn);
	}
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
	uint32_t w = tmap_get(&st->wmap, v, key);
	return w == TXN_NONE ? TXN_NONE : st->mops[w].txn;
}

/* Reads (live txns; an ok txn's nil read reads the empty list) and live
 * appends, grouped by key. */
struct bykey {
	uint32_t *off;
	uint32_t *mop;
};

static void group(struct tstore *st, struct bykey *reads, struct bykey *apps)
{
	uint32_t nk = st->n_keys;
	reads->off = xcalloc(nk + 2, sizeof *reads->off);
	apps->off = xcalloc(nk + 2, sizeof *apps->off);
	for (size_t i = 0; i < st->n_mops; i++) {
		const struct tmop *m = &st->mops[i];
		const struct ttxn *t = &st->txns[m->txn];
		if (!txn_live(t))
			continue;
		if (m->f == MOP_READ && !(m->flags & MOPF_NIL && t->type != TT_OK))
			reads->off[m->key + 2]++;
		else if (m->f == MOP_APPEND)
			apps->off[m->key + 2]++;
	}
	for (uint32_t k = 0; k < nk; k++) {
		reads->off[k + 2] += reads->off[k + 1];
		apps->off[k + 2] += apps->off[k + 1];
	}
	reads->mop = xmalloc((reads->off[nk + 1] + 1) * sizeof *reads->mop);
	apps->mop = xmalloc((apps->off[nk + 1] + 1) * sizeof *apps->mop);
	for (size_t i = 0; i < st->n_mops; i++) {
		const struct tmop *m = &st->mops[i];
		const struct ttxn *t = &st->txns[m->txn];
		if (!txn_live(t))
			continue;
		if (m->f == MOP_READ && !(m->flags & MOPF_NIL && t->type != TT_OK))
			reads->mop[reads->off[m->key + 1]++] = (uint32_t)i;
		else if (m->f == MOP_APPEND)
			apps->mop[apps->off[m->key + 1]++] = (uint32_t)i;
	}
}

/* Where a read's last element sits in its key's order (-1: the empty list,
 * -2: not in the order). */
static int64_t read_pos(const struct tstore *st, const struct la_state *s, const struct tmop *m,
			bool simple)
{
	if (m->len == 0 || m->flags & MOPF_NIL)
		return -1;
	if (simple && !(m->flags & MOPF_STORED))
		return (int64_t)m->len - 1;
	uint32_t w = tmap_get(&st->wmap, m->v, m->key);
	uint32_t p = w != TXN_NONE ? st->mops[w].aux : tmap_get(&s->gpos, m->v, m->key);
	return p == TXN_NONE ? -2 : (int64_t)p;
}

static void key_dirty_updates(struct tstore *st, uint32_t key, const atom_t *v, uint32_t n)
{
	/* Elle's walk: t1 is the last writer that settled the state (ok, or
	 * failed after a non-failed one), start where its values begin; an
	 * ok writer after a failed t1 is a dirty update. */
	int t1 = TT_OK;
	uint32_t t1_txn = TXN_NONE, start = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t w = writer_txn(st, v[i], key);
		if (w == TXN_NONE)
			continue;
		int t2 = st->txns[w].type == TT_OPEN ? TT_INFO : st->txns[w].type;
		if (t1 == TT_FAIL && t2 == TT_OK)
			tstore_case(st, &(struct tcase){.kind = K_DIRTY_UPDATE,
							.txn = {t1_txn, w},
							.key = key,
							.mop = TXN_NONE,
							.list = tstore_list_add(st, v + start, i - start + 1)});
		if (t2 == TT_OK || (t2 == TT_FAIL && t1 != TT_FAIL)) {
			t1 = t2;
			t1_txn = w;
			start = i;
		}
	}
}

static void la_analyze(struct tstore *st, struct tedges *out)
{
	struct la_state *s = la(st);
	uint32_t nk = st->n_keys;
	s->vlist = xcalloc(nk ? nk : 1, sizeof *s->vlist);
	s->vlen = xcalloc(nk ? nk : 1, sizeof *s->vlen);
	struct bykey rd, ap;
	group(st, &rd, &ap);
	uint32_t *wpos = NULL; /* writer txn per position of the order */
	size_t wcap = 0;
	uint32_t *failpos = NULL;
	size_t fcap = 0;

	for (uint32_t k = 0; k < nk; k++) {
		struct tkey *key = &st->keys[k];
		/* The order: the longest read (normally the one every read is
		 * a prefix of). */
		const atom_t *V = key->list;
		uint32_t vn = key->len;
		for (uint32_t r = rd.off[k]; key->incompat && r < rd.off[k + 1]; r++) {
			const struct tmop *m = &st->mops[rd.mop[r]];
			if (m->flags & MOPF_STORED && m->len > vn) {
				V = st->lists[m->aux].a;
				vn = m->len;
			}
		}
		/* Positions of its distinct elements, on their append micro-ops. */
		atom_t *dv = NULL;
		uint32_t dn = 0, vdup = vn; /* vdup: first repeated position */
		bool dups = false;
		if (vn > wcap) {
			wcap = vn * 2;
			wpos = xrealloc(wpos, wcap * sizeof *wpos);
		}
		for (uint32_t i = 0; i < vn; i++) {
			uint32_t w = tmap_get(&st->wmap, V[i], k);
			bool seen = w != TXN_NONE ? st->mops[w].aux != TXN_NONE
						  : tmap_get(&s->gpos, V[i], k) != TXN_NONE;
			if (seen) {
				if (!dups) {
					dups = true;
					vdup = i;
					dv = xmalloc(vn * sizeof *dv);
					memcpy(dv, V, i * sizeof *dv);
				}
				continue;
			}
			if (w != TXN_NONE)
				st->mops[w].aux = dn;
			else
				tmap_put(&s->gpos, V[i], k, dn);
			if (dups)
				dv[dn] = V[i];
			wpos[dn++] = w != TXN_NONE ? st->mops[w].txn : TXN_NONE;
		}
		const atom_t *D = dups ? dv : V;
		if (dups || V != key->list) {
			s->vlist[k] = xmalloc((dn ? dn : 1) * sizeof **s->vlist);
			memcpy(s->vlist[k], D, dn * sizeof *D);
		}
		s->vlen[k] = dn;
		free(dv);
		D = s->vlist[k] ? s->vlist[k] : key->list;
		bool simple = !dups && V == key->list;

		/* ww along the order */
		for (uint32_t i = 1; i < dn; i++) {
			uint32_t a = wpos[i - 1], b = wpos[i];
			if (a != TXN_NONE && b != TXN_NONE && txn_live(&st->txns[a]) &&
			    txn_live(&st->txns[b]))
				tedges_add(out, a, b, EDGE_WW);
		}
		key_dirty_updates(st, k, D, dn);

		/* G1a and duplicates among the reads that are prefixes of
		 * key->list: by position. */
		uint32_t ln = key->len;
		if (ln + 1 > fcap) {
			fcap = (ln + 1) * 2;
			failpos = xrealloc(failpos, fcap * sizeof *failpos);
		}
		uint32_t nfail = 0;
		for (uint32_t i = 0; i < ln; i++) {
			uint32_t w = writer_txn(st, key->list[i], k);
			if (w != TXN_NONE && st->txns[w].type == TT_FAIL)
				failpos[nfail++] = i;
		}
		uint32_t ldup = V == key->list ? vdup : first_dup(key->list, ln);
		if (key->incompat)
			tstore_case(st, &(struct tcase){.kind = K_INCOMPAT_ORDER,
							.txn = {st->mops[key->incompat_mop].txn,
								TXN_NONE},
							.key = k,
							.mop = key->incompat_mop,
							.list = TXN_NONE,
							.n = key->incompat_len});

		/* Unobserved appends: never shown by a read. */
		uint32_t last = dn ? wpos[dn - 1] : TXN_NONE;
		bool last_live = last != TXN_NONE && txn_live(&st->txns[last]);
		uint32_t n_unobs = 0;
		for (uint32_t a = ap.off[k]; a < ap.off[k + 1]; a++) {
			const struct tmop *m = &st->mops[ap.mop[a]];
			if (m->aux != TXN_NONE)
				continue;
			n_unobs++;
			if (last_live)
				tedges_add(out, last, m->txn, EDGE_WW);
		}

		for (uint32_t r = rd.off[k]; r < rd.off[k + 1]; r++) {
			uint32_t mi = rd.mop[r];
			const struct tmop *m = &st->mops[mi];
			uint32_t reader = m->txn;
			bool ok = st->txns[reader].type == TT_OK;
			uint32_t len = m->flags & MOPF_NIL ? 0 : m->len;
			if (m->flags & MOPF_STORED) {
				const atom_t *e = st->lists[m->aux].a;
				for (uint32_t i = 0; ok && i < len; i++) {
					uint32_t w = writer_txn(st, e[i], k);
					if (w != TXN_NONE && st->txns[w].type == TT_FAIL)
						tstore_case(st, &(struct tcase){.kind = K_G1A,
										.txn = {reader, w},
										.key = k,
										.mop = mi,
										.list = TXN_NONE,
										.v = e[i]});
				}
				if (first_dup(e, len) < len)
					tstore_case(st, &(struct tcase){.kind = K_DUPLICATES,
									.txn = {reader, TXN_NONE},
									.key = k,
									.mop = mi,
									.list = TXN_NONE});
			} else {
				for (uint32_t f = 0; ok && f < nfail && failpos[f] < len; f++)
					tstore_case(st, &(struct tcase){
								.kind = K_G1A,
								.txn = {reader, writer_txn(st, key->list[failpos[f]], k)},
								.key = k,
								.mop = mi,
								.list = TXN_NONE,
								.v = key->list[failpos[f]]});
				if (len > ldup)
					tstore_case(st, &(struct tcase){.kind = K_DUPLICATES,
									.txn = {reader, TXN_NONE},
									.key = k,
									.mop = mi,
									.list = TXN_NONE});
			}
			if (len) {
				uint32_t wm = tmap_get(&st->wmap, m->v, k);
				if (wm != TXN_NONE) {
					uint32_t w = st->mops[wm].txn;
					if (ok && w != reader && st->mops[wm].flags & MOPF_INTERM)
						tstore_case(st, &(struct tcase){.kind = K_G1B,
										.txn = {reader, w},
										.key = k,
										.mop = mi,
										.list = TXN_NONE,
										.v = m->v});
					if (w != reader && txn_live(&st->txns[w]))
						tedges_add(out, w, reader, EDGE_WR);
				}
			}
			int64_t p = read_pos(st, s, m, simple);
			if (p == -2)
				continue;
			if (p + 1 < (int64_t)dn) {
				uint32_t b = wpos[p + 1];
				if (b != TXN_NONE && b != reader && txn_live(&st->txns[b]))
					tedges_add(out, reader, b, EDGE_RW);
			} else if (n_unobs) {
				for (uint32_t a = ap.off[k]; a < ap.off[k + 1]; a++) {
					const struct tmop *u = &st->mops[ap.mop[a]];
					if (u->aux == TXN_NONE && u->txn != reader)
						tedges_add(out, reader, u->txn, EDGE_RW);
				}
			}
		}
	}
	lost_updates(st, s);
	free(wpos);
	free(failpos);
	free(rd.off);
	free(rd.mop);
	free(ap.off);
	free(ap.mop);
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
		int64_t p = read_pos(st, s, r, false);
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
