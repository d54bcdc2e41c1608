/*
 * cmd_cluster.c - `faultline cluster up|status|down|list`: the command line
 * over cluster.c. Every argument is validated before anything is created,
 * so bad input exits 254 with one line and leaves the machine untouched.
 */
#include "cluster.h"
#include "cmd.h"
#include "db.h"
#include "local.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_NODES 64

static const char cluster_usage[] =
	"usage: faultline cluster up     [--nodes N] [--name NAME] [--subnet CIDR] [--db DB|none]\n"
	"       faultline cluster status [--name NAME] [--json]\n"
	"       faultline cluster down   [--name NAME]\n"
	"       faultline cluster list\n"
	"\n"
	"A local cluster: N nodes (default 5) on this machine, each a network\n"
	"namespace fl-NAME-nI on a private bridge, with its own sshd (host key and\n"
	"controller key generated for the cluster) and database, reached over SSH\n"
	"exactly like remote hosts. No default route, NAT or forwarding: traffic\n"
	"never leaves the machine. NAME defaults to 'default'; --subnet defaults to\n"
	"the first free 10.213.X.0/24. State: " CLUSTER_STATE_ROOT "/NAME.\n"
	"Needs root. `status` exits 1 if any node is unhealthy. Databases: %s.\n";

struct cluster_args {
	const char *action, *name, *subnet, *db;
	long nodes;
	int json;
};

static int usage_error(const char *fmt, const char *a)
{
	fprintf(stderr, "faultline cluster: ");
	fprintf(stderr, fmt, a);
	fprintf(stderr, " (see faultline cluster --help)\n");
	return EXIT_BADARGS;
}

static int cluster_parse(int argc, char **argv, struct cluster_args *a)
{
	*a = (struct cluster_args){.name = "default", .db = "etcd", .nodes = 5};
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		bool has_val = i + 1 < argc;
		if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
			printf(cluster_usage, db_names());
			exit(0);
		} else if (!strcmp(s, "--json")) {
			a->json = 1;
		} else if (!strcmp(s, "--nodes") || !strcmp(s, "--name") || !strcmp(s, "--subnet") ||
			   !strcmp(s, "--db")) {
			if (!has_val)
				return usage_error("%s needs a value", s);
			const char *v = argv[++i];
			if (!strcmp(s, "--name"))
				a->name = v;
			else if (!strcmp(s, "--subnet"))
				a->subnet = v;
			else if (!strcmp(s, "--db"))
				a->db = v;
			else if (!parse_long(v, 1, MAX_NODES, &a->nodes))
				return usage_error("--nodes %s: expected a whole number from 1 to "
						   "64", v);
		} else if (s[0] == '-') {
			return usage_error("unknown option %s", s);
		} else if (!a->action) {
			a->action = s;
		} else {
			return usage_error("unexpected argument %s", s);
		}
	}
	if (!a->action)
		return usage_error("%s", "missing action: up, status, down or list");
	if (!cluster_name_valid(a->name))
		return usage_error("--name %s: use 1-24 of a-z, 0-9 and '-' (not leading)", a->name);
	return 0;
}

static int cluster_cmd_up(const struct cluster_args *a)
{
	char err[512];
	struct cluster_spec sp = {.name = a->name, .n = (int)a->nodes, .db = a->db};
	/* A custom database is defined in a run's config, not at cluster up. */
	if (!db_find(a->db) || !strcmp(a->db, "custom")) {
		fprintf(stderr, "faultline cluster: --db %s: not a database cluster up can set up "
			"(known: %s; custom is defined in a run's config) (see faultline cluster "
			"--help)\n", a->db, db_names());
		return EXIT_BADARGS;
	}
	if (a->subnet && cluster_parse_subnet(a->subnet, &sp.net, &sp.prefix, err, sizeof err) < 0)
		return usage_error("%s", err);
	if (geteuid() != 0)
		return usage_error("%s", "cluster up needs root (network namespaces, bridge)");
	if (access("/usr/sbin/sshd", X_OK) < 0)
		return usage_error("%s", "/usr/sbin/sshd not found (Debian package openssh-server)");
	if (cluster_reserve(&sp, err, sizeof err) < 0)
		return usage_error("%s", err);
	char *sub = cluster_subnet_str(sp.net, sp.prefix);
	printf("faultline cluster: bringing up %s: %d nodes on %s, db %s\n", a->name, sp.n, sub,
	       a->db);
	fflush(stdout);
	int64_t t0 = now_ns();
	if (cluster_up(&sp, err, sizeof err) < 0 ||
	    (strcmp(a->db, "none") && local_db_setup(a->name, a->db, err, sizeof err) < 0)) {
		char e2[256];
		cluster_down(a->name, e2, sizeof e2);
		fprintf(stderr, "faultline cluster: up %s failed: %s (everything it created was "
			"removed)\n", a->name, err);
		free(sub);
		return EXIT_INTERNAL;
	}
	printf("faultline cluster: %s is up in %.1f s; state in %s/%s\n", a->name,
	       (now_ns() - t0) / 1e9, CLUSTER_STATE_ROOT, a->name);
	free(sub);
	local_status(a->name, false, stdout);
	const struct db *db = db_find(a->db);
	const char *wl = db && db->clients && db->clients[0].workload ? db->clients[0].workload
								       : "register";
	printf("next: faultline run --cluster %s --workload %s --time-limit 30\n", a->name, wl);
	return 0;
}

static int cluster_cmd_down(const struct cluster_args *a)
{
	char err[512];
	if (!cluster_exists(a->name)) {
		printf("faultline cluster: %s is not up; nothing to remove\n", a->name);
		return 0;
	}
	if (geteuid() != 0)
		return usage_error("%s", "cluster down needs root");
	int rc = cluster_down(a->name, err, sizeof err);
	if (rc < 0) {
		fprintf(stderr, "faultline cluster: down %s: %s\n", a->name, err);
		return rc == CLUSTER_LOCK_HELD ? EXIT_BADARGS : EXIT_INTERNAL;
	}
	printf("faultline cluster: %s removed (namespaces, bridge, processes, state)\n", a->name);
	return 0;
}

static int cluster_cmd_list(void)
{
	char **names = NULL;
	int n = cluster_list_all(&names);
	for (int i = 0; i < n; i++) {
		json_t *c = cluster_load_any(names[i]);
		printf("%-24s %-8s %-18s %zu nodes\n", names[i],
		       json_string_value(json_object_get(c, "state")) ?: "broken",
		       json_string_value(json_object_get(c, "subnet")) ?: "-",
		       json_array_size(json_object_get(c, "nodes")));
		json_decref(c);
		free(names[i]);
	}
	free(names);
	return 0;
}

int cmd_cluster(int argc, char **argv)
{
	struct cluster_args a;
	int rc = cluster_parse(argc, argv, &a);
	if (rc)
		return rc;
	if (!strcmp(a.action, "up"))
		return cluster_cmd_up(&a);
	if (!strcmp(a.action, "down"))
		return cluster_cmd_down(&a);
	if (!strcmp(a.action, "list"))
		return cluster_cmd_list();
	if (!strcmp(a.action, "status")) {
		int st = local_status(a.name, a.json, stdout);
		if (st < 0) {
			fprintf(stderr, "faultline cluster: %s is not up (faultline cluster up "
				"--name %s)\n", a.name, a.name);
			return 1;
		}
		return st;
	}
	return usage_error("unknown action %s (up, status, down, list)", a.action);
}
