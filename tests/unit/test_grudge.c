/*
 * test_grudge.c - the partition math (nemesis/grudge.c), checked by
 * properties over every cluster size 2..9 and many seeds: cuts are
 * symmetric and irreflexive; complete grudges split nodes into components
 * of the sizes each grudge promises; majorities-ring gives everyone a
 * majority and no one everyone, with no two nodes seeing the same set; the
 * bridge talks to both halves; a seed reproduces its partition; kinds that
 * cannot cut a cluster say so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "generator.h"
#include "grudge.h"

#define MAXN 9
#define SEEDS 300

static bool *make(int kind, int n, uint64_t seed, const int *prim, int np, const int *groups)
{
	bool *cut = calloc((size_t)(n * n), sizeof *cut);
	uint64_t rng = seed;
	char err[200];
	int r = grudge_make(kind, n, &rng, prim, np, groups, cut, err, sizeof err);
	if (r < 0)
		fail_msg("grudge %s on %d nodes failed: %s", grudge_kind_name(kind), n, err);
	return cut;
}

static void assert_symmetric(int n, const bool *cut)
{
	for (int i = 0; i < n; i++) {
		assert_false(cut[i * n + i]);
		for (int j = 0; j < n; j++)
			assert_int_equal(cut[i * n + j], cut[j * n + i]);
	}
	assert_true(grudge_cuts_any(n, cut));
}

/* "Can talk" is an equivalence relation: the cut is a complete grudge.
 * Returns component sizes sorted ascending in sizes[], count returned. */
static int components(int n, const bool *cut, int *sizes)
{
	int comp[MAXN];
	int nc = 0;
	for (int i = 0; i < n; i++)
		comp[i] = -1;
	for (int i = 0; i < n; i++) {
		if (comp[i] >= 0)
			continue;
		sizes[nc] = 0;
		for (int j = 0; j < n; j++)
			if (!cut[i * n + j]) {
				assert_int_equal(comp[j], -1);
				comp[j] = nc;
				sizes[nc]++;
			}
		nc++;
	}
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			assert_int_equal(cut[i * n + j], comp[i] != comp[j]);
	for (int a = 0; a < nc; a++)
		for (int b = a + 1; b < nc; b++)
			if (sizes[b] < sizes[a]) {
				int t = sizes[a];
				sizes[a] = sizes[b];
				sizes[b] = t;
			}
	return nc;
}

static void test_names(void **state)
{
	(void)state;
	for (int k = 0; k < GRUDGE_N; k++)
		assert_int_equal(grudge_kind_parse(grudge_kind_name(k)), k);
	assert_int_equal(grudge_kind_parse("nope"), -1);
	assert_int_equal(grudge_kind_parse(NULL), -1);
	assert_string_equal(grudge_kind_name(GRUDGE_MAJORITIES_RING), "majorities-ring");
}

static void test_one(void **state)
{
	(void)state;
	for (int n = 2; n <= MAXN; n++) {
		int isolated_count[MAXN] = {0};
		for (uint64_t s = 0; s < SEEDS; s++) {
			bool *cut = make(GRUDGE_ONE, n, s, NULL, 0, NULL);
			assert_symmetric(n, cut);
			int sizes[MAXN];
			assert_int_equal(components(n, cut, sizes), 2);
			assert_int_equal(sizes[0], 1);
			for (int i = 0; i < n; i++)
				if (grudge_sees(n, cut, i) == 1)
					isolated_count[i]++;
			free(cut);
		}
		/* Every node gets isolated sometimes: the choice is random. */
		for (int i = 0; i < n; i++)
			assert_true(isolated_count[i] > 0);
	}
}

static void test_majority(void **state)
{
	(void)state;
	for (int n = 2; n <= MAXN; n++)
		for (uint64_t s = 0; s < SEEDS; s++) {
			bool *cut = make(GRUDGE_MAJORITY, n, s, NULL, 0, NULL);
			assert_symmetric(n, cut);
			int sizes[MAXN];
			assert_int_equal(components(n, cut, sizes), 2);
			assert_int_equal(sizes[0], n / 2);
			assert_int_equal(sizes[1], n - n / 2);
			free(cut);
		}
}

static void test_minority_third(void **state)
{
	(void)state;
	for (int n = 4; n <= MAXN; n++)
		for (uint64_t s = 0; s < SEEDS; s++) {
			bool *cut = make(GRUDGE_MINORITY_THIRD, n, s, NULL, 0, NULL);
			assert_symmetric(n, cut);
			int sizes[MAXN];
			assert_int_equal(components(n, cut, sizes), 2);
			assert_int_equal(sizes[0], (n - 1) / 3);
			assert_true(3 * sizes[0] < n); /* strictly under a third */
			free(cut);
		}
}

static void test_majorities_ring(void **state)
{
	(void)state;
	for (int n = 4; n <= MAXN; n++)
		for (uint64_t s = 0; s < SEEDS; s++) {
			bool *cut = make(GRUDGE_MAJORITIES_RING, n, s, NULL, 0, NULL);
			assert_symmetric(n, cut);
			for (int i = 0; i < n; i++) {
				int sees = grudge_sees(n, cut, i);
				assert_true(sees >= n / 2 + 1); /* a majority */
				assert_true(sees < n);          /* never everyone */
				for (int j = 0; j < i; j++)     /* no two the same majority */
					assert_memory_not_equal(&cut[i * n], &cut[j * n],
								(size_t)n * sizeof *cut);
			}
			free(cut);
		}
}

static void test_bridge(void **state)
{
	(void)state;
	for (int n = 3; n <= MAXN; n++)
		for (uint64_t s = 0; s < SEEDS; s++) {
			bool *cut = make(GRUDGE_BRIDGE, n, s, NULL, 0, NULL);
			assert_symmetric(n, cut);
			int bridge = -1;
			for (int i = 0; i < n; i++)
				if (grudge_sees(n, cut, i) == n) {
					assert_int_equal(bridge, -1); /* exactly one */
					bridge = i;
				}
			assert_true(bridge >= 0);
			/* Without the bridge: two complete halves. */
			int m = n - 1, k = 0;
			bool sub[MAXN * MAXN];
			int map[MAXN];
			for (int i = 0; i < n; i++)
				if (i != bridge)
					map[k++] = i;
			for (int i = 0; i < m; i++)
				for (int j = 0; j < m; j++)
					sub[i * m + j] = cut[map[i] * n + map[j]];
			int sizes[MAXN];
			assert_int_equal(components(m, sub, sizes), 2);
			assert_int_equal(sizes[0], m / 2);
			assert_int_equal(sizes[1], m - m / 2);
			free(cut);
		}
}

static void test_primaries_and_groups(void **state)
{
	(void)state;
	int prim[1] = {3};
	bool *cut = make(GRUDGE_PRIMARIES, 5, 1, prim, 1, NULL);
	assert_symmetric(5, cut);
	assert_int_equal(grudge_sees(5, cut, 3), 1);
	for (int i = 0; i < 5; i++)
		if (i != 3)
			assert_int_equal(grudge_sees(5, cut, i), 4);
	free(cut);

	/* n1,n2 | n3,n4 ; n5 in no group talks to all. */
	int groups[5] = {0, 0, 1, 1, -1};
	cut = make(GRUDGE_GROUPS, 5, 1, NULL, 0, groups);
	assert_symmetric(5, cut);
	assert_false(cut[0 * 5 + 1]);
	assert_true(cut[0 * 5 + 2]);
	assert_true(cut[1 * 5 + 3]);
	assert_false(cut[2 * 5 + 3]);
	assert_int_equal(grudge_sees(5, cut, 4), 5);
	free(cut);
}

/* The primary plus (n-1)/2 - 1 random others on one side, the rest (a
 * majority) on the other; every other node joins the primary sometimes. */
static void test_primary_minority(void **state)
{
	(void)state;
	for (int n = 3; n <= MAXN; n++)
		for (int p = 0; p < n; p++) {
			int prim[1] = {p}, joined[MAXN] = {0};
			for (uint64_t s = 0; s < SEEDS; s++) {
				bool *cut = make(GRUDGE_PRIMARY_MINORITY, n, s, prim, 1, NULL);
				assert_symmetric(n, cut);
				int sizes[MAXN];
				assert_int_equal(components(n, cut, sizes), 2);
				assert_int_equal(sizes[0], (n - 1) / 2);
				assert_int_equal(grudge_sees(n, cut, p), (n - 1) / 2);
				for (int i = 0; i < n; i++)
					if (i != p && !cut[p * n + i])
						joined[i]++;
				free(cut);
			}
			for (int i = 0; i < n && n >= 5; i++)
				if (i != p)
					assert_true(joined[i] > 0);
		}
	/* {n1,n2} | {n3,n4,n5} style on five nodes. */
	int prim[1] = {0};
	bool *cut = make(GRUDGE_PRIMARY_MINORITY, 5, 7, prim, 1, NULL);
	assert_int_equal(grudge_sees(5, cut, 0), 2);
	free(cut);
	bool c9[9];
	char err[200];
	uint64_t rng = 1;
	assert_int_equal(grudge_make(GRUDGE_PRIMARY_MINORITY, 3, &rng, NULL, 0, NULL, c9, err,
				     sizeof err),
			 -1);
	assert_non_null(strstr(err, "no primary"));
	assert_int_equal(grudge_make(GRUDGE_PRIMARY_MINORITY, 2, &rng, prim, 1, NULL, c9, err,
				     sizeof err),
			 -1);
	assert_non_null(strstr(err, "at least 3 nodes"));
}

static void test_reproducible(void **state)
{
	(void)state;
	for (int k = 0; k < GRUDGE_PRIMARIES; k++) {
		bool *a = make(k, 7, 42, NULL, 0, NULL);
		bool *b = make(k, 7, 42, NULL, 0, NULL);
		assert_memory_equal(a, b, 49 * sizeof *a);
		free(a);
		free(b);
	}
	/* Different seeds give different majorities sometimes. */
	bool *first = make(GRUDGE_MAJORITY, 7, 0, NULL, 0, NULL);
	bool differs = false;
	for (uint64_t s = 1; s < 20 && !differs; s++) {
		bool *x = make(GRUDGE_MAJORITY, 7, s, NULL, 0, NULL);
		differs = memcmp(first, x, 49 * sizeof *x) != 0;
		free(x);
	}
	free(first);
	assert_true(differs);
}

static void test_refusals(void **state)
{
	(void)state;
	bool cut[9];
	char err[200];
	uint64_t rng = 1;
	/* Three nodes: every node sees a majority only by seeing all. */
	assert_int_equal(grudge_make(GRUDGE_MAJORITIES_RING, 3, &rng, NULL, 0, NULL, cut, err,
				     sizeof err),
			 -1);
	assert_non_null(strstr(err, "at least 4 nodes"));
	assert_int_equal(grudge_make(GRUDGE_MINORITY_THIRD, 3, &rng, NULL, 0, NULL, cut, err,
				     sizeof err),
			 -1);
	assert_int_equal(grudge_make(GRUDGE_BRIDGE, 2, &rng, NULL, 0, NULL, cut, err, sizeof err),
			 -1);
	assert_int_equal(grudge_make(GRUDGE_PRIMARIES, 3, &rng, NULL, 0, NULL, cut, err, sizeof err),
			 -1);
	assert_non_null(strstr(err, "no primary"));
	int groups[3] = {0, 0, 0}; /* one group: nothing cut */
	assert_int_equal(grudge_make(GRUDGE_GROUPS, 3, &rng, NULL, 0, groups, cut, err, sizeof err),
			 -1);
	assert_non_null(strstr(err, "cuts nothing"));
	assert_int_equal(grudge_make(GRUDGE_ONE, 1, &rng, NULL, 0, NULL, cut, err, sizeof err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_one),
		cmocka_unit_test(test_majority),
		cmocka_unit_test(test_minority_third),
		cmocka_unit_test(test_majorities_ring),
		cmocka_unit_test(test_bridge),
		cmocka_unit_test(test_primaries_and_groups),
		cmocka_unit_test(test_primary_minority),
		cmocka_unit_test(test_reproducible),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
