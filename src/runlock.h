/*
 * runlock.h - one run per cluster. `faultline run` and `faultline heal`
 * hold the lock of the nodes they act on, so a second run, a heal or a
 * `cluster down` cannot wipe a running test's database, kill its nodes or
 * remove its network under it. A local cluster's lock is a kernel lock in
 * its state directory (cluster_lock: released however the holder ends); a
 * remote cluster's is a file WORKDIR/faultline.lock on every node, created
 * atomically, holding the owner (what, pid, host, boot id, process start,
 * since when), so a lock whose holder is gone is recognised as stale and
 * taken over.
 */
#ifndef FAULTLINE_RUNLOCK_H
#define FAULTLINE_RUNLOCK_H

#include <stdbool.h>
#include <stddef.h>

struct test;
struct ssh_node;
struct runlock;

/* Take the lock for `what` ("faultline run"). ssh is needed for remote
 * nodes (may be NULL for a local cluster). force: take a remote lock even
 * from a holder that may be alive (`heal --force`). NULL with err naming
 * the holder when the nodes are in use (exit 254), or the error. */
struct runlock *runlock_take(const struct test *t, struct ssh_node **ssh, const char *what,
			     bool force, char *err, size_t errlen);
/* Release (removes only the lock files that still name us). NULL is fine. */
void runlock_release(struct runlock *l);

#endif
