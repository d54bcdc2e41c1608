/*
 * store_index.c - writes STORE/index.html: every run in the store
 * (store/<test>/<timestamp>/), newest first, with its date, test, verdict,
 * what was tested (db, workload, isolation or read mode, nemesis), how
 * many client operations and failures, and a link to its report. The
 * runner rewrites it after each run and `faultline report` after
 * regenerating one, so opening store/index.html is the way into a history
 * of runs. A test-name filter
 * (a few lines of inline script) narrows a long store to one test.
 *
 * It reads only each run's test.json and results.json (never a history, so
 * a store of large runs is indexed in milliseconds). Verdict words and
 * ranking come from checkers/results.h. Names come from the filesystem and
 * the runs' files, so each is escaped (html_escape, url_path_escape).
 */
#include "report.h"
#include "results.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct run_row {
	char *test, *ts, *name;
	char *db, *workload, *mode, *nemesis; /* display text, "" when unknown */
	bool checked;                         /* results.json exists */
	enum verdict verdict;
	long long ops, failures;              /* -1 when unknown */
	long long events;                     /* history lines, for results without ops */
	bool has_report;
};

static bool dir_exists(const char *p)
{
	struct stat sb;
	return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static json_t *run_json(const char *run, const char *file)
{
	char *p = xasprintf("%s/%s", run, file);
	json_t *j = json_load_file(p, JSON_ALLOW_NUL, NULL);
	free(p);
	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* A string, or a list of strings joined with ", ". */
static char *text_of(json_t *v)
{
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	struct buf b;
	buf_init(&b);
	size_t i;
	json_t *x;
	json_array_foreach(v, i, x)
		if (json_is_string(x))
			buf_printf(&b, "%s%s", b.len ? ", " : "", json_string_value(x));
	return buf_steal(&b);
}

/* "serializable reads", "isolation serializable": what a reader of the
 * index needs to tell two runs of one workload apart. */
static char *mode_of(json_t *test)
{
	json_t *o = json_object_get(test, "db_opts");
	const char *iso = json_string_value(json_object_get(o, "isolation"));
	const char *rm = json_string_value(json_object_get(o, "read_mode"));
	if (!rm)
		rm = json_string_value(json_object_get(test, "read_mode"));
	if (iso && rm)
		return xasprintf("%s, %s reads", iso, rm);
	if (iso)
		return xstrdup(iso);
	if (rm)
		return xasprintf("%s reads", rm);
	return xstrdup("");
}

/* Failures found: each checker's failure list and those it counted but
 * left out (failures_omitted), or its count of invalid keys when it lists
 * only the first few. */
static long long failures_of(json_t *results)
{
	long long n = 0;
	const char *k;
	json_t *c;
	json_object_foreach(json_object_get(results, "checkers"), k, c) {
		long long m = (long long)json_array_size(json_object_get(c, "failures"));
		json_t *om = json_object_get(c, "failures_omitted");
		if (json_is_integer(om) && json_integer_value(om) > 0)
			m += json_integer_value(om);
		json_t *ik = json_object_get(c, "invalid_keys");
		if (json_is_integer(ik) && json_integer_value(ik) > m)
			m = json_integer_value(ik);
		n += m;
	}
	return n;
}

static void row_fill(struct run_row *r, const char *run, const char *fallback)
{
	json_t *t = run_json(run, "test.json");
	json_t *res = run_json(run, "results.json");
	const char *n = json_string_value(json_object_get(t, "name"));
	r->name = xstrdup(n ? n : fallback);
	r->db = text_of(json_object_get(t, "db"));
	r->workload = text_of(json_object_get(t, "workload"));
	r->mode = mode_of(t);
	json_t *nem = json_object_get(t, "nemesis");
	r->nemesis = json_array_size(nem) || json_is_string(nem) ? text_of(nem) : xstrdup("none");
	r->checked = res != NULL;
	r->verdict = verdict_of_result(res);
	/* ops: the client operations invoked (check.c's client_ops); results
	 * written before that count have only the history's lines */
	json_t *ops = json_object_get(res, "client_ops"), *ev = json_object_get(res, "ops");
	r->ops = json_is_integer(ops) ? json_integer_value(ops) : -1;
	r->events = json_is_integer(ev) ? json_integer_value(ev) : -1;
	r->failures = res ? failures_of(res) : -1;
	json_decref(t);
	json_decref(res);
}

static int cmp_row(const void *a, const void *b)
{
	const struct run_row *x = a, *y = b;
	int c = strcmp(y->ts, x->ts); /* newest first */
	return c ? c : strcmp(x->test, y->test);
}

static size_t collect_runs(const char *store, struct run_row **out)
{
	struct run_row *rows = NULL;
	size_t n = 0, cap = 0;
	DIR *d = opendir(store);
	struct dirent *te;
	while (d && (te = readdir(d))) {
		if (te->d_name[0] == '.' || !strcmp(te->d_name, "latest"))
			continue;
		char *tdir = xasprintf("%s/%s", store, te->d_name);
		DIR *td = dir_exists(tdir) ? opendir(tdir) : NULL;
		struct dirent *re;
		while (td && (re = readdir(td))) {
			if (re->d_name[0] == '.' || !strcmp(re->d_name, "latest"))
				continue;
			char *run = xasprintf("%s/%s", tdir, re->d_name);
			char *hist = xasprintf("%s/history.jsonl", run);
			char *tj = xasprintf("%s/test.json", run);
			char *rep = xasprintf("%s/report.html", run);
			if (dir_exists(run) && (!access(hist, F_OK) || !access(tj, F_OK))) {
				if (n == cap) {
					cap = cap ? cap * 2 : 32;
					rows = xrealloc(rows, cap * sizeof *rows);
				}
				struct run_row *r = &rows[n++];
				memset(r, 0, sizeof *r);
				r->test = xstrdup(te->d_name);
				r->ts = xstrdup(re->d_name);
				r->has_report = access(rep, F_OK) == 0;
				row_fill(r, run, te->d_name);
			}
			free(rep);
			free(tj);
			free(hist);
			free(run);
		}
		if (td)
			closedir(td);
		free(tdir);
	}
	if (d)
		closedir(d);
	if (n)
		qsort(rows, n, sizeof *rows, cmp_row);
	*out = rows;
	return n;
}

/* "20261124T013000" -> "2026-11-24 01:30:00 UTC"; anything else as is. */
static void put_date(struct buf *b, const char *ts)
{
	int y, mo, d, h, mi, s;
	if (strlen(ts) == 15 && sscanf(ts, "%4d%2d%2dT%2d%2d%2d", &y, &mo, &d, &h, &mi, &s) == 6)
		buf_printf(b, "%04d-%02d-%02d %02d:%02d:%02d UTC", y, mo, d, h, mi, s);
	else
		html_escape(b, ts);
}

static void put_cell(struct buf *b, const char *text)
{
	buf_puts(b, "<td>");
	if (text && *text)
		html_escape(b, text);
	else
		buf_puts(b, "&ndash;");
	buf_puts(b, "</td>");
}

static void put_count(struct buf *b, long long n, const char *cls)
{
	if (n < 0)
		buf_puts(b, "<td class=\"n\">&ndash;</td>");
	else
		buf_printf(b, "<td class=\"n%s%s\">%lld</td>", n && cls ? " " : "", n && cls ? cls : "", n);
}

static void put_row(struct buf *b, const struct run_row *r)
{
	struct buf href;
	buf_init(&href);
	char *rel = xasprintf("%s/%s/%s", r->test, r->ts, r->has_report ? "report.html" : "");
	url_path_escape(&href, rel);
	const char *word = r->checked ? verdict_word(r->verdict) : "not checked";
	buf_puts(b, "<tr data-test=\"");
	html_escape(b, r->name);
	buf_puts(b, "\"><td>");
	put_date(b, r->ts);
	buf_puts(b, "</td>");
	put_cell(b, r->name);
	buf_printf(b, "<td><span class=\"v %s\">%s</span></td>",
		   verdict_word(r->verdict), word);
	put_cell(b, r->db);
	put_cell(b, r->workload);
	put_cell(b, r->mode);
	put_cell(b, r->nemesis);
	if (r->ops < 0 && r->events >= 0)
		buf_printf(b, "<td class=\"n\" title=\"history lines (invokes and completions): this "
			      "results.json predates the op count\">%lld <small>events</small></td>", r->events);
	else
		put_count(b, r->ops, NULL);
	put_count(b, r->failures, "bad");
	buf_puts(b, "<td><a href=\"");
	html_escape(b, href.data ? href.data : "");
	buf_puts(b, "\">");
	buf_puts(b, r->has_report ? "report" : "run directory");
	buf_puts(b, "</a></td></tr>\n");
	buf_free(&href);
	free(rel);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The filter: a list of the test names (each once) and a script that hides
 * the rows of other tests. Names reach the page only through html_escape
 * and are compared through the DOM (dataset), never parsed as markup. */
static void put_filter(struct buf *b, const struct run_row *rows, size_t n)
{
	const char **names = xcalloc(n + 1, sizeof *names);
	for (size_t i = 0; i < n; i++)
		names[i] = rows[i].name;
	qsort(names, n, sizeof *names, cmp_str);
	buf_puts(b, "<p class=\"filter\"><label>test <select id=\"test-filter\"><option value=\"\">all tests</option>");
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(names[i], names[i - 1]))
			continue;
		buf_puts(b, "<option value=\"");
		html_escape(b, names[i]);
		buf_puts(b, "\">");
		html_escape(b, names[i]);
		buf_puts(b, "</option>");
	}
	buf_puts(b, "</select></label> <span id=\"shown\"></span></p>\n");
	free(names);
}

static const char index_script[] =
	"<script>\n"
	"(function () {\n"
	"\tvar sel = document.getElementById('test-filter'), shown = document.getElementById('shown');\n"
	"\tvar rows = Array.prototype.slice.call(document.querySelectorAll('tbody tr[data-test]'));\n"
	"\tfunction apply() {\n"
	"\t\tvar want = sel.value, n = 0;\n"
	"\t\trows.forEach(function (r) { var on = !want || r.dataset.test === want; r.hidden = !on; if (on) n++; });\n"
	"\t\tshown.textContent = want ? n + ' of ' + rows.length + ' runs' : '';\n"
	"\t\tif (location.hash.slice(1) !== encodeURIComponent(want)) history.replaceState(null, '', want ? '#' + encodeURIComponent(want) : '#');\n"
	"\t\tdocument.body.setAttribute('data-shown', String(n));\n"
	"\t}\n"
	"\tvar h = decodeURIComponent(location.hash.slice(1));\n"
	"\tif (h && Array.prototype.some.call(sel.options, function (o) { return o.value === h; })) sel.value = h;\n"
	"\tsel.addEventListener('change', apply);\n"
	"\tapply();\n"
	"})();\n"
	"</script>\n";

int store_index_write(const char *store_dir, char *err, size_t errlen)
{
	struct run_row *rows;
	size_t n = collect_runs(store_dir, &rows);
	size_t count[3] = {0};
	for (size_t i = 0; i < n; i++)
		count[rows[i].checked ? rows[i].verdict : VERDICT_UNKNOWN]++;
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		     "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		     "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n"
		     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		     "<title>faultline runs</title>\n<style>\n"
		     "body{font:14px/1.45 system-ui,\"DejaVu Sans\",sans-serif;margin:24px;color:#1d2433;background:#f6f7fb}\n"
		     "table{border-collapse:collapse;background:#fff;border:1px solid #e3e7ee;min-width:640px}\n"
		     "th,td{padding:6px 12px;border-bottom:1px solid #e3e7ee;text-align:left}\n"
		     "td.n{text-align:right;font-variant-numeric:tabular-nums}td.bad{color:#d62828;font-weight:700}\n"
		     "th{color:#5c667a;font-size:12px}\n"
		     ".v{font-weight:700;text-transform:uppercase;font-size:12px;padding:2px 8px;border-radius:4px;color:#fff}\n"
		     ".valid{background:#2b9348}.invalid{background:#d62828}.unknown{background:#e09f3e}\n"
		     ".filter select{font:inherit}\n"
		     "</style></head><body>\n<h1>faultline runs</h1>\n");
	buf_printf(&b, "<p>%zu runs: %zu %s, %zu %s, %zu %s or not checked.</p>\n", n,
		   count[VERDICT_VALID], verdict_word(VERDICT_VALID), count[VERDICT_INVALID],
		   verdict_word(VERDICT_INVALID), count[VERDICT_UNKNOWN], verdict_word(VERDICT_UNKNOWN));
	put_filter(&b, rows, n);
	buf_puts(&b, "<table><thead><tr><th>date</th><th>test</th><th>verdict</th><th>db</th>"
		     "<th>workload</th><th>isolation / reads</th><th>nemesis</th>"
		     "<th title=\"client operations invoked (each is an invoke and a completion in "
		     "history.jsonl)\">ops</th>"
		     "<th>failures</th><th></th></tr></thead><tbody>\n");
	for (size_t i = 0; i < n; i++)
		put_row(&b, &rows[i]);
	if (!n)
		buf_puts(&b, "<tr><td colspan=\"10\">no runs yet</td></tr>\n");
	buf_puts(&b, "</tbody></table>\n");
	buf_puts(&b, index_script);
	buf_puts(&b, "</body></html>\n");
	for (size_t i = 0; i < n; i++) {
		struct run_row *r = &rows[i];
		free(r->test);
		free(r->ts);
		free(r->name);
		free(r->db);
		free(r->workload);
		free(r->mode);
		free(r->nemesis);
	}
	free(rows);
	char *path = xasprintf("%s/index.html", store_dir);
	int rc = file_write_all(path, b.data, b.len);
	if (rc)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	free(path);
	buf_free(&b);
	return rc ? -1 : 0;
}
