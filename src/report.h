/*
 * report.h - what a run leaves for people and CI: report.html (one
 * self-contained file), junit.xml, store/index.html.
 */
#ifndef FAULTLINE_REPORT_H
#define FAULTLINE_REPORT_H

/* Write RUN_DIR/report.html from RUN_DIR/{test.json,history.jsonl,results.json}. */
int report_write(const char *run_dir, char *err, size_t errlen);
/* Write RUN_DIR/junit.xml from test.json and results.json. */
int junit_write(const char *run_dir, char *err, size_t errlen);
/* Regenerate STORE/index.html listing every run. */
int store_index_write(const char *store_dir, char *err, size_t errlen);

#endif
