/*
 * model_set.c - the set model: add v inserts an element, read returns the
 * whole set, which must equal the state exactly. The state is the sorted
 * list of element ids, interned per search. A read whose result is unknown
 * constrains nothing; a nil read is the empty set (or nothing, with
 * --nil-read unknown).
 */
#include "model.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

enum { SET_ADD, SET_READ };

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Push the sorted, distinct ids of array v into env->ext; returns count. */
static uint16_t set_push_elems(struct model_env *env, json_t *v, uint32_t *off)
{
	*off = (uint32_t)env->n_ext;
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e)
		model_env_push(env, values_intern(&env->vals, e));
	size_t n = env->n_ext - *off;
	if (n > 1)
		qsort(env->ext + *off, n, sizeof(uint32_t), cmp_u32);
	size_t w = 0;
	for (size_t r = 0; r < n; r++)
		if (w == 0 || env->ext[*off + w - 1] != env->ext[*off + r])
			env->ext[*off + w++] = env->ext[*off + r];
	env->n_ext = *off + w;
	return (uint16_t)w;
}

static int set_encode(struct model_env *env, const char *f, json_t *value, bool known_result,
		      struct mop *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (!strcmp(f, "add")) {
		out->f = SET_ADD;
		out->a = values_intern(&env->vals, value);
		return MODEL_OP;
	}
	if (f_is_read(f)) {
		if (!known_result || (json_is_null(value) && env->nil_read_unknown))
			return MODEL_DROP;
		if (!json_is_null(value) && (!json_is_array(value) || json_array_size(value) > 0xFFFF)) {
			model_err(err, errlen, "a set read must return a list of elements");
			return MODEL_ERR;
		}
		out->f = SET_READ;
		if (json_is_array(value))
			out->n = set_push_elems(env, value, &out->ext);
		return MODEL_OP;
	}
	model_err(err, errlen, "the set model has no op '%s' (it knows add, read)", f);
	return MODEL_ERR;
}

static int set_encode_init(struct model_env *env, json_t *init, struct mop *out, char *err,
			   size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (!init || json_is_null(init))
		return 0;
	if (!json_is_array(init) || json_array_size(init) > 0xFFFF) {
		model_err(err, errlen, "set initial state must be a list of elements");
		return -1;
	}
	out->n = set_push_elems(env, init, &out->ext);
	return 0;
}

static void *set_ctx_new(const struct model_env *env, const struct mop *init, model_state *s0)
{
	struct seq_ctx *c = seq_ctx_new(env);
	*s0 = seq_intern(c, env->ext + init->ext, init->n);
	return c;
}

static bool set_step(void *ctx, model_state s, const struct mop *op, model_state *out)
{
	struct seq_ctx *c = ctx;
	size_t n = seq_load(c, s, 1);
	if (op->f == SET_READ) {
		*out = s;
		return n == op->n &&
		       (n == 0 || !memcmp(c->tmp, c->env->ext + op->ext, n * sizeof(uint32_t)));
	}
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (c->tmp[mid] < op->a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && c->tmp[lo] == op->a) {
		*out = s;
		return true;
	}
	memmove(c->tmp + lo + 1, c->tmp + lo, (n - lo) * sizeof(uint32_t));
	c->tmp[lo] = op->a;
	*out = seq_intern(c, c->tmp, n + 1);
	return true;
}

static bool set_read_only(const struct mop *op) { return op->f == SET_READ; }

/* Adds only grow the set: the state must be a subset of what a read saw. */
static bool set_reach(void *ctx, model_state s, const struct mop *read)
{
	struct seq_ctx *c = ctx;
	size_t n = seq_load(c, s, 0);
	const uint32_t *r = c->env->ext + read->ext;
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		while (j < read->n && r[j] < c->tmp[i])
			j++;
		if (j == read->n || r[j] != c->tmp[i])
			return false;
	}
	return true;
}

static char *set_describe(void *ctx, model_state s)
{
	struct seq_ctx *c = ctx;
	size_t n = seq_load(c, s, 0);
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, values_json(&c->env->vals, c->tmp[i]));
	char *d = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return d ? d : xstrdup("?");
}

const struct model model_set = {
	.name = "set",
	.encode = set_encode,
	.encode_init = set_encode_init,
	.ctx_new = set_ctx_new,
	.ctx_free = seq_ctx_free,
	.step = set_step,
	.hash = model_hash_id,
	.equal = model_equal_id,
	.describe = set_describe,
	.ctx_bytes = seq_ctx_bytes,
	.read_only = set_read_only,
	.reach = set_reach,
};
