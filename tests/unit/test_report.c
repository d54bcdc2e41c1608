/*
 * test_report.c - unit tests for the report writers: the escaping functions
 * (every hostile string must come out inert in HTML, XML and <script> JSON),
 * report_write on a small run directory written here (CSP present, data
 * blob parses back to the same values, no raw hostile markup), junit_write's
 * verdict mapping (invalid -> failure, unknown -> skipped, or failure with
 * fail_on "unknown"), and the store index. The page's JavaScript is
 * exercised in a real browser by tests/integration/report.sh.
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
	json_t *ops = json_object_get(d, "ops");
	assert_int_equal(json_array_size(json_object_get(ops, "t0")), 4);
	/* ty: ok, info, ok, never completed */
	json_t *ty = json_object_get(ops, "ty");
	assert_int_equal(json_integer_value(json_array_get(ty, 0)), 0);
	assert_int_equal(json_integer_value(json_array_get(ty, 1)), 2);
	assert_int_equal(json_integer_value(json_array_get(ty, 3)), 3);
	/* latency of op 0 in microseconds: 3000000 ns - 1000 ns */
	assert_int_equal(json_integer_value(json_array_get(json_object_get(ops, "d"), 0)), 2999);
	json_t *values = json_object_get(json_object_get(d, "strings"), "values");
	long v0 = (long)json_integer_value(json_array_get(json_object_get(ops, "v"), 0));
	assert_string_equal(json_string_value(json_array_get(values, (size_t)v0)), "\"" XSS "\"");
	json_t *fault = json_array_get(json_object_get(d, "faults"), 0);
	assert_string_equal(json_string_value(json_object_get(fault, "kind")), "partition");
	assert_int_equal(json_integer_value(json_object_get(fault, "t0")), 2000);
	assert_int_equal(json_integer_value(json_object_get(fault, "t1")), 10000); /* never stopped: to the end */
	assert_int_equal(json_array_size(json_object_get(d, "failures")), 1);
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
	assert_non_null(strstr(html, "<tr><td>read</td><td class=\"ok\">1</td><td class=\"fail\">0</td>"
				     "<td class=\"info\">1</td><td>1</td><td>0.40</td><td>0.40</td><td>0.40</td><td>0.40</td></tr>"));
	free(html);
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

static void test_store_index(void **state)
{
	(void)state;
	char err[512] = "";
	put("results.json", "{\"valid\":false}");
	put("test.json", "{\"name\":\"" XSS "\"}");
	assert_int_equal(store_index_write(dir, err, sizeof err), 0);
	char *p = xasprintf("%s/index.html", dir);
	char *s = file_read_all(p, NULL);
	assert_non_null(s);
	assert_null(strstr(s, "<script"));
	assert_non_null(strstr(s, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_non_null(strstr(s, "href=\"reg%20%3Cb%3Ex/20261124T010203/report.html\""));
	assert_non_null(strstr(s, "2026-11-24 01:02:03 UTC"));
	assert_non_null(strstr(s, ">invalid</span>"));
	free(s);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html_escape),
		cmocka_unit_test(test_json_string_embed),
		cmocka_unit_test(test_json_text_embed),
		cmocka_unit_test(test_url_and_truncate),
		cmocka_unit_test(test_assets_cannot_close_their_element),
		cmocka_unit_test(test_report_write),
		cmocka_unit_test(test_report_quantiles),
		cmocka_unit_test(test_junit),
		cmocka_unit_test(test_store_index),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
