/*
 * local.c - a local cluster's database (local.h): `cluster up` sets it up
 * through the same config, SSH and db code a remote cluster takes, and
 * `cluster status` asks each node over SSH and the database's health
 * check what the namespace-level view (cluster_status_json) cannot tell.
 */
#include "local.h"

#include "cluster.h"
#include "config.h"
#include "db.h"
#include "nodes.h"
#include "par.h"
#include "ssh.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* A test on the cluster's nodes (db may be NULL: none). 0 or -1 + err. */
static int local_test(struct test *t, const char *name, const char *db, char *err,
		      size_t errlen)
{
	struct config_error cerr;
	test_init_defaults(t);
	if (db) {
		free(t->db);
		t->db = xstrdup(db);
		/* The default workload may be one this db has no client for
		 * (postgres runs no register): any workload it runs will do. */
		const struct db *d = db_find(db);
		if (d && !db_client(d, t->workload) && d->clients && d->clients[0].workload) {
			free(t->workload);
			t->workload = xstrdup(d->clients[0].workload);
		}
	}
	t->cluster = xstrdup(name);
	if (config_finish(t, &cerr) < 0) {
		snprintf(err, errlen, "%s", cerr.msg);
		return -1;
	}
	return 0;
}

int local_db_setup(const char *name, const char *db, char *err, size_t errlen)
{
	struct test t;
	if (local_test(&t, name, db, err, errlen) < 0) {
		test_free(&t);
		return -1;
	}
	int rc = -1;
	struct ssh_node **ssh = nodes_connect(&t, err, errlen);
	if (ssh) {
		struct db_ctx ctx = {.test = &t, .ssh = ssh};
		rc = db_on_all(&ctx, db_find(db)->setup, err, errlen);
		ssh_nodes_free(ssh, t.n_nodes);
	}
	test_free(&t);
	return rc;
}

struct probe {
	const struct test *t;
	const struct db *db;
	struct ssh_node **ssh;
	bool *ssh_ok, *healthy;
	long *db_pid;
	char (*why)[300];
};

static int probe_node(void *ctx, int i, char *err, size_t errlen)
{
	(void)err, (void)errlen;
	struct probe *p = ctx;
	struct ssh_result r = {0};
	char e[300] = "";
	p->db_pid[i] = -1;
	if (ssh_node_connect(p->ssh[i], e, sizeof e) == 0 &&
	    ssh_exec(p->ssh[i], "true", 5000, &r) == 0 && r.status == 0)
		p->ssh_ok[i] = true;
	else
		snprintf(p->why[i], sizeof p->why[i], "%s", e[0] ? e : "ssh: `true` failed");
	ssh_result_free(&r);
	if (!p->db)
		return 0;
	struct db_ctx dbc = {.test = p->t, .ssh = p->ssh};
	if (p->ssh_ok[i] && p->db->pid)
		p->db_pid[i] = p->db->pid(&dbc, i);
	e[0] = 0;
	p->healthy[i] = p->db->healthy(p->t, i, e, sizeof e) == 0;
	if (!p->healthy[i] && p->ssh_ok[i] && p->db_pid[i] <= 0)
		snprintf(p->why[i], sizeof p->why[i], "%s is not running (a run tears it down "
			 "unless --leave-db-running; the next run sets it up)", p->db->name);
	else if (!p->healthy[i] && !p->why[i][0])
		snprintf(p->why[i], sizeof p->why[i], "%s", e);
	return 0;
}

static void status_print(FILE *out, json_t *c, const struct test *t, const struct probe *p,
			 const char *dbname)
{
	fprintf(out, "cluster %s: subnet %s, db %s, state %s\n",
		json_string_value(json_object_get(c, "name")),
		json_string_value(json_object_get(c, "subnet")), dbname,
		json_string_value(json_object_get(c, "state_dir")));
	fprintf(out, "%-5s %-16s %-4s %-10s %-8s %s\n", "NODE", "HOST", "SSH", "SSHD_PID", "DB_PID",
		"HEALTH");
	json_t *nodes = json_object_get(c, "nodes");
	for (int i = 0; i < t->n_nodes; i++) {
		json_t *nd = json_array_get(nodes, (size_t)i);
		char sp[24], dp[24];
		snprintf(sp, sizeof sp, "%d%s", (int)json_integer_value(json_object_get(nd, "sshd_pid")),
			 json_is_true(json_object_get(nd, "sshd_alive")) ? "" : " (gone)");
		snprintf(dp, sizeof dp, "%ld", p->db_pid[i]);
		fprintf(out, "%-5s %-16s %-4s %-10s %-8s %s%s%s\n", t->nodes[i].name,
			t->nodes[i].host, p->ssh_ok[i] ? "ok" : "FAIL", sp,
			p->db_pid[i] > 0 ? dp : "-",
			!p->db ? "n/a" : p->healthy[i] ? "healthy" : "UNHEALTHY",
			p->why[i][0] ? "  " : "", p->why[i]);
	}
}

static json_t *status_json(json_t *c, const struct test *t, const struct probe *p,
			   const char *dbname, bool all_ok)
{
	json_t *arr = json_array();
	json_t *nodes = json_object_get(c, "nodes");
	for (int i = 0; i < t->n_nodes; i++) {
		json_t *nd = json_array_get(nodes, (size_t)i);
		json_array_append_new(
			arr, json_pack("{s:s, s:s, s:b, s:O, s:O, s:I, s:s?, s:s}", "name",
				       t->nodes[i].name, "host", t->nodes[i].host, "ssh",
				       p->ssh_ok[i], "sshd_pid", json_object_get(nd, "sshd_pid"),
				       "sshd_alive", json_object_get(nd, "sshd_alive"), "db_pid",
				       (json_int_t)p->db_pid[i], "error",
				       p->why[i][0] ? p->why[i] : NULL, "health",
				       !p->db ? "n/a" : p->healthy[i] ? "healthy" : "unhealthy"));
	}
	return json_pack("{s:O, s:O, s:s, s:O, s:b, s:o}", "name", json_object_get(c, "name"),
			 "subnet", json_object_get(c, "subnet"), "db", dbname, "state_dir",
			 json_object_get(c, "state_dir"), "healthy", all_ok, "nodes", arr);
}

int local_status(const char *name, bool as_json, FILE *out)
{
	json_t *c = cluster_status_json(name);
	if (!c)
		return -1;
	const char *dbname = json_string_value(json_object_get(c, "db")) ?: "none";
	/* "none" is a db for runs (a service faultline does not own); a
	 * cluster brought up without a database has nothing to probe. */
	const struct db *db = strcmp(dbname, "none") ? db_find(dbname) : NULL;
	struct test t;
	char err[512];
	if (local_test(&t, name, db ? dbname : NULL, err, sizeof err) < 0) {
		fprintf(stderr, "faultline cluster: %s: %s\n", name, err);
		test_free(&t);
		json_decref(c);
		return -1;
	}
	int n = t.n_nodes;
	struct probe p = {.t = &t, .db = db, .ssh = nodes_sessions(&t, 3000),
			  .ssh_ok = xcalloc((size_t)n, sizeof(bool)),
			  .healthy = xcalloc((size_t)n, sizeof(bool)),
			  .db_pid = xcalloc((size_t)n, sizeof(long)),
			  .why = xcalloc((size_t)n, sizeof *p.why)};
	par_each(n, NULL, probe_node, &p, NULL, 0);
	bool all_ok = true;
	json_t *nodes = json_object_get(c, "nodes");
	for (int i = 0; i < n; i++)
		all_ok &= p.ssh_ok[i] &&
			  json_is_true(json_object_get(json_array_get(nodes, (size_t)i), "sshd_alive")) &&
			  (!db || p.healthy[i]);
	if (as_json) {
		json_t *o = status_json(c, &t, &p, dbname, all_ok);
		char *s = json_dumps(o, JSON_INDENT(2));
		fprintf(out, "%s\n", s);
		free(s);
		json_decref(o);
	} else {
		status_print(out, c, &t, &p, dbname);
	}
	ssh_nodes_free(p.ssh, n);
	free(p.ssh_ok), free(p.healthy), free(p.db_pid), free(p.why);
	test_free(&t);
	json_decref(c);
	return all_ok ? 0 : 1;
}
