/*
 * histbuild.h - hand-made histories for the unit tests of the history
 * checkers (set-full, bank, counter, lock): ops are appended in history
 * order, each one millisecond after the previous, with values written as
 * JSON text, then judged through the checker registry like a real run.
 * Header-only; included by tests/unit/test_*.c.
 */
#ifndef FAULTLINE_TEST_HISTBUILD_H
#define FAULTLINE_TEST_HISTBUILD_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checker.h"
#include "history.h"
#include "results.h"
#include "util.h"

#define HB_STEP_NS 1000000 /* 1 ms between consecutive ops */

static inline void hb_push(struct history *h, int64_t process, enum op_type type, const char *f,
			   const char *value)
{
	struct op op;
	memset(&op, 0, sizeof op);
	op.index = (int64_t)h->n;
	op.time = (int64_t)h->n * HB_STEP_NS;
	op.type = type;
	op.process = process;
	op.f = xstrdup(f);
	json_error_t e;
	op.value = value ? json_loads(value, JSON_DECODE_ANY, &e) : json_null();
	if (!op.value)
		abort(); /* a typo in a test's JSON */
	if (process >= 0 && type != OP_INVOKE)
		op.node = xasprintf("n%lld", (long long)(process % 5 + 1));
	history_push(h, &op);
}

#define INV(h, p, f, v) hb_push(h, p, OP_INVOKE, f, v)
#define OK(h, p, f, v) hb_push(h, p, OP_OK, f, v)
#define FAIL(h, p, f, v) hb_push(h, p, OP_FAIL, f, v)
#define INFO(h, p, f, v) hb_push(h, p, OP_INFO, f, v)
#define NEM(h, type, f, v) hb_push(h, PROCESS_NEMESIS, type, f, v)

/* Judge h with the named checker; ctx may be NULL. Frees h. */
static inline json_t *hb_check(const char *checker, struct history *h, const struct check_ctx *ctx)
{
	const struct checker *c = checker_find(checker);
	if (!c)
		abort();
	struct check_ctx none;
	memset(&none, 0, sizeof none);
	json_t *r = checker_run(c, h, ctx ? ctx : &none);
	history_free(h);
	return r;
}

static inline enum verdict hb_verdict(json_t *r)
{
	return verdict_of_result(r);
}

/* The first failure of kind, or NULL. */
static inline json_t *hb_failure(json_t *r, const char *kind)
{
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(r, "failures"), i, f) {
		if (!strcmp(json_string_value(json_object_get(f, "kind")), kind))
			return f;
	}
	return NULL;
}

static inline size_t hb_count(json_t *r, const char *kind)
{
	size_t i, n = 0;
	json_t *f;
	json_array_foreach(json_object_get(r, "failures"), i, f) {
		if (!strcmp(json_string_value(json_object_get(f, "kind")), kind))
			n++;
	}
	return n;
}

static inline json_int_t hb_int(json_t *o, const char *path)
{
	/* "a.b.c" */
	char buf[128];
	snprintf(buf, sizeof buf, "%s", path);
	json_t *cur = o;
	for (char *save = NULL, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
		cur = json_is_array(cur) ? json_array_get(cur, (size_t)atoi(k)) : json_object_get(cur, k);
	if (!json_is_integer(cur)) {
		char *s = json_dumps(o, JSON_INDENT(1));
		fprintf(stderr, "no integer at %s in\n%s\n", path, s ? s : "?");
		free(s);
		abort();
	}
	return json_integer_value(cur);
}

#endif
