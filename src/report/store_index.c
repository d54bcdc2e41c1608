/*
 * store_index.c - writes STORE/index.html: every run in the store
 * (store/<test>/<timestamp>/), newest first, with its date, test, verdict
 * and a link to its report. The runner rewrites it after each run and
 * `faultline report` after regenerating one, so opening store/index.html
 * is the way into a history of runs. Names come from the filesystem and
 * the runs' files, so each is escaped (html_escape, url_path_escape).
 */
#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct run_row {
	char *test, *ts, *name, *verdict;
	bool has_report;
};

static bool dir_exists(const char *p)
{
	struct stat sb;
	return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static char *run_verdict(const char *run)
{
	char *p = xasprintf("%s/results.json", run);
	json_t *r = json_load_file(p, JSON_ALLOW_NUL, NULL);
	free(p);
	json_t *v = json_object_get(r, "valid");
	const char *w = !r ? "not checked" : json_is_true(v) ? "valid"
			: json_is_false(v) ? "invalid" : "unknown";
	json_decref(r);
	return xstrdup(w);
}

static char *run_name(const char *run, const char *fallback)
{
	char *p = xasprintf("%s/test.json", run);
	json_t *t = json_load_file(p, JSON_ALLOW_NUL, NULL);
	free(p);
	const char *n = json_string_value(json_object_get(t, "name"));
	char *out = xstrdup(n ? n : fallback);
	json_decref(t);
	return out;
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
				rows[n++] = (struct run_row){
					xstrdup(te->d_name), xstrdup(re->d_name),
					run_name(run, te->d_name), run_verdict(run),
					access(rep, F_OK) == 0};
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

static void put_row(struct buf *b, const struct run_row *r)
{
	struct buf href;
	buf_init(&href);
	char *rel = xasprintf("%s/%s/%s", r->test, r->ts, r->has_report ? "report.html" : "");
	url_path_escape(&href, rel);
	buf_puts(b, "<tr><td>");
	put_date(b, r->ts);
	buf_puts(b, "</td><td>");
	html_escape(b, r->name);
	buf_printf(b, "</td><td><span class=\"v %s\">%s</span></td><td><a href=\"",
		   strchr(r->verdict, ' ') ? "unknown" : r->verdict, r->verdict);
	html_escape(b, href.data ? href.data : "");
	buf_puts(b, "\">");
	buf_puts(b, r->has_report ? "report" : "run directory");
	buf_puts(b, "</a></td></tr>\n");
	buf_free(&href);
	free(rel);
}

int store_index_write(const char *store_dir, char *err, size_t errlen)
{
	struct run_row *rows;
	size_t n = collect_runs(store_dir, &rows);
	size_t count[3] = {0};
	for (size_t i = 0; i < n; i++)
		count[!strcmp(rows[i].verdict, "valid") ? 0 : !strcmp(rows[i].verdict, "invalid") ? 1 : 2]++;
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		     "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		     "style-src 'unsafe-inline'; img-src data:\">\n<title>faultline runs</title>\n<style>\n"
		     "body{font:14px/1.45 system-ui,\"DejaVu Sans\",sans-serif;margin:24px;color:#1d2433;background:#f6f7fb}\n"
		     "table{border-collapse:collapse;background:#fff;border:1px solid #e3e7ee;min-width:640px}\n"
		     "th,td{padding:6px 14px;border-bottom:1px solid #e3e7ee;text-align:left}\n"
		     "th{color:#5c667a;font-size:12px}\n"
		     ".v{font-weight:700;text-transform:uppercase;font-size:12px;padding:2px 8px;border-radius:4px;color:#fff}\n"
		     ".valid{background:#2b9348}.invalid{background:#d62828}.unknown{background:#e09f3e}\n"
		     "</style></head><body>\n<h1>faultline runs</h1>\n");
	buf_printf(&b, "<p>%zu runs: %zu valid, %zu invalid, %zu unknown or not checked.</p>\n",
		   n, count[0], count[1], count[2]);
	buf_puts(&b, "<table><thead><tr><th>date</th><th>test</th><th>verdict</th><th></th></tr></thead><tbody>\n");
	for (size_t i = 0; i < n; i++)
		put_row(&b, &rows[i]);
	if (!n)
		buf_puts(&b, "<tr><td colspan=\"4\">no runs yet</td></tr>\n");
	buf_puts(&b, "</tbody></table>\n</body></html>\n");
	for (size_t i = 0; i < n; i++) {
		free(rows[i].test);
		free(rows[i].ts);
		free(rows[i].name);
		free(rows[i].verdict);
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
