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

#include "test.h"

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
/* Fill t's nodes, SSH key and known_hosts from local cluster `name` (its
 * cluster.json). 0, or -1 with err if it is not up. */
int config_nodes_from_cluster(struct test *t, const char *name, struct config_error *err);
/* One help line per flag (for `faultline run --help`). */
void config_print_flags(FILE *out);

/* The whole of a subcommand's config handling: --help (usage and flags,
 * returns 0), flags and CONFIG.json into t, validation (one line on stderr,
 * returns 254). Returns -1 when t is ready to use (caller frees it). */
int config_from_argv(struct test *t, int argc, char **argv, const char *cmd, const char *usage);

#endif
