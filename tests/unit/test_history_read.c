/*
 * test_history_read.c - the JSONL history reader: the design's op lines
 * (through the fast scanner and through the jansson fallback, which must
 * agree), a torn last line from a killed run (ignored), a bad line in the
 * middle (error with line:column), history_load, and format detection.
 * Issue 13: a history read through a pipe (never rewound: the format is
 * sniffed from bytes already read), only a last line without its newline
 * is torn, error messages never carry raw control bytes; and a file big
 * enough to be read in parallel chunks gives the same ops, positions and
 * errors as a sequential read. Issue 14: values left as text and tokens
 * (HISTORY_VALUE_TEXT) only when they are exactly valid JSON of plain
 * values, equal to the tree a normal read gives, and bad JSON is the same
 * error either way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "edn.h"
#include "history.h"
#include "util.h"

static char *write_tmp(const char *text, const char *suffix)
{
	char *path = malloc(64);
	snprintf(path, 64, "/tmp/test_hist_XXXXXX%s", suffix);
	int fd = mkstemps(path, (int)strlen(suffix));
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static int load_text(const char *text, enum history_format fmt, struct history *h,
		     struct history_error *err)
{
	char *path = write_tmp(text, fmt == HISTORY_EDN ? ".edn" : ".jsonl");
	int rc = history_load(path, fmt, h, err);
	unlink(path);
	free(path);
	return rc;
}

static const char design_lines[] =
	"{\"index\":0,\"time\":10423,\"type\":\"invoke\",\"process\":3,\"f\":\"cas\",\"key\":\"7\",\"value\":[1,2]}\n"
	"{\"index\":1,\"time\":523991,\"type\":\"ok\",\"process\":3,\"f\":\"cas\",\"key\":\"7\",\"value\":[1,2],\"node\":\"n2\"}\n"
	"{\"index\":2,\"time\":600000,\"type\":\"info\",\"process\":\"nemesis\",\"f\":\"start-partition\",\"value\":{\"n1\":[\"n2\",\"n3\"],\"n2\":[\"n1\"],\"n3\":[\"n1\"]}}\n"
	"{\"index\":3,\"time\":812000,\"type\":\"info\",\"process\":4,\"f\":\"read\",\"key\":\"7\",\"value\":null,\"error\":\"timeout\"}\n";

static void test_design_example(void **state)
{
	(void)state;
	struct history h;
	struct history_error err;
	assert_int_equal(load_text(design_lines, HISTORY_JSONL, &h, &err), 0);
	assert_int_equal(h.n, 4);
	assert_int_equal(h.ops[0].type, OP_INVOKE);
	assert_int_equal(h.ops[0].process, 3);
	assert_int_equal(h.ops[0].time, 10423);
	assert_string_equal(h.ops[0].f, "cas");
	assert_string_equal(h.ops[0].key, "7");
	assert_int_equal(json_array_size(h.ops[0].value), 2);
	assert_string_equal(h.ops[1].node, "n2");
	assert_int_equal(h.ops[2].process, PROCESS_NEMESIS);
	assert_true(json_is_object(h.ops[2].value));
	assert_null(h.ops[2].key);
	assert_string_equal(h.ops[3].error, "timeout");
	assert_true(json_is_null(h.ops[3].value));
	/* serialising gives back the design's fields */
	json_t *j = op_to_json(&h.ops[1]);
	assert_string_equal(json_string_value(json_object_get(j, "node")), "n2");
	assert_int_equal(json_integer_value(json_object_get(j, "index")), 1);
	json_decref(j);
	history_free(&h);
}

static void test_fast_and_fallback_agree(void **state)
{
	(void)state;
	/* The same op written plainly (fast scanner), with odd spacing and
	 * field order, escapes, non-ASCII and extra fields (jansson). */
	const char *text =
		"{\"index\":0,\"time\":1,\"type\":\"ok\",\"process\":1,\"f\":\"write\",\"key\":\"k\",\"value\":\"v\"}\n"
		"{ \"value\" : \"v\" , \"f\":\"write\", \"process\": 1, \"type\":\"ok\", \"time\":1, \"key\":\"k\", \"index\":0 }\n"
		"{\"index\":0,\"time\":1,\"type\":\"ok\",\"process\":1,\"f\":\"write\",\"key\":\"k\",\"value\":\"\\u0076\"}\n"
		"{\"index\":0,\"time\":1,\"type\":\"ok\",\"process\":1,\"f\":\"write\",\"key\":\"k\",\"value\":\"v\",\"latency\":5}\n";
	struct history h;
	struct history_error err;
	assert_int_equal(load_text(text, HISTORY_JSONL, &h, &err), 0);
	assert_int_equal(h.n, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(h.ops[i].type, OP_OK);
		assert_int_equal(h.ops[i].process, 1);
		assert_string_equal(h.ops[i].f, "write");
		assert_string_equal(h.ops[i].key, "k");
		assert_string_equal(json_string_value(h.ops[i].value), "v");
	}
	assert_null(h.ops[0].extra);
	assert_int_equal(json_integer_value(json_object_get(h.ops[3].extra, "latency")), 5);
	/* numeric keys become strings; missing index defaults to position */
	history_free(&h);
	assert_int_equal(load_text("{\"type\":\"invoke\",\"process\":0,\"f\":\"read\",\"key\":12}\n"
				   "{\"type\":\"ok\",\"process\":0,\"f\":\"read\",\"key\":12,\"value\":\"\xc3\xa9\"}\n",
				   HISTORY_JSONL, &h, &err), 0);
	assert_string_equal(h.ops[0].key, "12");
	assert_int_equal(h.ops[1].index, 1);
	assert_int_equal(h.ops[1].time, -1);
	assert_string_equal(json_string_value(h.ops[1].value), "\xc3\xa9");
	history_free(&h);
}

static void test_torn_last_line_ignored(void **state)
{
	(void)state;
	const char *text =
		"{\"index\":0,\"time\":1,\"type\":\"invoke\",\"process\":1,\"f\":\"read\",\"value\":null}\n"
		"{\"index\":1,\"time\":2,\"type\":\"ok\",\"process\":1,\"f\":\"read\",\"value\":3}\n"
		"{\"index\":2,\"time\":3,\"type\":\"inv";
	struct history h;
	struct history_error err;
	assert_int_equal(load_text(text, HISTORY_JSONL, &h, &err), 0);
	assert_int_equal(h.n, 2);
	history_free(&h);
	/* a complete last line without a newline still counts */
	const char *text2 =
		"{\"index\":0,\"time\":1,\"type\":\"invoke\",\"process\":1,\"f\":\"read\",\"value\":null}";
	assert_int_equal(load_text(text2, HISTORY_JSONL, &h, &err), 0);
	assert_int_equal(h.n, 1);
	history_free(&h);
}

static void test_bad_line_is_error(void **state)
{
	(void)state;
	const char *text =
		"{\"index\":0,\"time\":1,\"type\":\"invoke\",\"process\":1,\"f\":\"read\",\"value\":null}\n"
		"{\"index\":1,\"time\":2,\"type\":\"ok\",\"process\":1,\"f\":\"read\",\"value\":3,}\n"
		"{\"index\":2,\"time\":3,\"type\":\"invoke\",\"process\":1,\"f\":\"read\",\"value\":null}\n";
	struct history h;
	struct history_error err;
	assert_int_equal(load_text(text, HISTORY_JSONL, &h, &err), -1);
	assert_non_null(strstr(err.msg, ".jsonl:2:"));
	assert_int_equal(h.n, 0);
	/* valid JSON that is not an op */
	assert_int_equal(load_text("{\"index\":0,\"type\":\"done\",\"process\":1,\"f\":\"read\"}\n",
				   HISTORY_JSONL, &h, &err), -1);
	assert_non_null(strstr(err.msg, ":1:1: "));
	assert_non_null(strstr(err.msg, "type"));
	assert_int_equal(load_text("{\"type\":\"ok\",\"process\":-3,\"f\":\"read\"}\n", HISTORY_JSONL, &h,
				   &err), -1);
	assert_non_null(strstr(err.msg, "process"));
	/* blank lines are fine */
	assert_int_equal(load_text("\n\n{\"type\":\"ok\",\"process\":1,\"f\":\"read\"}\n\n", HISTORY_JSONL,
				   &h, &err), 0);
	assert_int_equal(h.n, 1);
	history_free(&h);
}

static void test_missing_file(void **state)
{
	(void)state;
	struct history h;
	struct history_error err;
	assert_int_equal(history_load("/nonexistent/history.jsonl", HISTORY_AUTO, &h, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent/history.jsonl"));
}

static void test_auto_format(void **state)
{
	(void)state;
	struct history h;
	struct history_error err;
	/* EDN content in a file without a telling extension */
	char *p = write_tmp("{:type :invoke :process 0 :f :read :value nil}\n", ".txt");
	assert_int_equal(history_load(p, HISTORY_AUTO, &h, &err), 0);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.ops[0].f, "read");
	history_free(&h);
	unlink(p);
	free(p);
	p = write_tmp("{\"type\":\"invoke\",\"process\":0,\"f\":\"read\",\"value\":null}\n", ".txt");
	assert_int_equal(history_load(p, HISTORY_AUTO, &h, &err), 0);
	assert_int_equal(h.n, 1);
	history_free(&h);
	unlink(p);
	free(p);
}

static int stop_after_one(struct op *op, void *ctx)
{
	int *n = ctx;
	op_free(op);
	return ++*n >= 1;
}

static void test_stream_stops_on_request(void **state)
{
	(void)state;
	char *p = write_tmp(design_lines, ".jsonl");
	int n = 0;
	struct history_error err;
	assert_int_equal(history_stream(p, HISTORY_JSONL, stop_after_one, &n, &err), 0);
	assert_int_equal(n, 1);
	unlink(p);
	free(p);
}


/* Write text into a pipe from a child process; returns the read end as
 * a FILE (and the child's pid). */
static FILE *pipe_from(const char *text, pid_t *child)
{
	int fd[2];
	assert_int_equal(pipe(fd), 0);
	*child = fork();
	assert_true(*child >= 0);
	if (*child == 0) {
		close(fd[0]);
		size_t n = strlen(text), off = 0;
		while (off < n) { /* in small pieces: reads see partial data */
			size_t k = n - off < 7 ? n - off : 7;
			if (write(fd[1], text + off, k) != (ssize_t)k)
				_exit(1);
			off += k;
		}
		_exit(0);
	}
	close(fd[1]);
	FILE *f = fdopen(fd[0], "r");
	assert_non_null(f);
	return f;
}

static int count_ops(struct op *op, void *ctx)
{
	struct history *h = ctx;
	history_push(h, op);
	return 0;
}

/* Issue 13 item 1: through a pipe nothing may be lost to format
 * sniffing (the old reader rewound, which a pipe cannot do). */
static void test_pipe_not_rewound(void **state)
{
	(void)state;
	static const char *edn =
		"{:type :invoke, :f :write, :value 1, :process 0}\n"
		"{:type :ok, :f :write, :value 1, :process 0}\n"
		"{:type :invoke, :f :read, :value nil, :process 0}\n"
		"{:type :ok, :f :read, :value 2, :process 0}\n";
	const char *texts[] = {design_lines, edn};
	size_t want[] = {4, 4};
	for (int i = 0; i < 2; i++) {
		pid_t child;
		FILE *f = pipe_from(texts[i], &child);
		struct history h;
		history_init(&h);
		struct history_error err;
		assert_int_equal(history_stream_file(f, "/dev/stdin", HISTORY_AUTO, count_ops, &h, &err), 0);
		fclose(f);
		waitpid(child, NULL, 0);
		assert_int_equal(h.n, want[i]);
		assert_int_equal(h.ops[0].index, 0); /* the first line is there */
		history_free(&h);
	}
	/* By path too (a /proc/self/fd name, as <(...) gives). */
	pid_t child;
	FILE *f = pipe_from(design_lines, &child);
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fileno(f));
	struct history h;
	struct history_error err;
	assert_int_equal(history_load(path, HISTORY_AUTO, &h, &err), 0);
	assert_int_equal(h.n, 4);
	assert_string_equal(h.ops[0].f, "cas");
	history_free(&h);
	fclose(f);
	waitpid(child, NULL, 0);
}

/* Issue 13 item 4: a complete last line that fails to parse is an error
 * (it used to be skipped as torn, flipping an invalid verdict to valid). */
static void test_complete_last_line_is_error(void **state)
{
	(void)state;
	const char *text =
		"{\"index\":0,\"type\":\"invoke\",\"process\":1,\"f\":\"read\",\"value\":null}\n"
		"{\"index\":1,\"type\":\"ok\",\"process\":1,\"f\":\"read\",\"value\":123456789012345678901}\n";
	struct history h;
	struct history_error err;
	assert_int_equal(load_text(text, HISTORY_JSONL, &h, &err), -1);
	assert_non_null(strstr(err.msg, ".jsonl:2:"));
	/* without its newline, the same line is a torn write */
	char *torn = xstrdup(text);
	torn[strlen(torn) - 1] = '\0';
	assert_int_equal(load_text(torn, HISTORY_JSONL, &h, &err), 0);
	assert_int_equal(h.n, 1);
	history_free(&h);
	free(torn);
}

/* The EDN nit of issue 13: raw control bytes never reach the terminal. */
static void test_errors_printable(void **state)
{
	(void)state;
	struct history h;
	struct history_error err;
	const char *bad[] = {
		"{:type :invoke, :process 0, :f :read \x01\x1b[31m}\n",
		"{:type :invoke, :process 0, :f :read, :value \"a\\\x07\"}\n",
		"[{:type :invoke, :process 0, :f :read}\n \x1b]\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		assert_int_equal(load_text(bad[i], HISTORY_EDN, &h, &err), -1);
		for (const char *p = err.msg; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				fail_msg("control byte 0x%02x in: %s", *p, err.msg);
		assert_non_null(strstr(err.msg, ".edn:"));
	}
	assert_int_equal(load_text("{\"type\":\"ok\",\x01\"x\"}\n", HISTORY_JSONL, &h, &err), -1);
	for (const char *p = err.msg; *p; p++)
		assert_false((unsigned char)*p < 0x20);
	char m[64] = "a\x01" "b\xff" "c\xc3\xa9";
	text_printable(m, sizeof m);
	assert_string_equal(m, "a\\x01b\\xffc\xc3\xa9");
}

/* Keys keep their type; EDN keywords stay distinct from strings in
 * value_kw; both forms of one history read the same. */
static void test_value_semantics(void **state)
{
	(void)state;
	struct history h;
	struct history_error err;
	assert_int_equal(load_text("{\"type\":\"invoke\",\"process\":0,\"f\":\"write\",\"key\":1,\"value\":\":a\"}\n"
				   "{\"type\":\"invoke\",\"process\":1,\"f\":\"write\",\"key\":\"1\",\"value\":\"a\"}\n",
				   HISTORY_JSONL, &h, &err), 0);
	assert_string_equal(h.ops[0].key, "1");
	assert_int_equal(h.ops[0].key_type, OP_KEY_INT);
	assert_int_equal(h.ops[1].key_type, OP_KEY_STRING);
	assert_null(h.ops[0].value_kw);
	history_free(&h);
	assert_int_equal(load_text("{:type :invoke, :process 0, :f :write, :key 1, :value :a}\n"
				   "{:type :invoke, :process 1, :f :write, :key :k, :value [\"a\" :b]}\n"
				   "{:type :invoke, :process 2, :f :write, :value 99999999999999999999}\n",
				   HISTORY_EDN, &h, &err), 0);
	assert_int_equal(h.ops[0].key_type, OP_KEY_INT);
	assert_string_equal(json_string_value(h.ops[0].value), "a");     /* the plain name */
	assert_string_equal(json_string_value(h.ops[0].value_kw), ":a"); /* the keyword */
	assert_string_equal(h.ops[1].key, ":k");
	assert_int_equal(h.n, 3);
	/* a bigint: its digits for names, "<digits>N" for comparisons */
	assert_string_equal(json_string_value(h.ops[2].value), "99999999999999999999");
	assert_string_equal(json_string_value(h.ops[2].value_kw), "99999999999999999999N");
	assert_string_equal(json_string_value(json_array_get(h.ops[1].value_kw, 0)), "a");
	assert_string_equal(json_string_value(json_array_get(h.ops[1].value_kw, 1)), ":b");
	history_free(&h);
}

/* A history big enough for parallel chunks reads like a small one: every
 * op, in order, default indexes, and an error's line number. */
static void test_parallel_chunks(void **state)
{
	(void)state;
	for (int fmt = 0; fmt < 2; fmt++) {
		struct buf b;
		buf_init(&b);
		long n = 0;
		if (fmt == 1)
			buf_puts(&b, "[");
		while (b.len < (12u << 20)) {
			if (fmt == 0)
				buf_printf(&b, "{\"type\":\"%s\",\"process\":%ld,\"f\":\"write\",\"key\":\"%ld\",\"value\":%ld}\n",
					   n % 2 ? "ok" : "invoke", n / 2 % 7, n / 2 % 13, n);
			else
				buf_printf(&b, "{:type :%s, :process %ld, :f :write, :value [%ld %ld]}\n",
					   n % 2 ? "ok" : "invoke", n / 2 % 7, n / 2 % 13, n);
			n++;
		}
		if (fmt == 1)
			buf_puts(&b, "]\n");
		struct history h;
		struct history_error err;
		assert_int_equal(load_text(b.data, fmt ? HISTORY_EDN : HISTORY_JSONL, &h, &err), 0);
		assert_int_equal(h.n, (size_t)n);
		for (long i = 0; i < n; i++) {
			assert_int_equal(h.ops[i].index, i);
			assert_int_equal(json_integer_value(h.ops[i].value), i);
			assert_int_equal(atol(h.ops[i].key), i / 2 % 13);
		}
		history_free(&h);
		/* a bad line far into the file: its true line number */
		char *mid = strstr(b.data + (9u << 20), "\n");
		mid[1] = '#';
		long line = 1 + fmt;
		for (char *p = b.data; p <= mid; p++)
			line += *p == '\n';
		line -= fmt; /* the EDN vector opens on line 1 with the first op */
		assert_int_equal(load_text(b.data, fmt ? HISTORY_EDN : HISTORY_JSONL, &h, &err), -1);
		char want[64];
		snprintf(want, sizeof want, ":%ld:", line);
		if (!strstr(err.msg, want))
			fail_msg("error '%s' should be on line %ld", err.msg, line);
		buf_free(&b);
	}
}

/* A large file is read through a map: a last line without its newline
 * ending exactly on a page boundary is still read (and torn: skipped
 * with a warning, as from pread), and a file that shrinks while it is
 * read is an error, not a crash (SIGBUS on the bytes gone). */
static void test_mapped_file_edges(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	long n = 0;
	while (b.len < (10u << 20)) {
		buf_printf(&b, "{\"type\":\"%s\",\"process\":%ld,\"f\":\"write\",\"value\":%ld}\n",
			   n % 2 ? "ok" : "invoke", n / 2 % 7, n);
		n++;
	}
	/* pad the last line so the file ends on a page, without a newline */
	long page = sysconf(_SC_PAGESIZE);
	const char *last = "{\"type\":\"invoke\",\"process\":1,\"f\":\"write\",\"value\":\"";
	buf_puts(&b, last);
	while ((long)b.len % page != page - 2)
		buf_puts(&b, "x");
	buf_puts(&b, "\"}");
	assert_int_equal((long)b.len % page, 0);
	struct history h;
	struct history_error err;
	assert_int_equal(load_text(b.data, HISTORY_JSONL, &h, &err), 0);
	assert_int_equal(h.n, (size_t)n + 1);
	history_free(&h);
	b.data[b.len - 1] = ' '; /* torn: ends inside the string */
	assert_int_equal(load_text(b.data, HISTORY_JSONL, &h, &err), 0);
	assert_int_equal(h.n, (size_t)n);
	history_free(&h);

	/* shrinks under the reader: the consumer holds the first batch, so
	 * the threads wait a few chunks ahead; then the file loses its tail */
	char *path = write_tmp(b.data, ".jsonl");
	struct history_reader *r = history_reader_start(path, HISTORY_JSONL, 2);
	struct op_batch *bt;
	assert_int_equal(history_reader_next(r, 0, &bt, &err), HISTORY_BATCH);
	assert_int_equal(truncate(path, 1u << 20), 0);
	history_reader_release(r, bt);
	int rc;
	size_t got = 0;
	while ((rc = history_reader_next(r, 0, &bt, &err)) == HISTORY_BATCH) {
		got += bt->n;
		history_reader_release(r, bt);
	}
	assert_int_equal(rc, HISTORY_ERROR);
	if (!strstr(err.msg, "shrank"))
		fail_msg("error '%s' should say the file shrank", err.msg);
	assert_true(got < (size_t)n);
	history_reader_close(r);
	unlink(path);
	free(path);
	buf_free(&b);
}

/* EDN written one op per line is read line by line; where an op spans
 * lines the streaming reader takes over from that line (sequentially and
 * in parallel chunks): every op, in order, and true line numbers after. */
static void test_edn_lines_fallback(void **state)
{
	(void)state;
	for (int big = 0; big < 2; big++) {
		struct buf b;
		buf_init(&b);
		buf_puts(&b, "[");
		long n = 0, span_at = big ? 150000 : 100; /* after what the sniff looks at */
		for (;;) {
			if (n == span_at) /* one op over three lines */
				buf_printf(&b, "{:type :invoke,\n :process 1, :f :write,\n :value [7 %ld]}\n", n);
			else
				buf_printf(&b, "{:type :invoke, :process 1, :f :write, :value [7 %ld]}\n", n);
			n++;
			if (big ? b.len > (12u << 20) : n == 110)
				break;
		}
		buf_puts(&b, "{:type :invoke, :process 1, :f :write, :value [7 :kw]}]\n");
		n++;
		struct history h;
		struct history_error err;
		assert_int_equal(load_text(b.data, HISTORY_EDN, &h, &err), 0);
		assert_int_equal(h.n, (size_t)n);
		for (long i = 0; i + 1 < n; i++) {
			assert_int_equal(h.ops[i].index, i);
			assert_string_equal(h.ops[i].key, "7");
			assert_int_equal(json_integer_value(h.ops[i].value), i);
		}
		assert_string_equal(json_string_value(h.ops[n - 1].value_kw), ":kw");
		history_free(&h);
		/* a bad op after the fallback: its true line */
		char *last = strstr(b.data + b.len - 80, "{:type :invoke, :process 1, :f :write, :value [7 :kw]}");
		assert_non_null(last);
		memcpy(last + 1, ":tipe", 5);
		long line = 1;
		for (char *p = b.data; p < last; p++)
			line += *p == '\n';
		assert_int_equal(load_text(b.data, HISTORY_EDN, &h, &err), -1);
		char want[32];
		snprintf(want, sizeof want, ":%ld:", line);
		if (!strstr(err.msg, want))
			fail_msg("error '%s' should be on line %ld", err.msg, line);
		buf_free(&b);
	}
}

/* HISTORY_VALUE_TEXT: a list of plain values stays text, checked to be
 * exactly valid JSON (op_value gives the same tree a normal read gives);
 * anything else (floats, escapes, objects, long integers) is a tree, and
 * bad JSON is the same error either way. */
static struct op_batch *read_flags(const char *path, unsigned flags, struct history_reader **rd,
				   struct history_error *err, int *rc)
{
	*rd = history_reader_start_flags(path, HISTORY_JSONL, 1, flags);
	struct op_batch *b = NULL;
	*rc = history_reader_next(*rd, 0, &b, err);
	return b;
}

static void test_value_text(void **state)
{
	(void)state;
	static const char *const text[] = {
		"[]", "[1,-2,0,-0,123456789012345678]", "[[\"append\",1,2],[\"r\",\"k\",[1,2,3]]]",
		"[ [ \"r\" , 3 , null ] , true,false ,\"\",[[],[[]]]]", "[\"[a]\",\"b,c\"]",
	};
	static const char *const tree[] = {
		"[1.5]", "[\"a\\\"b\"]", "[{\"k\":1}]", "[1234567890123456789]", "[\"\\u00e9\"]",
		"[1e3]", "7", "\"s\"",
	};
	static const char *const bad[] = {"[1,]", "[01]", "[-]", "[1 2]", "[nul]", "[\"a]"};
	size_t nt = sizeof text / sizeof *text, nr = sizeof tree / sizeof *tree;
	struct buf b;
	buf_init(&b);
	for (size_t i = 0; i < nt + nr; i++)
		buf_printf(&b, "{\"index\":%zu,\"time\":1,\"type\":\"invoke\",\"process\":0,\"f\":\"txn\","
			       "\"value\":%s}\n", i, i < nt ? text[i] : tree[i - nt]);
	/* the general scanner (fields in another order) too */
	buf_printf(&b, "{\"type\":\"ok\",\"f\":\"txn\",\"value\":%s,\"process\":0}\n", text[2]);
	/* and a long one: its tokens outgrow any first guess */
	buf_puts(&b, "{\"type\":\"ok\",\"f\":\"txn\",\"process\":0,\"value\":[[\"r\",1,[");
	for (int i = 0; i < 100000; i++)
		buf_printf(&b, "%s%d", i ? "," : "", i - 50);
	buf_puts(&b, "]],[\"append\",\"k\",7]]}\n");
	char *path = write_tmp(b.data, ".jsonl");
	struct history plain;
	struct history_error err;
	assert_int_equal(history_load(path, HISTORY_JSONL, &plain, &err), 0);
	struct history_reader *rd;
	int rc;
	struct op_batch *ob = read_flags(path, HISTORY_VALUE_TEXT, &rd, &err, &rc);
	assert_int_equal(rc, HISTORY_BATCH);
	assert_int_equal(ob->n, nt + nr + 2);
	for (size_t i = 0; i < ob->n; i++) {
		const struct op *op = &ob->ops[i];
		bool as_text = i < nt || i >= nt + nr;
		if (as_text != (op->value_text != NULL))
			fail_msg("op %zu: value_text %s", i, op->value_text ? op->value_text : "NULL");
		assert_true(as_text == (op->value == NULL));
		if (as_text) {
			assert_int_equal(op->value_text_len, strlen(op->value_text));
			assert_int_equal(HTOK_TAG(op->value_tokens[0]), HTOK_LIST);
			assert_int_equal(HTOK_LIST_SPAN(op->value_tokens[0]) + 1, op->value_ntokens);
		}
		json_t *v = op_value(op);
		if (!json_equal(v, plain.ops[i].value))
			fail_msg("op %zu: op_value differs", i);
		json_decref(v);
		struct op copy;
		op_copy(&copy, op);
		assert_true(json_equal(copy.value, plain.ops[i].value));
		assert_null(copy.value_text);
		op_free(&copy);
	}
	/* the tokens of the long one: [[r 1 [-50 .. 99949]] [append "k" 7]] */
	const struct op *lo = &ob->ops[ob->n - 1];
	const uint64_t *t = lo->value_tokens;
	assert_int_equal(lo->value_ntokens, 1 + 1 + 2 + 1 + 100000 + 4);
	assert_int_equal(HTOK_LIST_N(t[0]), 2);
	assert_int_equal(HTOK_LIST_N(t[1]), 3);
	assert_int_equal(HTOK_TAG(t[2]), HTOK_STR);
	assert_int_equal(HTOK_STR_LEN(t[2]), 1);
	assert_int_equal(lo->value_text[HTOK_STR_OFF(t[2])], 'r');
	assert_int_equal(HTOK_INT_V(t[3]), 1);
	assert_int_equal(HTOK_LIST_N(t[4]), 100000);
	assert_int_equal(HTOK_LIST_SPAN(t[4]), 100000);
	assert_int_equal(HTOK_INT_V(t[5]), -50);
	assert_int_equal(HTOK_INT_V(t[5 + 99999]), 99949);
	const uint64_t *a = t + 5 + 100000;
	assert_int_equal(HTOK_LIST_N(a[0]), 3);
	assert_int_equal(HTOK_LIST_SPAN(a[0]), 3);
	assert_string_equal(lo->value_text + HTOK_STR_OFF(a[2]) - 1, "\"k\",7]]");
	assert_int_equal(HTOK_INT_V(a[3]), 7);
	history_reader_release(rd, ob);
	history_reader_close(rd);
	/* without the flag: trees as always */
	ob = read_flags(path, 0, &rd, &err, &rc);
	assert_int_equal(rc, HISTORY_BATCH);
	for (size_t i = 0; i < ob->n; i++)
		assert_null(ob->ops[i].value_text);
	history_reader_release(rd, ob);
	history_reader_close(rd);
	history_free(&plain);
	unlink(path);
	free(path);
	buf_free(&b);
	/* bad JSON in a list value: jansson's error, flag or not */
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char line[200], e0[512] = "";
		snprintf(line, sizeof line, "{\"index\":0,\"time\":1,\"type\":\"invoke\",\"process\":0,"
			 "\"f\":\"txn\",\"value\":%s}\n", bad[i]);
		path = write_tmp(line, ".jsonl");
		for (unsigned flags = 0; flags < 2; flags++) {
			ob = read_flags(path, flags ? HISTORY_VALUE_TEXT : 0, &rd, &err, &rc);
			if (rc == HISTORY_BATCH) { /* ops before the error come first */
				assert_int_equal(ob->n, 0);
				history_reader_release(rd, ob);
				rc = history_reader_next(rd, 0, &ob, &err);
			}
			if (rc != HISTORY_ERROR)
				fail_msg("%s: read (flags %u)", bad[i], flags);
			if (flags == 0)
				snprintf(e0, sizeof e0, "%s", err.msg);
			else
				assert_string_equal(err.msg, e0);
			history_reader_close(rd);
		}
		unlink(path);
		free(path);
	}
}

/* HISTORY_SCALAR_TEXT (the linearizability checker's read): a plain
 * string or an integer of at most 18 digits is one token over its text,
 * anything else a tree, in the runner's layout and in any other; lists
 * stay trees unless HISTORY_VALUE_TEXT is asked for too. Common f names
 * are one shared string each (history_f_shared), any other f is not. */
static void test_scalar_text(void **state)
{
	(void)state;
	static const char *const text[] = {
		"\"s\"", "\"\"", "\"a b,c]\"", "7", "-3", "0", "123456789012345678", "\"1\"",
	};
	static const char *const tree[] = {
		"1.5", "\"a\\\"b\"", "1234567890123456789", "\"\\u00e9\"", "null", "true",
		"[1,\"x\"]", "{\"k\":1}", "1e3",
	};
	size_t nt = sizeof text / sizeof *text, nr = sizeof tree / sizeof *tree;
	struct buf b;
	buf_init(&b);
	for (size_t i = 0; i < nt + nr; i++) /* runner's layout, then another order */
		buf_printf(&b, i % 2 ? "{\"index\":%zu,\"time\":1,\"type\":\"invoke\",\"process\":0,"
				       "\"f\":\"get\",\"key\":\"k\",\"value\":%s}\n"
				     : "{\"f\":\"get\",\"index\":%zu,\"value\":%s,\"type\":\"invoke\","
				       "\"process\":0}\n",
			   i, i < nt ? text[i] : tree[i - nt]);
	buf_puts(&b, "{\"index\":99,\"time\":1,\"type\":\"ok\",\"process\":0,\"f\":\"frob\","
		     "\"value\":1}\n");
	char *path = write_tmp(b.data, ".jsonl");
	struct history plain;
	struct history_error err;
	assert_int_equal(history_load(path, HISTORY_JSONL, &plain, &err), 0);
	struct history_reader *rd;
	int rc;
	struct op_batch *ob = read_flags(path, HISTORY_SCALAR_TEXT, &rd, &err, &rc);
	assert_int_equal(rc, HISTORY_BATCH);
	assert_int_equal(ob->n, nt + nr + 1);
	for (size_t i = 0; i < nt + nr; i++) {
		const struct op *op = &ob->ops[i];
		bool as_text = i < nt;
		if (as_text != (op->value_text != NULL) || as_text != (op->value == NULL))
			fail_msg("op %zu (%s): value_text %s", i, i < nt ? text[i] : tree[i - nt],
				 op->value_text ? op->value_text : "NULL");
		if (as_text) {
			assert_int_equal(op->value_ntokens, 1);
			assert_string_equal(op->value_text, text[i]);
			uint64_t t = op->value_tokens[0];
			if (text[i][0] == '"') {
				assert_int_equal(HTOK_TAG(t), HTOK_STR);
				assert_int_equal(HTOK_STR_OFF(t), 1);
				assert_int_equal(HTOK_STR_LEN(t), strlen(text[i]) - 2);
			} else {
				assert_int_equal(HTOK_TAG(t), HTOK_INT);
				assert_true(HTOK_INT_V(t) == strtoll(text[i], NULL, 10));
			}
		}
		json_t *v = op_value(op);
		if (!json_equal(v, plain.ops[i].value))
			fail_msg("op %zu: op_value differs", i);
		json_decref(v);
		/* one shared "get" */
		assert_true(history_f_shared(op->f) >= 0);
		assert_int_equal(history_f_shared(op->f), history_f_shared(ob->ops[0].f));
	}
	assert_int_equal(history_f_shared(ob->ops[nt + nr].f), -1);
	assert_string_equal(ob->ops[nt + nr].f, "frob");
	assert_int_equal(history_f_shared("get"), -1); /* a name, not the reader's copy */
	history_reader_release(rd, ob);
	history_reader_close(rd);
	history_free(&plain);
	unlink(path);
	free(path);
	buf_free(&b);

	/* a file read in parallel chunks: batches of tokens only, of trees
	 * only and mixed are all freed (the sanitizer pass checks), ops with
	 * no index get their position, values equal a plain load's */
	buf_init(&b);
	size_t n = 0;
	while (b.len < (10u << 20)) {
		static const char *const vals[] = {"null", "\"v1\"", "7", "[1,2]", "1.5"};
		/* the first MB tokens and nulls only, then mixed; every 7th op
		 * without an index of its own */
		const char *v = vals[b.len < (1u << 20) ? n % 3 : n % 5];
		if (n % 7 == 3)
			buf_printf(&b, "{\"f\":\"put\",\"value\":%s,\"type\":\"invoke\",\"process\":%zu}\n",
				   v, n % 5);
		else
			buf_printf(&b, "{\"index\":%zu,\"time\":1,\"type\":\"invoke\",\"process\":%zu,"
				       "\"f\":\"put\",\"key\":\"k\",\"value\":%s}\n", n, n % 5, v);
		n++;
	}
	path = write_tmp(b.data, ".jsonl");
	assert_int_equal(history_load(path, HISTORY_JSONL, &plain, &err), 0);
	assert_int_equal(plain.n, n);
	rd = history_reader_start_flags(path, HISTORY_JSONL, 2, HISTORY_SCALAR_TEXT);
	size_t seen = 0;
	while ((rc = history_reader_next(rd, 0, &ob, &err)) == HISTORY_BATCH) {
		for (size_t i = 0; i < ob->n; i++, seen++) {
			const struct op *op = &ob->ops[i];
			assert_int_equal(op->index, (int64_t)seen);
			json_t *v = op_value(op);
			if (!json_equal(v, plain.ops[seen].value))
				fail_msg("op %zu: op_value differs", seen);
			json_decref(v);
		}
		history_reader_release(rd, ob);
	}
	assert_int_equal(rc, HISTORY_END);
	assert_int_equal(seen, n);
	history_reader_close(rd);
	history_free(&plain);
	unlink(path);
	free(path);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_design_example),
		cmocka_unit_test(test_fast_and_fallback_agree),
		cmocka_unit_test(test_torn_last_line_ignored),
		cmocka_unit_test(test_bad_line_is_error),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_auto_format),
		cmocka_unit_test(test_stream_stops_on_request),
		cmocka_unit_test(test_pipe_not_rewound),
		cmocka_unit_test(test_complete_last_line_is_error),
		cmocka_unit_test(test_errors_printable),
		cmocka_unit_test(test_value_semantics),
		cmocka_unit_test(test_parallel_chunks),
		cmocka_unit_test(test_mapped_file_edges),
		cmocka_unit_test(test_edn_lines_fallback),
		cmocka_unit_test(test_value_text),
		cmocka_unit_test(test_scalar_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
