/*
 * cmd_heal.c - placeholder for `faultline heal` until its issue lands.
 */
#include "cmd.h"
#include "util.h"

#include <stdio.h>

int cmd_heal(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "faultline: 'heal' is not implemented yet\n");
	return EXIT_INTERNAL;
}
