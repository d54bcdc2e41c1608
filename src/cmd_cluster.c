/*
 * cmd_cluster.c - placeholder for `faultline cluster` until its issue lands.
 */
#include "cmd.h"
#include "util.h"

#include <stdio.h>

int cmd_cluster(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "faultline: 'cluster' is not implemented yet\n");
	return EXIT_INTERNAL;
}
