/*
 * model_register.c - the plain register model: read and write of a single
 * value, initially nil. Same state and steps as the cas-register
 * (model_cas_register.c), but a cas op is an error rather than silently
 * judged, since a register workload never issues one.
 */
#include "model.h"

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
	.describe = register_describe,
	.ctx_bytes = model_ctx_bytes_none,
};
