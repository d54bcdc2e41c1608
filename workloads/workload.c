/*
 * workload.c - the workload registry: maps --workload names to the
 * struct workload each workloads/<name>.c file defines. Adding a workload
 * means one file plus one line here.
 */
#include "workload.h"

#include <string.h>

extern const struct workload workload_register;

static const struct workload *const workloads[] = {
	&workload_register,
};

const struct workload *workload_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof workloads / sizeof *workloads; i++)
		if (!strcmp(workloads[i]->name, name))
			return workloads[i];
	return NULL;
}

/* Comma-separated names, for error messages and --help. */
const char *workload_names(void) { return "register"; }
