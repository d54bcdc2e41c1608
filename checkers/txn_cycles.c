/*
 * txn_cycles.c - which cycle anomalies a dependency graph contains, decided
 * exactly for every strongly connected component, with the shortest
 * example found for each.
 *
 * Elle searches each component with a breadth-first search over paths
 * that can blow up, and gives up after a timeout ("cycle-search-timeout").
 * Here every question becomes a strongly-connected-components or
 * reachability question over a filtered view of the graph (txn_graph.c),
 * each linear or close to it, asked in order of severity within each
 * component S of the full graph; a kind already implied by one found in S
 * is not asked (Elle's rule). With D = ww + wr and X the extra order in use
 * (process or real-time edges, if any):
 *
 *   G0              a component of the ww view of size > 1
 *   G1c             a wr edge inside a component of the D view
 *   G-single        an rw edge a -> b with a path b ~> a in D (a
 *                   reachability query per rw edge: labels + pruned DFS)
 *   G-nonadjacent   (no G-single in S) an rw edge inside a component of
 *                   the layered view: a closed walk with no two rw edges
 *                   in a row
 *   G2-item         (neither of those) an rw edge inside a component of
 *                   D + rw: any cycle through it has two rw edges, and
 *                   adjacent ones
 *   X variants      the same with X edges allowed, asked after the plain
 *                   kinds: since the plain kind (and whatever implies the
 *                   variant) is then known absent from S, any cycle of
 *                   the shape found must use an X edge
 *
 * So "no such cycle" is a proof, not a timeout. The cycle shown is a
 * candidate edge closed by a shortest path (breadth-first); every
 * candidate of the component is tried, each search bounded by the best
 * cycle so far, until 2^21 vertex visits were spent on it (small
 * components: the shortest cycle of the kind; huge ones: the shortest
 * found). It is classified again from its own edges (as Elle does) before
 * it is recorded. A closed walk of the
 * layered view can repeat a transaction; it is cut at the repetition into
 * a simple cycle that still has no adjacent rw edges (always possible when
 * S has no G0/G1c cycle; otherwise G1c already rules out everything
 * G-nonadjacent would).
 */
#include "txn.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

/* After the first cycle of a kind in a component, every other candidate
 * is tried for a shorter one - breadth-first, never deeper than the best
 * so far - until this many vertex visits were spent on the component. */
#define SCC_BUDGET (UINT64_C(1) << 21)

struct best {
	struct tstep *s;
	uint32_t n;
	uint64_t spent;
};

struct search {
	struct tstore *st;
	const struct tgraph *g;
	struct tcycle_stats *stats;
	uint32_t n;
	uint32_t *full, *fsize;
	uint32_t nfull;
	uint32_t *members;     /* txns in nontrivial full components */
	size_t n_members;
	uint32_t *found;       /* per full component: bit per cycle kind */
	uint32_t implied_by[K_N_CYCLE];
	struct tbfs bfs, lbfs;
	uint32_t *path;
	uint8_t *ptypes;
	struct tstep *steps;
	struct best *best;
	uint32_t *mark, *markpos, mark_stamp;
};

/* ---------------------------------------------------------- kinds */

static uint32_t implies_direct(int k)
{
	/* Elle's implied-anomalies among the cycle kinds. */
	int b = k % 5, v = k / 5;
	uint32_t m = 0;
	if (v < 2)
		m |= 1u << K_CYCLE(b, v + 1);
	switch (b) {
	case 0: m |= 1u << K_CYCLE(1, v); break;         /* G0 -> G1c */
	case 2: m |= 1u << K_CYCLE(3, v); break;         /* G-single -> G-nonadjacent */
	case 3: m |= 1u << K_CYCLE(4, v); break;         /* G-nonadjacent -> G2-item */
	default: break;
	}
	return m;
}

static void kinds_init(struct search *s)
{
	uint32_t closure[K_N_CYCLE];
	for (int k = 0; k < K_N_CYCLE; k++) {
		uint32_t c = 1u << k, prev;
		do {
			prev = c;
			for (int j = 0; j < K_N_CYCLE; j++)
				if (c >> j & 1)
					c |= implies_direct(j);
		} while (c != prev);
		closure[k] = c;
	}
	for (int k = 0; k < K_N_CYCLE; k++) {
		s->implied_by[k] = 0;
		for (int f = 0; f < K_N_CYCLE; f++)
			if (closure[f] >> k & 1)
				s->implied_by[k] |= 1u << f;
	}
}

static bool needs(const struct search *s, uint32_t scc, enum tkind k)
{
	return !(s->found[scc] & s->implied_by[k]);
}

static bool any_needs(const struct search *s, enum tkind k)
{
	if (tstore_expired(s->st))
		return false;
	for (size_t i = 0; i < s->n_members; i++)
		if (needs(s, s->full[s->members[i]], k))
			return true;
	return false;
}

enum tkind tcycle_classify(const struct tstep *s, uint32_t n)
{
	uint32_t rw = 0, wr = 0, ww = 0, pr = 0, rt = 0;
	bool adj = false;
	for (uint32_t i = 0; i < n; i++) {
		switch (s[i].type) {
		case EDGE_WW: ww++; break;
		case EDGE_WR: wr++; break;
		case EDGE_RW:
			rw++;
			adj |= s[(i + 1) % n].type == EDGE_RW;
			break;
		case EDGE_PROC: pr++; break;
		case EDGE_RT: rt++; break;
		default: break;
		}
	}
	int b;
	if (rw == 1)
		b = 2;
	else if (rw > 1)
		b = adj ? 4 : 3;
	else if (wr)
		b = 1;
	else if (ww)
		b = 0;
	else
		return K_N;
	return K_CYCLE(b, rt ? 2 : pr ? 1 : 0);
}

/* ------------------------------------------------------------ helpers */

/* Offer a cycle (steps, n) found in full component scc; the shortest
 * offer per component is kept. */
static void offer(struct search *s, uint32_t scc, const struct tstep *st, uint32_t n)
{
	struct best *b = &s->best[scc];
	if (b->s && b->n <= n)
		return;
	free(b->s);
	b->s = xmalloc(n * sizeof *b->s);
	memcpy(b->s, st, n * sizeof *st);
	b->n = n;
}

/* Is another candidate of this component worth a search? Fills the
 * visit budget and the longest cycle worth finding. */
static bool worth(const struct search *s, uint32_t scc, uint64_t *bud, uint32_t *max_cycle)
{
	const struct best *b = &s->best[scc];
	if (!b->s) {
		/* the first cycle must be found (one exists); a candidate that
		 * gives none (a walk that does not simplify) still costs */
		*bud = UINT64_MAX;
		*max_cycle = UINT32_MAX;
		return b->spent < 8 * SCC_BUDGET;
	}
	if (b->n <= 2 || b->spent >= SCC_BUDGET)
		return false;
	*bud = SCC_BUDGET - b->spent;
	*max_cycle = b->n - 1;
	return true;
}

static void spend(struct search *s, uint32_t scc, const struct tbfs *bfs)
{
	s->best[scc].spent += bfs->visits;
}

/* Record the kept cycles of this pass, earliest component first (by its
 * first transaction), so the few listed are the first in the history. */
static void commit(struct search *s)
{
	for (size_t i = 0; i < s->n_members; i++) {
		uint32_t c = s->full[s->members[i]];
		struct best *b = &s->best[c];
		if (!b->s) {
			b->spent = 0;
			continue;
		}
		enum tkind k = tcycle_classify(b->s, b->n);
		if (k != K_N && !(s->found[c] >> k & 1)) {
			s->found[c] |= 1u << k;
			tstore_case(s->st, &(struct tcase){.kind = (uint8_t)k,
							    .txn = {TXN_NONE, TXN_NONE},
							    .key = TXN_NONE,
							    .mop = TXN_NONE,
							    .list = TXN_NONE,
							    .steps = b->s,
							    .n_steps = b->n,
							    .scc_size = s->fsize[c]});
		}
		free(b->s);
		memset(b, 0, sizeof *b);
	}
}

/* The edge a -> b (a step of kind type) closed by a shortest path b ~> a
 * in view v through vertices with keep[] == keep_id, if the component of
 * a still wants a candidate. Returns the cycle length (0: none shorter
 * than the best so far, or budget spent). */
static uint32_t close_edge(struct search *s, const struct tview *v, uint32_t a, uint32_t b,
			   uint8_t type, const uint32_t *keep, uint32_t keep_id)
{
	uint64_t bud;
	uint32_t maxc;
	uint32_t scc = s->full[a];
	if (!worth(s, scc, &bud, &maxc))
		return 0;
	uint32_t len = tbfs_path(&s->bfs, s->g, v, b, a, keep, keep_id, bud, s->path, s->ptypes,
				 maxc == UINT32_MAX ? s->n + 1 : maxc - 1);
	spend(s, scc, &s->bfs);
	if (!len)
		return 0;
	s->steps[0] = (struct tstep){a, type};
	for (uint32_t i = 0; i < len; i++)
		s->steps[i + 1] = (struct tstep){s->path[i], s->ptypes[i]};
	return len + 1;
}

/* A shortest cycle through u inside its component of view v (0: none
 * shorter than the best so far, or budget spent). */
static uint32_t cycle_through(struct search *s, const struct tview *v, uint32_t u,
			      const uint32_t *comp)
{
	uint64_t bud;
	uint32_t maxc;
	uint32_t scc = s->full[u];
	if (!worth(s, scc, &bud, &maxc))
		return 0;
	uint32_t len = tbfs_path(&s->bfs, s->g, v, u, u, comp, comp[u], bud, s->path, s->ptypes,
				 maxc == UINT32_MAX ? s->n + 1 : maxc);
	spend(s, scc, &s->bfs);
	for (uint32_t i = 0; i < len; i++)
		s->steps[i] = (struct tstep){s->path[i], s->ptypes[i]};
	return len;
}

static uint32_t *alloc_comp(const struct search *s, bool layered)
{
	return xmalloc(((size_t)s->n * (layered ? 2 : 1) + 1) * sizeof(uint32_t));
}

/* Roots: the members of components that still need kind k. */
static uint32_t *roots_for(const struct search *s, enum tkind k, bool layered, size_t *nr)
{
	uint32_t *r = xmalloc((s->n_members * (layered ? 2 : 1) + 1) * sizeof *r);
	size_t n = 0;
	for (size_t i = 0; i < s->n_members; i++) {
		uint32_t u = s->members[i];
		if (!needs(s, s->full[u], k))
			continue;
		if (layered) {
			r[n++] = 2 * u;
			r[n++] = 2 * u + 1;
		} else {
			r[n++] = u;
		}
	}
	*nr = n;
	return r;
}

/* For each nontrivial component of view v (over the roots), a cycle
 * through a few of its vertices. */
static void cycles_in_components(struct search *s, const struct tview *v, enum tkind k)
{
	size_t nr;
	uint32_t *roots = roots_for(s, k, false, &nr);
	uint32_t *comp = alloc_comp(s, false), *sizes = NULL;
	tgraph_scc(s->g, v, roots, nr, comp, &sizes);
	for (size_t i = 0; i < nr && !tstore_expired(s->st); i++) {
		uint32_t u = roots[i];
		if (sizes[comp[u]] < 2)
			continue;
		uint32_t n = cycle_through(s, v, u, comp);
		if (n)
			offer(s, s->full[u], s->steps, n);
	}
	commit(s);
	free(sizes);
	free(comp);
	free(roots);
}

/* Iterate the data edges (u -> w with mask) between live txns of the same
 * nontrivial full component that needs kind k. */
#define FOR_EDGES(s, k, u, w, m)                                                              \
	for (size_t _i = 0;                                                                    \
	     _i < (s)->n_members && ((_i & 1023) || !tstore_expired((s)->st)); _i++)          \
		for (uint32_t u = (s)->members[_i], _e = (s)->g->off[u],                        \
			      _on = needs((s), (s)->full[u], (k));                              \
		     _on && _e < (s)->g->off[u + 1]; _e++)                                      \
			for (uint32_t w = (s)->g->to[_e], m = (s)->g->mask[_e], _once = 1;      \
			     _once && (s)->full[w] == (s)->full[u]; _once = 0)

/* ------------------------------------------------------------- kinds */

static void search_g0(struct search *s, int vv, uint8_t X)
{
	enum tkind k = K_CYCLE(0, vv);
	if (!any_needs(s, k))
		return;
	struct tview v = {.mask = (uint8_t)(EDGE_WW | X), .within = s->full};
	cycles_in_components(s, &v, k);
}

static void search_g1c(struct search *s, int vv, uint8_t X)
{
	enum tkind k = K_CYCLE(1, vv);
	if (!any_needs(s, k))
		return;
	struct tview v = {.mask = (uint8_t)(EDGE_D | X), .within = s->full};
	if (vv) {
		cycles_in_components(s, &v, k);
		return;
	}
	size_t nr;
	uint32_t *roots = roots_for(s, k, false, &nr);
	uint32_t *comp = alloc_comp(s, false);
	tgraph_scc(s->g, &v, roots, nr, comp, NULL);
	FOR_EDGES(s, k, a, b, m)
	{
		if (!(m & EDGE_WR) || comp[a] != comp[b])
			continue;
		uint32_t n = close_edge(s, &v, a, b, EDGE_WR, comp, comp[a]);
		if (n)
			offer(s, s->full[a], s->steps, n);
	}
	commit(s);
	free(comp);
	free(roots);
}

static void search_gsingle(struct search *s, int vv, uint8_t X)
{
	enum tkind k = K_CYCLE(2, vv);
	if (!any_needs(s, k))
		return;
	struct tview v = {.mask = (uint8_t)(EDGE_D | X), .within = s->full};
	size_t nr;
	uint32_t *roots = roots_for(s, k, false, &nr);
	uint32_t *comp = alloc_comp(s, false);
	uint32_t nc = tgraph_scc(s->g, &v, roots, nr, comp, NULL);
	struct treach r;
	treach_init(&r, s->g, &v, comp, nc);
	r.st = s->st;
	FOR_EDGES(s, k, a, b, m)
	{
		uint64_t bud;
		uint32_t maxc;
		if (!(m & EDGE_RW) || !worth(s, s->full[a], &bud, &maxc))
			continue;
		s->stats->reach_queries++;
		if (!treach_query(&r, b, a))
			continue;
		uint32_t n = close_edge(s, &v, a, b, EDGE_RW, s->full, s->full[a]);
		if (n)
			offer(s, s->full[a], s->steps, n);
	}
	s->stats->reach_visits += r.visits;
	treach_free(&r);
	commit(s);
	free(comp);
	free(roots);
}

/* A closed walk with no two rw edges in a row (cyclically) and at least
 * one? */
static bool ncw(const struct tstep *w, uint32_t n)
{
	bool rw = false;
	for (uint32_t i = 0; i < n; i++)
		if (w[i].type == EDGE_RW) {
			rw = true;
			if (w[(i + 1) % n].type == EDGE_RW)
				return false;
		}
	return rw;
}

/* Cut a closed walk (in place) down to a simple cycle that is still ncw.
 * Returns its length, or 0. */
static uint32_t simplify(struct search *s, struct tstep *w, uint32_t n)
{
	struct tstep *tmp = xmalloc((n ? n : 1) * sizeof *tmp);
	for (;;) {
		if (++s->mark_stamp == 0) {
			memset(s->mark, 0, s->n * sizeof *s->mark);
			s->mark_stamp = 1;
		}
		uint32_t i = 0, j = n;
		for (uint32_t x = 0; x < n; x++) {
			uint32_t t = w[x].txn;
			if (s->mark[t] == s->mark_stamp) {
				i = s->markpos[t];
				j = x;
				break;
			}
			s->mark[t] = s->mark_stamp;
			s->markpos[t] = x;
		}
		if (j == n) {
			free(tmp);
			return ncw(w, n) ? n : 0;
		}
		/* w[i..j) returns to w[i].txn; so does w[j..n) + w[0..i). */
		uint32_t n1 = j - i, n2 = n - n1;
		if (ncw(w + i, n1)) {
			memmove(w, w + i, n1 * sizeof *w);
			n = n1;
			continue;
		}
		memcpy(tmp, w + j, (n - j) * sizeof *w);
		memcpy(tmp + (n - j), w, i * sizeof *w);
		if (!ncw(tmp, n2)) {
			free(tmp);
			return 0;
		}
		memcpy(w, tmp, n2 * sizeof *w);
		n = n2;
	}
}

static void search_gnonadj(struct search *s, int vv, uint8_t X)
{
	enum tkind k = K_CYCLE(3, vv);
	if (!any_needs(s, k))
		return;
	struct tview lv = {.mask = (uint8_t)(EDGE_D | EDGE_RW | X), .layered = true,
			   .within = s->full};
	size_t nr;
	uint32_t *roots = roots_for(s, k, true, &nr);
	uint32_t *comp = alloc_comp(s, true);
	tgraph_scc(s->g, &lv, roots, nr, comp, NULL);
	FOR_EDGES(s, k, a, b, m)
	{
		uint64_t bud;
		uint32_t maxc;
		if (!(m & EDGE_RW) || comp[2 * a] != comp[2 * b + 1] ||
		    !worth(s, s->full[a], &bud, &maxc))
			continue;
		uint32_t len = tbfs_path(&s->lbfs, s->g, &lv, 2 * b + 1, 2 * a, comp, comp[2 * a],
					 bud, s->path, s->ptypes,
					 maxc == UINT32_MAX ? 2 * s->n + 1 : maxc - 1);
		spend(s, s->full[a], &s->lbfs);
		if (!len)
			continue;
		s->steps[0] = (struct tstep){a, EDGE_RW};
		for (uint32_t i = 0; i < len; i++)
			s->steps[i + 1] = (struct tstep){s->path[i] >> 1, s->ptypes[i]};
		uint32_t n = simplify(s, s->steps, len + 1);
		if (n)
			offer(s, s->full[a], s->steps, n);
	}
	commit(s);
	free(comp);
	free(roots);
}

static void search_g2item(struct search *s, int vv, uint8_t X)
{
	enum tkind k = K_CYCLE(4, vv);
	if (!any_needs(s, k))
		return;
	struct tview v = {.mask = (uint8_t)(EDGE_D | EDGE_RW | X), .within = s->full};
	size_t nr;
	uint32_t *roots = roots_for(s, k, false, &nr);
	uint32_t *comp = s->full;
	if (!vv) { /* with X the view is the full graph: its components are S */
		comp = alloc_comp(s, false);
		tgraph_scc(s->g, &v, roots, nr, comp, NULL);
	}
	FOR_EDGES(s, k, a, b, m)
	{
		if (!(m & EDGE_RW) || comp[a] != comp[b])
			continue;
		uint32_t n = close_edge(s, &v, a, b, EDGE_RW, comp, comp[a]);
		if (n)
			offer(s, s->full[a], s->steps, n);
	}
	commit(s);
	if (comp != s->full)
		free(comp);
	free(roots);
}

/* ---------------------------------------------------------------- all */

void tcycles_search(struct tstore *st, const struct tgraph *g, struct tcycle_stats *stats)
{
	struct search s = {.st = st, .g = g, .stats = stats, .n = g->n};
	memset(stats, 0, sizeof *stats);
	kinds_init(&s);
	struct tview fv = {.mask = (uint8_t)(EDGE_D | EDGE_RW | g->xmask)};
	uint32_t *roots = xmalloc(((size_t)s.n + 1) * sizeof *roots);
	size_t nr = 0;
	for (uint32_t u = 0; u < s.n; u++)
		if (txn_live(&g->txns[u]))
			roots[nr++] = u;
	s.full = alloc_comp(&s, false);
	s.nfull = tgraph_scc(g, &fv, roots, nr, s.full, &s.fsize);
	s.members = roots; /* reuse: members of nontrivial components */
	for (size_t i = 0; i < nr; i++)
		if (s.fsize[s.full[roots[i]]] >= 2)
			s.members[s.n_members++] = roots[i];
	for (uint32_t c = 0; c < s.nfull; c++)
		if (s.fsize[c] >= 2) {
			stats->sccs++;
			if (s.fsize[c] > stats->largest)
				stats->largest = s.fsize[c];
		}
	if (s.n_members) {
		s.found = xcalloc(s.nfull, sizeof *s.found);
		s.best = xcalloc(s.nfull, sizeof *s.best);
		tbfs_init(&s.bfs, s.n);
		tbfs_init(&s.lbfs, 2 * s.n);
		s.bfs.st = s.lbfs.st = st;
		s.path = xmalloc(((size_t)2 * s.n + 2) * sizeof *s.path);
		s.ptypes = xmalloc((size_t)2 * s.n + 2);
		s.steps = xmalloc(((size_t)2 * s.n + 2) * sizeof *s.steps);
		s.mark = xcalloc(s.n, sizeof *s.mark);
		s.markpos = xmalloc(s.n * sizeof *s.markpos);
		int variants[2] = {0, g->xmask & EDGE_RT ? 2 : g->xmask & EDGE_PROC ? 1 : -1};
		for (int i = 0; i < 2; i++) {
			int vv = variants[i];
			if (vv < 0)
				break;
			uint8_t X = vv ? g->xmask : 0;
			search_g0(&s, vv, X);
			search_g1c(&s, vv, X);
			search_gsingle(&s, vv, X);
			search_gnonadj(&s, vv, X);
			search_g2item(&s, vv, X);
		}
		tbfs_free(&s.bfs);
		tbfs_free(&s.lbfs);
		free(s.path);
		free(s.ptypes);
		free(s.steps);
		free(s.mark);
		free(s.markpos);
		free(s.found);
		free(s.best);
	}
	free(s.full);
	free(s.fsize);
	free(roots);
}
