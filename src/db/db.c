/*
 * db.c - the database registry and the parallel helper every caller uses to
 * act on all nodes at once.
 *
 * Databases are found by the name a test config gives ("etcd"). db_on_all
 * runs one per-node operation on every node in its own thread and waits for
 * all of them: besides being faster, this is required for setup, because a
 * consensus database only becomes healthy once a quorum of its members is
 * up, so one node's setup can only finish while the others' are running.
 */
#include "db.h"

#include "config.h"
#include "util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct db etcd_db;

static const struct db *const db_registry[] = {
	&etcd_db,
};

const struct db *db_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof db_registry / sizeof *db_registry; i++)
		if (strcmp(db_registry[i]->name, name) == 0)
			return db_registry[i];
	return NULL;
}

struct db_job {
	struct db_ctx *ctx;
	db_node_fn fn;
	int node;
	int rc;
	char err[512];
};

static void *db_job_run(void *arg)
{
	struct db_job *j = arg;
	j->err[0] = 0;
	j->rc = j->fn(j->ctx, j->node, j->err, sizeof j->err);
	return NULL;
}

int db_on_all(struct db_ctx *c, db_node_fn fn, char *err, size_t errlen)
{
	int n = c->test->n_nodes;
	if (n <= 0)
		return 0;
	struct db_job *jobs = xcalloc((size_t)n, sizeof *jobs);
	pthread_t *th = xcalloc((size_t)n, sizeof *th);
	bool *started = xcalloc((size_t)n, sizeof *started);
	for (int i = 0; i < n; i++) {
		jobs[i] = (struct db_job){.ctx = c, .fn = fn, .node = i};
		started[i] = pthread_create(&th[i], NULL, db_job_run, &jobs[i]) == 0;
	}
	/* A thread that could not start still gets its node done, here. */
	for (int i = 0; i < n; i++) {
		if (started[i])
			pthread_join(th[i], NULL);
		else
			db_job_run(&jobs[i]);
	}
	int rc = 0;
	for (int i = 0; i < n; i++) {
		if (jobs[i].rc == 0)
			continue;
		if (rc == 0 && err && errlen)
			snprintf(err, errlen, "%s", jobs[i].err[0] ? jobs[i].err : "failed");
		if (rc != 0)
			log_error("%s", jobs[i].err); /* later failures are logged, not lost */
		rc = -1;
	}
	free(jobs);
	free(th);
	free(started);
	return rc;
}
