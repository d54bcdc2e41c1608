/*
 * workload.c - the workload registry: maps --workload names to the
 * struct workload each workloads/<name>.c file defines. Adding a workload
 * means one file plus one line here.
 */
#include "workload.h"
#include "util.h"

#include <string.h>

extern const struct workload workload_register, workload_set, workload_append,
	workload_rw_register, workload_bank, workload_counter, workload_lock;

static const struct workload *const workloads[] = {
	&workload_register, &workload_set, &workload_append, &workload_rw_register,
	&workload_bank, &workload_counter, &workload_lock,
};

#define N_WORKLOADS (sizeof workloads / sizeof *workloads)

const struct workload *workload_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < N_WORKLOADS; i++)
		if (!strcmp(workloads[i]->name, name))
			return workloads[i];
	return NULL;
}

const char *workload_names(void)
{
	static char *cache;
	return registry_names((const void *const *)workloads, N_WORKLOADS, &cache);
}
