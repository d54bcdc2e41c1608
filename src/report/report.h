/*
 * report.h - what a run leaves for people and CI: report.html (one
 * self-contained file), junit.xml, store/index.html.
 */
#ifndef FAULTLINE_REPORT_H
#define FAULTLINE_REPORT_H

#include "util.h"

/* Write RUN_DIR/report.html from RUN_DIR/{test.json,history.jsonl,results.json}. */
int report_write(const char *run_dir, char *err, size_t errlen);
/* Write RUN_DIR/junit.xml from test.json and results.json. */
int junit_write(const char *run_dir, char *err, size_t errlen);
/* Regenerate STORE/index.html listing every run. */
int store_index_write(const char *store_dir, char *err, size_t errlen);

/* --- escaping shared by the three writers (report_escape.c) ---
 * Every value that comes from a config, the database or the history passes
 * through exactly one of these before it reaches HTML or XML. */

/* HTML/XML text and attribute values: & < > " ' become entities; anything
 * XML 1.0 forbids (control bytes, U+FFFE/U+FFFF, surrogates, invalid UTF-8)
 * becomes U+FFFD. */
void html_escape(struct buf *b, const char *s);
/* A JSON string literal (with quotes) that is also safe inside a <script>
 * element: < > & and U+2028/2029 are written as \uXXXX. */
void json_string_embed(struct buf *b, const char *s);
/* Copy JSON text, rewriting < > & as \u003c \u003e \u0026. Those bytes can
 * only occur inside JSON strings, so the result is the same JSON value. */
void json_text_embed(struct buf *b, const char *json);
/* A relative URL path: percent-encode every byte outside [A-Za-z0-9/._~-]. */
void url_path_escape(struct buf *b, const char *path);
/* Truncate s to at most max bytes on a UTF-8 boundary, appending "..."
 * when cut. Returns a new string. */
char *utf8_truncate(const char *s, size_t max);

#endif
