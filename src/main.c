/*
 * main.c - the faultline command line: dispatches to one subcommand
 * (cluster, run, check, report, heal), each implemented in its own
 * cmd_*.c file. Exit codes follow Jepsen: 0 valid, 1 invalid, 2 unknown,
 * 254 bad arguments or config, 255 internal error.
 */
#include "cmd.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

#define FAULTLINE_VERSION "0.1.0"

static const char usage[] =
	"usage: faultline <command> [options]\n"
	"\n"
	"Fault-injection testing of distributed databases.\n"
	"\n"
	"commands:\n"
	"  cluster up|status|down|list\n"
	"                           manage a local cluster of namespaced nodes\n"
	"  run [CONFIG.json]        run a test: workers + nemesis, then check\n"
	"  check HISTORY...         judge a history (faultline JSONL or Jepsen EDN)\n"
	"  report RUN_DIR           regenerate a run's report.html and junit.xml\n"
	"  heal                     remove every faultline fault from the nodes\n"
	"\n"
	"`faultline <command> --help` describes each command.\n"
	"exit codes: 0 valid, 1 invalid, 2 unknown, 254 bad arguments, 255 internal error\n";

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_BADARGS;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version")) {
		puts("faultline " FAULTLINE_VERSION);
		return 0;
	}
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{"cluster", cmd_cluster}, {"run", cmd_run}, {"check", cmd_check},
		{"report", cmd_report}, {"heal", cmd_heal},
	};
	for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
		if (!strcmp(cmd, cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "faultline: unknown command '%s' (see faultline --help)\n", cmd);
	return EXIT_BADARGS;
}
