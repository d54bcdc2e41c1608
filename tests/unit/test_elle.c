/*
 * test_elle.c - the transaction isolation checker on tiny hand-made
 * histories, one (or more) per anomaly, written from the anomaly's
 * definition in Elle's mini-language: "ax1ry12" is one transaction that
 * appends 1 to key x and reads y = [1 2]; "wx1rx" (rw-register) writes
 * x = 1 and reads x = nil. Each history goes through the real EDN reader
 * and the checker; the tests assert the verdict, the anomaly types, the
 * models ruled out (Elle's own expectations where it has a test for the
 * case) and the evidence (cycle edges, keys, the explanation). Bad input
 * (mixed models, a value appended twice, bad options) must be refused, not
 * judged. Every history is also written as JSONL and judged twice more:
 * loaded as jansson trees, and through check_history, whose reader leaves
 * the transactions as JSON text that the checker parses itself; the two
 * must give the same result (or the same refusal).
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

#include "check.h"
#include "checker.h"
#include "history.h"
#include "util.h"

/* ---------------------------------------------------------- building */

/* Mini-language to EDN micro-ops. Register mode: "w" writes, "r" reads a
 * single value (none: nil). invoke: reads become nil. */
static void mops_edn(struct buf *b, const char *s, bool invoke)
{
	buf_puts(b, "[");
	bool first = true;
	while (*s) {
		char f = *s++;
		char k = *s++;
		if (!first)
			buf_puts(b, " ");
		first = false;
		if (f == 'a' || f == 'w') {
			buf_printf(b, "[:%s :%c %c]", f == 'a' ? "append" : "w", k, *s++);
			continue;
		}
		/* a read: digits follow; '.' marks a register read of one value */
		if (*s == '.') {
			s++;
			bool digit = *s >= '0' && *s <= '9';
			if (invoke || !digit)
				buf_printf(b, "[:r :%c nil]", k);
			else
				buf_printf(b, "[:r :%c %c]", k, *s);
			if (digit)
				s++;
			continue;
		}
		if (invoke) {
			while ((*s >= '0' && *s <= '9') || *s == '_')
				s++;
			buf_printf(b, "[:r :%c nil]", k);
			continue;
		}
		if (*s == '_') { /* explicit nil read */
			s++;
			buf_printf(b, "[:r :%c nil]", k);
			continue;
		}
		buf_printf(b, "[:r :%c [", k);
		bool f2 = true;
		while (*s >= '0' && *s <= '9') {
			buf_printf(b, "%s%c", f2 ? "" : " ", *s++);
			f2 = false;
		}
		buf_puts(b, "]]");
	}
	buf_puts(b, "]");
}

/* A transaction spec: "[p<N>:][ok|fail|info:]mops". */
struct tx {
	int process;
	const char *type;
	const char *mops;
};

static struct tx parse_tx(const char *spec, int i)
{
	struct tx t = {i, "ok", spec};
	if (spec[0] == 'p' && strchr(spec, ':')) {
		t.process = atoi(spec + 1);
		t.mops = strchr(spec, ':') + 1;
	}
	if (!strncmp(t.mops, "fail:", 5) || !strncmp(t.mops, "info:", 5)) {
		t.type = !strncmp(t.mops, "fail:", 5) ? "fail" : "info";
		t.mops = t.mops + 5;
	}
	return t;
}

static void op_edn(struct buf *b, const struct tx *t, const char *type)
{
	buf_printf(b, "{:process %d :type :%s :f :txn :value ", t->process, type);
	mops_edn(b, t->mops, !strcmp(type, "invoke") || !strcmp(type, "info"));
	buf_puts(b, "}\n");
}

/* All invocations first, then all completions: concurrent, so no
 * real-time order between them. NULL-terminated specs. */
static char *concurrent(const char *const *specs)
{
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "[\n");
	for (int i = 0; specs[i]; i++) {
		struct tx t = parse_tx(specs[i], i);
		op_edn(&b, &t, "invoke");
	}
	for (int i = 0; specs[i]; i++) {
		struct tx t = parse_tx(specs[i], i);
		op_edn(&b, &t, t.type);
	}
	buf_puts(&b, "]\n");
	return buf_steal(&b);
}

/* One after the other: each completes before the next is invoked. */
static char *sequential(const char *const *specs)
{
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "[\n");
	for (int i = 0; specs[i]; i++) {
		struct tx t = parse_tx(specs[i], i);
		op_edn(&b, &t, "invoke");
		op_edn(&b, &t, t.type);
	}
	buf_puts(&b, "]\n");
	return buf_steal(&b);
}

/* Load EDN text and run the checker with checker_opts.elle = opts (JSON
 * text or NULL). On refused input returns {"valid":"unknown","error":..}. */
static double ctx_timeout; /* for the next check_text */

/* A result without what differs from run to run (CPU seconds). */
static json_t *stable(json_t *r)
{
	json_object_del(json_object_get(r, "stats"), "cpu_seconds");
	return r;
}

/* h as JSONL, judged from trees and from text: the same result. */
static void check_text_paths(const struct history *h, const struct check_ctx *ctx)
{
	char path[] = "/tmp/test_elle_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	for (size_t i = 0; i < h->n; i++) {
		json_t *o = op_to_json(&h->ops[i]);
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fprintf(f, "%s\n", s);
		free(s);
		json_decref(o);
	}
	fclose(f);
	struct history jh;
	struct history_error herr;
	if (history_load(path, HISTORY_JSONL, &jh, &herr) != 0)
		fail_msg("reload: %s", herr.msg);
	json_t *tree = stable(checker_run(checker_find("elle"), &jh, ctx));
	history_free(&jh);
	const char *names[] = {"elle"};
	char err[600] = "";
	json_t *all = check_history(path, HISTORY_JSONL, names, 1, ctx, err, sizeof err);
	unlink(path);
	json_t *text;
	if (all) {
		text = stable(json_incref(json_object_get(json_object_get(all, "checkers"), "elle")));
		json_decref(all);
	} else {
		/* a refused op is "FILE: why"; refused options are just why */
		size_t pl = strlen(path);
		bool at = !strncmp(err, path, pl) && err[pl] == ':';
		text = json_pack("{s:s, s:s}", "valid", "unknown", "error", at ? err + pl + 2 : err);
	}
	const char *e1 = json_string_value(json_object_get(tree, "error"));
	const char *e2 = json_string_value(json_object_get(text, "error"));
	size_t n1 = e1 ? strlen(e1) : 0, n2 = e2 ? strlen(e2) : 0;
	if (e1 && e2 && !strncmp(e1, e2, n1 < n2 ? n1 : n2)) /* cut at different lengths */
		json_object_set(text, "error", json_object_get(tree, "error"));
	if (!json_equal(tree, text)) {
		char *a = json_dumps(tree, JSON_INDENT(1)), *b = json_dumps(text, JSON_INDENT(1));
		fail_msg("from trees:\n%s\nfrom text:\n%s", a, b);
	}
	json_decref(tree);
	json_decref(text);
}

static json_t *check_text(const char *edn, const char *opts)
{
	char path[] = "/tmp/test_elle_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, edn, strlen(edn)), (ssize_t)strlen(edn));
	close(fd);
	struct history h;
	struct history_error err;
	int rc = history_load(path, HISTORY_EDN, &h, &err);
	unlink(path);
	if (rc != 0)
		fail_msg("parse: %s\n%s", err.msg, edn);
	json_t *o = json_object();
	if (opts) {
		json_error_t je;
		json_t *e = json_loads(opts, 0, &je);
		if (!e)
			fail_msg("bad opts %s: %s", opts, je.text);
		json_object_set_new(o, "elle", e);
	}
	struct check_ctx ctx = {.opts = o, .timeout = ctx_timeout, .lenient = true};
	const struct checker *c = checker_find("elle");
	assert_non_null(c);
	if (!ctx_timeout)
		check_text_paths(&h, &ctx);
	ctx_timeout = 0;
	json_t *r = checker_run(c, &h, &ctx);
	history_free(&h);
	json_decref(o);
	return r;
}

static json_t *run(char *edn, const char *opts)
{
	json_t *r = check_text(edn, opts);
	free(edn);
	return r;
}

#define C(...) concurrent((const char *const[]){__VA_ARGS__, NULL})
#define S(...) sequential((const char *const[]){__VA_ARGS__, NULL})

static char *dump(json_t *r)
{
	return json_dumps(r, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
}

/* The string array field equals the NULL-terminated list, in order. */
static void expect_list(json_t *r, const char *field, const char *const *want)
{
	json_t *a = json_object_get(r, field);
	size_t n = 0;
	while (want[n])
		n++;
	bool ok = json_is_array(a) && json_array_size(a) == n;
	for (size_t i = 0; ok && i < n; i++)
		ok = !strcmp(json_string_value(json_array_get(a, i)) ?: "", want[i]);
	if (!ok) {
		char *s = dump(r);
		fail_msg("%s: want %s%s%s..., got\n%s", field, n ? want[0] : "[]", n > 1 ? ", " : "",
			 n > 1 ? want[1] : "", s);
	}
}
#define TYPES(r, ...) expect_list(r, "anomaly_types", (const char *const[]){__VA_ARGS__, NULL})
#define NOT(r, ...) expect_list(r, "not", (const char *const[]){__VA_ARGS__, NULL})
#define NO_TYPES(r) expect_list(r, "anomaly_types", (const char *const[]){NULL})

static void expect_valid(json_t *r, const char *want)
{
	json_t *v = json_object_get(r, "valid");
	bool ok = !strcmp(want, "true")	   ? json_is_true(v)
		  : !strcmp(want, "false") ? json_is_false(v)
					   : json_is_string(v) && !strcmp(json_string_value(v), want);
	if (!ok) {
		char *s = dump(r);
		fail_msg("valid: want %s, got\n%s", want, s);
	}
}

static json_t *failure(json_t *r, const char *kind)
{
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(r, "failures"), i, f) {
		if (!strcmp(json_string_value(json_object_get(f, "kind")) ?: "", kind))
			return f;
	}
	char *s = dump(r);
	fail_msg("no %s failure in\n%s", kind, s);
	return NULL;
}

/* The cycle's edge types, "rw,ww,wr". */
static char *edge_types(json_t *f)
{
	struct buf b;
	buf_init(&b);
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(f, "edges"), i, e)
		buf_printf(&b, "%s%s", i ? "," : "", json_string_value(json_object_get(e, "type")));
	return buf_steal(&b);
}

static void expect_contains(const char *hay, const char *needle)
{
	if (!hay || !strstr(hay, needle))
		fail_msg("want \"%s\" in \"%s\"", needle, hay ? hay : "(null)");
}

/* ------------------------------------------------------------- cycles */

static void test_g0(void **state)
{
	(void)state;
	/* x: 1 then 2, y: 2 then 1 - a pure write cycle */
	json_t *r = run(C("ax1ay1", "ax2ay2", "rx12ry21"), NULL);
	expect_valid(r, "false");
	TYPES(r, "G0");
	NOT(r, "read-uncommitted");
	json_t *f = failure(r, "G0");
	char *t = edge_types(f);
	assert_string_equal(t, "ww,ww");
	free(t);
	expect_contains(json_string_value(json_object_get(f, "explanation")),
			"appended 2 after T1 appended 1 to key \"x\"");
	json_decref(r);
	/* read-uncommitted forbids exactly this */
	r = run(C("ax1ay1", "ax2ay2", "rx12ry21"), "{\"consistency_models\":[\"read-uncommitted\"]}");
	expect_valid(r, "false");
	json_decref(r);
}

static void test_g1c(void **state)
{
	(void)state;
	/* T1 reads T2's y; T2's x follows T1's */
	json_t *r = run(C("ax1ry1", "ax2ay1", "rx12ry1"), NULL);
	expect_valid(r, "false");
	TYPES(r, "G1c");
	NOT(r, "read-committed");
	char *t = edge_types(failure(r, "G1c"));
	assert_true(!strcmp(t, "wr,ww") || !strcmp(t, "ww,wr"));
	free(t);
	json_decref(r);
	/* read-uncommitted allows it */
	r = run(C("ax1ry1", "ax2ay1", "rx12ry1"), "{\"consistency_models\":[\"read-uncommitted\"]}");
	expect_valid(r, "true");
	json_decref(r);
}

static void test_g_single(void **state)
{
	(void)state;
	json_t *r = run(C("ax1ay1", "ax2ry", "rx12"), NULL);
	expect_valid(r, "false");
	TYPES(r, "G-single");
	NOT(r, "consistent-view", "repeatable-read");
	json_t *f = failure(r, "G-single");
	char *t = edge_types(f);
	assert_true(!strcmp(t, "rw,ww") || !strcmp(t, "ww,rw"));
	free(t);
	const char *ex = json_string_value(json_object_get(f, "explanation"));
	expect_contains(ex, "observed the initial (empty) state of key \"y\"");
	expect_contains(ex, "a contradiction!");
	/* the rw edge names its key and value */
	size_t i;
	json_t *e;
	bool saw = false;
	json_array_foreach(json_object_get(f, "edges"), i, e) {
		if (strcmp(json_string_value(json_object_get(e, "type")), "rw"))
			continue;
		saw = true;
		assert_string_equal(json_string_value(json_object_get(e, "key")), "y");
		assert_int_equal(json_integer_value(json_object_get(e, "value")), 1);
		assert_true(json_is_null(json_object_get(e, "read")));
	}
	assert_true(saw);
	json_decref(r);
	/* snapshot isolation forbids it, read committed does not */
	r = run(C("ax1ay1", "ax2ry", "rx12"), "{\"consistency_models\":[\"snapshot-isolation\"]}");
	expect_valid(r, "false");
	json_decref(r);
	r = run(C("ax1ay1", "ax2ry", "rx12"), "{\"consistency_models\":[\"read-committed\"]}");
	expect_valid(r, "true");
	json_decref(r);
}

static void test_write_skew_g2_item(void **state)
{
	(void)state;
	json_t *r = run(C("ax1ry", "ay1rx"), NULL);
	expect_valid(r, "false");
	TYPES(r, "G2-item");
	NOT(r, "repeatable-read");
	char *t = edge_types(failure(r, "G2-item"));
	assert_string_equal(t, "rw,rw");
	free(t);
	json_decref(r);
	/* valid under read committed and snapshot isolation (write skew) */
	r = run(C("ax1ry", "ay1rx"), "{\"consistency_models\":[\"read-committed\"]}");
	expect_valid(r, "true");
	NO_TYPES(r);
	expect_list(r, "other_anomaly_types", (const char *const[]){"G2-item", NULL});
	json_decref(r);
	r = run(C("ax1ry", "ay1rx"), "{\"consistency_models\":[\"snapshot-isolation\"]}");
	expect_valid(r, "true");
	json_decref(r);
}

static void test_g_nonadjacent(void **state)
{
	(void)state;
	/* rw, wr, rw, wr: two anti-dependencies, never adjacent */
	json_t *r = run(C("ax1", "rx1ry", "ay1", "ry1rx"), NULL);
	expect_valid(r, "false");
	TYPES(r, "G-nonadjacent");
	NOT(r, "repeatable-read", "snapshot-isolation");
	char *t = edge_types(failure(r, "G-nonadjacent"));
	assert_true(strstr(t, "rw,wr,rw,wr") || strstr(t, "wr,rw,wr,rw"));
	free(t);
	json_decref(r);
	/* rw rw wr rw wr: adjacent anti-dependencies, snapshot isolation holds */
	r = run(C("rx5ay1", "ryaz2", "rzat3", "rt3au4", "ruax5"),
		"{\"consistency_models\":[\"snapshot-isolation\"]}");
	expect_valid(r, "true");
	json_decref(r);
}

static void test_lost_update(void **state)
{
	(void)state;
	json_t *r = run(C("ax0", "rx0ax1", "rx0ax2"), NULL);
	expect_valid(r, "false");
	TYPES(r, "G2-item", "lost-update");
	NOT(r, "cursor-stability", "update-atomic");
	json_t *f = failure(r, "lost-update");
	assert_string_equal(json_string_value(json_object_get(f, "key")), "x");
	assert_int_equal(json_array_size(json_object_get(f, "txns")), 2);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(f, "value"), 0)), 0);
	json_decref(r);
	/* one txn overwriting its own read twice is no lost update */
	r = run(C("rx_ax1ax2", "rx12"), NULL);
	expect_valid(r, "true");
	json_decref(r);
}

static void test_unobserved_write(void **state)
{
	(void)state;
	/* Elle's unobserved-write test: y misses 1, so both G-single and G0 */
	json_t *r = run(C("ax1ay1", "ax2ay2", "ax3ay3", "rx12", "ry2"),
			"{\"consistency_models\":[\"serializable\"]}");
	expect_valid(r, "false");
	TYPES(r, "G-single", "G0");
	NOT(r, "read-uncommitted");
	json_decref(r);
}

/* Real-time and process variants (Elle's strong SI tests). */
static void test_g_single_realtime(void **state)
{
	(void)state;
	/* T2 reads x = [1] after T1 appended 2 and completed */
	char *h = S("ax1", "ax2", "rx1", "rx12");
	json_t *r = check_text(h, "{\"consistency_models\":[\"serializable\"]}");
	expect_valid(r, "true");
	json_decref(r);
	r = run(h, NULL);
	expect_valid(r, "false");
	TYPES(r, "G-single-realtime");
	NOT(r, "strong-snapshot-isolation");
	json_t *f = failure(r, "G-single-realtime");
	char *t = edge_types(f);
	assert_true(!strcmp(t, "rw,realtime") || !strcmp(t, "realtime,rw"));
	free(t);
	expect_contains(json_string_value(json_object_get(f, "explanation")), "was invoked");
	json_decref(r);
}

static void test_g_single_process(void **state)
{
	(void)state;
	const char *edn = "[{:process 0 :type :invoke :f :txn :value [[:append :x 1]]}\n"
			  "{:process 0 :type :ok :f :txn :value [[:append :x 1]]}\n"
			  "{:process 1 :type :invoke :f :txn :value [[:append :x 2]]}\n"
			  "{:process 1 :type :ok :f :txn :value [[:append :x 2]]}\n"
			  "{:process 1 :type :invoke :f :txn :value [[:r :x nil]]}\n"
			  "{:process 1 :type :ok :f :txn :value [[:r :x [1]]]}\n"
			  "{:process 2 :type :invoke :f :txn :value [[:r :x nil]]}\n"
			  "{:process 2 :type :ok :f :txn :value [[:r :x [1 2]]]}]\n";
	json_t *r = check_text(edn, "{\"consistency_models\":[\"serializable\"]}");
	expect_valid(r, "true");
	json_decref(r);
	r = check_text(edn, "{\"consistency_models\":[\"strong-session-snapshot-isolation\"]}");
	expect_valid(r, "false");
	TYPES(r, "G-single-process");
	NOT(r, "strong-session-snapshot-isolation");
	assert_true(json_is_true(json_object_get(r, "process")));
	char *t = edge_types(failure(r, "G-single-process"));
	assert_true(!strcmp(t, "rw,process") || !strcmp(t, "process,rw"));
	free(t);
	json_decref(r);
}

static void test_g_nonadjacent_process(void **state)
{
	(void)state;
	/* Elle issue 17 (Tsunaou) */
	const char *edn = "[{:process 0 :type :invoke :f :txn :value [[:r :x nil] [:r :z nil]]}\n"
			  "{:process 0 :type :ok :f :txn :value [[:r :x nil] [:r :z [1]]]}\n"
			  "{:process 1 :type :invoke :f :txn :value [[:append :x 1]]}\n"
			  "{:process 1 :type :ok :f :txn :value [[:append :x 1]]}\n"
			  "{:process 1 :type :invoke :f :txn :value [[:r :z nil]]}\n"
			  "{:process 1 :type :ok :f :txn :value [[:r :z nil]]}\n"
			  "{:process 2 :type :invoke :f :txn :value [[:append :z 1]]}\n"
			  "{:process 2 :type :ok :f :txn :value [[:append :z 1]]}]\n";
	json_t *r = check_text(edn, "{\"consistency_models\":[\"serializable\"]}");
	expect_valid(r, "true");
	json_decref(r);
	r = check_text(edn, "{\"consistency_models\":[\"strong-session-snapshot-isolation\"]}");
	expect_valid(r, "false");
	TYPES(r, "G-nonadjacent-process");
	NOT(r, "strong-session-snapshot-isolation");
	json_decref(r);
}

static void test_g1c_process(void **state)
{
	(void)state;
	/* Elle issue 21: t0 -wr-> t1 -process-> t2 -wr-> t0 */
	const char *edn = "[{:process 1 :type :invoke :f :txn :value [[:r :x] [:append :y 1]]}\n"
			  "{:process 1 :type :ok :f :txn :value [[:r :x [1]] [:append :y 1]]}\n"
			  "{:process 2 :type :invoke :f :txn :value [[:r :y]]}\n"
			  "{:process 2 :type :ok :f :txn :value [[:r :y [1]]]}\n"
			  "{:process 2 :type :invoke :f :txn :value [[:append :x 1]]}\n"
			  "{:process 2 :type :ok :f :txn :value [[:append :x 1]]}]\n";
	json_t *r = check_text(edn, "{\"consistency_models\":[\"strong-session-snapshot-isolation\"]}");
	expect_valid(r, "false");
	TYPES(r, "G1c-process");
	NOT(r, "strong-session-read-committed");
	json_decref(r);
}

/* -------------------------------------------------------- non-cycles */

static void test_g1a(void **state)
{
	(void)state;
	json_t *r = run(C("fail:ax1", "rx1"), "{\"consistency_models\":[\"read-committed\"]}");
	expect_valid(r, "false");
	TYPES(r, "G1a", "empty-transaction-graph");
	NOT(r, "read-committed");
	json_t *f = failure(r, "G1a");
	assert_int_equal(json_integer_value(json_object_get(f, "element")), 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(f, "writer"), "type")),
			    "fail");
	json_decref(r);
	/* read-uncommitted: only the empty graph is reported (unknown) */
	r = run(C("fail:ax1", "rx1"), "{\"consistency_models\":[\"read-uncommitted\"]}");
	expect_valid(r, "unknown");
	TYPES(r, "empty-transaction-graph");
	NOT(r, "read-committed");
	json_decref(r);
}

static void test_g1b(void **state)
{
	(void)state;
	/* T2 reads T1's intermediate append: G1b, and G-single with it */
	json_t *r = run(C("ax1ax2", "rx1"), NULL);
	expect_valid(r, "false");
	TYPES(r, "G-single", "G1b");
	NOT(r, "read-committed");
	json_decref(r);
	/* a txn reading its own intermediate append is fine */
	r = run(C("ax1rx1ax2", "rx12"), NULL);
	expect_valid(r, "true");
	json_decref(r);
}

static void test_internal(void **state)
{
	(void)state;
	json_t *r = run(C("ax1ax2ax4", "ax3rx1234"), "{\"anomalies\":[\"internal\"],"
					       "\"consistency_models\":[]}");
	expect_valid(r, "false");
	TYPES(r, "internal");
	json_t *f = failure(r, "internal");
	assert_true(json_is_true(json_object_get(f, "expected_suffix_only")));
	assert_int_equal(json_integer_value(json_array_get(json_object_get(f, "expected"), 0)), 3);
	json_decref(r);
	/* read, append, read again: must be the read plus the append */
	r = run(C("ax1ax2", "rx12ax3rx12", "rx123"), NULL);
	expect_valid(r, "false");
	f = failure(r, "internal");
	assert_int_equal(json_array_size(json_object_get(f, "expected")), 3);
	json_decref(r);
	r = run(C("ax1ax2", "rx12ax3rx123", "rx123"), "{\"consistency_models\":[\"serializable\"]}");
	expect_valid(r, "true");
	json_decref(r);
}

static void test_future_read(void **state)
{
	(void)state;
	json_t *r = run(C("ax0ax2", "rx012ax1"), "{\"anomalies\":[\"future-read\"],"
					     "\"consistency_models\":[]}");
	expect_valid(r, "false");
	assert_non_null(failure(r, "future-read"));
	json_decref(r);
}

static void test_duplicates(void **state)
{
	(void)state;
	json_t *r = run(C("ax1ry1", "ax2ay1", "rx121"), "{\"consistency_models\":[\"read-committed\"]}");
	expect_valid(r, "false");
	TYPES(r, "G1c", "duplicate-elements");
	NOT(r, "read-uncommitted");
	json_t *d = json_object_get(failure(r, "duplicate-elements"), "duplicates");
	assert_int_equal(json_array_size(d), 1);
	assert_int_equal(json_integer_value(json_array_get(json_array_get(d, 0), 0)), 1);
	assert_int_equal(json_integer_value(json_array_get(json_array_get(d, 0), 1)), 2);
	json_decref(r);
}

static void test_incompatible_order(void **state)
{
	(void)state;
	json_t *r = run(C("ax1ry1", "ax2", "ax3ay1", "rx13", "rx123"),
			"{\"consistency_models\":[], \"anomalies\":[\"G1\"]}");
	expect_valid(r, "false");
	TYPES(r, "G1c", "incompatible-order");
	NOT(r, "read-committed");
	json_t *v = json_object_get(failure(r, "incompatible-order"), "values");
	assert_int_equal(json_array_size(v), 2);
	json_decref(r);
}

static void test_dirty_update(void **state)
{
	(void)state;
	json_t *r = run(C("fail:ax1", "ax2", "rx12"), "{\"consistency_models\":[],"
						  "\"anomalies\":[\"dirty-update\"]}");
	expect_valid(r, "false");
	TYPES(r, "dirty-update");
	NOT(r, "read-committed");
	json_decref(r);
	/* through an info append */
	r = run(C("fail:ax1", "info:ax2", "ax3", "rx123"), "{\"consistency_models\":[],"
							   "\"anomalies\":[\"dirty-update\"]}");
	expect_valid(r, "false");
	json_t *vals = json_object_get(failure(r, "dirty-update"), "values");
	assert_int_equal(json_array_size(vals), 3);
	json_decref(r);
}

/* Info transactions: an observed append committed; nil reads say nothing. */
static void test_info(void **state)
{
	(void)state;
	/* T1 (info) appended x1, T2 saw it; T2 appended y1, T1... read nothing */
	json_t *r = run(C("info:ax1ry", "rx1ay1"), NULL);
	expect_valid(r, "true");
	json_decref(r);
	/* an info append nobody read: no edge, empty graph */
	r = run(C("info:ax1", "ry"), NULL);
	expect_valid(r, "unknown");
	json_decref(r);
}

static void test_valid_serial(void **state)
{
	(void)state;
	json_t *r = run(S("ax1", "rx1ax2", "rx12ay1", "rx12ry1"), NULL);
	expect_valid(r, "true");
	NO_TYPES(r);
	json_decref(r);
}

/* ------------------------------------------------------- rw-register */

static void test_register(void **state)
{
	(void)state;
	/* G1c: T1 reads T2's x, T2 reads T1's y */
	json_t *r = run(C("wx1ry.2", "wy2rx.1"), NULL);
	expect_valid(r, "false");
	TYPES(r, "G1c");
	assert_string_equal(json_string_value(json_object_get(r, "model")), "rw-register");
	expect_contains(json_string_value(json_object_get(failure(r, "G1c"), "explanation")),
			"read key \"x\" = 1, which T");
	json_decref(r);
	/* write skew: both read nil, both write: G2-item */
	r = run(C("rx.wy1", "ry.wx1"), NULL);
	expect_valid(r, "false");
	TYPES(r, "G2-item");
	json_decref(r);
	r = run(C("rx.wy1", "ry.wx1"), "{\"consistency_models\":[\"snapshot-isolation\"]}");
	expect_valid(r, "true");
	json_decref(r);
	/* lost update: both read x = 1 and write it */
	r = run(C("wx1", "rx.1wx2", "rx.1wx3"), NULL);
	expect_valid(r, "false");
	assert_non_null(failure(r, "lost-update"));
	json_decref(r);
	/* G1a and G1b */
	r = run(C("fail:wx1", "rx.1"), "{\"consistency_models\":[\"read-committed\"]}");
	assert_non_null(failure(r, "G1a"));
	json_decref(r);
	r = run(C("wx1wx2", "rx.1"), "{\"consistency_models\":[\"read-committed\"]}");
	assert_non_null(failure(r, "G1b"));
	json_decref(r);
	/* internal: a read after a write of the same key */
	r = run(C("wx1rx.2", "wx2"), NULL);
	expect_valid(r, "false");
	assert_non_null(failure(r, "internal"));
	json_decref(r);
	/* G-single: T2 read x = nil (before T1's write) yet saw T1's y */
	r = run(C("wx1wy1", "rx.ry.1"), NULL);
	expect_valid(r, "false");
	TYPES(r, "G-single");
	json_decref(r);
	/* a valid serial history */
	r = run(S("wx1", "rx.1wx2wy1", "rx.2ry.1"), NULL);
	expect_valid(r, "true");
	json_decref(r);
}

static void test_register_cyclic_versions(void **state)
{
	(void)state;
	/* process 0 sees x go 2 then 1, process 1 sees 1 then 2: per-process
	 * order contradicts itself for x */
	const char *edn = "[{:process 0 :type :invoke :f :txn :value [[:w :x 1]]}\n"
			  "{:process 0 :type :ok :f :txn :value [[:w :x 1]]}\n"
			  "{:process 1 :type :invoke :f :txn :value [[:w :x 2]]}\n"
			  "{:process 1 :type :ok :f :txn :value [[:w :x 2]]}\n"
			  "{:process 0 :type :invoke :f :txn :value [[:r :x nil]]}\n"
			  "{:process 0 :type :ok :f :txn :value [[:r :x 2]]}\n"
			  "{:process 1 :type :invoke :f :txn :value [[:r :x nil]]}\n"
			  "{:process 1 :type :ok :f :txn :value [[:r :x 1]]}]\n";
	json_t *r = check_text(edn, "{\"sequential_keys\":true}");
	json_t *f = failure(r, "cyclic-versions");
	assert_string_equal(json_string_value(json_array_get(json_object_get(f, "sources"), 1)),
			    "sequential-keys");
	NOT(r, "read-uncommitted");
	json_decref(r);
	/* without the assumption, nothing is cyclic */
	r = check_text(edn, "{\"consistency_models\":[\"serializable\"]}");
	expect_valid(r, "true");
	json_decref(r);
}

/* ------------------------------------------------------------ refusals */

static void expect_error(json_t *r, const char *needle)
{
	const char *e = json_string_value(json_object_get(r, "error"));
	if (!e) {
		char *s = dump(r);
		fail_msg("want an error with \"%s\", got\n%s", needle, s);
	}
	expect_contains(e, needle);
	json_decref(r);
}

static void test_refusals(void **state)
{
	(void)state;
	expect_error(run(C("ax1", "wx2"), NULL), "rw-register");
	expect_error(run(C("ax1", "ax1"), NULL), "appended to key \"x\" again");
	expect_error(run(C("ax1"), "{\"model\":\"rw-register\"}"), "checker_opts.elle.model says");
	expect_error(check_text("[{:process 0 :type :invoke :f :txn :value [[:frob :x 1]]}]", NULL),
		     "unknown micro-op \"frob\"");
	expect_error(check_text("[{:process 0 :type :invoke :f :txn :value 3}]", NULL),
		     "list of micro-ops");
	expect_error(run(C("ax1"), "{\"consistency_models\":[\"nonsense\"]}"),
		     "unknown consistency model 'nonsense'");
	expect_error(run(C("ax1"), "{\"anomalies\":[\"G9\"]}"), "unknown anomaly 'G9'");
	expect_error(run(C("ax1"), "{\"frob\":1}"), "checker_opts.elle.frob");
	expect_error(run(C("ax1"), "{\"model\":\"queue\"}"), "unknown model 'queue'");
	const struct checker *c = checker_find("elle");
	char err[256];
	json_t *o = json_pack("{s:[s]}", "consistency_models", "snapshot-isolation");
	assert_int_equal(c->check_opts(o, err, sizeof err), 0);
	json_decref(o);
	o = json_pack("{s:s}", "realtime", "yes");
	assert_int_equal(c->check_opts(o, err, sizeof err), -1);
	expect_contains(err, "checker_opts.elle.realtime");
	json_decref(o);
}

/* Keys are typed: integer 1 and string "1" are different keys. */
static void test_typed_keys(void **state)
{
	(void)state;
	const char *edn = "[{:process 0 :type :invoke :f :txn :value [[:append 1 1]]}\n"
			  "{:process 1 :type :invoke :f :txn :value [[:r \"1\" nil]]}\n"
			  "{:process 0 :type :ok :f :txn :value [[:append 1 1]]}\n"
			  "{:process 1 :type :ok :f :txn :value [[:r \"1\" [1]]]}]\n";
	json_t *r = check_text(edn, NULL);
	/* nothing appended to "1": no wr edge, nothing to judge */
	expect_valid(r, "unknown");
	json_t *st = json_object_get(r, "stats");
	assert_int_equal(json_integer_value(json_object_get(st, "keys")), 2);
	json_decref(r);
}

/* Keys and values of any JSON type: strings, floats, lists, maps, huge
 * integers - interned, compared by value, shown as they were. */
static void test_odd_values(void **state)
{
	(void)state;
	const char *edn = "[{:process 0 :type :invoke :f :txn :value [[:append [1 2] \"a\"] "
			  "[:append {:k 1} 1.5] [:append 99999999999999999999 -3]]}\n"
			  "{:process 1 :type :invoke :f :txn :value [[:r [1 2] nil] [:r {:k 1} nil] "
			  "[:r 99999999999999999999 nil]]}\n"
			  "{:process 0 :type :ok :f :txn :value [[:append [1 2] \"a\"] "
			  "[:append {:k 1} 1.5] [:append 99999999999999999999 -3]]}\n"
			  "{:process 1 :type :ok :f :txn :value [[:r [1 2] [\"a\"]] [:r {:k 1} []] "
			  "[:r 99999999999999999999 [-3]]]}]\n";
	json_t *r = check_text(edn, NULL);
	/* T2 saw T1's appends to [1 2] and the big key but not to {:k 1}: G-single */
	expect_valid(r, "false");
	TYPES(r, "G-single");
	json_t *f = failure(r, "G-single");
	const char *ex = json_string_value(json_object_get(f, "explanation"));
	expect_contains(ex, "key [1,2]");
	expect_contains(ex, "key {\"k\":1}");
	json_decref(r);
}

/* Ops without :process (Elle's paper example) pair up but give no
 * process order. */
static void test_no_process(void **state)
{
	(void)state;
	const char *edn = "{:index 0 :type :invoke :value [[:append 1 1]]}\n"
			  "{:index 1 :type :ok :value [[:append 1 1]]}\n"
			  "{:index 2 :type :invoke :value [[:r 1 nil]]}\n"
			  "{:index 3 :type :ok :value [[:r 1 []]]}\n";
	json_t *r = check_text(edn, "{\"consistency_models\":[\"strong-session-serializable\"],"
				    "\"process\":true}");
	json_t *st = json_object_get(r, "stats");
	assert_int_equal(json_integer_value(json_object_get(st, "process_edges")), 0);
	expect_valid(r, "true"); /* the rw edge alone is no cycle */
	json_decref(r);
	/* but real time still orders them: T1 < T2 and T2 -rw-> T1 */
	r = check_text(edn, NULL);
	expect_valid(r, "false");
	TYPES(r, "G-single-realtime");
	json_decref(r);
}

/* Big transactions take the indexed paths of the per-txn checks. */
static void test_big_txns(void **state)
{
	(void)state;
	struct buf b, v, v2;
	buf_init(&b);
	buf_init(&v);
	buf_init(&v2);
	/* 60 appends to 60 keys, then a read of key 59 missing its append */
	for (int i = 0; i < 60; i++)
		buf_printf(&v, "[:append %d %d] ", i, i);
	buf_printf(&v2, "%s[:r 59 []]", v.data);
	buf_printf(&b, "[{:process 0 :type :invoke :f :txn :value [%s[:r 59 nil]]}\n"
		       "{:process 0 :type :ok :f :txn :value [%s]}\n", v.data, v2.data);
	/* a read of key 1000 showing 7, then 40 other keys, then appending 7 */
	buf_puts(&b, "{:process 1 :type :invoke :f :txn :value [[:r 1000 nil]");
	for (int i = 0; i < 40; i++)
		buf_printf(&b, " [:r %d nil]", 2000 + i);
	buf_puts(&b, " [:append 1000 7]]}\n{:process 1 :type :ok :f :txn :value [[:r 1000 [7]]");
	for (int i = 0; i < 40; i++)
		buf_printf(&b, " [:r %d []]", 2000 + i);
	buf_puts(&b, " [:append 1000 7]]}]\n");
	json_t *r = check_text(b.data, "{\"consistency_models\":[], \"anomalies\":[\"internal\","
					   "\"future-read\"]}");
	json_t *f = failure(r, "internal");
	assert_int_equal(json_integer_value(json_array_get(json_object_get(f, "expected"), 0)), 59);
	f = failure(r, "future-read");
	assert_int_equal(json_integer_value(json_object_get(f, "element")), 7);
	json_decref(r);
	buf_free(&b);
	buf_free(&v);
	buf_free(&v2);
}

/* --timeout stops the cycle search: unknown, never valid, never a guess. */
static void test_timeout(void **state)
{
	(void)state;
	ctx_timeout = 1e-9;
	json_t *r = run(C("ax1ay1", "ax2ry", "rx12"), NULL);
	expect_valid(r, "unknown");
	expect_contains(json_string_value(json_object_get(r, "unknown_reason")), "timeout");
	json_decref(r);
	/* an anomaly found before the deadline still counts: G1a needs no search */
	ctx_timeout = 1e-9;
	r = run(C("fail:ax1", "rx1", "ax2ry", "ry"), NULL);
	expect_valid(r, "false");
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_g0),
		cmocka_unit_test(test_g1c),
		cmocka_unit_test(test_g_single),
		cmocka_unit_test(test_write_skew_g2_item),
		cmocka_unit_test(test_g_nonadjacent),
		cmocka_unit_test(test_lost_update),
		cmocka_unit_test(test_unobserved_write),
		cmocka_unit_test(test_g_single_realtime),
		cmocka_unit_test(test_g_single_process),
		cmocka_unit_test(test_g_nonadjacent_process),
		cmocka_unit_test(test_g1c_process),
		cmocka_unit_test(test_g1a),
		cmocka_unit_test(test_g1b),
		cmocka_unit_test(test_internal),
		cmocka_unit_test(test_future_read),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_incompatible_order),
		cmocka_unit_test(test_dirty_update),
		cmocka_unit_test(test_info),
		cmocka_unit_test(test_valid_serial),
		cmocka_unit_test(test_register),
		cmocka_unit_test(test_register_cyclic_versions),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_typed_keys),
		cmocka_unit_test(test_odd_values),
		cmocka_unit_test(test_no_process),
		cmocka_unit_test(test_big_txns),
		cmocka_unit_test(test_timeout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
