/*
 * junit.c - writes RUN_DIR/junit.xml so CI systems (GitHub Actions, GitLab,
 * Jenkins) show a run as tests: one <testsuite> for the test, one
 * <testcase> per checker in results.json.
 *
 * Verdict mapping: valid -> passed testcase; invalid -> <failure> whose
 * message summarises the anomaly (the checker's first failure message);
 * unknown -> <skipped> (the checker could not decide), or <failure
 * type="unknown"> when the run was made with --fail-on unknown (test.json
 * "fail_on": "unknown"), matching the exit code. A run without results.json
 * (crashed before checking) is one <error> testcase. Verdicts come from
 * checkers/results.h, like everywhere else. Every value is escaped with
 * html_escape, which is also correct XML escaping and keeps the file to the
 * characters XML 1.0 allows (a U+FFFF in a value becomes U+FFFD).
 */
#include "report.h"
#include "results.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Seconds covered by the history: the time of its last complete line. Reads
 * only the tail, so a large history costs nothing. */
static double history_seconds(const char *run_dir)
{
	char *p = xasprintf("%s/history.jsonl", run_dir);
	int fd = open(p, O_RDONLY);
	free(p);
	if (fd < 0)
		return 0;
	char tail[8192];
	off_t end = lseek(fd, 0, SEEK_END);
	off_t at = end > (off_t)sizeof tail - 1 ? end - (off_t)sizeof tail + 1 : 0;
	ssize_t n = pread(fd, tail, sizeof tail - 1, at);
	close(fd);
	if (n <= 0)
		return 0;
	tail[n] = 0;
	double best = 0;
	for (char *line = tail; line && *line;) {
		char *nl = strchr(line, '\n');
		if (!nl)
			break; /* a torn last line says nothing */
		*nl = 0;
		json_t *o = json_loads(line, 0, NULL);
		json_t *t = json_object_get(o, "time");
		if (json_is_integer(t) && (double)json_integer_value(t) / 1e9 > best)
			best = (double)json_integer_value(t) / 1e9;
		json_decref(o);
		line = nl + 1;
	}
	return best;
}

/* One line saying what went wrong, from a checker result. */
static char *checker_summary(const char *name, json_t *c)
{
	json_t *fails = json_object_get(c, "failures");
	json_t *first = json_array_get(fails, 0);
	const char *msg = json_string_value(json_object_get(first, "message"));
	if (!msg)
		msg = json_string_value(json_object_get(c, "message"));
	if (!msg)
		msg = json_string_value(json_object_get(c, "error"));
	if (!msg)
		msg = json_string_value(json_object_get(first, "kind"));
	size_t n = json_array_size(fails);
	const char *key = json_string_value(json_object_get(first, "key"));
	struct buf b;
	buf_init(&b);
	if (msg)
		buf_puts(&b, msg);
	else
		buf_printf(&b, "%s: the history is not valid", name);
	if (key && !(msg && strstr(msg, key)))
		buf_printf(&b, " (key %s)", key);
	if (n > 1)
		buf_printf(&b, " [%zu failures in all]", n);
	char *s = buf_steal(&b);
	char *cut = utf8_truncate(s, 1000);
	free(s);
	return cut;
}

static void xml_attr(struct buf *b, const char *name, const char *v)
{
	buf_printf(b, " %s=\"", name);
	html_escape(b, v);
	buf_puts(b, "\"");
}

static void junit_body_json(struct buf *b, json_t *c)
{
	char *t = json_dumps(c, JSON_INDENT(2));
	char *cut = utf8_truncate(t ? t : "", 65536);
	html_escape(b, cut);
	free(cut);
	free(t);
}

struct tally {
	int tests, failures, errors, skipped;
};

static void junit_case(struct buf *b, struct tally *t, const char *suite,
		       const char *name, json_t *c, bool fail_on_unknown)
{
	enum verdict v = verdict_of_result(c);
	t->tests++;
	buf_puts(b, "    <testcase");
	xml_attr(b, "classname", suite);
	xml_attr(b, "name", name);
	buf_puts(b, ">\n");
	if (v == VERDICT_INVALID) {
		t->failures++;
		char *m = checker_summary(name, c);
		buf_printf(b, "      <failure type=\"%s\"", verdict_word(v));
		xml_attr(b, "message", m);
		buf_puts(b, ">");
		junit_body_json(b, c);
		buf_puts(b, "</failure>\n");
		free(m);
	} else if (v == VERDICT_UNKNOWN) {
		const char *why = json_string_value(json_object_get(c, "error"));
		char *m = xasprintf("%s: %s could not decide%s%s", verdict_word(v), name,
				    why ? ": " : "", why ? why : "");
		if (fail_on_unknown) {
			t->failures++;
			buf_printf(b, "      <failure type=\"%s\"", verdict_word(v));
			xml_attr(b, "message", m);
			buf_puts(b, ">");
			junit_body_json(b, c);
			buf_puts(b, "</failure>\n");
		} else {
			t->skipped++;
			buf_puts(b, "      <skipped");
			xml_attr(b, "message", m);
			buf_puts(b, "/>\n");
		}
		free(m);
	}
	buf_puts(b, "    </testcase>\n");
}

/* "20261124T013000" -> "2026-11-24T01:30:00", else NULL. */
static char *iso_from_dir(const char *run_dir)
{
	char *copy = xstrdup(run_dir);
	const char *base = basename(copy);
	int y, mo, d, h, mi, s;
	char *out = NULL;
	if (strlen(base) == 15 &&
	    sscanf(base, "%4d%2d%2dT%2d%2d%2d", &y, &mo, &d, &h, &mi, &s) == 6)
		out = xasprintf("%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d, h, mi, s);
	free(copy);
	return out;
}

static void junit_property(struct buf *b, const char *name, json_t *v)
{
	if (!v || json_is_null(v))
		return;
	char *t = json_is_string(v) ? xstrdup(json_string_value(v))
		  : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	buf_puts(b, "      <property");
	xml_attr(b, "name", name);
	xml_attr(b, "value", t ? t : "");
	buf_puts(b, "/>\n");
	free(t);
}

/* What was tested, as CI shows it next to the verdict. The read mode and
 * isolation level live in db_opts (older runs had read_mode at the top). */
static void junit_properties(struct buf *b, json_t *test)
{
	static const char *keys[] = {"db", "workload", "seed", "concurrency", "time_limit",
				     "nemesis", "checkers", "fail_on"};
	json_t *db_opts = json_object_get(test, "db_opts");
	buf_puts(b, "    <properties>\n");
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		junit_property(b, keys[i], json_object_get(test, keys[i]));
	json_t *rm = json_object_get(db_opts, "read_mode");
	junit_property(b, "read_mode", rm ? rm : json_object_get(test, "read_mode"));
	junit_property(b, "isolation", json_object_get(db_opts, "isolation"));
	buf_puts(b, "    </properties>\n");
}

int junit_write(const char *run_dir, char *err, size_t errlen)
{
	char *tp = xasprintf("%s/test.json", run_dir);
	char *rp = xasprintf("%s/results.json", run_dir);
	json_error_t je;
	json_t *test = json_load_file(tp, JSON_ALLOW_NUL, &je);
	if (!test)
		test = json_object();
	json_t *results = NULL;
	int rc = 0;
	if (access(rp, F_OK) == 0 && !(results = json_load_file(rp, JSON_ALLOW_NUL, &je))) {
		snprintf(err, errlen, "%s:%d: %s", rp, je.line, je.text);
		rc = -1;
	}
	if (!rc) {
		const char *name = json_string_value(json_object_get(test, "name"));
		if (!name)
			name = "faultline";
		const char *fail_on = json_string_value(json_object_get(test, "fail_on"));
		bool fail_unknown = fail_on && !strcmp(fail_on, "unknown");
		char *suite = xasprintf("faultline.%s", name);
		struct buf cases, out;
		buf_init(&cases);
		buf_init(&out);
		struct tally t = {0};
		if (!results) {
			t.tests = t.errors = 1;
			buf_puts(&cases, "    <testcase");
			xml_attr(&cases, "classname", suite);
			buf_puts(&cases, " name=\"check\">\n      <error type=\"not-checked\" message=\"results.json "
				 "is missing: the run ended before its history was checked\"/>\n    </testcase>\n");
		}
		const char *k;
		json_t *c;
		json_object_foreach(json_object_get(results, "checkers"), k, c)
			junit_case(&cases, &t, suite, k, c, fail_unknown);
		if (results && !t.tests) /* results without per-checker detail */
			junit_case(&cases, &t, suite, "check", results, fail_unknown);

		char *iso = iso_from_dir(run_dir);
		double secs = history_seconds(run_dir);
		buf_printf(&out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			   "<testsuites name=\"faultline\" tests=\"%d\" failures=\"%d\" errors=\"%d\" "
			   "skipped=\"%d\" time=\"%.3f\">\n  <testsuite",
			   t.tests, t.failures, t.errors, t.skipped, secs);
		xml_attr(&out, "name", name);
		buf_printf(&out, " tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.3f\"",
			   t.tests, t.failures, t.errors, t.skipped, secs);
		if (iso)
			xml_attr(&out, "timestamp", iso);
		buf_puts(&out, ">\n");
		junit_properties(&out, test);
		buf_append(&out, cases.data ? cases.data : "", cases.len);
		buf_puts(&out, "  </testsuite>\n</testsuites>\n");

		char *path = xasprintf("%s/junit.xml", run_dir);
		if (file_write_all(path, out.data, out.len)) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			rc = -1;
		}
		free(path);
		free(iso);
		free(suite);
		buf_free(&cases);
		buf_free(&out);
	}
	json_decref(test);
	json_decref(results);
	free(tp);
	free(rp);
	return rc;
}
