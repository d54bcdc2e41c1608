/*
 * test_check.c - check_history (checkers/check.c), the one judging path:
 * pairing problems in a history (a completion without an invoke, a second
 * invoke of a process whose op is open, a completion whose f differs) are
 * refused with the op's index unless lenient, where they are counted; the
 * results object's shape; no checker means unknown, never valid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "pair.h"
#include "results.h"
#include "util.h"

static char *write_history(const char *text)
{
	char *path = xstrdup("/tmp/fl-test-check-XXXXXX.jsonl");
	int fd = mkstemps(path, 6);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static json_t *judge(const char *text, bool lenient, char *err, size_t errlen)
{
	char *path = write_history(text);
	const char *const lin[] = {"linearizable"};
	struct check_ctx ctx = {.model = "register", .threads = 1, .lenient = lenient};
	json_t *r = check_history(path, HISTORY_JSONL, lin, 1, &ctx, err, errlen);
	unlink(path);
	free(path);
	return r;
}

#define L(...) "{\"type\":" __VA_ARGS__ "}\n"

/* Before: read as valid although process 1's read of 5 has no invoke and
 * nobody wrote 5. */
static const char orphan[] =
	L("\"invoke\",\"process\":0,\"f\":\"write\",\"value\":1,\"index\":0")
	L("\"ok\",\"process\":0,\"f\":\"write\",\"value\":1,\"index\":1")
	L("\"ok\",\"process\":1,\"f\":\"read\",\"value\":5,\"index\":2");

static const char twice[] =
	L("\"invoke\",\"process\":0,\"f\":\"write\",\"value\":1,\"index\":0")
	L("\"invoke\",\"process\":0,\"f\":\"write\",\"value\":2,\"index\":1")
	L("\"ok\",\"process\":0,\"f\":\"write\",\"value\":2,\"index\":2");

static const char mismatch[] =
	L("\"invoke\",\"process\":0,\"f\":\"write\",\"value\":1,\"index\":0")
	L("\"ok\",\"process\":0,\"f\":\"read\",\"value\":1,\"index\":1");

static void test_pairing_refused(void **state)
{
	(void)state;
	char err[700];
	assert_null(judge(orphan, false, err, sizeof err));
	assert_non_null(strstr(err, "op index 2: ok completion of process 1 without an invoke"));
	assert_null(judge(twice, false, err, sizeof err));
	assert_non_null(strstr(err, "op index 1: process 0 invokes write while its op of index 0 is still open"));
	assert_null(judge(mismatch, false, err, sizeof err));
	assert_non_null(strstr(err, "op index 1: completion f 'read' differs from its invoke's 'write'"));
}

static void test_pairing_lenient_counts(void **state)
{
	(void)state;
	char err[700] = "";
	json_t *r = judge(orphan, true, err, sizeof err);
	assert_non_null(r);
	json_t *w = json_object_get(r, "history_warnings");
	assert_int_equal(json_integer_value(json_object_get(w, "completions_without_invoke")), 1);
	assert_int_equal(json_integer_value(json_object_get(r, "ops")), 3);
	assert_int_equal(json_integer_value(json_object_get(r, "client_ops")), 1); /* invocations, not lines */
	assert_non_null(json_object_get(json_object_get(r, "checkers"), "linearizable"));
	json_decref(r);
	r = judge(twice, true, err, sizeof err);
	w = json_object_get(r, "history_warnings");
	assert_int_equal(json_integer_value(json_object_get(w, "invokes_while_open")), 1);
	json_decref(r);
	r = judge(mismatch, true, err, sizeof err);
	w = json_object_get(r, "history_warnings");
	assert_int_equal(json_integer_value(json_object_get(w, "f_mismatches")), 1);
	json_decref(r);
}

static void test_results_shape(void **state)
{
	(void)state;
	char err[700];
	const char ok[] = L("\"invoke\",\"process\":0,\"f\":\"write\",\"value\":1")
		L("\"ok\",\"process\":0,\"f\":\"write\",\"value\":1")
		L("\"info\",\"process\":\"nemesis\",\"f\":\"start-partition\",\"value\":null")
		L("\"invoke\",\"process\":1,\"f\":\"read\",\"value\":null")
		L("\"ok\",\"process\":1,\"f\":\"read\",\"value\":1");
	json_t *r = judge(ok, false, err, sizeof err);
	assert_non_null(r);
	assert_int_equal(verdict_of_result(r), VERDICT_VALID);
	assert_null(json_object_get(r, "history_warnings"));
	json_decref(r);
	/* no checker: nothing judged the history, so never valid */
	char *path = write_history(ok);
	r = check_history(path, HISTORY_JSONL, NULL, 0, NULL, err, sizeof err);
	assert_int_equal(verdict_of_result(r), VERDICT_UNKNOWN);
	json_decref(r);
	const char *const nope[] = {"no-such-checker"};
	assert_null(check_history(path, HISTORY_JSONL, nope, 1, NULL, err, sizeof err));
	assert_non_null(strstr(err, "unknown checker 'no-such-checker'"));
	unlink(path);
	free(path);
}

/* The pairing table itself: small process numbers (an array), large and
 * negative ones (the hash) behave the same: one open op per process, a
 * second open returns the first, close of nothing is NULL, foreach sees
 * every open op once, free_data every one left. */
static void count_open(int64_t process, void *data, void *ctx)
{
	int64_t *sum = ctx;
	assert_int_equal(PAIR_UNINDEX(data), process + 7);
	*sum += 1;
}

static int freed;
static void free_count(void *data)
{
	(void)data;
	freed++;
}

static void test_pairing_table(void **state)
{
	(void)state;
	static const int64_t procs[] = {0, 1, 63, 64, 1000, ((int64_t)1 << 20) - 1, (int64_t)1 << 20,
					(int64_t)1 << 40, -1, -2, INT64_MIN + 1};
	size_t np = sizeof procs / sizeof *procs;
	struct pairing *p = pairing_new();
	for (size_t i = 0; i < np; i++) {
		assert_null(pairing_close(p, procs[i]));
		assert_null(pairing_open(p, procs[i], PAIR_INDEX(procs[i] + 6)));
		/* a second invoke: the first comes back, the second stays */
		assert_int_equal(PAIR_UNINDEX(pairing_open(p, procs[i], PAIR_INDEX(procs[i] + 7))),
				 procs[i] + 6);
	}
	assert_int_equal(pairing_open_count(p), np);
	int64_t seen = 0;
	pairing_foreach(p, count_open, &seen);
	assert_int_equal(seen, (int64_t)np);
	for (size_t i = 0; i < np; i += 2) {
		assert_int_equal(PAIR_UNINDEX(pairing_peek(p, procs[i])), procs[i] + 7);
		assert_int_equal(PAIR_UNINDEX(pairing_close(p, procs[i])), procs[i] + 7);
		assert_null(pairing_close(p, procs[i]));
		assert_null(pairing_peek(p, procs[i]));
	}
	assert_int_equal(pairing_open_count(p), np / 2);
	freed = 0;
	pairing_free(p, free_count);
	assert_int_equal(freed, (int)(np / 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pairing_table),
		cmocka_unit_test(test_pairing_refused),
		cmocka_unit_test(test_pairing_lenient_counts),
		cmocka_unit_test(test_results_shape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
