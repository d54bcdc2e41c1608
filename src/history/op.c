/*
 * op.c - the in-memory op and history containers shared by the writer
 * (runner), the readers (JSONL, EDN) and every checker. Serialisation to a
 * JSON object follows the design's field names and order.
 */
#include "history.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static const char *op_type_names[] = {"invoke", "ok", "fail", "info"};

const char *op_type_name(enum op_type t)
{
	return (unsigned)t < 4 ? op_type_names[t] : "?";
}

bool op_type_parse(const char *s, enum op_type *out)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, op_type_names[i]) == 0) {
			*out = (enum op_type)i;
			return true;
		}
	return false;
}

void op_free(struct op *op)
{
	free(op->f);
	free(op->key);
	free(op->node);
	free(op->error);
	if (op->value)
		json_decref(op->value);
	if (op->value_kw)
		json_decref(op->value_kw);
	if (op->extra)
		json_decref(op->extra);
	memset(op, 0, sizeof *op);
}

static char *dup_or_null(const char *s) { return s ? xstrdup(s) : NULL; }

void op_copy(struct op *dst, const struct op *src)
{
	*dst = *src;
	dst->f = dup_or_null(src->f);
	dst->key = dup_or_null(src->key);
	dst->node = dup_or_null(src->node);
	dst->error = dup_or_null(src->error);
	dst->value = src->value ? json_deep_copy(src->value)
				: src->value_text ? op_value(src) : NULL;
	dst->value_text = NULL; /* they lived in the reader's batch */
	dst->value_text_len = 0;
	dst->value_tokens = NULL;
	dst->value_ntokens = 0;
	dst->value_hash = 0;
	dst->value_kw = src->value_kw ? json_deep_copy(src->value_kw) : NULL;
	dst->extra = src->extra ? json_deep_copy(src->extra) : NULL;
}

json_t *op_to_json(const struct op *op)
{
	json_t *o = json_object();
	json_object_set_new(o, "index", json_integer(op->index));
	json_object_set_new(o, "time", json_integer(op->time));
	json_object_set_new(o, "type", json_string(op_type_name(op->type)));
	if (op->process == PROCESS_NEMESIS)
		json_object_set_new(o, "process", json_string("nemesis"));
	else if (op->process == PROCESS_NONE)
		json_object_set_new(o, "process", json_null());
	else
		json_object_set_new(o, "process", json_integer(op->process));
	json_object_set_new(o, "f", json_string(op->f ? op->f : ""));
	if (op->key) {
		json_t *k = op->key_type == OP_KEY_INT
				    ? json_integer(strtoll(op->key, NULL, 10))
				    : op->key_type == OP_KEY_OTHER
					      ? json_loads(op->key, JSON_DECODE_ANY, NULL) : NULL;
		json_object_set_new(o, "key", k ? k : json_string(op->key));
	}
	json_object_set_new(o, "value", op_value(op));
	if (op->node)
		json_object_set_new(o, "node", json_string(op->node));
	if (op->error)
		json_object_set_new(o, "error", json_string(op->error));
	if (op->extra) {
		const char *k;
		json_t *v;
		json_object_foreach(op->extra, k, v) {
			if (!json_object_get(o, k))
				json_object_set(o, k, v);
		}
	}
	return o;
}

json_t *op_value(const struct op *op)
{
	if (op->value)
		return json_incref(op->value);
	json_t *v = NULL;
	if (op->value_text)
		v = json_loadb(op->value_text, op->value_text_len, JSON_DECODE_ANY, NULL);
	return v ? v : json_null();
}

void history_init(struct history *h)
{
	h->ops = NULL;
	h->n = h->cap = 0;
}

void history_push(struct history *h, struct op *op)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 256;
		h->ops = xrealloc(h->ops, h->cap * sizeof *h->ops);
	}
	h->ops[h->n++] = *op;
	memset(op, 0, sizeof *op);
}

void history_free(struct history *h)
{
	for (size_t i = 0; i < h->n; i++)
		op_free(&h->ops[i]);
	free(h->ops);
	history_init(h);
}
