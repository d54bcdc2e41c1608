/*
 * txn_keys.h - the key space of the transactional workloads (append,
 * rw-register), as in Jepsen's Elle workloads: a few keys are active at a
 * time; a key that has taken max_writes writes retires and a fresh key
 * takes its place, so each key's version order stays short and readable
 * while the run goes on. Written values are unique per key (1, 2, 3...),
 * which is what lets the checker infer version orders.
 */
#ifndef FAULTLINE_TXN_KEYS_H
#define FAULTLINE_TXN_KEYS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct test;
struct txn_keys;

/* workload_opts of both workloads: key_count, max_writes_per_key,
 * min_txn_length, max_txn_length, read_fraction. Validated and completed
 * with defaults. */
int txn_keys_check(json_t *o, char *err, size_t errlen);
struct txn_keys *txn_keys_new(const struct test *t);
void txn_keys_free(void *k);
/* A transaction of micro-ops [[w, key, value] or [r, key, null]], with
 * w the workload's write name ("append" or "w"). Thread-safe. */
json_t *txn_keys_txn(struct txn_keys *k, uint64_t *rng, const char *w);

#endif
