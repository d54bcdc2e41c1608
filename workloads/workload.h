/*
 * workload.h - the workload interface (v2) and its registry.
 *
 * A workload decides what the clients do and how the result is judged: a
 * stateful generator of operations (unique set elements, unique appended
 * values, bank transfers, a process's lock state), the final operations
 * after recovery (a set's final read, a bank's final balances), and the
 * checkers - and, for linearizability, the model - that judge its history.
 * Which database can run it is the database's business: a db lists the
 * workloads its clients serve (db.h).
 *
 * Adding a workload: one file in workloads/ defining a struct workload,
 * one line in the table of workload.c, and a client for it in each
 * database that should run it (one line in that db's client table).
 */
#ifndef FAULTLINE_WORKLOAD_H
#define FAULTLINE_WORKLOAD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct op;
struct test;
struct generator;

/* One worker's view of the generator (generator.c): what a workload's
 * next() may read - which process asks and its seeded stream. */
struct gen_worker {
	struct generator *g;
	int worker;          /* 0..concurrency-1 */
	int group;           /* key group */
	int64_t process;     /* current process id */
	uint64_t rng;        /* the process's stream (rng.h): every random choice comes from it */
	int64_t interval_ns; /* rate limit: ns between this worker's ops; 0 = none */
	int64_t next_ns;     /* earliest start of the next op (monotonic) */
	uint64_t seq;        /* ops this process invoked so far */
};

struct workload {
	const char *name;
	const char *summary;          /* one line, for --help */
	/* Ops carry independent keys (op->key), assigned by the generator in
	 * groups of test->key_concurrency workers and test->ops_per_key ops per
	 * key, so each key is checked on its own (P-compositionality). */
	bool keyed;
	/* Model for the linearizability checker, or NULL. */
	const char *model;
	/* Checkers that judge it by default (NULL-terminated). */
	const char *const *checkers;
	/* Validate workload_opts (an object, never NULL) before any node is
	 * touched and fill in its defaults, so test.json records every value
	 * used. NULL: the workload takes no options. 0, or -1 with err naming
	 * the key ("workload_opts.accounts: expected an integer 2..1000"). */
	int (*check)(const struct test *t, json_t *opts, char *err, size_t errlen);
	/* Generator state shared by every worker of a run (NULL: stateless). */
	void *(*gen_new)(const struct test *t);
	void (*gen_free)(void *gen);
	/* Fill f and value of worker w's next invocation (op->key is already
	 * set for keyed workloads). last is the completion of the current
	 * process's previous op, NULL for its first. Called by many workers at
	 * once: gen must be thread-safe. w->rng is the process's seeded
	 * stream: draw every random choice from it. */
	void (*next)(void *gen, struct gen_worker *w, const struct op *last, struct op *op);
	/* Optional: invocations to run once after the faults are healed and
	 * the cluster has recovered (f, key and value set; the runner gives
	 * each a fresh process). max_key is the highest key the generator
	 * handed out (-1: none). Returns the count; *ops is malloc'd. */
	size_t (*final)(void *gen, const struct test *t, int64_t max_key, struct op **ops);
};

const struct workload *workload_find(const char *name);
/* The known workload names, comma-separated (for errors and --help). */
const char *workload_names(void);

#endif
