/*
 * postgres_conn.c - libpq from the controller with deadlines of our own,
 * and the classification of PostgreSQL errors into completions.
 *
 * libpq's blocking calls wait as long as TCP does when a partition drops
 * a node's packets, and its connect_timeout counts whole seconds per host.
 * So connections are made with PQconnectStartParams/PQconnectPoll and
 * statements sent with PQsendQueryParams on a non-blocking connection,
 * each wait a poll() bounded by the caller's deadline. A statement that
 * misses its deadline leaves the connection in an unknown state: callers
 * close it (the server then rolls back whatever was not committed).
 *
 * A local cluster binds every controller socket to its bridge (net.h);
 * libpq cannot bind to a device, so here the defence is the local
 * cluster's own: nodes live in a subnet that only the bridge routes.
 */
#include "postgres.h"

#include "test.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ms left until deadline (ns, CLOCK_MONOTONIC), at least 0. */
static int ms_left(int64_t deadline)
{
	int64_t left = deadline - now_ns();
	if (left <= 0)
		return 0;
	left = (left + 999999) / 1000000;
	return left > 3600000 ? 3600000 : (int)left;
}

/* libpq's messages span lines ("connection to server ... failed:
 * Connection refused\n\tIs the server running...") - one line for ours. */
static void one_line(const char *msg, char *out, size_t outlen)
{
	size_t j = 0;
	bool space = false;
	for (const char *p = msg ? msg : ""; *p && j + 1 < outlen; p++) {
		if (*p == '\n' || *p == '\t' || *p == '\r' || *p == ' ') {
			space = j > 0;
			continue;
		}
		if (space && j + 2 < outlen)
			out[j++] = ' ';
		space = false;
		out[j++] = *p;
	}
	out[j] = 0;
}

/* Wait until fd is ready for events or the deadline passes: 1, 0 on
 * timeout, -1 on error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int ms = ms_left(deadline);
		if (ms <= 0)
			return 0;
		struct pollfd p = {.fd = fd, .events = events};
		int r = poll(&p, 1, ms);
		if (r < 0 && errno == EINTR)
			continue;
		return r < 0 ? -1 : r > 0 ? 1 : 0;
	}
}

/* Server notices (NOTICE: table does not exist, WARNING: canceling the
 * wait for synchronous replication) go to faultline.log, not stderr. */
static void pg_notice(void *arg, const char *message)
{
	char line[400];
	one_line(message, line, sizeof line);
	log_debug("postgres %s: %s", (const char *)arg, line);
}

PGconn *pg_connect(const struct test *t, int node, int64_t deadline, char *err, size_t errlen)
{
	struct pg_opts o;
	pg_opts_get(t, &o);
	char port[16];
	snprintf(port, sizeof port, "%d", o.port);
	/* Keepalives and tcp_user_timeout let the kernel give up on a dead
	 * peer too, for connections idle between ops. */
	const char *keys[] = {"host", "port", "user", "password", "dbname", "application_name",
			      "sslmode", "gssencmode", "keepalives", "keepalives_idle",
			      "keepalives_interval", "keepalives_count", "tcp_user_timeout", NULL};
	const char *vals[] = {t->nodes[node].host, port, "postgres", pg_password(), "postgres",
			      "faultline", "prefer", "disable", "1", "5", "1", "3", "5000", NULL};
	PGconn *c = PQconnectStartParams(keys, vals, 0);
	char msg[300];
	if (!c) {
		snprintf(err, errlen, "%s: out of memory", t->nodes[node].name);
		return NULL;
	}
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	while (PQstatus(c) != CONNECTION_BAD && st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
		int w = wait_fd(PQsocket(c), st == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline);
		if (w == 0) {
			snprintf(err, errlen, "%s: connect: timeout", t->nodes[node].name);
			PQfinish(c);
			return NULL;
		}
		if (w < 0)
			break;
		st = PQconnectPoll(c);
	}
	if (PQstatus(c) != CONNECTION_OK) {
		/* 'connection to server at "h", port 5432 failed: Connection
		 * refused\n\tIs the server running...': the cause is enough. */
		const char *m = PQerrorMessage(c), *f = strstr(m, "failed: ");
		char cause[300];
		snprintf(cause, sizeof cause, "%s", f ? f + 8 : m);
		cause[strcspn(cause, "\n")] = 0;
		one_line(cause, msg, sizeof msg);
		snprintf(err, errlen, "%s: %s", t->nodes[node].name, msg[0] ? msg : "connect failed");
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, pg_notice, t->nodes[node].name);
	if (PQsetnonblocking(c, 1) != 0) {
		snprintf(err, errlen, "%s: cannot make the connection non-blocking",
			 t->nodes[node].name);
		PQfinish(c);
		return NULL;
	}
	return c;
}

bool pg_conn_standby(PGconn *c)
{
	/* Reported by the server at connect (PostgreSQL 14+) and on change. */
	const char *s = PQparameterStatus(c, "in_hot_standby");
	if (s)
		return !strcmp(s, "on");
	PGresult *r = PQexec(c, "SELECT pg_is_in_recovery()");
	bool standby = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
		       !strcmp(PQgetvalue(r, 0, 0), "t");
	PQclear(r);
	return standby;
}

enum pg_io pg_exec(PGconn *c, const char *sql, int nparams, const char *const *params,
		   int64_t deadline, PGresult **res, char *err, size_t errlen)
{
	*res = NULL;
	char msg[300];
	if (!PQsendQueryParams(c, sql, nparams, NULL, params, NULL, NULL, 0)) {
		one_line(PQerrorMessage(c), msg, sizeof msg);
		snprintf(err, errlen, "connection lost: %s", msg);
		return PG_IO_LOST;
	}
	int f;
	while ((f = PQflush(c)) == 1) {
		int w = wait_fd(PQsocket(c), POLLOUT, deadline);
		if (w == 0) {
			snprintf(err, errlen, "timeout");
			return PG_IO_TIMEOUT;
		}
		if (w < 0)
			break;
	}
	if (f != 0) {
		one_line(PQerrorMessage(c), msg, sizeof msg);
		snprintf(err, errlen, "connection lost: %s", msg);
		return PG_IO_LOST;
	}
	PGresult *last = NULL;
	for (;;) {
		while (PQisBusy(c)) {
			int w = wait_fd(PQsocket(c), POLLIN, deadline);
			if (w == 0) {
				PQclear(last);
				snprintf(err, errlen, "timeout");
				return PG_IO_TIMEOUT;
			}
			if (w < 0 || !PQconsumeInput(c)) {
				one_line(PQerrorMessage(c), msg, sizeof msg);
				PQclear(last);
				snprintf(err, errlen, "connection lost: %s", msg);
				return PG_IO_LOST;
			}
		}
		PGresult *r = PQgetResult(c);
		if (!r)
			break;
		/* Keep the first error: what follows it is libpq's own
		 * "connection lost" after a FATAL from the server. */
		ExecStatusType s = last ? PQresultStatus(last) : PGRES_EMPTY_QUERY;
		if (last && (s == PGRES_FATAL_ERROR || s == PGRES_NONFATAL_ERROR)) {
			PQclear(r);
			continue;
		}
		PQclear(last);
		last = r;
	}
	if (!last) {
		one_line(PQerrorMessage(c), msg, sizeof msg);
		snprintf(err, errlen, "connection lost: %s", msg[0] ? msg : "no result");
		return PG_IO_LOST;
	}
	ExecStatusType s = PQresultStatus(last);
	if ((s == PGRES_FATAL_ERROR || s == PGRES_BAD_RESPONSE) &&
	    !PQresultErrorField(last, PG_DIAG_SQLSTATE)) {
		/* libpq's own error: the server said nothing. */
		one_line(PQresultErrorMessage(last), msg, sizeof msg);
		PQclear(last);
		snprintf(err, errlen, "connection lost: %s", msg);
		return PG_IO_LOST;
	}
	*res = last;
	return PG_IO_OK;
}

int pg_exec_ok(PGconn *c, const char *sql, int64_t deadline, char *err, size_t errlen)
{
	PGresult *r;
	if (pg_exec(c, sql, 0, NULL, deadline, &r, err, errlen) != PG_IO_OK)
		return -1;
	ExecStatusType s = PQresultStatus(r);
	int rc = 0;
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		char msg[300];
		one_line(PQresultErrorMessage(r), msg, sizeof msg);
		snprintf(err, errlen, "%s", msg);
		rc = -1;
	}
	PQclear(r);
	return rc;
}

/* ---- classification ---- */

static const struct {
	const char *code;   /* a SQLSTATE, or a class ("23") */
	const char *name;
	bool abort_at_commit; /* an error answer to COMMIT that proves an abort */
} pg_codes[] = {
	{"40001", "serialization-failure", true},
	{"40P01", "deadlock", true},
	{"40002", "integrity-violation", true},
	{"40000", "transaction-rollback", true},
	{"40003", "statement-completion-unknown", false},
	{"23505", "unique-violation", true},
	{"23", "integrity-violation", true},
	{"25006", "read-only-transaction", true},
	{"25P02", "in-failed-transaction", true},
	{"57P01", "admin-shutdown", false},
	{"57P02", "crash-shutdown", false},
	{"57P03", "cannot-connect-now", false},
	{"57014", "query-canceled", false},
	{"53300", "too-many-connections", false},
	{"55P03", "lock-not-available", false},
	{"08", "connection-exception", false},
};

static int pg_code_find(const char *sqlstate)
{
	if (!sqlstate)
		return -1;
	for (size_t i = 0; i < sizeof pg_codes / sizeof *pg_codes; i++)
		if (!strncmp(sqlstate, pg_codes[i].code, strlen(pg_codes[i].code)))
			return (int)i;
	return -1;
}

enum pg_outcome pg_classify(const char *sqlstate, bool before_commit)
{
	if (before_commit)
		return PG_FAIL;
	int i = pg_code_find(sqlstate);
	return i >= 0 && pg_codes[i].abort_at_commit ? PG_FAIL : PG_INFO;
}

const char *pg_sqlstate_name(const char *sqlstate)
{
	int i = pg_code_find(sqlstate);
	return i >= 0 ? pg_codes[i].name : NULL;
}
