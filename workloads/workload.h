/*
 * workload.h - a workload ties the pieces together: which operations the
 * generator makes, how they are keyed, which model and checkers judge them.
 * One file per workload in workloads/ (register.c first).
 */
#ifndef FAULTLINE_WORKLOAD_H
#define FAULTLINE_WORKLOAD_H

#include <stdint.h>

struct op;
struct test;

struct workload {
	const char *name;
	/* Fill in f and value of an invocation for a key (key is set by the
	 * generator). rng is the worker's seeded random state. */
	void (*make_op)(uint64_t *rng, struct op *op);
	/* Model name for the linearizability checker, or NULL. */
	const char *model;
	/* Names of the checkers that judge this workload (NULL-terminated). */
	const char *const *checkers;
	/* Optional: does the workload need final reads after recovery? */
	int needs_final_reads;
};

const struct workload *workload_find(const char *name);
/* The known workload names, comma-separated (for errors and --help). */
const char *workload_names(void);

#endif
