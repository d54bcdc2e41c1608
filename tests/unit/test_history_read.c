/*
 * test_history_read.c - the JSONL history reader: the design's op lines
 * (through the fast scanner and through the jansson fallback, which must
 * agree), a torn last line from a killed run (ignored), a bad line in the
 * middle (error with line:column), history_load, and format detection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "history.h"

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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
