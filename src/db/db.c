/*
 * db.c - the database registry (one line per database), the lookup of a
 * database's client for a workload, and db_on_all, which runs a per-node
 * operation on every node at once (required for setup: a consensus
 * database only becomes healthy once a quorum of its members is up, so one
 * node's setup can only finish while the others' are running).
 */
#include "db.h"

#include "par.h"
#include "ssh.h"
#include "test.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

extern const struct db etcd_db, postgres_db, redis_db, custom_db, none_db;

static const struct db *const db_registry[] = {
	&etcd_db, &postgres_db, &redis_db, &custom_db, &none_db,
};

#define N_DBS (sizeof db_registry / sizeof *db_registry)

const struct db *db_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < N_DBS; i++)
		if (strcmp(db_registry[i]->name, name) == 0)
			return db_registry[i];
	return NULL;
}

const struct db *db_at(size_t i) { return i < N_DBS ? db_registry[i] : NULL; }

const char *db_names(void)
{
	static char *cache;
	return registry_names((const void *const *)db_registry, N_DBS, &cache);
}

const struct client_ops *db_client(const struct db *db, const char *workload)
{
	for (const struct db_client *c = db && workload ? db->clients : NULL; c && c->workload; c++)
		if (!strcmp(c->workload, workload))
			return c->client;
	return NULL;
}

bool db_has_primaries(const struct db *db, const struct test *t)
{
	return db && db->primaries && (!db->has_primaries || db->has_primaries(t));
}

void db_workloads(const struct db *db, struct buf *b)
{
	int n = 0;
	for (const struct db_client *c = db->clients; c && c->workload; c++)
		buf_printf(b, "%s%s", n++ ? ", " : "", c->workload);
	if (!n)
		buf_puts(b, "none");
}

struct db_on_all_job {
	struct db_ctx *c;
	db_node_fn fn;
};

static int db_on_node(void *ctx, int i, char *err, size_t errlen)
{
	struct db_on_all_job *j = ctx;
	return j->fn(j->c, i, err, errlen);
}

int db_on_all(struct db_ctx *c, db_node_fn fn, char *err, size_t errlen)
{
	struct db_on_all_job j = {c, fn};
	return par_each(c->test->n_nodes, NULL, db_on_node, &j, err, errlen) ? -1 : 0;
}

int db_preflight(struct db_ctx *c, char *err, size_t errlen)
{
	const struct db *db = db_find(c->test->db);
	return db && db->preflight ? db_on_all(c, db->preflight, err, errlen) : 0;
}

void db_node_err(const struct test *t, int node, char *err, size_t errlen, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", t->nodes[node].name, msg);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void exit_msg(char *out, size_t outlen, const char *fmt, const char *what,
		     const char *workdir)
{
	/* C lets a format use fewer arguments than it is given */
	snprintf(out, outlen, fmt, what, workdir);
}
#pragma GCC diagnostic pop

int db_run_script(struct db_ctx *c, int node, const char *what, const char *script,
		  int timeout_ms, const struct db_exit *codes, const char *workdir, char **out,
		  char *err, size_t errlen)
{
	struct ssh_result r;
	int rc = ssh_exec(c->ssh[node], script, timeout_ms, &r);
	char line[300];
	if (rc < 0) { /* the transport's error already names the node */
		last_line(r.err, line, sizeof line);
		if (err && errlen)
			snprintf(err, errlen, "%s", line);
		ssh_result_free(&r);
		return -1;
	}
	if (r.status == 0) {
		if (out)
			*out = xstrdup(r.out);
		ssh_result_free(&r);
		return 0;
	}
	const struct db_exit *x = codes;
	while (x && x->code && x->code != r.status)
		x++;
	if (x && x->code) {
		char msg[400];
		exit_msg(msg, sizeof msg, x->msg, what, workdir ? workdir : "");
		db_node_err(c->test, node, err, errlen, "%s", msg);
	} else {
		last_line(r.err, line, sizeof line);
		db_node_err(c->test, node, err, errlen, "cannot %s: %s (exit %d)", what,
			    line[0] ? line : "no error output", r.status);
	}
	ssh_result_free(&r);
	return -1;
}

long db_pid_of(const char *out)
{
	size_t l = strlen(out);
	while (l && (out[l - 1] == '\n' || out[l - 1] == ' '))
		l--;
	char num[24];
	long v;
	if (!l || l >= sizeof num)
		return -1;
	memcpy(num, out, l);
	num[l] = 0;
	return parse_long(num, 1, 1L << 30, &v) ? v : -1;
}
