/*
 * opref.h - what the history checkers (set-full, bank, counter, lock) keep
 * of an op to cite it later: its invoke and completion indexes and times,
 * process, outcome and node, without the op's value. A failure names the
 * ops it is about in one shape, {"index", "complete_index", "invoke_time",
 * "complete_time", "process", "type", "node", "f", "value"}, so the report
 * can draw and link them ("index" is the invoke's, as in report.html#op=N).
 * Also the latency quantiles their results carry.
 */
#ifndef FAULTLINE_OPREF_H
#define FAULTLINE_OPREF_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "history.h"

struct opref {
	int64_t index, complete_index;    /* complete_index -1: never completed */
	int64_t invoke_time, complete_time;
	int64_t process;
	enum op_type type;                /* OP_INVOKE while pending */
	char *node;                       /* owned, NULL if none */
	json_t *extra;                    /* the completion's other fields (a Redis
					   * "primary", "acks"), a held reference */
};

/* Start from an invocation. */
void opref_invoke(struct opref *r, const struct op *inv);
/* Record its completion. */
void opref_complete(struct opref *r, const struct op *done);
void opref_free(struct opref *r);
/* dst (uninitialised or freed) becomes an independent copy of src. */
void opref_copy(struct opref *dst, const struct opref *src);
/* The op as JSON; f and value (borrowed) are added when non-NULL, and the
 * completion's other fields where they do not collide with those. */
json_t *opref_json(const struct opref *r, const char *f, json_t *value);
/* "process 3 (index 12)" style fragment for messages; static buffer
 * owned by the caller. */
void opref_words(const struct opref *r, char *out, size_t n);

/* Quantiles 0, 0.5, 0.95, 0.99, 1 of ns values, in milliseconds, as
 * {"0": ms, "0.5": ms, ...}; sorts v. NULL when n is 0. */
json_t *quantiles_ms(int64_t *v, size_t n);

#endif
