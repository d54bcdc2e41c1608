/*
 * test_linearizable.c - the linearizability checker on small histories
 * whose answer is known by hand: the hard cases of Jepsen semantics (info
 * ops that may or may not have happened, failed ops that did not, a
 * process that invokes again after an info), counterexample minimality
 * (blame the op whose result is impossible, not a later one), per-key
 * splitting, the two nil-read readings, and a timeout that must give
 * "unknown", never "valid"; the reductions of the search (the read
 * shortcut, what a read reveals) give the same verdicts as the plain
 * search and spare work; the early stop once a key is invalid, --all-keys,
 * the memory cap and the options that set them; short kv counterexamples.
 * Histories are written in EDN for brevity and go through the real reader.
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

#include "checker.h"
#include "history.h"
#include "linearizable.h"
#include "results.h"
#include "util.h"

static json_t *check_edn_opts(const char *edn, struct check_ctx *o)
{
	char path[] = "/tmp/test_lin_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, edn, strlen(edn)), (ssize_t)strlen(edn));
	close(fd);
	struct history h;
	struct history_error err;
	int rc = history_load(path, HISTORY_EDN, &h, &err);
	unlink(path);
	if (rc != 0)
		fail_msg("parse: %s", err.msg);
	const struct checker *c = checker_find("linearizable");
	assert_non_null(c);
	json_t *r = checker_run(c, &h, o);
	history_free(&h);
	return r;
}

static json_t *check_edn(const char *model, const char *edn)
{
	struct check_ctx o = {.model = model, .threads = 2};
	return check_edn_opts(edn, &o);
}

static int verdict(json_t *r)
{
	int code = verdict_exit_code(verdict_of(json_object_get(r, "valid")), false);
	return code;
}

static void expect(const char *model, const char *edn, int want)
{
	json_t *r = check_edn(model, edn);
	if (verdict(r) != want) {
		char *s = json_dumps(r, JSON_INDENT(1));
		fail_msg("want %d, got %s\n%s", want, s, edn);
	}
	json_decref(r);
}

#define INV(p, f, v) "{:process " #p " :type :invoke :f :" #f " :value " v "}\n"
#define OK(p, f, v) "{:process " #p " :type :ok :f :" #f " :value " v "}\n"
#define FAIL(p, f, v) "{:process " #p " :type :fail :f :" #f " :value " v "}\n"
#define INFO(p, f, v) "{:process " #p " :type :info :f :" #f " :value " v "}\n"

static void test_empty_history_valid(void **state)
{
	(void)state;
	expect("cas-register", "[]", EXIT_VALID);
	json_t *r = check_edn("cas-register", "[]");
	assert_int_equal(json_integer_value(json_object_get(r, "ops")), 0);
	json_decref(r);
}

static void test_sequential(void **state)
{
	(void)state;
	expect("cas-register", INV(0, write, "1") OK(0, write, "1") INV(0, read, "nil") OK(0, read, "1"),
	       EXIT_VALID);
	expect("cas-register", INV(0, write, "1") OK(0, write, "1") INV(0, read, "nil") OK(0, read, "2"),
	       EXIT_INVALID);
}

static void test_concurrent_writes(void **state)
{
	(void)state;
	/* w1 and w2 overlap: either order; reads then pin one order. */
	const char *base = INV(0, write, "1") INV(1, write, "2") OK(0, write, "1") OK(1, write, "2");
	char h[1024];
	snprintf(h, sizeof h, "%s%s", base, INV(2, read, "nil") OK(2, read, "1"));
	expect("cas-register", h, EXIT_VALID);
	snprintf(h, sizeof h, "%s%s", base, INV(2, read, "nil") OK(2, read, "2"));
	expect("cas-register", h, EXIT_VALID);
	/* read 2 then read 1 sequentially after both writes: impossible */
	snprintf(h, sizeof h, "%s%s%s", base, INV(2, read, "nil") OK(2, read, "2"),
		 INV(2, read, "nil") OK(2, read, "1"));
	expect("cas-register", h, EXIT_INVALID);
}

static void test_info_explains_read(void **state)
{
	(void)state;
	/* The write timed out (info) but did happen: the read of 5 is fine. */
	expect("cas-register", INV(0, write, "5") INFO(0, write, "5") INV(1, read, "nil") OK(1, read, "5"),
	       EXIT_VALID);
	/* Never completed at all: same. */
	expect("cas-register", INV(0, write, "5") INV(1, read, "nil") OK(1, read, "5"), EXIT_VALID);
	/* The info write may also never happen. */
	expect("cas-register", INV(0, write, "5") INFO(0, write, "5") INV(1, read, "nil") OK(1, read, "nil"),
	       EXIT_VALID);
	/* But it cannot take effect before it was invoked. */
	expect("cas-register", INV(1, read, "nil") OK(1, read, "5") INV(0, write, "5") INFO(0, write, "5"),
	       EXIT_INVALID);
	/* An info read tells nothing. */
	expect("cas-register", INV(0, write, "1") OK(0, write, "1") INV(1, read, "nil") INFO(1, read, "7"),
	       EXIT_VALID);
}

static void test_failed_cas(void **state)
{
	(void)state;
	const char *w = INV(0, write, "0") OK(0, write, "0");
	char h[1024];
	/* A failed cas did not happen: reading its new value is impossible. */
	snprintf(h, sizeof h, "%s%s%s", w, INV(1, cas, "[0 1]") FAIL(1, cas, "[0 1]"),
		 INV(2, read, "nil") OK(2, read, "1"));
	expect("cas-register", h, EXIT_INVALID);
	snprintf(h, sizeof h, "%s%s%s", w, INV(1, cas, "[0 1]") FAIL(1, cas, "[0 1]"),
		 INV(2, read, "nil") OK(2, read, "0"));
	expect("cas-register", h, EXIT_VALID);
	/* An ok cas whose expected value is not there is impossible. */
	snprintf(h, sizeof h, "%s%s", w, INV(1, cas, "[3 4]") OK(1, cas, "[3 4]"));
	expect("cas-register", h, EXIT_INVALID);
	snprintf(h, sizeof h, "%s%s%s", w, INV(1, cas, "[0 4]") OK(1, cas, "[0 4]"),
		 INV(2, read, "nil") OK(2, read, "4"));
	expect("cas-register", h, EXIT_VALID);
}

static void test_never_written_value(void **state)
{
	(void)state;
	json_t *r = check_edn("cas-register", INV(0, write, "1") OK(0, write, "1")
					      INV(1, read, "nil") OK(1, read, "42")
					      INV(0, write, "2") OK(0, write, "2"));
	assert_int_equal(verdict(r), EXIT_INVALID);
	json_t *f = json_array_get(json_object_get(r, "failures"), 0);
	assert_non_null(f);
	json_t *op = json_object_get(f, "op");
	assert_string_equal(json_string_value(json_object_get(op, "f")), "read");
	assert_int_equal(json_integer_value(json_object_get(op, "value")), 42);
	assert_int_equal(json_integer_value(json_object_get(op, "index")), 2);
	json_decref(r);
}

/* Knossos's trap: the read of 3 is concurrent with write 4; the later read
 * of 4 is fine and must not be blamed. */
static void test_blames_concurrent_read(void **state)
{
	(void)state;
	json_t *r = check_edn("cas-register",
			      INV(0, write, "0") OK(0, write, "0")
			      INV(1, read, "nil") INV(2, write, "4")
			      OK(1, read, "3") OK(2, write, "4")
			      INV(3, read, "nil") OK(3, read, "4"));
	assert_int_equal(verdict(r), EXIT_INVALID);
	json_t *f = json_array_get(json_object_get(r, "failures"), 0);
	json_t *op = json_object_get(f, "op");
	assert_int_equal(json_integer_value(json_object_get(op, "process")), 1);
	assert_int_equal(json_integer_value(json_object_get(op, "value")), 3);
	assert_int_equal(json_integer_value(json_object_get(op, "index")), 2);
	/* prefix: write 0 then (possibly) write 4 */
	json_t *prefix = json_object_get(f, "prefix");
	assert_true(json_array_size(prefix) >= 1);
	assert_int_equal(json_integer_value(json_array_get(prefix, 0)), 0);
	/* the concurrent window holds write 4 with its times */
	json_t *conc = json_object_get(f, "concurrent");
	assert_true(json_array_size(conc) >= 1);
	bool saw_w4 = false;
	size_t i;
	json_t *c;
	json_array_foreach(conc, i, c) {
		assert_non_null(json_object_get(c, "invoke_time"));
		assert_non_null(json_object_get(c, "complete_time"));
		if (!strcmp(json_string_value(json_object_get(c, "f")), "write") &&
		    json_integer_value(json_object_get(c, "value")) == 4)
			saw_w4 = true;
	}
	assert_true(saw_w4);
	/* reachable states: 0 (before write 4) and 4 (after) */
	json_t *states = json_object_get(f, "states");
	assert_int_equal(json_array_size(states), 2);
	const char *m = json_string_value(json_object_get(f, "message"));
	assert_non_null(strstr(m, "read 3"));
	json_decref(r);
}

static void test_invoke_after_info(void **state)
{
	(void)state;
	/* process 0 wrongly invokes again after its info; completions pair
	 * with the latest invoke. */
	expect("cas-register", INV(0, write, "1") INFO(0, write, "1")
			       INV(0, read, "nil") OK(0, read, "1"), EXIT_VALID);
	/* invoke, invoke again without completion: the first stays open. */
	expect("cas-register", INV(0, write, "1") INV(0, write, "2") OK(0, write, "2")
			       INV(1, read, "nil") OK(1, read, "1"), EXIT_VALID);
	/* a completion without any invoke is tolerated */
	expect("cas-register", OK(5, read, "9") INV(0, write, "1") OK(0, write, "1"), EXIT_VALID);
}

static void test_nil_read_modes(void **state)
{
	(void)state;
	const char *h = INV(0, write, "1") OK(0, write, "1") INV(1, read, "nil") OK(1, read, "nil");
	expect("cas-register", h, EXIT_INVALID); /* Porcupine: nil = empty register */
	struct check_ctx o = {.model = "cas-register", .nil_read_unknown = true};
	json_t *r = check_edn_opts(h, &o);
	assert_int_equal(verdict(r), EXIT_VALID);
	json_decref(r);
	/* initial nil read is fine either way */
	expect("cas-register", INV(1, read, "nil") OK(1, read, "nil"), EXIT_VALID);
}

static void test_keys_independent(void **state)
{
	(void)state;
	/* Jepsen independent tuples [k v]: key 1 fine, key 2 reads a value
	 * only key 1 ever had. */
	json_t *r = check_edn("cas-register",
			      INV(0, write, "[1 5]") OK(0, write, "[1 5]")
			      INV(1, read, "[2 nil]") OK(1, read, "[2 5]")
			      INV(2, read, "[1 nil]") OK(2, read, "[1 5]"));
	assert_int_equal(verdict(r), EXIT_INVALID);
	assert_int_equal(json_integer_value(json_object_get(r, "keys")), 2);
	json_t *fails = json_object_get(r, "failures");
	assert_int_equal(json_array_size(fails), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(fails, 0), "key")), "2");
	json_decref(r);
}

static void test_kv_model_via_checker(void **state)
{
	(void)state;
	expect("kv", INV(0, get, "[\"a\" nil]") OK(0, get, "[\"a\" \"\"]")
		     INV(0, put, "[\"a\" \"x\"]") OK(0, put, "[\"a\" \"x\"]")
		     INV(1, append, "[\"a\" \"y\"]") OK(1, append, "[\"a\" \"y\"]")
		     INV(2, get, "[\"a\" nil]") OK(2, get, "[\"a\" \"xy\"]"), EXIT_VALID);
	expect("kv", INV(0, put, "[\"a\" \"x\"]") OK(0, put, "[\"a\" \"x\"]")
		     INV(2, get, "[\"a\" nil]") OK(2, get, "[\"a\" \"y\"]"), EXIT_INVALID);
}

static void test_timeout_gives_unknown(void **state)
{
	(void)state;
	/* 40 writes of distinct values that never complete, then a read of a
	 * value nobody wrote: proving it invalid means trying every subset
	 * of the writes, far more than 0.3 s of work. */
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "[");
	for (int p = 0; p < 40; p++)
		buf_printf(&b, "{:process %d :type :invoke :f :write :value %d}\n", p, p);
	for (int i = 0; i < 40; i++)
		buf_printf(&b, "{:process %d :type :invoke :f :read :value nil}\n"
			       "{:process %d :type :ok :f :read :value %d}\n", 100 + i, 100 + i, i);
	buf_puts(&b, "{:process 99 :type :invoke :f :read :value nil}\n"
		     "{:process 99 :type :ok :f :read :value 1000}]");
	struct check_ctx o = {.model = "cas-register", .timeout = 0.3, .threads = 1};
	int64_t t0 = now_ns();
	json_t *r = check_edn_opts(b.data, &o);
	double secs = (double)(now_ns() - t0) / 1e9;
	buf_free(&b);
	json_t *v = json_object_get(r, "valid");
	assert_true(json_is_string(v));
	assert_string_equal(json_string_value(v), "unknown");
	assert_int_equal(verdict_exit_code(verdict_of(v), false), EXIT_UNKNOWN);
	assert_int_equal(json_array_size(json_object_get(r, "unfinished_keys")), 1);
	assert_true(secs < 5.0); /* prompt, not a hang */
	json_decref(r);
}

static void test_merge_and_exit_codes(void **state)
{
	(void)state;
	json_t *t = json_true(), *f = json_false(), *u = json_string("unknown");
	json_t *m = verdict_json(verdict_worst(verdict_of(t), verdict_of(u)));
	assert_true(json_is_string(m));
	json_decref(m);
	m = verdict_json(verdict_worst(verdict_of(u), verdict_of(f)));
	assert_true(json_is_false(m));
	m = verdict_json(verdict_worst(verdict_of(t), verdict_of(t)));
	assert_true(json_is_true(m));
	assert_int_equal(verdict_exit_code(verdict_of(t), false), 0);
	assert_int_equal(verdict_exit_code(verdict_of(f), false), 1);
	assert_int_equal(verdict_exit_code(verdict_of(u), false), 2);
	assert_int_equal(verdict_exit_code(verdict_of(NULL), false), 2);
	assert_int_equal(verdict_exit_code(verdict_of(u), true), 1);
	assert_int_equal(exit_code_worst(0, 2), 2);
	assert_int_equal(exit_code_worst(2, 1), 1);
	assert_int_equal(exit_code_worst(1, 254), 254);
	assert_int_equal(exit_code_worst(255, 254), 255);
	json_decref(u);
	assert_null(checker_find("no-such-checker"));
}

static void test_unknown_op_is_error(void **state)
{
	(void)state;
	json_t *r = check_edn("cas-register", INV(0, frobnicate, "1") OK(0, frobnicate, "1"));
	assert_true(json_is_string(json_object_get(r, "valid")));
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "frobnicate"));
	json_decref(r);
	char err[256];
	struct check_ctx o = {.model = "no-such-model"};
	assert_null(checker_linearizable.begin(&o, err, sizeof err));
	assert_non_null(strstr(err, "no-such-model"));
}


/* ------------------------------------------- differential (brute force) */

/* A cas-register history small enough to decide by trying every order:
 * an op may be placed once all ops that completed before its invoke are
 * placed; ok ops must all be placed, info/pending ops may be left out,
 * fail ops and info reads never happened / tell nothing. */
struct bop {
	int f;     /* 0 read, 1 write, 2 cas */
	int a, b;  /* read: value (-1 nil); write: a; cas: a -> b */
	int inv, ret; /* event positions; ret = 1000 if never completed */
	int type;  /* OP_OK, OP_FAIL, OP_INFO, OP_INVOKE (pending) */
};

static bool brute_dfs(struct bop *ops, int n, bool *placed, int state, int ok_left)
{
	if (ok_left == 0)
		return true;
	for (int i = 0; i < n; i++) {
		struct bop *o = &ops[i];
		if (placed[i] || o->type == OP_FAIL || (o->f == 0 && o->type != OP_OK))
			continue;
		bool ready = true;
		for (int j = 0; j < n && ready; j++)
			if (!placed[j] && ops[j].type == OP_OK && ops[j].ret < o->inv)
				ready = false;
		if (!ready)
			continue;
		int ns = state;
		if (o->f == 0 && o->a != state)
			continue;
		if (o->f == 1)
			ns = o->a;
		if (o->f == 2) {
			if (state != o->a)
				continue;
			ns = o->b;
		}
		placed[i] = true;
		bool r = brute_dfs(ops, n, placed, ns, ok_left - (o->type == OP_OK));
		placed[i] = false;
		if (r)
			return true;
	}
	return false;
}

static void test_differential_random(void **state)
{
	(void)state;
	uint64_t seed = 0x1234567;
	int mismatches = 0, invalid = 0, total = 1500;
	for (int iter = 0; iter < total; iter++) {
		struct bop ops[8];
		int n = 0, open[3] = {-1, -1, -1}, pos = 0, last = -1;
		struct buf b;
		buf_init(&b);
		buf_puts(&b, "[");
		for (int step = 0; step < 16 && (n < 7 || open[0] >= 0 || open[1] >= 0 || open[2] >= 0); step++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			unsigned r = (unsigned)(seed >> 33);
			int p = (int)(r % 3);
			if (open[p] < 0) {
				if (n >= 7)
					continue;
				struct bop *o = &ops[n];
				o->f = (int)((r >> 2) % 3);
				o->a = (int)((r >> 4) % 3);
				o->b = (int)((r >> 6) % 3);
				o->inv = pos++;
				o->ret = 1000;
				o->type = OP_INVOKE;
				if (o->f == 0)
					buf_printf(&b, "{:process %d :type :invoke :f :read :value nil}\n", p);
				else if (o->f == 1)
					buf_printf(&b, "{:process %d :type :invoke :f :write :value %d}\n", p, o->a);
				else
					buf_printf(&b, "{:process %d :type :invoke :f :cas :value [%d %d]}\n", p, o->a, o->b);
				open[p] = n++;
			} else {
				struct bop *o = &ops[open[p]];
				unsigned t = (r >> 8) % 10;
				o->type = t < 7 ? OP_OK : t < 8 ? OP_INFO : OP_FAIL;
				if (o->f == 0 && o->type == OP_FAIL)
					o->type = OP_OK;
				if (o->f == 2 && o->type == OP_OK && o->a != last && (r >> 20) % 4)
					o->type = OP_FAIL; /* like a real store, mostly */
				if (o->f == 0) {
					/* mostly the latest written value, so that both
					 * verdicts are common */
					o->a = (r >> 16) % 3 ? last : (int)((r >> 12) % 4) - 1; /* -1 = nil */
					if (o->a < 0)
						buf_printf(&b, "{:process %d :type :%s :f :read :value nil}\n", p,
							   op_type_name(o->type));
					else
						buf_printf(&b, "{:process %d :type :%s :f :read :value %d}\n", p,
							   op_type_name(o->type), o->a);
				} else if (o->f == 1) {
					buf_printf(&b, "{:process %d :type :%s :f :write :value %d}\n", p,
						   op_type_name(o->type), o->a);
				} else {
					buf_printf(&b, "{:process %d :type :%s :f :cas :value [%d %d]}\n", p,
						   op_type_name(o->type), o->a, o->b);
				}
				if (o->type == OP_OK)
					o->ret = pos;
				if (o->type != OP_FAIL && o->f == 1)
					last = o->a;
				if (o->type != OP_FAIL && o->f == 2 && last == o->a)
					last = o->b;
				pos++;
				if (o->type == OP_INFO)
					o->ret = 1000;
				open[p] = -1;
			}
		}
		buf_puts(&b, "]");
		bool placed[8] = {false};
		int ok_count = 0;
		for (int i = 0; i < n; i++)
			ok_count += ops[i].type == OP_OK;
		bool want = brute_dfs(ops, n, placed, -1, ok_count);
		json_t *r = check_edn("cas-register", b.data);
		int got = verdict(r);
		invalid += !want;
		if ((want && got != EXIT_VALID) || (!want && got != EXIT_INVALID)) {
			if (mismatches++ < 3)
				print_error("mismatch (brute force says %s):\n%s\n", want ? "valid" : "invalid", b.data);
		}
		json_decref(r);
		buf_free(&b);
	}
	/* both verdicts must actually occur for the comparison to mean much */
	print_message("# differential: %d of %d histories invalid\n", invalid, total);
	assert_true(invalid > total / 20 && invalid < total - total / 20);
	assert_int_equal(mismatches, 0);
}


/* ------------------------------------------------ reductions, policy */

/* The verdict with and without the read shortcut and the pruning must
 * agree; returns the verdict. */
static int verdict_both_ways(const char *model, const char *edn)
{
	json_t *r = check_edn(model, edn);
	int with = verdict(r);
	json_decref(r);
	setenv("FAULTLINE_LIN_NO_SHORTCUT", "1", 1);
	setenv("FAULTLINE_LIN_NO_PRUNE", "1", 1);
	r = check_edn(model, edn);
	int without = verdict(r);
	json_decref(r);
	unsetenv("FAULTLINE_LIN_NO_SHORTCUT");
	unsetenv("FAULTLINE_LIN_NO_PRUNE");
	if (with != without)
		fail_msg("with reductions %d, without %d:\n%s", with, without, edn);
	return with;
}

static void test_read_shortcut(void **state)
{
	(void)state;
	/* Reads concurrent with a write of the value they read: the read of
	 * 1 may be placed right away (the register holds 1 already), or
	 * after the second write of 1; either way valid. */
	assert_int_equal(verdict_both_ways("cas-register",
		INV(0, write, "1") OK(0, write, "1")
		INV(1, write, "1") INV(2, read, "nil") OK(2, read, "1")
		INV(3, read, "nil") OK(3, read, "1") OK(1, write, "1")
		INV(4, read, "nil") OK(4, read, "1")), EXIT_VALID);
	/* A read forced early must not hide the later order: read 1, then a
	 * concurrent write of 2 is read, then a read of 1 again after that
	 * read completed: only a write of 1 after the 2 could explain it, and
	 * the one concurrent write of 1 may be placed there. */
	assert_int_equal(verdict_both_ways("cas-register",
		INV(0, write, "1") OK(0, write, "1")
		INV(1, write, "2") INV(5, write, "1")
		INV(2, read, "nil") OK(2, read, "1") INV(2, read, "nil") OK(2, read, "2")
		INV(3, read, "nil") OK(3, read, "1") OK(1, write, "2") OK(5, write, "1")), EXIT_VALID);
	/* ...but without that second write of 1 it is invalid. */
	assert_int_equal(verdict_both_ways("cas-register",
		INV(0, write, "1") OK(0, write, "1") INV(1, write, "2")
		INV(2, read, "nil") OK(2, read, "1") INV(2, read, "nil") OK(2, read, "2")
		INV(3, read, "nil") OK(3, read, "1") OK(1, write, "2")), EXIT_INVALID);
	/* Info reads tell nothing (a value never written is fine)... */
	assert_int_equal(verdict_both_ways("cas-register",
		INV(0, write, "1") OK(0, write, "1") INV(1, read, "nil") INFO(1, read, "7")
		INV(2, read, "nil") OK(2, read, "1")), EXIT_VALID);
	/* ...and a failed cas never happened: the read of 2 is impossible. */
	assert_int_equal(verdict_both_ways("cas-register",
		INV(0, write, "1") OK(0, write, "1") INV(1, cas, "[1 2]") FAIL(1, cas, "[1 2]")
		INV(2, read, "nil") OK(2, read, "1")), EXIT_VALID);
	assert_int_equal(verdict_both_ways("cas-register",
		INV(0, write, "1") OK(0, write, "1") INV(1, cas, "[1 2]") FAIL(1, cas, "[1 2]")
		INV(2, read, "nil") OK(2, read, "2")), EXIT_INVALID);
	/* kv gets with appends, the same both ways */
	assert_int_equal(verdict_both_ways("kv",
		INV(0, append, "\"a\"") INV(1, append, "\"b\"") INV(2, get, "nil") OK(2, get, "\"b\"")
		OK(0, append, "\"a\"") OK(1, append, "\"b\"") INV(2, get, "nil") OK(2, get, "\"ba\"")),
		EXIT_VALID);
	assert_int_equal(verdict_both_ways("kv",
		INV(0, append, "\"a\"") OK(0, append, "\"a\"") INV(1, append, "\"b\"") OK(1, append, "\"b\"")
		INV(2, get, "nil") OK(2, get, "\"ba\"")), EXIT_INVALID);

	/* Many reads concurrent with writes: the shortcut never branches on
	 * them, so far fewer configurations are explored. */
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "[{:process 99 :type :invoke :f :write :value 0}\n"
		     "{:process 99 :type :ok :f :write :value 0}\n");
	for (int w = 1; w <= 4; w++) {
		buf_printf(&b, "{:process %d :type :invoke :f :write :value %d}\n", 100 + w, w);
		for (int r = 0; r < 8; r++)
			buf_printf(&b, "{:process %d :type :invoke :f :read :value nil}\n", 10 * w + r);
		for (int r = 0; r < 8; r++)
			buf_printf(&b, "{:process %d :type :ok :f :read :value %d}\n", 10 * w + r,
				   r % 2 ? w : w - 1);
		buf_printf(&b, "{:process %d :type :ok :f :write :value %d}\n", 100 + w, w);
	}
	/* an impossible read at the end: every configuration gets explored */
	buf_puts(&b, "{:process 98 :type :invoke :f :read :value nil}\n"
		     "{:process 98 :type :ok :f :read :value 99}]");
	setenv("FAULTLINE_LIN_NO_PRUNE", "1", 1); /* the shortcut alone */
	json_t *r = check_edn("cas-register", b.data);
	json_int_t with = json_integer_value(json_object_get(json_object_get(r, "search"), "configurations"));
	int v1 = verdict(r);
	json_decref(r);
	setenv("FAULTLINE_LIN_NO_SHORTCUT", "1", 1);
	r = check_edn("cas-register", b.data);
	json_int_t without = json_integer_value(json_object_get(json_object_get(r, "search"), "configurations"));
	assert_int_equal(verdict(r), v1);
	json_decref(r);
	unsetenv("FAULTLINE_LIN_NO_SHORTCUT");
	unsetenv("FAULTLINE_LIN_NO_PRUNE");
	print_message("# configurations with the read shortcut %lld, without %lld\n", (long long)with,
		      (long long)without);
	assert_true(with * 5 < without);
	buf_free(&b);
}

/* A key only a very long search decides (40 writes that never complete
 * and a read of a value nobody wrote: every subset of the writes) next to
 * a key that is plainly invalid. */
static char *hot_and_bad(void)
{
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "[");
	for (int p = 0; p < 40; p++)
		buf_printf(&b, "{:process %d :type :invoke :f :write :value [\"hot\" %d]}\n", p, p);
	for (int i = 0; i < 40; i++)
		buf_printf(&b, "{:process %d :type :invoke :f :read :value [\"hot\" nil]}\n"
			       "{:process %d :type :ok :f :read :value [\"hot\" %d]}\n", 100 + i, 100 + i, i);
	buf_puts(&b, "{:process 99 :type :invoke :f :read :value [\"hot\" nil]}\n"
		     "{:process 99 :type :ok :f :read :value [\"hot\" 1000]}\n"
		     "{:process 98 :type :invoke :f :write :value [\"bad\" 1]}\n"
		     "{:process 98 :type :ok :f :write :value [\"bad\" 1]}\n"
		     "{:process 98 :type :invoke :f :read :value [\"bad\" nil]}\n"
		     "{:process 98 :type :ok :f :read :value [\"bad\" 2]}]");
	return buf_steal(&b);
}

static void test_early_stop(void **state)
{
	(void)state;
	char *h = hot_and_bad();
	/* default: invalid at once; the hot key is left, and said so */
	json_t *opts = json_pack("{s:{s:f}}", "linearizable", "after_invalid_seconds", 0.2);
	struct check_ctx o = {.model = "cas-register", .threads = 1, .opts = opts};
	int64_t t0 = now_ns();
	json_t *r = check_edn_opts(h, &o);
	double secs = (double)(now_ns() - t0) / 1e9;
	assert_int_equal(verdict(r), EXIT_INVALID);
	assert_false(json_is_true(json_object_get(r, "all_keys")));
	json_t *un = json_object_get(r, "unchecked_keys");
	assert_int_equal(json_array_size(un), 1);
	assert_string_equal(json_string_value(json_array_get(un, 0)), "hot");
	assert_non_null(strstr(json_string_value(json_object_get(r, "unchecked_reason")), "already invalid"));
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r, "failures"), 0),
							       "key")), "bad");
	assert_null(json_object_get(r, "unfinished_keys"));
	assert_true(secs < 30); /* prompt, not a hang (the time is a benchmark's business) */
	json_decref(r);
	json_decref(opts);
	/* the same with 2 threads and the automatic extra time */
	o.threads = 2;
	o.opts = NULL;
	r = check_edn_opts(h, &o);
	assert_int_equal(verdict(r), EXIT_INVALID);
	assert_int_equal(json_array_size(json_object_get(r, "unchecked_keys")), 1);
	json_decref(r);
	/* all_keys: the hot key is searched to the end (here: the timeout) */
	opts = json_pack("{s:{s:b}}", "linearizable", "all_keys", 1);
	o = (struct check_ctx){.model = "cas-register", .threads = 1, .opts = opts, .timeout = 0.5};
	r = check_edn_opts(h, &o);
	assert_int_equal(verdict(r), EXIT_INVALID);
	assert_true(json_is_true(json_object_get(r, "all_keys")));
	assert_null(json_object_get(r, "unchecked_keys"));
	assert_string_equal(json_string_value(json_array_get(json_object_get(r, "unfinished_keys"), 0)), "hot");
	assert_string_equal(json_string_value(json_object_get(r, "unknown_reason")), "timeout");
	json_decref(r);
	json_decref(opts);
	free(h);
}

/* Every invalid key is listed: the first ones with a counterexample, the
 * rest briefly (key, op, message). */
static void test_every_invalid_key_listed(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	for (int k = 0; k < 20; k++) {
		buf_printf(&b, "{:process 0 :type :invoke :f :write :value [%d 1]}\n", k);
		buf_printf(&b, "{:process 0 :type :ok :f :write :value [%d 1]}\n", k);
		buf_printf(&b, "{:process 1 :type :invoke :f :read :value [%d nil]}\n", k);
		buf_printf(&b, "{:process 1 :type :ok :f :read :value [%d 2]}\n", k);
	}
	json_t *opts = json_pack("{s:{s:b}}", "linearizable", "all_keys", 1);
	struct check_ctx o = {.model = "register", .threads = 2, .opts = opts};
	json_t *r = check_edn_opts(b.data, &o);
	assert_int_equal(verdict(r), EXIT_INVALID);
	assert_int_equal(json_integer_value(json_object_get(r, "invalid_keys")), 20);
	json_t *fs = json_object_get(r, "failures");
	assert_int_equal(json_array_size(fs), 20);
	size_t brief = 0, i;
	json_t *f;
	json_array_foreach(fs, i, f) {
		assert_non_null(json_object_get(f, "key"));
		assert_non_null(json_object_get(json_object_get(f, "op"), "index"));
		assert_non_null(strstr(json_string_value(json_object_get(f, "message")), "cannot be linearized"));
		brief += json_is_true(json_object_get(f, "brief"));
		assert_true(json_is_array(json_object_get(f, "prefix"))); /* short: kept */
	}
	assert_int_equal(brief, 4);
	assert_null(json_object_get(r, "failures_omitted"));
	json_decref(r);
	json_decref(opts);
	buf_free(&b);
}

static void test_memory_limit(void **state)
{
	(void)state;
	char *h = hot_and_bad();
	/* only the hot key: remove the bad one's ops */
	strcpy(strstr(h, "{:process 98"), "]");
	json_t *opts = json_pack("{s:{s:s}}", "linearizable", "memory_limit", "4M");
	struct check_ctx o = {.model = "cas-register", .threads = 1, .opts = opts};
	json_t *r = check_edn_opts(h, &o);
	assert_int_equal(verdict(r), EXIT_UNKNOWN);
	assert_string_equal(json_string_value(json_object_get(r, "unknown_reason")), "memory limit");
	assert_string_equal(json_string_value(json_array_get(json_object_get(r, "memory_limit_keys"), 0)), "hot");
	assert_non_null(strstr(json_string_value(json_object_get(r, "memory_limit_message")), "4 MiB"));
	assert_int_equal(json_integer_value(json_object_get(r, "memory_limit_bytes")), 4 << 20);
	json_decref(r);
	json_decref(opts);
	free(h);
	/* the default fits the machine: at most 1 GiB per key */
	o = (struct check_ctx){.model = "cas-register"};
	r = check_edn_opts(INV(0, write, "1") OK(0, write, "1"), &o);
	json_int_t lim = json_integer_value(json_object_get(r, "memory_limit_bytes"));
	assert_true(lim > 0 && lim <= (json_int_t)1 << 30);
	json_decref(r);
}

static void test_opts_validated(void **state)
{
	(void)state;
	const struct checker *c = &checker_linearizable;
	char err[256];
	const char *bad[] = {"{\"all_keys\": 1}", "{\"memory_limit\": \"lots\"}", "{\"memory_limit\": 10}",
			     "{\"after_invalid_seconds\": -1}", "{\"bogus\": true}", "[]"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		json_t *o = json_loads(bad[i], 0, NULL);
		assert_non_null(o);
		if (c->check_opts(o, err, sizeof err) != -1)
			fail_msg("%s accepted", bad[i]);
		assert_non_null(strstr(err, "linearizable"));
		json_decref(o);
	}
	json_t *o = json_loads("{\"all_keys\": true, \"memory_limit\": \"512M\", \"after_invalid_seconds\": 2}",
			       0, NULL);
	assert_int_equal(c->check_opts(o, err, sizeof err), 0);
	json_decref(o);
	assert_int_equal(c->check_opts(NULL, err, sizeof err), 0);
}

/* Issue 12: an op the model does not know is bad input whatever becomes
 * of it, not only when it completes ok. */
static void test_unknown_op_any_outcome(void **state)
{
	(void)state;
	const char *h[] = {INV(0, frobnicate, "1") FAIL(0, frobnicate, "1"),
			   INV(0, frobnicate, "1"),
			   INV(0, frobnicate, "1") INFO(0, frobnicate, "1")};
	for (size_t i = 0; i < 3; i++) {
		json_t *r = check_edn("cas-register", h[i]);
		const char *e = json_string_value(json_object_get(r, "error"));
		if (!e || !strstr(e, "frobnicate"))
			fail_msg("history %zu: no error about frobnicate", i);
		json_decref(r);
	}
}

/* A kv counterexample with long strings stays short: where the state and
 * what the get saw part, clipped. */
static void test_short_counterexample(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "[");
	struct buf seen;
	buf_init(&seen);
	for (int i = 0; i < 60; i++) {
		buf_printf(&b, "{:process 0 :type :invoke :f :append :value \"x %d y\"}\n"
			       "{:process 0 :type :ok :f :append :value \"x %d y\"}\n", i, i);
		buf_printf(&seen, "x %d y", i == 40 ? 41 : i == 41 ? 40 : i);
	}
	buf_printf(&b, "{:process 1 :type :invoke :f :get :value nil}\n"
		       "{:process 1 :type :ok :f :get :value \"%s\"}]", seen.data);
	json_t *r = check_edn("kv", b.data);
	assert_int_equal(verdict(r), EXIT_INVALID);
	json_t *f = json_array_get(json_object_get(r, "failures"), 0);
	const char *m = json_string_value(json_object_get(f, "message"));
	if (strlen(m) > 600)
		fail_msg("message of %zu chars: %s", strlen(m), m);
	assert_non_null(strstr(m, "chars"));
	assert_non_null(strstr(m, "x 40 y"));
	buf_free(&b);
	buf_free(&seen);
	json_decref(r);
}

int main(void)
{
	/* the search's reductions from the first step, so these histories
	 * exercise them (they otherwise wait for a search that works hard) */
	setenv("FAULTLINE_LIN_EAGER", "1", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_history_valid),
		cmocka_unit_test(test_sequential),
		cmocka_unit_test(test_concurrent_writes),
		cmocka_unit_test(test_info_explains_read),
		cmocka_unit_test(test_failed_cas),
		cmocka_unit_test(test_never_written_value),
		cmocka_unit_test(test_blames_concurrent_read),
		cmocka_unit_test(test_invoke_after_info),
		cmocka_unit_test(test_nil_read_modes),
		cmocka_unit_test(test_keys_independent),
		cmocka_unit_test(test_kv_model_via_checker),
		cmocka_unit_test(test_timeout_gives_unknown),
		cmocka_unit_test(test_merge_and_exit_codes),
		cmocka_unit_test(test_unknown_op_is_error),
		cmocka_unit_test(test_differential_random),
		cmocka_unit_test(test_read_shortcut),
		cmocka_unit_test(test_early_stop),
		cmocka_unit_test(test_every_invalid_key_listed),
		cmocka_unit_test(test_memory_limit),
		cmocka_unit_test(test_opts_validated),
		cmocka_unit_test(test_unknown_op_any_outcome),
		cmocka_unit_test(test_short_counterexample),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
