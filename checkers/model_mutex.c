/*
 * model_mutex.c - the mutex model (Knossos's mutex): a lock that is free
 * or held. acquire succeeds only when free, release only when held; values
 * are ignored. State 0 = free, 1 = held (or the initial state "held" /
 * true given with --init).
 */
#include "model.h"
#include "util.h"

#include <string.h>

enum { MUTEX_ACQUIRE, MUTEX_RELEASE };

static int mutex_encode(struct model_env *env, const char *f, json_t *value, bool known_result,
			struct mop *out, char *err, size_t errlen)
{
	(void)env;
	(void)value;
	(void)known_result;
	memset(out, 0, sizeof *out);
	if (!strcmp(f, "acquire") || !strcmp(f, "lock")) {
		out->f = MUTEX_ACQUIRE;
		return MODEL_OP;
	}
	if (!strcmp(f, "release") || !strcmp(f, "unlock")) {
		out->f = MUTEX_RELEASE;
		return MODEL_OP;
	}
	model_err(err, errlen, "the mutex model has no op '%s' (it knows acquire, release)", f);
	return MODEL_ERR;
}

static int mutex_encode_init(struct model_env *env, json_t *init, struct mop *out, char *err,
			     size_t errlen)
{
	(void)env;
	memset(out, 0, sizeof *out);
	if (!init || json_is_null(init) || json_is_false(init) ||
	    (json_is_string(init) && !strcmp(json_string_value(init), "free")))
		return 0;
	if (json_is_true(init) || (json_is_string(init) && !strcmp(json_string_value(init), "held"))) {
		out->a = 1;
		return 0;
	}
	model_err(err, errlen, "mutex initial state must be free or held");
	return -1;
}

static void *mutex_ctx_new(const struct model_env *env, const struct mop *init, model_state *s0)
{
	*s0 = init->a;
	return (void *)env;
}

static void mutex_ctx_free(void *ctx) { (void)ctx; }

static bool mutex_step(void *ctx, model_state s, const struct mop *op, model_state *out)
{
	(void)ctx;
	if (op->f == MUTEX_ACQUIRE) {
		*out = 1;
		return s == 0;
	}
	*out = 0;
	return s == 1;
}

static char *mutex_describe(void *ctx, model_state s)
{
	(void)ctx;
	return xstrdup(s ? "held" : "free");
}

const struct model model_mutex = {
	.name = "mutex",
	.encode = mutex_encode,
	.encode_init = mutex_encode_init,
	.ctx_new = mutex_ctx_new,
	.ctx_free = mutex_ctx_free,
	.step = mutex_step,
	.hash = model_hash_id,
	.equal = model_equal_id,
	.describe = mutex_describe,
	.ctx_bytes = model_ctx_bytes_none,
};
