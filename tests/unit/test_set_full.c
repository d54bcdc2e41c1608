/*
 * test_set_full.c - the set-full checker on hand-made histories, one per
 * verdict and per tricky case: a lost acknowledged element, an element
 * lost after a read saw it, a read concurrent with the add that misses it
 * (not lost), stale and flapping elements (valid unless linearizable),
 * info and pending adds that appear (recovered), a failed add that appears,
 * unexpected and duplicated elements, never-read elements, nemesis ops in
 * between, unknown with nothing stable, and refused input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "histbuild.h"

static json_t *check(struct history *h) { return hb_check("set-full", h, NULL); }

static json_t *check_lin(struct history *h)
{
	json_t *opts = json_pack("{s:{s:b}}", "set-full", "linearizable", 1);
	struct check_ctx ctx = {.opts = opts};
	json_t *r = hb_check("set-full", h, &ctx);
	json_decref(opts);
	return r;
}

static void test_stable_valid(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	INV(&h, 0, "add", "1");
	OK(&h, 0, "add", "1");
	INV(&h, 1, "add", "2");
	OK(&h, 1, "add", "2");
	INV(&h, 2, "read", NULL);
	OK(&h, 2, "read", "[2, 1]");
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_VALID);
	assert_int_equal(hb_int(r, "stable_count"), 2);
	assert_int_equal(hb_int(r, "lost_count"), 0);
	assert_int_equal(hb_int(r, "stale_count"), 0);
	assert_true(json_real_value(json_object_get(json_object_get(r, "stable_latencies"), "1")) == 0);
	assert_null(json_object_get(r, "failures"));
	json_decref(r);
}

static void test_lost_acknowledged(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	INV(&h, 0, "add", "1");   /* 0 */
	OK(&h, 0, "add", "1");    /* 1 */
	INV(&h, 0, "add", "2");   /* 2 */
	OK(&h, 0, "add", "2");    /* 3 */
	/* What the client said of the add (Redis: the primary that took it)
	 * stays with it. */
	h.ops[3].extra = json_pack("{s:s, s:i}", "primary", "n2", "acks", 0);
	INV(&h, 1, "read", NULL); /* 4 */
	OK(&h, 1, "read", "[1]"); /* 5: 2 is missing */
	INV(&h, 2, "read", NULL); /* 6 */
	OK(&h, 2, "read", "[1]"); /* 7 */
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_INVALID);
	assert_int_equal(hb_int(r, "lost_count"), 1);
	assert_int_equal(hb_int(r, "lost_acknowledged_count"), 1);
	assert_int_equal(hb_int(r, "lost_unacknowledged_count"), 0);
	assert_int_equal(hb_int(r, "stable_count"), 1);
	json_t *f = hb_failure(r, "lost");
	assert_string_equal(json_string_value(json_object_get(json_object_get(f, "add"), "primary")),
			    "n2");
	assert_int_equal(hb_int(f, "add.acks"), 0);
	assert_non_null(f);
	assert_int_equal(hb_int(f, "element"), 2);
	assert_int_equal(hb_int(f, "add.index"), 2);
	assert_int_equal(hb_int(f, "add.complete_index"), 3);
	assert_int_equal(hb_int(f, "add.complete_time"), 3 * HB_STEP_NS);
	assert_string_equal(json_string_value(json_object_get(json_object_get(f, "add"), "type")),
			    "ok");
	assert_string_equal(json_string_value(json_object_get(json_object_get(f, "known"), "by")), "add");
	assert_int_equal(hb_int(f, "missed_count"), 2);
	assert_int_equal(hb_int(f, "missed_by.0.index"), 4);
	assert_int_equal(hb_int(f, "missed_by.1.index"), 6);
	assert_int_equal(hb_int(f, "last_absent.complete_index"), 7);
	assert_true(json_is_null(json_object_get(f, "last_present")));
	assert_non_null(strstr(json_string_value(json_object_get(f, "message")), "element 2"));
	json_decref(r);
}

/* An add that ended info, seen by one read, missing from every later one:
 * known through the read, so lost. */
static void test_lost_after_read(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	INV(&h, 0, "add", "7");   /* 0 */
	INFO(&h, 0, "add", "7");  /* 1 */
	INV(&h, 1, "read", NULL); /* 2 */
	OK(&h, 1, "read", "[7]"); /* 3 */
	INV(&h, 2, "read", NULL); /* 4 */
	OK(&h, 2, "read", "[]");  /* 5 */
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_INVALID);
	json_t *f = hb_failure(r, "lost");
	assert_non_null(f);
	assert_int_equal(hb_int(f, "last_present.index"), 2);
	assert_int_equal(hb_int(f, "last_absent.index"), 4);
	assert_string_equal(json_string_value(json_object_get(json_object_get(f, "known"), "by")),
			    "read");
	assert_string_equal(json_string_value(json_object_get(json_object_get(f, "add"), "type")),
			    "info");
	/* It was recovered (an info add that appeared) before it was lost. */
	assert_int_equal(hb_int(r, "recovered_count"), 1);
	assert_int_equal(hb_int(r, "lost_acknowledged_count"), 0);
	assert_int_equal(hb_int(r, "lost_unacknowledged_count"), 1);
	assert_non_null(strstr(json_string_value(json_object_get(f, "message")), "timed out"));
	json_decref(r);
}

/* A read concurrent with the add may miss it: not lost, not stale. */
static void test_concurrent_read_misses(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	INV(&h, 1, "read", NULL); /* 0 */
	INV(&h, 0, "add", "3");   /* 1 */
	OK(&h, 1, "read", "[]");  /* 2: concurrent with the add */
	OK(&h, 0, "add", "3");    /* 3 */
	json_t *r = check(&h);
	/* Nothing read it after: never read, hence unknown (nothing stable). */
	assert_int_equal(hb_verdict(r), VERDICT_UNKNOWN);
	assert_int_equal(hb_int(r, "never_read_count"), 1);
	assert_int_equal(hb_int(r, "lost_count"), 0);
	json_decref(r);

	history_init(&h);
	INV(&h, 0, "add", "3");   /* 0 */
	INV(&h, 1, "read", NULL); /* 1 */
	OK(&h, 1, "read", "[]");  /* 2: concurrent */
	OK(&h, 0, "add", "3");    /* 3 */
	INV(&h, 1, "read", NULL); /* 4 */
	OK(&h, 1, "read", "[3]"); /* 5 */
	r = check_lin(&h);
	assert_int_equal(hb_verdict(r), VERDICT_VALID);
	assert_int_equal(hb_int(r, "stale_count"), 0);
	assert_int_equal(hb_int(r, "stable_count"), 1);
	json_decref(r);
}

/* Missing from a read that began after the add completed, then present:
 * stale (valid), invalid when the set must be linearizable. */
static void build_stale(struct history *h)
{
	history_init(h);
	INV(h, 0, "add", "4");   /* 0 */
	OK(h, 0, "add", "4");    /* 1 */
	INV(h, 1, "read", NULL); /* 2 */
	OK(h, 1, "read", "[]");  /* 3 */
	INV(h, 2, "read", NULL); /* 4 */
	OK(h, 2, "read", "[4]"); /* 5 */
}

static void test_stale(void **state)
{
	(void)state;
	struct history h;
	build_stale(&h);
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_VALID);
	assert_int_equal(hb_int(r, "stale_count"), 1);
	assert_int_equal(hb_int(r, "stable_count"), 1);
	assert_null(json_object_get(r, "failures"));
	json_t *w = json_array_get(json_object_get(r, "worst_stale"), 0);
	assert_non_null(w);
	assert_int_equal(hb_int(w, "last_absent.index"), 2);
	/* known at 1 ms, the missing read began at 2 ms */
	assert_true(json_real_value(json_object_get(w, "stable_latency_ms")) == 1.0);
	json_decref(r);

	build_stale(&h);
	r = check_lin(&h);
	assert_int_equal(hb_verdict(r), VERDICT_INVALID);
	assert_non_null(hb_failure(r, "stale"));
	json_decref(r);
}

static void test_flapping(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	INV(&h, 0, "add", "5");   /* 0 */
	INFO(&h, 0, "add", "5");  /* 1 */
	INV(&h, 1, "read", NULL); /* 2 */
	OK(&h, 1, "read", "[5]"); /* 3 */
	INV(&h, 2, "read", NULL); /* 4 */
	OK(&h, 2, "read", "[]");  /* 5 */
	INV(&h, 3, "read", NULL); /* 6 */
	OK(&h, 3, "read", "[5]"); /* 7 */
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_VALID);
	assert_int_equal(hb_int(r, "flapping_count"), 1);
	assert_int_equal(hb_int(r, "recovered_count"), 1);
	json_decref(r);

	history_init(&h);
	INV(&h, 0, "add", "5");
	INFO(&h, 0, "add", "5");
	INV(&h, 1, "read", NULL);
	OK(&h, 1, "read", "[5]");
	INV(&h, 2, "read", NULL);
	OK(&h, 2, "read", "[]");
	INV(&h, 3, "read", NULL);
	OK(&h, 3, "read", "[5]");
	r = check_lin(&h);
	assert_int_equal(hb_verdict(r), VERDICT_INVALID);
	json_t *f = hb_failure(r, "flapping");
	assert_non_null(f);
	assert_int_equal(hb_int(f, "absent.index"), 4);
	assert_int_equal(hb_int(f, "present_again.index"), 6);
	json_decref(r);
}

/* Overlapping reads are not flapping: the second began before the first
 * one that saw the element completed. */
static void test_overlapping_reads_not_flapping(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	INV(&h, 0, "add", "5");   /* 0 */
	OK(&h, 0, "add", "5");    /* 1 */
	INV(&h, 1, "read", NULL); /* 2 */
	INV(&h, 2, "read", NULL); /* 3 */
	OK(&h, 1, "read", "[5]"); /* 4 */
	OK(&h, 2, "read", "[]");  /* 5: began before 4 completed */
	INV(&h, 3, "read", NULL); /* 6 */
	OK(&h, 3, "read", "[5]"); /* 7 */
	json_t *r = check(&h);
	assert_int_equal(hb_int(r, "flapping_count"), 0);
	assert_int_equal(hb_int(r, "stale_count"), 1); /* read 3 began after the add completed */
	json_decref(r);
}

/* Info and pending adds that later appear are recovered, and fine. */
static void test_recovered(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	INV(&h, 0, "add", "1");       /* 0 */
	INFO(&h, 0, "add", "1");      /* 1: unknown */
	INV(&h, 5, "add", "2");       /* 2: never completes */
	INV(&h, 1, "read", NULL);     /* 3 */
	OK(&h, 1, "read", "[1, 2]");  /* 4 */
	INV(&h, 1, "read", NULL);     /* 5 */
	OK(&h, 1, "read", "[2, 1]");  /* 6 */
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_VALID);
	assert_int_equal(hb_int(r, "recovered_count"), 2);
	assert_int_equal(hb_int(r, "acknowledged_count"), 0);
	assert_int_equal(hb_int(r, "attempt_count"), 2);
	json_decref(r);
}

static void test_info_add_absent_is_fine(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	INV(&h, 0, "add", "1");
	OK(&h, 0, "add", "1");
	INV(&h, 0, "add", "2");
	INFO(&h, 0, "add", "2"); /* may not have happened */
	INV(&h, 1, "read", NULL);
	OK(&h, 1, "read", "[1]");
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_VALID);
	assert_int_equal(hb_int(r, "never_read_count"), 1);
	json_decref(r);
}

static void test_failed_add_present(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	INV(&h, 0, "add", "1");
	FAIL(&h, 0, "add", "1");
	INV(&h, 1, "read", NULL);
	OK(&h, 1, "read", "[1]");
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_INVALID);
	json_t *f = hb_failure(r, "failed-add-present");
	assert_non_null(f);
	assert_int_equal(hb_int(f, "read.index"), 2);
	json_decref(r);
}

static void test_unexpected_and_duplicated(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	INV(&h, 0, "add", "1");
	OK(&h, 0, "add", "1");
	INV(&h, 1, "read", NULL);
	OK(&h, 1, "read", "[1, 99]");
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_INVALID);
	json_t *f = hb_failure(r, "unexpected");
	assert_non_null(f);
	assert_int_equal(hb_int(f, "element"), 99);
	json_decref(r);

	history_init(&h);
	INV(&h, 0, "add", "1");
	OK(&h, 0, "add", "1");
	INV(&h, 1, "read", NULL);
	OK(&h, 1, "read", "[1, 1]");
	r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_INVALID);
	assert_non_null(hb_failure(r, "duplicated"));
	assert_int_equal(hb_int(r, "duplicated_count"), 1);
	json_decref(r);
}

/* Nemesis ops interleave; failed and info reads tell nothing; an
 * element acknowledged after the last read is never read. */
static void test_nemesis_and_never_read(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	NEM(&h, OP_INVOKE, "start-partition", "\"majority\"");
	INV(&h, 0, "add", "1");
	OK(&h, 0, "add", "1");
	NEM(&h, OP_INFO, "start-partition", "{\"n1\": [\"n2\"]}");
	INV(&h, 1, "read", NULL);
	INFO(&h, 1, "read", NULL);
	INV(&h, 2, "read", NULL);
	FAIL(&h, 2, "read", NULL);
	INV(&h, 3, "read", NULL);
	OK(&h, 3, "read", "[1]");
	INV(&h, 0, "add", "2");
	OK(&h, 0, "add", "2");
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_VALID);
	assert_int_equal(hb_int(r, "read_count"), 1);
	assert_int_equal(hb_int(r, "stable_count"), 1);
	assert_int_equal(hb_int(r, "never_read_count"), 1);
	assert_int_equal(hb_int(r, "never_read.0"), 2);
	json_decref(r);
}

static void test_nothing_added_unknown(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	INV(&h, 1, "read", NULL);
	OK(&h, 1, "read", "[]");
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_UNKNOWN);
	json_decref(r);
}

static void test_bad_input_refused(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	INV(&h, 0, "write", "1");
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_UNKNOWN);
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "write"));
	json_decref(r);

	history_init(&h);
	INV(&h, 1, "read", NULL);
	OK(&h, 1, "read", "{\"a\": 1}");
	r = check(&h);
	assert_non_null(json_object_get(r, "error"));
	json_decref(r);

	char err[200] = "";
	const struct checker *c = checker_find("set-full");
	json_t *o = json_pack("{s:i}", "linearizable", 1);
	assert_int_equal(c->check_opts(o, err, sizeof err), -1);
	assert_non_null(strstr(err, "checker_opts.set-full.linearizable"));
	json_decref(o);
	o = json_pack("{s:b}", "bogus", 1);
	assert_int_equal(c->check_opts(o, err, sizeof err), -1);
	json_decref(o);
}

/* Many elements and reads: the outcome lists stay right. */
static void test_many(void **state)
{
	(void)state;
	struct history h;
	history_init(&h);
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "[");
	for (int i = 0; i < 300; i++) {
		char v[16];
		snprintf(v, sizeof v, "%d", i);
		INV(&h, i % 7, "add", v);
		OK(&h, i % 7, "add", v);
		if (i != 150)
			buf_printf(&b, "%s%d", i ? "," : "", i);
		if (i % 50 == 49) {
			INV(&h, 10, "read", NULL);
			buf_puts(&b, "]");
			OK(&h, 10, "read", b.data);
			b.data[--b.len] = '\0';
		}
	}
	buf_free(&b);
	json_t *r = check(&h);
	assert_int_equal(hb_verdict(r), VERDICT_INVALID);
	assert_int_equal(hb_int(r, "lost_count"), 1);
	assert_int_equal(hb_int(r, "lost.0"), 150);
	assert_int_equal(hb_int(r, "stable_count"), 299);
	assert_int_equal(hb_int(r, "read_count"), 6);
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stable_valid),
		cmocka_unit_test(test_lost_acknowledged),
		cmocka_unit_test(test_lost_after_read),
		cmocka_unit_test(test_concurrent_read_misses),
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_flapping),
		cmocka_unit_test(test_overlapping_reads_not_flapping),
		cmocka_unit_test(test_recovered),
		cmocka_unit_test(test_info_add_absent_is_fine),
		cmocka_unit_test(test_failed_add_present),
		cmocka_unit_test(test_unexpected_and_duplicated),
		cmocka_unit_test(test_nemesis_and_never_read),
		cmocka_unit_test(test_nothing_added_unknown),
		cmocka_unit_test(test_bad_input_refused),
		cmocka_unit_test(test_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
