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
#define KV_FORGOTTEN (1ULL << 33) /* a string no get will see (model.h, forget) */

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
	if (s == KV_FORGOTTEN)
		return NULL;
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
	if (s == KV_FORGOTTEN) { /* still a string, still unseen */
		*out = s;
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
	if (s == KV_FORGOTTEN)
		return xstrdup("(a string no get sees before a put replaces it)");
	const char *sv = kv_bytes(c, s, &n);
	if (!sv)
		return model_describe_value(c->env, (value_id)s);
	return model_clip(sv, n, 200);
}

static bool kv_read_only(const struct mop *op) { return op->f == KV_GET; }
static bool kv_resets(const struct mop *op) { return op->f == KV_PUT; }

/* What a get reveals: without a put in between, appends only extend the
 * string, so the state must be a prefix of what the get saw. */
static bool kv_reach(void *ctx, model_state s, const struct mop *read)
{
	struct kv_ctx *c = ctx;
	if (s == read->a)
		return true;
	size_t sn, vn;
	const char *sv = kv_bytes(c, s, &sn);
	const char *v = values_str(&c->env->vals, read->a, &vn);
	return sv && v && sn <= vn && !memcmp(sv, v, sn);
}

/* A get that cannot see state s: where they part, not two long strings. */
static char *kv_explain(void *ctx, model_state s, const struct mop *op)
{
	struct kv_ctx *c = ctx;
	size_t sn, vn;
	const char *sv = kv_bytes(c, s, &sn);
	const char *v = values_str(&c->env->vals, op->a, &vn);
	if (!sv || !v || (sn < 80 && vn < 80))
		return NULL;
	size_t p = 0;
	while (p < sn && p < vn && sv[p] == v[p])
		p++;
	while (p > 0 && (((unsigned char)sv[p] & 0xC0) == 0x80 || ((unsigned char)v[p] & 0xC0) == 0x80))
		p--;
	char *a = model_clip(sv + p, sn - p, 40), *b = model_clip(v + p, vn - p, 40);
	char *r = p == sn ? xasprintf("the first %zu chars of what it saw, without %s", p, b)
		: xasprintf("the same first %zu chars, then %s where it saw %s", p, a, b);
	free(a);
	free(b);
	return r;
}

/* Only gets look at the state (and appends, at whether it is a string):
 * a string no get can see is as good as any other. */
static model_state kv_forget(void *ctx, model_state s)
{
	size_t n;
	return kv_bytes(ctx, s, &n) ? KV_FORGOTTEN : s;
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
	.read_only = kv_read_only,
	.resets = kv_resets,
	.reach = kv_reach,
	.forget = kv_forget,
	.explain = kv_explain,
};
