/*
 * history_read.c - reads a history file into struct op: faultline's
 * history.jsonl (one JSON object per line, see design.md) and Jepsen's EDN
 * (op maps one after another, or one vector/list of them). Both go through
 * the same op-map conversion, so a Jepsen history and a faultline history
 * look the same to every checker.
 *
 * Pipeline. Ops are produced in batches (struct batch) whose strings live
 * in the batch's arena, so reading costs no malloc per op. A large regular
 * file (JSONL, or EDN written one op map per line, as Jepsen and Porcupine
 * write them) is cut into chunks at line boundaries and parsed by several
 * threads with pread; the consumer takes the chunks back in file order and
 * fixes what a chunk cannot know alone (absolute line numbers, the default
 * index of ops without one). Anything else (a pipe, a small file, EDN with
 * ops spanning lines) is parsed by one thread from a buffered stream. The
 * input is never rewound: the format is sniffed from bytes already read,
 * so `cat h | faultline check /dev/stdin` reads every byte.
 *
 * JSONL lines are parsed by a small scanner for the flat lines the runner
 * writes; anything it does not recognise goes to jansson, which also gives
 * the error position. Only a last line without its newline may be torn (a
 * run killed mid-write): it is skipped with a warning. Every other line
 * that fails to parse, the last one included, is an error
 * "FILE:LINE:COL: message" with every byte printable.
 *
 * With HISTORY_VALUE_TEXT (the transaction checker's reads), a JSONL value
 * that is a list of plain values is not built as a jansson tree: the
 * scanner checks it and cuts it into tokens in one pass, in the parallel
 * workers, and the op carries its text and tokens (history.h). A million
 * transactions are ~15 million tree nodes otherwise, whose malloc and free
 * cost more than everything else the checker does.
 *
 * Value semantics (the same for both formats, Clojure's equality): 1, 1.0
 * and "1" are three values; an EDN keyword :a is the string ":a" for
 * comparisons (op->value_kw; op->value keeps the plain name "a" for
 * checkers that read names), so it differs from the string "a", and the
 * JSONL spelling of a keyword is ":a". JSONL integers must fit in 64 bits
 * (jansson refuses others: a line holding one is bad input); an EDN one
 * beyond them is the string of its digits for checkers that read names,
 * and "<digits>N" for comparisons, so it equals no string. Keys
 * keep their type (op->key_type): key 1 and key "1" are different keys.
 * EDN sets and lists read as vectors; map keys compare by their text.
 *
 * Jepsen's independent histories carry values [key value]. Whether a
 * history is one is decided once, for the whole file, from its first
 * client ops: a value that is not a [key value] pair says no; an invoke
 * [key nil] (a read or lock invoke of one key) says yes; so a register
 * written [1 2] or a set read #{1 2} is never split by accident.
 */
#include "edn.h"
#include "history.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define BATCH_OPS 4096           /* ops per batch of a sequential read */
#define CHUNK_BYTES (1u << 20)   /* bytes per chunk of a parallel read (4 MB
				 * cost 50 MB more at 1M ops, RING chunks in
				 * flight, and no time) */
#define PAR_MIN_BYTES (8u << 20) /* smaller files are read by one thread */
#define RING 8                   /* batches in flight between threads and consumer */
#define SNIFF_BYTES 65536        /* read before choosing format and mode */
#define DECIDE_OPS 1024          /* client ops that settle the tuple question */
#define ARENA_BLOCK 65536
#define READER_NICE 10           /* parallel parsers' niceness (par_worker) */
#define INDEX_UNSET INT64_MIN    /* + position in batch: no index given */
#define IS_DIGIT(c) ((unsigned char)((c) - '0') < 10)

/* ------------------------------------------------------------- batches */

struct arena_block {
	struct arena_block *next;
	size_t len, cap;
	char data[];
};

/* An EDN value [k v] read already split (op->key from k, op->value v),
 * pending the history's tuple decision: what k was, to rebuild it. */
enum { PRE_NONE, PRE_INT, PRE_STRING, PRE_KEYWORD };

struct batch {
	struct op_batch pub;   /* first member: the consumer's view */
	size_t cap;
	uint8_t *pre;          /* per op: PRE_* */
	struct arena_block *blocks; /* the ops' strings, kept for reuse */
	struct arena_block *cur;    /* the block being filled */
	uint64_t seq;
	long nlines;           /* lines this batch covers (JSONL, EDN lines) */
	long first_line;       /* relative line of its first op (EDN lines) */
	bool eof;              /* nothing after this batch */
	bool torn;             /* the file's last line, torn: ignored */
	long torn_line;
	bool failed;           /* an error after its ops */
	bool building;         /* ops[pub.n] is being parsed (see bus_handler) */
	long err_line, err_col; /* relative to the batch's first line; 0: none */
	char err_text[400];
	bool abs_lines;        /* positions are absolute already (streaming EDN) */
	bool fallback;         /* EDN: from fb_off on, ops span lines: read sequentially */
	off_t fb_off;
	bool closed;           /* EDN: the top-level vector closed in this batch */
	bool value_text;       /* HISTORY_VALUE_TEXT: plain list values stay text */
	bool scalar_text;      /* HISTORY_SCALAR_TEXT: plain strings, integers too */
	/* chunk_parse noted whether some op has no index of its own, so that
	 * consume_batch need not read every op to find out (on the consumer's
	 * thread, a cache miss per op written on another core) */
	bool index_tracked, index_unset;
	bool trees_tracked, trees;  /* the same for values held as trees */
	uint64_t *tok;         /* the value being tokenised */
	size_t tok_cap;
	struct batch *next;
};

static struct batch *batch_new(void)
{
	struct batch *b = xcalloc(1, sizeof *b);
	b->cap = 256;
	b->pub.ops = xmalloc(b->cap * sizeof *b->pub.ops);
	b->pre = xmalloc(b->cap);
	return b;
}

/* Empty a batch for reuse: values released, arena rewound. */
static void batch_clear(struct batch *b)
{
	for (size_t i = 0; i < b->pub.n && (b->trees || !b->trees_tracked); i++) {
		struct op *op = &b->pub.ops[i];
		json_decref(op->value);
		json_decref(op->value_kw);
		json_decref(op->extra);
	}
	b->pub.n = 0;
	for (struct arena_block *x = b->blocks; x; x = x->next)
		x->len = 0;
	struct batch save = *b;
	memset(b, 0, sizeof *b);
	b->pub.ops = save.pub.ops;
	b->pre = save.pre;
	b->cap = save.cap;
	b->tok = save.tok;
	b->tok_cap = save.tok_cap;
	b->blocks = b->cur = save.blocks;
}

static void batch_free(struct batch *b)
{
	if (!b)
		return;
	batch_clear(b);
	while (b->blocks) {
		struct arena_block *nx = b->blocks->next;
		free(b->blocks);
		b->blocks = nx;
	}
	free(b->pub.ops);
	free(b->pre);
	free(b->tok);
	free(b);
}

static struct op *batch_push(struct batch *b)
{
	if (b->pub.n == b->cap) {
		b->cap *= 2;
		b->pub.ops = xrealloc(b->pub.ops, b->cap * sizeof *b->pub.ops);
		b->pre = xrealloc(b->pre, b->cap);
	}
	struct op *op = &b->pub.ops[b->pub.n];
	memset(op, 0, sizeof *op);
	b->pre[b->pub.n] = PRE_NONE;
	return op;
}

/* n bytes aligned to align (a power of two, at most 8) in b's arena. */
static void *abump(struct batch *b, size_t n, size_t align)
{
	struct arena_block *a = b->cur;
	size_t at = 0;
	for (;;) { /* blocks of an earlier use of this batch may follow */
		if (a)
			at = (a->len + align - 1) & ~(align - 1);
		if (!a || at + n <= a->cap || !a->next)
			break;
		a = a->next;
	}
	if (!a || at + n > a->cap) {
		size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
		struct arena_block *nb = xmalloc(sizeof *nb + cap);
		nb->len = 0;
		nb->cap = cap;
		nb->next = NULL;
		if (a)
			a->next = nb;
		else
			b->blocks = nb;
		a = nb;
		at = 0;
	}
	b->cur = a;
	a->len = at + n;
	return a->data + at;
}

/* A NUL-terminated copy of s[0..n) in b's arena (or malloc'd if b is
 * NULL). */
static char *sdup(struct batch *b, const char *s, size_t n)
{
	char *d = b ? abump(b, n + 1, 1) : xmalloc(n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* The f names workloads use, one string each: an op whose f is one of
 * them points into this block rather than to a copy in its batch, so a
 * consumer comparing f per op (check.c's validator, the linearizability
 * checker) can compare pointers (history_f_shared), with no strcmp. */
static const char common_f[] = "read\0write\0cas\0get\0put\0append\0add\0txn\0acquire\0"
			       "release\0enqueue\0dequeue\0transfer\0compare-and-set";

_Static_assert(sizeof common_f <= HISTORY_F_SHARED_MAX, "HISTORY_F_SHARED_MAX");

int history_f_shared(const char *f)
{
	return f >= common_f && f < common_f + sizeof common_f ? (int)(f - common_f) : -1;
}

static char *f_dup(struct batch *b, const char *s, size_t n)
{
	if (!b || !n) /* malloc'd ops are freed one by one */
		return sdup(b, s, n);
	for (const char *c = common_f; c < common_f + sizeof common_f; c += strlen(c) + 1)
		if (c[0] == s[0] && !strncmp(c, s, n) && c[n] == '\0')
			return (char *)c; /* batch ops are never freed one by one */
	return sdup(b, s, n);
}

/* ------------------------------------------------------- op conversion */

/* Builds one op field by field, from a JSON object, an EDN map, or the
 * fast scanners. Values are borrowed (the builder takes its own refs). */
struct opb {
	struct op *op;
	struct batch *b;    /* strings' arena; NULL: malloc */
	bool have_type, have_proc;
	const char *why;    /* static message of the first error */
};

static void opb_init(struct opb *o, struct op *op, struct batch *b, int64_t default_index)
{
	memset(op, 0, sizeof *op);
	op->index = default_index;
	op->time = -1;
	op->process = PROCESS_NONE;
	o->op = op;
	o->b = b;
	o->have_type = o->have_proc = false;
	o->why = NULL;
}

static void opb_fail(struct opb *o, const char *why)
{
	if (!o->why)
		o->why = why;
}

static char *text_of(struct opb *o, json_t *v)
{
	if (json_is_string(v))
		return sdup(o->b, json_string_value(v), json_string_length(v));
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
	char *d = sdup(o->b, s ? s : "?", s ? strlen(s) : 1);
	free(s);
	return d;
}

/* The key from its value k (kw: its keyword-exact form, or NULL). */
static void opb_key(struct opb *o, json_t *k, json_t *kw)
{
	struct op *op = o->op;
	op->key = NULL;
	op->key_type = OP_KEY_STRING;
	if (!k || json_is_null(k))
		return;
	if (kw && json_is_string(kw)) {
		op->key = text_of(o, kw); /* a keyword key :x is ":x" */
	} else if (json_is_string(k)) {
		op->key = text_of(o, k);
	} else if (json_is_integer(k)) {
		char d[32];
		int n = snprintf(d, sizeof d, "%" JSON_INTEGER_FORMAT, json_integer_value(k));
		op->key = sdup(o->b, d, (size_t)n);
		op->key_type = OP_KEY_INT;
	} else {
		op->key = text_of(o, kw ? kw : k);
		op->key_type = OP_KEY_OTHER;
	}
}

static void opb_value(struct opb *o, json_t *v, json_t *kw)
{
	json_decref(o->op->value);
	json_decref(o->op->value_kw);
	o->op->value = json_incref(v ? v : json_null());
	o->op->value_kw = kw && kw != v ? json_incref(kw) : NULL;
}

static void opb_type(struct opb *o, const char *s)
{
	if (op_type_parse(s, &o->op->type))
		o->have_type = true;
	else
		opb_fail(o, "op needs \"type\": invoke, ok, fail or info");
}

static const char why_process[] = "op needs \"process\": a non-negative integer or \"nemesis\"";

/* One field of the op map. kw is the keyword-exact form of v (or NULL). */
static void opb_field(struct opb *o, const char *k, json_t *v, json_t *kw)
{
	struct op *op = o->op;
	switch (k[0]) {
	case 't':
		if (!strcmp(k, "type")) {
			if (json_is_string(v))
				opb_type(o, json_string_value(v));
			else
				opb_fail(o, "op needs \"type\": invoke, ok, fail or info");
			return;
		}
		if (!strcmp(k, "time")) {
			if (json_is_integer(v))
				op->time = json_integer_value(v);
			return;
		}
		break;
	case 'p':
		if (!strcmp(k, "process")) {
			o->have_proc = true;
			if (json_is_integer(v) && json_integer_value(v) >= 0)
				op->process = json_integer_value(v);
			else if (json_is_string(v) && !strcmp(json_string_value(v), "nemesis"))
				op->process = PROCESS_NEMESIS;
			else if (json_is_null(v))
				op->process = PROCESS_NONE;
			else
				opb_fail(o, why_process);
			return;
		}
		break;
	case 'f':
		if (!strcmp(k, "f")) {
			if (!json_is_null(v))
				op->f = text_of(o, v);
			return;
		}
		break;
	case 'i':
		if (!strcmp(k, "index")) {
			if (json_is_integer(v))
				op->index = json_integer_value(v);
			return;
		}
		break;
	case 'k':
		if (!strcmp(k, "key")) {
			opb_key(o, v, kw);
			return;
		}
		break;
	case 'v':
		if (!strcmp(k, "value")) {
			opb_value(o, v, kw);
			return;
		}
		break;
	case 'n':
		if (!strcmp(k, "node")) {
			op->node = json_is_null(v) ? NULL : text_of(o, v);
			return;
		}
		break;
	case 'e':
		if (!strcmp(k, "error")) {
			op->error = json_is_null(v) ? NULL : text_of(o, v);
			return;
		}
		break;
	}
	if (!op->extra)
		op->extra = json_object();
	json_object_set(op->extra, k, v);
}

/* Defaults and required fields; 0 or -1 with o->why. */
static int opb_finish(struct opb *o)
{
	struct op *op = o->op;
	if (!op->value)
		op->value = json_null();
	if (!o->why && !o->have_type)
		opb_fail(o, "op needs \"type\": invoke, ok, fail or info");
	if (!o->why && !op->f) {
		if (json_is_array(op->value) && json_array_size(op->value) &&
		    json_is_array(json_array_get(op->value, 0)))
			op->f = sdup(o->b, "txn", 3); /* Elle's histories leave :f out of transactions */
		else
			opb_fail(o, "op needs \"f\"");
	}
	(void)o->have_proc; /* no process: the anonymous PROCESS_NONE */
	return o->why ? -1 : 0;
}

/* Free what a failed op holds (strings in an arena stay there). */
static void opb_discard(struct opb *o)
{
	struct op *op = o->op;
	json_decref(op->value);
	json_decref(op->value_kw);
	json_decref(op->extra);
	if (!o->b) {
		free(op->f);
		free(op->key);
		free(op->node);
		free(op->error);
	}
	memset(op, 0, sizeof *op);
}

/* An op from an object (JSON, or EDN with kwobj its keyword-exact form). */
static int op_from_object(json_t *obj, json_t *kwobj, struct batch *b, int64_t default_index,
			  struct op *op, const char **why)
{
	struct opb o;
	opb_init(&o, op, b, default_index);
	if (!json_is_object(obj)) {
		*why = "an op must be a map/object";
		return -1;
	}
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v)
		opb_field(&o, k, v, kwobj ? json_object_get(kwobj, k) : NULL);
	if (opb_finish(&o) < 0) {
		*why = o.why;
		opb_discard(&o);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- JSONL */

/* The fast scanner: the runner writes flat objects whose members are
 * strings without escapes, integers, null, or (for "value") any JSON, which
 * is handed to jansson on its own. Returns 1 parsed, 0 not handled (caller
 * falls back to jansson). */
struct scan {
	const char *p, *end;
};

static void sc_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n'))
		s->p++;
}

/* Bytes a plain string holds (printable ASCII but '"' and '\\'). */
static const bool sc_plain[256] = {
	[0x20] = 1, [0x21] = 1, [0x23 ... 0x5b] = 1, [0x5d ... 0x7e] = 1,
};

/* A plain string (no escapes, no control bytes, ASCII); returns length or -1. */
static long sc_str(struct scan *s, const char **start)
{
	if (s->p >= s->end || *s->p != '"')
		return -1;
	const unsigned char *q = (const unsigned char *)s->p + 1, *e = (const unsigned char *)s->end;
	while (q < e && sc_plain[*q])
		q++;
	if (q >= e || *q != '"')
		return -1;
	*start = s->p + 1;
	long n = (const char *)q - *start;
	s->p = (const char *)q + 1;
	return n;
}

static bool sc_int(struct scan *s, int64_t *out)
{
	const char *q = s->p;
	bool neg = false;
	if (q < s->end && *q == '-') {
		neg = true;
		q++;
	}
	if (q >= s->end || !IS_DIGIT(*q) ||
	    (*q == '0' && q + 1 < s->end && IS_DIGIT(q[1])))
		return false;
	uint64_t v = 0;
	const char *d = q;
	while (q < s->end && IS_DIGIT(*q))
		v = v * 10 + (uint64_t)(*q++ - '0'); /* wraps past 19 digits: refused below */
	if (q - d > 18 || (q < s->end && (*q == '.' || *q == 'e' || *q == 'E')))
		return false;
	*out = neg ? -(int64_t)v : (int64_t)v;
	s->p = q;
	return true;
}

/* Find the end of one JSON value starting at s->p by bracket/quote
 * matching (validity is checked later by jansson). */
static const char *sc_skip_value(struct scan *s)
{
	const char *q = s->p;
	int depth = 0;
	bool in_str = false;
	for (; q < s->end; q++) {
		char c = *q;
		if (in_str) {
			if (c == '\\')
				q++;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"')
			in_str = true;
		else if (c == '[' || c == '{')
			depth++;
		else if (c == ']' || c == '}') {
			if (depth == 0)
				return q;
			depth--;
		} else if (c == ',' && depth == 0)
			return q;
	}
	return depth == 0 && !in_str ? q : NULL;
}

static json_t *sc_value(struct scan *s)
{
	const char *st;
	long n;
	int64_t iv;
	if (s->p < s->end && *s->p == '"') {
		struct scan save = *s;
		if ((n = sc_str(s, &st)) >= 0)
			return json_stringn_nocheck(st, (size_t)n); /* ASCII: valid UTF-8 */
		*s = save;
	} else if (s->p < s->end && (*s->p == '-' || IS_DIGIT(*s->p))) {
		if (sc_int(s, &iv))
			return json_integer(iv);
	} else if (s->end - s->p >= 4 && !memcmp(s->p, "null", 4)) {
		s->p += 4;
		return json_null();
	}
	const char *e = sc_skip_value(s);
	if (!e || e == s->p)
		return NULL;
	json_t *v = json_loadb(s->p, (size_t)(e - s->p), JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (v)
		s->p = e;
	return v;
}

/* A value as text (HISTORY_VALUE_TEXT): a JSON list whose members are
 * lists, integers of at most 18 digits, plain strings, null, true or
 * false, with JSON whitespace. Checked exactly (what passes is valid JSON
 * that jansson reads the same) and tokenised into b->tok (see HTOK_* in
 * history.h) in the same pass; returns the end, or NULL for anything else
 * (which is then read as a tree, so errors keep jansson's words). */
#define SC_TEXT_DEPTH 64

static inline const char *sc_text_ws(const char *p, const char *end)
{
	while (p < end && (unsigned char)*p <= ' ') {
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			return end; /* a control byte: fails where end is checked */
		p++;
	}
	return p;
}

/* An integer token at p ('-' or a digit); its end, or NULL. What follows
 * must be whitespace, ',' or ']' (the caller checks), so "01", "1.5" and
 * "1e3" are refused there. */
static inline const char *sc_text_int(const char *p, const char *end, uint64_t *tok)
{
	const char *d = p + (*p == '-');
	if (d >= end || !IS_DIGIT(*d))
		return NULL;
	uint64_t v = (uint64_t)(*d - '0');
	const char *q = d + 1;
	if (v) /* no digit may follow a leading 0 */
		while (q < end && IS_DIGIT(*q))
			v = v * 10 + (uint64_t)(*q++ - '0');
	if (q - d > 18)
		return NULL;
	*tok = HTOK_INT | (uint64_t)(d != p ? -(int64_t)v : (int64_t)v) << 3;
	return q;
}

static const char *sc_text_list(const char *p, const char *end, struct batch *b,
				uint32_t *ntok)
{
	const char *base = p;
	if (p >= end || *p != '[' || end - p > 0x1fffffff)
		return NULL;
	uint64_t *tok = b->tok;
	/* room for one more token (grown as needed: a huge line costs what
	 * its tokens take, not eight bytes per byte up front) */
#define TOK_ROOM()                                                                   \
	do {                                                                         \
		if (n == b->tok_cap) {                                               \
			b->tok_cap = b->tok_cap ? b->tok_cap * 2 : 1024;             \
			tok = b->tok = xrealloc(b->tok, b->tok_cap * sizeof *b->tok); \
		}                                                                    \
	} while (0)
	uint32_t open[SC_TEXT_DEPTH], cnt[SC_TEXT_DEPTH];
	uint32_t n = 0;
	int depth = 0;
	for (;;) { /* at a value */
		p = sc_text_ws(p, end);
		if (p >= end)
			return NULL;
		if (depth)
			cnt[depth - 1]++;
		TOK_ROOM();
		char c = *p;
		if (c == '[') {
			if (depth == SC_TEXT_DEPTH)
				return NULL;
			open[depth] = n;
			cnt[depth++] = 0;
			tok[n++] = HTOK_LIST;
			p = sc_text_ws(p + 1, end);
			if (p < end && *p == ']') {
				p++;
				goto close;
			}
			/* a list of integers (a read): a tight loop while it lasts */
			while (p < end && (IS_DIGIT(*p) || *p == '-')) {
				TOK_ROOM();
				if (!(p = sc_text_int(p, end, &tok[n++])))
					return NULL;
				cnt[depth - 1]++;
				if (p + 1 < end && *p == ',' && (IS_DIGIT(p[1]) || p[1] == '-'))
					p++;
				else
					goto after;
			}
			continue;
		}
		if (c == '"') {
			const unsigned char *q = (const unsigned char *)p + 1;
			while (q < (const unsigned char *)end && sc_plain[*q])
				q++;
			if (q >= (const unsigned char *)end || *q != '"')
				return NULL;
			uint64_t off = (uint64_t)(p + 1 - base), len = (uint64_t)((const char *)q - p - 1);
			tok[n++] = HTOK_STR | off << 3 | len << 32;
			p = (const char *)q + 1;
		} else if (c == '-' || IS_DIGIT(c)) {
			if (!(p = sc_text_int(p, end, &tok[n++])))
				return NULL;
		} else if (end - p >= 4 && !memcmp(p, "null", 4)) {
			tok[n++] = HTOK_NULL;
			p += 4;
		} else if (end - p >= 4 && !memcmp(p, "true", 4)) {
			tok[n++] = HTOK_TRUE;
			p += 4;
		} else if (end - p >= 5 && !memcmp(p, "false", 5)) {
			tok[n++] = HTOK_FALSE;
			p += 5;
		} else {
			return NULL;
		}
	after:
		p = sc_text_ws(p, end);
		if (p >= end)
			return NULL;
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p != ']')
			return NULL;
		p++;
	close:
		depth--;
		tok[open[depth]] = HTOK_LIST | (uint64_t)cnt[depth] << 3 |
				   (uint64_t)(n - open[depth] - 1) << 32;
		if (depth == 0) {
			*ntok = n;
			return p;
		}
		goto after;
	}
#undef TOK_ROOM
}

/* With HISTORY_VALUE_TEXT, a list value at s->p kept as text and tokens in
 * op; true if it was (s->p moved past it). */
static bool sc_value_text(struct scan *s, struct batch *b, struct op *op)
{
	if (!b || !b->value_text || s->p >= s->end || *s->p != '[')
		return false;
	uint32_t nt;
	const char *e = sc_text_list(s->p, s->end, b, &nt);
	if (!e)
		return false;
	op->value_text_len = (size_t)(e - s->p);
	op->value_text = sdup(b, s->p, op->value_text_len);
	uint64_t *t = abump(b, nt * sizeof *t, sizeof *t);
	memcpy(t, b->tok, nt * sizeof *t);
	op->value_tokens = t;
	op->value_ntokens = nt;
	s->p = e;
	return true;
}

/* With HISTORY_SCALAR_TEXT, a plain string or an integer of at most 18
 * digits at s->p kept as text and one token in op, as a list is above (no
 * jansson string per op: its malloc and free were a third of reading);
 * true if it was (s->p moved past it). */
static bool sc_scalar_text(struct scan *s, struct batch *b, struct op *op)
{
	if (!b || !b->scalar_text || s->p >= s->end)
		return false;
	struct scan save = *s;
	const char *st;
	long n;
	int64_t iv;
	uint64_t tok;
	if (*s->p == '"') {
		if ((n = sc_str(s, &st)) < 0)
			return *s = save, false;
		tok = HTOK_STR | (uint64_t)1 << 3 | (uint64_t)n << 32;
		op->value_hash = (uint32_t)hash_tagged('s', st, (size_t)n);
	} else if (*s->p == '-' || IS_DIGIT(*s->p)) {
		if (!sc_int(s, &iv))
			return *s = save, false;
		tok = HTOK_INT | (uint64_t)iv << 3;
		op->value_hash = (uint32_t)hash_tagged('i', &iv, 8);
	} else {
		return false;
	}
	uint64_t *t = abump(b, sizeof *t, sizeof *t);
	*t = tok;
	op->value_text_len = (size_t)(s->p - save.p);
	op->value_text = sdup(b, save.p, op->value_text_len);
	op->value_tokens = t;
	op->value_ntokens = 1;
	return true;
}

/* Expect the literal lit at s->p (consumed; mem_eq: ten memcmp calls per
 * line showed in profiles). */
#define SC_LIT(s, lit) ((s)->end - (s)->p >= (long)sizeof(lit) - 1 && \
			mem_eq((s)->p, lit, sizeof(lit) - 1) && ((s)->p += sizeof(lit) - 1, true))

/* The layout history_write.c writes, field by field with no search:
 * {"index":N,"time":N,"type":"T","process":P,"f":"F"[,"key":"K"],
 *  "value":V[,"node":"N"][,"error":"E"]}. 1, or 0 to try the general
 * scanner. */
static int jsonl_canonical(const char *line, size_t len, struct batch *b, struct op *op)
{
	struct scan s = {line, line + len};
	const char *vs;
	long vn;
	memset(op, 0, sizeof *op);
	if (!SC_LIT(&s, "{\"index\":") || !sc_int(&s, &op->index) || !SC_LIT(&s, ",\"time\":") ||
	    !sc_int(&s, &op->time) || !SC_LIT(&s, ",\"type\":"))
		return 0;
	if (SC_LIT(&s, "\"invoke\""))
		op->type = OP_INVOKE;
	else if (SC_LIT(&s, "\"ok\""))
		op->type = OP_OK;
	else if (SC_LIT(&s, "\"info\""))
		op->type = OP_INFO;
	else if (SC_LIT(&s, "\"fail\""))
		op->type = OP_FAIL;
	else
		return 0;
	if (!SC_LIT(&s, ",\"process\":"))
		return 0;
	if (sc_int(&s, &op->process)) {
		if (op->process < 0)
			return 0;
	} else if (SC_LIT(&s, "\"nemesis\"")) {
		op->process = PROCESS_NEMESIS;
	} else if (SC_LIT(&s, "null")) {
		op->process = PROCESS_NONE;
	} else {
		return 0;
	}
	if (!SC_LIT(&s, ",\"f\":") || (vn = sc_str(&s, &vs)) < 0)
		return 0;
	op->f = f_dup(b, vs, (size_t)vn);
	if (SC_LIT(&s, ",\"key\":")) {
		if ((vn = sc_str(&s, &vs)) < 0)
			return 0;
		op->key = sdup(b, vs, (size_t)vn);
	}
	if (!SC_LIT(&s, ",\"value\":"))
		return 0;
	const char *vstart = s.p;
	if (sc_value_text(&s, b, op) || sc_scalar_text(&s, b, op))
		;
	else if (s.p < s.end && *s.p == '"' && (vn = sc_str(&s, &vs)) >= 0)
		op->value = json_stringn_nocheck(vs, (size_t)vn); /* ASCII: valid UTF-8 */
	else if (SC_LIT(&s, "null"))
		op->value = json_null();
	else if (s.p = vstart, !(op->value = sc_value(&s)))
		return 0;
	if (SC_LIT(&s, ",\"node\":")) {
		if ((vn = sc_str(&s, &vs)) < 0)
			goto undo;
		op->node = sdup(b, vs, (size_t)vn);
	}
	if (SC_LIT(&s, ",\"error\":")) {
		if ((vn = sc_str(&s, &vs)) < 0)
			goto undo;
		op->error = sdup(b, vs, (size_t)vn);
	}
	if (!SC_LIT(&s, "}"))
		goto undo;
	if (s.p < s.end && *s.p == '\r')
		s.p++;
	if (s.p != s.end)
		goto undo;
	return 1;
undo:
	json_decref(op->value);
	memset(op, 0, sizeof *op);
	return 0;
}

static int jsonl_fast(const char *line, size_t len, struct batch *b, int64_t default_index,
		      struct op *op)
{
	if (b && jsonl_canonical(line, len, b, op))
		return 1;
	struct scan s = {line, line + len};
	struct opb o;
	opb_init(&o, op, b, default_index);
	bool have_f = false;
	sc_ws(&s);
	if (s.p >= s.end || *s.p++ != '{')
		return 0;
	for (;;) {
		sc_ws(&s);
		const char *k;
		long kn = sc_str(&s, &k);
		if (kn < 0)
			goto fallback;
		sc_ws(&s);
		if (s.p >= s.end || *s.p++ != ':')
			goto fallback;
		sc_ws(&s);
#define KEY(name) (kn == (long)sizeof(name) - 1 && k[0] == (name)[0] && \
		   !memcmp(k, name, sizeof(name) - 1))
		const char *vs;
		long vn;
		int64_t iv;
		if (KEY("index") || KEY("time")) {
			if (!sc_int(&s, &iv))
				goto fallback;
			if (KEY("index"))
				op->index = iv;
			else
				op->time = iv;
		} else if (KEY("type")) {
			if ((vn = sc_str(&s, &vs)) < 0 || vn >= 8)
				goto fallback;
			char tb[8];
			memcpy(tb, vs, (size_t)vn);
			tb[vn] = 0;
			if (o.have_type || !op_type_parse(tb, &op->type))
				goto fallback;
			o.have_type = true;
		} else if (KEY("process")) {
			if (o.have_proc)
				goto fallback;
			if (sc_int(&s, &iv) && iv >= 0)
				op->process = iv;
			else if ((vn = sc_str(&s, &vs)) == 7 && !memcmp(vs, "nemesis", 7))
				op->process = PROCESS_NEMESIS;
			else if (s.end - s.p >= 4 && !memcmp(s.p, "null", 4))
				s.p += 4, op->process = PROCESS_NONE;
			else
				goto fallback;
			o.have_proc = true;
		} else if (KEY("key")) {
			if (op->key)
				goto fallback;
			if ((vn = sc_str(&s, &vs)) >= 0) {
				op->key = sdup(b, vs, (size_t)vn);
			} else if (sc_int(&s, &iv)) {
				char d[24];
				int dn = snprintf(d, sizeof d, "%" PRId64, iv);
				op->key = sdup(b, d, (size_t)dn);
				op->key_type = OP_KEY_INT;
			} else {
				goto fallback;
			}
		} else if (KEY("f") || KEY("node") || KEY("error")) {
			char **dst = KEY("f") ? &op->f : KEY("node") ? &op->node : &op->error;
			if (*dst || (vn = sc_str(&s, &vs)) < 0)
				goto fallback;
			*dst = KEY("f") ? f_dup(b, vs, (size_t)vn) : sdup(b, vs, (size_t)vn);
			if (KEY("f"))
				have_f = true;
		} else if (KEY("value")) {
			if (op->value || op->value_text)
				goto fallback;
			if (!sc_value_text(&s, b, op) && !sc_scalar_text(&s, b, op) &&
			    !(op->value = sc_value(&s)))
				goto fallback;
		} else {
			goto fallback;
		}
#undef KEY
		sc_ws(&s);
		if (s.p < s.end && *s.p == ',') {
			s.p++;
			continue;
		}
		if (s.p < s.end && *s.p == '}') {
			s.p++;
			break;
		}
		goto fallback;
	}
	sc_ws(&s);
	if (s.p != s.end || !o.have_type || !have_f)
		goto fallback;
	if (!op->value && !op->value_text)
		op->value = json_null();
	return 1;
fallback:
	opb_discard(&o);
	return 0;
}

/* Parse one line: 1 op, 0 blank line, -1 error (col and text set). */
static int jsonl_line(const char *line, size_t len, struct batch *b, int64_t default_index,
		      struct op *op, long *col, char *text, size_t textlen)
{
	size_t i = 0;
	while (i < len && isspace((unsigned char)line[i]))
		i++;
	if (i == len)
		return 0;
	if (jsonl_fast(line, len, b, default_index, op))
		return 1;
	json_error_t je;
	json_t *obj = json_loadb(line, len, JSON_ALLOW_NUL, &je);
	if (!obj) {
		*col = je.column > 0 ? je.column : 1;
		snprintf(text, textlen, "%s", je.text);
		return -1;
	}
	const char *why = NULL;
	int rc = op_from_object(obj, NULL, b, default_index, op, &why);
	json_decref(obj);
	if (rc < 0) {
		*col = 1;
		snprintf(text, textlen, "%s", why);
		return -1;
	}
	return 1;
}

/* ------------------------------------------------------- EDN, by lines */

/* What parsing one line of a one-op-per-line EDN history gave. */
enum { EL_ERROR = -1, EL_BLANK = 0, EL_OP = 1, EL_SPANS = 2 };

struct edn_line {
	struct edn_reader *r;  /* a memory reader for generic values */
	int seq_close;         /* the top-level vector's closer, 0 if none */
	bool closed;           /* set when this line closed it */
	uint8_t pre;           /* the op's value was [k v], read split (PRE_*) */
	long col;              /* error column */
	char text[400];
};

static size_t el_ws(const char *s, size_t i, size_t len)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == ',' || s[i] == '\r' ||
			   s[i] == '\f'))
		i++;
	return i;
}

/* Bytes of EDN symbols, keywords and numbers. */
static const bool el_tok[256] = {
	['a' ... 'z'] = 1, ['A' ... 'Z'] = 1, ['0' ... '9'] = 1, ['.'] = 1, ['*'] = 1, ['+'] = 1,
	['!'] = 1, ['-'] = 1, ['_'] = 1, ['?'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['='] = 1,
	['<'] = 1, ['>'] = 1, ['/'] = 1, [':'] = 1, ['#'] = 1, ['\''] = 1,
};

static inline bool el_tokc(char c) { return el_tok[(unsigned char)c]; }

/* A generic value at s[i..len) through the EDN reader: the position after
 * it, or 0 if it does not end on this line (or is malformed: the
 * sequential reader then gives the exact error). */
static bool el_delim(const char *s, size_t i, size_t len)
{
	return i == len || s[i] == ' ' || s[i] == ',' || s[i] == ']' || s[i] == '}' ||
	       s[i] == ')' || s[i] == '\t' || s[i] == '\r';
}

/* The scalars most values are (nil, small integers, plain strings,
 * keywords, booleans) without the generic reader: the end, or 0. */
static size_t el_scalar(const char *s, size_t i, size_t len, json_t **v, json_t **kw)
{
	size_t j = i;
	if (s[j] == '"') {
		j++;
		while (j < len && sc_plain[(unsigned char)s[j]])
			j++;
		if (j >= len || s[j] != '"' || !el_delim(s, j + 1, len))
			return 0;
		*v = json_stringn_nocheck(s + i + 1, j - i - 1); /* ASCII: valid UTF-8 */
		return j + 1;
	}
	if (IS_DIGIT(s[j]) || (s[j] == '-' && j + 1 < len && IS_DIGIT(s[j + 1]))) {
		bool neg = s[j] == '-';
		j += neg;
		uint64_t x = 0;
		size_t d0 = j;
		while (j < len && IS_DIGIT(s[j]) && j - d0 < 18)
			x = x * 10 + (uint64_t)(s[j++] - '0');
		if (!el_delim(s, j, len) || (s[d0] == '0' && j - d0 > 1))
			return 0;
		*v = json_integer(neg ? -(json_int_t)x : (json_int_t)x);
		return j;
	}
	if (s[j] == ':') {
		j++;
		while (j < len && el_tok[(unsigned char)s[j]])
			j++;
		if (j == i + 1 || j - i > 64 || !el_delim(s, j, len))
			return 0;
		*v = json_stringn_nocheck(s + i + 1, j - i - 1);
		if (kw)
			*kw = json_stringn_nocheck(s + i, j - i);
		return j;
	}
	static const struct {
		const char *w;
		size_t n;
	} words[] = {{"nil", 3}, {"true", 4}, {"false", 5}};
	for (int k = 0; k < 3; k++)
		if (len - i >= words[k].n && !memcmp(s + i, words[k].w, words[k].n) &&
		    el_delim(s, i + words[k].n, len)) {
			*v = k == 0 ? json_null() : k == 1 ? json_true() : json_false();
			return i + words[k].n;
		}
	return 0;
}

static size_t el_value(struct edn_line *el, const char *s, size_t i, size_t len, long lineno,
		       json_t **v, json_t **kw)
{
	size_t e = el_scalar(s, i, len, v, kw);
	if (e)
		return e;
	edn_reader_reset(el->r, s + i, len - i, (int)lineno, (int)i + 1);
	if (edn_read(el->r, v, kw) != 1)
		return 0;
	return i + edn_reader_offset(el->r);
}

/* A :value [k v] with a scalar k (integer, string, keyword), read split:
 * op->key from k and op->value v, el->pre telling what k was (the
 * history's tuple decision rebuilds the pair if it is not independent).
 * Returns the position after it, or 0 when the value is something else
 * (the caller reads it whole). */
static size_t el_tuple(struct edn_line *el, struct opb *o, const char *s, size_t i, size_t len,
		       long lineno)
{
	if (i >= len || s[i] != '[')
		return 0;
	size_t j = el_ws(s, i + 1, len), ks = j;
	uint8_t kind;
	char kb[32];
	size_t kn;
	if (j < len && (isdigit((unsigned char)s[j]) || s[j] == '-')) {
		bool neg = s[j] == '-';
		size_t d0 = j + neg, d = d0;
		while (d < len && isdigit((unsigned char)s[d]))
			d++;
		if (d == d0 || d - d0 > 18 || (d < len && el_tokc(s[d])) || (s[d0] == '0' && d - d0 > 1))
			return 0;
		kind = PRE_INT;
		kn = d - ks;
		memcpy(kb, s + ks, kn);
		j = d;
	} else if (j < len && s[j] == ':') {
		size_t d = j + 1;
		while (d < len && el_tokc(s[d]))
			d++;
		if (d == j + 1 || d - j > 31)
			return 0;
		kind = PRE_KEYWORD;
		kn = d - j;
		memcpy(kb, s + j, kn); /* ":name": the keyword-exact spelling */
		j = d;
	} else if (j < len && s[j] == '"') {
		size_t d = j + 1;
		while (d < len && s[d] != '"' && s[d] != '\\' && (unsigned char)s[d] >= 0x20 &&
		       (unsigned char)s[d] < 0x80)
			d++;
		if (d >= len || s[d] != '"' || d - j - 1 > 31)
			return 0;
		kind = PRE_STRING;
		kn = d - j - 1;
		memcpy(kb, s + j + 1, kn);
		j = d + 1;
	} else {
		return 0;
	}
	if (j >= len || !(s[j] == ' ' || s[j] == ',' || s[j] == '\t'))
		return 0;
	json_t *v = NULL, *kw = NULL;
	size_t e = el_value(el, s, el_ws(s, j, len), len, lineno, &v, &kw);
	if (!e) {
		json_decref(v);
		json_decref(kw);
		return 0;
	}
	e = el_ws(s, e, len);
	if (e >= len || s[e] != ']') {
		json_decref(v);
		json_decref(kw);
		return 0;
	}
	opb_value(o, v, kw);
	json_decref(v);
	json_decref(kw);
	o->op->key = sdup(o->b, kb, kn);
	o->op->key_type = kind == PRE_INT ? OP_KEY_INT : OP_KEY_STRING;
	el->pre = kind;
	return e + 1;
}

/* One line of an EDN history written one op map per line. The line must
 * hold exactly one op map (plus, on the first line, the opening bracket
 * at offset open, and on the last, the closing one); anything else is
 * EL_SPANS and the sequential reader takes over from this line. */
static int edn_line_op(struct edn_line *el, const char *s, size_t len, long lineno, long open,
		       struct batch *b, int64_t default_index, struct op *op)
{
	size_t i = open >= 0 ? (size_t)open + 1 : 0;
	el->closed = false;
	el->pre = PRE_NONE;
	i = el_ws(s, i, len);
	if (i == len || s[i] == ';')
		return EL_BLANK;
	if (el->seq_close && s[i] == el->seq_close) {
		i = el_ws(s, i + 1, len);
		el->closed = true;
		return i == len || s[i] == ';' ? EL_BLANK : EL_SPANS;
	}
	if (s[i] != '{')
		return EL_SPANS;
	size_t map_col = i + 1;
	struct opb o;
	opb_init(&o, op, b, default_index);
	i++;
	for (;;) {
		i = el_ws(s, i, len);
		if (i < len && s[i] == '}') {
			i++;
			break;
		}
		if (i >= len || s[i] != ':')
			goto spans;
		size_t ks = ++i;
		while (i < len && el_tokc(s[i]))
			i++;
		size_t kn = i - ks;
		if (!kn || kn > 31)
			goto spans;
		char key[32];
		memcpy(key, s + ks, kn);
		key[kn] = '\0';
		i = el_ws(s, i, len);
		if (i >= len)
			goto spans;
#define EL_KEY(name) (kn == sizeof(name) - 1 && !memcmp(key, name, sizeof(name) - 1))
		/* keyword values of :type and :f, integers of :process,
		 * :index and :time without the generic reader */
		bool is_tf = EL_KEY("type") || EL_KEY("f");
		if (is_tf && s[i] == ':') {
			size_t vs = ++i;
			while (i < len && el_tokc(s[i]))
				i++;
			if (i == vs || i - vs > 63)
				goto spans;
			if (key[0] == 't') {
				char tb[64];
				memcpy(tb, s + vs, i - vs);
				tb[i - vs] = '\0';
				opb_type(&o, tb);
			} else {
				op->f = f_dup(b, s + vs, i - vs);
			}
			continue;
		}
		bool is_int = EL_KEY("process") || EL_KEY("index") || EL_KEY("time");
		if (is_int && (IS_DIGIT(s[i]) || s[i] == '-')) {
			size_t vs = i;
			bool neg = s[i] == '-';
			if (neg)
				i++;
			uint64_t x = 0;
			int nd = 0;
			while (i < len && IS_DIGIT(s[i]) && nd < 19)
				x = x * 10 + (uint64_t)(s[i++] - '0'), nd++;
			if (nd == 0 || nd >= 19 || (i < len && el_tokc(s[i]))) {
				i = vs; /* unusual: the generic reader decides */
			} else {
				int64_t v = neg ? -(int64_t)x : (int64_t)x;
				if (key[0] == 'i')
					op->index = v;
				else if (key[0] == 't')
					op->time = v;
				else if (v >= 0)
					op->process = v, o.have_proc = true;
				else
					opb_fail(&o, why_process);
				continue;
			}
		}
		bool is_value = EL_KEY("value"), is_key = EL_KEY("key");
#undef EL_KEY
		if (is_value && !o.op->key && !o.op->value) {
			size_t e = el_tuple(el, &o, s, i, len, lineno);
			if (e) {
				i = e;
				continue;
			}
		}
		if (is_key && el->pre) { /* both :key and a pair: not a tuple */
			opb_discard(&o);
			return EL_SPANS;
		}
		json_t *v = NULL, *kw = NULL;
		bool want_kw = is_value || is_key;
		size_t e = el_value(el, s, i, len, lineno, &v, want_kw ? &kw : NULL);
		if (!e)
			goto spans;
		opb_field(&o, key, v, kw);
		json_decref(v);
		json_decref(kw);
		i = e;
	}
	i = el_ws(s, i, len);
	if (el->seq_close && i < len && s[i] == el->seq_close) {
		el->closed = true;
		i = el_ws(s, i + 1, len);
	}
	if (i < len && s[i] != ';')
		goto spans;
	if (opb_finish(&o) < 0) {
		el->col = (long)map_col;
		snprintf(el->text, sizeof el->text, "%s", o.why);
		opb_discard(&o);
		return EL_ERROR;
	}
	return EL_OP;
spans:
	opb_discard(&o);
	return EL_SPANS;
}

/* ------------------------------------------------------------- reader */

enum mode { MODE_SEQ_JSONL, MODE_SEQ_EDN, MODE_PAR_JSONL, MODE_PAR_EDN };
enum indep { INDEP_UNDECIDED, INDEP_YES, INDEP_NO };

struct history_reader {
	char *path;            /* NULL in direct mode */
	char *name;            /* for messages */
	enum history_format fmt;
	int threads;
	/* direct mode (history_stream_file): no threads, ops to a callback */
	bool direct;
	FILE *ext_file;
	history_op_cb cb;
	void *cb_ctx;
	int cb_stop;

	/* set up by the opening thread */
	FILE *f;
	int fd;
	off_t size;
	const char *map;       /* parallel: the file mapped, [0, size), zeros after */
	size_t map_len;
	enum mode mode;
	char *sniff;           /* the first bytes read (sequential modes start with them) */
	size_t sniff_len;
	bool sniff_eof;
	long open_off;         /* EDN: offset of the top-level '[' or '(' (-1 none) */
	int seq_close;
	bool lines;            /* EDN read one op map per line (edn_line_op) */

	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch *ring[RING];  /* batch of seq s at ring[s % RING] */
	uint64_t next_out;         /* the consumer's next seq */
	uint64_t next_claim;       /* parallel: next chunk to parse */
	uint64_t nchunks;
	uint64_t seq_end;          /* producers: no batch at or after this seq */
	bool stop;                 /* consumer gone or switching modes */
	int nworkers;
	pthread_t *workers;
	pthread_t opener;
	bool opener_started;
	int running;               /* threads not yet finished */
	struct batch *spare;       /* released batches, for reuse */
	bool open_failed;
	char open_err[400];

	/* consumer state */
	long line_base;            /* lines before the next batch */
	int64_t op_base;           /* ops before the next batch */
	bool seq_closed;           /* EDN: the top-level vector was closed */
	enum indep indep;
	long decide_seen;
	struct batch *ready, *ready_tail; /* batches to hand out, in order */
	bool ended;                /* no batch after the ready ones */
	bool failed;
	struct history_error err;
	bool fb_pending;           /* switch to the streaming reader before the next batch */
	off_t fb_off;
	uint64_t fb_seq;
	pthread_t fb_thread;
	bool fb_started;
	unsigned flags;            /* HISTORY_VALUE_TEXT, HISTORY_SCALAR_TEXT */
};

static void herr(struct history_error *err, const char *path, long line, long col,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void herr(struct history_error *err, const char *path, long line, long col,
		 const char *fmt, ...)
{
	if (!err)
		return;
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(err->msg, sizeof err->msg, "%s:%ld:%ld: %s", path, line, col, msg);
	else
		snprintf(err->msg, sizeof err->msg, "%s: %s", path, msg);
	text_printable(err->msg, sizeof err->msg);
}

/* A batch to fill: a released one, or a new one. */
static struct batch *rd_batch(struct history_reader *R)
{
	struct batch *b = NULL;
	pthread_mutex_lock(&R->mu);
	if (R->spare) {
		b = R->spare;
		R->spare = b->next;
	}
	pthread_mutex_unlock(&R->mu);
	if (b)
		batch_clear(b);
	else
		b = batch_new();
	b->value_text = (R->flags & HISTORY_VALUE_TEXT) != 0;
	b->scalar_text = (R->flags & HISTORY_SCALAR_TEXT) != 0;
	return b;
}

static void consume_batch(struct history_reader *R, struct batch *b);

/* A producer hands over batch b (its seq set). false: stop producing. */
static bool rd_put(struct history_reader *R, struct batch *b)
{
	if (R->direct) { /* the consumer runs right here */
		consume_batch(R, b);
		return !R->cb_stop && !R->failed;
	}
	pthread_mutex_lock(&R->mu);
	while (!R->stop && b->seq >= R->next_out + RING)
		pthread_cond_wait(&R->cv, &R->mu);
	bool ok = !R->stop;
	if (ok)
		R->ring[b->seq % RING] = b;
	pthread_cond_broadcast(&R->cv);
	pthread_mutex_unlock(&R->mu);
	if (!ok)
		batch_free(b);
	return ok;
}

/* ---- sequential producers: buffered input, never rewound ---- */

struct hin {
	FILE *f;
	char *buf;
	size_t cap, pos, len;
	bool eof, error;
	int err_no;
};

/* Make at least one more byte available unless at EOF; false at EOF. */
static bool hin_more(struct hin *in)
{
	if (in->eof)
		return false;
	if (in->pos > 0 && in->pos == in->len) {
		in->pos = in->len = 0;
	} else if (in->pos > 0 && in->len == in->cap) {
		memmove(in->buf, in->buf + in->pos, in->len - in->pos);
		in->len -= in->pos;
		in->pos = 0;
	}
	if (in->len == in->cap) {
		in->cap = in->cap ? in->cap * 2 : 1 << 16;
		in->buf = xrealloc(in->buf, in->cap);
	}
	size_t n = fread(in->buf + in->len, 1, in->cap - in->len, in->f);
	in->len += n;
	if (n == 0) {
		in->eof = true;
		if (ferror(in->f)) {
			in->error = true;
			in->err_no = errno;
		}
		return false;
	}
	return true;
}

/* The batch's current line did not parse: the last line of the file without
 * its newline is a torn write (ignored); anything else is bad input. */
static void batch_line_failed(struct batch *b, bool torn, long col)
{
	if (torn) {
		b->torn = true;
		b->torn_line = b->nlines;
	} else {
		b->failed = true;
		b->err_line = b->nlines;
		b->err_col = col;
	}
}

static void seq_jsonl(struct history_reader *R, struct hin *in)
{
	uint64_t seq = 0;
	long lineno = 0;
	struct batch *b = rd_batch(R);
	for (;;) {
		char *p = in->buf + in->pos;
		char *nl = memchr(p, '\n', in->len - in->pos);
		if (!nl && !in->eof) {
			hin_more(in);
			continue;
		}
		size_t n = nl ? (size_t)(nl - p) : in->len - in->pos;
		if (!nl && n == 0)
			break; /* end of input */
		lineno++;
		b->nlines++;
		struct op *op = batch_push(b);
		long col = 0;
		int r = jsonl_line(p, n, b, INDEX_UNSET + (int64_t)b->pub.n, op, &col, b->err_text,
				   sizeof b->err_text);
		in->pos += n + (nl ? 1 : 0);
		if (r < 0) {
			batch_line_failed(b, !nl, col); /* no newline: a killed run's torn write */
			break;
		}
		if (r == 1)
			b->pub.n++;
		if (b->pub.n == BATCH_OPS) {
			b->seq = seq++;
			if (!rd_put(R, b))
				return;
			b = rd_batch(R);
		}
		if (!nl)
			break;
	}
	if (in->error && !b->failed) {
		b->failed = true;
		snprintf(b->err_text, sizeof b->err_text, "read error: %s", strerror(in->err_no));
	}
	b->eof = true;
	b->seq = seq++;
	rd_put(R, b);
}

/* Read EDN with the streaming reader. in_seq: resuming inside the
 * top-level vector (closed by close). Positions count from line 1 at the
 * reader's start; the consumer adds what came before. */
static void seq_edn(struct history_reader *R, struct edn_reader *r, uint64_t seq, bool resume,
		    int close)
{
	struct batch *b = rd_batch(R);
	b->abs_lines = true;
	int in_seq;
	if (resume) {
		in_seq = close != 0;
		if (close)
			edn_reader_set_seq(r, close);
	} else {
		in_seq = edn_enter_seq(r);
	}
	int got = in_seq < 0 ? -1 : 0;
	while (in_seq >= 0) {
		json_t *v = NULL, *kw = NULL;
		got = in_seq ? edn_read_elem(r, &v, &kw) : edn_read(r, &v, &kw);
		if (got <= 0)
			break;
		struct op *op = batch_push(b);
		const char *why = NULL;
		int rc = op_from_object(v, kw, b, INDEX_UNSET + (int64_t)b->pub.n, op, &why);
		json_decref(v);
		json_decref(kw);
		if (rc < 0) {
			int line, col;
			edn_reader_pos(r, &line, &col);
			b->failed = true;
			b->err_line = line;
			b->err_col = col;
			snprintf(b->err_text, sizeof b->err_text, "%s", why);
			break;
		}
		if (!b->pub.n++) {
			int line, col;
			edn_reader_pos(r, &line, &col);
			b->first_line = line;
		}
		if (b->pub.n == BATCH_OPS) {
			b->seq = seq++;
			if (!rd_put(R, b)) {
				b = NULL;
				break;
			}
			b = rd_batch(R);
			b->abs_lines = true;
		}
	}
	if (!b)
		return;
	if (!b->failed && got < 0) {
		b->failed = true;
		b->err_line = 0; /* the reader's message has the position */
		snprintf(b->err_text, sizeof b->err_text, "%s", edn_reader_error(r));
	} else if (!b->failed && in_seq == 1 && got == 0) {
		json_t *v = NULL;
		int more = edn_read(r, &v, NULL);
		if (more == 1) {
			json_decref(v);
			int line, col;
			edn_reader_pos(r, &line, &col);
			b->failed = true;
			b->err_line = line;
			b->err_col = col;
			snprintf(b->err_text, sizeof b->err_text,
				 "unexpected value after the history's closing bracket");
		} else if (more < 0) {
			b->failed = true;
			snprintf(b->err_text, sizeof b->err_text, "%s", edn_reader_error(r));
		}
	}
	b->eof = true;
	b->seq = seq;
	rd_put(R, b);
}

/* EDN written one op map per line, read line by line with the fast line
 * parser; from the first line it cannot take (an op spanning lines), the
 * streaming reader goes on from that line's first byte, which is still
 * in the buffer: nothing is re-read. */
static void seq_edn_lines(struct history_reader *R, struct hin *in)
{
	uint64_t seq = 0;
	long lineno = 0;
	off_t off = 0; /* file offset of the buffer's byte in->pos */
	bool closed = false;
	struct edn_line el = {.r = edn_reader_new_mem(R->name), .seq_close = R->seq_close};
	struct batch *b = rd_batch(R);
	for (;;) {
		char *p = in->buf + in->pos;
		char *nl = memchr(p, '\n', in->len - in->pos);
		if (!nl && !in->eof) {
			hin_more(in);
			continue;
		}
		size_t n = nl ? (size_t)(nl - p) : in->len - in->pos;
		if (!nl && n == 0)
			break;
		lineno++;
		b->nlines++;
		long open = R->open_off >= (long)off && R->open_off < (long)off + (long)n
				    ? R->open_off - (long)off : -1;
		struct op *op = batch_push(b);
		int r = edn_line_op(&el, p, n, b->nlines, open, b, INDEX_UNSET + (int64_t)b->pub.n, op);
		if (r == EL_OP && closed)
			r = EL_SPANS; /* after the closing bracket: the exact error below */
		if (r == EL_OP && !b->first_line)
			b->first_line = b->nlines;
		if (r == EL_SPANS) {
			b->nlines--;
			b->seq = seq++;
			if (!rd_put(R, b)) {
				edn_reader_free(el.r);
				return;
			}
			struct edn_reader *er = edn_reader_new_prefixed(R->f, R->name, p, in->len - in->pos);
			edn_reader_kw_op_fields(er);
			edn_reader_set_line(er, (int)lineno);
			seq_edn(R, er, seq, true, closed ? 0 : R->seq_close);
			edn_reader_free(er);
			edn_reader_free(el.r);
			return;
		}
		b->pre[b->pub.n] = r == EL_OP ? el.pre : PRE_NONE;
		if (el.closed)
			closed = b->closed = true;
		in->pos += n + (nl ? 1 : 0);
		off += (off_t)(n + (nl ? 1 : 0));
		if (r == EL_ERROR) {
			b->failed = true;
			b->err_line = b->nlines;
			b->err_col = el.col;
			snprintf(b->err_text, sizeof b->err_text, "%s", el.text);
			break;
		}
		if (r == EL_OP)
			b->pub.n++;
		if (b->pub.n == BATCH_OPS) {
			b->seq = seq++;
			if (!rd_put(R, b)) {
				edn_reader_free(el.r);
				return;
			}
			b = rd_batch(R);
		}
		if (!nl)
			break;
	}
	if (in->error && !b->failed) {
		b->failed = true;
		snprintf(b->err_text, sizeof b->err_text, "read error: %s", strerror(in->err_no));
	}
	edn_reader_free(el.r);
	b->eof = true;
	b->seq = seq;
	rd_put(R, b);
}

/* ---- format and mode ---- */

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

static enum history_format sniff_format(const char *path, const char *head, size_t n)
{
	if (ends_with(path, ".jsonl") || ends_with(path, ".json"))
		return HISTORY_JSONL;
	if (ends_with(path, ".edn"))
		return HISTORY_EDN;
	/* {" is JSON, anything else EDN */
	size_t i = 0;
	while (i < n && isspace((unsigned char)head[i]))
		i++;
	if (i < n && head[i] == '{') {
		i++;
		while (i < n && isspace((unsigned char)head[i]))
			i++;
		if (i == n || head[i] == '"' || head[i] == '}')
			return HISTORY_JSONL;
	}
	return i == n ? HISTORY_JSONL : HISTORY_EDN;
}

/* EDN: where the top-level bracket is, and whether the complete lines of
 * the sniffed head each hold one op map. */
static bool edn_by_lines(struct history_reader *R)
{
	const char *s = R->sniff;
	size_t n = R->sniff_len, i = 0;
	R->open_off = -1;
	R->seq_close = 0;
	for (;;) { /* skip blanks and comments before the first form */
		while (i < n && (isspace((unsigned char)s[i]) || s[i] == ','))
			i++;
		if (i < n && s[i] == ';') {
			while (i < n && s[i] != '\n')
				i++;
			continue;
		}
		break;
	}
	if (i < n && (s[i] == '[' || s[i] == '(')) {
		R->open_off = (long)i;
		R->seq_close = s[i] == '[' ? ']' : ')';
	}
	struct edn_line el = {.r = edn_reader_new_mem(R->name), .seq_close = R->seq_close};
	size_t ls = 0;
	long lineno = 0;
	int ops = 0;
	bool ok = true;
	while (ok && ops < 64) {
		const char *nl = memchr(s + ls, '\n', n - ls);
		if (!nl)
			break;
		size_t le = (size_t)(nl - s);
		lineno++;
		long open = R->open_off >= (long)ls && R->open_off < (long)le ? R->open_off - (long)ls : -1;
		struct op op;
		int r = edn_line_op(&el, s + ls, le - ls, lineno, open, NULL, 0, &op);
		if (r == EL_OP) {
			ops++;
			op_free(&op);
		}
		ok = r != EL_SPANS && !(r == EL_BLANK && el.closed && ops == 0);
		ls = le + 1;
	}
	edn_reader_free(el.r);
	return ok && ops > 0;
}

/* ---- parallel chunks ---- */

struct chunk_buf {
	char *p;
	size_t cap, len;
	bool mapped;  /* p points into the reader's map: nothing to free */
};

/* ---- the mapped file ----
 * A large regular file is read through a map rather than pread: copying
 * 200 MB out of the page cache was a tenth of reading's time. The map is
 * followed by zero bytes (a spare anonymous page), so a scanner looking
 * one byte past the last line finds a NUL, not the end of the mapping.
 * A file that shrinks while mapped raises SIGBUS on the bytes gone: the
 * parsing thread then jumps back out of the chunk and reports it, as a
 * short pread would. */
static __thread sigjmp_buf *bus_jmp;
static pthread_mutex_t bus_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction bus_prev;

static void bus_handler(int sig, siginfo_t *si, void *uc)
{
	if (bus_jmp)
		siglongjmp(*bus_jmp, 1);
	/* not ours: as if no handler had been set */
	if (bus_prev.sa_flags & SA_SIGINFO && bus_prev.sa_sigaction)
		bus_prev.sa_sigaction(sig, si, uc);
	else if (bus_prev.sa_handler != SIG_IGN && bus_prev.sa_handler != SIG_DFL &&
		 bus_prev.sa_handler)
		bus_prev.sa_handler(sig);
	else {
		signal(SIGBUS, SIG_DFL);
		raise(SIGBUS);
	}
}

/* Installed at each map, not once: whoever set a handler since (a test
 * framework does, per test) is chained to for faults that are not ours. */
static void bus_install(void)
{
	struct sigaction sa;
	pthread_mutex_lock(&bus_mu);
	if (sigaction(SIGBUS, NULL, &sa) == 0 && (sa.sa_flags & SA_SIGINFO) &&
	    sa.sa_sigaction == bus_handler) {
		pthread_mutex_unlock(&bus_mu);
		return;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = bus_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &bus_prev);
	pthread_mutex_unlock(&bus_mu);
}

/* Pages of a parsed chunk leave the process (they stay in the page
 * cache, and come back if a line running past a chunk needs them): the
 * whole file is not counted in the reader's memory. */
static void rd_unmap_chunk(struct history_reader *R, uint64_t c)
{
	if (!R->map)
		return;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t a = (size_t)c * CHUNK_BYTES / page * page, e = (size_t)(c + 1) * CHUNK_BYTES;
	if (e > (size_t)R->size)
		e = (size_t)R->size;
	e = e / page * page;
	if (e > a)
		madvise((char *)R->map + a, e - a, MADV_DONTNEED);
}

static void rd_map(struct history_reader *R)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t len = ((size_t)R->size + (size_t)page - 1) / (size_t)page * (size_t)page + (size_t)page;
	char *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return;
	if (mmap(m, (size_t)R->size, PROT_READ, MAP_PRIVATE | MAP_FIXED, R->fd, 0) == MAP_FAILED) {
		munmap(m, len);
		return;
	}
	bus_install();
	R->map = m;
	R->map_len = len;
}

/* pread exactly into cb from off (short only at EOF); false on error. */
static bool cb_read(int fd, struct chunk_buf *cb, off_t off, size_t n)
{
	if (cb->len + n > cb->cap) {
		cb->cap = (cb->len + n) * 2;
		cb->p = xrealloc(cb->p, cb->cap);
	}
	size_t got = 0;
	while (got < n) {
		ssize_t k = pread(fd, cb->p + cb->len + got, n - got, off + (off_t)got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return false;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	cb->len += got;
	return true;
}

/* Parse chunk c (lines starting in [c*CHUNK, (c+1)*CHUNK)) into b. */
static void chunk_parse(struct history_reader *R, struct chunk_buf *cb, struct edn_line *el,
			uint64_t c, struct batch *b)
{
	off_t start = (off_t)c * CHUNK_BYTES;
	off_t end = start + CHUNK_BYTES < R->size ? start + CHUNK_BYTES : R->size;
	off_t base = start > 0 ? start - 1 : 0; /* one byte back: is start a line start? */
	cb->len = 0;
	if (R->map) { /* the rest of the file: a line past the chunk is there too */
		cb->p = (char *)R->map + base;
		cb->len = (size_t)(R->size - base);
		cb->mapped = true;
	} else if (!cb_read(R->fd, cb, base, (size_t)(end - base))) {
		b->failed = true;
		snprintf(b->err_text, sizeof b->err_text, "read error: %s", strerror(errno));
		return;
	}
	size_t pos = 0;
	if (start > 0) {
		if (cb->p[0] == '\n') {
			pos = 1;
		} else {
			char *nl = memchr(cb->p, '\n', cb->len);
			pos = nl ? (size_t)(nl - cb->p) + 1 : cb->len;
		}
	}
	size_t limit = (size_t)(end - base); /* lines must start before this */
	bool edn = R->mode == MODE_PAR_EDN;
	b->index_tracked = b->trees_tracked = true;
	while (pos < limit) {
		char *nl = memchr(cb->p + pos, '\n', cb->len - pos);
		while (!nl && base + (off_t)cb->len < R->size) { /* the line runs past the chunk */
			size_t before = cb->len;
			size_t more = R->size - (base + (off_t)cb->len) < 65536
					      ? (size_t)(R->size - (base + (off_t)cb->len)) : 65536;
			if (!cb_read(R->fd, cb, base + (off_t)cb->len, more) || cb->len == before) {
				b->failed = true;
				snprintf(b->err_text, sizeof b->err_text, "read error or file shrank");
				return;
			}
			nl = memchr(cb->p + before, '\n', cb->len - before);
		}
		size_t n = nl ? (size_t)(nl - (cb->p + pos)) : cb->len - pos;
		b->nlines++;
		struct op *op = batch_push(b);
		b->building = true;
		long col = 0;
		int r;
		if (edn) {
			off_t ls = base + (off_t)pos;
			long open = R->open_off >= (long)ls && R->open_off < (long)ls + (long)n
					    ? R->open_off - (long)ls : -1;
			r = edn_line_op(el, cb->p + pos, n, b->nlines, open, b,
					INDEX_UNSET + (int64_t)b->pub.n, op);
			b->building = false;
			b->pre[b->pub.n] = r == EL_OP ? el->pre : PRE_NONE;
			if (r == EL_OP && b->closed)
				r = EL_SPANS; /* an op after the closing bracket: exact error later */
			if (r == EL_OP && !b->first_line)
				b->first_line = b->nlines;
			if (el->closed)
				b->closed = true;
			if (r == EL_SPANS) {
				b->fallback = true;
				b->fb_off = base + (off_t)pos;
				b->nlines--;
				return;
			}
			if (r == EL_ERROR) {
				col = el->col;
				snprintf(b->err_text, sizeof b->err_text, "%s", el->text);
				r = -1;
			}
		} else {
			r = jsonl_line(cb->p + pos, n, b, INDEX_UNSET + (int64_t)b->pub.n, op, &col,
				       b->err_text, sizeof b->err_text);
			b->building = false;
		}
		pos += n + (nl ? 1 : 0);
		if (r < 0) {
			batch_line_failed(b, !nl && !edn, col);
			return;
		}
		if (r == 1) {
			if (op->index <= INDEX_UNSET + ((int64_t)1 << 40))
				b->index_unset = true;
			if ((op->value && !json_is_null(op->value)) || op->value_kw || op->extra)
				b->trees = true; /* null is jansson's singleton: nothing to free */
			b->pub.n++;
		}
	}
}

static void *par_worker(void *arg)
{
	struct history_reader *R = arg;
	struct chunk_buf cb = {0};
	struct edn_line el = {.seq_close = R->seq_close};
	if (R->mode == MODE_PAR_EDN)
		el.r = edn_reader_new_mem(R->name);
	/* The consumer (one thread judging every op in order) is the critical
	 * path of a large check, and with as many parsers as cores the
	 * scheduler's fair share gave it two thirds of a core: parsers yield
	 * to it, and use what it leaves (Linux: nice is per thread). */
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), READER_NICE);
	for (;;) {
		pthread_mutex_lock(&R->mu);
		while (!R->stop && R->next_claim < R->nchunks && R->next_claim >= R->next_out + RING)
			pthread_cond_wait(&R->cv, &R->mu);
		if (R->stop || R->next_claim >= R->nchunks) {
			pthread_mutex_unlock(&R->mu);
			break;
		}
		uint64_t c = R->next_claim++;
		pthread_mutex_unlock(&R->mu);
		struct batch *b = rd_batch(R);
		b->seq = c;
		sigjmp_buf jb;
		if (sigsetjmp(jb, 0) == 0) {
			bus_jmp = R->map ? &jb : NULL;
			chunk_parse(R, &cb, &el, c, b);
		} else { /* SIGBUS: the file shrank under the map */
			if (b->building) { /* what the op being parsed holds so far */
				struct op *op = &b->pub.ops[b->pub.n];
				json_decref(op->value);
				json_decref(op->value_kw);
				json_decref(op->extra);
				memset(op, 0, sizeof *op);
				b->building = false;
			}
			b->failed = true;
			snprintf(b->err_text, sizeof b->err_text, "read error or file shrank");
		}
		bus_jmp = NULL;
		rd_unmap_chunk(R, c);
		b->eof = c + 1 == R->nchunks;
		if (!rd_put(R, b))
			break;
	}
	if (!cb.mapped)
		free(cb.p);
	edn_reader_free(el.r);
	pthread_mutex_lock(&R->mu);
	R->running--;
	pthread_cond_broadcast(&R->cv);
	pthread_mutex_unlock(&R->mu);
	return NULL;
}

static int default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

/* Open, sniff, choose the mode; then either produce sequentially (this
 * thread) or start the parallel workers. */
static void rd_open_and_run(struct history_reader *R)
{
	R->f = R->ext_file ? R->ext_file : fopen(R->path, "r");
	if (!R->f) {
		struct batch *b = rd_batch(R);
		b->failed = true;
		b->eof = true;
		snprintf(b->err_text, sizeof b->err_text, "cannot open: %s", strerror(errno));
		rd_put(R, b);
		return;
	}
	R->fd = fileno(R->f);
	struct hin in = {.f = R->f};
	while (in.len < SNIFF_BYTES && hin_more(&in))
		;
	const char *name = R->name;
	enum history_format fmt = R->fmt != HISTORY_AUTO ? R->fmt
				  : sniff_format(name, in.buf ? in.buf : "", in.len);
	struct stat st;
	bool regular = !R->direct && R->fd >= 0 && fstat(R->fd, &st) == 0 && S_ISREG(st.st_mode) &&
		       !in.error;
	R->size = regular ? st.st_size : 0;
	bool par = regular && R->threads > 1 && R->size >= (off_t)PAR_MIN_BYTES;
	if (fmt == HISTORY_EDN) {
		R->sniff = in.buf;
		R->sniff_len = in.len;
		R->lines = !in.error && edn_by_lines(R);
		R->sniff = NULL;
		R->mode = R->lines && par ? MODE_PAR_EDN : MODE_SEQ_EDN;
	} else {
		R->mode = par ? MODE_PAR_JSONL : MODE_SEQ_JSONL;
	}
	if (R->mode == MODE_SEQ_JSONL) {
		seq_jsonl(R, &in);
	} else if (R->mode == MODE_SEQ_EDN) {
		if (in.error) {
			struct batch *b = rd_batch(R);
			b->failed = b->eof = true;
			snprintf(b->err_text, sizeof b->err_text, "read error: %s", strerror(in.err_no));
			rd_put(R, b);
		} else if (R->lines) {
			seq_edn_lines(R, &in);
		} else {
			struct edn_reader *r = edn_reader_new_prefixed(R->f, name, in.buf, in.len);
			edn_reader_kw_op_fields(r);
			seq_edn(R, r, 0, false, 0);
			edn_reader_free(r);
		}
	} else {
		R->nchunks = ((uint64_t)R->size + CHUNK_BYTES - 1) / CHUNK_BYTES;
		rd_map(R);
		int nw = R->threads;
		if ((uint64_t)nw > R->nchunks)
			nw = (int)R->nchunks;
		R->workers = xcalloc((size_t)nw, sizeof *R->workers);
		json_decref(json_object()); /* jansson's hash seed, before threads race for it */
		pthread_mutex_lock(&R->mu);
		for (int i = 0; i < nw; i++) {
			if (pthread_create(&R->workers[i], NULL, par_worker, R) == 0) {
				R->nworkers++;
				R->running++;
			}
		}
		pthread_mutex_unlock(&R->mu);
		if (R->nworkers == 0) { /* no threads: this one does the work */
			R->running++;
			par_worker(R);
		}
	}
	free(in.buf);
}

static void *opener_main(void *arg)
{
	struct history_reader *R = arg;
	rd_open_and_run(R);
	pthread_mutex_lock(&R->mu);
	R->running--;
	pthread_cond_broadcast(&R->cv);
	pthread_mutex_unlock(&R->mu);
	return NULL;
}

/* ---- the consumer: file order, line numbers, tuples ---- */

/* The second element of a [key value] pair is what this f's value
 * looks like. */
static bool tuple_value_shaped(const char *f, json_t *x)
{
	switch (f[0]) { /* this runs per op on the consumer's thread: no strcmp chain */
	case 'c':
		if (!strcmp(f, "cas") || !strcmp(f, "compare-and-set"))
			return json_is_array(x) && json_array_size(x) == 2;
		return true;
	case 't':
		return strcmp(f, "txn") || json_is_array(x);
	default:
		return true;
	}
}

/* A value that could be Jepsen's independent [key value] for this f
 * (pre: read already split). */
static bool tuple_shaped(const struct op *op, uint8_t pre)
{
	if (pre)
		return tuple_value_shaped(op->f, op->value);
	json_t *v = op->value;
	if (!json_is_array(v) || json_array_size(v) != 2)
		return false;
	json_t *k = json_array_get(v, 0);
	if (!json_is_string(k) && !json_is_integer(k))
		return false;
	return tuple_value_shaped(op->f, json_array_get(v, 1));
}

static bool client_op(const struct op *op, uint8_t pre)
{
	return op->process != PROCESS_NEMESIS && (!op->key || pre);
}

/* Look at b's ops for the tuple question; true once decided. */
static bool indep_examine(struct history_reader *R, struct batch *b)
{
	for (size_t i = 0; i < b->pub.n && R->indep == INDEP_UNDECIDED; i++) {
		const struct op *op = &b->pub.ops[i];
		uint8_t pre = b->pre[i];
		if (!client_op(op, pre))
			continue;
		if (!tuple_shaped(op, pre))
			R->indep = INDEP_NO;
		else if (op->type == OP_INVOKE &&
			 json_is_null(pre ? op->value : json_array_get(op->value, 1)))
			R->indep = INDEP_YES;
		else if (++R->decide_seen >= DECIDE_OPS)
			R->indep = INDEP_YES;
	}
	return R->indep != INDEP_UNDECIDED;
}

/* Put back together a [k v] read split: the history is not independent. */
static void indep_unsplit(struct op *op, uint8_t pre)
{
	json_t *k, *kk = NULL;
	if (pre == PRE_INT)
		k = json_integer(strtoll(op->key, NULL, 10));
	else if (pre == PRE_KEYWORD)
		k = json_string(op->key + 1), kk = json_string(op->key);
	else
		k = json_string(op->key);
	json_t *a = json_array(), *ak = NULL;
	json_array_append(a, k);
	json_array_append(a, op->value);
	if (kk || op->value_kw) {
		ak = json_array();
		json_array_append(ak, kk ? kk : k);
		json_array_append(ak, op->value_kw ? op->value_kw : op->value);
	}
	json_decref(k);
	json_decref(kk);
	json_decref(op->value);
	json_decref(op->value_kw);
	op->value = a;
	op->value_kw = ak;
	op->key = NULL;
	op->key_type = OP_KEY_STRING;
}

static void indep_split(struct history_reader *R, struct batch *b)
{
	b->trees = true; /* what it builds is freed by batch_clear */
	for (size_t i = 0; i < b->pub.n; i++) {
		struct op *op = &b->pub.ops[i];
		uint8_t pre = b->pre[i];
		if (pre) {
			if (R->indep != INDEP_YES || !tuple_shaped(op, pre))
				indep_unsplit(op, pre);
			b->pre[i] = PRE_NONE;
			continue;
		}
		if (R->indep != INDEP_YES || !client_op(op, pre) || !tuple_shaped(op, pre))
			continue;
		json_t *v = op->value, *kw = op->value_kw;
		struct opb o = {.op = op, .b = b};
		opb_key(&o, json_array_get(v, 0), kw ? json_array_get(kw, 0) : NULL);
		json_t *x = json_incref(json_array_get(v, 1));
		json_t *xk = kw ? json_incref(json_array_get(kw, 1)) : NULL;
		json_decref(v);
		json_decref(kw);
		op->value = x;
		op->value_kw = xk && xk != x ? xk : NULL;
		if (xk && xk == x)
			json_decref(xk);
	}
}

static void ready_push(struct history_reader *R, struct batch *b)
{
	b->next = NULL;
	if (R->ready_tail)
		R->ready_tail->next = b;
	else
		R->ready = b;
	R->ready_tail = b;
}

static void rd_fail(struct history_reader *R, long line, long col, const char *text)
{
	if (R->failed)
		return;
	R->failed = true;
	const char *name = R->name;
	if (line > 0)
		herr(&R->err, name, line, col, "%s", text);
	else if (!strncmp(text, name, strlen(name)) && text[strlen(name)] == ':')
		snprintf(R->err.msg, sizeof R->err.msg, "%s", text); /* already positioned */
	else
		herr(&R->err, name, 0, 0, "%s", text);
	text_printable(R->err.msg, sizeof R->err.msg);
}

/* Take batch b (the next in file order): make its positions absolute,
 * note its end (error, torn line, EOF), queue it to be handed out. */
static void consume_batch(struct history_reader *R, struct batch *b)
{
	if (R->failed || R->ended) {
		batch_free(b);
		return;
	}
	const char *name = R->name;
	for (size_t i = 0; i < b->pub.n && (b->index_unset || !b->index_tracked); i++) {
		struct op *op = &b->pub.ops[i];
		if (op->index <= INDEX_UNSET + ((int64_t)1 << 40))
			op->index = R->op_base + (op->index - INDEX_UNSET);
	}
	long lbase = b->abs_lines ? 0 : R->line_base;
	if (R->seq_closed && b->pub.n > 0) {
		batch_clear(b);
		rd_fail(R, lbase + b->first_line, 1,
			"unexpected value after the history's closing bracket");
	}
	if (b->closed)
		R->seq_closed = true;
	R->op_base += (int64_t)b->pub.n;
	if (b->torn)
		log_warn("%s:%ld: ignoring torn last line (no newline, does not parse)", name,
			 R->line_base + b->torn_line);
	if (b->failed)
		rd_fail(R, b->err_line ? lbase + b->err_line : 0, b->err_col, b->err_text);
	bool eof = b->eof;
	if (b->fallback) { /* its ops are queued; the switch happens in next() */
		R->fb_pending = true;
		R->fb_off = b->fb_off;
		R->fb_seq = b->seq;
		eof = false;
	}
	if (!R->failed && eof && R->lines && !b->abs_lines && R->seq_close && !R->seq_closed) {
		char t[64];
		snprintf(t, sizeof t, "unterminated top-level '%c'", R->seq_close == ']' ? '[' : '(');
		rd_fail(R, R->line_base + b->nlines, 1, t);
	}
	R->line_base += b->nlines;
	if (R->failed || eof)
		R->ended = true;
	bool edn = R->mode == MODE_SEQ_EDN || R->mode == MODE_PAR_EDN;
	if (edn && R->indep == INDEP_UNDECIDED) {
		ready_push(R, b);
		if (!indep_examine(R, b) && !R->ended)
			return; /* hold until decided */
		if (R->indep == INDEP_UNDECIDED)
			R->indep = R->decide_seen ? INDEP_YES : INDEP_NO;
		for (struct batch *x = R->ready; x; x = x->next)
			indep_split(R, x);
	} else {
		if (edn)
			indep_split(R, b);
		ready_push(R, b);
	}
	if (R->direct) { /* hand the ops to the callback */
		struct batch *x;
		while ((x = R->ready) != NULL) {
			R->ready = x->next;
			if (!R->ready)
				R->ready_tail = NULL;
			for (size_t i = 0; i < x->pub.n; i++) {
				struct op *op = &x->pub.ops[i], own = *op;
				if (R->cb_stop)
					break;
				own.f = op->f ? xstrdup(op->f) : NULL;
				own.key = op->key ? xstrdup(op->key) : NULL;
				own.node = op->node ? xstrdup(op->node) : NULL;
				own.error = op->error ? xstrdup(op->error) : NULL;
				memset(op, 0, sizeof *op); /* references move to the callback */
				R->cb_stop = R->cb(&own, R->cb_ctx) != 0;
			}
			batch_free(x);
		}
	}
}

/* A batch may be handed out: not while the tuple question is open. */
static bool rd_holding(const struct history_reader *R)
{
	bool edn = R->mode == MODE_SEQ_EDN || R->mode == MODE_PAR_EDN;
	return edn && R->indep == INDEP_UNDECIDED && !R->ended;
}

static void *fallback_main(void *arg)
{
	struct history_reader *R = arg;
	struct edn_reader *r = edn_reader_new(R->f, R->name);
	edn_reader_kw_op_fields(r);
	edn_reader_set_line(r, (int)R->line_base + 1);
	seq_edn(R, r, R->fb_seq + 1, true, R->seq_closed ? 0 : R->seq_close);
	edn_reader_free(r);
	pthread_mutex_lock(&R->mu);
	R->running--;
	pthread_cond_broadcast(&R->cv);
	pthread_mutex_unlock(&R->mu);
	return NULL;
}

/* After a chunk found EDN ops spanning lines: stop the workers, drop what
 * they parsed beyond it, and read the rest with the streaming reader from
 * that line on (its positions count from there: line_base is the line
 * before it). */
static void rd_fallback(struct history_reader *R)
{
	R->fb_pending = false;
	pthread_mutex_lock(&R->mu);
	R->stop = true;
	pthread_cond_broadcast(&R->cv);
	while (R->running > 0)
		pthread_cond_wait(&R->cv, &R->mu);
	pthread_mutex_unlock(&R->mu);
	for (int i = 0; i < R->nworkers; i++)
		pthread_join(R->workers[i], NULL);
	R->nworkers = 0;
	for (int i = 0; i < RING; i++) {
		batch_free(R->ring[i]);
		R->ring[i] = NULL;
	}
	R->mode = MODE_SEQ_EDN;
	if (fseeko(R->f, R->fb_off, SEEK_SET) != 0) {
		rd_fail(R, 0, 0, "cannot seek back to re-read the history");
		R->ended = true;
		return;
	}
	clearerr(R->f);
	pthread_mutex_lock(&R->mu);
	R->stop = false;
	R->next_out = R->fb_seq + 1;
	R->running++;
	if (pthread_create(&R->fb_thread, NULL, fallback_main, R) == 0) {
		R->fb_started = true;
		pthread_mutex_unlock(&R->mu);
	} else {
		pthread_mutex_unlock(&R->mu);
		fallback_main(R);
	}
}

/* Wait on R->cv until deadline (0: forever); false once it passed. */
static bool rd_wait(struct history_reader *R, int64_t deadline)
{
	if (!deadline) {
		pthread_cond_wait(&R->cv, &R->mu);
		return true;
	}
	if (now_ns() >= deadline)
		return false;
	struct timespec ts = {.tv_sec = deadline / 1000000000LL, .tv_nsec = deadline % 1000000000LL};
	pthread_cond_timedwait(&R->cv, &R->mu, &ts);
	return now_ns() < deadline;
}

int history_reader_next(struct history_reader *R, int64_t deadline, struct op_batch **out,
			struct history_error *err)
{
	for (;;) {
		if (R->ready && !rd_holding(R)) {
			struct batch *b = R->ready;
			R->ready = b->next;
			if (!R->ready)
				R->ready_tail = NULL;
			b->next = NULL;
			*out = &b->pub;
			return HISTORY_BATCH;
		}
		if (R->failed) {
			if (err)
				*err = R->err;
			return HISTORY_ERROR;
		}
		if (R->ended)
			return HISTORY_END;
		if (R->fb_pending)
			rd_fallback(R);
		pthread_mutex_lock(&R->mu);
		struct batch *b;
		while (!(b = R->ring[R->next_out % RING])) {
			if (!rd_wait(R, deadline)) {
				pthread_mutex_unlock(&R->mu);
				return HISTORY_TIMEOUT;
			}
		}
		R->ring[R->next_out % RING] = NULL;
		R->next_out++;
		pthread_cond_broadcast(&R->cv);
		pthread_mutex_unlock(&R->mu);
		consume_batch(R, b);
	}
}

void history_reader_release(struct history_reader *R, struct op_batch *pub)
{
	struct batch *b = (struct batch *)pub;
	if (!b)
		return;
	pthread_mutex_lock(&R->mu);
	b->next = R->spare;
	R->spare = b;
	pthread_mutex_unlock(&R->mu);
}

static struct history_reader *rd_new(const char *name, enum history_format fmt, int threads)
{
	struct history_reader *R = xcalloc(1, sizeof *R);
	R->name = xstrdup(name ? name : "");
	R->fmt = fmt;
	R->threads = threads > 0 ? threads : default_threads();
	R->open_off = -1;
	pthread_mutex_init(&R->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&R->cv, &ca);
	pthread_condattr_destroy(&ca);
	return R;
}

static void rd_free(struct history_reader *R)
{
	for (int i = 0; i < RING; i++)
		batch_free(R->ring[i]);
	while (R->ready) {
		struct batch *b = R->ready;
		R->ready = b->next;
		batch_free(b);
	}
	while (R->spare) {
		struct batch *b = R->spare;
		R->spare = b->next;
		batch_free(b);
	}
	if (R->map)
		munmap((void *)R->map, R->map_len);
	if (R->f && !R->ext_file)
		fclose(R->f);
	free(R->sniff);
	free(R->workers);
	free(R->path);
	free(R->name);
	pthread_cond_destroy(&R->cv);
	pthread_mutex_destroy(&R->mu);
	free(R);
}

struct history_reader *history_reader_start(const char *path, enum history_format fmt,
					    int threads)
{
	return history_reader_start_flags(path, fmt, threads, 0);
}

struct history_reader *history_reader_start_flags(const char *path, enum history_format fmt,
						  int threads, unsigned flags)
{
	struct history_reader *R = rd_new(path, fmt, threads);
	R->flags = flags;
	R->path = xstrdup(path);
	R->running = 1;
	if (pthread_create(&R->opener, NULL, opener_main, R) == 0) {
		R->opener_started = true;
	} else {
		R->threads = 1;
		opener_main(R);
	}
	return R;
}

/* How long close waits for threads that may sit in a read that never
 * returns (a FIFO without a writer). */
#define CLOSE_GRACE_NS 1000000000LL

void history_reader_close(struct history_reader *R)
{
	if (!R)
		return;
	pthread_mutex_lock(&R->mu);
	R->stop = true;
	pthread_cond_broadcast(&R->cv);
	int64_t until = now_ns() + CLOSE_GRACE_NS;
	while (R->running > 0 && rd_wait(R, until))
		;
	bool done = R->running == 0;
	pthread_mutex_unlock(&R->mu);
	if (!done) { /* left to the stuck thread: never freed */
		if (R->opener_started)
			pthread_detach(R->opener);
		for (int i = 0; i < R->nworkers; i++)
			pthread_detach(R->workers[i]);
		if (R->fb_started)
			pthread_detach(R->fb_thread);
		return;
	}
	if (R->opener_started)
		pthread_join(R->opener, NULL);
	for (int i = 0; i < R->nworkers; i++)
		pthread_join(R->workers[i], NULL);
	if (R->fb_started)
		pthread_join(R->fb_thread, NULL);
	rd_free(R);
}

/* --------------------------------------------------------- op callbacks */

int history_stream_file(FILE *f, const char *name, enum history_format fmt,
			history_op_cb cb, void *ctx, struct history_error *err)
{
	if (err)
		err->msg[0] = '\0';
	struct history_reader *R = rd_new(name, fmt, 1);
	R->direct = true;
	R->ext_file = f;
	R->cb = cb;
	R->cb_ctx = ctx;
	rd_open_and_run(R);
	int rc = 0;
	if (R->failed && !R->cb_stop) {
		if (err)
			*err = R->err;
		rc = -1;
	}
	rd_free(R);
	return rc;
}

int history_stream(const char *path, enum history_format fmt,
		   history_op_cb cb, void *ctx, struct history_error *err)
{
	if (err)
		err->msg[0] = '\0';
	struct history_reader *R = history_reader_start(path, fmt, 0);
	struct op_batch *pb;
	int r, rc = 0;
	bool stop = false;
	while (!stop && (r = history_reader_next(R, 0, &pb, err)) == HISTORY_BATCH) {
		for (size_t i = 0; i < pb->n && !stop; i++) {
			struct op *op = &pb->ops[i], own = *op;
			own.f = op->f ? xstrdup(op->f) : NULL;
			own.key = op->key ? xstrdup(op->key) : NULL;
			own.node = op->node ? xstrdup(op->node) : NULL;
			own.error = op->error ? xstrdup(op->error) : NULL;
			op->value = op->value_kw = op->extra = NULL; /* the callback owns them now */
			stop = cb(&own, ctx) != 0;
		}
		history_reader_release(R, pb);
	}
	if (!stop && r == HISTORY_ERROR)
		rc = -1;
	history_reader_close(R);
	return rc;
}

static int load_cb(struct op *op, void *ctx)
{
	history_push(ctx, op);
	return 0;
}

int history_load(const char *path, enum history_format fmt,
		 struct history *h, struct history_error *err)
{
	history_init(h);
	int rc = history_stream(path, fmt, load_cb, h, err);
	if (rc < 0)
		history_free(h);
	return rc;
}
