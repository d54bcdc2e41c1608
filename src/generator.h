/*
 * generator.h - what each worker does next: the seeded op stream, the
 * independent-key schedule and the rate limit.
 *
 * Reproducibility: every process p draws its (f, value) stream from its own
 * rng, derived from (test seed, p), so the same --seed gives every process
 * the same op stream whatever the other workers do. Which key an op lands on
 * depends on how a key group's workers interleave (as in Jepsen's
 * independent/concurrent-generator) and is not part of that promise.
 *
 * Independent keys: workers are split into groups of at most
 * test->key_concurrency; each group works through its own keys (group g
 * owns keys g, g+G, g+2G, ...), moving to the next key after
 * test->ops_per_key ops. So no key sees more than key_concurrency
 * processes or ops_per_key ops, and the linearizability search per key
 * stays small.
 */
#ifndef FAULTLINE_GENERATOR_H
#define FAULTLINE_GENERATOR_H

#include <stdint.h>

#include "rng.h"
#include "workload.h"

struct test;
struct workload;
struct op;
struct generator;


struct generator *generator_new(const struct test *t, const struct workload *wl);
/* The workload's generator state (for its final ops). */
void *generator_workload_state(struct generator *g);
void generator_free(struct generator *g);
void generator_worker_init(struct generator *g, struct gen_worker *w, int worker);
/* Switch the worker to a new process (start, or after an info). */
void generator_set_process(struct gen_worker *w, int64_t process);
/* Fill f, key and value of the next invocation (op is zeroed by caller).
 * last: the completion of the process's previous op, NULL for its first. */
void generator_next(struct gen_worker *w, const struct op *last, struct op *op);
/* Rate limit: monotonic ns at which the next op may start (<= now: go). */
int64_t generator_due(struct gen_worker *w, int64_t now);
/* Highest key id handed out so far, or -1 (final reads cover 0..max). */
int64_t generator_max_key(const struct generator *g);
/* Number of key groups. */
int generator_groups(const struct generator *g);

#endif
