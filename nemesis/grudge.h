/*
 * grudge.h - the partition math, apart from any node: which pairs of nodes
 * a partition cuts. Pure functions of (n, rng) so they can be unit-tested
 * exhaustively (tests/unit/test_grudge.c).
 *
 * A partition is a symmetric cut matrix: cut[i*n+j] is true when nodes i
 * and j cannot talk. Cuts are always symmetric because partition.c drops
 * both directions on both nodes; Jepsen's one-way grudges would become
 * their symmetric closure anyway.
 */
#ifndef FAULTLINE_GRUDGE_H
#define FAULTLINE_GRUDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum grudge_kind {
	GRUDGE_ONE,             /* isolate one random node */
	GRUDGE_MAJORITY,        /* random halves: n/2 | n - n/2 */
	GRUDGE_MAJORITIES_RING, /* every node sees a majority, no two the same */
	GRUDGE_BRIDGE,          /* two halves, one node talks to both */
	GRUDGE_MINORITY_THIRD,  /* isolate floor((n-1)/3) nodes together */
	GRUDGE_PRIMARIES,       /* isolate each primary on its own */
	GRUDGE_GROUPS,          /* explicit groups from the config */
	GRUDGE_PRIMARY_MINORITY, /* the primary with (n-1)/2 - 1 random others: a
				  * minority that keeps one replica of the primary */
	GRUDGE_N
};

/* -1 if unknown. */
int grudge_kind_parse(const char *s);
const char *grudge_kind_name(int kind);
/* Smallest cluster on which the kind cuts anything. */
int grudge_min_nodes(int kind);
/* The kinds' names, comma-separated. */
const char *grudge_kind_names(void);

/* Nodes in different components cannot talk. comp[i] < 0: node i is in no
 * component and talks to everyone. */
void grudge_complete(int n, const int *comp, bool *cut);

/* Fill cut (n*n) for a random partition of the kind. primaries (np of
 * them) are used by GRUDGE_PRIMARIES (each isolated) and
 * GRUDGE_PRIMARY_MINORITY (the first one only), groups (group index per node, -1 for
 * none) by GRUDGE_GROUPS. Returns 0, or -1 with err when the kind cannot
 * cut n nodes (too few nodes, no primary). */
int grudge_make(int kind, int n, uint64_t *rng, const int *primaries, int np,
		const int *groups, bool *cut, char *err, size_t errlen);

/* Does the cut separate anything? */
bool grudge_cuts_any(int n, const bool *cut);
/* Number of nodes i can talk to, itself included. */
int grudge_sees(int n, const bool *cut, int i);

#endif
