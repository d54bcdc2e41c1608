/*
 * test_edn.c - the hand-written EDN reader: every piece of syntax Jepsen
 * histories use (maps, vectors, lists, sets, keywords, strings with
 * escapes, integers and big integers, nil/true/false, comments, #_ and
 * tagged literals), errors that point at line:column, and the EDN history
 * reader on top of it (op maps one after another or in a vector/list,
 * :nemesis, [k v] independent tuples).
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

#include "edn.h"
#include "history.h"

static json_t *parse_ok(const char *s)
{
	json_t *v = NULL;
	char err[512];
	if (edn_parse(s, strlen(s), "t.edn", &v, err, sizeof err) != 0)
		fail_msg("parse of %s failed: %s", s, err);
	return v;
}

static void assert_edn_json(const char *edn, const char *want_json)
{
	json_t *v = parse_ok(edn);
	json_t *w = json_loads(want_json, JSON_DECODE_ANY, NULL);
	assert_non_null(w);
	if (!json_equal(v, w)) {
		char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		fail_msg("%s -> %s, want %s", edn, s, want_json);
	}
	json_decref(v);
	json_decref(w);
}

static void assert_edn_error(const char *edn, const char *want_prefix, const char *want_sub)
{
	json_t *v = NULL;
	char err[512];
	if (edn_parse(edn, strlen(edn), "t.edn", &v, err, sizeof err) == 0)
		fail_msg("%s parsed but should not", edn);
	if (strncmp(err, want_prefix, strlen(want_prefix)) != 0 || !strstr(err, want_sub))
		fail_msg("error for %s is '%s', want prefix '%s' and '%s'", edn, err, want_prefix,
			 want_sub);
}

static void test_scalars(void **state)
{
	(void)state;
	assert_edn_json("42", "42");
	assert_edn_json("-7", "-7");
	assert_edn_json("+3", "3");
	assert_edn_json("12N", "12");
	assert_edn_json("9223372036854775807", "9223372036854775807");
	assert_edn_json("123456789012345678901234567890", "\"123456789012345678901234567890\"");
	assert_edn_json("1.5", "1.5");
	assert_edn_json("nil", "null");
	assert_edn_json("true", "true");
	assert_edn_json("false", "false");
	assert_edn_json(":invoke", "\"invoke\"");
	assert_edn_json(":jepsen.op/type", "\"jepsen.op/type\"");
	assert_edn_json("some-symbol", "\"some-symbol\"");
	assert_edn_json("\\a", "\"a\"");
	assert_edn_json("\\newline", "\"\\n\"");
}

static void test_strings(void **state)
{
	(void)state;
	assert_edn_json("\"plain\"", "\"plain\"");
	assert_edn_json("\"q\\\"uote\\\\ \\n\\t\"", "\"q\\\"uote\\\\ \\n\\t\"");
	assert_edn_json("\"\\u00e9\"", "\"\\u00e9\"");
	assert_edn_json("\"multi\nline\"", "\"multi\\nline\"");
}

static void test_collections(void **state)
{
	(void)state;
	assert_edn_json("[1 2, 3]", "[1,2,3]");
	assert_edn_json("(1 (2))", "[1,[2]]");
	assert_edn_json("#{1 2}", "[1,2]");
	assert_edn_json("{:a 1, :b [nil]}", "{\"a\":1,\"b\":[null]}");
	assert_edn_json("{1 :x}", "{\"1\":\"x\"}");
	assert_edn_json("[]", "[]");
	assert_edn_json("{}", "{}");
	assert_edn_json("[1 ; comment ]\n 2]", "[1,2]");
	assert_edn_json("[1 #_ 2 3]", "[1,3]");
	assert_edn_json("#inst \"2020-01-01\"", "\"2020-01-01\"");
	assert_edn_json("#jepsen.history.Op{:index 0 :type :ok}", "{\"index\":0,\"type\":\"ok\"}");
	assert_edn_json("[:read :x nil]", "[\"read\",\"x\",null]");
}

static void test_errors_have_line_col(void **state)
{
	(void)state;
	assert_edn_error("[1 2", "t.edn:1:5:", "unterminated");
	assert_edn_error("\n\n  \"abc", "t.edn:3:", "unterminated string");
	assert_edn_error("[1 2)", "t.edn:1:5:", "unexpected ')'");
	assert_edn_error("{:a}", "t.edn:1:", "odd number");
	assert_edn_error("\"bad \\q escape\"", "t.edn:1:", "unknown escape");
	assert_edn_error("1 2", "t.edn:1:", "more than one value");
	assert_edn_error("", "t.edn:1:1:", "no value");
	assert_edn_error("#?", "t.edn:1:2:", "unsupported dispatch");
	assert_edn_error("12abc", "t.edn:1:", "malformed number");

	assert_edn_error("\n   )", "t.edn:2:4:", "unexpected ')'");
}

static void test_deep_nesting_rejected(void **state)
{
	(void)state;
	char s[2100];
	memset(s, '[', 2000);
	s[2000] = 0;
	json_t *v = NULL;
	char err[512];
	assert_int_equal(edn_parse(s, strlen(s), "deep", &v, err, sizeof err), -1);
	assert_non_null(strstr(err, "nesting"));
}

/* --------------------------------------------------- EDN histories */

struct collected {
	struct op ops[64];
	size_t n;
};

static int collect(struct op *op, void *ctx)
{
	struct collected *c = ctx;
	assert_true(c->n < 64);
	c->ops[c->n++] = *op;
	return 0;
}

static int stream_text(const char *text, struct collected *c, struct history_error *err)
{
	char path[] = "/tmp/test_edn_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	memset(c, 0, sizeof *c);
	int rc = history_stream(path, HISTORY_EDN, collect, c, err);
	unlink(path);
	return rc;
}

static void collected_free(struct collected *c)
{
	for (size_t i = 0; i < c->n; i++)
		op_free(&c->ops[i]);
}

static void test_history_forms(void **state)
{
	(void)state;
	const char *forms[] = {
		/* Jepsen history.edn: maps one after another */
		"{:type :invoke, :f :write, :value 3, :process 0, :time 5}\n"
		"{:type :ok, :f :write, :value 3, :process 0, :time 9}\n",
		/* a vector */
		"[{:type :invoke, :f :write, :value 3, :process 0, :time 5}\n"
		" {:type :ok, :f :write, :value 3, :process 0, :time 9}]",
		/* a list with comments */
		"; header\n({:type :invoke, :f :write, :value 3, :process 0, :time 5}\n"
		" ; between\n {:type :ok, :f :write, :value 3, :process 0, :time 9})\n",
	};
	for (size_t i = 0; i < 3; i++) {
		struct collected c;
		struct history_error err;
		assert_int_equal(stream_text(forms[i], &c, &err), 0);
		assert_int_equal(c.n, 2);
		assert_int_equal(c.ops[0].type, OP_INVOKE);
		assert_int_equal(c.ops[1].type, OP_OK);
		assert_string_equal(c.ops[0].f, "write");
		assert_int_equal(json_integer_value(c.ops[1].value), 3);
		assert_int_equal(c.ops[1].time, 9);
		assert_int_equal(c.ops[0].index, 0); /* no :index: position */
		assert_int_equal(c.ops[1].index, 1);
		assert_null(c.ops[0].key);
		collected_free(&c);
	}
}

static void test_history_fields(void **state)
{
	(void)state;
	struct collected c;
	struct history_error err;
	/* An independent history: every client value is [key value]. */
	assert_int_equal(stream_text(
		"[{:process :nemesis, :type :info, :f :start, :value {\"n1\" [\"n2\"]}}\n"
		" {:process 1, :type :invoke, :f :cas, :value [3 [1 2]], :index 7}\n"
		" {:process 1, :type :fail, :f :cas, :value [3 [1 2]], :error :not-found}\n"
		" {:process 3, :type :invoke, :f :read, :value [\"k\" nil], :extra-field 5}\n"
		" {:process 4, :type :invoke, :f :txn, :value [9 [[:read :x nil] [:write :y 2]]]}]",
		&c, &err), 0);
	assert_int_equal(c.n, 5);
	assert_int_equal(c.ops[0].process, PROCESS_NEMESIS);
	assert_null(c.ops[0].key);
	assert_int_equal(c.ops[1].index, 7);
	assert_string_equal(c.ops[1].key, "3");                   /* independent tuple */
	assert_int_equal(c.ops[1].key_type, OP_KEY_INT);
	assert_int_equal(json_array_size(c.ops[1].value), 2);     /* [1 2] */
	assert_string_equal(c.ops[2].error, "not-found");
	assert_string_equal(c.ops[3].key, "k");
	assert_int_equal(c.ops[3].key_type, OP_KEY_STRING);
	assert_true(json_is_null(c.ops[3].value));
	assert_int_equal(json_integer_value(json_object_get(c.ops[3].extra, "extra-field")), 5);
	assert_string_equal(c.ops[4].key, "9");                   /* txn of key 9 */
	assert_int_equal(json_array_size(c.ops[4].value), 2);
	collected_free(&c);
	/* A plain cas-register history: [1 2] is cas [old new], not a tuple. */
	assert_int_equal(stream_text(
		"[{:process 2, :type :invoke, :f :cas, :value [1 2]}\n"
		" {:process 2, :type :ok, :f :cas, :value [1 2]}\n"
		" {:process 4, :type :invoke, :f :txn, :value [[:read :x nil] [:write :y 2]]}]",
		&c, &err), 0);
	assert_null(c.ops[0].key);
	assert_int_equal(json_array_size(c.ops[0].value), 2);
	assert_null(c.ops[2].key);                                /* txn is not a tuple */
	assert_int_equal(json_array_size(c.ops[2].value), 2);
	collected_free(&c);
}

static void test_history_errors(void **state)
{
	(void)state;
	struct collected c;
	struct history_error err;
	assert_int_equal(stream_text("[{:process 0, :type :invoke, :f :read}\n {:process 0 :type :bogus :f :read}]",
				     &c, &err), -1);
	assert_non_null(strstr(err.msg, ":2:2:"));
	assert_non_null(strstr(err.msg, "type"));
	collected_free(&c);
	assert_int_equal(stream_text("[{:process 0, :type :invoke, :f :read}\n {:process 0 :type :ok", &c, &err), -1);
	assert_non_null(strstr(err.msg, ":2:"));
	collected_free(&c);
	assert_int_equal(stream_text("{:process \"x\" :type :ok :f :read}", &c, &err), -1);
	assert_non_null(strstr(err.msg, "process"));
	collected_free(&c);
	assert_int_equal(stream_text("[1 2]", &c, &err), -1);
	assert_non_null(strstr(err.msg, "map"));
	collected_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_collections),
		cmocka_unit_test(test_errors_have_line_col),
		cmocka_unit_test(test_deep_nesting_rejected),
		cmocka_unit_test(test_history_forms),
		cmocka_unit_test(test_history_fields),
		cmocka_unit_test(test_history_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
