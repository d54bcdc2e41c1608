/*
 * par.c - par_each (par.h): one thread per selected index, joined before
 * returning, errors collected per index and joined in index order so a
 * message never depends on which thread finished first.
 */
#include "par.h"

#include "util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct par_job {
	par_fn fn;
	void *ctx;
	int i, rc;
	bool wanted;       /* a copy: fn may change the caller's want[] */
	bool started;
	pthread_t th;
	char err[512];
};

static void *par_job_run(void *arg)
{
	struct par_job *j = arg;
	j->err[0] = 0;
	j->rc = j->fn(j->ctx, j->i, j->err, sizeof j->err);
	return NULL;
}

int par_each(int n, const bool *want, par_fn fn, void *ctx, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = 0;
	if (n <= 0)
		return 0;
	struct par_job *jobs = xcalloc((size_t)n, sizeof *jobs);
	int last = -1;
	for (int i = 0; i < n; i++) {
		jobs[i] = (struct par_job){.fn = fn, .ctx = ctx, .i = i, .rc = 0,
					   .wanted = !want || want[i]};
		if (jobs[i].wanted)
			last = i;
	}
	/* The caller's thread takes the last job instead of idling. */
	for (int i = 0; i < last; i++)
		if (jobs[i].wanted)
			jobs[i].started = pthread_create(&jobs[i].th, NULL, par_job_run, &jobs[i]) == 0;
	if (last >= 0)
		par_job_run(&jobs[last]);
	for (int i = 0; i < last; i++) {
		if (!jobs[i].wanted)
			continue;
		if (jobs[i].started)
			pthread_join(jobs[i].th, NULL);
		else
			par_job_run(&jobs[i]);
	}
	int failed = 0;
	size_t used = 0;
	for (int i = 0; i < n; i++) {
		if (jobs[i].rc == 0)
			continue;
		failed++;
		if (err && errlen > used + 1) {
			int w = snprintf(err + used, errlen - used, "%s%s", used ? "; " : "",
					 jobs[i].err[0] ? jobs[i].err : "failed");
			used += w > 0 ? (size_t)w : 0;
			if (used >= errlen)
				used = errlen - 1;
		}
	}
	free(jobs);
	return failed;
}
