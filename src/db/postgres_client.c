/*
 * postgres_client.c - what every PostgreSQL client shares: a worker's
 * connections, finding the primary, one transaction with an honest
 * completion, and the schema setup (postgres_client.h).
 *
 * Finding the primary. Any node may be primary (with Patroni it moves), so
 * a client tries the node where the primary was last found by any client
 * of this process, then its own node, then the others in turn, each
 * within a short slice of the op's deadline (a partitioned node drops the
 * SYN), and keeps the first connection whose server is not a hot standby.
 * An isolated old primary that still accepts connections is taken like
 * libpq's target_session_attrs=read-write would take it: that is the
 * exposure a real application has. With read_from = replicas a read-only
 * transaction goes to a hot standby instead (the worker's own node first);
 * a standby offers at most REPEATABLE READ, so a serializable test runs
 * its replica reads at that level (the op records the server and
 * "replica": true).
 *
 * A transaction is BEGIN ISOLATION LEVEL <db_opts.isolation>, the
 * workload's statements, COMMIT, each its own round trip. Before COMMIT
 * is sent nothing can commit, so every error, timeout or lost connection
 * there is a fail (and a broken or timed-out connection is closed: the
 * server rolls back). COMMIT answered: ok; answered with an error that
 * proves an abort (serialization failure, deadlock, integrity or
 * read-only violation): fail; no answer, a lost connection, a timeout or
 * any other error: info, since it may have committed (pg_classify). A
 * read-only transaction changes nothing, so it is never info.
 */
#include "postgres_client.h"

#include "client.h"
#include "history.h"
#include "test.h"
#include "util.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Longest wait for one node while looking for the primary. */
#define PGC_HOST_SLICE_NS 1000000000LL
/* After every node failed: pause before the next search. */
#define PGC_RETRY_NS 100000000LL
#define PGC_SETUP_WAIT_NS 60000000000LL
#define PGC_REPLAY_WAIT_NS 30000000000LL

/* Where some client of this process last found the primary (-1: none). */
static _Atomic int pg_primary_hint = -1;

struct pgc {
	const struct test *t;
	int node;
	struct pg_opts o;
	PGconn *conn[2];     /* [0] the primary, [1] a replica */
	int conn_node[2];
	int64_t retry_at[2];
};

struct pg_txn {
	struct pgc *c;
	int which;           /* 0 primary, 1 replica */
	PGconn *conn;
	int64_t deadline;
	struct op *out;
};

void pg_set_error(struct op *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	free(out->error);
	out->error = s ? s : xstrdup("error");
}

bool pg_int_text(json_t *v, char *out, size_t n)
{
	if (!json_is_integer(v))
		return false;
	snprintf(out, n, "%lld", (long long)json_integer_value(v));
	return true;
}

void *pgc_open(const struct test *t, int node, char *err, size_t errlen)
{
	(void)err, (void)errlen;
	/* Connections are made by the first op (and again after any loss),
	 * inside the op's deadline: an op that finds no primary fails. */
	struct pgc *c = xcalloc(1, sizeof *c);
	c->t = t;
	c->node = node;
	pg_opts_get(t, &c->o);
	c->conn_node[0] = c->conn_node[1] = -1;
	return c;
}

static void pgc_drop(struct pgc *c, int which)
{
	if (c->conn[which])
		PQfinish(c->conn[which]);
	c->conn[which] = NULL;
	c->conn_node[which] = -1;
}

void pgc_close(void *client)
{
	struct pgc *c = client;
	if (!c)
		return;
	pgc_drop(c, 0);
	pgc_drop(c, 1);
	free(c);
}

static void sleep_until_ns(int64_t when)
{
	int64_t d = when - now_ns();
	if (d <= 0)
		return;
	struct timespec ts = {.tv_sec = d / 1000000000LL, .tv_nsec = d % 1000000000LL};
	nanosleep(&ts, NULL);
}

/* A connection to a primary (which 0) or a standby (1), within deadline. */
static PGconn *pgc_find(const struct test *t, int start, int which, int64_t deadline, int *found,
			char *err, size_t errlen)
{
	int n = t->n_nodes;
	int *order = xcalloc((size_t)n + 1, sizeof *order), k = 0;
	int hint = atomic_load(&pg_primary_hint);
	if (which == 0 && hint >= 0 && hint < n)
		order[k++] = hint;
	for (int i = 0; i < n; i++) {
		int cand = (start + i) % n;
		if (!(which == 0 && cand == hint))
			order[k++] = cand;
	}
	struct buf why;
	buf_init(&why);
	PGconn *conn = NULL;
	for (int i = 0; i < k && !conn && now_ns() < deadline; i++) {
		int64_t dl = now_ns() + PGC_HOST_SLICE_NS;
		char e[300];
		PGconn *pc = pg_connect(t, order[i], dl < deadline ? dl : deadline, e, sizeof e);
		if (!pc) {
			buf_printf(&why, "%s%s", why.len ? "; " : "", e);
			continue;
		}
		bool standby = pg_conn_standby(pc);
		if (standby == (which == 1)) {
			conn = pc;
			*found = order[i];
			if (which == 0)
				atomic_store(&pg_primary_hint, order[i]);
		} else {
			buf_printf(&why, "%s%s: %s", why.len ? "; " : "", t->nodes[order[i]].name,
				   standby ? "standby" : "primary");
			PQfinish(pc);
		}
	}
	if (!conn)
		snprintf(err, errlen, "no %s reachable (%s)", which ? "replica" : "primary",
			 why.len ? why.data : "timeout");
	buf_free(&why);
	free(order);
	return conn;
}

static PGconn *pgc_conn(struct pgc *c, int which, int64_t deadline, char *err, size_t errlen)
{
	if (c->conn[which] && PQstatus(c->conn[which]) == CONNECTION_OK)
		return c->conn[which];
	pgc_drop(c, which);
	if (c->retry_at[which] > now_ns())
		sleep_until_ns(c->retry_at[which] < deadline ? c->retry_at[which] : deadline);
	int found = -1;
	c->conn[which] = pgc_find(c->t, c->node, which, deadline, &found, err, errlen);
	if (!c->conn[which]) {
		c->retry_at[which] = now_ns() + PGC_RETRY_NS;
		return NULL;
	}
	c->conn_node[which] = found;
	return c->conn[which];
}

/* "serialization-failure: could not serialize access ..." */
static void result_error(struct op *out, const PGresult *r)
{
	const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	const char *name = pg_sqlstate_name(st);
	if (name)
		pg_set_error(out, "%s: %.200s", name, m ? m : "");
	else
		pg_set_error(out, "SQLSTATE %s: %.200s", st ? st : "?", m ? m : "");
}

int pgx_exec(struct pg_txn *x, const char *sql, int nparams, const char *const *params,
	     PGresult **res)
{
	if (res)
		*res = NULL;
	PGresult *r;
	char e[400];
	enum pg_io io = pg_exec(x->conn, sql, nparams, params, x->deadline, &r, e, sizeof e);
	if (io != PG_IO_OK) {
		/* COMMIT was never sent: whatever happened, nothing committed. */
		x->out->type = OP_FAIL;
		pg_set_error(x->out, "%s", e);
		pgc_drop(x->c, x->which);
		x->conn = NULL;
		return -1;
	}
	ExecStatusType s = PQresultStatus(r);
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		x->out->type = OP_FAIL;
		result_error(x->out, r);
		PQclear(r);
		return -1;
	}
	if (res)
		*res = r;
	else
		PQclear(r);
	return 0;
}

const struct test *pgx_test(const struct pg_txn *x) { return x->c->t; }

int pgx_abort(struct pg_txn *x, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	x->out->type = OP_FAIL;
	free(x->out->error);
	x->out->error = s ? s : xstrdup("aborted");
	return -1;
}

/* After a failed body: roll back, or drop a connection that cannot. */
static void pgx_rollback(struct pg_txn *x)
{
	if (!x->conn)
		return;
	char e[300];
	if (PQstatus(x->conn) != CONNECTION_OK ||
	    pg_exec_ok(x->conn, "ROLLBACK", x->deadline + 1000000000LL, e, sizeof e) < 0 ||
	    PQstatus(x->conn) != CONNECTION_OK)
		pgc_drop(x->c, x->which);
}

static void pgx_mark_server(struct pg_txn *x)
{
	if (!x->out->extra)
		x->out->extra = json_object();
	json_object_set_new(x->out->extra, "server",
			    json_string(x->c->t->nodes[x->c->conn_node[x->which]].name));
	if (x->which == 1)
		json_object_set_new(x->out->extra, "replica", json_true());
}

void pgc_txn(void *client, const struct op *inv, struct op *out, bool read_only, pg_body_fn body,
	     void *arg)
{
	struct pgc *c = client;
	int64_t timeout = (int64_t)(c->t->op_timeout * 1e9);
	struct pg_txn x = {.c = c, .which = read_only && c->o.read_replicas ? 1 : 0,
			   .deadline = now_ns() + (timeout > 0 ? timeout : 1), .out = out};
	char e[1024];
	x.conn = pgc_conn(c, x.which, x.deadline, e, sizeof e);
	if (!x.conn) {
		out->type = OP_FAIL;
		pg_set_error(out, "%s", e);
		return;
	}
	pgx_mark_server(&x);
	/* A hot standby refuses SERIALIZABLE: its best is REPEATABLE READ. */
	const char *iso = c->o.isolation;
	if (x.which == 1 && !strcmp(iso, "SERIALIZABLE"))
		iso = "REPEATABLE READ";
	char begin[80];
	snprintf(begin, sizeof begin, "BEGIN ISOLATION LEVEL %s", iso);
	if (pgx_exec(&x, begin, 0, NULL, NULL) < 0 || body(&x, inv, out, arg) < 0) {
		pgx_rollback(&x);
		return;
	}
	PGresult *r;
	enum pg_io io = pg_exec(x.conn, "COMMIT", 0, NULL, x.deadline, &r, e, sizeof e);
	if (io != PG_IO_OK) {
		out->type = read_only ? OP_FAIL : OP_INFO;
		pg_set_error(out, "%s during COMMIT", e);
		pgc_drop(c, x.which);
		return;
	}
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		out->type = read_only || pg_classify(st, false) == PG_FAIL ? OP_FAIL : OP_INFO;
		result_error(out, r);
		if (out->type == OP_INFO) {
			size_t l = strlen(out->error);
			out->error = xrealloc(out->error, l + 20);
			snprintf(out->error + l, 20, " during COMMIT");
		}
		if (PQstatus(x.conn) != CONNECTION_OK)
			pgc_drop(c, x.which);
	} else if (!strcmp(PQcmdStatus(r), "ROLLBACK")) {
		/* The server had aborted the transaction on its own. */
		out->type = OP_FAIL;
		pg_set_error(out, "the server rolled the transaction back");
	} else {
		out->type = OP_OK;
	}
	PQclear(r);
}

/* ---- schema setup ---- */

/* Wait until the replica has replayed everything up to lsn. */
static int replica_caught_up(const struct test *t, int node, const char *lsn, int64_t deadline,
			     char *err, size_t errlen)
{
	char e[400] = "";
	while (now_ns() < deadline) {
		PGconn *c = pg_connect(t, node, deadline, e, sizeof e);
		if (!c) {
			sleep_until_ns(now_ns() + 200000000LL);
			continue;
		}
		bool done = false;
		while (!done && now_ns() < deadline && PQstatus(c) == CONNECTION_OK) {
			PGresult *r;
			const char *p[] = {lsn};
			if (pg_exec(c, "SELECT NOT pg_is_in_recovery() OR "
				       "pg_last_wal_replay_lsn() >= $1::pg_lsn",
				    1, p, deadline, &r, e, sizeof e) != PG_IO_OK)
				break;
			done = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
			       !strcmp(PQgetvalue(r, 0, 0), "t");
			if (PQresultStatus(r) != PGRES_TUPLES_OK)
				snprintf(e, sizeof e, "%s", PQresultErrorMessage(r));
			PQclear(r);
			if (!done)
				sleep_until_ns(now_ns() + 100000000LL);
		}
		PQfinish(c);
		if (done)
			return 0;
	}
	snprintf(err, errlen, "%s: replica did not replay the schema within %lld s%s%s",
		 t->nodes[node].name, PGC_REPLAY_WAIT_NS / 1000000000LL, e[0] ? ": " : "", e);
	return -1;
}

int pg_schema_setup(const struct test *t, pg_schema_fn fn, void *arg, char *err, size_t errlen)
{
	int64_t deadline = now_ns() + PGC_SETUP_WAIT_NS;
	char e[1024] = "";
	PGconn *c = NULL;
	int primary = -1;
	atomic_store(&pg_primary_hint, -1);
	/* Patroni may still be electing its first leader. */
	while (!(c = pgc_find(t, 0, 0, deadline, &primary, e, sizeof e)) && now_ns() < deadline)
		sleep_until_ns(now_ns() + 500000000LL);
	if (!c) {
		snprintf(err, errlen, "%s", e);
		return -1;
	}
	int64_t dl = now_ns() + PGC_SETUP_WAIT_NS;
	int rc = fn(c, dl, arg, e, sizeof e);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", t->nodes[primary].name, e);
		PQfinish(c);
		return -1;
	}
	PGresult *r;
	char lsn[64] = "";
	if (pg_exec(c, "SELECT pg_current_wal_lsn()::text", 0, NULL, dl, &r, e, sizeof e) == PG_IO_OK) {
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
			snprintf(lsn, sizeof lsn, "%s", PQgetvalue(r, 0, 0));
		PQclear(r);
	}
	PQfinish(c);
	if (!lsn[0]) {
		snprintf(err, errlen, "%s: cannot read the WAL position: %s", t->nodes[primary].name, e);
		return -1;
	}
	int64_t rdl = now_ns() + PGC_REPLAY_WAIT_NS;
	for (int i = 0; i < t->n_nodes; i++)
		if (i != primary && replica_caught_up(t, i, lsn, rdl, err, errlen) < 0)
			return -1;
	return 0;
}
