/*
 * history.h - the history: the only contract between running and judging.
 *
 * On disk it is history.jsonl, one op per line (see shared/design.md):
 *   {"index":0,"time":10423,"type":"invoke","process":3,"f":"cas","key":"7","value":[1,2]}
 * The runner appends with history_writer_*; checkers, the report and
 * `faultline check` read with history_load() (whole file) or history_stream()
 * (one op at a time, for histories too large to hold twice). Jepsen EDN
 * histories are read into the same struct op.
 */
#ifndef FAULTLINE_HISTORY_H
#define FAULTLINE_HISTORY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum op_type { OP_INVOKE, OP_OK, OP_FAIL, OP_INFO };

#define PROCESS_NEMESIS (-1)
/* An imported op that names no process (Elle's example histories): all such
 * ops form one anonymous process for pairing, and no checker may infer
 * session order from it. Written as "process": null. */
#define PROCESS_NONE (-2)

/* How a key was written, so that keys 1, "1" and [1] stay distinct
 * (Clojure equality) while op->key keeps one readable spelling. */
enum op_key_type { OP_KEY_STRING = 0, OP_KEY_INT, OP_KEY_OTHER };

struct op {
	int64_t index;   /* position in the history, 0..n-1 */
	int64_t time;    /* ns since test start (CLOCK_MONOTONIC); -1 if unknown */
	enum op_type type;
	/* With HISTORY_SCALAR_TEXT, for a value left as one token: its hash
	 * as the checkers intern it, hash_tagged (util.h) of 's' and a
	 * string's bytes or 'i' and an integer's 8 bytes (host order), made
	 * by the reader's threads while the bytes are at hand; else 0. */
	uint32_t value_hash;
	int64_t process; /* >= 0 for clients, PROCESS_NEMESIS for faults, PROCESS_NONE */
	char *f;         /* "read", "write", "cas", "start-partition", ... */
	char *key;       /* NULL when the workload is not keyed (string form of the key) */
	json_t *value;   /* owned reference; JSON null when absent */
	char *node;      /* NULL if absent */
	char *error;     /* NULL if absent */
	json_t *extra;   /* other fields (object) or NULL; preserved for the report */
	/* Added for exact value semantics (see history_read.c): */
	uint8_t key_type; /* enum op_key_type: the key's type (strings: 0) */
	/* The value with EDN keywords written ":name" (in value they are plain
	 * "name" strings), so :a and "a" differ; NULL when the value holds no
	 * keyword. Owned reference. Value comparisons use it when present. */
	json_t *value_kw;
	/* Only from a reader started with HISTORY_VALUE_TEXT: a JSONL value
	 * that is a list of lists, integers, plain strings (no escapes), null,
	 * true and false is not built as a tree (with HISTORY_SCALAR_TEXT: a
	 * plain string or an integer, one token); value is NULL and value_text
	 * is its JSON text as in the file (NUL-terminated, in the batch),
	 * already checked to be valid JSON of that shape. NULL otherwise.
	 * op_value() gives the tree. */
	const char *value_text;
	size_t value_text_len;
	/* and the same value as tokens, so that it is scanned once, by the
	 * reader's threads: value_tokens[0..value_ntokens), HTOK_* below. */
	const uint64_t *value_tokens;
	uint32_t value_ntokens;
};

/* A value token: tag in the low 3 bits. A list is HTOK_LIST followed by
 * its elements' tokens: HTOK_LIST_N its number of elements, HTOK_LIST_SPAN
 * the number of tokens after it that it covers. HTOK_INT_V: an integer of
 * at most 18 digits. A string is HTOK_STR_OFF(t) bytes into value_text,
 * HTOK_STR_LEN(t) long (without the quotes; plain: no escapes). */
enum { HTOK_LIST = 0, HTOK_INT = 1, HTOK_STR = 2, HTOK_NULL = 3, HTOK_TRUE = 4, HTOK_FALSE = 5 };
#define HTOK_TAG(t) ((unsigned)((t) & 7))
#define HTOK_LIST_N(t) ((uint32_t)((t) >> 3) & 0x1fffffffu)
#define HTOK_LIST_SPAN(t) ((uint32_t)((t) >> 32))
#define HTOK_INT_V(t) ((int64_t)(t) >> 3)
#define HTOK_STR_OFF(t) ((uint32_t)((t) >> 3) & 0x1fffffffu)
#define HTOK_STR_LEN(t) ((uint32_t)((t) >> 32))

struct history {
	struct op *ops;
	size_t n, cap;
};

const char *op_type_name(enum op_type t);
bool op_type_parse(const char *s, enum op_type *out);
void op_free(struct op *op);            /* frees members, not op itself */
void op_copy(struct op *dst, const struct op *src); /* deep copy */
json_t *op_to_json(const struct op *op); /* new reference */
/* op's value as a tree, parsing value_text if the reader left it as text
 * (new reference; JSON null when there is none). */
json_t *op_value(const struct op *op);

void history_init(struct history *h);
void history_push(struct history *h, struct op *op); /* takes ownership of op's members */
void history_free(struct history *h);

enum history_format { HISTORY_AUTO, HISTORY_JSONL, HISTORY_EDN };

/* Error detail for a malformed file: "FILE:LINE:COL: message". */
struct history_error {
	char msg[512];
};

/* Called for every op read; return non-zero to stop. The callback takes
 * ownership of op's members (call op_free when done). */
typedef int (*history_op_cb)(struct op *op, void *ctx);

/* Stream a history file op by op without holding it all. A torn last line
 * of a JSONL file is ignored (a crashed run). Returns 0, or -1 with err set.
 * fmt HISTORY_AUTO guesses from the extension and first byte. */
int history_stream(const char *path, enum history_format fmt,
		   history_op_cb cb, void *ctx, struct history_error *err);
/* The same from an open stream (not closed); name is for messages and
 * the format guess. */
int history_stream_file(FILE *f, const char *name, enum history_format fmt,
			history_op_cb cb, void *ctx, struct history_error *err);
/* Load a whole history file. Returns 0 or -1 with err set. */
int history_load(const char *path, enum history_format fmt,
		 struct history *h, struct history_error *err);

/* --- batched reading (check_history: one read feeding every checker) ---
 * Ops arrive in file order in batches the reader owns: an op's strings
 * point into its batch and its values are references the batch holds, so
 * a million ops cost no malloc each. Borrow the ops; never op_free them. */
struct op_batch {
	struct op *ops;
	size_t n;
};
struct history_reader;
/* Start reading path in the background: large regular files (JSONL, and
 * EDN with one op per line) are parsed in parallel chunks cut at line
 * boundaries by threads workers (0: the number of cores). Never blocks:
 * even opening the file (a FIFO without a writer) happens in a thread. */
struct history_reader *history_reader_start(const char *path, enum history_format fmt,
					    int threads);
/* The same with flags: HISTORY_VALUE_TEXT leaves JSONL list values as
 * text (op->value_text, see struct op), for a consumer that parses them
 * itself faster than a jansson tree is built and freed (the transaction
 * checker: a million transactions are ~15 million JSON nodes). */
#define HISTORY_VALUE_TEXT 1u
/* HISTORY_SCALAR_TEXT: a JSONL value that is a plain string (no escapes)
 * or an integer of at most 18 digits is left as text the same way, as one
 * token (value NULL); for a consumer that interns scalars from their bytes
 * (the linearizability checker: a million values are a million jansson
 * strings allocated by the reader and freed by it again). */
#define HISTORY_SCALAR_TEXT 2u
struct history_reader *history_reader_start_flags(const char *path, enum history_format fmt,
						  int threads, unsigned flags);
enum { HISTORY_END = 0, HISTORY_BATCH = 1, HISTORY_ERROR = -1, HISTORY_TIMEOUT = -2 };
/* The next batch in file order: HISTORY_BATCH with *out, HISTORY_END,
 * HISTORY_ERROR with err ("FILE:LINE:COL: why", after every op before the
 * bad line was handed out), or HISTORY_TIMEOUT once now_ns() passed
 * deadline (0: wait forever). */
int history_reader_next(struct history_reader *r, int64_t deadline, struct op_batch **out,
			struct history_error *err);
/* Whether an op's f is the reader's shared copy of a common name (read,
 * write, cas, get, put, append...): its slot, 0..HISTORY_F_SHARED_MAX-1,
 * the same for every op of that name as long as the program runs; -1 for
 * any other f (a copy in its batch). A consumer keeps what it knows of a
 * name by slot, with no string comparison. */
#define HISTORY_F_SHARED_MAX 128
int history_f_shared(const char *f);
/* Give a batch back once its ops are no longer used. */
void history_reader_release(struct history_reader *r, struct op_batch *b);
/* Stop and free. A thread stuck in a read that never returns (a FIFO
 * without a writer) is left behind with what it uses. */
void history_reader_close(struct history_reader *r);

/* --- writing (runner) --- */
struct history_writer;
struct history_writer *history_writer_open(const char *path);
/* Append one op; assigns op->index under the writer's lock and writes one
 * line, flushed. Thread-safe, never interleaves lines. Returns the index. */
int64_t history_writer_append(struct history_writer *w, struct op *op);
int history_writer_sync(struct history_writer *w); /* fsync (phase boundaries) */
void history_writer_close(struct history_writer *w);
/* Lines appended so far (= the next index). */
int64_t history_writer_count(struct history_writer *w);
/* True once a write failed (disk full...): the runner stops the test. */
bool history_writer_failed(struct history_writer *w);

#endif
