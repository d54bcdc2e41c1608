/*
 * model_kv.c - the kv model, per key: a string register with get, put and
 * append. The checker splits a kv history by key (P-compositionality), so
 * the model only ever sees one key: its state is that key's value, a key
 * never written reads as "" (and, by default, a nil get reads "" too; with
 * --nil-read unknown it constrains nothing). Values compare exactly (1 is
 * not "1"); append concatenates strings: its argument must be one, and an
 * append to a key holding a non-string value is not legal.
 *
 * A state is one canonical id: the global id of the string when some
 * history value equals it (always, after a put), else an id in the search's
 * own table with KV_LOCAL set (strings only append builds). So get and put,
 * the common ops, step without touching any string: get is legal iff the
 * state id equals the id of the value read.
 */
#include "model.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

enum { KV_GET, KV_PUT, KV_APPEND };

#define KV_LOCAL (1ULL << 32)

struct kv_ctx {
	const struct model_env *env;
	struct interner in;
	char *tmp;
	size_t tmpcap;
};

/* A kv value: nil is the empty string (a key never written). */
static value_id kv_value(struct model_env *env, json_t *v)
{
	return json_is_null(v) ? values_intern_str(&env->vals, "", 0) : values_intern(&env->vals, v);
}

static int kv_encode(struct model_env *env, const char *f, json_t *value, bool known_result,
		     struct mop *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (f_is_read(f)) {
		if (!known_result || (json_is_null(value) && env->nil_read_unknown))
			return MODEL_DROP;
		out->f = KV_GET;
	} else if (f_is_write(f)) {
		out->f = KV_PUT;
	} else if (!strcmp(f, "append")) {
		if (!json_is_string(value)) {
			model_err(err, errlen, "a kv append takes a string, not %s",
				  json_is_array(value) ? "a list" : json_is_object(value) ? "a map"
				  : json_is_integer(value) || json_is_real(value) ? "a number"
				  : "this value");
			return MODEL_ERR;
		}
		out->f = KV_APPEND;
	} else {
		model_err(err, errlen, "the kv model has no op '%s' (it knows get, put, append)", f);
		return MODEL_ERR;
	}
	out->a = kv_value(env, value);
	return MODEL_OP;
}

static int kv_encode_init(struct model_env *env, json_t *init, struct mop *out, char *err,
			  size_t errlen)
{
	(void)err;
	(void)errlen;
	memset(out, 0, sizeof *out);
	out->a = kv_value(env, init ? init : json_null());
	return 0;
}

static void *kv_ctx_new(const struct model_env *env, const struct mop *init, model_state *s0)
{
	struct kv_ctx *c = xcalloc(1, sizeof *c);
	c->env = env;
	interner_init(&c->in);
	*s0 = init->a;
	return c;
}

static void kv_ctx_free(void *ctx)
{
	struct kv_ctx *c = ctx;
	interner_free(&c->in);
	free(c->tmp);
	free(c);
}

static const char *kv_bytes(struct kv_ctx *c, model_state s, size_t *n)
{
	if (s & KV_LOCAL)
		return interner_get(&c->in, (uint32_t)s, n);
	return values_str(&c->env->vals, (value_id)s, n);
}

static bool kv_step(void *ctx, model_state s, const struct mop *op, model_state *out)
{
	struct kv_ctx *c = ctx;
	if (op->f == KV_GET) {
		*out = s;
		return s == op->a;
	}
	if (op->f == KV_PUT) {
		*out = op->a;
		return true;
	}
	size_t sn, vn;
	const char *sv = kv_bytes(c, s, &sn);
	const char *v = values_str(&c->env->vals, op->a, &vn);
	if (!sv || !v)
		return false; /* appending to a number, list...: no such string */
	if (sn + vn + 1 > c->tmpcap) {
		c->tmpcap = (sn + vn + 1) * 2;
		c->tmp = xrealloc(c->tmp, c->tmpcap);
	}
	memcpy(c->tmp, sv, sn);
	memcpy(c->tmp + sn, v, vn);
	value_id g = values_find_str(&c->env->vals, c->tmp, sn + vn);
	*out = g != UINT32_MAX ? g : (KV_LOCAL | interner_intern(&c->in, c->tmp, sn + vn));
	return true;
}

static char *kv_describe(void *ctx, model_state s)
{
	struct kv_ctx *c = ctx;
	size_t n;
	const char *sv = kv_bytes(c, s, &n);
	if (!sv)
		return model_describe_value(c->env, (value_id)s);
	json_t *j = json_stringn(sv, n);
	char *d = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	json_decref(j);
	return d ? d : xstrdup("?");
}

static size_t kv_ctx_bytes(void *ctx)
{
	struct kv_ctx *c = ctx;
	return interner_bytes(&c->in) + c->tmpcap;
}

const struct model model_kv = {
	.name = "kv",
	.encode = kv_encode,
	.encode_init = kv_encode_init,
	.ctx_new = kv_ctx_new,
	.ctx_free = kv_ctx_free,
	.step = kv_step,
	.hash = model_hash_id,
	.equal = model_equal_id,
	.describe = kv_describe,
	.ctx_bytes = kv_ctx_bytes,
};
