/*
 * report_assets.h - the report page's stylesheet and script, written as
 * ordinary files (report/report.css, report/report.js) and linked into the
 * binary by report_assets.c, so report.html can inline them and a run needs
 * nothing but the faultline executable.
 */
#ifndef FAULTLINE_REPORT_ASSETS_H
#define FAULTLINE_REPORT_ASSETS_H

/* NUL-terminated file contents. */
extern const char report_css[];
extern const char report_js[];

#endif
