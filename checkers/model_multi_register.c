/*
 * model_multi_register.c - Knossos's multi-register: several named
 * registers changed by transactions, op f "txn" with value
 * [["read",k,v],["write",k,v], ...] (EDN [[:read :x 1] [:write :y 2]]).
 * A transaction is atomic: its reads must match the state as left by the
 * transaction's earlier micro-ops, its writes take effect together. The
 * state is the sorted list of (register, value) pairs, interned per
 * search; a register never written reads nil. Reads of nil constrain
 * nothing with --nil-read unknown, and every read of a transaction whose
 * result is unknown (info) constrains nothing while its writes may apply.
 * The initial state comes from --init, e.g. {:x 0 :y 0}. Register names
 * are values like any other (register 1 is not register "1", :x is not
 * "x"), but a map of --init can only name them by text, so an --init name
 * stands for every register the history spells that way: "1" for 1 and
 * "1", x for :x and "x".
 */
#include "model.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MR_TXN, MR_TXN_RO /* reads only */ };
enum { MR_READ, MR_WRITE, MR_READ_ANY };

static int mr_encode(struct model_env *env, const char *f, json_t *value, bool known_result,
		     struct mop *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (strcmp(f, "txn") != 0) {
		model_err(err, errlen, "the multi-register model has no op '%s' (it knows txn)", f);
		return MODEL_ERR;
	}
	if (!json_is_array(value) || json_array_size(value) > 0xFFFF) {
		model_err(err, errlen, "a txn value must be a list of [f k v] micro-ops");
		return MODEL_ERR;
	}
	size_t n = json_array_size(value);
	uint32_t off = (uint32_t)env->n_ext;
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *m = json_array_get(value, i);
		json_t *mf = json_array_get(m, 0);
		if (!json_is_array(m) || json_array_size(m) != 3 || !json_is_string(mf)) {
			model_err(err, errlen, "micro-op %zu of a txn must be [f k v]", i);
			env->n_ext = off;
			return MODEL_ERR;
		}
		const char *ms = json_string_value(mf);
		if (ms[0] == ':')
			ms++; /* the keyword-exact form of :read */
		json_t *v = json_array_get(m, 2);
		uint32_t code;
		if (f_is_read(ms))
			code = !known_result || (json_is_null(v) && env->nil_read_unknown)
				       ? MR_READ_ANY : MR_READ;
		else if (f_is_write(ms))
			code = MR_WRITE;
		else {
			model_err(err, errlen, "micro-op '%s' is neither read nor write", ms);
			env->n_ext = off;
			return MODEL_ERR;
		}
		if (code == MR_READ_ANY)
			continue;
		model_env_push(env, code);
		model_env_push(env, values_intern(&env->vals, json_array_get(m, 1)));
		model_env_push(env, values_intern(&env->vals, v));
		kept++;
	}
	if (kept == 0)
		return MODEL_DROP;
	out->f = MR_TXN_RO;
	for (size_t i = 0; i < kept; i++)
		if (env->ext[off + 3 * i] == MR_WRITE)
			out->f = MR_TXN;
	out->ext = off;
	out->n = (uint16_t)kept;
	return MODEL_OP;
}

static int cmp_pair(const void *a, const void *b)
{
	const uint32_t *x = a, *y = b;
	return (x[0] > y[0]) - (x[0] < y[0]);
}

static int mr_encode_init(struct model_env *env, json_t *init, struct mop *out, char *err,
			  size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (!init || json_is_null(init))
		return 0;
	if (!json_is_object(init)) {
		model_err(err, errlen, "multi-register initial state must be a map, e.g. {:x 0 :y 0}");
		return -1;
	}
	/* entries: value id, name length, name bytes packed 4 per word; the
	 * names are resolved to registers once the history is read */
	out->ext = (uint32_t)env->n_ext;
	const char *k;
	json_t *v;
	json_object_foreach(init, k, v) {
		if (json_is_null(v))
			continue;
		if (k[0] == ':')
			k++;
		size_t n = strlen(k);
		model_env_push(env, values_intern(&env->vals, v));
		model_env_push(env, (uint32_t)n);
		for (size_t i = 0; i < n; i += 4) {
			uint32_t w = 0;
			memcpy(&w, k + i, n - i < 4 ? n - i : 4);
			model_env_push(env, w);
		}
		out->n++;
	}
	return 0;
}

/* A canonical decimal integer (what an integer register's name prints as). */
static bool mr_int_name(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (*s == '\0' || *end || errno)
		return false;
	char back[32];
	snprintf(back, sizeof back, "%lld", x);
	if (strcmp(back, s) != 0)
		return false;
	*out = x;
	return true;
}

static void *mr_ctx_new(const struct model_env *env, const struct mop *init, model_state *s0)
{
	struct seq_ctx *c = seq_ctx_new(env);
	const uint32_t *e = env->ext + init->ext;
	size_t np = 0, cap = 16;
	uint32_t *pairs = xmalloc(cap * 2 * sizeof *pairs);
	char name[1024 + 2];
	for (uint16_t i = 0; i < init->n; i++) {
		uint32_t val = e[0], n = e[1];
		const uint32_t *w = e + 2;
		e += 2 + (n + 3) / 4;
		if (n > 1024)
			continue;
		name[0] = ':';
		memcpy(name + 1, w, n);
		name[n + 1] = '\0';
		/* every register the history names this way: "x", :x, 1 */
		value_id ids[3];
		int k = 0;
		int64_t x;
		if ((ids[k] = values_find_str(&env->vals, name + 1, n)) != UINT32_MAX)
			k++;
		if ((ids[k] = values_find_str(&env->vals, name, n + 1)) != UINT32_MAX)
			k++;
		if (mr_int_name(name + 1, &x) && (ids[k] = values_find_int(&env->vals, x)) != UINT32_MAX)
			k++;
		for (int j = 0; j < k; j++) {
			if (np == cap) {
				cap *= 2;
				pairs = xrealloc(pairs, cap * 2 * sizeof *pairs);
			}
			pairs[2 * np] = ids[j];
			pairs[2 * np + 1] = val;
			np++;
		}
	}
	qsort(pairs, np, 2 * sizeof(uint32_t), cmp_pair);
	size_t w = 0; /* a name given twice: the first stays */
	for (size_t r = 0; r < np; r++)
		if (w == 0 || pairs[2 * (w - 1)] != pairs[2 * r]) {
			pairs[2 * w] = pairs[2 * r];
			pairs[2 * w + 1] = pairs[2 * r + 1];
			w++;
		}
	*s0 = seq_intern(c, pairs, w * 2);
	free(pairs);
	return c;
}

/* Index of register k in the pairs, or -(insertion point) - 1. */
static long mr_find(const uint32_t *p, size_t npairs, uint32_t k)
{
	size_t lo = 0, hi = npairs;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (p[2 * mid] < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < npairs && p[2 * lo] == k ? (long)lo : -(long)lo - 1;
}

static bool mr_step(void *ctx, model_state s, const struct mop *op, model_state *out)
{
	struct seq_ctx *c = ctx;
	size_t n = seq_load(c, s, (size_t)op->n * 2);
	size_t np = n / 2;
	const uint32_t *m = c->env->ext + op->ext;
	bool wrote = false;
	for (size_t i = 0; i < op->n; i++, m += 3) {
		long at = mr_find(c->tmp, np, m[1]);
		if (m[0] == MR_READ) {
			value_id cur = at >= 0 ? c->tmp[2 * at + 1] : VALUE_NIL;
			if (cur != m[2])
				return false;
			continue;
		}
		wrote = true;
		if (at >= 0) {
			c->tmp[2 * at + 1] = m[2];
		} else {
			size_t ins = (size_t)(-at - 1);
			memmove(c->tmp + 2 * ins + 2, c->tmp + 2 * ins, (np - ins) * 2 * sizeof(uint32_t));
			c->tmp[2 * ins] = m[1];
			c->tmp[2 * ins + 1] = m[2];
			np++;
		}
	}
	*out = wrote ? seq_intern(c, c->tmp, np * 2) : s;
	return true;
}

static bool mr_read_only(const struct mop *op) { return op->f == MR_TXN_RO; }
static bool mr_resets(const struct mop *op) { return op->f == MR_TXN; }

/* Only transactions that write change registers. */
static bool mr_reach(void *ctx, model_state s, const struct mop *read)
{
	model_state out;
	return mr_step(ctx, s, read, &out);
}

static char *mr_describe(void *ctx, model_state s)
{
	struct seq_ctx *c = ctx;
	size_t n = seq_load(c, s, 0);
	json_t *o = json_object();
	for (size_t i = 0; i + 1 < n; i += 2) {
		json_t *k = values_json(&c->env->vals, c->tmp[i]);
		char *ks = json_is_string(k) ? xstrdup(json_string_value(k))
					     : json_dumps(k, JSON_COMPACT | JSON_ENCODE_ANY);
		json_object_set_new(o, ks ? ks : "?", values_json(&c->env->vals, c->tmp[i + 1]));
		free(ks);
		json_decref(k);
	}
	char *d = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return d ? d : xstrdup("?");
}

const struct model model_multi_register = {
	.name = "multi-register",
	.encode = mr_encode,
	.encode_init = mr_encode_init,
	.ctx_new = mr_ctx_new,
	.ctx_free = seq_ctx_free,
	.step = mr_step,
	.hash = model_hash_id,
	.equal = model_equal_id,
	.describe = mr_describe,
	.ctx_bytes = seq_ctx_bytes,
	.read_only = mr_read_only,
	.resets = mr_resets,
	.reach = mr_reach,
};
