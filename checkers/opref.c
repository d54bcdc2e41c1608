/*
 * opref.c - op references and latency quantiles for the history checkers
 * (opref.h).
 */
#include "opref.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void opref_invoke(struct opref *r, const struct op *inv)
{
	memset(r, 0, sizeof *r);
	r->index = inv->index;
	r->invoke_time = inv->time;
	r->process = inv->process;
	r->type = OP_INVOKE;
	r->complete_index = -1;
	r->complete_time = -1;
}

void opref_complete(struct opref *r, const struct op *done)
{
	r->complete_index = done->index;
	r->complete_time = done->time;
	r->type = done->type;
	free(r->node);
	r->node = done->node ? xstrdup(done->node) : NULL;
	json_decref(r->extra);
	r->extra = done->extra ? json_incref(done->extra) : NULL;
}

void opref_free(struct opref *r)
{
	free(r->node);
	r->node = NULL;
	json_decref(r->extra);
	r->extra = NULL;
}

void opref_copy(struct opref *dst, const struct opref *src)
{
	*dst = *src;
	dst->node = src->node ? xstrdup(src->node) : NULL;
	if (dst->extra)
		json_incref(dst->extra);
}

json_t *opref_json(const struct opref *r, const char *f, json_t *value)
{
	json_t *o = json_object();
	json_object_set_new(o, "index", json_integer(r->index));
	json_object_set_new(o, "complete_index", json_integer(r->complete_index));
	json_object_set_new(o, "invoke_time", json_integer(r->invoke_time));
	json_object_set_new(o, "complete_time", json_integer(r->complete_time));
	if (r->process == PROCESS_NONE)
		json_object_set_new(o, "process", json_null());
	else
		json_object_set_new(o, "process", json_integer(r->process));
	json_object_set_new(o, "type", json_string(r->type == OP_INVOKE ? "pending"
						   : op_type_name(r->type)));
	if (r->node)
		json_object_set_new(o, "node", json_string(r->node));
	if (f)
		json_object_set_new(o, "f", json_string(f));
	if (value)
		json_object_set(o, "value", value);
	const char *k;
	json_t *v;
	if (r->extra)
		json_object_foreach(r->extra, k, v)
			if (!json_object_get(o, k))
				json_object_set(o, k, v);
	return o;
}

void opref_words(const struct opref *r, char *out, size_t n)
{
	if (r->process == PROCESS_NONE)
		snprintf(out, n, "index %" PRId64, r->index);
	else
		snprintf(out, n, "process %" PRId64 ", index %" PRId64, r->process, r->index);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

json_t *quantiles_ms(int64_t *v, size_t n)
{
	if (!n)
		return NULL;
	qsort(v, n, sizeof *v, cmp_i64);
	static const double qs[] = {0, 0.5, 0.95, 0.99, 1};
	static const char *const names[] = {"0", "0.5", "0.95", "0.99", "1"};
	json_t *o = json_object();
	for (size_t i = 0; i < sizeof qs / sizeof *qs; i++) {
		size_t k = (size_t)((double)n * qs[i]);
		if (k >= n)
			k = n - 1;
		json_object_set_new(o, names[i], json_real((double)v[k] / 1e6));
	}
	return o;
}
