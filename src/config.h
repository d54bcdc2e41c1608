/*
 * config.h - the resolved test: what `faultline run` (and `heal`) act on.
 *
 * A test comes from a JSON config file plus command-line flags that
 * override it (Jepsen's flag names), or from a local cluster's state. It is
 * validated completely before any node is touched; errors name the key path
 * ("nodes[2].host: expected a string") and the CLI exits 254.
 */
#ifndef FAULTLINE_CONFIG_H
#define FAULTLINE_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

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
	char *db;              /* "etcd" */
	char *workload;        /* "register" */
	struct node *nodes;
	int n_nodes;
	char *cluster;         /* local cluster name, or NULL for remote nodes */

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
	char *read_mode;       /* "linearizable" | "serializable" */
	char *fail_on;         /* NULL or "unknown": unknown exits 1 */
	int concurrency_per_node; /* N of "Nn" (resolved at finish), 0 if absolute */
	bool seed_given;       /* false: a random seed was drawn (and recorded) */
	/* Independent keys: each key gets at most ops_per_key ops, from at
	 * most key_concurrency workers at once (keeps the check tractable). */
	int ops_per_key;       /* default 200 */
	int key_concurrency;   /* default 5 */
	char *config_path;     /* the CONFIG.json given, or NULL */

	/* Nemesis */
	char **nemesis;        /* fault kinds: partition, packet, kill, pause, slow, clock */
	int n_nemesis;
	double nemesis_interval; /* seconds; default 10 */
	json_t *nemesis_opts;  /* free-form per-fault options from the config, or NULL */

	/* Checker */
	double checker_timeout; /* seconds; 0 = none */

	/* The resolved config as JSON, secrets removed: becomes test.json. */
	json_t *resolved;
};

/* Error detail for config problems. */
struct config_error {
	char msg[512]; /* "config.json: nodes[2]: duplicate node n2" */
};

void test_init_defaults(struct test *t);
/* Load a JSON config file into t (on top of defaults). */
int config_load_file(struct test *t, const char *path, struct config_error *err);
/* Apply CLI flags (argv after the subcommand); sets *config_path if a
 * positional CONFIG.json is given. Returns 0, or -1 with err set. */
int config_apply_args(struct test *t, int argc, char **argv, struct config_error *err);
/* Final validation and filling of derived values (nodes from a local
 * cluster, known_hosts, resolved JSON). */
int config_finish(struct test *t, struct config_error *err);
void test_free(struct test *t);
/* One help line per flag (for `faultline run --help`). */
void config_print_flags(FILE *out);

/* The whole of a subcommand's config handling: --help (usage and flags,
 * returns 0), flags and CONFIG.json into t, validation (one line on stderr,
 * returns 254). Returns -1 when t is ready to use (caller frees it). */
int config_from_argv(struct test *t, int argc, char **argv, const char *cmd, const char *usage);

#endif
