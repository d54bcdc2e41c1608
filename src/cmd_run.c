/*
 * cmd_run.c - placeholder for `faultline run` until its issue lands.
 */
#include "cmd.h"
#include "util.h"

#include <stdio.h>

int cmd_run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "faultline: 'run' is not implemented yet\n");
	return EXIT_INTERNAL;
}
