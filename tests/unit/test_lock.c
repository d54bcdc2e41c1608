/*
 * test_lock.c - the lock checker on hand-made histories: orderly
 * acquire/write/release cycles (valid), two holders at once (the mutex
 * model's counterexample, with the overlapping holders' intervals and a
 * write that went backwards), a holder that crashed (its lease may expire:
 * valid after the crash, invalid before it was known), tokens that go
 * backwards between acquires, an older holder's timed-out write landing
 * after a newer holder's, failed and info releases, pending ops at the
 * end, holders stopped by the end of the test, and refused input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "histbuild.h"

static json_t *check(struct history *h) { return hb_check("lock", h, NULL); }

static void cycle(struct history *h, int p, const char *tok, const char *prev)
{
	INV(h, p, "acquire", NULL);
	OK(h, p, "acquire", tok);
	INV(h, p, "write", tok);
	char v[64];
	snprintf(v, sizeof v, "[%s, %s]", tok, prev);
	OK(h, p, "write", v);
	INV(h, p, "release", tok);
	OK(h, p, "release", tok);
}

static void test_orderly_valid(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	cycle(&h, 0, "5", "null");
	INV(&h, 1, "acquire", NULL);  /* waits for the lock */
	cycle(&h, 2, "7", "5");
	OK(&h, 1, "acquire", "9");
	INV(&h, 1, "write", "9");
	OK(&h, 1, "write", "[9, 7]");
	INV(&h, 1, "release", "9");
	OK(&h, 1, "release", "9");
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_VALID);
	assert_int_equal(hb_int(r, "acquire_ok_count"), 3);
	assert_int_equal(hb_int(r, "write_ok_count"), 3);
	assert_int_equal(hb_int(r, "overlap_count"), 0);
	assert_null(json_object_get(r, "failures"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "mutex"), "model")),
			    "mutex");
	json_decref(r);
}

/* P1 acquires while P0 still holds; P0's write then replaces P1's newer
 * token. */
static void test_double_holder(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	INV(&h, 0, "acquire", NULL);  /* 0 */
	OK(&h, 0, "acquire", "5");    /* 1 */
	INV(&h, 0, "write", "5");     /* 2 */
	INV(&h, 1, "acquire", NULL);  /* 3 */
	OK(&h, 1, "acquire", "7");    /* 4: P0 has not released */
	INV(&h, 1, "write", "7");     /* 5 */
	OK(&h, 1, "write", "[7, null]"); /* 6 */
	OK(&h, 0, "write", "[5, 7]"); /* 7: backwards */
	INV(&h, 0, "release", "5");   /* 8 */
	OK(&h, 0, "release", "5");    /* 9 */
	INV(&h, 1, "release", "7");   /* 10 */
	OK(&h, 1, "release", "7");    /* 11 */
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_INVALID);
	json_t *f = hb_failure(r, "nonlinearizable");
	assert_non_null(f);
	assert_non_null(json_object_get(f, "states"));   /* the model's fields kept */
	assert_non_null(json_object_get(f, "concurrent"));
	json_t *hs = json_object_get(f, "holders");
	assert_true(json_array_size(hs) >= 2);
	assert_int_equal(hb_int(r, "overlap_count"), 1);
	json_t *ov = json_array_get(json_object_get(r, "overlaps"), 0);
	assert_int_equal(hb_int(ov, "first.process"), 0);
	assert_int_equal(hb_int(ov, "first.token"), 5);
	assert_int_equal(hb_int(ov, "first.start_index"), 1);
	assert_int_equal(hb_int(ov, "first.end_index"), 8);
	assert_int_equal(hb_int(ov, "second.token"), 7);
	assert_int_equal(hb_int(ov, "second.start_time"), 4 * HB_STEP_NS);
	f = hb_failure(r, "fencing-backwards");
	assert_non_null(f);
	assert_string_equal(json_string_value(json_object_get(f, "check")), "write-over-newer");
	assert_int_equal(hb_int(f, "op.index"), 2);
	assert_int_equal(hb_int(f, "newer_token"), 7);
	assert_int_equal(json_array_size(json_object_get(f, "holders")), 2);
	assert_int_equal(hb_int(r, "fencing_backwards.write-over-newer"), 1);
	json_decref(r);
}

/* A holder whose write timed out is retired; its lease may let the lock
 * go, but only after the crash: a holder before that is a violation. */
static void test_crashed_holder(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	INV(&h, 0, "acquire", NULL);
	OK(&h, 0, "acquire", "5");
	INV(&h, 0, "write", "5");
	INFO(&h, 0, "write", "5");   /* crash */
	cycle(&h, 1, "7", "5");
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_VALID);
	assert_int_equal(hb_int(r, "implicit_releases"), 1);
	json_decref(r);

	history_init(&h);
	INV(&h, 0, "acquire", NULL);
	OK(&h, 0, "acquire", "5");
	INV(&h, 0, "write", "5");
	INV(&h, 1, "acquire", NULL);
	OK(&h, 1, "acquire", "7");   /* while P0 still believes it holds */
	INFO(&h, 0, "write", "5");
	json_t *r2 = check(&h);
	assert_int_equal(hb_verdict(r2), VERDICT_INVALID);
	assert_int_equal(hb_int(r2, "overlap_count"), 1);
	json_t *ov = json_array_get(json_object_get(r2, "overlaps"), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(ov, "first"),
							      "ended_by")), "crash");
	assert_true(json_is_null(json_object_get(json_object_get(ov, "second"), "release")));
	/* P1 then stopped with the test, holding: let go after its last op */
	assert_string_equal(json_string_value(json_object_get(json_object_get(ov, "second"),
							      "ended_by")), "end of test");
	assert_int_equal(hb_int(ov, "second.end_index"), 4);
	json_decref(r2);
}

static void test_acquire_tokens_backwards(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	cycle(&h, 0, "9", "null");
	cycle(&h, 1, "4", "9"); /* a later acquire with a smaller token */
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_INVALID);
	assert_null(hb_failure(r, "nonlinearizable"));
	json_t *f = hb_failure(r, "fencing-backwards");
	assert_non_null(f);
	assert_string_equal(json_string_value(json_object_get(f, "check")), "acquire-order");
	assert_int_equal(hb_int(f, "newer_token"), 9);
	assert_int_equal(hb_int(f, "newer_index"), 0);
	/* its write also replaced a newer token */
	assert_int_equal(hb_int(r, "fencing_backwards.write-over-newer"), 1);
	json_decref(r);
}

/* P0's write timed out and landed after P1's: P2 finds P0's token. */
static void test_late_write_overwrites(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	INV(&h, 0, "acquire", NULL);
	OK(&h, 0, "acquire", "5");
	INV(&h, 0, "write", "5");     /* index 2 */
	INFO(&h, 0, "write", "5");
	cycle(&h, 1, "7", "null");
	cycle(&h, 2, "9", "5");       /* the store went 7 -> 5 */
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_INVALID);
	assert_null(hb_failure(r, "nonlinearizable"));
	json_t *f = hb_failure(r, "fencing-backwards");
	assert_non_null(f);
	assert_string_equal(json_string_value(json_object_get(f, "check")), "write-overwritten");
	assert_int_equal(hb_int(f, "newer_token"), 7);
	json_t *hs = json_object_get(f, "holders");
	assert_int_equal(json_array_size(hs), 3);
	assert_int_equal(hb_int(hs, "0.token"), 5);
	assert_string_equal(json_string_value(json_object_get(json_array_get(hs, 0), "ended_by")),
			    "crash");
	/* P2 still held the lock when its write showed the failure; its hold
	 * is drawn as it ended, by its release. */
	assert_int_equal(hb_int(hs, "2.token"), 9);
	assert_string_equal(json_string_value(json_object_get(json_array_get(hs, 2), "ended_by")),
			    "release");
	assert_true(hb_int(hs, "2.end_index") > 0);
	json_decref(r);
}

static void test_release_fail_info_pending(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	INV(&h, 0, "acquire", NULL);
	OK(&h, 0, "acquire", "5");
	INV(&h, 0, "write", "5");
	OK(&h, 0, "write", "[5, null]");
	INV(&h, 0, "release", "5");
	FAIL(&h, 0, "release", "5");   /* certainly still held: retried */
	INV(&h, 0, "release", "5");
	INFO(&h, 0, "release", "5");   /* may have released */
	cycle(&h, 1, "7", "5");
	INV(&h, 2, "acquire", NULL);
	INFO(&h, 2, "acquire", NULL);  /* may hold it, retired */
	INV(&h, 3, "acquire", NULL);
	OK(&h, 3, "acquire", "11");
	INV(&h, 3, "write", "11");     /* pending at the end */
	NEM(&h, OP_INFO, "start-pause", "{\"n1\": \"paused\"}");
	INV(&h, 4, "acquire", NULL);   /* pending at the end */
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_VALID);
	assert_int_equal(hb_int(r, "acquire_ok_count"), 3);
	json_decref(r);
}

static void test_unknown_and_refusals(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	INV(&h, 0, "acquire", NULL);
	FAIL(&h, 0, "acquire", NULL);
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_UNKNOWN);
	json_decref(r);

	history_init(&h);
	INV(&h, 0, "read", NULL);
	r = check(&h);
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "read"));
	json_decref(r);

	history_init(&h);
	INV(&h, 0, "acquire", NULL);
	OK(&h, 0, "acquire", "1");
	INV(&h, 0, "write", "1");
	OK(&h, 0, "write", "1");
	r = check(&h);
	assert_non_null(json_object_get(r, "error"));
	json_decref(r);
}

/* The test ends: each worker stops after its op in flight and the runner
 * closes its client, which lets its lock go, so the acquires waiting at
 * the end complete one after another without a release in the history. A
 * holder with an op still open at the end holds on. */
static void test_end_of_test(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	cycle(&h, 0, "5", "null");
	INV(&h, 1, "acquire", NULL);
	INV(&h, 2, "acquire", NULL);
	INV(&h, 3, "acquire", NULL);
	OK(&h, 1, "acquire", "7");
	OK(&h, 2, "acquire", "8");
	OK(&h, 3, "acquire", "9");
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_VALID);
	assert_int_equal(hb_int(r, "implicit_releases"), 3);
	assert_int_equal(hb_int(r, "overlap_count"), 0);
	json_decref(r);

	history_init(&h);
	INV(&h, 1, "acquire", NULL);
	OK(&h, 1, "acquire", "7");
	INV(&h, 1, "write", "7");     /* still writing when the history ends */
	INV(&h, 2, "acquire", NULL);
	OK(&h, 2, "acquire", "8");
	r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_INVALID);
	assert_int_equal(hb_int(r, "implicit_releases"), 1); /* P2's, not P1's */
	assert_int_equal(hb_int(r, "overlap_count"), 1);
	json_decref(r);
}

/* Histories without tokens (Jepsen's lock tests) are judged by the model
 * alone. */
static void test_no_tokens(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	INV(&h, 0, "acquire", NULL);
	OK(&h, 0, "acquire", NULL);
	INV(&h, 0, "release", NULL);
	OK(&h, 0, "release", NULL);
	INV(&h, 1, "acquire", NULL);
	OK(&h, 1, "acquire", NULL);
	INV(&h, 3, "acquire", NULL);
	OK(&h, 3, "acquire", NULL); /* two holders */
	INV(&h, 1, "release", NULL);
	OK(&h, 1, "release", NULL);
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_INVALID);
	assert_non_null(hb_failure(r, "nonlinearizable"));
	assert_null(hb_failure(r, "fencing-backwards"));
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_orderly_valid),
		cmocka_unit_test(test_double_holder),
		cmocka_unit_test(test_crashed_holder),
		cmocka_unit_test(test_acquire_tokens_backwards),
		cmocka_unit_test(test_late_write_overwrites),
		cmocka_unit_test(test_release_fail_info_pending),
		cmocka_unit_test(test_unknown_and_refusals),
		cmocka_unit_test(test_end_of_test),
		cmocka_unit_test(test_no_tokens),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
