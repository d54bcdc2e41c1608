/*
 * history_write.c - the history writer: appends ops to history.jsonl as they
 * happen, for the runner's worker threads and the nemesis schedule.
 *
 * Every line is exactly what json_dumps(op_to_json(op), JSON_COMPACT) would
 * give (same fields, same order), but formatted by hand into a thread-local
 * buffer outside any lock, because jansson's tree building would cost more
 * than the rest of an op. Only the index assignment and a memcpy happen under
 * the writer's lock, so lines are numbered and ordered exactly as appended and
 * never interleave.
 *
 * Durability: appending an invocation returns only once its line (and every
 * line before it) has been handed to the kernel with write(), so an op is on
 * record before the client sends it, and a kill -9 of the controller can
 * never leave the database holding the effect of an op the history lacks.
 * A completion may wait in memory for the next write, for at most
 * WRITER_LAZY_NS: losing it in a crash only turns the op into one whose
 * outcome is unknown, which is what it is to anyone who saw the crash. This
 * halves the write() calls, the cost that dominates this path. Threads that
 * append at the same moment share one write() (group commit: whoever holds
 * the flush lock writes every pending line). fsync happens only at phase
 * boundaries (history_writer_sync) and on close.
 */
#include "history.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A completion waits in memory at most this long / this much. */
#define WRITER_LAZY_NS 50000000LL
#define WRITER_LAZY_BYTES 65536

struct history_writer {
	int fd;
	char *path;
	pthread_mutex_t lock;       /* next_index, pending, appended_seq */
	int64_t next_index;
	struct buf pending;
	int64_t pending_since;      /* now_ns() when pending became non-empty */
	uint64_t appended_seq;
	pthread_mutex_t flush_lock; /* spare, the fd's write order */
	struct buf spare;
	_Atomic uint64_t written_seq;
	atomic_int failed;          /* errno of the first failed write, or 0 */
};

/* --- line formatting (mirrors op_to_json + JSON_COMPACT) --- */

static const char hexdigits[] = "0123456789ABCDEF";

/* Length of a valid UTF-8 sequence at s (up to end), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s, const unsigned char *end)
{
	size_t n;
	uint32_t cp;
	if (s[0] < 0x80)
		return 1;
	else if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if ((size_t)(end - s) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and out-of-range code points are invalid. */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* JSON string literal like jansson writes it; invalid UTF-8 bytes become
 * U+FFFD so a line is always valid JSON whatever a database answered. */
static void fmt_string(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + strlen(s);
	buf_append(b, "\"", 1);
	while (p < end) {
		const unsigned char *run = p;
		while (p < end && *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
			p++;
		if (p > run)
			buf_append(b, run, (size_t)(p - run));
		if (p >= end)
			break;
		unsigned char c = *p;
		char esc[8];
		switch (c) {
		case '"': buf_append(b, "\\\"", 2); p++; continue;
		case '\\': buf_append(b, "\\\\", 2); p++; continue;
		case '\b': buf_append(b, "\\b", 2); p++; continue;
		case '\f': buf_append(b, "\\f", 2); p++; continue;
		case '\n': buf_append(b, "\\n", 2); p++; continue;
		case '\r': buf_append(b, "\\r", 2); p++; continue;
		case '\t': buf_append(b, "\\t", 2); p++; continue;
		default: break;
		}
		if (c < 0x20) {
			esc[0] = '\\', esc[1] = 'u', esc[2] = '0', esc[3] = '0';
			esc[4] = hexdigits[c >> 4], esc[5] = hexdigits[c & 15];
			buf_append(b, esc, 6);
			p++;
			continue;
		}
		size_t n = utf8_seq_len(p, end);
		if (n == 0) {
			buf_append(b, "\\ufffd", 6);
			p++;
		} else {
			buf_append(b, p, n);
			p += n;
		}
	}
	buf_append(b, "\"", 1);
}

/* Decimal digits of u, right-aligned at the end of out[24]; returns count. */
static size_t u64_digits(char out[24], uint64_t u)
{
	char *p = out + 24;
	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	return (size_t)(out + 24 - p);
}

static void fmt_int(struct buf *b, int64_t v)
{
	char tmp[24];
	if (v < 0)
		buf_append(b, "-", 1);
	size_t n = u64_digits(tmp, v < 0 ? -(uint64_t)v : (uint64_t)v);
	buf_append(b, tmp + sizeof tmp - n, n);
}

static void fmt_value(struct buf *b, const json_t *v)
{
	if (!v || json_is_null(v)) {
		buf_append(b, "null", 4);
	} else if (json_is_integer(v)) {
		fmt_int(b, json_integer_value(v));
	} else if (json_is_true(v)) {
		buf_append(b, "true", 4);
	} else if (json_is_false(v)) {
		buf_append(b, "false", 5);
	} else if (json_is_string(v)) {
		fmt_string(b, json_string_value(v));
	} else if (json_is_array(v)) {
		buf_append(b, "[", 1);
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				buf_append(b, ",", 1);
			fmt_value(b, json_array_get(v, i));
		}
		buf_append(b, "]", 1);
	} else {
		/* Objects and reals: rare, let jansson decide the exact form. */
		char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		buf_puts(b, s ? s : "null");
		free(s);
	}
}

static void fmt_field(struct buf *b, const char *name)
{
	buf_append(b, ",\"", 2);
	buf_puts(b, name);
	buf_append(b, "\":", 2);
}

/* An extra field is dropped when op_to_json already wrote that name. */
static bool extra_shadowed(const struct op *op, const char *k)
{
	static const char *const fixed[] = {"index", "time", "type", "process", "f", "value"};
	for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
		if (!strcmp(k, fixed[i]))
			return true;
	return (op->key && !strcmp(k, "key")) || (op->node && !strcmp(k, "node")) ||
	       (op->error && !strcmp(k, "error"));
}

/* Everything of the line after {"index":N -- formatted without the lock. */
static void fmt_op_tail(struct buf *b, const struct op *op)
{
	fmt_field(b, "time");
	fmt_int(b, op->time);
	fmt_field(b, "type");
	fmt_string(b, op_type_name(op->type));
	fmt_field(b, "process");
	if (op->process == PROCESS_NEMESIS)
		buf_append(b, "\"nemesis\"", 9);
	else if (op->process == PROCESS_NONE)
		buf_append(b, "null", 4);
	else
		fmt_int(b, op->process);
	fmt_field(b, "f");
	fmt_string(b, op->f ? op->f : "");
	if (op->key) {
		fmt_field(b, "key");
		fmt_string(b, op->key);
	}
	fmt_field(b, "value");
	fmt_value(b, op->value);
	if (op->node) {
		fmt_field(b, "node");
		fmt_string(b, op->node);
	}
	if (op->error) {
		fmt_field(b, "error");
		fmt_string(b, op->error);
	}
	if (op->extra && json_is_object(op->extra)) {
		const char *k;
		json_t *v;
		json_object_foreach(op->extra, k, v) {
			if (extra_shadowed(op, k))
				continue;
			buf_append(b, ",", 1);
			fmt_string(b, k);
			buf_append(b, ":", 1);
			fmt_value(b, v);
		}
	}
	buf_append(b, "}\n", 2);
}

/* --- the writer --- */

struct history_writer *history_writer_open(const char *path)
{
	/* O_EXCL: a run never appends to (or clobbers) an older history. */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return NULL;
	struct history_writer *w = xcalloc(1, sizeof *w);
	w->fd = fd;
	w->path = xstrdup(path);
	pthread_mutex_init(&w->lock, NULL);
	pthread_mutex_init(&w->flush_lock, NULL);
	buf_init(&w->pending);
	buf_init(&w->spare);
	return w;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Make sure every line up to seq has been written (group commit). */
static int writer_flush_to(struct history_writer *w, uint64_t seq)
{
	if (atomic_load(&w->written_seq) >= seq)
		return atomic_load(&w->failed) ? -1 : 0;
	if (pthread_mutex_trylock(&w->flush_lock) != 0) {
		/* Someone is writing: let it (and more appenders) run, so the
		 * next write carries many lines instead of one each. */
		sched_yield();
		if (atomic_load(&w->written_seq) >= seq)
			return atomic_load(&w->failed) ? -1 : 0;
		pthread_mutex_lock(&w->flush_lock);
	}
	if (atomic_load(&w->written_seq) < seq) {
		pthread_mutex_lock(&w->lock);
		struct buf tmp = w->pending;
		w->pending = w->spare;
		w->spare = tmp;
		uint64_t upto = w->appended_seq;
		pthread_mutex_unlock(&w->lock);
		if (w->spare.len && !atomic_load(&w->failed) &&
		    write_all(w->fd, w->spare.data, w->spare.len) < 0) {
			int e = errno;
			atomic_store(&w->failed, e ? e : EIO);
			log_error("history %s: write failed: %s", w->path, strerror(e));
		}
		w->spare.len = 0;
		if (w->spare.data)
			w->spare.data[0] = 0;
		atomic_store(&w->written_seq, upto);
	}
	pthread_mutex_unlock(&w->flush_lock);
	return atomic_load(&w->failed) ? -1 : 0;
}

int64_t history_writer_append(struct history_writer *w, struct op *op)
{
	struct buf tail;
	buf_init(&tail);
	fmt_op_tail(&tail, op);

	char num[24];
	int64_t now = op->type == OP_INVOKE ? 0 : now_ns();
	pthread_mutex_lock(&w->lock);
	int64_t idx = w->next_index++;
	size_t nl = u64_digits(num, (uint64_t)idx);
	if (w->pending.len == 0)
		w->pending_since = now;
	buf_append(&w->pending, "{\"index\":", 9);
	buf_append(&w->pending, num + sizeof num - nl, nl);
	buf_append(&w->pending, tail.data, tail.len);
	uint64_t seq = ++w->appended_seq;
	/* Completions may wait briefly for the next write (see the top). */
	bool lazy = op->type != OP_INVOKE && w->pending.len < WRITER_LAZY_BYTES &&
		    now - w->pending_since < WRITER_LAZY_NS;
	pthread_mutex_unlock(&w->lock);
	buf_free(&tail);

	op->index = idx;
	if (!lazy && writer_flush_to(w, seq) < 0)
		return -1;
	return atomic_load(&w->failed) ? -1 : idx;
}

int history_writer_sync(struct history_writer *w)
{
	pthread_mutex_lock(&w->lock);
	uint64_t seq = w->appended_seq;
	pthread_mutex_unlock(&w->lock);
	int r = writer_flush_to(w, seq);
	if (fsync(w->fd) < 0) {
		log_error("history %s: fsync failed: %s", w->path, strerror(errno));
		r = -1;
	}
	return r;
}

void history_writer_close(struct history_writer *w)
{
	if (!w)
		return;
	history_writer_sync(w);
	close(w->fd);
	pthread_mutex_destroy(&w->lock);
	pthread_mutex_destroy(&w->flush_lock);
	buf_free(&w->pending);
	buf_free(&w->spare);
	free(w->path);
	free(w);
}

/* Lines appended so far (the next index). */
int64_t history_writer_count(struct history_writer *w)
{
	pthread_mutex_lock(&w->lock);
	int64_t n = w->next_index;
	pthread_mutex_unlock(&w->lock);
	return n;
}

bool history_writer_failed(struct history_writer *w)
{
	return atomic_load(&w->failed) != 0;
}
