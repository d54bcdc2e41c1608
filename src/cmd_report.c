/*
 * cmd_report.c - `faultline report RUN_DIR`: regenerates a run's
 * report.html and junit.xml from what the run left on disk (history.jsonl,
 * results.json, test.json), then the store's index.html two levels up
 * (store/<test>/<timestamp>/). Useful after upgrading faultline, or for a
 * run that crashed before writing its report (`faultline check RUN_DIR
 * --write` judges such a run's history and rewrites its report itself).
 */
#include "cmd.h"
#include "report.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char report_usage[] =
	"usage: faultline report RUN_DIR\n"
	"\n"
	"Regenerate RUN_DIR/report.html and RUN_DIR/junit.xml from\n"
	"RUN_DIR/history.jsonl, results.json and test.json, and the store's\n"
	"index.html (RUN_DIR is store/<test>/<timestamp>).\n"
	"\n"
	"exit codes: 0 written, 254 bad arguments or unreadable run, 255 write error\n";

static bool is_dir(const char *p)
{
	struct stat sb;
	return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int cmd_report(int argc, char **argv)
{
	const char *run_dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(report_usage, stdout);
			return 0;
		}
		if (argv[i][0] == '-' || run_dir) {
			fprintf(stderr, "faultline report: unexpected argument '%s' (see --help)\n", argv[i]);
			return EXIT_BADARGS;
		}
		run_dir = argv[i];
	}
	if (!run_dir) {
		fputs(report_usage, stderr);
		return EXIT_BADARGS;
	}
	char *hist = xasprintf("%s/history.jsonl", run_dir);
	int missing = !is_dir(run_dir) ? 1 : access(hist, R_OK) ? 2 : 0;
	free(hist);
	if (missing) {
		fprintf(stderr, "faultline report: %s%s: %s\n", run_dir,
			missing == 2 ? "/history.jsonl" : "",
			missing == 1 && errno != ENOENT ? strerror(errno)
			: missing == 1 ? "no such run directory" : strerror(errno));
		return EXIT_BADARGS;
	}

	char err[1024] = "";
	/* A malformed input file is the user's (254); failing to write is ours. */
	if (report_write(run_dir, err, sizeof err)) {
		fprintf(stderr, "faultline report: %s\n", err);
		return strstr(err, "report.html") ? EXIT_INTERNAL : EXIT_BADARGS;
	}
	if (junit_write(run_dir, err, sizeof err)) {
		fprintf(stderr, "faultline report: %s\n", err);
		return strstr(err, "junit.xml") ? EXIT_INTERNAL : EXIT_BADARGS;
	}
	printf("%s/report.html\n%s/junit.xml\n", run_dir, run_dir);

	char *store = xasprintf("%s/../..", run_dir);
	char *marker = xasprintf("%s/../../%s", run_dir, "index.html");
	char *real = realpath(store, NULL);
	/* Only touch the index of something that looks like a store: it has an
	 * index already, or a `latest` link the runner made. */
	char *latest = xasprintf("%s/latest", store);
	struct stat sb;
	if (real && (access(marker, F_OK) == 0 || lstat(latest, &sb) == 0)) {
		if (store_index_write(real, err, sizeof err))
			fprintf(stderr, "faultline report: %s\n", err);
		else
			printf("%s/index.html\n", real);
	}
	free(latest);
	free(real);
	free(marker);
	free(store);
	return 0;
}
