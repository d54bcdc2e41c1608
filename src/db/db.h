/*
 * db.h - the db interface: a database's lifecycle on one node, over SSH.
 *
 * One implementation per file in src/db/ (etcd.c first). Every operation
 * acts on one node (index into ctx->test->nodes) through ctx->ssh[node];
 * callers run nodes in parallel. Errors are written to err naming the node
 * and the cause (e.g. "n2: etcd not installed (Debian package etcd-server)").
 */
#ifndef FAULTLINE_DB_H
#define FAULTLINE_DB_H

#include <stddef.h>

struct test;
struct ssh_node;

struct db_ctx {
	const struct test *test;
	struct ssh_node **ssh;   /* one per test node */
};

struct db {
	const char *name;
	/* Install check, data dir, start with the whole cluster's membership,
	 * wait until healthy. */
	int (*setup)(struct db_ctx *c, int node, char *err, size_t errlen);
	/* Stop and wipe data. Idempotent. */
	int (*teardown)(struct db_ctx *c, int node, char *err, size_t errlen);
	/* Start again with existing data (after kill). */
	int (*start)(struct db_ctx *c, int node, char *err, size_t errlen);
	int (*kill)(struct db_ctx *c, int node, char *err, size_t errlen);   /* SIGKILL */
	int (*pause)(struct db_ctx *c, int node, char *err, size_t errlen);  /* SIGSTOP */
	int (*resume)(struct db_ctx *c, int node, char *err, size_t errlen); /* SIGCONT */
	/* pid of the running database process on the node, or -1. */
	long (*pid)(struct db_ctx *c, int node);
	/* Download the node's logs into dir (created by caller). */
	int (*logs)(struct db_ctx *c, int node, const char *dir, char *err, size_t errlen);
	/* Index of the node that leads now, or -1 if unknown / none. Optional (NULL). */
	int (*primary)(struct db_ctx *c, char *err, size_t errlen);
	/* Client URL for a node, e.g. "http://10.213.1.2:2379". Caller frees. */
	char *(*client_url)(const struct test *t, int node);
	/* Health check of one node from the controller (e.g. etcd /health). */
	int (*healthy)(const struct test *t, int node, char *err, size_t errlen);
};

/* Registry: NULL if unknown. */
const struct db *db_find(const char *name);

/* Run one of the per-node operations on every node in parallel.
 * Returns 0 if all succeeded; err gets the first failure. */
typedef int (*db_node_fn)(struct db_ctx *c, int node, char *err, size_t errlen);
int db_on_all(struct db_ctx *c, db_node_fn fn, char *err, size_t errlen);

#endif
