/*
 * results.c - verdict ranking, words and exit codes (results.h).
 */
#include "results.h"

#include "util.h"

enum verdict verdict_of(json_t *valid)
{
	if (json_is_true(valid))
		return VERDICT_VALID;
	if (json_is_false(valid))
		return VERDICT_INVALID;
	return VERDICT_UNKNOWN;
}

enum verdict verdict_of_result(json_t *result)
{
	return verdict_of(json_object_get(result, "valid"));
}

json_t *verdict_json(enum verdict v)
{
	return v == VERDICT_VALID ? json_true() : v == VERDICT_INVALID ? json_false()
								 : json_string("unknown");
}

enum verdict verdict_worst(enum verdict a, enum verdict b) { return a > b ? a : b; }

const char *verdict_word(enum verdict v)
{
	return v == VERDICT_VALID ? "valid" : v == VERDICT_INVALID ? "invalid" : "unknown";
}

const char *verdict_title(enum verdict v)
{
	return v == VERDICT_VALID ? "VALID" : v == VERDICT_INVALID ? "INVALID" : "UNKNOWN";
}

int verdict_exit_code(enum verdict v, bool fail_on_unknown)
{
	if (v == VERDICT_VALID)
		return EXIT_VALID;
	if (v == VERDICT_INVALID)
		return EXIT_INVALID;
	return fail_on_unknown ? EXIT_INVALID : EXIT_UNKNOWN;
}

static int exit_rank(int code)
{
	switch (code) {
	case EXIT_VALID: return 0;
	case EXIT_UNKNOWN: return 1;
	case EXIT_INVALID: return 2;
	case EXIT_BADARGS: return 3;
	default: return 4; /* internal, or anything unexpected */
	}
}

int exit_code_worst(int a, int b) { return exit_rank(a) >= exit_rank(b) ? a : b; }
