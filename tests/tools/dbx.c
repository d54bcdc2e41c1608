/*
 * dbx.c - test driver for the db layer (src/db/) over the SSH layer, used
 * by tests/integration/etcd.sh. It is not part of the CLI.
 *
 *   dbx [--db etcd] (--cluster NAME | --hosts H1,H2,.. [--port P] [--key F]
 *        [--known-hosts F] [--workdir-base DIR] [--name TEST]) OP [NODE] [ARG]
 *
 * --cluster reads the local cluster's cluster.json (nodes, key, known_hosts);
 * --hosts names nodes n1..nN with workdirs DIR/n1..DIR/nN. NODE is a node
 * name. OPs: setup | teardown (all nodes, in parallel) | kill | start |
 * pause | resume | pid | healthy | wait-healthy NODE SECS | logs NODE DIR |
 * primary | url NODE. Prints what it found on stdout, errors on stderr;
 * exits 0 on success, 1 on failure, 2 on bad usage.
 */
#include "cluster.h"
#include "config.h"
#include "db.h"
#include "etcd.h"
#include "nodes.h"
#include "ssh.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int usage(void)
{
	fprintf(stderr, "usage: dbx [--db etcd] (--cluster NAME | --hosts H1,H2 [--port P] [--key F]"
			" [--known-hosts F] [--workdir-base DIR] [--name T]) OP [NODE] [ARG]\n");
	return 2;
}

static int load_cluster(struct test *t, const char *name)
{
	char *path = xasprintf("%s/%s/cluster.json", CLUSTER_STATE_ROOT, name);
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	if (!j) {
		fprintf(stderr, "dbx: %s: %s\n", path, je.text);
		free(path);
		return -1;
	}
	free(path);
	json_t *nodes = json_object_get(j, "nodes");
	t->n_nodes = (int)json_array_size(nodes);
	t->nodes = xcalloc((size_t)(t->n_nodes ? t->n_nodes : 1), sizeof *t->nodes);
	for (int i = 0; i < t->n_nodes; i++) {
		json_t *n = json_array_get(nodes, (size_t)i);
		t->nodes[i].name = xstrdup(json_string_value(json_object_get(n, "name")));
		t->nodes[i].host = xstrdup(json_string_value(json_object_get(n, "host")));
		t->nodes[i].workdir = xstrdup(json_string_value(json_object_get(n, "workdir")));
		t->nodes[i].ssh_port = 22;
	}
	const char *user = json_string_value(json_object_get(j, "user"));
	free(t->username);
	t->username = xstrdup(user ? user : "root");
	t->private_key = xstrdup(json_string_value(json_object_get(j, "private_key")));
	t->known_hosts = xstrdup(json_string_value(json_object_get(j, "known_hosts")));
	t->cluster = xstrdup(name);
	json_decref(j);
	return 0;
}

static void hosts_nodes(struct test *t, const char *hosts, int port, const char *base)
{
	char *copy = xstrdup(hosts), *save = NULL;
	t->nodes = xcalloc(64, sizeof *t->nodes);
	for (char *h = strtok_r(copy, ",", &save); h && t->n_nodes < 64; h = strtok_r(NULL, ",", &save)) {
		struct node *n = &t->nodes[t->n_nodes++];
		n->name = xasprintf("n%d", t->n_nodes);
		n->host = xstrdup(h);
		n->ssh_port = port;
		n->workdir = base ? xasprintf("%s/%s", base, n->name) : NULL;
	}
	free(copy);
}

static void test_release(struct test *t)
{
	for (int i = 0; i < t->n_nodes; i++) {
		free(t->nodes[i].name);
		free(t->nodes[i].host);
		free(t->nodes[i].workdir);
	}
	free(t->nodes);
	free(t->name);
	free(t->cluster);
	free(t->username);
	free(t->private_key);
	free(t->known_hosts);
}

static int node_index(const struct test *t, const char *name)
{
	for (int i = 0; t && name && i < t->n_nodes; i++)
		if (strcmp(t->nodes[i].name, name) == 0)
			return i;
	return -1;
}

static int run(int argc, char **argv, struct test *t);

int main(int argc, char **argv)
{
	struct test t;
	memset(&t, 0, sizeof t);
	int rc = run(argc, argv, &t);
	test_release(&t);
	return rc;
}

static int run(int argc, char **argv, struct test *t)
{
	const char *cluster = NULL, *hosts = NULL, *base = NULL, *dbname = "etcd";
	int port = 22, i = 1;
	t->username = xstrdup("root");
	t->name = xstrdup("dbx");
	t->ssh_timeout_ms = 5000;
	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		const char *f = argv[i], *v = argv[i + 1];
		if (strcmp(f, "--cluster") == 0) cluster = v;
		else if (strcmp(f, "--hosts") == 0) hosts = v;
		else if (strcmp(f, "--port") == 0) port = atoi(v);
		else if (strcmp(f, "--key") == 0) { free(t->private_key); t->private_key = xstrdup(v); }
		else if (strcmp(f, "--known-hosts") == 0) { free(t->known_hosts); t->known_hosts = xstrdup(v); }
		else if (strcmp(f, "--workdir-base") == 0) base = v;
		else if (strcmp(f, "--name") == 0) { free(t->name); t->name = xstrdup(v); }
		else if (strcmp(f, "--db") == 0) dbname = v;
		else return usage();
	}
	if (i >= argc || (!cluster == !hosts))
		return usage();
	if (cluster && load_cluster(t, cluster) < 0)
		return 1;
	if (hosts)
		hosts_nodes(t, hosts, port, base);
	const struct db *db = db_find(dbname);
	if (!db) {
		fprintf(stderr, "dbx: unknown db %s\n", dbname);
		return 2;
	}
	const char *op = argv[i];
	const char *node_name = i + 1 < argc ? argv[i + 1] : NULL;
	const char *arg = i + 2 < argc ? argv[i + 2] : NULL;
	int node = node_index(t, node_name);

	char err[1024] = "";
	int rc = 1;
	if (strcmp(op, "url") == 0 && node >= 0 && !strcmp(db->name, "etcd")) {
		char *u = etcd_client_url(t, node);
		puts(u);
		free(u);
		return 0;
	}
	if (strcmp(op, "healthy") == 0 && node >= 0) {
		rc = db->healthy(t, node, err, sizeof err) == 0 ? 0 : 1;
		if (rc == 0)
			puts("healthy");
		else
			fprintf(stderr, "%s\n", err);
		return rc;
	}
	if (strcmp(op, "wait-healthy") == 0 && node >= 0 && arg) {
		int64_t deadline = now_ns() + (int64_t)(atof(arg) * 1e9);
		while ((rc = db->healthy(t, node, err, sizeof err)) != 0 && now_ns() < deadline)
			usleep(100000);
		if (rc == 0)
			puts("healthy");
		else
			fprintf(stderr, "%s\n", err);
		return rc ? 1 : 0;
	}
	struct ssh_node **ssh = nodes_connect(t, err, sizeof err);
	if (!ssh) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	struct db_ctx ctx = {.test = t, .ssh = ssh};
	int64_t t0 = now_ns();
	if (strcmp(op, "setup") == 0)
		rc = db_on_all(&ctx, db->setup, err, sizeof err);
	else if (strcmp(op, "teardown") == 0)
		rc = db_on_all(&ctx, db->teardown, err, sizeof err);
	else if (strcmp(op, "primary") == 0) {
		bool *is = xcalloc((size_t)t->n_nodes, sizeof *is);
		int np = db->primaries ? db->primaries(&ctx, is, err, sizeof err) : -1;
		for (int k = 0; k < t->n_nodes && np > 0; k++)
			if (is[k])
				puts(t->nodes[k].name);
		free(is);
		rc = np > 0 ? 0 : -1;
	} else if (node < 0) {
		ssh_nodes_free(ssh, t->n_nodes);
		return usage();
	} else if (strcmp(op, "kill") == 0)
		rc = db->kill(&ctx, node, err, sizeof err);
	else if (strcmp(op, "start") == 0)
		rc = db->start(&ctx, node, err, sizeof err);
	else if (strcmp(op, "pause") == 0)
		rc = db->pause(&ctx, node, err, sizeof err);
	else if (strcmp(op, "resume") == 0)
		rc = db->resume(&ctx, node, err, sizeof err);
	else if (strcmp(op, "pid") == 0) {
		long pid = db->pid(&ctx, node);
		printf("%ld\n", pid);
		rc = pid > 0 ? 0 : -1;
	} else if (strcmp(op, "logs") == 0 && arg)
		rc = db->logs(&ctx, node, arg, err, sizeof err);
	else {
		ssh_nodes_free(ssh, t->n_nodes);
		return usage();
	}
	if (rc != 0 && err[0])
		fprintf(stderr, "%s\n", err);
	fprintf(stderr, "dbx: %s took %.0f ms\n", op, (double)(now_ns() - t0) / 1e6);
	ssh_nodes_free(ssh, t->n_nodes);
	return rc == 0 ? 0 : 1;
}
