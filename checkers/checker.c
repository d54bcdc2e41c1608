/*
 * checker.c - the checker registry: find a checker by name, list the
 * names. A new checker is one file in checkers/ plus one line in the
 * table here.
 */
#include "checker.h"
#include "history.h"
#include "linearizable.h"
#include "util.h"

#include <string.h>

extern const struct checker checker_set_full, checker_bank, checker_counter, checker_lock,
	checker_elle;

static const struct checker *const checkers[] = {
	&checker_linearizable,
	&checker_set_full,
	&checker_bank,
	&checker_counter,
	&checker_lock,
	&checker_elle,
};

#define N_CHECKERS (sizeof checkers / sizeof *checkers)

const struct checker *checker_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < N_CHECKERS; i++)
		if (!strcmp(checkers[i]->name, name))
			return checkers[i];
	if (!strcmp(name, "linearizability") || !strcmp(name, "linear"))
		return &checker_linearizable;
	return NULL;
}

const char *checker_names(void)
{
	static char *cache;
	return registry_names((const void *const *)checkers, N_CHECKERS, &cache);
}

json_t *checker_opts(const struct check_ctx *ctx, const char *name)
{
	return ctx && json_is_object(ctx->opts) ? json_object_get(ctx->opts, name) : NULL;
}

json_t *checker_run(const struct checker *c, const struct history *h,
		    const struct check_ctx *ctx)
{
	char err[512] = "";
	void *st = c->begin(ctx, err, sizeof err);
	for (size_t i = 0; st && i < h->n; i++) {
		if (c->add(st, &h->ops[i], err, sizeof err) < 0) {
			c->abort(st);
			st = NULL;
		}
	}
	if (st)
		return c->finish(st);
	return json_pack("{s:s, s:s}", "valid", "unknown", "error", err);
}
