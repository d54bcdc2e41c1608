/*
 * test_report.c - unit tests for the report writers: the escaping functions
 * (every hostile string must come out inert in HTML, XML and <script> JSON),
 * XML 1.0's character rules (U+FFFE/U+FFFF, surrogates, invalid UTF-8 become
 * U+FFFD), report_write on a small run directory written here (CSP present,
 * the data blob's compact number columns decode back to the history's
 * values, expected outcomes counted apart from errors, errors grouped with
 * node names, the wall-clock anchor, no raw hostile markup), junit_write's
 * verdict mapping (invalid -> failure, unknown -> skipped, or failure with
 * fail_on "unknown") and its properties, and the store index's columns.
 * The page's JavaScript is exercised in a real browser by
 * tests/integration/report.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"
#include "report_assets.h"
#include "util.h"

#define XSS "<script>alert(1)</script>"

static char *esc(void (*fn)(struct buf *, const char *), const char *s)
{
	struct buf b;
	buf_init(&b);
	fn(&b, s);
	return buf_steal(&b);
}

static void test_html_escape(void **state)
{
	(void)state;
	char *s = esc(html_escape, XSS " \"q\" 'a' & \x01");
	assert_string_equal(s, "&lt;script&gt;alert(1)&lt;/script&gt; &quot;q&quot; &#39;a&#39; &amp; \xef\xbf\xbd");
	free(s);
	s = esc(html_escape, "plain text, unicode \xc3\xa9");
	assert_string_equal(s, "plain text, unicode \xc3\xa9");
	free(s);
}

/* Anything XML 1.0 forbids becomes U+FFFD: a junit.xml with one bad
 * character is rejected whole by CI systems (issue 13, item 7). */
static void test_xml_chars(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"a\xef\xbf\xbf" "b", "a\xef\xbf\xbd" "b"},            /* U+FFFF */
		{"a\xef\xbf\xbe" "b", "a\xef\xbf\xbd" "b"},            /* U+FFFE */
		{"\xef\xbf\xbd", "\xef\xbf\xbd"},                 /* U+FFFD itself is fine */
		{"\xed\xa0\x80x", "\xef\xbf\xbdx"},             /* a surrogate, CESU-style */
		{"\xc0\xafx", "\xef\xbf\xbd\xef\xbf\xbdx"},     /* overlong */
		{"\xff", "\xef\xbf\xbd"},                         /* never valid */
		{"\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd"},       /* truncated at the end */
		{"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* > U+10FFFF */
		{"\xf0\x9f\x98\x80 \xe4\xb8\xad \xc2\x85", "\xf0\x9f\x98\x80 \xe4\xb8\xad \xc2\x85"}, /* valid */
		{"tab\tlf\ncr\r\x0b", "tab\tlf\ncr\r\xef\xbf\xbd"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *s = esc(html_escape, cases[i].in);
		assert_string_equal(s, cases[i].out);
		free(s);
	}
}

static void test_json_string_embed(void **state)
{
	(void)state;
	const char *in = "</script><!-- \"x\" \\ \n\t & \xe2\x80\xa8 end";
	char *s = esc(json_string_embed, in);
	assert_null(strchr(s, '<'));
	assert_null(strchr(s, '>'));
	assert_null(strchr(s, '&'));
	assert_null(strstr(s, "\xe2\x80\xa8"));
	/* ... and it is still the same string to a JSON parser. */
	json_t *j = json_loads(s, JSON_DECODE_ANY, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(j), in);
	json_decref(j);
	free(s);
}

static void test_json_text_embed(void **state)
{
	(void)state;
	const char *in = "{\"v\":\"" XSS "\",\"a\":[1,\"&amp;\"]}";
	char *s = esc(json_text_embed, in);
	assert_null(strchr(s, '<'));
	json_t *a = json_loads(in, 0, NULL), *b = json_loads(s, 0, NULL);
	assert_non_null(b);
	assert_true(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	free(s);
}

static void test_url_and_truncate(void **state)
{
	(void)state;
	char *s = esc(url_path_escape, "nodes/n1/a b\"<x>.log");
	assert_string_equal(s, "nodes/n1/a%20b%22%3Cx%3E.log");
	free(s);
	s = esc(url_path_escape, "javascript:alert(1)");
	assert_null(strchr(s, ':'));
	free(s);
	s = utf8_truncate("h\xc3\xa9llo", 2); /* would split the é */
	assert_string_equal(s, "h...");
	free(s);
	s = utf8_truncate("short", 10);
	assert_string_equal(s, "short");
	free(s);
}

static void test_assets_cannot_close_their_element(void **state)
{
	(void)state;
	assert_true(strlen(report_js) > 1000);
	assert_true(strlen(report_css) > 100);
	assert_null(strstr(report_js, "</"));
	assert_null(strstr(report_css, "</"));
	assert_null(strstr(report_js, "innerHTML"));
}

static char dir[] = "/tmp/faultline-test-report-XXXXXX";
static char *run_dir;

static void put(const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", run_dir, name);
	assert_int_equal(file_write_all(p, text, strlen(text)), 0);
	free(p);
}

static char *slurp(const char *name)
{
	char *p = xasprintf("%s/%s", run_dir, name);
	char *s = file_read_all(p, NULL);
	assert_non_null(s);
	free(p);
	return s;
}

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	run_dir = xasprintf("%s/reg <b>x/20261124T010203", dir);
	assert_int_equal(mkdir_p(run_dir, 0755), 0);
	char *nd = xasprintf("%s/nodes/n1", run_dir);
	assert_int_equal(mkdir_p(nd, 0755), 0);
	free(nd);
	put("nodes/n1/etcd.log", "log\n");
	put("test.json", "{\"name\":\"reg <b>x</b>\",\"seed\":7,\"nodes\":[\"n1\",\"n2\"],"
			 "\"sudo_password\":\"hunter2\",\"workload\":\"register\"}");
	put("history.jsonl",
	    "{\"index\":0,\"time\":1000,\"type\":\"invoke\",\"process\":0,\"f\":\"write\",\"key\":\"k\",\"value\":\"" "<script>alert(1)<\\/script>" "\"}\n"
	    "{\"index\":1,\"time\":2000000,\"type\":\"invoke\",\"process\":\"nemesis\",\"f\":\"start-partition\",\"value\":null}\n"
	    "{\"index\":2,\"time\":3000000,\"type\":\"ok\",\"process\":0,\"f\":\"write\",\"key\":\"k\",\"value\":\"" "<script>alert(1)<\\/script>" "\",\"node\":\"n1\"}\n"
	    "{\"index\":3,\"time\":3500000,\"type\":\"info\",\"process\":\"nemesis\",\"f\":\"start-partition\",\"value\":{\"n1\":[\"n2\"],\"n2\":[\"n1\"]}}\n"
	    "{\"index\":4,\"time\":4000000,\"type\":\"invoke\",\"process\":1,\"f\":\"read\",\"key\":\"k\",\"value\":null}\n"
	    "{\"index\":5,\"time\":9000000,\"type\":\"info\",\"process\":1,\"f\":\"read\",\"key\":\"k\",\"value\":null,\"error\":\"</td><img src=x onerror=alert(2)>\"}\n"
	    "{\"index\":6,\"time\":9500000,\"type\":\"invoke\",\"process\":2,\"f\":\"read\",\"key\":\"k\",\"value\":null}\n"
	    "{\"index\":7,\"time\":9900000,\"type\":\"ok\",\"process\":2,\"f\":\"read\",\"key\":\"k\",\"value\":\"x\"}\n"
	    "{\"index\":8,\"time\":10000000,\"type\":\"invoke\",\"process\":3,\"f\":\"read\",\"key\":\"k\",\"value\":null}\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (getenv("KEEP"))
		return 0;
	char *cmd = xasprintf("rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(run_dir);
	return 0;
}

/* The JSON between <script type="application/json" id="fl-data"> and </script>. */
static json_t *report_data(const char *html)
{
	const char *open = "<script type=\"application/json\" id=\"fl-data\">";
	const char *a = strstr(html, open);
	assert_non_null(a);
	a += strlen(open);
	const char *b = strstr(a, "</script>");
	assert_non_null(b);
	json_error_t je;
	json_t *j = json_loadb(a, (size_t)(b - a), 0, &je);
	if (!j)
		fail_msg("embedded data does not parse: %s", je.text);
	return j;
}

/* The page's column decoding (report.js decodeColumn), written again here
 * so the encoding is checked against an independent reading of it. */
static int64_t *b88_decode(const char *s, size_t n, bool zig)
{
	int dec[128];
	for (int i = 0; i < 128; i++)
		dec[i] = -1;
	for (int ch = 0x23, k = 0; ch <= 0x7e; ch++)
		if (ch != '&' && ch != '<' && ch != '>' && ch != '\\')
			dec[ch] = k++;
	int64_t *out = calloc(n + 1, sizeof *out);
	uint64_t v = 0;
	size_t j = 0;
	for (; *s; s++) {
		assert_true(*s > 0 && dec[(int)*s] >= 0);
		int x = dec[(int)*s];
		if (x >= 44) {
			v = v * 44 + (uint64_t)(x - 44);
			continue;
		}
		v = v * 44 + (uint64_t)x;
		assert_true(j < n);
		out[j++] = zig ? (v & 1 ? -(int64_t)((v + 1) / 2) : (int64_t)(v / 2)) : (int64_t)v;
		v = 0;
	}
	assert_int_equal(j, n);
	return out;
}

struct cols {
	size_t n;
	int64_t *t0, *d, *idx, *cidx, *proc, *ty, *f, *node, *err, *key, *val;
};

static void cols_decode(json_t *data, struct cols *c)
{
	json_t *o = json_object_get(data, "ops");
	size_t n = c->n = (size_t)json_integer_value(json_object_get(o, "n"));
#define COL(name, zig) b88_decode(json_string_value(json_object_get(o, name)), n, zig)
	c->t0 = COL("t0", true);
	c->d = COL("d", false);
	c->idx = COL("i", true);
	c->cidx = COL("ci", true);
	c->proc = COL("p", true);
	int64_t *cls = COL("c", false);
	c->key = COL("k", true);
	c->val = COL("v", false);
#undef COL
	c->ty = calloc(n + 1, sizeof *c->ty);
	c->f = calloc(n + 1, sizeof *c->f);
	c->node = calloc(n + 1, sizeof *c->node);
	c->err = calloc(n + 1, sizeof *c->err);
	json_t *classes = json_object_get(o, "classes");
	int64_t t = 0, ix = 0, k = -1;
	for (size_t i = 0; i < n; i++) {
		t += c->t0[i];
		c->t0[i] = t;
		ix += c->idx[i];
		c->idx[i] = ix;
		c->cidx[i] = c->cidx[i] ? ix + c->cidx[i] : -1;
		c->d[i] -= 1;
		k += c->key[i];
		c->key[i] = k;
		c->val[i] -= 1;
		size_t at = (size_t)cls[i] * 4;
		c->f[i] = json_integer_value(json_array_get(classes, at));
		c->ty[i] = json_integer_value(json_array_get(classes, at + 1));
		c->node[i] = json_integer_value(json_array_get(classes, at + 2));
		c->err[i] = json_integer_value(json_array_get(classes, at + 3));
	}
	free(cls);
}

static void cols_free(struct cols *c)
{
	free(c->t0); free(c->d); free(c->idx); free(c->cidx); free(c->proc); free(c->ty);
	free(c->f); free(c->node); free(c->err); free(c->key); free(c->val);
}

static void test_report_write(void **state)
{
	(void)state;
	put("results.json", "{\"valid\":false,\"checkers\":{\"linearizable\":{\"valid\":false,"
			    "\"failures\":[{\"key\":\"k\",\"message\":\"read " XSS " is stale\","
			    "\"op\":{\"index\":6},\"concurrent\":[],\"states\":[\"" XSS "\"]}]}}}");
	char err[512] = "";
	assert_int_equal(report_write(run_dir, err, sizeof err), 0);
	char *html = slurp("report.html");
	assert_non_null(strstr(html, "Content-Security-Policy\" content=\"default-src 'none';"));
	assert_null(strstr(html, "alert(1)</script>"));
	assert_null(strstr(html, "<img src=x"));
	assert_null(strstr(html, "<b>x</b>"));
	assert_null(strstr(html, "hunter2")); /* secret-looking keys are never shown */
	assert_non_null(strstr(html, "reg &lt;b&gt;x&lt;/b&gt;"));
	assert_non_null(strstr(html, "&lt;/td&gt;&lt;img src=x onerror=alert(2)&gt;")); /* error table */
	assert_non_null(strstr(html, "href=\"nodes/n1/etcd.log\""));
	assert_null(strstr(html, "src=\"http")); /* nothing remote */
	assert_null(strstr(html, "href=\"http"));

	json_t *d = report_data(html);
	struct cols c;
	cols_decode(d, &c);
	assert_int_equal(c.n, 4);
	/* outcomes: ok, info, ok, never completed */
	assert_int_equal(c.ty[0], 0);
	assert_int_equal(c.ty[1], 2);
	assert_int_equal(c.ty[2], 0);
	assert_int_equal(c.ty[3], 3);
	/* times in microseconds: op 0 invoked at 1000 ns, completed at 3 ms */
	assert_int_equal(c.t0[0], 1);
	assert_int_equal(c.d[0], 2999);
	assert_int_equal(c.d[3], -1);
	assert_int_equal(c.t0[3], 10000);
	/* indexes: invoke and completion */
	assert_int_equal(c.idx[1], 4);
	assert_int_equal(c.cidx[1], 5);
	assert_int_equal(c.cidx[3], -1);
	assert_int_equal(c.proc[2], 2);
	json_t *values = json_object_get(json_object_get(d, "strings"), "values");
	assert_string_equal(json_string_value(json_array_get(values, (size_t)c.val[0])), "\"" XSS "\"");
	json_t *fault = json_array_get(json_object_get(d, "faults"), 0);
	assert_string_equal(json_string_value(json_object_get(fault, "kind")), "partition");
	assert_int_equal(json_integer_value(json_object_get(fault, "t0")), 2000);
	assert_int_equal(json_integer_value(json_object_get(fault, "t1")), 10000); /* never stopped: to the end */
	/* results.json is embedded whole: the page renders its failures by kind */
	json_t *fl = json_object_get(json_object_get(json_object_get(json_object_get(d, "results"), "checkers"),
						     "linearizable"), "failures");
	assert_int_equal(json_array_size(fl), 1);
	cols_free(&c);
	json_decref(d);
	free(html);
}

static void test_report_quantiles(void **state)
{
	(void)state;
	put("results.json", "{\"valid\":true,\"checkers\":{\"linearizable\":{\"valid\":true}}}");
	char err[512] = "";
	assert_int_equal(report_write(run_dir, err, sizeof err), 0);
	char *html = slurp("report.html");
	/* read: one ok (0.40 ms), one info, one never completed. */
	assert_non_null(strstr(html, "<tr><td>read</td><td class=\"ok\">1</td><td class=\"expected\">0</td>"
				     "<td class=\"fail\">0</td><td class=\"info\">1</td><td>1</td>"
				     "<td>0.40</td><td>0.40</td><td>0.40</td><td>0.40</td></tr>"));
	free(html);
}

/* Big numbers survive the compact columns (times of an hour-long run,
 * indexes in the millions, processes retired thousands of times), a
 * compare that did not hold is an expected outcome and not an error,
 * errors are grouped without "after N ms" and with node names, and the
 * wall-clock anchor comes from test.json. */
static void test_report_outcomes(void **state)
{
	(void)state;
	char *dir2 = xasprintf("%s/outcomes", dir);
	char *saved = run_dir;
	run_dir = dir2;
	assert_int_equal(mkdir_p(run_dir, 0755), 0);
	put("test.json", "{\"name\":\"o\",\"history_start\":\"2026-11-30T07:50:32.155123Z\","
			 "\"nodes\":[{\"name\":\"n1\",\"host\":\"10.9.0.1\"},{\"name\":\"n2\",\"host\":\"10.9.0.12\"}]}");
	put("history.jsonl",
	    "{\"index\":7000000,\"time\":3600000000000,\"type\":\"invoke\",\"process\":123456,\"f\":\"cas\",\"key\":\"9\",\"value\":[1,2]}\n"
	    "{\"index\":7000001,\"time\":3600000900000,\"type\":\"invoke\",\"process\":5,\"f\":\"cas\",\"key\":\"9\",\"value\":[1,2]}\n"
	    "{\"index\":7000002,\"time\":3600001000000,\"type\":\"fail\",\"process\":123456,\"f\":\"cas\",\"key\":\"9\",\"value\":[1,2],\"node\":\"n2\",\"error\":\"compare failed\"}\n"
	    "{\"index\":7000003,\"time\":3600002000000,\"type\":\"fail\",\"process\":5,\"f\":\"cas\",\"key\":\"9\",\"value\":[1,2],\"node\":\"n1\",\"error\":\"connection refused: Failed to connect to 10.9.0.1 port 2379 after 0 ms\"}\n"
	    "{\"index\":7000004,\"time\":3600003000000,\"type\":\"invoke\",\"process\":5,\"f\":\"write\",\"key\":\"9\",\"value\":3}\n"
	    "{\"index\":7000005,\"time\":3600009000000,\"type\":\"info\",\"process\":5,\"f\":\"write\",\"key\":\"9\",\"value\":3,\"node\":\"n1\",\"error\":\"connection refused: Failed to connect to 10.9.0.1 port 2379 after 17 ms\"}\n"
	    "{\"index\":7000006,\"time\":3600010000000,\"type\":\"invoke\",\"process\":6,\"f\":\"write\",\"key\":\"9\",\"value\":4}\n"
	    "{\"index\":7000007,\"time\":3600011000000,\"type\":\"info\",\"process\":6,\"f\":\"write\",\"key\":\"9\",\"value\":4,\"node\":\"n2\",\"error\":\"reset by 10.9.0.12\"}\n");
	char err[512] = "";
	assert_int_equal(report_write(run_dir, err, sizeof err), 0);
	char *html = slurp("report.html");
	/* cas: one expected fail, one fail with an error */
	assert_non_null(strstr(html, "<tr><td>cas</td><td class=\"ok\">0</td><td class=\"expected\">1</td>"
				     "<td class=\"fail\">1</td><td class=\"info\">0</td>"));
	assert_non_null(strstr(html, "Expected outcomes, not errors: <b>1</b> cas <i>fail</i> &ldquo;compare failed&rdquo;"));
	/* one group for both refused connections, by node name */
	assert_non_null(strstr(html, "<tr><td>connection refused: Failed to connect to n1 port 2379</td><td>2</td>"
				     "<td class=\"fail\">1</td><td class=\"info\">1</td><td>n1</td>"));
	assert_non_null(strstr(html, "<tr><td>reset by n2</td>"));
	assert_null(strstr(html, "<td>compare failed</td>"));
	assert_non_null(strstr(html, "history time 0 = 2026-11-30 07:50:32.155 UTC"));

	json_t *d = report_data(html);
	assert_int_equal(json_integer_value(json_object_get(d, "wall0")), 1796025032155123LL);
	struct cols c;
	cols_decode(d, &c);
	assert_int_equal(c.n, 4);
	assert_int_equal(c.t0[0], 3600000000);
	assert_int_equal(c.d[0], 1000);
	assert_int_equal(c.idx[0], 7000000);
	assert_int_equal(c.cidx[0], 7000002);
	assert_int_equal(c.proc[0], 123456);
	assert_int_equal(c.ty[0], 4); /* expected fail */
	assert_int_equal(c.ty[1], 1); /* fail with an error */
	assert_int_equal(c.ty[2], 2);
	json_t *errors = json_object_get(json_object_get(d, "strings"), "errors");
	assert_string_equal(json_string_value(json_array_get(errors, (size_t)c.err[1])),
			    "connection refused: Failed to connect to n1 port 2379 after 0 ms");
	json_t *keys = json_object_get(json_object_get(d, "strings"), "keys");
	assert_string_equal(json_string_value(json_array_get(keys, (size_t)c.key[3])), "9");
	cols_free(&c);
	json_decref(d);
	free(html);

	/* Without history_start: the runner's log line, to the millisecond. */
	put("test.json", "{\"name\":\"o\"}");
	put("faultline.log", "2026-11-30T07:50:29.524Z info  setting up etcd on 5 nodes\n"
			     "2026-11-30T07:50:32.155Z info  running register for 60 s: 10 workers\n");
	assert_int_equal(report_write(run_dir, err, sizeof err), 0);
	html = slurp("report.html");
	assert_non_null(strstr(html, "history time 0 = 2026-11-30 07:50:32.155 UTC <small>(from faultline.log"));
	d = report_data(html);
	assert_int_equal(json_integer_value(json_object_get(d, "wall0")), 1796025032155000LL);
	json_decref(d);
	free(html);
	run_dir = saved;
	free(dir2);
}

static void test_junit(void **state)
{
	(void)state;
	char err[512] = "";
	put("results.json", "{\"valid\":false,\"checkers\":{\"linearizable\":{\"valid\":false,"
			    "\"failures\":[{\"key\":\"k\",\"message\":\"read \\\"" XSS "\\\" is stale\"}]},"
			    "\"perf\":{\"valid\":true},\"set\":{\"valid\":\"unknown\"}}}");
	assert_int_equal(junit_write(run_dir, err, sizeof err), 0);
	char *x = slurp("junit.xml");
	assert_non_null(strstr(x, "<testsuite name=\"reg &lt;b&gt;x&lt;/b&gt;\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""));
	assert_non_null(strstr(x, "<failure type=\"invalid\" message=\"read &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot; is stale (key k)\""));
	assert_non_null(strstr(x, "<skipped message=\"unknown: set could not decide\"/>"));
	assert_non_null(strstr(x, "timestamp=\"2026-11-24T01:02:03\""));
	assert_null(strstr(x, "<script"));
	free(x);

	put("test.json", "{\"name\":\"r\",\"fail_on\":\"unknown\"}");
	assert_int_equal(junit_write(run_dir, err, sizeof err), 0);
	x = slurp("junit.xml");
	assert_non_null(strstr(x, "tests=\"3\" failures=\"2\" errors=\"0\" skipped=\"0\""));
	assert_non_null(strstr(x, "<failure type=\"unknown\" message=\"unknown: set could not decide\">"));
	free(x);

	char *p = xasprintf("%s/results.json", run_dir);
	unlink(p);
	free(p);
	assert_int_equal(junit_write(run_dir, err, sizeof err), 0);
	x = slurp("junit.xml");
	assert_non_null(strstr(x, "errors=\"1\""));
	assert_non_null(strstr(x, "<error type=\"not-checked\""));
	free(x);
}

static size_t count(const char *s, const char *needle)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* The clients' precondition failures are expected outcomes, grouped by
 * their phrase whatever details follow it: a cas whose compare failed
 * (etcd, redis, adapters), a transfer refused for want of funds (etcd and
 * postgres bank clients), a release by a process holding no lock (etcd
 * lock client). A client giving up under contention, or an error
 * that merely contains a phrase, is an error. */
static void test_report_expected_outcomes(void **state)
{
	(void)state;
	char *dir2 = xasprintf("%s/expected", dir);
	char *saved = run_dir;
	run_dir = dir2;
	assert_int_equal(mkdir_p(run_dir, 0755), 0);
	put("test.json", "{\"name\":\"e\"}");
	struct buf h;
	buf_init(&h);
	static const char *const errs[][2] = {
		{"transfer", "insufficient funds: a1 has 3"}, {"transfer", "insufficient funds: a2 has 0"},
		{"cas", "compare failed"}, {"cas", "compare failed"}, {"transfer", "contention: the compare failed 3 times"},
		{"cas", "compare failed badly"}, {"transfer", "insufficient fundsX"},
		{"release", "not holding the lock"},
	};
	for (int i = 0; i < 8; i++)
		buf_printf(&h, "{\"index\":%d,\"time\":%d,\"type\":\"invoke\",\"process\":%d,\"f\":\"%s\",\"value\":null}\n"
			       "{\"index\":%d,\"time\":%d,\"type\":\"fail\",\"process\":%d,\"f\":\"%s\",\"value\":null,\"error\":\"%s\"}\n",
			   2 * i, 1000 * i, i, errs[i][0], 2 * i + 1, 1000 * i + 500, i, errs[i][0], errs[i][1]);
	put("history.jsonl", h.data);
	buf_free(&h);
	char err[512] = "";
	assert_int_equal(report_write(run_dir, err, sizeof err), 0);
	char *html = slurp("report.html");
	assert_non_null(strstr(html, "Expected outcomes, not errors: <b>2</b> cas <i>fail</i> &ldquo;compare failed&rdquo;; "
				     "<b>2</b> transfer <i>fail</i> &ldquo;insufficient funds&rdquo;; "
				     "<b>1</b> release <i>fail</i> &ldquo;not holding the lock&rdquo;.</p>"));
	assert_non_null(strstr(html, "<tr><td>transfer</td><td class=\"ok\">0</td><td class=\"expected\">2</td><td class=\"fail\">2</td>"));
	assert_non_null(strstr(html, "<tr><td>cas</td><td class=\"ok\">0</td><td class=\"expected\">2</td><td class=\"fail\">1</td>"));
	assert_non_null(strstr(html, "<tr><td>contention: the compare failed 3 times</td>"));
	assert_non_null(strstr(html, "<tr><td>compare failed badly</td>"));
	assert_null(strstr(html, "<tr><td>insufficient funds: a1 has 3</td>"));
	free(html);
	run_dir = saved;
	free(dir2);
}

static void test_store_index(void **state)
{
	(void)state;
	char err[512] = "";
	put("results.json", "{\"valid\":false,\"ops\":4242,\"client_ops\":2120,\"checkers\":{\"linearizable\":{\"valid\":false,"
			    "\"failures\":[{\"kind\":\"nonlinearizable\"}],\"invalid_keys\":3},"
			    "\"elle\":{\"valid\":false,\"failures\":[{\"kind\":\"G0\"},{\"kind\":\"G1c\"}]},"
			    "\"set-full\":{\"valid\":false,\"failures\":[{\"kind\":\"lost\"}],\"failures_omitted\":4}}}");
	put("test.json", "{\"name\":\"" XSS "\",\"db\":\"etcd\",\"workload\":\"register\","
			 "\"db_opts\":{\"read_mode\":\"serializable\"},\"nemesis\":[\"partition\",\"kill\"]}");
	assert_int_equal(store_index_write(dir, err, sizeof err), 0);
	char *p = xasprintf("%s/index.html", dir);
	char *s = file_read_all(p, NULL);
	assert_non_null(s);
	assert_int_equal(count(s, "<script"), 1); /* the filter's own script, nothing else */
	assert_null(strstr(s, XSS));
	assert_non_null(strstr(s, "<tr data-test=\"&lt;script&gt;alert(1)&lt;/script&gt;\">"));
	assert_non_null(strstr(s, "<option value=\"&lt;script&gt;alert(1)&lt;/script&gt;\">"));
	assert_non_null(strstr(s, "href=\"reg%20%3Cb%3Ex/20261124T010203/report.html\""));
	assert_non_null(strstr(s, "2026-11-24 01:02:03 UTC"));
	/* verdict, db, workload, reads, nemesis, client ops (not history
	 * lines), failures (3 invalid keys + 2 + 1 listed and 4 omitted) */
	assert_non_null(strstr(s, "<td><span class=\"v invalid\">invalid</span></td><td>etcd</td><td>register</td>"
				  "<td>serializable reads</td><td>partition, kill</td><td class=\"n\">2120</td>"
				  "<td class=\"n bad\">10</td>"));
	free(s);
	/* results.json from before client_ops: the history's lines, said so */
	put("results.json", "{\"valid\":true,\"ops\":4242,\"checkers\":{}}");
	assert_int_equal(store_index_write(dir, err, sizeof err), 0);
	s = file_read_all(p, NULL);
	assert_non_null(strstr(s, ">4242 <small>events</small></td>"));
	free(s);

	put("test.json", "{\"name\":\"pg\",\"db\":\"postgres\",\"db_opts\":{\"isolation\":\"serializable\"},\"nemesis\":[]}");
	put("results.json", "{\"valid\":\"unknown\"}");
	assert_int_equal(store_index_write(dir, err, sizeof err), 0);
	s = file_read_all(p, NULL);
	assert_non_null(strstr(s, "<span class=\"v unknown\">unknown</span></td><td>postgres</td><td>&ndash;</td>"
				  "<td>serializable</td><td>none</td>"));
	assert_non_null(strstr(s, "1 runs: 0 valid, 0 invalid, 1 unknown"));
	free(s);
	free(p);
}

/* junit.xml stays XML 1.0 whatever a value holds (U+FFFF in a failure
 * message and in the test name), and says what was tested. */
static void test_junit_xml_chars(void **state)
{
	(void)state;
	char err[512] = "";
	put("test.json", "{\"name\":\"n\\uffff\",\"db\":\"etcd\",\"db_opts\":{\"read_mode\":\"serializable\"}}");
	put("results.json", "{\"valid\":false,\"checkers\":{\"c\":{\"valid\":false,"
			    "\"failures\":[{\"kind\":\"x\",\"message\":\"bad \\ufffe\\uffff value \\u0001\"}]}}}");
	assert_int_equal(junit_write(run_dir, err, sizeof err), 0);
	char *x = slurp("junit.xml");
	assert_null(strstr(x, "\xef\xbf\xbf"));
	assert_null(strstr(x, "\xef\xbf\xbe"));
	assert_null(strchr(x, '\x01'));
	assert_non_null(strstr(x, "message=\"bad \xef\xbf\xbd\xef\xbf\xbd value \xef\xbf\xbd\""));
	assert_non_null(strstr(x, "<property name=\"read_mode\" value=\"serializable\"/>"));
	assert_non_null(strstr(x, "<property name=\"db\" value=\"etcd\"/>"));
	free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html_escape),
		cmocka_unit_test(test_xml_chars),
		cmocka_unit_test(test_json_string_embed),
		cmocka_unit_test(test_json_text_embed),
		cmocka_unit_test(test_url_and_truncate),
		cmocka_unit_test(test_assets_cannot_close_their_element),
		cmocka_unit_test(test_report_write),
		cmocka_unit_test(test_report_quantiles),
		cmocka_unit_test(test_report_outcomes),
		cmocka_unit_test(test_report_expected_outcomes),
		cmocka_unit_test(test_junit),
		cmocka_unit_test(test_junit_xml_chars),
		cmocka_unit_test(test_store_index),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
