/*
 * txn_register.c - the rw-register model of the transaction checker
 * (Elle's rw-register): micro-ops ["w", k, v] (v unique per key, blind
 * writes allowed) and ["r", k, v] (nil: the initial state).
 *
 * A read names the write it saw, so wr edges are direct: the transaction
 * whose final write of k was v -> each transaction whose external read
 * (first access to k) saw v. Unlike list-append, nothing records the
 * order of writes; the version order of each key is a graph inferred from
 * the sources Elle uses, each added only if the key's version graph stays
 * acyclic (else the source is dropped for that key and a cyclic-versions
 * anomaly names the key, the values on the cycle and the sources):
 *
 *   initial-state       nil precedes every value read or written
 *   wfr-keys            (default on) a transaction that read v and then
 *                       wrote v' of the same key: v precedes v'
 *   sequential-keys     (off; checker_opts.elle.sequential_keys) each key
 *                       is sequentially consistent: along each process, the
 *                       last value a transaction saw or left precedes the
 *                       first value the next one touching the key saw
 *   linearizable-keys   (off; checker_opts.elle.linearizable_keys) each key
 *                       is linearizable: the same along real time
 *
 * Each version edge v1 -> v2 of key k gives ww (writer of v1 -> writer of
 * v2) and rw (every external reader of v1 -> writer of v2). Also found:
 * G1a (an ok read of a failed write), G1b (an ok read of a write its
 * transaction overwrote), internal (a read disagreeing with the
 * transaction's own earlier read or write of the key) and lost-update (two
 * committed transactions read the same value of a key and both wrote it).
 * Unlike Elle, writes of info transactions count for wr edges too: a write
 * someone read was committed.
 */
#include "txn.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

#define SRC_INIT 0
#define SRC_WFR 1
#define SRC_SEQ 2
#define SRC_LIN 3
static const char *const src_names[] = {"initial-state", "wfr-keys", "sequential-keys",
					"linearizable-keys"};

struct vedge {
	uint32_t key;
	uint8_t src;
	atom_t a, b;
};

struct rcand {
	uint32_t key;
	atom_t v;
	uint32_t txn, mop;
};

struct rr_state {
	struct rcand *cand;
	size_t n_cand, cap_cand;
	struct vedge *ve; /* accepted version edges, sorted by (key, a, b) */
	size_t n_ve;
};

static struct rr_state *rr(struct tstore *st)
{
	if (!st->mstate)
		st->mstate = xcalloc(1, sizeof(struct rr_state));
	return st->mstate;
}

static int rr_read(struct tstore *st, uint32_t txn, struct tmop *m, const atom_t *a, uint32_t n,
		   char *err, size_t errlen)
{
	(void)st;
	(void)txn;
	(void)n;
	(void)err;
	(void)errlen;
	m->v = a[0];
	return 0;
}

static json_t *rr_read_json(struct tstore *st, const struct tmop *m)
{
	return tstore_atom_json(st, m->v);
}

/* A key's state inside one transaction. */
struct rk {
	uint32_t key;
	const struct tmop *last;       /* the last micro-op on it so far */
	const struct tmop *first_read; /* its read before any write */
	bool wrote;
};

static void rr_txn_done(struct tstore *st, uint32_t txn)
{
	const struct ttxn *t = &st->txns[txn];
	if (t->type != TT_OK)
		return;
	struct rr_state *s = rr(st);
	const struct tmop *ms = &st->mops[t->mop_off];
	struct rk small[16], *ks = t->n_mops <= 16 ? small : xmalloc(t->n_mops * sizeof *ks);
	struct tmap idx = {0}; /* key -> ks slot, for big txns */
	uint32_t nks = 0;
	bool internal = false;
	for (uint32_t i = 0; i < t->n_mops; i++) {
		const struct tmop *m = &ms[i];
		uint32_t slot = TXN_NONE;
		if (t->n_mops <= 16) {
			for (uint32_t j = 0; j < nks; j++)
				if (ks[j].key == m->key)
					slot = j;
		} else {
			slot = tmap_get(&idx, m->key, 0);
		}
		if (slot == TXN_NONE) {
			slot = nks++;
			ks[slot] = (struct rk){m->key, NULL, NULL, false};
			if (t->n_mops > 16)
				tmap_put(&idx, m->key, 0, slot);
		}
		struct rk *k = &ks[slot];
		if (m->f == MOP_READ) {
			if (!internal && k->last && k->last->v != m->v) {
				internal = true;
				tstore_case(st, &(struct tcase){.kind = K_INTERNAL,
								.txn = {txn, TXN_NONE},
								.key = m->key,
								.mop = t->mop_off + i,
								.list = TXN_NONE,
								.v = k->last->v});
			}
			if (!k->first_read && !k->wrote)
				k->first_read = m;
		} else {
			if (!k->wrote && k->first_read) {
				if (s->n_cand == s->cap_cand) {
					s->cap_cand = s->cap_cand ? s->cap_cand * 2 : 1024;
					s->cand = xrealloc(s->cand, s->cap_cand * sizeof *s->cand);
				}
				s->cand[s->n_cand++] = (struct rcand){
					m->key, k->first_read->v, txn,
					(uint32_t)(k->first_read - st->mops)};
			}
			k->wrote = true;
		}
		k->last = m;
	}
	if (ks != small)
		free(ks);
	tmap_free(&idx);
}

/* The txn's external read and final write of key (ATOM_NIL read, or no
 * such mop: *has false). */
static void txn_ext(const struct tstore *st, uint32_t txn, uint32_t key, bool *hr, atom_t *r,
		    bool *hw, atom_t *w)
{
	const struct ttxn *t = &st->txns[txn];
	*hr = *hw = false;
	for (uint32_t i = 0; i < t->n_mops; i++) {
		const struct tmop *m = &st->mops[t->mop_off + i];
		if (m->key != key || !(m->flags & MOPF_EXT))
			continue;
		if (m->f == MOP_READ) {
			*hr = true;
			*r = m->v;
		} else {
			*hw = true;
			*w = m->v;
		}
	}
}

/* Does this txn take part in key's version order: an ok txn by an
 * external read or final write, an info txn by a final write? */
static bool first_last(const struct tstore *st, uint32_t txn, uint32_t key, atom_t *first,
		       atom_t *last)
{
	bool hr, hw;
	atom_t r = ATOM_NIL, w = ATOM_NIL;
	txn_ext(st, txn, key, &hr, &r, &hw, &w);
	if (st->txns[txn].type != TT_OK)
		hr = false;
	if (!hr && !hw)
		return false;
	*first = hr ? r : w;
	*last = hw ? w : r;
	return true;
}

/* ------------------------------------------------------ version graphs */

struct vbuf {
	struct vedge *e;
	size_t n, cap;
};

static void vadd(struct vbuf *b, uint32_t key, uint8_t src, atom_t a, atom_t v)
{
	if (a == v)
		return;
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 4096;
		b->e = xrealloc(b->e, b->cap * sizeof *b->e);
	}
	b->e[b->n++] = (struct vedge){key, src, a, v};
}

static int vedge_cmp(const void *x, const void *y)
{
	const struct vedge *p = x, *q = y;
	if (p->key != q->key)
		return p->key < q->key ? -1 : 1;
	if (p->src != q->src)
		return p->src < q->src ? -1 : 1;
	if (p->a != q->a)
		return p->a < q->a ? -1 : 1;
	return p->b < q->b ? -1 : p->b > q->b;
}

static int vedge_kab_cmp(const void *x, const void *y)
{
	const struct vedge *p = x, *q = y;
	if (p->key != q->key)
		return p->key < q->key ? -1 : 1;
	if (p->a != q->a)
		return p->a < q->a ? -1 : 1;
	return p->b < q->b ? -1 : p->b > q->b;
}

static void sources_sequential(struct tstore *st, struct vbuf *vb)
{
	uint32_t n = st->n_txns;
	uint8_t *has_pred = xcalloc(n ? n : 1, 1);
	for (uint32_t t = 0; t < n; t++)
		if (st->txns[t].type == TT_OK && st->txns[t].proc_next != TXN_NONE)
			has_pred[st->txns[t].proc_next] = 1;
	struct tmap last = {0}; /* (key, chain) -> last txn touching key */
	uint32_t chain = 0;
	for (uint32_t h = 0; h < n; h++) {
		if (st->txns[h].type != TT_OK || has_pred[h] || st->txns[h].process < 0)
			continue;
		for (uint32_t t = h; t != TXN_NONE; t = st->txns[t].proc_next) {
			const struct ttxn *tx = &st->txns[t];
			for (uint32_t i = 0; i < tx->n_mops; i++) {
				const struct tmop *m = &st->mops[tx->mop_off + i];
				if (!(m->flags & MOPF_EXT))
					continue;
				atom_t f2, l2, f1, l1;
				if (!first_last(st, t, m->key, &f2, &l2))
					continue;
				uint32_t prev = tmap_put(&last, m->key, chain, t);
				if (prev != TXN_NONE && prev != t &&
				    first_last(st, prev, m->key, &f1, &l1))
					vadd(vb, m->key, SRC_SEQ, l1, f2);
			}
		}
		chain++;
	}
	tmap_free(&last);
	free(has_pred);
}

struct kev { /* a txn touching a key, as two events in history order */
	int64_t pos;
	uint32_t txn;
	uint8_t complete;
};

static int kev_cmp(const void *x, const void *y)
{
	const struct kev *p = x, *q = y;
	return p->pos < q->pos ? -1 : p->pos > q->pos;
}

static void sources_linearizable(struct tstore *st, struct vbuf *vb)
{
	/* txns touching each key (ext mops), grouped by key */
	uint32_t nk = st->n_keys;
	uint32_t *off = xcalloc((size_t)nk + 2, sizeof *off);
	for (size_t i = 0; i < st->n_mops; i++) {
		const struct tmop *m = &st->mops[i];
		atom_t f, l;
		if (m->flags & MOPF_EXT && txn_live(&st->txns[m->txn]) &&
		    (m->f == MOP_WRITE || st->txns[m->txn].type == TT_OK))
			off[m->key + 2] += first_last(st, m->txn, m->key, &f, &l);
	}
	for (uint32_t k = 0; k < nk; k++)
		off[k + 2] += off[k + 1];
	uint32_t *tx = xmalloc(((size_t)off[nk + 1] + 1) * sizeof *tx);
	for (size_t i = 0; i < st->n_mops; i++) {
		const struct tmop *m = &st->mops[i];
		atom_t f, l;
		if (m->flags & MOPF_EXT && txn_live(&st->txns[m->txn]) &&
		    (m->f == MOP_WRITE || st->txns[m->txn].type == TT_OK) &&
		    first_last(st, m->txn, m->key, &f, &l))
			tx[off[m->key + 1]++] = m->txn;
	}
	struct kev *ev = NULL;
	size_t evcap = 0;
	uint32_t *buf = NULL, *preds = NULL;
	size_t bcap = 0, pcap = 0;
	struct tmap pidx = {0}; /* txn -> (start in preds) */
	for (uint32_t k = 0; k < nk; k++) {
		uint32_t lo = off[k], hi = off[k + 1];
		/* a txn with both an ext read and a write of k appears twice */
		size_t ne = 0;
		if (2 * (size_t)(hi - lo) > evcap) {
			evcap = 2 * (size_t)(hi - lo) * 2;
			ev = xrealloc(ev, evcap * sizeof *ev);
		}
		for (uint32_t i = lo; i < hi; i++) {
			uint32_t t = tx[i];
			if (i > lo && tx[i - 1] == t)
				continue;
			ev[ne++] = (struct kev){st->txns[t].inv_index, t, 0};
			if (st->txns[t].type == TT_OK)
				ev[ne++] = (struct kev){st->txns[t].index, t, 1};
		}
		if (ne)
			qsort(ev, ne, sizeof *ev, kev_cmp);
		size_t nb = 0, np = 0;
		tmap_free(&pidx);
		for (size_t e = 0; e < ne; e++) {
			uint32_t t = ev[e].txn;
			atom_t f2, l2, f1, l1;
			if (!ev[e].complete) {
				/* every buffered completion precedes t */
				if (np + nb + 1 > pcap) {
					pcap = (np + nb + 1) * 2;
					preds = xrealloc(preds, pcap * sizeof *preds);
				}
				tmap_put(&pidx, t, 0, (uint32_t)np);
				preds[np++] = (uint32_t)nb;
				for (size_t b = 0; b < nb; b++) {
					preds[np++] = buf[b];
					if (first_last(st, buf[b], k, &f1, &l1) &&
					    first_last(st, t, k, &f2, &l2))
						vadd(vb, k, SRC_LIN, l1, f2);
				}
				continue;
			}
			/* t completed: what preceded it is implied by it */
			uint32_t p = tmap_get(&pidx, t, 0);
			if (p != TXN_NONE) {
				uint32_t cnt = preds[p];
				for (uint32_t x = 0; x < cnt; x++) {
					uint32_t gone = preds[p + 1 + x];
					for (size_t b = 0; b < nb; b++)
						if (buf[b] == gone) {
							buf[b] = buf[--nb];
							break;
						}
				}
			}
			if (nb + 1 > bcap) {
				bcap = (nb + 1) * 2;
				buf = xrealloc(buf, bcap * sizeof *buf);
			}
			buf[nb++] = t;
		}
	}
	tmap_free(&pidx);
	free(ev);
	free(buf);
	free(preds);
	free(tx);
	free(off);
}

/* Does this key's version graph (edges e[0..n)) have a cycle? If so the
 * values of one cyclic component go to *cyc (caller frees). */
static bool vcyclic(const struct vedge *e, size_t n, atom_t **cyc, uint32_t *ncyc)
{
	/* number the vertices */
	atom_t *vs = xmalloc((2 * n + 1) * sizeof *vs);
	size_t nv = 0;
	for (size_t i = 0; i < n; i++) {
		vs[nv++] = e[i].a;
		vs[nv++] = e[i].b;
	}
	struct tmap id = {0};
	size_t u = 0;
	for (size_t i = 0; i < nv; i++)
		if (tmap_get(&id, vs[i], 0) == TXN_NONE) {
			tmap_put(&id, vs[i], 0, (uint32_t)u);
			vs[u++] = vs[i];
		}
	nv = u;
	uint32_t *off = xcalloc(nv + 2, sizeof *off), *to = xmalloc((n + 1) * sizeof *to);
	for (size_t i = 0; i < n; i++)
		off[tmap_get(&id, e[i].a, 0) + 2]++;
	for (size_t i = 0; i < nv; i++)
		off[i + 2] += off[i + 1];
	for (size_t i = 0; i < n; i++)
		to[off[tmap_get(&id, e[i].a, 0) + 1]++] = tmap_get(&id, e[i].b, 0);
	/* iterative Tarjan */
	uint32_t *idx = xcalloc(nv + 1, sizeof *idx), *low = xmalloc((nv + 1) * sizeof *low);
	uint32_t *comp = xmalloc((nv + 1) * sizeof *comp), *stk = xmalloc((nv + 1) * sizeof *stk);
	uint32_t *fu = xmalloc((nv + 1) * sizeof *fu), *fe = xmalloc((nv + 1) * sizeof *fe);
	for (size_t i = 0; i < nv; i++)
		comp[i] = TXN_NONE;
	uint32_t counter = 0, nc = 0;
	bool found = false;
	size_t sp = 0, fp = 0;
	for (uint32_t r = 0; r < nv && !found; r++) {
		if (idx[r])
			continue;
		idx[r] = low[r] = ++counter;
		stk[sp++] = r;
		fu[fp] = r;
		fe[fp++] = off[r];
		while (fp && !found) {
			uint32_t x = fu[fp - 1];
			if (fe[fp - 1] < off[x + 1]) {
				uint32_t y = to[fe[fp - 1]++];
				if (!idx[y]) {
					idx[y] = low[y] = ++counter;
					stk[sp++] = y;
					fu[fp] = y;
					fe[fp++] = off[y];
				} else if (comp[y] == TXN_NONE && idx[y] < low[x]) {
					low[x] = idx[y];
				}
				continue;
			}
			fp--;
			if (low[x] == idx[x]) {
				size_t start = sp;
				do
					start--;
				while (stk[start] != x);
				if (sp - start > 1) {
					found = true;
					*ncyc = (uint32_t)(sp - start);
					*cyc = xmalloc(*ncyc * sizeof **cyc);
					for (size_t i = start; i < sp; i++)
						(*cyc)[i - start] = vs[stk[i]];
				}
				for (size_t i = start; i < sp; i++)
					comp[stk[i]] = nc;
				sp = start;
				nc++;
			}
			if (fp && low[x] < low[fu[fp - 1]])
				low[fu[fp - 1]] = low[x];
		}
	}
	free(idx);
	free(low);
	free(comp);
	free(stk);
	free(fu);
	free(fe);
	free(off);
	free(to);
	free(vs);
	tmap_free(&id);
	return found;
}

/* Accept each key's sources in order, dropping one that makes it cyclic. */
static void accept_versions(struct tstore *st, struct rr_state *s, struct vbuf *vb)
{
	if (vb->n)
		qsort(vb->e, vb->n, sizeof *vb->e, vedge_cmp);
	struct vbuf acc = {0};
	for (size_t i = 0; i < vb->n;) {
		uint32_t key = vb->e[i].key;
		size_t j = i;
		while (j < vb->n && vb->e[j].key == key)
			j++;
		size_t kstart = acc.n;
		uint8_t used = 0;
		for (size_t x = i; x < j;) {
			uint8_t src = vb->e[x].src;
			size_t y = x;
			while (y < j && vb->e[y].src == src)
				y++;
			size_t before = acc.n;
			for (size_t z = x; z < y; z++)
				vadd(&acc, key, src, vb->e[z].a, vb->e[z].b);
			atom_t *cyc = NULL;
			uint32_t ncyc = 0;
			if (src != SRC_INIT && vcyclic(acc.e + kstart, acc.n - kstart, &cyc, &ncyc)) {
				acc.n = before;
				uint32_t l = tstore_list_add(st, cyc, ncyc);
				free(cyc);
				tstore_case(st, &(struct tcase){.kind = K_CYCLIC_VERSIONS,
								.flag = (uint8_t)(used | 1u << src),
								.txn = {TXN_NONE, TXN_NONE},
								.key = key,
								.mop = TXN_NONE,
								.list = l});
			} else {
				used |= (uint8_t)(1u << src);
			}
			x = y;
		}
		i = j;
	}
	free(vb->e);
	/* dedupe by (key, a, b) */
	if (acc.n)
		qsort(acc.e, acc.n, sizeof *acc.e, vedge_kab_cmp);
	size_t w = 0;
	for (size_t i = 0; i < acc.n; i++)
		if (!w || vedge_kab_cmp(&acc.e[w - 1], &acc.e[i]))
			acc.e[w++] = acc.e[i];
	s->ve = acc.e;
	s->n_ve = w;
}

/* ------------------------------------------------------------ analysis */

struct rd {
	uint32_t key;
	atom_t v;
	uint32_t txn;
};

static int rd_cmp(const void *x, const void *y)
{
	const struct rd *p = x, *q = y;
	if (p->key != q->key)
		return p->key < q->key ? -1 : 1;
	if (p->v != q->v)
		return p->v < q->v ? -1 : 1;
	return p->txn < q->txn ? -1 : p->txn > q->txn;
}

static int rcand_cmp(const void *x, const void *y)
{
	const struct rcand *p = x, *q = y;
	if (p->key != q->key)
		return p->key < q->key ? -1 : 1;
	if (p->v != q->v)
		return p->v < q->v ? -1 : 1;
	return p->txn < q->txn ? -1 : p->txn > q->txn;
}

/* The live txn whose final write of key was v, or TXN_NONE. */
static uint32_t ext_writer(const struct tstore *st, atom_t v, uint32_t key)
{
	if (v == ATOM_NIL)
		return TXN_NONE;
	uint32_t w = tstore_writer(st, v, key);
	if (w == TXN_NONE || !(st->mops[w].flags & MOPF_EXT) || !txn_live(&st->txns[st->mops[w].txn]))
		return TXN_NONE;
	return st->mops[w].txn;
}

static void rr_analyze(struct tstore *st, struct tedges *out)
{
	struct rr_state *s = rr(st);
	struct vbuf vb = {0};
	struct rd *reads = NULL;
	size_t nr = 0, rcap = 0;
	for (size_t i = 0; i < st->n_mops; i++) {
		const struct tmop *m = &st->mops[i];
		const struct ttxn *t = &st->txns[m->txn];
		if (m->f == MOP_WRITE) {
			if (m->flags & MOPF_EXT && txn_live(t)) {
				vadd(&vb, m->key, SRC_INIT, ATOM_NIL, m->v);
			}
			continue;
		}
		if (t->type != TT_OK)
			continue;
		if (m->v != ATOM_NIL) {
			uint32_t wm = tstore_writer(st, m->v, m->key);
			uint32_t w = wm == TXN_NONE ? TXN_NONE : st->mops[wm].txn;
			if (w != TXN_NONE && st->txns[w].type == TT_FAIL)
				tstore_case(st, &(struct tcase){.kind = K_G1A,
								.txn = {m->txn, w},
								.key = m->key,
								.mop = (uint32_t)i,
								.list = TXN_NONE,
								.v = m->v});
			else if (w != TXN_NONE && w != m->txn && st->mops[wm].flags & MOPF_INTERM)
				tstore_case(st, &(struct tcase){.kind = K_G1B,
								.txn = {m->txn, w},
								.key = m->key,
								.mop = (uint32_t)i,
								.list = TXN_NONE,
								.v = m->v});
		}
		if (!(m->flags & MOPF_EXT))
			continue;
		if (m->v != ATOM_NIL) {
			vadd(&vb, m->key, SRC_INIT, ATOM_NIL, m->v);
			uint32_t w = ext_writer(st, m->v, m->key);
			if (w != TXN_NONE && w != m->txn)
				tedges_add(out, w, m->txn, EDGE_WR);
		}
		if (nr == rcap) {
			rcap = rcap ? rcap * 2 : 4096;
			reads = xrealloc(reads, rcap * sizeof *reads);
		}
		reads[nr++] = (struct rd){m->key, m->v, m->txn};
		if (st->wfr_keys && m->v != ATOM_NIL) {
			bool hr, hw;
			atom_t r, w;
			txn_ext(st, m->txn, m->key, &hr, &r, &hw, &w);
			if (hw)
				vadd(&vb, m->key, SRC_WFR, m->v, w);
		}
	}
	if (st->sequential_keys)
		sources_sequential(st, &vb);
	if (st->linearizable_keys)
		sources_linearizable(st, &vb);
	accept_versions(st, s, &vb);

	/* the txn edges of each version edge */
	if (nr)
		qsort(reads, nr, sizeof *reads, rd_cmp);
	for (size_t i = 0; i < s->n_ve; i++) {
		const struct vedge *e = &s->ve[i];
		uint32_t w2 = ext_writer(st, e->b, e->key);
		if (w2 == TXN_NONE)
			continue;
		uint32_t w1 = ext_writer(st, e->a, e->key);
		if (w1 != TXN_NONE)
			tedges_add(out, w1, w2, EDGE_WW);
		struct rd probe = {e->key, e->a, 0};
		size_t lo = 0, hi = nr;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (rd_cmp(&reads[mid], &probe) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < nr && reads[lo].key == e->key && reads[lo].v == e->a; lo++)
			tedges_add(out, reads[lo].txn, w2, EDGE_RW);
	}
	free(reads);

	if (s->n_cand)
		qsort(s->cand, s->n_cand, sizeof *s->cand, rcand_cmp);
	for (size_t i = 0; i < s->n_cand;) {
		size_t j = i + 1;
		while (j < s->n_cand && s->cand[j].key == s->cand[i].key &&
		       s->cand[j].v == s->cand[i].v)
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
							.v = s->cand[i].v,
							.steps = steps,
							.n_steps = n});
			free(steps);
		}
		i = j;
	}
}

static bool has_vedge(const struct rr_state *s, uint32_t key, atom_t a, atom_t b)
{
	struct vedge probe = {key, 0, a, b};
	return s->n_ve && bsearch(&probe, s->ve, s->n_ve, sizeof *s->ve, vedge_kab_cmp) != NULL;
}

static bool rr_explain(struct tstore *st, uint32_t a, uint32_t b, uint8_t type,
		       struct texpl *out)
{
	struct rr_state *s = rr(st);
	const struct ttxn *ta = &st->txns[a], *tb = &st->txns[b];
	memset(out, 0, sizeof *out);
	for (uint32_t j = 0; j < tb->n_mops; j++) {
		const struct tmop *m = &st->mops[tb->mop_off + j];
		if (!(m->flags & MOPF_EXT))
			continue;
		if (type == EDGE_WR) {
			if (m->f == MOP_READ && ext_writer(st, m->v, m->key) == a) {
				out->key = m->key;
				out->value = m->v;
				return true;
			}
			continue;
		}
		if (m->f != MOP_WRITE)
			continue;
		bool hr, hw;
		atom_t r = ATOM_NIL, w = ATOM_NIL;
		txn_ext(st, a, m->key, &hr, &r, &hw, &w);
		atom_t prev = type == EDGE_WW ? w : r;
		bool have = type == EDGE_WW ? hw : hr && ta->type == TT_OK;
		if (have && has_vedge(s, m->key, prev, m->v)) {
			out->key = m->key;
			out->value = m->v;
			out->prev = prev;
			out->prev_known = true;
			return true;
		}
	}
	return false;
}

static void rr_free(struct tstore *st)
{
	struct rr_state *s = st->mstate;
	if (!s)
		return;
	free(s->cand);
	free(s->ve);
	free(s);
	st->mstate = NULL;
}

const char *txn_version_source_name(int src)
{
	return src >= 0 && src < 4 ? src_names[src] : "?";
}

const struct txn_model txn_rw_register = {
	.name = "rw-register",
	.read = rr_read,
	.txn_done = rr_txn_done,
	.analyze = rr_analyze,
	.explain = rr_explain,
	.read_json = rr_read_json,
	.free = rr_free,
};
