/*
 * txn_graph.c - the transaction dependency graph and the graph algorithms
 * the cycle search needs (see txn.h).
 *
 * Data edges (ww, wr, rw) are a CSR array, one entry per (from, to) pair
 * with the kinds it carries as a bit mask; process and real-time edges are
 * implicit in the transactions (proc_next, [rt_lo, rt_hi)). Every
 * algorithm walks a view: a subset of the edge kinds, optionally only
 * inside one full strongly connected component, optionally layered - each
 * transaction split into "reached by a non-rw edge" (2t) and "reached by
 * an rw edge" (2t + 1), with no rw edge out of the second, so that the
 * cycles of the layered view are exactly the closed walks without two
 * consecutive rw edges (what snapshot isolation forbids).
 *
 *   tgraph_scc    Tarjan's algorithm, iterative (no recursion depth limit
 *                 on a million-vertex component)
 *   treach_*      "is there a path from a to b?" for many pairs: the
 *                 condensation gets three topological numberings (Tarjan's
 *                 own, and Kahn's with smallest and with largest vertex
 *                 first) and a longest-path level; a path needs all four
 *                 to increase, which answers most queries at once, and the
 *                 rest by a depth-first search that never leaves the box
 *                 the target's labels draw. Exact: no query is guessed.
 *   tbfs_path     breadth-first shortest path, for the cycles shown
 */
#include "txn.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

/* --------------------------------------------------------------- build */

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

void tgraph_build(struct tgraph *g, const struct tstore *st, struct tedges *es, uint8_t xmask)
{
	memset(g, 0, sizeof *g);
	uint32_t n = st->n_txns;
	g->n = n;
	g->txns = st->txns;
	g->xmask = xmask;
	uint32_t *off = xcalloc((size_t)n + 2, sizeof *off);
	for (size_t i = 0; i < es->n; i++)
		off[es->e[i].from + 2]++;
	for (uint32_t i = 0; i < n; i++)
		off[i + 2] += off[i + 1];
	/* (to << 8 | mask), grouped by from */
	uint64_t *packed = xmalloc((es->n ? es->n : 1) * sizeof *packed);
	for (size_t i = 0; i < es->n; i++) {
		const struct tedge *e = &es->e[i];
		packed[off[e->from + 1]++] = (uint64_t)e->to << 8 | e->mask;
	}
	free(es->e);
	es->e = NULL;
	es->n = es->cap = 0;
	/* sort each vertex's edges by target and merge duplicates */
	size_t w = 0;
	uint32_t start = 0;
	for (uint32_t u = 0; u < n; u++) {
		uint32_t end = off[u + 1];
		uint64_t *p = packed + start;
		uint32_t d = end - start;
		if (d > 16) {
			qsort(p, d, sizeof *p, u64_cmp);
		} else {
			for (uint32_t i = 1; i < d; i++)
				for (uint32_t j = i; j > 0 && p[j - 1] > p[j]; j--) {
					uint64_t x = p[j];
					p[j] = p[j - 1];
					p[j - 1] = x;
				}
		}
		off[u] = (uint32_t)w;
		for (uint32_t i = 0; i < d; i++) {
			uint64_t to = p[i] >> 8;
			uint8_t m = (uint8_t)(p[i] & 0xff);
			if (w > off[u] && packed[w - 1] >> 8 == to)
				packed[w - 1] |= m;
			else
				packed[w++] = p[i];
		}
		start = end;
	}
	off[n] = (uint32_t)w;
	g->off = xrealloc(off, ((size_t)n + 1) * sizeof *off);
	g->to = xmalloc((w ? w : 1) * sizeof *g->to);
	g->mask = xmalloc(w ? w : 1);
	for (size_t i = 0; i < w; i++) {
		g->to[i] = (uint32_t)(packed[i] >> 8);
		g->mask[i] = (uint8_t)(packed[i] & 0xff);
	}
	free(packed);
	g->n_edges = w;
	g->live = xmalloc(n ? n : 1);
	for (uint32_t u = 0; u < n; u++)
		g->live[u] = st->txns[u].type == TT_OK ? 1 : st->txns[u].type == TT_INFO ? 2 : 0;
	for (uint32_t u = 0; u < n; u++) {
		const struct ttxn *t = &st->txns[u];
		if (t->type != TT_OK)
			continue;
		if (xmask & EDGE_RT)
			for (uint32_t x = t->rt_lo; x < t->rt_hi; x++)
				g->n_rt += txn_live(&st->txns[x]);
		if (xmask & EDGE_PROC && t->proc_next != TXN_NONE)
			g->n_proc++;
	}
}

void tgraph_free(struct tgraph *g)
{
	free(g->off);
	free(g->to);
	free(g->mask);
	free(g->live);
	memset(g, 0, sizeof *g);
}

/* ------------------------------------------------------------ the view */

static inline __attribute__((always_inline)) bool next_edge(const struct tgraph *g,
							    const struct tview *v, uint32_t u,
							    uint64_t *cur, uint32_t *w,
							    uint8_t *type)
{
	uint32_t x = v->layered ? u >> 1 : u;
	uint32_t layer = v->layered ? u & 1 : 0;
	uint32_t wid = v->within ? v->within[x] : 0;
	uint32_t base = g->off[x];
	uint64_t slots = (uint64_t)(g->off[x + 1] - base) << (v->layered ? 1 : 0);
	uint64_t c = *cur;
	for (; c < slots; c++) {
		uint32_t e = base + (uint32_t)(v->layered ? c >> 1 : c);
		uint8_t m = g->mask[e] & v->mask;
		if (!m)
			continue;
		uint32_t y = g->to[e];
		if (v->within && v->within[y] != wid)
			continue;
		if (!v->layered) {
			*w = y;
			*type = m & (uint8_t)-m; /* ww before wr before rw */
			*cur = c + 1;
			return true;
		}
		if (!(c & 1)) {
			if (m & EDGE_D) {
				*w = 2 * y;
				*type = (m & EDGE_D) & (uint8_t)-(m & EDGE_D);
				*cur = c + 1;
				return true;
			}
		} else if (layer == 0 && m & EDGE_RW) {
			*w = 2 * y + 1;
			*type = EDGE_RW;
			*cur = c + 1;
			return true;
		}
	}
	if (g->live[x] != 1) {
		*cur = c;
		return false;
	}
	const struct ttxn *t = &g->txns[x];
	uint64_t rt_n = v->mask & EDGE_RT ? t->rt_hi - t->rt_lo : 0;
	for (; c < slots + rt_n; c++) {
		uint32_t y = t->rt_lo + (uint32_t)(c - slots);
		if (!g->live[y] || (v->within && v->within[y] != wid))
			continue;
		*w = v->layered ? 2 * y : y;
		*type = EDGE_RT;
		*cur = c + 1;
		return true;
	}
	if (c == slots + rt_n && v->mask & EDGE_PROC && t->proc_next != TXN_NONE) {
		uint32_t y = t->proc_next;
		*cur = c + 1;
		if (!v->within || v->within[y] == wid) {
			*w = v->layered ? 2 * y : y;
			*type = EDGE_PROC;
			return true;
		}
		return false;
	}
	*cur = c + 1;
	return false;
}

bool tgraph_next(const struct tgraph *g, const struct tview *v, uint32_t u, uint64_t *cur,
		 uint32_t *w, uint8_t *type)
{
	return next_edge(g, v, u, cur, w, type);
}

/* -------------------------------------------------------------- Tarjan */

struct frame {
	uint32_t u;
	uint64_t cur;
};

/* The whole graph (no layers, no component filter) is what the first
 * and largest pass sees: its edges are walked with their cursors kept in
 * the frame instead of next_edge's general view, in next_edge's order
 * (data edges, then real-time successors, then the process successor), so
 * components come out numbered the same. */
struct ffr {
	uint32_t u, e, e_end, y, y_end, proc;
};

static inline void ffr_init(const struct tgraph *g, uint8_t vm, struct ffr *f, uint32_t u)
{
	f->u = u;
	f->e = g->off[u];
	f->e_end = g->off[u + 1];
	f->y = f->y_end = 0;
	f->proc = TXN_NONE;
	if (g->live[u] != 1)
		return;
	const struct ttxn *t = &g->txns[u];
	if (vm & EDGE_RT) {
		f->y = t->rt_lo;
		f->y_end = t->rt_hi;
	}
	if (vm & EDGE_PROC)
		f->proc = t->proc_next;
}

static inline bool ffr_next(const struct tgraph *g, uint8_t vm, struct ffr *f, uint32_t *w)
{
	for (; f->e < f->e_end; f->e++)
		if (g->mask[f->e] & vm) {
			*w = g->to[f->e++];
			return true;
		}
	for (; f->y < f->y_end; f->y++)
		if (g->live[f->y]) {
			*w = f->y++;
			return true;
		}
	if (f->proc != TXN_NONE) {
		*w = f->proc;
		f->proc = TXN_NONE;
		return true;
	}
	return false;
}

static uint32_t scc_whole(const struct tgraph *g, uint8_t vm, const uint32_t *roots,
			  size_t n_roots, uint32_t *comp, uint32_t *idx, uint32_t *low,
			  uint32_t *stack)
{
	uint32_t N = g->n;
	struct ffr *fr = xmalloc((N ? N : 1) * sizeof *fr);
	uint32_t counter = 0, ncomp = 0;
	size_t sp = 0, fp = 0;
	for (size_t r = 0; r < n_roots; r++) {
		uint32_t root = roots[r];
		if (idx[root])
			continue;
		idx[root] = low[root] = ++counter;
		stack[sp++] = root;
		ffr_init(g, vm, &fr[fp++], root);
		while (fp) {
			struct ffr *f = &fr[fp - 1];
			uint32_t w;
			if (ffr_next(g, vm, f, &w)) {
				if (!idx[w]) {
					idx[w] = low[w] = ++counter;
					stack[sp++] = w;
					ffr_init(g, vm, &fr[fp++], w);
				} else if (comp[w] == TXN_NONE && idx[w] < low[f->u]) {
					low[f->u] = idx[w];
				}
				continue;
			}
			uint32_t u = f->u;
			fp--;
			if (low[u] == idx[u]) {
				uint32_t x;
				do {
					x = stack[--sp];
					comp[x] = ncomp;
				} while (x != u);
				ncomp++;
			}
			if (fp && low[u] < low[fr[fp - 1].u])
				low[fr[fp - 1].u] = low[u];
		}
	}
	free(fr);
	return ncomp;
}

uint32_t tgraph_scc(const struct tgraph *g, const struct tview *v, const uint32_t *roots,
		    size_t n_roots, uint32_t *comp, uint32_t **sizes)
{
	uint32_t N = tview_nodes(g, v);
	uint32_t *idx = xcalloc(N ? N : 1, sizeof *idx);
	uint32_t *low = xmalloc((N ? N : 1) * sizeof *low);
	uint32_t *stack = xmalloc((N ? N : 1) * sizeof *stack);
	struct frame *fr = xmalloc((N ? N : 1) * sizeof *fr);
	for (uint32_t i = 0; i < N; i++)
		comp[i] = TXN_NONE;
	uint32_t counter = 0, ncomp = 0;
	size_t sp = 0, fp = 0;
	if (!v->layered && !v->within) {
		ncomp = scc_whole(g, v->mask, roots, n_roots, comp, idx, low, stack);
		n_roots = 0;
	}
	for (size_t r = 0; r < n_roots; r++) {
		uint32_t root = roots[r];
		if (idx[root])
			continue;
		idx[root] = low[root] = ++counter;
		stack[sp++] = root;
		fr[fp++] = (struct frame){root, 0};
		while (fp) {
			struct frame *f = &fr[fp - 1];
			uint32_t w;
			uint8_t type;
			if (next_edge(g, v, f->u, &f->cur, &w, &type)) {
				if (!idx[w]) {
					idx[w] = low[w] = ++counter;
					stack[sp++] = w;
					fr[fp++] = (struct frame){w, 0};
				} else if (comp[w] == TXN_NONE && idx[w] < low[f->u]) {
					low[f->u] = idx[w];
				}
				continue;
			}
			uint32_t u = f->u;
			fp--;
			if (low[u] == idx[u]) {
				uint32_t x;
				do {
					x = stack[--sp];
					comp[x] = ncomp;
				} while (x != u);
				ncomp++;
			}
			if (fp && low[u] < low[fr[fp - 1].u])
				low[fr[fp - 1].u] = low[u];
		}
	}
	if (sizes) {
		*sizes = xcalloc(ncomp ? ncomp : 1, sizeof **sizes);
		for (uint32_t i = 0; i < N; i++)
			if (comp[i] != TXN_NONE)
				(*sizes)[comp[i]]++;
	}
	free(idx);
	free(low);
	free(stack);
	free(fr);
	return ncomp;
}

/* -------------------------------------------------------- reachability */

struct cheap {
	uint32_t *h;
	size_t n;
	const uint32_t *key;
	bool max;
};

static bool cheap_less(const struct cheap *q, uint32_t a, uint32_t b)
{
	return q->max ? q->key[a] > q->key[b] : q->key[a] < q->key[b];
}

static void cheap_push(struct cheap *q, uint32_t c)
{
	size_t i = q->n++;
	while (i && cheap_less(q, c, q->h[(i - 1) / 2])) {
		q->h[i] = q->h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	q->h[i] = c;
}

static uint32_t cheap_pop(struct cheap *q)
{
	uint32_t top = q->h[0], last = q->h[--q->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= q->n)
			break;
		if (c + 1 < q->n && cheap_less(q, q->h[c + 1], q->h[c]))
			c++;
		if (!cheap_less(q, q->h[c], last))
			break;
		q->h[i] = q->h[c];
		i = c;
	}
	if (q->n)
		q->h[i] = last;
	return top;
}

/* Kahn's algorithm on the condensation: order[c] = position, smallest
 * (or largest) representative vertex first among the ready components;
 * lvl (if not NULL) the longest-path depth. */
static void kahn(const struct tgraph *g, const struct tview *v, const uint32_t *comp,
		 uint32_t nc, const uint32_t *moff, const uint32_t *mem, const uint32_t *indeg0,
		 bool max, uint32_t *order, uint32_t *lvl)
{
	uint32_t *indeg = xmalloc((nc ? nc : 1) * sizeof *indeg);
	memcpy(indeg, indeg0, nc * sizeof *indeg);
	uint32_t *rep = xmalloc((nc ? nc : 1) * sizeof *rep);
	for (uint32_t c = 0; c < nc; c++)
		rep[c] = mem[moff[c]];
	struct cheap q = {xmalloc((nc ? nc : 1) * sizeof(uint32_t)), 0, rep, max};
	for (uint32_t c = 0; c < nc; c++)
		if (!indeg[c])
			cheap_push(&q, c);
	if (lvl)
		memset(lvl, 0, nc * sizeof *lvl);
	uint32_t pos = 0;
	while (q.n) {
		uint32_t c = cheap_pop(&q);
		order[c] = pos++;
		for (uint32_t i = moff[c]; i < moff[c + 1]; i++) {
			uint64_t cur = 0;
			uint32_t w;
			uint8_t type;
			while (next_edge(g, v, mem[i], &cur, &w, &type)) {
				uint32_t cw = comp[w];
				if (cw == c || cw == TXN_NONE)
					continue;
				if (lvl && lvl[cw] < lvl[c] + 1)
					lvl[cw] = lvl[c] + 1;
				if (--indeg[cw] == 0)
					cheap_push(&q, cw);
			}
		}
	}
	free(q.h);
	free(rep);
	free(indeg);
}

void treach_init(struct treach *r, const struct tgraph *g, const struct tview *v,
		 const uint32_t *comp, uint32_t nc)
{
	memset(r, 0, sizeof *r);
	r->g = g;
	r->v = v;
	r->comp = comp;
	uint32_t N = tview_nodes(g, v);
	/* members of each component, in vertex order */
	uint32_t *moff = xcalloc((size_t)nc + 2, sizeof *moff);
	for (uint32_t u = 0; u < N; u++)
		if (comp[u] != TXN_NONE)
			moff[comp[u] + 2]++;
	for (uint32_t c = 0; c < nc; c++)
		moff[c + 2] += moff[c + 1];
	uint32_t *mem = xmalloc(((size_t)moff[nc + 1] + 1) * sizeof *mem);
	for (uint32_t u = 0; u < N; u++)
		if (comp[u] != TXN_NONE)
			mem[moff[comp[u] + 1]++] = u;
	uint32_t *indeg = xcalloc(nc ? nc : 1, sizeof *indeg);
	for (uint32_t u = 0; u < N; u++) {
		if (comp[u] == TXN_NONE)
			continue;
		uint64_t cur = 0;
		uint32_t w;
		uint8_t type;
		while (next_edge(g, v, u, &cur, &w, &type))
			if (comp[w] != comp[u] && comp[w] != TXN_NONE)
				indeg[comp[w]]++;
	}
	r->x1 = xmalloc((nc ? nc : 1) * sizeof *r->x1);
	r->x2 = xmalloc((nc ? nc : 1) * sizeof *r->x2);
	r->lvl = xmalloc((nc ? nc : 1) * sizeof *r->lvl);
	kahn(g, v, comp, nc, moff, mem, indeg, false, r->x1, r->lvl);
	kahn(g, v, comp, nc, moff, mem, indeg, true, r->x2, NULL);
	free(indeg);
	free(moff);
	free(mem);
	r->stamp = xcalloc(N ? N : 1, sizeof *r->stamp);
	r->stack_cap = 1024;
	r->stack = xmalloc(r->stack_cap * sizeof *r->stack);
}

static inline bool treach_may(const struct treach *r, uint32_t c, uint32_t ct)
{
	/* could component c reach ct (c != ct)? */
	return c > ct && r->x1[c] < r->x1[ct] && r->x2[c] < r->x2[ct] && r->lvl[c] < r->lvl[ct];
}

bool treach_query(struct treach *r, uint32_t from, uint32_t to)
{
	uint32_t cf = r->comp[from], ct = r->comp[to];
	if (cf == TXN_NONE || ct == TXN_NONE)
		return false;
	if (cf == ct)
		return true;
	if (!treach_may(r, cf, ct))
		return false;
	if (++r->cur_stamp == 0) {
		memset(r->stamp, 0, tview_nodes(r->g, r->v) * sizeof *r->stamp);
		r->cur_stamp = 1;
	}
	size_t sp = 0;
	r->stack[sp++] = from;
	r->stamp[from] = r->cur_stamp;
	while (sp) {
		uint32_t u = r->stack[--sp];
		if ((++r->visits & 4095) == 0 && tstore_expired(r->st))
			return false;
		uint64_t cur = 0;
		uint32_t w;
		uint8_t type;
		while (next_edge(r->g, r->v, u, &cur, &w, &type)) {
			uint32_t cw = r->comp[w];
			if (cw == ct)
				return true;
			if (cw == TXN_NONE || r->stamp[w] == r->cur_stamp || !treach_may(r, cw, ct))
				continue;
			r->stamp[w] = r->cur_stamp;
			if (sp == r->stack_cap) {
				r->stack_cap *= 2;
				r->stack = xrealloc(r->stack, r->stack_cap * sizeof *r->stack);
			}
			r->stack[sp++] = w;
		}
	}
	return false;
}

void treach_free(struct treach *r)
{
	free(r->x1);
	free(r->x2);
	free(r->lvl);
	free(r->stamp);
	free(r->stack);
	memset(r, 0, sizeof *r);
}

/* ----------------------------------------------------- shortest paths */

void tbfs_init(struct tbfs *b, uint32_t nodes)
{
	memset(b, 0, sizeof *b);
	b->nodes = nodes;
	b->parent = xmalloc((nodes ? nodes : 1) * sizeof *b->parent);
	b->ptype = xmalloc(nodes ? nodes : 1);
	b->stamp = xcalloc(nodes ? nodes : 1, sizeof *b->stamp);
	b->queue = xmalloc((nodes ? nodes : 1) * sizeof *b->queue);
}

void tbfs_free(struct tbfs *b)
{
	free(b->parent);
	free(b->ptype);
	free(b->stamp);
	free(b->queue);
	memset(b, 0, sizeof *b);
}

uint32_t tbfs_path(struct tbfs *b, const struct tgraph *g, const struct tview *v, uint32_t s,
		   uint32_t t, const uint32_t *keep, uint32_t keep_id, uint64_t budget,
		   uint32_t *path, uint8_t *types, uint32_t max_len)
{
	if (++b->cur == 0) {
		memset(b->stamp, 0, b->nodes * sizeof *b->stamp);
		b->cur = 1;
	}
	size_t qh = 0, qt = 0, level_end = 1;
	uint32_t depth = 0; /* of the vertices being expanded */
	b->queue[qt++] = s;
	b->stamp[s] = b->cur;
	b->visits = 0;
	while (qh < qt) {
		if (qh == level_end) {
			depth++;
			level_end = qt;
		}
		if (depth + 1 > max_len) /* any path found now would be too long */
			return 0;
		uint32_t u = b->queue[qh++];
		if (++b->visits > budget || ((b->visits & 4095) == 0 && tstore_expired(b->st)))
			return 0;
		uint64_t cur = 0;
		uint32_t w;
		uint8_t type;
		while (next_edge(g, v, u, &cur, &w, &type)) {
			if (keep && keep[w] != keep_id)
				continue;
			if (w == t) {
				/* s .. u, then t */
				uint32_t len = depth + 1;
				path[len] = t;
				types[len - 1] = type;
				uint32_t i = len - 1;
				for (uint32_t x = u; x != s; x = b->parent[x]) {
					path[i] = x;
					types[i - 1] = b->ptype[x];
					i--;
				}
				path[0] = s;
				return len;
			}
			if (b->stamp[w] == b->cur)
				continue;
			b->stamp[w] = b->cur;
			b->parent[w] = u;
			b->ptype[w] = type;
			b->queue[qt++] = w;
		}
	}
	return 0;
}
