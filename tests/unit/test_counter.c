/*
 * test_counter.c - the counter checker on hand-made histories: reads
 * within bounds, a read below the acknowledged sum and one above the
 * attempted sum, adds concurrent with a read (either outcome legal), info
 * and pending adds that may or may not count, failed adds that never do,
 * negative amounts, an initial value, and refused input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "histbuild.h"

static json_t *check(struct history *h) { return hb_check("counter", h, NULL); }

static void add(struct history *h, int p, const char *v, enum op_type t)
{
	INV(h, p, "add", v);
	hb_push(h, p, t, "add", v);
}

static void read_ok(struct history *h, int p, const char *v)
{
	INV(h, p, "read", NULL);
	OK(h, p, "read", v);
}

static void test_within_bounds(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	read_ok(&h, 0, "0");
	add(&h, 1, "3", OP_OK);
	read_ok(&h, 0, "3");
	add(&h, 1, "2", OP_INFO);   /* may or may not have happened */
	read_ok(&h, 0, "3");
	read_ok(&h, 0, "5");
	add(&h, 2, "4", OP_FAIL);   /* never happened */
	read_ok(&h, 0, "5");
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_VALID);
	assert_int_equal(hb_int(r, "read_count"), 5);
	assert_int_equal(hb_int(r, "add_ok_count"), 1);
	assert_int_equal(hb_int(r, "add_unknown_count"), 1);
	assert_int_equal(hb_int(r, "add_fail_count"), 1);
	assert_int_equal(hb_int(r, "final_bounds.0"), 3);
	assert_int_equal(hb_int(r, "final_bounds.1"), 5);
	json_t *pts = json_object_get(json_object_get(r, "reads"), "points");
	assert_int_equal(json_array_size(pts), 5);
	assert_int_equal(hb_int(pts, "2.2"), 3); /* lower */
	assert_int_equal(hb_int(pts, "2.3"), 5); /* upper */
	json_decref(r);
}

static void test_below_lower(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	add(&h, 1, "3", OP_OK);
	add(&h, 1, "1", OP_OK);
	read_ok(&h, 0, "3"); /* index 4: lost an acknowledged add */
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_INVALID);
	json_t *f = hb_failure(r, "counter-out-of-bounds");
	assert_non_null(f);
	assert_int_equal(hb_int(f, "value"), 3);
	assert_int_equal(hb_int(f, "lower"), 4);
	assert_int_equal(hb_int(f, "upper"), 4);
	assert_int_equal(hb_int(f, "op.index"), 4);
	assert_int_equal(hb_int(f, "op.value"), 3);
	assert_non_null(strstr(json_string_value(json_object_get(f, "message")), "lower"));
	json_decref(r);
}

static void test_above_upper(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	add(&h, 1, "3", OP_FAIL);
	read_ok(&h, 0, "3"); /* a failed add took effect */
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_INVALID);
	json_t *f = hb_failure(r, "counter-out-of-bounds");
	assert_int_equal(hb_int(f, "upper"), 0);
	json_decref(r);
}

/* An add concurrent with the read: 0 and 2 are both legal (and 1, which
 * the bounds cannot tell from them); an add acknowledged while the read
 * ran does not raise the lower bound. */
static void test_concurrent(void **state)
{
	(void)state;
	for (int v = 0; v <= 3; v++) {
		struct history h;
		history_init(&h);
		INV(&h, 0, "read", NULL);
		INV(&h, 1, "add", "2");
		OK(&h, 1, "add", "2");
		char s[8];
		snprintf(s, sizeof s, "%d", v);
		OK(&h, 0, "read", s);
		json_t *r = check(&h);
		assert_int_equal(hb_verdict(r), v <= 2 ? VERDICT_VALID : VERDICT_INVALID);
		json_decref(r);
	}
	/* An add invoked after the read completed cannot count. */
	struct history h;
	history_init(&h);
	read_ok(&h, 0, "2");
	add(&h, 1, "2", OP_OK);
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_INVALID);
	json_decref(r);
}

/* Pending adds (never completed) may count, at the end as anywhere. */
static void test_pending(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	INV(&h, 3, "add", "5");
	read_ok(&h, 0, "5");
	read_ok(&h, 0, "0"); /* not monotonic, but each read is within its bounds */
	NEM(&h, OP_INVOKE, "start-pause", "\"one\"");
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_VALID);
	assert_int_equal(hb_int(r, "final_bounds.1"), 5);
	json_decref(r);
}

static void test_negative_and_initial(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	INV(&h, 0, "read", NULL);
	add(&h, 1, "-4", OP_INFO);
	OK(&h, 0, "read", "6"); /* 10 - 4: the subtraction may have happened */
	add(&h, 1, "-1", OP_OK);
	read_ok(&h, 0, "9");    /* 10 - 1, the info one did not happen */
	read_ok(&h, 0, "10");   /* the acknowledged -1 is missing */
	json_t *opts = json_loads("{\"counter\": {\"initial\": 10}}", 0, NULL);
	struct check_ctx ctx = {.opts = opts};
	json_t *r = hb_check("counter", &h, &ctx);
	json_decref(opts);
	assert_int_equal(hb_verdict(r), VERDICT_INVALID);
	assert_int_equal(hb_int(r, "error_count"), 1);
	json_t *f = hb_failure(r, "counter-out-of-bounds");
	assert_int_equal(hb_int(f, "value"), 10);
	assert_int_equal(hb_int(f, "upper"), 9);
	assert_int_equal(hb_int(f, "lower"), 5);
	json_decref(r);
}

static void test_unknown_and_refusals(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	add(&h, 1, "1", OP_OK);
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_UNKNOWN);
	json_decref(r);

	history_init(&h);
	INV(&h, 1, "add", "\"x\"");
	r = check(&h);
	assert_non_null(json_object_get(r, "error"));
	json_decref(r);

	history_init(&h);
	INV(&h, 1, "cas", "[1, 2]");
	r = check(&h);
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "cas"));
	json_decref(r);

	history_init(&h);
	read_ok(&h, 0, "null");
	r = check(&h);
	assert_non_null(json_object_get(r, "error"));
	json_decref(r);

	char err[200];
	json_t *o = json_loads("{\"initial\": 1.5}", 0, NULL);
	assert_int_equal(checker_find("counter")->check_opts(o, err, sizeof err), -1);
	assert_non_null(strstr(err, "checker_opts.counter.initial"));
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_within_bounds),
		cmocka_unit_test(test_below_lower),
		cmocka_unit_test(test_above_upper),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_negative_and_initial),
		cmocka_unit_test(test_unknown_and_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
