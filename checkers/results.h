/*
 * results.h - verdicts: the only place that ranks them, names them and maps
 * them to exit codes. results.json, report.html, junit.xml, the store index,
 * `faultline run` and `faultline check` all go through here.
 *
 * A verdict in JSON is true (valid), false (invalid) or anything else
 * (unknown: a checker that could not decide must never read as valid).
 * Ranking: invalid beats unknown beats valid. Exit codes (Jepsen's): 0
 * valid, 1 invalid, 2 unknown (1 with --fail-on unknown), 254 bad
 * arguments or input, 255 internal error.
 */
#ifndef FAULTLINE_RESULTS_H
#define FAULTLINE_RESULTS_H

#include <jansson.h>
#include <stdbool.h>

/* Ordered: a larger value is a worse verdict. */
enum verdict { VERDICT_VALID = 0, VERDICT_UNKNOWN = 1, VERDICT_INVALID = 2 };

enum verdict verdict_of(json_t *valid);
/* The verdict of a results object ({"valid": ...}); unknown when absent. */
enum verdict verdict_of_result(json_t *result);
json_t *verdict_json(enum verdict v); /* new reference */
enum verdict verdict_worst(enum verdict a, enum verdict b);
/* "valid", "invalid", "unknown" */
const char *verdict_word(enum verdict v);
/* "VALID", "INVALID", "UNKNOWN" */
const char *verdict_title(enum verdict v);
int verdict_exit_code(enum verdict v, bool fail_on_unknown);
/* The worse of two exit codes: 255 > 254 > 1 (invalid) > 2 (unknown) > 0. */
int exit_code_worst(int a, int b);

#endif
