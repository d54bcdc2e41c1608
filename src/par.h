/*
 * par.h - run a function on every node in parallel: the one fan-out of
 * faultline. SSH connects, db setup (a consensus database only becomes
 * healthy once a quorum of its members runs, so setups must overlap),
 * nemesis scripts, log downloads and heal all go through par_each.
 */
#ifndef FAULTLINE_PAR_H
#define FAULTLINE_PAR_H

#include <stdbool.h>
#include <stddef.h>

/* One call: 0 on success, non-zero with err set (naming its node). */
typedef int (*par_fn)(void *ctx, int i, char *err, size_t errlen);

/* Call fn(ctx, i) for every i in [0, n) with want[i] (want NULL: all), each
 * in its own thread (a call whose thread cannot start runs in the caller's
 * thread), and wait for all. Returns the number of calls that failed; err
 * (may be NULL) receives their messages in index order, joined by "; ". */
int par_each(int n, const bool *want, par_fn fn, void *ctx, char *err, size_t errlen);

#endif
