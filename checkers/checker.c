/*
 * checker.c - the checker registry and verdict arithmetic shared by
 * `faultline run` (results.json) and `faultline check`: find a checker by
 * name, combine verdicts (false beats "unknown" beats true), and map a
 * verdict to Jepsen's exit code. A new checker is added to the table here.
 */
#include "checker.h"
#include "linearizable.h"
#include "util.h"

#include <string.h>

static const struct checker *const checkers[] = {
	&checker_linearizable,
};

const struct checker *checker_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof checkers / sizeof *checkers; i++)
		if (!strcmp(checkers[i]->name, name))
			return checkers[i];
	if (!strcmp(name, "linearizability") || !strcmp(name, "linear"))
		return &checker_linearizable;
	return NULL;
}

/* 0 valid, 1 invalid, 2 unknown (anything that is not a boolean counts as
 * unknown: a checker that could not decide must never read as valid). */
static int verdict_rank(json_t *v)
{
	if (json_is_true(v))
		return 0;
	if (json_is_false(v))
		return 2;
	return 1;
}

json_t *checker_merge_valid(json_t *a, json_t *b)
{
	int ra = a ? verdict_rank(a) : 0, rb = b ? verdict_rank(b) : 0;
	int r = ra > rb ? ra : rb;
	return r == 0 ? json_true() : r == 2 ? json_false() : json_string("unknown");
}

int checker_exit_code(json_t *valid)
{
	int r = verdict_rank(valid);
	return r == 0 ? EXIT_VALID : r == 2 ? EXIT_INVALID : EXIT_UNKNOWN;
}
