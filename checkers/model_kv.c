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
	model_state init;
	/* kv_reveal's index of the key's appends, built at its first call */
	const struct mop *rv_ops;
	uint32_t *rv_head;     /* bucket -> first append (index + 1) */
	uint32_t *rv_next;     /* append -> next in its bucket (index + 1) */
	size_t rv_nbuckets;
	bool rv_unusable;      /* an empty append: any string parses many ways */
	size_t rv_minlen;      /* the shortest append value */
	uint32_t *rv_ways;     /* per position of a get's value: parses (capped at 2) */
	size_t rv_cap;
	uint64_t *rv_puts;     /* put value ids: id << 2 | count (capped at 2); 0 empty */
	size_t rv_nputs_slots;
	size_t *rv_plens;      /* the distinct lengths of put values */
	size_t rv_nplens;
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
	*s0 = c->init = init->a;
	return c;
}

static void kv_ctx_free(void *ctx)
{
	struct kv_ctx *c = ctx;
	interner_free(&c->in);
	free(c->tmp);
	free(c->rv_head);
	free(c->rv_next);
	free(c->rv_ways);
	free(c->rv_puts);
	free(c->rv_plens);
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
		return xstrdup("a string some put must replace before any get sees it");
	const char *sv = kv_bytes(c, s, &n);
	if (!sv)
		return model_describe_value(c->env, (value_id)s);
	return model_clip(sv, n, 200);
}

static bool kv_read_only(const struct mop *op) { return op->f == KV_GET; }

/* An append reads its string and the state's (a put's value, often). */
static void kv_warm(void *ctx, const struct mop *op, int stage)
{
	struct kv_ctx *c = ctx;
	if (op->f != KV_GET)
		values_prefetch(&c->env->vals, op->a, stage);
}
static model_state kv_reset_to(const struct mop *op) { return op->a; }
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
	char *r;
	if (p == sn)
		r = xasprintf("the first %zu chars of what it saw, without the rest, %s", p, b);
	else if (p == vn)
		r = xasprintf("what it saw (%zu chars) followed by %s", p, a);
	else if (p == 0)
		r = xasprintf("%s (it saw %s)", a, b);
	else
		r = xasprintf("the %zu chars it saw first, then %s where it saw %s", p, a, b);
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

static bool kv_forgotten(model_state s) { return s == KV_FORGOTTEN; }

/* Appends are indexed by their first bytes (up to 4), so the appends that
 * may start at a position of a get's value are found at once. */
#define RV_KEY 4

static size_t rv_bucket(const struct kv_ctx *c, const char *p, size_t n)
{
	return (size_t)hash_bytes(p, n < RV_KEY ? n : RV_KEY) & (c->rv_nbuckets - 1);
}

/* Slot of put value id in the set (its slot, or the empty one for it). */
static size_t rv_put_slot(const struct kv_ctx *c, value_id id)
{
	size_t m = c->rv_nputs_slots - 1, j = hash_mix(id) & m;
	while (c->rv_puts[j] && (c->rv_puts[j] >> 2) != id)
		j = (j + 1) & m;
	return j;
}

/* The initial value counts as a reset (a put before everything). */
static void rv_add_put(struct kv_ctx *c, value_id id)
{
	size_t vn;
	if (!values_str(&c->env->vals, id, &vn))
		return; /* a non-string: no get's string starts with it */
	size_t j = rv_put_slot(c, id);
	uint64_t cnt = c->rv_puts[j] & 3;
	c->rv_puts[j] = (uint64_t)id << 2 | (cnt < 2 ? cnt + 1 : 2);
	for (size_t i = 0; i < c->rv_nplens; i++)
		if (c->rv_plens[i] == vn)
			return;
	c->rv_plens[c->rv_nplens++] = vn;
}

static void rv_index(struct kv_ctx *c, const struct mop *ops, size_t n)
{
	c->rv_ops = ops;
	c->rv_nbuckets = 64;
	while (c->rv_nbuckets < 2 * n)
		c->rv_nbuckets *= 2;
	c->rv_head = xcalloc(c->rv_nbuckets, sizeof *c->rv_head);
	c->rv_next = xcalloc(n + 1, sizeof *c->rv_next);
	c->rv_nputs_slots = c->rv_nbuckets;
	c->rv_puts = xcalloc(c->rv_nputs_slots, sizeof *c->rv_puts);
	c->rv_plens = xmalloc((n + 2) * sizeof *c->rv_plens);
	c->rv_nplens = 0;
	c->rv_minlen = RV_KEY;
	rv_add_put(c, (value_id)c->init);
	for (size_t i = 0; i < n; i++) {
		if (ops[i].f == KV_PUT)
			rv_add_put(c, ops[i].a);
		if (ops[i].f != KV_APPEND)
			continue;
		size_t vn;
		const char *v = values_str(&c->env->vals, ops[i].a, &vn);
		if (!v || vn == 0) {
			c->rv_unusable = true;
			return;
		}
		if (vn < c->rv_minlen)
			c->rv_minlen = vn;
		size_t b = rv_bucket(c, v, vn);
		c->rv_next[i] = c->rv_head[b];
		c->rv_head[b] = (uint32_t)(i + 1);
	}
}

/* The append starting at v[i] (of the bucket of its first k bytes) when
 * its value fits there: its length, else 0. */
static size_t rv_match(struct kv_ctx *c, uint32_t a, const char *v, size_t i, size_t n, size_t k)
{
	size_t an;
	const char *av = values_str(&c->env->vals, c->rv_ops[a - 1].a, &an);
	if ((an < RV_KEY ? an != k : k != RV_KEY) || an > n - i || memcmp(av, v + i, an) != 0)
		return 0;
	return an;
}

/* Parses of v[i..n) into append values, capped at 2, right to left. */
static void rv_count(struct kv_ctx *c, const char *v, size_t n)
{
	if (n + 1 > c->rv_cap) {
		c->rv_cap = 2 * (n + 1);
		c->rv_ways = xrealloc(c->rv_ways, c->rv_cap * sizeof *c->rv_ways);
	}
	c->rv_ways[n] = 1;
	for (size_t i = n; i-- > 0;) {
		uint32_t w = 0;
		for (size_t k = c->rv_minlen; k <= RV_KEY && i + k <= n && w < 2; k++)
			for (uint32_t a = c->rv_head[rv_bucket(c, v + i, k)]; a && w < 2; a = c->rv_next[a - 1]) {
				size_t an = rv_match(c, a, v, i, n, k);
				if (an)
					w += c->rv_ways[i + an];
			}
		c->rv_ways[i] = w > 2 ? 2 : w;
	}
}

/* A get's value is its last reset's value (a put, or the initial value)
 * followed by the appends placed since. When that split is unique (the
 * usual case with unique append values), the get names those appends. */
static long kv_reveal(void *ctx, const struct mop *ops, size_t n, size_t r, uint32_t *out)
{
	struct kv_ctx *c = ctx;
	if (c->rv_ops != ops) {
		free(c->rv_head);
		free(c->rv_next);
		free(c->rv_puts);
		free(c->rv_plens);
		c->rv_head = c->rv_next = NULL;
		c->rv_puts = NULL;
		c->rv_plens = NULL;
		c->rv_unusable = false;
		rv_index(c, ops, n);
	}
	size_t vn;
	const char *v = values_str(&c->env->vals, ops[r].a, &vn);
	if (c->rv_unusable || !v || ops[r].f != KV_GET)
		return -1;
	rv_count(c, v, vn);
	/* the bases: prefixes of v that are the value of the initial state or
	 * of a put (looked up by the lengths put values have) */
	size_t base = SIZE_MAX;
	uint32_t total = 0;
	for (size_t i = 0; i < c->rv_nplens && total < 2; i++) {
		size_t bn = c->rv_plens[i];
		if (bn > vn || !c->rv_ways[bn])
			continue;
		value_id b = values_find_str(&c->env->vals, v, bn);
		if (b == UINT32_MAX)
			continue;
		uint64_t e = c->rv_puts[rv_put_slot(c, b)];
		if (!e)
			continue;
		total += c->rv_ways[bn] * (uint32_t)(e & 3); /* two resets of one value count twice */
		base = bn;
	}
	if (total != 1)
		return -1;
	long k = 0;
	for (size_t i = base; i < vn;) {
		uint32_t found = 0;
		size_t an = 0;
		for (size_t kk = c->rv_minlen; kk <= RV_KEY && i + kk <= vn && !found; kk++)
			for (uint32_t a = c->rv_head[rv_bucket(c, v + i, kk)]; a; a = c->rv_next[a - 1])
				if ((an = rv_match(c, a, v, i, vn, kk)) && c->rv_ways[i + an]) {
					found = a;
					break;
				}
		if (!found)
			return -1;
		out[k++] = found - 1;
		i += an;
	}
	return k;
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
	.reset_state_free = true,
	.reset_to = kv_reset_to,
	.forget = kv_forget,
	.forgotten = kv_forgotten,
	.reveal = kv_reveal,
	.explain = kv_explain,
	.warm = kv_warm,
};
