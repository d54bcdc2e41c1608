/*
 * test_history_write.c - unit tests for the history writer: every line is
 * byte-for-byte what json_dumps(op_to_json(op), JSON_COMPACT) gives (the
 * design's field order), hostile strings stay valid JSON, and concurrent
 * appends from many threads give exactly one whole line per op with
 * indexes 0..n-1 in file order, readable by history_load.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "history.h"
#include "util.h"

static char *tmpdir_path(const char *file)
{
	static char dir[64];
	if (!dir[0]) {
		strcpy(dir, "/tmp/fl-test-hw-XXXXXX");
		assert_non_null(mkdtemp(dir));
	}
	char *p = xasprintf("%s/%s", dir, file);
	unlink(p);
	return p;
}

/* Lines of a file (malloc'd array of malloc'd strings, without '\n'). */
static char **read_lines(const char *path, size_t *n)
{
	size_t len;
	char *s = file_read_all(path, &len);
	assert_non_null(s);
	char **lines = NULL;
	*n = 0;
	char *save = NULL;
	assert_true(len == 0 || s[len - 1] == '\n');
	for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		lines = xrealloc(lines, (*n + 1) * sizeof *lines);
		lines[(*n)++] = xstrdup(l);
	}
	free(s);
	return lines;
}

static void free_lines(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

static void check_same_as_jansson(struct history_writer *w, struct op *op, const char *path,
				  size_t line_no)
{
	history_writer_append(w, op);
	history_writer_sync(w);
	json_t *j = op_to_json(op);
	char *want = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	size_t n;
	char **lines = read_lines(path, &n);
	assert_true(n > line_no);
	assert_string_equal(lines[line_no], want);
	free(want);
	free_lines(lines, n);
}

static void test_line_format(void **state)
{
	(void)state;
	char *path = tmpdir_path("format.jsonl");
	struct history_writer *w = history_writer_open(path);
	assert_non_null(w);
	struct op op = {0};
	size_t line = 0;

	op.time = 10423, op.type = OP_INVOKE, op.process = 3;
	op.f = xstrdup("cas"), op.key = xstrdup("7"), op.value = json_pack("[ii]", 1, 2);
	check_same_as_jansson(w, &op, path, line++);
	op_free(&op);

	op.time = 523991, op.type = OP_OK, op.process = 3, op.f = xstrdup("read");
	op.key = xstrdup("7"), op.value = json_integer(-42), op.node = xstrdup("n2");
	check_same_as_jansson(w, &op, path, line++);
	op_free(&op);

	op.time = 600000, op.type = OP_INFO, op.process = PROCESS_NEMESIS;
	op.f = xstrdup("start-partition");
	op.value = json_pack("{s:[ss], s:[s], s:{s:f, s:b}}", "n1", "n2", "n3", "n2", "n1", "x",
			     "r", 0.25, "b", 1);
	check_same_as_jansson(w, &op, path, line++);
	op_free(&op);

	/* Hostile strings: quotes, backslashes, control bytes, UTF-8. */
	op.time = 812000, op.type = OP_INFO, op.process = 4, op.f = xstrdup("read\"\\x");
	op.key = xstrdup("k\n\t\x01\x1f\x7f é ☃"), op.value = json_null();
	op.error = xstrdup("timeout: \"quoted\" \\ \r\b\f");
	op.extra = json_pack("{s:s, s:i, s:s}", "error", "shadowed", "latency", 5, "x\"y", "z");
	check_same_as_jansson(w, &op, path, line++);
	op_free(&op);

	/* A value that is null (absent) and a nil read. */
	op.type = OP_INVOKE, op.process = 0, op.f = xstrdup("read"), op.value = NULL;
	check_same_as_jansson(w, &op, path, line++);
	op_free(&op);

	history_writer_close(w);
	free(path);
}

static void test_invalid_utf8_stays_json(void **state)
{
	(void)state;
	char *path = tmpdir_path("utf8.jsonl");
	struct history_writer *w = history_writer_open(path);
	struct op op = {0};
	op.type = OP_FAIL, op.process = 1, op.f = xstrdup("write");
	op.value = json_integer(1);
	op.error = xstrdup("bad \xff\xfe bytes \xc3");
	history_writer_append(w, &op);
	op_free(&op);
	history_writer_close(w);
	size_t n;
	char **lines = read_lines(path, &n);
	assert_int_equal(n, 1);
	json_error_t je;
	json_t *j = json_loads(lines[0], 0, &je);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "error")),
			    "bad \xef\xbf\xbd\xef\xbf\xbd bytes \xef\xbf\xbd");
	json_decref(j);
	free_lines(lines, n);
	free(path);
}

#define THREADS 8
#define PER_THREAD 5000

struct append_job {
	struct history_writer *w;
	int id;
};

static void *append_thread(void *arg)
{
	struct append_job *j = arg;
	for (int i = 0; i < PER_THREAD; i++) {
		struct op op = {0};
		op.type = i % 2 ? OP_OK : OP_INVOKE;
		op.process = j->id;
		op.time = now_ns();
		op.f = xstrdup("write");
		op.key = xasprintf("%d", i / 2);
		op.value = json_integer(i);
		int64_t idx = history_writer_append(j->w, &op);
		if (idx < 0 || op.index != idx)
			abort();
		op_free(&op);
	}
	return NULL;
}

static void test_concurrent_appends(void **state)
{
	(void)state;
	char *path = tmpdir_path("concurrent.jsonl");
	struct history_writer *w = history_writer_open(path);
	assert_non_null(w);
	pthread_t th[THREADS];
	struct append_job jobs[THREADS];
	for (int i = 0; i < THREADS; i++) {
		jobs[i].w = w, jobs[i].id = i;
		assert_int_equal(pthread_create(&th[i], NULL, append_thread, &jobs[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(history_writer_count(w), THREADS * PER_THREAD);
	history_writer_close(w);

	size_t n;
	char **lines = read_lines(path, &n);
	assert_int_equal(n, THREADS * PER_THREAD);
	int next_value[THREADS] = {0};
	for (size_t i = 0; i < n; i++) {
		json_t *j = json_loads(lines[i], 0, NULL);
		assert_non_null(j);
		assert_int_equal(json_integer_value(json_object_get(j, "index")), (json_int_t)i);
		/* Each thread's own ops appear in the order it appended them. */
		int p = (int)json_integer_value(json_object_get(j, "process"));
		assert_int_equal(json_integer_value(json_object_get(j, "value")), next_value[p]++);
		json_decref(j);
	}
	free_lines(lines, n);

	/* The readers' view: the same ops, indexes 0..n-1. */
	struct history h;
	struct history_error he;
	history_init(&h);
	assert_int_equal(history_load(path, HISTORY_JSONL, &h, &he), 0);
	assert_int_equal(h.n, THREADS * PER_THREAD);
	for (size_t i = 0; i < h.n; i++)
		assert_int_equal(h.ops[i].index, (int64_t)i);
	history_free(&h);
	free(path);
}

static void test_never_clobbers(void **state)
{
	(void)state;
	char *path = tmpdir_path("exists.jsonl");
	struct history_writer *w = history_writer_open(path);
	assert_non_null(w);
	history_writer_close(w);
	assert_null(history_writer_open(path));
	free(path);
}

/* An invocation is in the file (the kernel) as soon as append returns,
 * before any sync or close: what a kill -9 relies on. */
static void test_invoke_written_at_once(void **state)
{
	(void)state;
	char *path = tmpdir_path("durable.jsonl");
	struct history_writer *w = history_writer_open(path);
	struct op op = {0};
	op.type = OP_INVOKE, op.process = 0, op.f = xstrdup("write"), op.value = json_integer(3);
	history_writer_append(w, &op);
	op_free(&op);
	size_t n;
	char **lines = read_lines(path, &n);
	assert_int_equal(n, 1);
	free_lines(lines, n);
	history_writer_close(w);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_format),
		cmocka_unit_test(test_invalid_utf8_stays_json),
		cmocka_unit_test(test_concurrent_appends),
		cmocka_unit_test(test_never_clobbers),
		cmocka_unit_test(test_invoke_written_at_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
