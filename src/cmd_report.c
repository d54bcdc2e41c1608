/*
 * cmd_report.c - placeholder for `faultline report` until its issue lands.
 */
#include "cmd.h"
#include "util.h"

#include <stdio.h>

int cmd_report(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "faultline: 'report' is not implemented yet\n");
	return EXIT_INTERNAL;
}
