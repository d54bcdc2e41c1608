/*
 * model_queue.c - the FIFO queue model: enqueue v appends, dequeue removes
 * the head and must return it. A dequeue that returned nil saw an empty
 * queue (with --nil-read unknown, or when its result is unknown, it removes
 * the head if there is one and constrains nothing). The state, the queue's
 * contents as value ids, is interned per search.
 */
#include "model.h"
#include "util.h"

#include <string.h>

enum { Q_ENQ, Q_DEQ, Q_DEQ_ANY };

static int queue_encode(struct model_env *env, const char *f, json_t *value, bool known_result,
			struct mop *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (!strcmp(f, "enqueue") || !strcmp(f, "offer") || !strcmp(f, "push")) {
		out->f = Q_ENQ;
		out->a = values_intern(&env->vals, value);
		return MODEL_OP;
	}
	if (!strcmp(f, "dequeue") || !strcmp(f, "poll") || !strcmp(f, "pop")) {
		bool any = !known_result || (json_is_null(value) && env->nil_read_unknown);
		out->f = any ? Q_DEQ_ANY : Q_DEQ;
		out->a = any ? VALUE_NIL : values_intern(&env->vals, value);
		return MODEL_OP;
	}
	model_err(err, errlen, "the queue model has no op '%s' (it knows enqueue, dequeue)", f);
	return MODEL_ERR;
}

static int queue_encode_init(struct model_env *env, json_t *init, struct mop *out, char *err,
			     size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (!init || json_is_null(init))
		return 0;
	if (!json_is_array(init)) {
		model_err(err, errlen, "queue initial state must be a list of values");
		return -1;
	}
	out->ext = (uint32_t)env->n_ext;
	size_t i;
	json_t *v;
	json_array_foreach(init, i, v) {
		model_env_push(env, values_intern(&env->vals, v));
		out->n++;
	}
	return 0;
}

static void *queue_ctx_new(const struct model_env *env, const struct mop *init, model_state *s0)
{
	struct seq_ctx *c = seq_ctx_new(env);
	*s0 = seq_intern(c, env->ext + init->ext, init->n);
	return c;
}

static bool queue_step(void *ctx, model_state s, const struct mop *op, model_state *out)
{
	struct seq_ctx *c = ctx;
	size_t n = seq_load(c, s, 1);
	if (op->f == Q_ENQ) {
		c->tmp[n] = op->a;
		*out = seq_intern(c, c->tmp, n + 1);
		return true;
	}
	if (n == 0) {
		*out = s;
		return op->f == Q_DEQ_ANY || op->a == VALUE_NIL;
	}
	if (op->f == Q_DEQ && c->tmp[0] != op->a)
		return false;
	*out = seq_intern(c, c->tmp + 1, n - 1);
	return true;
}

static bool queue_read_only(const struct mop *op) { return op->f == Q_DEQ && op->a == VALUE_NIL; }

static char *queue_describe(void *ctx, model_state s)
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

const struct model model_queue = {
	.name = "queue",
	.encode = queue_encode,
	.encode_init = queue_encode_init,
	.ctx_new = queue_ctx_new,
	.ctx_free = seq_ctx_free,
	.step = queue_step,
	.hash = model_hash_id,
	.equal = model_equal_id,
	.describe = queue_describe,
	.ctx_bytes = seq_ctx_bytes,
	.read_only = queue_read_only,
};
