/*
 * model_register.c - the plain register model: read and write of a single
 * value, initially nil. Same state and steps as the cas-register
 * (model_cas_register.c), but a cas op is an error rather than silently
 * judged, since a register workload never issues one. As only reads
 * look at the state, a value no read will see can be forgotten (model.h).
 */
#include "model.h"
#include "util.h"

#define REG_FORGOTTEN (1ULL << 32) /* beyond every value id */

static model_state plain_register_forget(void *ctx, model_state s)
{
	(void)ctx;
	(void)s;
	return REG_FORGOTTEN;
}

static bool plain_register_forgotten(model_state s) { return s == REG_FORGOTTEN; }

static char *plain_register_describe(void *ctx, model_state s)
{
	if (s == REG_FORGOTTEN)
		return xstrdup("a value some write must replace before any read sees it");
	return register_describe(ctx, s);
}

static int plain_register_encode(struct model_env *env, const char *f, json_t *value,
				 bool known_result, struct mop *out, char *err, size_t errlen)
{
	return register_encode(env, f, value, known_result, out, err, errlen, false);
}

const struct model model_register = {
	.name = "register",
	.encode = plain_register_encode,
	.encode_init = register_encode_init,
	.ctx_new = register_ctx_new,
	.ctx_free = register_ctx_free,
	.step = register_step,
	.hash = model_hash_id,
	.equal = model_equal_id,
	.describe = plain_register_describe,
	.ctx_bytes = model_ctx_bytes_none,
	.read_only = register_read_only,
	.resets = register_resets,
	.reach = register_reach,
	.reset_state_free = true,
	.reset_to = register_reset_to,
	.forget = plain_register_forget,
	.forgotten = plain_register_forgotten,
};
