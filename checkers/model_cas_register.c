/*
 * model_cas_register.c - the cas-register model (Knossos's cas-register):
 * a single value, initially nil, with read, write and compare-and-set
 * [old new]. The state is the interned value id itself, so stepping is a
 * couple of integer comparisons. The plain register model
 * (model_register.c) reuses this code without cas.
 */
#include "model.h"

#include <string.h>

enum { REG_READ, REG_WRITE, REG_CAS };

bool f_is_read(const char *f)
{
	switch (f[0]) { /* (a strcmp chain per op showed in profiles) */
	case 'r': return f[1] == '\0' || !strcmp(f, "read");
	case 'g': return !strcmp(f, "get");
	default: return false;
	}
}

bool f_is_write(const char *f)
{
	switch (f[0]) {
	case 'w': return f[1] == '\0' || !strcmp(f, "write");
	case 'p': return !strcmp(f, "put");
	default: return false;
	}
}

int register_encode(struct model_env *env, const char *f, json_t *value, bool known_result,
		    struct mop *out, char *err, size_t errlen, bool allow_cas)
{
	memset(out, 0, sizeof *out);
	if (f_is_read(f)) {
		if (!known_result)
			return MODEL_DROP; /* an unknown read constrains nothing */
		if (json_is_null(value) && env->nil_read_unknown)
			return MODEL_DROP;
		out->f = REG_READ;
		out->a = values_intern(&env->vals, value);
		return MODEL_OP;
	}
	if (f_is_write(f)) {
		out->f = REG_WRITE;
		out->a = values_intern(&env->vals, value);
		return MODEL_OP;
	}
	if (allow_cas && (!strcmp(f, "cas") || !strcmp(f, "compare-and-set"))) {
		if (!json_is_array(value) || json_array_size(value) != 2) {
			model_err(err, errlen, "cas value must be [expected new]");
			return MODEL_ERR;
		}
		out->f = REG_CAS;
		out->a = values_intern(&env->vals, json_array_get(value, 0));
		out->b = values_intern(&env->vals, json_array_get(value, 1));
		return MODEL_OP;
	}
	model_err(err, errlen, "the %s model has no op '%s' (it knows read, write%s)",
		  allow_cas ? "cas-register" : "register", f, allow_cas ? ", cas" : "");
	return MODEL_ERR;
}

int register_encode_init(struct model_env *env, json_t *init, struct mop *out, char *err,
			 size_t errlen)
{
	(void)err;
	(void)errlen;
	memset(out, 0, sizeof *out);
	out->a = init ? values_intern(&env->vals, init) : VALUE_NIL;
	return 0;
}

void *register_ctx_new(const struct model_env *env, const struct mop *init, model_state *s0)
{
	*s0 = init->a;
	return (void *)env;
}

void register_ctx_free(void *ctx) { (void)ctx; }

bool register_step(void *ctx, model_state s, const struct mop *op, model_state *out)
{
	(void)ctx;
	switch (op->f) {
	case REG_READ:
		*out = s;
		return s == op->a;
	case REG_WRITE:
		*out = op->a;
		return true;
	case REG_CAS:
		*out = op->b;
		return s == op->a;
	}
	return false;
}

char *register_describe(void *ctx, model_state s)
{
	return model_describe_value(ctx, (value_id)s);
}

bool register_read_only(const struct mop *op) { return op->f == REG_READ; }
model_state register_reset_to(const struct mop *op) { return op->f == REG_CAS ? op->b : op->a; }
bool register_resets(const struct mop *op) { return op->f != REG_READ; }

/* Only writes and cas change a register: without them, a read sees s. */
bool register_reach(void *ctx, model_state s, const struct mop *read)
{
	(void)ctx;
	return s == read->a;
}

static int cas_register_encode(struct model_env *env, const char *f, json_t *value,
			       bool known_result, struct mop *out, char *err, size_t errlen)
{
	return register_encode(env, f, value, known_result, out, err, errlen, true);
}

const struct model model_cas_register = {
	.name = "cas-register",
	.encode = cas_register_encode,
	.encode_init = register_encode_init,
	.ctx_new = register_ctx_new,
	.ctx_free = register_ctx_free,
	.step = register_step,
	.hash = model_hash_id,
	.equal = model_equal_id,
	.describe = register_describe,
	.ctx_bytes = model_ctx_bytes_none,
	.read_only = register_read_only,
	.resets = register_resets,
	.reach = register_reach,
	.reset_state_free = true,
	.reset_to = register_reset_to,
};
