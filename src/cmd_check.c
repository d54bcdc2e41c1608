/*
 * cmd_check.c - placeholder for `faultline check` until its issue lands.
 */
#include "cmd.h"
#include "util.h"

#include <stdio.h>

int cmd_check(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "faultline: 'check' is not implemented yet\n");
	return EXIT_INTERNAL;
}
