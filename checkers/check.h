/*
 * check.h - check_history: the one judging path. `faultline run` calls it
 * on the history it just wrote, `faultline check` on any history file (a
 * run's, a crashed run's, or one imported from Jepsen), so both give the
 * same results.json for the same history, checkers and options.
 */
#ifndef FAULTLINE_CHECK_H
#define FAULTLINE_CHECK_H

#include <jansson.h>
#include <stddef.h>

#include "checker.h"
#include "history.h"

/* Read the history at path once and feed every op to each named checker.
 * Returns the results object (new reference):
 *   {"valid": <worst verdict>, "ops": <ops read>,
 *    "checkers": {"<name>": <that checker's result>, ...},
 *    "history_warnings": {...}          (only with ctx->lenient, if any)}
 * or NULL with err for bad input (exit 254): an unknown checker, a file
 * that cannot be read or parsed ("FILE:LINE:COL: why"), an op a checker
 * refuses, or a pairing problem (unless ctx->lenient). With no checker the
 * verdict is unknown: nothing judged the history. ctx->timeout bounds
 * everything, reading included: a history still being read when it ends
 * (a FIFO without a writer) gives "unknown". */
json_t *check_history(const char *path, enum history_format fmt, const char *const *checkers,
		      size_t n_checkers, const struct check_ctx *ctx, char *err, size_t errlen);

#endif
