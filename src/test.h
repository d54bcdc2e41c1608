/*
 * test.h - the resolved test as plain data: the nodes and every setting
 * of a run. Filled and validated by config.c (from a config file, flags or
 * a local cluster's state); read by everything that acts on a test (nodes,
 * runner, db, nemesis, workloads). Nothing here has behaviour, so any
 * module may include it without depending on another.
 */
#ifndef FAULTLINE_TEST_H
#define FAULTLINE_TEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct node {
	char *name;    /* "n1" - what the history and the report call it */
	char *host;    /* address or DNS name sshd listens on */
	int ssh_port;  /* default 22 */
	/* Directory on the node where faultline keeps its state (db data,
	 * pid files, uploaded helpers). Remote default /var/lib/faultline; a
	 * local cluster gives each node its own, since its nodes share one
	 * filesystem. */
	char *workdir;
};

struct test {
	char *name;            /* test name: store/<name>/<timestamp>/ */
	char *db;              /* a name in the db registry ("etcd") */
	char *workload;        /* a name in the workload registry ("register") */
	struct node *nodes;
	int n_nodes;
	char *cluster;         /* local cluster name, or NULL for remote nodes */
	/* A local cluster's bridge: every connection the controller opens to a
	 * node is bound to it (net.h), so node traffic can never leave the
	 * machine. NULL for remote nodes. */
	char *bind_device;

	/* SSH */
	char *username;        /* default "root" */
	char *private_key;     /* path */
	char *known_hosts;     /* path; default ~/.ssh/known_hosts */
	bool ssh_accept_new;   /* trust on first use, record the key */
	char *sudo_password;   /* secret: never logged or stored */
	char *sudo_password_env; /* name of the env variable holding it */
	int ssh_timeout_ms;

	/* Run */
	int concurrency;
	double time_limit;     /* seconds of the main phase */
	double rate;           /* total ops/s; 0 = unlimited */
	uint64_t seed;
	char *store;           /* default ./store */
	int test_count;
	double recovery_time;  /* seconds without faults after heal; default 10 */
	double op_timeout;     /* seconds before an op completes as info; default 5 */
	bool leave_db_running;
	bool heal_first;       /* heal an earlier run's faults instead of refusing to start */
	char *fail_on;         /* NULL or "unknown": unknown exits 1 */
	int concurrency_per_node; /* N of "Nn" (resolved at finish), 0 if absolute */
	bool seed_given;       /* false: a random seed was drawn (and recorded) */
	/* Independent keys: each key gets at most ops_per_key ops, from at
	 * most key_concurrency workers at once (keeps the check tractable). */
	int ops_per_key;       /* default 200 */
	int key_concurrency;   /* default 5 */
	char *config_path;     /* the CONFIG.json given, or NULL */
	bool nodes_from_file;  /* nodes came from config_path (for error messages) */

	/* Nemesis */
	char **nemesis;        /* fault kinds: partition, packet, kill, pause, slow, clock */
	int n_nemesis;
	double nemesis_interval; /* seconds; default 10 */
	json_t *nemesis_opts;  /* free-form per-fault options from the config, or NULL */

	/* Free-form options, each validated (and completed with its
	 * defaults) by its module before any node is touched: db_opts by the
	 * db's check (etcd: read_mode), workload_opts by the workload's,
	 * checker_opts.<name> by each checker's. Never NULL after
	 * config_finish. */
	json_t *db_opts;
	json_t *workload_opts;
	json_t *checker_opts;
	/* The adapter client ({"exec": [...], ...}, validated by adapter_check
	 * in src/db/adapter.h), or NULL: the db's own client runs the workload. */
	json_t *client;

	/* Checker */
	double checker_timeout; /* seconds; 0 = none */
	/* Checkers that judge the run: the config's "checkers", else the
	 * workload's. */
	char **checkers;
	int n_checkers;

	/* The resolved config as JSON, secrets removed: becomes test.json. */
	json_t *resolved;
};

#endif
