/*
 * model_common.c - what every model shares: the model registry
 * (model_find), the environment that holds interned values and
 * variable-length op arguments, and trivial hash/equal for models whose
 * states are already canonical ids.
 */
#include "model.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The model registry: a new model is one file plus one line here. */
static const struct model *const all[] = {&model_register, &model_cas_register,
					  &model_multi_register, &model_kv, &model_mutex,
					  &model_queue, &model_set};

const char *model_names_list(void)
{
	static char *cache;
	return registry_names((const void *const *)all, sizeof all / sizeof *all, &cache);
}

const struct model *model_find(const char *name)
{
	if (!name)
		return NULL;
	if (!strcmp(name, "fifo-queue") || !strcmp(name, "fifo"))
		name = "queue";
	for (size_t i = 0; i < sizeof all / sizeof *all; i++)
		if (!strcmp(all[i]->name, name))
			return all[i];
	return NULL;
}

void model_env_init(struct model_env *env)
{
	memset(env, 0, sizeof *env);
	values_init(&env->vals);
	/* never NULL: models index env->ext + offset even for empty lists */
	env->cap_ext = 64;
	env->ext = xmalloc(env->cap_ext * sizeof *env->ext);
}

void model_env_free(struct model_env *env)
{
	values_free(&env->vals);
	free(env->ext);
	memset(env, 0, sizeof *env);
}

uint32_t model_env_push(struct model_env *env, uint32_t word)
{
	if (env->n_ext == env->cap_ext) {
		env->cap_ext = env->cap_ext ? env->cap_ext * 2 : 256;
		env->ext = xrealloc(env->ext, env->cap_ext * sizeof *env->ext);
	}
	env->ext[env->n_ext] = word;
	return (uint32_t)env->n_ext++;
}

uint64_t model_hash_id(void *ctx, model_state s)
{
	(void)ctx;
	return hash_mix(s + 0x9e3779b97f4a7c15ULL);
}

bool model_equal_id(void *ctx, model_state a, model_state b)
{
	(void)ctx;
	return a == b;
}

size_t model_ctx_bytes_none(void *ctx)
{
	(void)ctx;
	return 0;
}

char *model_describe_value(const struct model_env *env, value_id id)
{
	json_t *j = values_json(&env->vals, id);
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	return s ? s : xstrdup("?");
}

char *model_clip(const char *s, size_t n, size_t max)
{
	size_t k = n;
	if (k > max) {
		k = max;
		while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
			k--; /* never cut a UTF-8 sequence */
	}
	json_t *j = json_stringn(s, k);
	char *q = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	json_decref(j);
	if (!q)
		q = xstrdup("\"?\"");
	if (k == n)
		return q;
	char *r = xasprintf("%s... (+%zu chars)", q, n - k);
	free(q);
	return r;
}

void model_err(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
}

struct seq_ctx *seq_ctx_new(const struct model_env *env)
{
	struct seq_ctx *c = xcalloc(1, sizeof *c);
	c->env = env;
	interner_init(&c->in);
	return c;
}

void seq_ctx_free(void *ctx)
{
	struct seq_ctx *c = ctx;
	interner_free(&c->in);
	free(c->tmp);
	free(c);
}

size_t seq_ctx_bytes(void *ctx)
{
	struct seq_ctx *c = ctx;
	return interner_bytes(&c->in) + c->tmpcap * sizeof *c->tmp;
}

model_state seq_intern(struct seq_ctx *c, const uint32_t *w, size_t n)
{
	return interner_intern(&c->in, w, n * sizeof *w);
}

size_t seq_load(struct seq_ctx *c, model_state s, size_t extra)
{
	size_t len;
	const char *p = interner_get(&c->in, (uint32_t)s, &len);
	size_t n = len / sizeof(uint32_t);
	if (n + extra + 1 > c->tmpcap) {
		c->tmpcap = (n + extra + 1) * 2;
		c->tmp = xrealloc(c->tmp, c->tmpcap * sizeof *c->tmp);
	}
	memcpy(c->tmp, p, len);
	return n;
}
