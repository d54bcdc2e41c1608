/*
 * linearizable.h - the linearizability checker's streaming entry points.
 * checker_linearizable.check() takes a loaded struct history; these let
 * `faultline check` feed ops straight from history_stream() into the
 * checker's compact representation, so a million-op history is never held
 * as struct op / jansson values.
 */
#ifndef FAULTLINE_LINEARIZABLE_H
#define FAULTLINE_LINEARIZABLE_H

#include <jansson.h>
#include <stddef.h>

#include "checker.h"

struct op;
struct lin_builder;

/* NULL with err set if the model is unknown or its initial state is bad. */
struct lin_builder *lin_begin(const struct check_opts *o, char *err, size_t errlen);
/* Feed ops in history order. Returns 0, or -1 with err set (an op the
 * model cannot understand). Does not take ownership of op. */
int lin_add(struct lin_builder *b, const struct op *op, char *err, size_t errlen);
/* Run the check and free the builder. Returns the result object. */
json_t *lin_finish(struct lin_builder *b);
void lin_abort(struct lin_builder *b);

extern const struct checker checker_linearizable;

#endif
