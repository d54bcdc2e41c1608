/*
 * db.h - the db interface (v2): a database's lifecycle on one node over
 * SSH, the options it takes, and the clients it owns.
 *
 * One implementation per file in src/db/ (etcd.c), with its clients next
 * to it (etcd_client.c). Every per-node operation acts on one node (an
 * index into ctx->test->nodes) through ctx->ssh[node]; callers run nodes in
 * parallel (db_on_all). Errors are written to err naming the node and the
 * cause ("n2: etcd not installed (Debian package etcd-server)").
 *
 * A db owns its clients: a table of (workload, client) pairs. Config
 * validation refuses a workload the db has no client for (exit 254),
 * naming the workloads it serves.
 *
 * Adding a database: src/db/<name>.c (+ <name>_client.c), one line in the
 * table of db.c.
 */
#ifndef FAULTLINE_DB_H
#define FAULTLINE_DB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct test;
struct ssh_node;
struct client_ops;

struct db_ctx {
	const struct test *test;
	struct ssh_node **ssh;   /* one per test node */
};

/* One workload this database can run, and the client that runs it. */
struct db_client {
	const char *workload;
	const struct client_ops *client;
};

typedef int (*db_node_fn)(struct db_ctx *c, int node, char *err, size_t errlen);

struct db {
	const char *name;
	const char *summary;   /* one line, for --help */
	/* Validate db_opts (an object, never NULL) before any node is touched
	 * and fill in its defaults. NULL: the db takes no options. 0, or -1
	 * with err naming the key ("db_opts.read_mode: ..."). */
	int (*check)(const struct test *t, json_t *opts, char *err, size_t errlen);
	/* Optional (NULL): check, changing nothing, that the node can run the
	 * database (its packages are installed). `run` calls it on every node
	 * before any setup; a failure exits 254 with err naming the node and
	 * the package to install. */
	db_node_fn preflight;
	/* Install check, data dir, start with the whole cluster's membership,
	 * wait until healthy (so: call on all nodes at once). */
	db_node_fn setup;
	/* Stop and wipe data. Idempotent. */
	db_node_fn teardown;
	/* Start again with existing data (after kill). */
	db_node_fn start;
	db_node_fn kill;    /* SIGKILL */
	db_node_fn pause;   /* SIGSTOP */
	db_node_fn resume;  /* SIGCONT */
	/* pid of the running database process on the node, or -1. */
	long (*pid)(struct db_ctx *c, int node);
	/* Download the node's logs into dir (created by caller). */
	int (*logs)(struct db_ctx *c, int node, const char *dir, char *err, size_t errlen);
	/* Optional (NULL): which nodes lead now. Sets is_primary[i] for each
	 * test node; returns how many do (0: none known), or -1 with err. */
	int (*primaries)(struct db_ctx *c, bool *is_primary, char *err, size_t errlen);
	/* Optional: whether primaries can answer for this test (a
	 * command-defined db only can when given a primary command). NULL:
	 * whenever primaries is set. Fault plans aim at primaries only then. */
	bool (*has_primaries)(const struct test *t);
	/* Health check of one node from the controller (etcd: /health). */
	int (*healthy)(const struct test *t, int node, char *err, size_t errlen);
	/* The workloads it runs: terminated by {NULL, NULL}. */
	const struct db_client *clients;
	/* Optional (NULL): the directory the database writes, relative to
	 * the node's workdir ("etcd.data"). Disk faults mount it through
	 * faultline-diskd before setup, so setup and teardown must wipe its
	 * contents rather than remove it when it is a mountpoint. */
	const char *data_dir;
};

/* Registry: NULL if unknown. */
const struct db *db_find(const char *name);
/* The i-th database of the registry, NULL past the end. */
const struct db *db_at(size_t i);
/* The known database names, comma-separated (for errors and --help). */
const char *db_names(void);
/* The client that runs workload on db, or NULL if db cannot run it. */
const struct client_ops *db_client(const struct db *db, const char *workload);
/* Whether db can say which nodes lead in test t (db_has_primaries). */
bool db_has_primaries(const struct db *db, const struct test *t);
/* The workloads db runs, comma-separated, into b. */
void db_workloads(const struct db *db, struct buf *b);

/* The db's preflight on every node (0 when it has none). */
int db_preflight(struct db_ctx *c, char *err, size_t errlen);

/* err = "NODE: message" (the node's name). */
void db_node_err(const struct test *t, int node, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* What a database module's node scripts mean by their exit codes: msg is
 * a printf format given two strings, what was being done and the node's
 * work directory, in that order (it may use the first, both or none). A
 * table ends with code 0. */
struct db_exit {
	int code;
	const char *msg;
};
/* Run script on node over SSH. 0 (with *out its stdout, if out) when it
 * exits 0; else -1 with err: the transport's error, the table's words for
 * a known exit code, or "cannot WHAT: <last stderr line> (exit N)",
 * each naming the node. */
int db_run_script(struct db_ctx *c, int node, const char *what, const char *script,
		  int timeout_ms, const struct db_exit *codes, const char *workdir, char **out,
		  char *err, size_t errlen);

/* The pid a node's script printed (trailing spaces and newlines allowed),
 * or -1 when it printed none. */
long db_pid_of(const char *out);

/* Run one per-node operation on every node in parallel (par_each).
 * Returns 0 if all succeeded; err gets every failure, "n1: why; n3: why". */
int db_on_all(struct db_ctx *c, db_node_fn fn, char *err, size_t errlen);

#endif
