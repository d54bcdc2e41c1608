/*
 * test_bank.c - the bank checker on hand-made histories: conserved totals
 * (valid, with the totals series), a read that creates or destroys money,
 * negative balances (invalid unless negative_ok), missing and unexpected
 * accounts, non-integer balances, opening balances from test.json or from
 * checker_opts, failed / info / pending reads that tell nothing, and the
 * refusals (no opening balances, unknown op, malformed read).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "histbuild.h"

#define TEST_JSON "{\"workload\": \"bank\", \"workload_opts\": {\"initial\": " \
	"{\"a1\": 10, \"a2\": 10, \"a3\": 10}, \"negative_ok\": %s}}"

static json_t *check_neg(struct history *h, bool negative_ok)
{
	char buf[256];
	snprintf(buf, sizeof buf, TEST_JSON, negative_ok ? "true" : "false");
	json_t *test = json_loads(buf, 0, NULL);
	assert_non_null(test);
	struct check_ctx ctx = {.test = test};
	json_t *r = hb_check("bank", h, &ctx);
	json_decref(test);
	return r;
}

static json_t *check(struct history *h) { return check_neg(h, false); }

static void transfer(struct history *h, int p, const char *v, enum op_type t)
{
	INV(h, p, "transfer", v);
	hb_push(h, p, t, "transfer", v);
}

static void read_ok(struct history *h, int p, const char *v)
{
	INV(h, p, "read", NULL);
	OK(h, p, "read", v);
}

static void test_conserved_valid(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	read_ok(&h, 0, "{\"a1\": 10, \"a2\": 10, \"a3\": 10}");
	transfer(&h, 1, "{\"from\": \"a1\", \"to\": \"a2\", \"amount\": 4}", OP_OK);
	transfer(&h, 1, "{\"from\": \"a3\", \"to\": \"a2\", \"amount\": 40}", OP_FAIL);
	transfer(&h, 2, "{\"from\": \"a3\", \"to\": \"a1\", \"amount\": 1}", OP_INFO);
	read_ok(&h, 0, "{\"a1\": 6, \"a2\": 14, \"a3\": 10}");
	read_ok(&h, 3, "{\"a1\": 7, \"a2\": 14, \"a3\": 9}");
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_VALID);
	assert_int_equal(hb_int(r, "read_count"), 3);
	assert_int_equal(hb_int(r, "expected_total"), 30);
	assert_int_equal(hb_int(r, "transfer_ok_count"), 1);
	assert_int_equal(hb_int(r, "transfer_unknown_count"), 1);
	json_t *pts = json_object_get(json_object_get(r, "totals"), "points");
	assert_int_equal(json_array_size(pts), 3);
	assert_int_equal(hb_int(pts, "2.1"), 30);  /* total */
	assert_int_equal(hb_int(pts, "2.2"), 10);  /* the read's invoke index */
	assert_int_equal(hb_int(pts, "2.0"), 11 * HB_STEP_NS); /* completion time */
	assert_null(json_object_get(r, "failures"));
	json_decref(r);
}

static void test_wrong_total(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	read_ok(&h, 0, "{\"a1\": 10, \"a2\": 10, \"a3\": 10}");
	read_ok(&h, 1, "{\"a1\": 6, \"a2\": 10, \"a3\": 10}"); /* 4 destroyed */
	read_ok(&h, 2, "{\"a1\": 10, \"a2\": 12, \"a3\": 10}"); /* 2 created */
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_INVALID);
	assert_int_equal(hb_count(r, "wrong-total"), 2);
	json_t *f = hb_failure(r, "wrong-total");
	assert_int_equal(hb_int(f, "total"), 26);
	assert_int_equal(hb_int(f, "expected_total"), 30);
	assert_int_equal(hb_int(f, "op.index"), 2);
	assert_int_equal(hb_int(f, "op.complete_index"), 3);
	assert_int_equal(hb_int(f, "op.value.a1"), 6);
	assert_non_null(strstr(json_string_value(json_object_get(f, "message")), "destroyed"));
	assert_int_equal(hb_int(r, "error_kinds.wrong-total"), 2);
	json_decref(r);
}

static void test_negative(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	read_ok(&h, 0, "{\"a1\": -5, \"a2\": 25, \"a3\": 10}");
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_INVALID);
	json_t *f = hb_failure(r, "negative-balance");
	assert_non_null(f);
	assert_int_equal(hb_int(f, "accounts.a1"), -5);
	assert_null(hb_failure(r, "wrong-total"));
	json_decref(r);

	history_init(&h);
	read_ok(&h, 0, "{\"a1\": -5, \"a2\": 25, \"a3\": 10}");
	r = check_neg(&h, true);
	assert_int_equal(hb_verdict(r), VERDICT_VALID);
	json_decref(r);
}

static void test_missing_unexpected_bad(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	read_ok(&h, 0, "{\"a1\": 20, \"a2\": 10}");
	read_ok(&h, 0, "{\"a1\": 10, \"a2\": 10, \"a3\": 10, \"a9\": 0}");
	read_ok(&h, 0, "{\"a1\": 10, \"a2\": null, \"a3\": 10}");
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_INVALID);
	json_t *f = hb_failure(r, "missing-account");
	assert_non_null(f);
	assert_string_equal(json_string_value(json_array_get(json_object_get(f, "accounts"), 0)), "a3");
	f = hb_failure(r, "unexpected-account");
	assert_non_null(f);
	assert_int_equal(hb_int(f, "op.index"), 2);
	f = hb_failure(r, "bad-balance");
	assert_non_null(f);
	assert_int_equal(hb_int(f, "op.index"), 4);
	/* a partial read is not also a wrong total */
	assert_null(hb_failure(r, "wrong-total"));
	json_decref(r);
}

/* Reads that failed, ended info or never completed tell nothing. */
static void test_unfinished_reads(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	INV(&h, 0, "read", NULL);
	FAIL(&h, 0, "read", NULL);
	INV(&h, 1, "read", NULL);
	INFO(&h, 1, "read", NULL);
	NEM(&h, OP_INVOKE, "start-kill", "\"one\"");
	INV(&h, 2, "read", NULL);
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_UNKNOWN);
	assert_int_equal(hb_int(r, "read_count"), 0);
	json_decref(r);
}

static void test_initial_from_checker_opts(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	read_ok(&h, 0, "{\"x\": 50, \"y\": 50}");
	json_t *opts = json_loads("{\"bank\": {\"initial\": {\"x\": 100, \"y\": 0}}}", 0, NULL);
	struct check_ctx ctx = {.opts = opts};
	json_t *r = hb_check("bank", &h, &ctx);
	assert_int_equal(hb_verdict(r), VERDICT_VALID);
	assert_int_equal(hb_int(r, "expected_total"), 100);
	json_decref(r);
	json_decref(opts);
}

static void test_refusals(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	read_ok(&h, 0, "{\"a1\": 10}");
	json_t *r = hb_check("bank", &h, NULL); /* no test.json, no opts */
	assert_int_equal(hb_verdict(r), VERDICT_UNKNOWN);
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "initial"));
	json_decref(r);

	history_init(&h);
	INV(&h, 0, "withdraw", "1");
	r = check(&h);
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "withdraw"));
	json_decref(r);

	history_init(&h);
	read_ok(&h, 0, "[1, 2]");
	r = check(&h);
	assert_non_null(json_object_get(r, "error"));
	json_decref(r);

	const struct checker *c = checker_find("bank");
	char err[200];
	json_t *o = json_loads("{\"initial\": {\"a\": \"x\"}}", 0, NULL);
	assert_int_equal(c->check_opts(o, err, sizeof err), -1);
	assert_non_null(strstr(err, "checker_opts.bank.initial.a"));
	json_decref(o);
}

/* Many reads: the series is thinned but keeps every bad read. */
static void test_many_reads_sampled(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	for (int i = 0; i < 5000; i++)
		read_ok(&h, i % 5, i == 3333 ? "{\"a1\": 11, \"a2\": 10, \"a3\": 10}"
					     : "{\"a1\": 10, \"a2\": 10, \"a3\": 10}");
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_INVALID);
	json_t *tot = json_object_get(r, "totals");
	json_t *pts = json_object_get(tot, "points");
	assert_true(json_array_size(pts) <= 2002);
	assert_true(json_is_true(json_object_get(tot, "sampled")));
	size_t i;
	json_t *p;
	bool found = false;
	json_array_foreach(pts, i, p) found |= json_integer_value(json_array_get(p, 1)) == 31;
	assert_true(found);
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conserved_valid),
		cmocka_unit_test(test_wrong_total),
		cmocka_unit_test(test_negative),
		cmocka_unit_test(test_missing_unexpected_bad),
		cmocka_unit_test(test_unfinished_reads),
		cmocka_unit_test(test_initial_from_checker_opts),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_many_reads_sampled),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
