/*
 * model.h - the model interface for the linearizability checker, and the
 * compact value representation the search works on.
 *
 * The search (linearizable.c) never knows what a register is: it asks a
 * model to encode each history op once into a small struct mop (op code +
 * interned value ids), then during the search only calls step / hash /
 * equal on opaque 64-bit states. Models whose state is larger than a value
 * (kv strings with append, multi-register maps, queues, sets) intern their
 * states in a per-search table (struct interner) so that equal states have
 * equal ids; state hashing and comparison then cost nothing.
 *
 * Values from the history are interned once, while reading, in a global
 * table (struct values): equal JSON values get equal ids, id 0 is null.
 * The table is read-only while keys are checked in parallel.
 */
#ifndef FAULTLINE_MODEL_H
#define FAULTLINE_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* ------------------------------------------------------------ interner */

/* Byte strings -> dense ids (0, 1, 2, ...) with equal bytes -> equal id. */
struct interner {
	/* entries, 8-byte aligned: id (4 bytes), length (4), the bytes, NUL */
	char *arena;
	size_t arena_len, arena_cap;
	uint64_t *offs;  /* per id: offset of its entry in arena */
	uint32_t n, cap;
	/* open addressing: 32 hash bits << 32 | (entry offset / 8 + 1); 0
	 * empty. The hash bits in the slot spare a memory access per probe,
	 * and a slot leading to the entry rather than to an id spares two
	 * more (offs, and lengths kept apart): a probe that finds its bytes
	 * touches the slot and the entry only, which is what a history of a
	 * million distinct values, far larger than the cache, pays for. */
	uint64_t *slots;
	uint32_t nslots;
};
void interner_init(struct interner *in);
void interner_free(struct interner *in);
uint32_t interner_intern(struct interner *in, const void *p, size_t len);
const char *interner_get(const struct interner *in, uint32_t id, size_t *len);
/* The same with the 32-bit hash of the bytes given ((uint32_t)hash_bytes). */
uint32_t interner_intern_h(struct interner *in, const void *p, size_t len, uint32_t h32);
/* Cache hints for a coming interner_intern_h of bytes with hash h32:
 * the slot it probes first, then (once that slot is likely in cache) the
 * entry the slot leads to. They change nothing. */
void interner_prefetch_slot(const struct interner *in, uint32_t h32);
void interner_prefetch_entry(const struct interner *in, uint32_t h32);
/* Lookup without inserting (safe from several threads while nobody
 * interns): the id, or UINT32_MAX if absent. */
uint32_t interner_find(const struct interner *in, const void *p, size_t len);
size_t interner_bytes(const struct interner *in); /* memory held */
/* Interning with the first byte apart (a tag: values are 's' + a
 * string's bytes, 'i' + an integer's...): the same entry as interning
 * tag + p, with no copy to put them together; h32 is hash_tagged(tag, p,
 * len) (util.h). */
uint32_t interner_intern_tagged(struct interner *in, char tag, const void *p, size_t len,
				uint32_t h32);
uint32_t interner_find_tagged(const struct interner *in, char tag, const void *p, size_t len,
			      uint32_t h32);

/* -------------------------------------------------------------- values */

typedef uint32_t value_id;
#define VALUE_NIL 0u

struct values {
	struct interner in; /* bytes: tag ('n','s','i','j') + payload */
	/* One-entry memo by json_t pointer, only while the caller keeps that
	 * value alive (values_memo_set/clear): the checker interns each op
	 * value, then the model interns the same json_t again. */
	json_t *memo_json;
	value_id memo_id;
};
void values_memo_set(struct values *v, json_t *j, value_id id);
void values_memo_clear(struct values *v);
void values_init(struct values *v);
void values_free(struct values *v);
value_id values_intern(struct values *v, json_t *j);
value_id values_intern_str(struct values *v, const char *s, size_t len);
/* The interner hash values_intern will compute for j (strings and
 * integers; 0 for anything else, and then values_intern_h hashes itself),
 * so a caller can hash and prefetch ops ahead of interning them. */
uint32_t values_hash(json_t *j);
value_id values_intern_h(struct values *v, json_t *j, uint32_t h32);
/* The same for a string (its bytes) or an integer given as such (values
 * the history reader left as text, history.h HISTORY_SCALAR_TEXT): equal
 * to the json_t forms above, hash included. */
uint32_t values_hash_str(const char *s, size_t len);
uint32_t values_hash_int(int64_t x);
value_id values_intern_str_h(struct values *v, const char *s, size_t len, uint32_t h32);
value_id values_intern_int_h(struct values *v, int64_t x, uint32_t h32);
bool values_equal_str(const struct values *v, value_id id, const char *s, size_t len);
bool values_equal_int(const struct values *v, value_id id, int64_t x);
/* Whether value id is j (null, a string or an integer; false for
 * anything else, which the caller then interns), without interning j. */
bool values_equal(const struct values *v, value_id id, json_t *j);
/* The id of string s if some history value equals it, else UINT32_MAX. */
value_id values_find_str(const struct values *v, const char *s, size_t len);
/* The id of integer x if some history value equals it, else UINT32_MAX. */
value_id values_find_int(const struct values *v, int64_t x);
/* New reference rebuilt from the interned form. */
json_t *values_json(const struct values *v, value_id id);
/* Raw bytes of a string value, NULL if the value is not a string. */
const char *values_str(const struct values *v, value_id id, size_t *len);
bool values_is_int(const struct values *v, value_id id, int64_t *out);
/* Cache hint for value id's bytes: stage 0 fetches where they are, stage
 * 1 (later) the bytes. */
void values_prefetch(const struct values *v, value_id id, int stage);

/* ---------------------------------------------------------------- model */

typedef uint64_t model_state;

/* One op as a model sees it. f is the model's own op code; a and b are value
 * ids (or counts); ext/n address variable-length arguments in env->ext. */
struct mop {
	uint16_t f;
	uint16_t n;
	value_id a, b;
	uint32_t ext;
};

/* Shared, read-only during the search. */
struct model_env {
	struct values vals;
	uint32_t *ext;
	size_t n_ext, cap_ext;
	bool nil_read_unknown; /* Knossos: a nil read constrains nothing */
};
void model_env_init(struct model_env *env);
void model_env_free(struct model_env *env);
uint32_t model_env_push(struct model_env *env, uint32_t word); /* returns its offset */

enum { MODEL_DROP = 0, MODEL_OP = 1, MODEL_ERR = -1 };

/* Contract: the checker encodes every op (and the initial state) before
 * the first ctx_new; from then on env is read-only and shared by the
 * searches running in parallel. */
struct model {
	const char *name;
	/* Encode one op. value is the completion's value for an ok op, the
	 * invocation's for an info/pending op (known_result false: reads of
	 * it tell nothing). Returns MODEL_OP, MODEL_DROP (the op constrains
	 * nothing and changes nothing), or MODEL_ERR with err filled. */
	int (*encode)(struct model_env *env, const char *f, json_t *value,
		      bool known_result, struct mop *out, char *err, size_t errlen);
	/* Encode the initial state (init NULL = the model's default). */
	int (*encode_init)(struct model_env *env, json_t *init, struct mop *out,
			   char *err, size_t errlen);
	/* Per-search context (one per key being checked); sets *s0. */
	void *(*ctx_new)(const struct model_env *env, const struct mop *init, model_state *s0);
	void (*ctx_free)(void *ctx);
	/* Apply op to s: true with *out if the op is legal in s. */
	bool (*step)(void *ctx, model_state s, const struct mop *op, model_state *out);
	uint64_t (*hash)(void *ctx, model_state s);
	bool (*equal)(void *ctx, model_state a, model_state b);
	/* The state in words/JSON text, malloc'd. */
	char *(*describe)(void *ctx, model_state s);
	size_t (*ctx_bytes)(void *ctx); /* memory held by the context */

	/* Optional hooks that let the search skip what cannot matter (NULL:
	 * not used). read_only(op): whenever op is legal it leaves the state
	 * as it was (a read, a get): the search linearizes such an op at once
	 * when it is legal, never branching on it. resets(op): op may set the
	 * state to something the other ops cannot grow into (write, put,
	 * cas). reach(ctx, s, read): false when no sequence of ops that are
	 * not resets leads from s to a state where the read-only op read is
	 * legal (kv: s must be a prefix of what the get saw; set: a subset). */
	bool (*read_only)(const struct mop *op);
	bool (*resets)(const struct mop *op);
	bool (*reach)(void *ctx, model_state s, const struct mop *read);
	/* The state after a legal reset does not depend on the state before
	 * it (write, put, cas: yes; a transaction writing some registers: no):
	 * then reset_to(op) is that state. */
	bool reset_state_free;
	model_state (*reset_to)(const struct mop *op);
	/* Optional, for models whose only ops that look at the state are
	 * read-only ones: a canonical state standing for "a value no read
	 * will see" (every read left must come after a reset), so that
	 * configurations differing only in such a value are one. Returns s
	 * itself when it cannot be forgotten safely. */
	model_state (*forget)(void *ctx, model_state s);
	bool (*forgotten)(model_state s); /* s is that canonical state */
	/* Optional, for append-style models: what read ops[r] reveals. Fill
	 * out (room for n) with the indexes of the ops its result proves were
	 * placed after the last reset before it, and return how many; or -1
	 * when its result could be made in more than one way (or this is not
	 * known). ops are all the ops of the key being searched. */
	long (*reveal)(void *ctx, const struct mop *ops, size_t n, size_t r, uint32_t *out);
	/* Optional: why state s cannot be what op (a read) saw, shortly (a
	 * diff for long values), malloc'd; NULL: describe() is used. */
	char *(*explain)(void *ctx, model_state s, const struct mop *op);
	/* Optional cache hint: the search will step op; fetch what step
	 * reads of the shared tables (stage 0, then stage 1 once stage 0 has
	 * had time to arrive). A key's ops are spread over a history's
	 * million values: fetched one by one in the search, each cost two
	 * cache misses in a row. It changes nothing. */
	void (*warm)(void *ctx, const struct mop *op, int stage);
};

const struct model *model_find(const char *name);
/* The known model names, comma-separated (for errors and help texts). */
const char *model_names_list(void);

extern const struct model model_register, model_cas_register, model_multi_register,
	model_kv, model_mutex, model_queue, model_set;

/* Helpers shared by models. */
uint64_t model_hash_id(void *ctx, model_state s);
bool model_equal_id(void *ctx, model_state a, model_state b);
size_t model_ctx_bytes_none(void *ctx);
char *model_describe_value(const struct model_env *env, value_id id);
/* The register family (model_cas_register.c): read / write, and cas
 * [old new] when allow_cas. */
int register_encode(struct model_env *env, const char *f, json_t *value, bool known_result,
		    struct mop *out, char *err, size_t errlen, bool allow_cas);
int register_encode_init(struct model_env *env, json_t *init, struct mop *out, char *err,
			 size_t errlen);
void *register_ctx_new(const struct model_env *env, const struct mop *init, model_state *s0);
void register_ctx_free(void *ctx);
bool register_step(void *ctx, model_state s, const struct mop *op, model_state *out);
char *register_describe(void *ctx, model_state s);
bool register_read_only(const struct mop *op);
bool register_resets(const struct mop *op);
model_state register_reset_to(const struct mop *op);
bool register_reach(void *ctx, model_state s, const struct mop *read);
/* Text for messages: s (n bytes) as a JSON string, at most max bytes of
 * it, then "... (+N chars)". malloc'd. */
char *model_clip(const char *s, size_t n, size_t max);
/* A per-search context for models whose state is a sequence of 32-bit
 * words (multi-register, queue, set): states are interned, so the state id
 * is canonical and hash/equal are the id's. */
struct seq_ctx {
	const struct model_env *env;
	struct interner in;
	uint32_t *tmp;
	size_t tmpcap;
};
struct seq_ctx *seq_ctx_new(const struct model_env *env);
void seq_ctx_free(void *ctx);
size_t seq_ctx_bytes(void *ctx);
model_state seq_intern(struct seq_ctx *c, const uint32_t *w, size_t n);
/* Copy state s into c->tmp (grown to hold n + extra words); returns n. */
size_t seq_load(struct seq_ctx *c, model_state s, size_t extra);
/* f-name families shared by models */
bool f_is_read(const char *f);
bool f_is_write(const char *f);
void model_err(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
