/*
 * test_elle_cycles.c - the cycle search (txn_cycles.c) against brute force.
 * Thousands of small random dependency graphs (ww/wr/rw edges, some
 * carrying two kinds, plus process-order chains or real-time ranges) are
 * searched; every simple cycle of each graph is enumerated with every
 * choice of edge kind, classified here independently, and the anomaly
 * kinds each strongly
 * connected component must report are derived with Elle's rule (in order
 * of severity, skipping kinds implied by one already reported). The search
 * must report exactly those - no timeout, no guess - and every cycle it
 * shows must be a real simple cycle of its kind, and the shortest one
 * (G-nonadjacent aside: its walks are cut to simple cycles, so the cycle
 * shown is short, not always the shortest).
 *
 * One documented exception: G-nonadjacent and G2-item (and their
 * process/real-time variants) are compared only in components where ww+wr
 * (+ the extra order) edges alone have no cycle; otherwise a G0/G1c (or
 * its variant) is present, which already rules out every model those
 * would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txn.h"
#include "util.h"

#define MAXN 7

static uint64_t rs;
static uint32_t rnd(uint32_t n)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (uint32_t)(rs % n);
}

struct g {
	int n;
	uint8_t mask[MAXN][MAXN]; /* data kinds of a -> b */
	int proc_next[MAXN];      /* -1 none */
	int rt_lo[MAXN], rt_hi[MAXN]; /* real-time successors [lo, hi) */
	uint8_t x;                /* EDGE_PROC or EDGE_RT: the extra order */
};

static bool xedge(const struct g *g, int a, int b)
{
	if (g->x == EDGE_PROC)
		return g->proc_next[a] == b;
	return g->x == EDGE_RT && b >= g->rt_lo[a] && b < g->rt_hi[a];
}

/* ------------------------------------------------ independent brute force */

enum { B_G0, B_G1C, B_GS, B_GN, B_G2 };

/* kind index: base + 5 * (process variant) */
static int classify(const uint8_t *types, int len)
{
	int rw = 0, wr = 0, ww = 0, pr = 0, adj = 0;
	for (int i = 0; i < len; i++) {
		if (types[i] == EDGE_RW) {
			rw++;
			if (types[(i + 1) % len] == EDGE_RW)
				adj = 1;
		}
		wr += types[i] == EDGE_WR;
		ww += types[i] == EDGE_WW;
		pr += types[i] == EDGE_PROC || types[i] == EDGE_RT;
	}
	int b = rw == 1 ? B_GS : rw > 1 ? (adj ? B_G2 : B_GN) : wr ? B_G1C : ww ? B_G0 : -1;
	if (b < 0)
		return -1;
	return b + (pr ? 5 : 0);
}

struct bf {
	uint32_t kinds; /* per component */
	int minlen[10]; /* shortest simple cycle of each kind (0: none) */
	bool dcycle, dxcycle;
};

static int cyc[MAXN + 1];
static uint8_t types[MAXN + 1];

static void choices(const struct g *g, int len, int i, struct bf *out, const int *comp)
{
	if (i == len) {
		int k = classify(types, len);
		struct bf *o = &out[comp[cyc[0]]];
		if (k >= 0) {
			o->kinds |= 1u << k;
			if (!o->minlen[k] || len < o->minlen[k])
				o->minlen[k] = len;
		}
		bool d = true, dx = true;
		for (int j = 0; j < len; j++) {
			d &= types[j] == EDGE_WW || types[j] == EDGE_WR;
			dx &= types[j] != EDGE_RW;
		}
		out[comp[cyc[0]]].dcycle |= d;
		out[comp[cyc[0]]].dxcycle |= dx;
		return;
	}
	int a = cyc[i], b = cyc[(i + 1) % len];
	for (uint8_t bit = EDGE_WW; bit <= EDGE_RW; bit <<= 1)
		if (g->mask[a][b] & bit) {
			types[i] = bit;
			choices(g, len, i + 1, out, comp);
		}
	if (xedge(g, a, b)) {
		types[i] = g->x;
		choices(g, len, i + 1, out, comp);
	}
}

static bool adjacent(const struct g *g, int a, int b)
{
	return g->mask[a][b] || xedge(g, a, b);
}

static void cycles_from(const struct g *g, int s, int u, int depth, bool *on, struct bf *out,
			const int *comp)
{
	cyc[depth] = u;
	for (int v = 0; v < g->n; v++) {
		if (!adjacent(g, u, v))
			continue;
		if (v == s)
			choices(g, depth + 1, 0, out, comp);
		else if (v > s && !on[v]) {
			on[v] = true;
			cycles_from(g, s, v, depth + 1, on, out, comp);
			on[v] = false;
		}
	}
}

/* Component of each vertex under all edges (transitive closure). */
static void components(const struct g *g, int *comp)
{
	bool r[MAXN][MAXN];
	for (int a = 0; a < g->n; a++)
		for (int b = 0; b < g->n; b++)
			r[a][b] = a == b || adjacent(g, a, b);
	for (int k = 0; k < g->n; k++)
		for (int a = 0; a < g->n; a++)
			for (int b = 0; b < g->n; b++)
				r[a][b] |= r[a][k] && r[k][b];
	for (int a = 0; a < g->n; a++) {
		comp[a] = a;
		for (int b = 0; b < a; b++)
			if (r[a][b] && r[b][a]) {
				comp[a] = comp[b];
				break;
			}
	}
}

static uint32_t implied_closure(int k)
{
	static const int direct[][2] = {
		{B_G0, B_G1C}, {B_GS, B_GN}, {B_GN, B_G2},
		{B_G0, 5 + B_G0}, {B_G1C, 5 + B_G1C}, {B_GS, 5 + B_GS}, {B_GN, 5 + B_GN},
		{B_G2, 5 + B_G2}, {5 + B_G0, 5 + B_G1C}, {5 + B_GS, 5 + B_GN}, {5 + B_GN, 5 + B_G2},
	};
	uint32_t c = 1u << k, prev;
	do {
		prev = c;
		for (size_t i = 0; i < sizeof direct / sizeof *direct; i++)
			if (c >> direct[i][0] & 1)
				c |= 1u << direct[i][1];
	} while (c != prev);
	return c;
}

static uint32_t expected(uint32_t kinds)
{
	static const int order[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
	uint32_t rep = 0;
	for (size_t i = 0; i < 10; i++) {
		int k = order[i];
		bool redundant = false;
		for (int f = 0; f < 10; f++)
			if (rep >> f & 1 && implied_closure(f) >> k & 1)
				redundant = true;
		if (!redundant && kinds >> k & 1)
			rep |= 1u << k;
	}
	return rep;
}

/* ----------------------------------------------------- the real search */

/* enum tkind -> brute-force index (plain 0..4, the extra order 5..9) */
static int to_bf(const struct g *g, int kind)
{
	if (kind < 5)
		return kind;
	if (kind < 10)
		return g->x == EDGE_PROC ? kind : -1;
	if (kind < 15)
		return g->x == EDGE_RT ? kind - 5 : -1;
	return -1;
}

static void check_graph(const struct g *g, int iter)
{
	struct tstore st;
	tstore_init(&st);
	st.txns = xcalloc(g->n, sizeof *st.txns);
	st.n_txns = st.cap_txns = (uint32_t)g->n;
	for (int i = 0; i < g->n; i++) {
		st.txns[i].type = TT_OK;
		st.txns[i].index = i;
		st.txns[i].proc_next = g->proc_next[i] >= 0 ? (uint32_t)g->proc_next[i] : TXN_NONE;
		st.txns[i].rt_lo = (uint32_t)g->rt_lo[i];
		st.txns[i].rt_hi = (uint32_t)g->rt_hi[i];
	}
	struct tedges es = {0};
	for (int a = 0; a < g->n; a++)
		for (int b = 0; b < g->n; b++)
			if (g->mask[a][b])
				tedges_add(&es, (uint32_t)a, (uint32_t)b, g->mask[a][b]);
	struct tgraph tg;
	tgraph_build(&tg, &st, &es, g->x);
	struct tcycle_stats stats;
	tcycles_search(&st, &tg, &stats);

	int comp[MAXN];
	components(g, comp);
	struct bf bf[MAXN] = {{0}};
	bool on[MAXN] = {false};
	for (int s = 0; s < g->n; s++)
		cycles_from(g, s, s, 0, on, bf, comp);

	uint32_t got[MAXN] = {0};
	for (size_t i = 0; i < st.cases.n; i++) {
		const struct tcase *c = &st.cases.c[i];
		int k = to_bf(g, c->kind);
		if (k < 0)
			fail_msg("iteration %d: unexpected kind %s", iter, tkind_name(c->kind));
		int cc = comp[c->steps[0].txn];
		got[cc] |= 1u << k;
		/* a real simple cycle of its kind */
		bool seen[MAXN] = {false};
		uint8_t t[MAXN + 1];
		for (uint32_t j = 0; j < c->n_steps; j++) {
			uint32_t a = c->steps[j].txn, b = c->steps[(j + 1) % c->n_steps].txn;
			if (seen[a])
				fail_msg("iteration %d: %s cycle repeats txn %u", iter,
					 tkind_name(c->kind), a);
			seen[a] = true;
			uint8_t ty = c->steps[j].type;
			bool ok = ty == g->x ? xedge(g, (int)a, (int)b) : (g->mask[a][b] & ty) != 0;
			if (!ok)
				fail_msg("iteration %d: %s cycle uses a missing %u edge %u -> %u", iter,
					 tkind_name(c->kind), ty, a, b);
			if (comp[a] != cc)
				fail_msg("iteration %d: cycle leaves its component", iter);
			t[j] = ty;
		}
		if (classify(t, (int)c->n_steps) != k)
			fail_msg("iteration %d: a %s cycle that classifies as %d", iter,
				 tkind_name(c->kind), classify(t, (int)c->n_steps));
		/* and the shortest of its kind in its component */
		int b = k % 5;
		bool exact = b <= B_GS || (b == B_G2 && !(k < 5 ? bf[cc].dcycle : bf[cc].dxcycle));
		if (exact && (int)c->n_steps != bf[cc].minlen[k])
			fail_msg("iteration %d: a %s cycle of %u transactions; the shortest has %d",
				 iter, tkind_name(c->kind), c->n_steps, bf[cc].minlen[k]);
	}
	for (int v = 0; v < g->n; v++) {
		if (comp[v] != v)
			continue;
		uint32_t want = expected(bf[v].kinds), have = got[v];
		uint32_t mask = 0x3ff;
		if (bf[v].dcycle)
			mask &= ~((1u << B_GN) | (1u << B_G2));
		if (bf[v].dxcycle)
			mask &= ~((1u << (5 + B_GN)) | (1u << (5 + B_G2)));
		if ((want & mask) != (have & mask)) {
			struct buf b;
			buf_init(&b);
			for (int x = 0; x < g->n; x++)
				for (int y = 0; y < g->n; y++)
					if (g->mask[x][y])
						buf_printf(&b, " %d-%d:%u", x, y, g->mask[x][y]);
			for (int x = 0; x < g->n; x++)
				if (g->proc_next[x] >= 0)
					buf_printf(&b, " %d=p>%d", x, g->proc_next[x]);
			for (int x = 0; x < g->n; x++)
				if (g->rt_hi[x] > g->rt_lo[x])
					buf_printf(&b, " %d=rt>[%d,%d)", x, g->rt_lo[x], g->rt_hi[x]);
			fail_msg("iteration %d, component of %d: want kinds %#x, got %#x (all kinds "
				 "present %#x); graph:%s", iter, v, want & mask, have & mask,
				 bf[v].kinds, b.data);
		}
	}
	tgraph_free(&tg);
	tstore_free(&st);
}

static void random_graph(struct g *g, uint8_t x)
{
	memset(g, 0, sizeof *g);
	g->x = x;
	g->n = 2 + (int)rnd(MAXN - 1);
	int density = 15 + (int)rnd(40);
	for (int a = 0; a < g->n; a++) {
		g->proc_next[a] = -1;
		for (int b = 0; b < g->n; b++) {
			if (a == b || (int)rnd(100) >= density)
				continue;
			uint8_t m = (uint8_t)(1u << rnd(3));
			if (rnd(5) == 0)
				m |= (uint8_t)(1u << rnd(3));
			g->mask[a][b] = m;
		}
	}
	/* process and real-time order go forward: to larger ids */
	for (int a = 0; a < g->n; a++) {
		if (x == EDGE_PROC && rnd(2)) {
			int b = a + 1 + (int)rnd((uint32_t)(g->n - a));
			if (b < g->n)
				g->proc_next[a] = b;
		}
		g->rt_lo[a] = g->rt_hi[a] = g->n;
		if (x == EDGE_RT && rnd(2)) {
			g->rt_lo[a] = a + 1 + (int)rnd((uint32_t)(g->n - a));
			g->rt_hi[a] = g->rt_lo[a] + (int)rnd((uint32_t)(g->n - g->rt_lo[a] + 1));
		}
	}
}

static void test_random_plain(void **state)
{
	(void)state;
	rs = 0x9E3779B97F4A7C15ULL;
	for (int i = 0; i < 4000; i++) {
		struct g g;
		random_graph(&g, 0);
		check_graph(&g, i);
	}
}

static void test_random_process(void **state)
{
	(void)state;
	rs = 0xD1B54A32D192ED03ULL;
	for (int i = 0; i < 4000; i++) {
		struct g g;
		random_graph(&g, EDGE_PROC);
		check_graph(&g, i);
	}
}

static void test_random_realtime(void **state)
{
	(void)state;
	rs = 0x8CB92BA72F3D8DD7ULL;
	for (int i = 0; i < 4000; i++) {
		struct g g;
		random_graph(&g, EDGE_RT);
		check_graph(&g, i);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_plain),
		cmocka_unit_test(test_random_process),
		cmocka_unit_test(test_random_realtime),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
