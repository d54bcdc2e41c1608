/*
 * grudge.c - the partition math (grudge.h): Jepsen's grudges as symmetric
 * cut matrices over node indices. Nothing here touches a node; partition.c
 * turns a cut matrix into iptables rules, and the history records it as
 * {"n1":["n2","n3"], ...} (whom each node cannot reach).
 *
 * Randomness comes only from the seeded rng (shuffles), so a seed
 * reproduces the same partitions.
 */
#include "grudge.h"

#include "rng.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[GRUDGE_N] = {
	"one", "majority", "majorities-ring", "bridge", "minority-third",
	"primaries", "groups", "primary-minority",
};

int grudge_kind_parse(const char *s)
{
	for (int i = 0; s && i < GRUDGE_N; i++)
		if (!strcmp(s, kind_names[i]))
			return i;
	return -1;
}

const char *grudge_kind_name(int kind)
{
	return kind >= 0 && kind < GRUDGE_N ? kind_names[kind] : "?";
}

const char *grudge_kind_names(void)
{
	return "one, majority, majorities-ring, bridge, minority-third, primaries, groups, "
	       "primary-minority";
}

int grudge_min_nodes(int kind)
{
	switch (kind) {
	case GRUDGE_MAJORITIES_RING:
	case GRUDGE_MINORITY_THIRD:
		return 4;
	case GRUDGE_BRIDGE:
	case GRUDGE_PRIMARY_MINORITY:
		return 3;
	default:
		return 2;
	}
}

void grudge_complete(int n, const int *comp, bool *cut)
{
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			cut[i * n + j] = i != j && comp[i] >= 0 && comp[j] >= 0 && comp[i] != comp[j];
}

static void shuffle(uint64_t *rng, int *a, int n)
{
	for (int i = n - 1; i > 0; i--) {
		int j = (int)rng_below(rng, (uint64_t)i + 1);
		int t = a[i];
		a[i] = a[j];
		a[j] = t;
	}
}

static int *shuffled(int n, uint64_t *rng)
{
	int *a = xcalloc((size_t)n, sizeof *a);
	for (int i = 0; i < n; i++)
		a[i] = i;
	shuffle(rng, a, n);
	return a;
}

/* The first `k` shuffled nodes form component 0, the rest component 1. */
static void split_first(int n, int k, uint64_t *rng, bool *cut)
{
	int *s = shuffled(n, rng);
	int *comp = xcalloc((size_t)n, sizeof *comp);
	for (int i = 0; i < n; i++)
		comp[s[i]] = i < k ? 0 : 1;
	grudge_complete(n, comp, cut);
	free(comp);
	free(s);
}

/* Ring order from a shuffle; each node sees the k nearest on each side.
 * With k = ceil((m-1)/2) for the majority m, everyone sees at least m
 * nodes, and since 2k+1 < n nobody sees all, and no two nodes see the same
 * set (their windows are shifted). */
static void majorities_ring(int n, uint64_t *rng, bool *cut)
{
	int m = n / 2 + 1;
	int k = m / 2; /* ceil((m-1)/2) */
	int *s = shuffled(n, rng);
	int *pos = xcalloc((size_t)n, sizeof *pos);
	for (int i = 0; i < n; i++)
		pos[s[i]] = i;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			int d = abs(pos[i] - pos[j]);
			if (n - d < d)
				d = n - d;
			cut[i * n + j] = d > k;
		}
	free(pos);
	free(s);
}

/* One node (the bridge) talks to both halves of the rest. */
static void bridge(int n, uint64_t *rng, bool *cut)
{
	int *s = shuffled(n, rng);
	int *comp = xcalloc((size_t)n, sizeof *comp);
	comp[s[0]] = -1;
	int half = (n - 1) / 2;
	for (int i = 1; i < n; i++)
		comp[s[i]] = i - 1 < half ? 0 : 1;
	grudge_complete(n, comp, cut);
	free(comp);
	free(s);
}

/* The primary and (n-1)/2 - 1 others drawn at random form the minority
 * side: what a failover needs to leave behind a primary that still has a
 * replica to satisfy min-replicas-to-write and WAIT (Redis Sentinel). */
static void primary_minority(int n, int primary, uint64_t *rng, bool *cut)
{
	int *s = shuffled(n, rng);
	int *comp = xcalloc((size_t)n, sizeof *comp);
	int others = (n - 1) / 2 - 1;
	for (int i = 0; i < n; i++)
		comp[i] = 1;
	comp[primary] = 0;
	for (int i = 0; i < n && others > 0; i++)
		if (s[i] != primary) {
			comp[s[i]] = 0;
			others--;
		}
	grudge_complete(n, comp, cut);
	free(comp);
	free(s);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int grudge_make(int kind, int n, uint64_t *rng, const int *primaries, int np,
		const int *groups, bool *cut, char *err, size_t errlen)
{
	if (kind < 0 || kind >= GRUDGE_N)
		return fail(err, errlen, "unknown grudge %d", kind);
	if (n < grudge_min_nodes(kind))
		return fail(err, errlen, "grudge %s needs at least %d nodes (have %d)",
			    kind_names[kind], grudge_min_nodes(kind), n);
	memset(cut, 0, (size_t)n * (size_t)n * sizeof *cut);
	switch (kind) {
	case GRUDGE_ONE:
		split_first(n, 1, rng, cut);
		break;
	case GRUDGE_MAJORITY:
		split_first(n, n / 2, rng, cut);
		break;
	case GRUDGE_MAJORITIES_RING:
		majorities_ring(n, rng, cut);
		break;
	case GRUDGE_BRIDGE:
		bridge(n, rng, cut);
		break;
	case GRUDGE_MINORITY_THIRD:
		split_first(n, (n - 1) / 3, rng, cut);
		break;
	case GRUDGE_PRIMARIES: {
		if (np < 1)
			return fail(err, errlen, "no primary known");
		int *comp = xcalloc((size_t)n, sizeof *comp);
		for (int i = 0; i < np; i++) {
			if (primaries[i] < 0 || primaries[i] >= n) {
				free(comp);
				return fail(err, errlen, "primary %d out of range", primaries[i]);
			}
			comp[primaries[i]] = i + 1;
		}
		grudge_complete(n, comp, cut);
		free(comp);
		break;
	}
	case GRUDGE_PRIMARY_MINORITY:
		if (np < 1)
			return fail(err, errlen, "no primary known");
		if (primaries[0] < 0 || primaries[0] >= n)
			return fail(err, errlen, "primary %d out of range", primaries[0]);
		primary_minority(n, primaries[0], rng, cut);
		break;
	case GRUDGE_GROUPS:
		if (!groups)
			return fail(err, errlen, "grudge groups needs nemesis_opts.partition.groups");
		grudge_complete(n, groups, cut);
		break;
	}
	if (!grudge_cuts_any(n, cut))
		return fail(err, errlen, "grudge %s cuts nothing on %d nodes", kind_names[kind], n);
	return 0;
}

bool grudge_cuts_any(int n, const bool *cut)
{
	for (int i = 0; i < n * n; i++)
		if (cut[i])
			return true;
	return false;
}

int grudge_sees(int n, const bool *cut, int i)
{
	int c = 0;
	for (int j = 0; j < n; j++)
		c += !cut[i * n + j];
	return c;
}
